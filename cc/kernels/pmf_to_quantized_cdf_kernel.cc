// PmfToQuantizedCdf: float probability rows [..., m] -> integer CDFs [..., m + 1] that
// start at 0 and end at exactly 2^precision.
//
// Subnormal inputs (which TensorFlow's threads may flush to zero) are read by their bits:
// such a bin counts as having positive mass, but adds nothing to the sum.
//
// The one floating-point step is the rounding of each bin, count_i = llround(p_i / sum(p)
// * 2^precision), with the sum taken in double precision in index order; IEEE-754 makes
// it the same on every machine. Everything after it is integer arithmetic:
//   * a bin with positive mass gets at least one count;
//   * a shortfall (total < 2^precision) is added to the largest bin (lowest index on ties);
//   * an excess is removed one count at a time from the currently largest bin (lowest
//     index on ties) that holds more than one count.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <queue>
#include <utility>
#include <vector>

#include "cc/kernels/precision_op_kernel.h"
#include "cc/kernels/status.h"
#include "cc/kernels/cdf_validation.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace compression {
namespace {

using tensorflow::OpKernelContext;
using absl::Status;
using tensorflow::Tensor;
using tensorflow::TensorShape;

// Tests by the bits, so that a flush-to-zero mode cannot change the answer.
inline uint32_t Bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}
inline bool IsPositive(float x) { return Bits(x) != 0 && (Bits(x) >> 31) == 0; }
// Negative and not -0.0 (which counts as zero); NaNs with the sign bit included.
inline bool IsNegative(float x) { return Bits(x) > 0x80000000u; }
inline bool IsNormal(float x) { return (Bits(x) & 0x7f800000u) != 0; }

class PmfToQuantizedCdfOp : public PrecisionOpKernel {
 public:
  using PrecisionOpKernel::PrecisionOpKernel;

  void DoCompute(OpKernelContext* context) override {
    const Tensor& pmf = context->input(0);
    OP_REQUIRES(context, pmf.dims() >= 1,
                InvalidArgument("pmf must have rank >= 1, got a scalar."));
    const int64_t m = pmf.dim_size(pmf.dims() - 1);
    OP_REQUIRES(context, m >= 1,
                InvalidArgument("pmf must have at least one bin, got shape ",
                                        pmf.shape().DebugString(), "."));
    TensorShape cdf_shape = pmf.shape();
    cdf_shape.set_dim(cdf_shape.dims() - 1, m + 1);
    Tensor* cdf;
    OP_REQUIRES_OK(context, context->allocate_output(0, cdf_shape, &cdf));
    const int64_t rows = pmf.NumElements() / m;
    const float* in = pmf.flat<float>().data();
    int32_t* out = cdf->flat<int32_t>().data();
    std::vector<int64_t> counts(m);
    for (int64_t row = 0; row < rows; ++row) {
      OP_REQUIRES_OK(context, Quantize(in + row * m, m, row, pmf.shape(), &counts));
      int32_t* c = out + row * (m + 1);
      c[0] = 0;
      for (int64_t i = 0; i < m; ++i) c[i + 1] = c[i] + static_cast<int32_t>(counts[i]);
    }
  }

 private:
  Status Quantize(const float* p, int64_t m, int64_t row, const TensorShape& shape,
                  std::vector<int64_t>* counts_out) const {
    std::vector<int64_t>& counts = *counts_out;
    double sum = 0;
    int64_t positive = 0;
    for (int64_t i = 0; i < m; ++i) {
      if (!(p[i] >= 0) || std::isinf(p[i]) || IsNegative(p[i])) {
        return InvalidArgument("pmf ", RowName("pmf", row, shape), " has entry ",
                                       i, " = ", p[i],
                                       "; probabilities must be finite and >= 0.");
      }
      if (IsNormal(p[i])) sum += p[i];
      positive += IsPositive(p[i]);
    }
    const int64_t total = int64_t{1} << precision_;
    if (positive == 0) {
      return InvalidArgument("pmf ", RowName("pmf", row, shape),
                                     " has no positive entry.");
    }
    if (positive > total) {
      return InvalidArgument(
          "pmf ", RowName("pmf", row, shape), " has ", positive,
          " bins with positive mass, more than 2^precision = ", total,
          " counts can give one each (precision = ", precision_, ").");
    }
    int64_t assigned = 0;
    int64_t largest = 0;
    for (int64_t i = 0; i < m; ++i) {
      int64_t count = 0;
      if (IsPositive(p[i])) {
        count = IsNormal(p[i]) ? std::llround(static_cast<double>(p[i]) / sum *
                                              static_cast<double>(total))
                               : 1;
        if (count < 1) count = 1;
      }
      counts[i] = count;
      assigned += count;
      if (count > counts[largest]) largest = i;
    }
    if (assigned < total) {
      counts[largest] += total - assigned;
    } else if (assigned > total) {
      // Max-heap on (count, -index): the largest bin first, the lowest index on ties.
      std::priority_queue<std::pair<int64_t, int64_t>> heap;
      for (int64_t i = 0; i < m; ++i) {
        if (counts[i] > 1) heap.emplace(counts[i], -i);
      }
      for (int64_t excess = assigned - total; excess > 0; --excess) {
        const int64_t i = -heap.top().second;
        heap.pop();
        if (--counts[i] > 1) heap.emplace(counts[i], -i);
      }
    }
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_BUILDER(Name("PmfToQuantizedCdf").Device(tensorflow::DEVICE_CPU),
                        PmfToQuantizedCdfOp);

}  // namespace
}  // namespace compression
