// UnboundedIndexRangeDecode (the 1.2 op's interface): a scalar string and the index and
// tables it was encoded with -> int32 data of the index's shape, plus whether the string
// was exactly the encoding of the decoded values.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "cc/kernels/cdf_search.h"
#include "cc/kernels/indexed_tables.h"
#include "cc/kernels/output_allocation.h"
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
using tensorflow::TensorShapeUtils;

class UnboundedIndexRangeDecodeOp : public PrecisionOpKernel {
 public:
  explicit UnboundedIndexRangeDecodeOp(tensorflow::OpKernelConstruction* context)
      : PrecisionOpKernel(context) {
    OP_REQUIRES_OK(context, ReadOverflowWidth(context, precision_, &width_));
  }

  void DoCompute(OpKernelContext* context) override {
    const Tensor& encoded = context->input(0);
    const Tensor& index = context->input(1);
    const Tensor& cdf = context->input(2);
    const Tensor& cdf_size = context->input(3);
    const Tensor& offset = context->input(4);
    OP_REQUIRES(context, TensorShapeUtils::IsScalar(encoded.shape()),
                InvalidArgument("encoded must be a scalar string, got shape ",
                                encoded.shape().DebugString(), "."));
    IndexedTables tables;
    OP_REQUIRES_OK(context, MakeIndexedTables(index, cdf, cdf_size, offset, precision_,
                                              &tables, "cdf_size"));
    Tensor* decoded;
    OP_REQUIRES_OK(context,
                   AllocateOutputWithinMemory(context, 0, index.shape(), &decoded));
    Tensor* exact;
    OP_REQUIRES_OK(context, context->allocate_output(1, TensorShape{}, &exact));

    std::vector<int32_t> symbols(tables.rows);
    int32_t max_symbols = 0;
    for (int64_t r = 0; r < tables.rows; ++r) {
      symbols[r] = tables.length[r] - 1;
      max_symbols = std::max(max_symbols, symbols[r]);
    }
    const tensorflow::tstring& string = encoded.scalar<tensorflow::tstring>()();
    RangeDecoder decoder(string.data(), string.size(), precision_);
    int32_t* out = decoded->flat<int32_t>().data();
    bool ok;
    if (PreferTables(tables.rows, tables.elements, max_symbols, precision_)) {
      const TableSearch search(tables.cdf, tables.rows, tables.stride, symbols.data(),
                               precision_);
      ok = Decode(search, tables, &decoder, out);
    } else {
      ok = Decode(BinarySearch(), tables, &decoder, out);
    }
    exact->scalar<bool>()() = ok && decoder.Exact();
  }

 private:
  // Decodes every element, element i with row index[i]; returns false when an overflow
  // code was corrupt. Never fails otherwise: any string decodes to some values.
  template <typename Search>
  bool Decode(const Search& search, const IndexedTables& tables, RangeDecoder* decoder,
              int32_t* out) const {
    bool ok = true;
    for (int64_t i = 0; i < tables.elements; ++i) {
      const int32_t r = tables.index[i];
      const int32_t* c = tables.cdf + r * tables.stride;
      const int32_t m = tables.length[r] - 1;  // symbols, the overflow symbol included
      const uint32_t q = decoder->Target(c[m]);
      const int32_t s = search.Find(c, r, m, q);
      decoder->Consume(c[s], c[s + 1]);
      out[i] = s < m - 1
                   ? tables.offset[r] + s
                   : DecodeOverflowValue(m - 1, tables.offset[r], width_, decoder, &ok);
    }
    return ok;
  }

  int width_;
};

REGISTER_KERNEL_BUILDER(
    Name("UnboundedIndexRangeDecode").Device(tensorflow::DEVICE_CPU),
    UnboundedIndexRangeDecodeOp);

}  // namespace
}  // namespace compression
