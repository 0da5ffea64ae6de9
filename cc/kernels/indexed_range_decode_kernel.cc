// IndexedRangeDecode: strings [B] and the tables they were encoded with -> int32 data
// [B, ...] (the shape of `index` after the batch axis, or with batched_index the shape
// of `index` itself) and, per string, whether it was exactly the encoding of the
// decoded values.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "cc/kernels/status.h"
#include "cc/kernels/cdf_search.h"
#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/first_error.h"
#include "cc/kernels/indexed_tables.h"
#include "cc/kernels/output_allocation.h"
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
using tensorflow::TensorShapeUtils;

class IndexedRangeDecodeOp : public PrecisionOpKernel {
 public:
  explicit IndexedRangeDecodeOp(tensorflow::OpKernelConstruction* context)
      : PrecisionOpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("batched_index", &batched_index_));
  }

  void DoCompute(OpKernelContext* context) override {
    const Tensor& encoded = context->input(0);
    const Tensor& index = context->input(1);
    const Tensor& cdf = context->input(2);
    const Tensor& cdf_length = context->input(3);
    const Tensor& offset = context->input(4);
    OP_REQUIRES(context, TensorShapeUtils::IsVector(encoded.shape()),
                InvalidArgument("encoded must be a vector of strings [B], got shape ",
                                encoded.shape().DebugString(), "."));
    const int64_t batch = encoded.dim_size(0);
    IndexedTables tables;
    TensorShape data_shape = index.shape();
    if (batched_index_) {
      OP_REQUIRES(context, index.dims() >= 1 && index.dim_size(0) == batch,
                  InvalidArgument("with batched_index, index must have the shape of the "
                                  "decoded data [B, ...] with B = ", batch,
                                  " (one item per string), got shape ",
                                  index.shape().DebugString(), "."));
      OP_REQUIRES_OK(context, MakeBatchedIndexedTables(index, cdf, cdf_length, offset,
                                                       precision_, &tables));
    } else {
      OP_REQUIRES_OK(context, MakeIndexedTables(index, cdf, cdf_length, offset,
                                                precision_, &tables));
      OP_REQUIRES_OK(context, data_shape.InsertDimWithStatus(0, batch));
    }
    Tensor* decoded;
    OP_REQUIRES_OK(context, AllocateOutputWithinMemory(context, 0, data_shape, &decoded));
    Tensor* exact;
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape{batch}, &exact));

    std::unique_ptr<TableSearch> table_search;
    std::vector<int32_t> symbols(tables.rows);
    int32_t max_symbols = 0;
    for (int64_t r = 0; r < tables.rows; ++r) {
      symbols[r] = tables.length[r] - 1;
      max_symbols = std::max(max_symbols, symbols[r]);
    }
    if (PreferTables(tables.rows, batch * tables.elements, max_symbols, precision_)) {
      table_search.reset(new TableSearch(tables.cdf, tables.rows, tables.stride,
                                         symbols.data(), precision_));
    }
    const auto strings = encoded.flat<tensorflow::tstring>();
    int32_t* values = decoded->flat<int32_t>().data();
    bool* exact_flags = exact->flat<bool>().data();
    const int precision = precision_;
    const bool batched = batched_index_;
    FirstError error;
    // A shard stops at its first bad row (batched index only); FirstError keeps the
    // lowest batch item's.
    auto decode_items = [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        RangeDecoder decoder(strings(b).data(), strings(b).size(), precision);
        const int64_t start = b * tables.elements;
        int32_t* item = values + start;
        int64_t bad = -1;
        const int32_t* rows = batched ? tables.index + start : tables.index;
        exact_flags[b] =
            table_search
                ? DecodeRows(batched, *table_search, tables, rows, &decoder, item, &bad)
                : DecodeRows(batched, BinarySearch(), tables, rows, &decoder, item, &bad);
        if (bad >= 0) {
          error.Record(b, BadRowError(start + bad, context->input(1).shape(),
                                      tables.index[start + bad], tables.rows));
          return;
        }
      }
    };
    const auto& workers = *context->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(workers.num_threads, workers.workers, batch,
                      /*cost_per_unit=*/ShardCost(tables.elements, 40), decode_items);
    OP_REQUIRES_OK(context, error.status());
  }

 private:
  // Decodes one batch item, element i with row index[i]; returns whether its string was
  // exact. With kCheckRows, stops at the first row outside [0, C) and sets *bad to its
  // element.
  template <bool kCheckRows, typename Search>
  static bool DecodeItem(const Search& search, const IndexedTables& tables,
                         const int32_t* index, RangeDecoder* decoder, int32_t* item,
                         int64_t* bad) {
    bool ok = true;
    for (int64_t i = 0; i < tables.elements; ++i) {
      const int32_t r = index[i];
      if (kCheckRows && !IsRow(r, tables.rows)) {
        *bad = i;
        return false;
      }
      const int32_t* c = tables.cdf + r * tables.stride;
      const int32_t m = tables.length[r] - 1;  // symbols, the escape included
      const uint32_t q = decoder->Target(c[m]);
      const int32_t s = search.Find(c, r, m, q);
      decoder->Consume(c[s], c[s + 1]);
      item[i] = s < m - 1 ? tables.offset[r] + s
                          : DecodeEscapedValue(m - 1, tables.offset[r], decoder, &ok);
    }
    return ok && decoder->Exact();
  }

  // DecodeItem, checking the rows when they come from a batched index.
  template <typename Search>
  static bool DecodeRows(bool batched, const Search& search, const IndexedTables& tables,
                         const int32_t* index, RangeDecoder* decoder, int32_t* item,
                         int64_t* bad) {
    return batched ? DecodeItem<true>(search, tables, index, decoder, item, bad)
                   : DecodeItem<false>(search, tables, index, decoder, item, bad);
  }

  bool batched_index_;
};

REGISTER_KERNEL_BUILDER(Name("IndexedRangeDecode").Device(tensorflow::DEVICE_CPU),
                        IndexedRangeDecodeOp);

}  // namespace
}  // namespace compression
