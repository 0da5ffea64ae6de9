// IndexedRangeEncode: int32 data [B, ...], a CDF row index per element and a table of
// CDF rows with offsets -> one string per batch item; any int32 value is coded, those
// outside a row's range through its escape symbol (see indexed_tables.h).

#include <cstdint>
#include <string>

#include "cc/kernels/status.h"
#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/exceptions.h"
#include "cc/kernels/first_error.h"
#include "cc/kernels/indexed_tables.h"
#include "cc/kernels/precision_op_kernel.h"
#include "cc/kernels/range_coder.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/util/work_sharder.h"

namespace compression {
namespace {

using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::TensorShape;

class IndexedRangeEncodeOp : public PrecisionOpKernel {
 public:
  using PrecisionOpKernel::PrecisionOpKernel;

  void DoCompute(OpKernelContext* context) override {
    const Tensor& data = context->input(0);
    const Tensor& index = context->input(1);
    OP_REQUIRES(context, data.dims() >= 1,
                InvalidArgument("data must have a batch axis, got a scalar."));
    TensorShape item_shape = data.shape();
    item_shape.RemoveDim(0);
    OP_REQUIRES(context, index.shape() == item_shape,
                InvalidArgument("index must have the shape of one batch item, ",
                                item_shape.DebugString(), ", got ",
                                index.shape().DebugString(), "."));
    IndexedTables tables;
    OP_REQUIRES_OK(context, MakeIndexedTables(index, context->input(2), context->input(3),
                                              context->input(4), precision_, &tables));
    const int64_t batch = data.dim_size(0);
    Tensor* encoded;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape{batch}, &encoded));
    auto strings = encoded->flat<tensorflow::tstring>();
    const int32_t* values = data.flat<int32_t>().data();
    const int precision = precision_;
    FirstError error;
    // Each shard stops at its first error; FirstError keeps the lowest batch item's.
    auto encode_items = [&](int64_t begin, int64_t end) {
      int64_t b = begin;
      try {
        std::string out;
        for (; b < end; ++b) {
          RangeEncoder encoder(precision);
          const int32_t* item = values + b * tables.elements;
          for (int64_t i = 0; i < tables.elements; ++i) {
            const int32_t r = tables.index[i];
            if (!EncodeIndexedValue(tables.cdf + r * tables.stride, tables.length[r] - 1,
                                    tables.offset[r], item[i], &encoder)) {
              error.Record(b, ZeroWidthError(context, tables, b, i, item[i]));
              return;
            }
          }
          encoder.Finish(&out);
          strings(b) = out;
        }
      } catch (...) {
        error.Record(b, CurrentExceptionStatus(type_string()));
      }
    };
    const auto& workers = *context->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(workers.num_threads, workers.workers, batch,
                      /*cost_per_unit=*/20 * tables.elements + 100, encode_items);
    OP_REQUIRES_OK(context, error.status());
  }

 private:
  // The error for value `value`, element i of batch item b, whose symbol has zero width.
  static absl::Status ZeroWidthError(OpKernelContext* context,
                                     const IndexedTables& tables, int64_t b, int64_t i,
                                     int32_t value) {
    const int32_t r = tables.index[i];
    const int64_t s = static_cast<int64_t>(value) - tables.offset[r];
    const int32_t* row = tables.cdf + r * tables.stride;
    const std::string where = FormatIndex(i, context->input(1).shape());
    return InvalidArgument(
        "data", FormatIndex(b * tables.elements + i, context->input(0).shape()), " = ",
        value, " (batch item ", b, ", position ", where,
        ") has zero probability in CDF row ", RowName("cdf", r, context->input(2).shape()),
        " (cdf[", s, "] = ", row[s], ", cdf[", s + 1, "] = ", row[s + 1],
        "); a value inside its row's range needs a symbol of positive width.");
  }
};

REGISTER_KERNEL_BUILDER(Name("IndexedRangeEncode").Device(tensorflow::DEVICE_CPU),
                        IndexedRangeEncodeOp);

}  // namespace
}  // namespace compression
