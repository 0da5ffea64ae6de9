// UnboundedIndexRangeEncode (the 1.2 op's interface): int32 data, a CDF row index of
// the same shape and a table of CDF rows with sizes and offsets -> one scalar string.
// Values outside a row's range follow its overflow symbol in a variable-length code of
// overflow_width-bit fields (overflow_code.h).

#include <cstdint>
#include <string>

#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/indexed_tables.h"
#include "cc/kernels/overflow_code.h"
#include "cc/kernels/precision_op_kernel.h"
#include "cc/kernels/range_coder.h"
#include "cc/kernels/status.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"

namespace compression {
namespace {

using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class UnboundedIndexRangeEncodeOp : public PrecisionOpKernel {
 public:
  explicit UnboundedIndexRangeEncodeOp(tensorflow::OpKernelConstruction* context)
      : PrecisionOpKernel(context) {
    OP_REQUIRES_OK(context, ReadOverflowWidth(context, precision_, &width_));
  }

  void DoCompute(OpKernelContext* context) override {
    const Tensor& data = context->input(0);
    const Tensor& index = context->input(1);
    const Tensor& cdf = context->input(2);
    const Tensor& cdf_size = context->input(3);
    const Tensor& offset = context->input(4);
    OP_REQUIRES(context, index.shape() == data.shape(),
                InvalidArgument("index must have the shape of data, ",
                                data.shape().DebugString(), ", got ",
                                index.shape().DebugString(), "."));
    IndexedTables tables;
    OP_REQUIRES_OK(context, MakeIndexedTables(index, cdf, cdf_size, offset, precision_,
                                              &tables, "cdf_size"));
    Tensor* encoded;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape{}, &encoded));
    const int32_t* values = data.flat<int32_t>().data();
    RangeEncoder encoder(precision_);
    for (int64_t i = 0; i < tables.elements; ++i) {
      const int32_t r = tables.index[i];
      const int32_t* row = tables.cdf + r * tables.stride;
      if (!EncodeUnboundedValue(row, tables.length[r] - 1, tables.offset[r], values[i],
                                width_, &encoder)) {
        const int64_t s = static_cast<int64_t>(values[i]) - tables.offset[r];
        context->SetStatus(InvalidArgument(
            "data", FormatIndex(i, data.shape()), " = ", values[i],
            " has zero probability in CDF row ", RowName("cdf", r, cdf.shape()),
            " (cdf[", s, "] = ", row[s], ", cdf[", s + 1, "] = ", row[s + 1],
            "); a value inside its row's range needs a symbol of positive width."));
        return;
      }
    }
    std::string out;
    encoder.Finish(&out);
    encoded->scalar<tensorflow::tstring>()() = std::move(out);
  }

 private:
  int width_;
};

REGISTER_KERNEL_BUILDER(
    Name("UnboundedIndexRangeEncode").Device(tensorflow::DEVICE_CPU),
    UnboundedIndexRangeEncodeOp);

}  // namespace
}  // namespace compression
