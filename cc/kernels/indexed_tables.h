// The CDF tables of the indexed coder, and how one integer is coded with them.
//
// A table is a set of C CDF rows, `cdf` [C, L] int32, with row c valid in its first
// `cdf_length[c]` entries. Row c has K_c + 1 symbols, K_c = cdf_length[c] - 2:
// symbols 0 .. K_c - 1 stand for the values offset[c] .. offset[c] + K_c - 1 and the
// last symbol, K_c, is the escape. A value outside the row's range is coded as the
// escape followed by its distance d beyond the range, folded to z >= 0 (z = 2 d - 1 below
// the range, d = offset[c] - value; z = 2 d above it, d = value - offset[c] - K_c),
// written as n - 1 in 4 raw bits and then n raw 4-bit nibbles of z, most significant
// first, where n (1..16) is the number of nibbles z needs.

#ifndef COMPRESSION_CC_KERNELS_INDEXED_TABLES_H_
#define COMPRESSION_CC_KERNELS_INDEXED_TABLES_H_

#include <cstdint>
#include <limits>

#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/range_coder.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "cc/kernels/status.h"
#include "tensorflow/core/platform/status.h"

namespace compression {

// Read-only view of validated tables.
struct IndexedTables {
  const int32_t* cdf = nullptr;
  int64_t stride = 0;            // L, the row stride of `cdf`
  int64_t rows = 0;              // C
  const int32_t* length = nullptr;
  const int32_t* offset = nullptr;
  // The CDF row of each element: of one batch item, values checked to lie in [0, C)
  // (a shared index); or of the whole batch [B, ...], values checked while coding (a
  // batched index, see IsRow).
  const int32_t* index = nullptr;
  int64_t elements = 0;            // elements per batch item
};

// Whether `r` names one of the `rows` CDF rows.
inline bool IsRow(int32_t r, int64_t rows) { return r >= 0 && r < rows; }

// The Shard cost of one batch item of `elements` elements at `per_element` units each
// (overflow-safe: a batch of 0 items may have items of any size).
inline int64_t ShardCost(int64_t elements, int64_t per_element) {
  const int64_t cap = int64_t{1} << 40;
  return (elements < cap ? elements : cap) * per_element + 100;
}

// The error for a bad row `value` at flat position `flat` of the index tensor.
inline absl::Status BadRowError(int64_t flat, const tensorflow::TensorShape& index_shape,
                                int32_t value, int64_t rows) {
  return InvalidArgument("index", FormatIndex(flat, index_shape), " = ", value,
                         " is not a CDF row in [0, ", rows, ").");
}

// Validates the table tensors and fills `tables` but for `index` and `elements`.
// `length_name` names the `cdf_length` input in the messages (the unbounded index ops
// call it cdf_size).
inline absl::Status ValidateTables(const tensorflow::Tensor& cdf,
                                   const tensorflow::Tensor& cdf_length,
                                   const tensorflow::Tensor& offset, int precision,
                                   IndexedTables* tables,
                                   const char* length_name = "cdf_length") {
  using tensorflow::TensorShapeUtils;
  if (cdf.dims() != 2) {
    return InvalidArgument("cdf must be a matrix [C, L], got shape ",
                                   cdf.shape().DebugString(), ".");
  }
  const int64_t rows = cdf.dim_size(0), stride = cdf.dim_size(1);
  if (!TensorShapeUtils::IsVector(cdf_length.shape()) || cdf_length.dim_size(0) != rows) {
    return InvalidArgument(length_name, " must be a vector of ", rows,
                                   " entries (one per CDF row), got shape ",
                                   cdf_length.shape().DebugString(), ".");
  }
  if (!TensorShapeUtils::IsVector(offset.shape()) || offset.dim_size(0) != rows) {
    return InvalidArgument("offset must be a vector of ", rows,
                                   " entries (one per CDF row), got shape ",
                                   offset.shape().DebugString(), ".");
  }
  const int32_t* c = cdf.flat<int32_t>().data();
  const int32_t* length = cdf_length.flat<int32_t>().data();
  const int32_t* off = offset.flat<int32_t>().data();
  for (int64_t r = 0; r < rows; ++r) {
    if (length[r] < 2 || length[r] > stride) {
      return InvalidArgument(
          length_name, "[", r, "] = ", length[r], " must lie in [2, ", stride,
          "] (a CDF needs at least the escape symbol and at most L = ", stride,
          " entries). An all-zero ", length_name, " means the tables were never "
          "computed: run the entropy model's update op before coding.");
    }
    const int32_t* row = c + r * stride;
    const int64_t m = length[r] - 1;
    TF_RETURN_IF_ERROR(ValidateCdf(row, m, precision, "cdf", r, cdf.shape()));
    if (row[m] <= row[m - 1]) {
      return InvalidArgument("CDF ", RowName("cdf", r, cdf.shape()),
                                     " gives its escape symbol (the last, ", m - 1,
                                     ") zero width; it must be positive.");
    }
    if (static_cast<int64_t>(off[r]) + m - 1 > std::numeric_limits<int32_t>::max()) {
      return InvalidArgument("offset[", r, "] = ", off[r], " plus ", m - 1,
                                     " values overflows int32.");
    }
  }
  *tables = IndexedTables{c, stride, rows, length, off, nullptr, 0};
  return absl::OkStatus();
}

// Validates the table tensors and a shared index (one batch item's shape, every value
// checked here) and fills `tables`.
inline absl::Status MakeIndexedTables(const tensorflow::Tensor& index,
                                      const tensorflow::Tensor& cdf,
                                      const tensorflow::Tensor& cdf_length,
                                      const tensorflow::Tensor& offset, int precision,
                                      IndexedTables* tables,
                                      const char* length_name = "cdf_length") {
  TF_RETURN_IF_ERROR(
      ValidateTables(cdf, cdf_length, offset, precision, tables, length_name));
  const int32_t* idx = index.flat<int32_t>().data();
  const int64_t elements = index.NumElements();
  for (int64_t i = 0; i < elements; ++i) {
    if (!IsRow(idx[i], tables->rows)) {
      return BadRowError(i, index.shape(), idx[i], tables->rows);
    }
  }
  tables->index = idx;
  tables->elements = elements;
  return absl::OkStatus();
}

// Validates the table tensors for a batched index [B, ...] (the data's shape, B >= 0),
// whose values the coding loops check, and fills `tables`.
inline absl::Status MakeBatchedIndexedTables(const tensorflow::Tensor& index,
                                             const tensorflow::Tensor& cdf,
                                             const tensorflow::Tensor& cdf_length,
                                             const tensorflow::Tensor& offset,
                                             int precision, IndexedTables* tables) {
  TF_RETURN_IF_ERROR(ValidateTables(cdf, cdf_length, offset, precision, tables));
  tensorflow::TensorShape item_shape = index.shape();
  item_shape.RemoveDim(0);
  tables->index = index.flat<int32_t>().data();
  tables->elements = item_shape.num_elements();
  return absl::OkStatus();
}

// The escape payload's number z >= 0 for a value at s = value - offset outside the
// row's range [0, escape): z = 2 d - 1 below it (d = -s), z = 2 d above it
// (d = s - escape).
inline uint64_t FoldEscape(int64_t s, int32_t escape) {
  return s < 0 ? 2 * static_cast<uint64_t>(-s) - 1
               : 2 * static_cast<uint64_t>(s - escape);
}

// The value that payload number z (< 2^34) stands for; sets *ok = false and returns
// `offset` when it lies outside int32 (a corrupt string).
inline int32_t UnfoldEscape(uint64_t z, int32_t escape, int32_t offset, bool* ok) {
  const int64_t d = static_cast<int64_t>((z + 1) >> 1);
  const int64_t value = (z & 1) ? static_cast<int64_t>(offset) - d
                                : static_cast<int64_t>(offset) + escape + d;
  if (value < std::numeric_limits<int32_t>::min() ||
      value > std::numeric_limits<int32_t>::max()) {
    *ok = false;
    return offset;
  }
  return static_cast<int32_t>(value);
}

// Codes one value with CDF row `row` (its symbols K + 1, escape last). Returns false,
// coding nothing, when the value's regular symbol has zero width (it cannot be coded).
inline bool EncodeIndexedValue(const int32_t* row, int32_t symbols, int32_t offset,
                               int32_t value, RangeEncoder* encoder) {
  const int32_t escape = symbols - 1;
  const int64_t s = static_cast<int64_t>(value) - offset;
  if (s >= 0 && s < escape) {
    const uint32_t lo = row[s], hi = row[s + 1];
    if (lo >= hi) return false;
    encoder->Encode(lo, hi);
    return true;
  }
  encoder->Encode(row[escape], row[escape + 1]);
  const uint64_t z = FoldEscape(s, escape);
  int nibbles = 1;
  while (nibbles < 16 && (z >> (4 * nibbles)) != 0) ++nibbles;
  encoder->EncodeRaw(nibbles - 1, 4);
  for (int i = nibbles - 1; i >= 0; --i) {
    encoder->EncodeRaw(static_cast<uint32_t>(z >> (4 * i)) & 15, 4);
  }
  return true;
}

// Decodes the escape payload that follows an escape symbol; returns the value, or
// sets *ok = false when the payload names a value outside int32 (a corrupt string).
inline int32_t DecodeEscapedValue(int32_t escape, int32_t offset, RangeDecoder* decoder,
                                  bool* ok) {
  const int nibbles = static_cast<int>(decoder->DecodeRaw(4)) + 1;
  uint64_t z = 0;
  for (int i = 0; i < nibbles; ++i) z = (z << 4) | decoder->DecodeRaw(4);
  // The encoder writes no leading zero nibble, and values within int32 give z < 2^34;
  // anything else is corrupt.
  const bool canonical = nibbles == 1 || (z >> (4 * (nibbles - 1))) != 0;
  if (!canonical || z >= (uint64_t{1} << 34)) {
    *ok = false;
    return offset;
  }
  return UnfoldEscape(z, escape, offset, ok);
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_INDEXED_TABLES_H_
