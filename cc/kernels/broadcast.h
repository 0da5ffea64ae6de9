// How a CDF tensor of shape [c_0, ..., c_{k-1}, m + 1] broadcasts over data of shape
// [d_0, ..., d_{k-1}]: every c_i equals d_i or 1.
//
// The plan first simplifies the shapes: data axes of size 1 are dropped, and neighbouring
// axes that are both broadcast (c_i = 1) or both not are merged. The data are then
// visited in row-major order as `runs` runs along the last merged axis; each run moves
// `step` CDF rows (0 or 1) per element, and a RunCursor gives its first CDF row. The
// plan's size is bounded by the rank, never by the number of elements.

#ifndef COMPRESSION_CC_KERNELS_BROADCAST_H_
#define COMPRESSION_CC_KERNELS_BROADCAST_H_

#include <cstdint>
#include <vector>

#include "cc/kernels/status.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "tensorflow/core/platform/status.h"

namespace compression {

// The most symbols a CDF for int16 data may have (values 0 .. 32767).
constexpr int64_t kMaxInt16Symbols = 32768;

struct BroadcastPlan {
  int64_t run_length = 1;  // elements per run (the last merged axis; 1 for scalars)
  int64_t runs = 1;        // number of runs (0 when the data are empty)
  int64_t step = 0;        // CDF rows advanced per element within a run
  int64_t cdf_rows = 1;    // number of CDF rows
  // The merged axes before the run, outermost first: their sizes, and the CDF rows one
  // step along each advances (0 along a broadcast axis).
  std::vector<int64_t> outer_size;
  std::vector<int64_t> outer_stride;
};

// Visits the runs of a plan in order; row() is the first CDF row of the current run.
class RunCursor {
 public:
  explicit RunCursor(const BroadcastPlan& plan)
      : size_(plan.outer_size.data()),
        stride_(plan.outer_stride.data()),
        axes_(static_cast<int>(plan.outer_size.size())),
        counter_(plan.outer_size.size(), 0) {}

  int64_t row() const { return row_; }

  // Moves to the next run (an odometer over the outer axes; amortised O(1)).
  inline void Next() {
    for (int i = axes_ - 1; i >= 0; --i) {
      row_ += stride_[i];
      if (++counter_[i] < size_[i]) return;
      row_ -= stride_[i] * counter_[i];
      counter_[i] = 0;
    }
  }

 private:
  const int64_t* size_;
  const int64_t* stride_;
  int axes_;
  std::vector<int64_t> counter_;
  int64_t row_ = 0;
};

// Checks that `cdf_shape` broadcasts to `data_shape` with 1 .. kMaxInt16Symbols symbols
// and fills `plan`. Allocates only O(rank).
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
  const int64_t symbols = cdf_shape.dim_size(k) - 1;
  if (symbols < 1) {
    return InvalidArgument(
        "the last axis of cdf must have at least 2 entries (one symbol), got shape ",
        cdf_shape.DebugString(), ".");
  }
  if (symbols > kMaxInt16Symbols) {
    return InvalidArgument(
        "cdf has ", symbols, " symbols (shape ", cdf_shape.DebugString(),
        "); int16 data allow at most ", kMaxInt16Symbols,
        " (a last axis of at most ", kMaxInt16Symbols + 1, " entries).");
  }
  plan->cdf_rows = cdf_shape.num_elements() / (symbols + 1);

  // Merged axes, innermost first: size in the data, and whether the CDF follows them.
  std::vector<int64_t> size;
  std::vector<bool> follows;
  for (int i = k - 1; i >= 0; --i) {
    const int64_t d = data_shape.dim_size(i);
    if (d == 1) continue;
    const bool f = cdf_shape.dim_size(i) != 1;
    if (!size.empty() && follows.back() == f) {
      size.back() *= d;  // cannot overflow: the product is at most data's element count
    } else {
      size.push_back(d);
      follows.push_back(f);
    }
  }
  plan->run_length = size.empty() ? 1 : size[0];
  plan->step = (!size.empty() && follows[0]) ? 1 : 0;
  plan->runs = plan->run_length > 0 ? data_shape.num_elements() / plan->run_length : 0;
  plan->outer_size.clear();
  plan->outer_stride.clear();
  int64_t rows = size.empty() || !follows[0] ? 1 : size[0];
  for (size_t a = size.empty() ? 0 : 1; a < size.size(); ++a) {
    plan->outer_size.insert(plan->outer_size.begin(), size[a]);
    plan->outer_stride.insert(plan->outer_stride.begin(), follows[a] ? rows : 0);
    if (follows[a]) rows *= size[a];
  }
  return absl::OkStatus();
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_BROADCAST_H_
