// How a CDF tensor of shape [c_0, ..., c_{k-1}, m + 1] broadcasts over data of shape
// [d_0, ..., d_{k-1}]: every c_i equals d_i or 1.
//
// The data are visited in row-major order as `runs` runs along the last axis; each run
// starts at CDF row `run_row[r]` and moves `step` rows (0 or 1) per element.

#ifndef COMPRESSION_CC_KERNELS_BROADCAST_H_
#define COMPRESSION_CC_KERNELS_BROADCAST_H_

#include <cstdint>
#include <vector>

#include "tensorflow/core/framework/tensor_shape.h"
#include "cc/kernels/status.h"
#include "tensorflow/core/platform/status.h"

namespace compression {

struct BroadcastPlan {
  int64_t run_length = 1;     // size of the last data axis (1 for scalars)
  int64_t step = 0;           // CDF rows advanced per element within a run
  int64_t cdf_rows = 1;       // number of CDF rows
  std::vector<int64_t> run_row;  // first CDF row of each run
};

inline absl::Status MakeBroadcastPlan(const tensorflow::TensorShape& data_shape,
                                            const tensorflow::TensorShape& cdf_shape,
                                            BroadcastPlan* plan) {
  const int k = data_shape.dims();
  if (cdf_shape.dims() != k + 1) {
    return InvalidArgument(
        "cdf must have rank data.rank + 1 = ", k + 1, ", but data has shape ",
        data_shape.DebugString(), " and cdf has shape ", cdf_shape.DebugString(), ".");
  }
  for (int i = 0; i < k; ++i) {
    const int64_t c = cdf_shape.dim_size(i), d = data_shape.dim_size(i);
    if (c != d && c != 1) {
      return InvalidArgument(
          "cdf shape ", cdf_shape.DebugString(), " does not broadcast to data shape ",
          data_shape.DebugString(), ": axis ", i, " has size ", c, ", expected 1 or ", d,
          ".");
    }
  }
  if (cdf_shape.dim_size(k) < 2) {
    return InvalidArgument(
        "the last axis of cdf must have at least 2 entries (one symbol), got shape ",
        cdf_shape.DebugString(), ".");
  }
  plan->cdf_rows = 1;
  for (int i = 0; i < k; ++i) plan->cdf_rows *= cdf_shape.dim_size(i);
  plan->run_length = k > 0 ? data_shape.dim_size(k - 1) : 1;
  plan->step = (k > 0 && cdf_shape.dim_size(k - 1) != 1) ? 1 : 0;

  // Row-major strides of the CDF rows, zero along broadcast axes.
  std::vector<int64_t> stride(k, 0);
  int64_t s = 1;
  for (int i = k - 1; i >= 0; --i) {
    stride[i] = cdf_shape.dim_size(i) == 1 ? 0 : s;
    s *= cdf_shape.dim_size(i);
  }
  const int64_t runs = plan->run_length > 0 ? data_shape.num_elements() / plan->run_length
                                            : 0;
  plan->run_row.assign(runs, 0);
  std::vector<int64_t> counter(k > 0 ? k - 1 : 0, 0);
  int64_t row = 0;
  for (int64_t r = 0; r < runs; ++r) {
    plan->run_row[r] = row;
    for (int i = k - 2; i >= 0; --i) {  // odometer over all axes but the last
      row += stride[i];
      if (++counter[i] < data_shape.dim_size(i)) break;
      row -= stride[i] * counter[i];
      counter[i] = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_BROADCAST_H_
