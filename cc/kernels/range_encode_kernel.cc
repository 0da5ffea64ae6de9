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
    const int32_t m = static_cast<int32_t>(width - 1);
    RangeEncoder encoder(precision_);
    RunCursor cursor(plan);
    int64_t i = 0;
    for (int64_t run = 0; run < plan.runs; ++run, cursor.Next()) {
      const int32_t* row = cdf + cursor.row() * width;
      for (int64_t j = 0; j < plan.run_length; ++j, ++i) {
        const int32_t* c = kStep ? row + j * width : row;
        const int32_t v = values[i];
        if (static_cast<uint32_t>(v) >= static_cast<uint32_t>(m)) {
          return InvalidArgument("data", FormatIndex(i, data.shape()), " = ", v,
                                 " is outside [0, ", m, "), the symbols its CDF has.");
        }
        const uint32_t lo = c[v], hi = c[v + 1];
        if (lo >= hi) {
          const int64_t r = (c - cdf) / width;
          return InvalidArgument(
              "data", FormatIndex(i, data.shape()), " = ", v,
              " has zero probability in CDF row ", RowName("cdf", r, cdf_tensor.shape()),
              " (cdf[", v, "] = ", lo, ", cdf[", v + 1, "] = ", hi,
              "); every coded value v needs cdf[v + 1] > cdf[v].");
        }
        encoder.Encode(lo, hi);
      }
    }
    encoder.Finish(out);
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_BUILDER(Name("RangeEncode").Device(tensorflow::DEVICE_CPU), RangeEncodeOp);

}  // namespace
}  // namespace compression
