// IndexedRangeEncode: int32 data [B, ...], a CDF row index per element (shared by the
// batch items, or with batched_index one per element of every item) and a table of CDF
// rows with offsets -> one string per batch item; any int32 value is coded, those
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
  explicit IndexedRangeEncodeOp(tensorflow::OpKernelConstruction* context)
      : PrecisionOpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("batched_index", &batched_index_));
  }

  void DoCompute(OpKernelContext* context) override {
    const Tensor& data = context->input(0);
    const Tensor& index = context->input(1);
    const Tensor& cdf = context->input(2);
    const Tensor& cdf_length = context->input(3);
    const Tensor& offset = context->input(4);
    OP_REQUIRES(context, data.dims() >= 1,
                InvalidArgument("data must have a batch axis, got a scalar."));
    IndexedTables tables;
    if (batched_index_) {
      OP_REQUIRES(context, index.shape() == data.shape(),
                  InvalidArgument("with batched_index, index must have the shape of "
                                  "data, ", data.shape().DebugString(), ", got ",
                                  index.shape().DebugString(), "."));
      OP_REQUIRES_OK(context, MakeBatchedIndexedTables(index, cdf, cdf_length, offset,
                                                       precision_, &tables));
    } else {
      TensorShape item_shape = data.shape();
      item_shape.RemoveDim(0);
      OP_REQUIRES(context, index.shape() == item_shape,
                  InvalidArgument("index must have the shape of one batch item, ",
                                  item_shape.DebugString(), ", got ",
                                  index.shape().DebugString(), "."));
      OP_REQUIRES_OK(context, MakeIndexedTables(index, cdf, cdf_length, offset,
                                                precision_, &tables));
    }
    const int64_t batch = data.dim_size(0);
    Tensor* encoded;
    OP_REQUIRES_OK(context, context->allocate_output(0, TensorShape{batch}, &encoded));
    auto strings = encoded->flat<tensorflow::tstring>();
    const int32_t* values = data.flat<int32_t>().data();
    const int precision = precision_;
    const bool batched = batched_index_;
    FirstError error;
    // Each shard stops at its first error; FirstError keeps the lowest batch item's.
    auto encode_items = [&](int64_t begin, int64_t end) {
      int64_t b = begin;
      try {
        std::string out;
        for (; b < end; ++b) {
          RangeEncoder encoder(precision);
          const int64_t start = b * tables.elements;
          const int64_t failed =
              batched ? EncodeItem<true>(tables, tables.index + start, values + start,
                                         &encoder)
                      : EncodeItem<false>(tables, tables.index, values + start, &encoder);
          if (failed >= 0) {
            error.Record(b, ItemError(context, tables, b, failed));
            return;
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
                      /*cost_per_unit=*/ShardCost(tables.elements, 20), encode_items);
    OP_REQUIRES_OK(context, error.status());
  }

 private:
  // Codes one batch item, element i with row index[i]; returns -1, or the first element
  // it cannot code: a row outside [0, C) (checked when kCheckRows) or a value on a
  // zero-width symbol.
  template <bool kCheckRows>
  static int64_t EncodeItem(const IndexedTables& tables, const int32_t* index,
                            const int32_t* item, RangeEncoder* encoder) {
    for (int64_t i = 0; i < tables.elements; ++i) {
      const int32_t r = index[i];
      if (kCheckRows && !IsRow(r, tables.rows)) return i;
      if (!EncodeIndexedValue(tables.cdf + r * tables.stride, tables.length[r] - 1,
                              tables.offset[r], item[i], encoder)) {
        return i;
      }
    }
    return -1;
  }

  // The error for element i of batch item b, which EncodeItem could not code.
  absl::Status ItemError(OpKernelContext* context, const IndexedTables& tables,
                         int64_t b, int64_t i) const {
    const int64_t flat = b * tables.elements + i;
    const int32_t r = batched_index_ ? tables.index[flat] : tables.index[i];
    if (!IsRow(r, tables.rows)) {
      return BadRowError(flat, context->input(1).shape(), r, tables.rows);
    }
    const int32_t value = context->input(0).flat<int32_t>()(flat);
    const int64_t s = static_cast<int64_t>(value) - tables.offset[r];
    const int32_t* row = tables.cdf + r * tables.stride;
    TensorShape item_shape = context->input(0).shape();
    item_shape.RemoveDim(0);
    return InvalidArgument(
        "data", FormatIndex(flat, context->input(0).shape()), " = ", value,
        " (batch item ", b, ", position ", FormatIndex(i, item_shape),
        ") has zero probability in CDF row ",
        RowName("cdf", r, context->input(2).shape()),
        " (cdf[", s, "] = ", row[s], ", cdf[", s + 1, "] = ", row[s + 1],
        "); a value inside its row's range needs a symbol of positive width.");
  }

  bool batched_index_;
};

REGISTER_KERNEL_BUILDER(Name("IndexedRangeEncode").Device(tensorflow::DEVICE_CPU),
                        IndexedRangeEncodeOp);

}  // namespace
}  // namespace compression
