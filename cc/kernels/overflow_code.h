// The value code of the unbounded index ops (UnboundedIndexRangeEncode / -Decode): one
// int32 value with one CDF row of the indexed tables (see indexed_tables.h), whose last
// symbol is the overflow symbol, and the variable-length overflow code that follows it,
// built from raw fields of `width` bits (the ops' overflow_width, 1..16).
//
// Row r has K = cdf_size[r] - 2 regular symbols for the values offset[r] .. offset[r] +
// K - 1 and the overflow symbol K. A value outside that range is coded as the overflow
// symbol, then its distance d beyond the range folded to z >= 0 (z = 2 d - 1 below the
// range, d = offset - value; z = 2 d above it, d = value - offset - K), then z in chunks:
//
//   * n, the number of width-bit chunks z needs (n >= 1; z = 0 takes one chunk), as
//     n - 1 written in unary over width-bit fields: as many fields of value
//     M = 2^width - 1 as fit in n - 1, then one field with the rest (< M);
//   * the n chunks of z, most significant first; the first is nonzero when n > 1.
//
// Values of int32 give z <= 2^33, so n <= ceil(34 / width). A string whose overflow
// code names more chunks, a leading zero chunk or a value outside int32 is corrupt: the
// decoder stops reading that code and reports the string as not exact.

#ifndef COMPRESSION_CC_KERNELS_OVERFLOW_CODE_H_
#define COMPRESSION_CC_KERNELS_OVERFLOW_CODE_H_

#include <cstdint>

#include "cc/kernels/indexed_tables.h"
#include "cc/kernels/range_coder.h"
#include "cc/kernels/status.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace compression {

// Reads the `overflow_width` attribute of an unbounded index op and checks it lies in
// [1, precision].
inline absl::Status ReadOverflowWidth(tensorflow::OpKernelConstruction* context,
                                      int precision, int* width) {
  TF_RETURN_IF_ERROR(context->GetAttr("overflow_width", width));
  if (*width < 1 || *width > precision) {
    return InvalidArgument("overflow_width must be in 1..precision = 1..", precision,
                           ", got ", *width, ".");
  }
  return absl::OkStatus();
}

// The most chunks of `width` bits an overflow code of an int32 value needs.
inline int MaxOverflowChunks(int width) { return (34 + width - 1) / width; }

// Codes `value` with CDF row `row` of `symbols` symbols (the overflow symbol last) and
// `offset`. Returns false, coding nothing, when the value falls on a regular symbol of
// zero width (it cannot be coded).
inline bool EncodeUnboundedValue(const int32_t* row, int32_t symbols, int32_t offset,
                                 int32_t value, int width, RangeEncoder* encoder) {
  const int32_t overflow = symbols - 1;
  const int64_t s = static_cast<int64_t>(value) - offset;
  if (s >= 0 && s < overflow) {
    const uint32_t lo = row[s], hi = row[s + 1];
    if (lo >= hi) return false;
    encoder->Encode(lo, hi);
    return true;
  }
  encoder->Encode(row[overflow], row[overflow + 1]);
  const uint64_t z = FoldEscape(s, overflow);
  int chunks = 1;
  while ((z >> (width * chunks)) != 0) ++chunks;  // width * chunks < 64 for z < 2^34
  const uint32_t all_ones = (uint32_t{1} << width) - 1;
  uint32_t rest = static_cast<uint32_t>(chunks - 1);
  for (; rest >= all_ones; rest -= all_ones) encoder->EncodeRaw(all_ones, width);
  encoder->EncodeRaw(rest, width);
  for (int i = chunks - 1; i >= 0; --i) {
    encoder->EncodeRaw(static_cast<uint32_t>(z >> (width * i)) & all_ones, width);
  }
  return true;
}

// Reads the overflow code that follows an overflow symbol of a row with `overflow`
// regular symbols and `offset`; returns the value, or sets *ok = false and returns
// `offset` when the code is corrupt. Reads at most MaxOverflowChunks(width) + 1 count
// fields and as many chunks, so decoding stays bounded on any string.
inline int32_t DecodeOverflowValue(int32_t overflow, int32_t offset, int width,
                                   RangeDecoder* decoder, bool* ok) {
  const uint32_t all_ones = (uint32_t{1} << width) - 1;
  const int max_chunks = MaxOverflowChunks(width);
  int64_t chunks = 1;
  for (;;) {
    const uint32_t field = decoder->DecodeRaw(width);
    chunks += field;
    if (chunks > max_chunks) {
      *ok = false;
      return offset;
    }
    if (field < all_ones) break;
  }
  uint64_t z = 0;
  for (int64_t i = 0; i < chunks; ++i) z = (z << width) | decoder->DecodeRaw(width);
  const bool canonical = chunks == 1 || (z >> (width * (chunks - 1))) != 0;
  if (!canonical || z > (uint64_t{1} << 33)) {
    *ok = false;
    return offset;
  }
  return UnfoldEscape(z, overflow, offset, ok);
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_OVERFLOW_CODE_H_
