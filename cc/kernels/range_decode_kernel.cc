// RangeDecode: a scalar string, the shape it was encoded with and the same broadcast
// CDFs -> int16 data, plus whether the string was exactly the encoding of that data.

#include <cstdint>

#include "absl/strings/str_join.h"
#include "cc/kernels/status.h"
#include "cc/kernels/broadcast.h"
#include "cc/kernels/cdf_search.h"
#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/output_allocation.h"
#include "cc/kernels/precision_op_kernel.h"
#include "cc/kernels/range_coder.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace compression {
namespace {

using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;
using tensorflow::TensorShapeUtils;

class RangeDecodeOp : public PrecisionOpKernel {
 public:
  using PrecisionOpKernel::PrecisionOpKernel;

  void DoCompute(OpKernelContext* context) override {
    const Tensor& encoded = context->input(0);
    const Tensor& shape = context->input(1);
    const Tensor& cdf = context->input(2);
    OP_REQUIRES(context, TensorShapeUtils::IsScalar(encoded.shape()),
                InvalidArgument("encoded must be a scalar string, got shape ",
                                        encoded.shape().DebugString(), "."));
    OP_REQUIRES(context, TensorShapeUtils::IsVector(shape.shape()),
                InvalidArgument("shape must be a vector, got shape ",
                                        shape.shape().DebugString(), "."));
    TensorShape data_shape;
    const auto dims = shape.flat<int32_t>();
    OP_REQUIRES(context, dims.size() <= TensorShape::MaxDimensions(),
                InvalidArgument("shape has ", dims.size(),
                                " entries; a tensor has at most ",
                                TensorShape::MaxDimensions(), " axes."));
    int64_t elements = 1;
    for (int64_t i = 0; i < dims.size(); ++i) {
      OP_REQUIRES(context, dims(i) >= 0,
                  InvalidArgument("shape[", i, "] = ", dims(i),
                                  " is negative; a shape needs sizes >= 0."));
      const bool overflow = __builtin_mul_overflow(elements, dims(i), &elements);
      OP_REQUIRES(context, !overflow,
                  InvalidArgument("shape = [",
                                  absl::StrJoin(dims.data(), dims.data() + dims.size(),
                                                ", "),
                                  "] has more than 2**63 - 1 elements."));
      OP_REQUIRES_OK(context, data_shape.AddDimWithStatus(dims(i)));
    }
    BroadcastPlan plan;
    OP_REQUIRES_OK(context, MakeBroadcastPlan(data_shape, cdf.shape(), &plan));
    const int64_t width = cdf.dim_size(cdf.dims() - 1);
    const int32_t* cdf_rows = cdf.flat<int32_t>().data();
    const int64_t n = data_shape.num_elements();
    for (int64_t row = 0; row < plan.cdf_rows; ++row) {
      const int32_t* c = cdf_rows + row * width;
      OP_REQUIRES_OK(context,
                     ValidateCdf(c, width - 1, precision_, "cdf", row, cdf.shape()));
      OP_REQUIRES(context, n == 0 || c[width - 1] > 0,
                  InvalidArgument("CDF ", RowName("cdf", row, cdf.shape()),
                                          " has no symbol of positive width, so nothing "
                                          "can be decoded with it."));
    }

    Tensor* decoded;
    OP_REQUIRES_OK(context, AllocateOutputWithinMemory(context, 0, data_shape, &decoded));
    Tensor* exact;
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape{}, &exact));
    const tensorflow::tstring& string = encoded.scalar<tensorflow::tstring>()();
    RangeDecoder decoder(string.data(), string.size(), precision_);
    int16_t* out = decoded->flat<int16_t>().data();
    if (PreferTables(plan.cdf_rows, n, static_cast<int32_t>(width - 1), precision_)) {
      const std::vector<int32_t> symbols(plan.cdf_rows, static_cast<int32_t>(width - 1));
      const TableSearch search(cdf_rows, plan.cdf_rows, width, symbols.data(), precision_);
      if (plan.step) {
        Decode<true>(search, cdf_rows, width, plan, &decoder, out);
      } else {
        Decode<false>(search, cdf_rows, width, plan, &decoder, out);
      }
    } else {
      Decode<true>(BinarySearch(), cdf_rows, width, plan, &decoder, out);
    }
    exact->scalar<bool>()() = decoder.Exact();
  }

 private:
  template <bool kStep, typename Search>
  void Decode(const Search& search, const int32_t* cdf, int64_t width,
              const BroadcastPlan& plan, RangeDecoder* decoder, int16_t* out) const {
    const int32_t m = static_cast<int32_t>(width - 1);
    RunCursor cursor(plan);
    int64_t i = 0;
    const int64_t run_length = plan.run_length, step = plan.step;
    for (int64_t run = 0; run < plan.runs; ++run, cursor.Next()) {
      const int64_t first_row = cursor.row();
      for (int64_t j = 0; j < run_length; ++j, ++i) {
        const int64_t row = kStep ? first_row + j * step : first_row;
        const int32_t* c = cdf + row * width;
        const uint32_t q = decoder->Target(c[m]);
        const int32_t s = search.Find(c, row, m, q);
        decoder->Consume(c[s], c[s + 1]);
        out[i] = static_cast<int16_t>(s);
      }
    }
  }
};

REGISTER_KERNEL_BUILDER(Name("RangeDecode").Device(tensorflow::DEVICE_CPU), RangeDecodeOp);

}  // namespace
}  // namespace compression
