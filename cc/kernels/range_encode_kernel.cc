// RangeEncode: int16 data and broadcast int32 CDFs -> one scalar string.

#include <cstdint>
#include <string>

#include "cc/kernels/status.h"
#include "cc/kernels/broadcast.h"
#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/precision_op_kernel.h"
#include "cc/kernels/range_coder.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace compression {
namespace {

using tensorflow::OpKernelContext;
using absl::Status;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class RangeEncodeOp : public PrecisionOpKernel {
 public:
  using PrecisionOpKernel::PrecisionOpKernel;

  void DoCompute(OpKernelContext* context) override {
    const Tensor& data = context->input(0);
    const Tensor& cdf = context->input(1);
    BroadcastPlan plan;
    OP_REQUIRES_OK(context, MakeBroadcastPlan(data.shape(), cdf.shape(), &plan));
    const int64_t width = cdf.dim_size(cdf.dims() - 1);
    const int32_t* cdf_rows = cdf.flat<int32_t>().data();
    for (int64_t row = 0; row < plan.cdf_rows; ++row) {
      OP_REQUIRES_OK(context,
                     ValidateCdf(cdf_rows + row * width, width - 1, precision_, "cdf",
                                 row, cdf.shape()));
    }

    Tensor* encoded;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape{}, &encoded));
    std::string out;
    OP_REQUIRES_OK(context, plan.step ? Encode<true>(data, cdf, plan, &out)
                                      : Encode<false>(data, cdf, plan, &out));
    encoded->scalar<tensorflow::tstring>()() = std::move(out);
  }

 private:
  template <bool kStep>
  Status Encode(const Tensor& data, const Tensor& cdf_tensor, const BroadcastPlan& plan,
                std::string* out) const {
    const int16_t* values = data.flat<int16_t>().data();
    const int32_t* cdf = cdf_tensor.flat<int32_t>().data();
    const int64_t width = cdf_tensor.dim_size(cdf_tensor.dims() - 1);
    RangeEncoder encoder(precision_);
    RunCursor cursor(plan);
    for (int64_t run = 0; run < plan.runs; ++run, cursor.Next()) {
      const int64_t first = run * plan.run_length;
      const int32_t* row = cdf + cursor.row() * width;
      const int64_t j = EncodeRun<kStep>(values + first, plan.run_length, row, width,
                                         &encoder);
      if (j < plan.run_length) {
        const int32_t v = values[first + j];
        if (static_cast<uint32_t>(v) >= static_cast<uint32_t>(width - 1)) {
          return OutsideError(data, first + j, width - 1);
        }
        return ZeroWidthError(data, first + j, cdf_tensor, cursor.row() + j * plan.step);
      }
    }
    encoder.Finish(out);
    return absl::OkStatus();
  }

  // Codes the n values of one run, the first with CDF row `row`, each next one `width`
  // entries further when kStep. Returns n, or the position of the first value that is
  // not a symbol of positive width (nothing after it is coded). Not inlined, so that
  // its loop keeps everything in registers.
  template <bool kStep>
  __attribute__((noinline)) static int64_t EncodeRun(const int16_t* values, int64_t n,
                                                     const int32_t* row, int64_t width,
                                                     RangeEncoder* encoder) {
    const uint32_t m = static_cast<uint32_t>(width - 1);
    for (int64_t j = 0; j < n; ++j) {
      const int32_t* c = kStep ? row + j * width : row;
      const int32_t v = values[j];
      if (static_cast<uint32_t>(v) >= m) return j;
      const uint32_t lo = c[v], hi = c[v + 1];
      if (lo >= hi) return j;
      encoder->Encode(lo, hi);
    }
    return n;
  }

  // The errors, out of line so that they do not weigh on the loop above.
  __attribute__((noinline, cold)) static Status OutsideError(const Tensor& data,
                                                             int64_t i, int64_t m) {
    return InvalidArgument("data", FormatIndex(i, data.shape()), " = ",
                           data.flat<int16_t>()(i), " is outside [0, ", m,
                           "), the symbols its CDF has.");
  }

  __attribute__((noinline, cold)) static Status ZeroWidthError(const Tensor& data,
                                                               int64_t i,
                                                               const Tensor& cdf,
                                                               int64_t row) {
    const int32_t v = data.flat<int16_t>()(i);
    const int32_t* c = cdf.flat<int32_t>().data() + row * cdf.dim_size(cdf.dims() - 1);
    return InvalidArgument("data", FormatIndex(i, data.shape()), " = ", v,
                           " has zero probability in CDF row ",
                           RowName("cdf", row, cdf.shape()), " (cdf[", v, "] = ", c[v],
                           ", cdf[", v + 1, "] = ", c[v + 1],
                           "); every coded value v needs cdf[v + 1] > cdf[v].");
  }
};

REGISTER_KERNEL_BUILDER(Name("RangeEncode").Device(tensorflow::DEVICE_CPU), RangeEncodeOp);

}  // namespace
}  // namespace compression
