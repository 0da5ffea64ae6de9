// Run-time checks of user-supplied CDF tables, shared by the coding kernels.

#ifndef COMPRESSION_CC_KERNELS_CDF_VALIDATION_H_
#define COMPRESSION_CC_KERNELS_CDF_VALIDATION_H_

#include <cstdint>
#include <string>

#include "tensorflow/core/framework/tensor_shape.h"
#include "cc/kernels/status.h"
#include "tensorflow/core/platform/status.h"

namespace compression {

// "[i, j, k]": the multi-dimensional index of element `flat` in `shape`.
inline std::string FormatIndex(int64_t flat, const tensorflow::TensorShape& shape) {
  std::string text = "]";
  for (int d = shape.dims() - 1; d >= 0; --d) {
    const int64_t size = shape.dim_size(d);
    const int64_t i = size > 0 ? flat % size : 0;
    flat = size > 0 ? flat / size : 0;
    text = (d > 0 ? ", " : "") + std::to_string(i) + text;
  }
  return "[" + text;
}

// "cdf[i, j, :]": the name of CDF row `row` of a tensor of shape [..., m + 1].
inline std::string RowName(const std::string& tensor, int64_t row,
                           const tensorflow::TensorShape& shape) {
  std::string text = ":]";
  for (int d = shape.dims() - 2; d >= 0; --d) {
    const int64_t size = shape.dim_size(d);
    const int64_t i = size > 0 ? row % size : 0;
    row = size > 0 ? row / size : 0;
    text = std::to_string(i) + ", " + text;
  }
  return tensor + "[" + text;
}

// Checks CDF row `row` of `tensor` (shape [..., m + 1], the row at `cdf`):
// cdf[0] == 0, non-decreasing, cdf[m] <= 2^precision. The message names the row.
inline absl::Status ValidateCdf(const int32_t* cdf, int64_t m, int precision,
                                      const char* tensor, int64_t row,
                                      const tensorflow::TensorShape& shape) {
  if (cdf[0] != 0) {
    return InvalidArgument(
        "CDF ", RowName(tensor, row, shape), " must start at 0, but its entry 0 is ",
        cdf[0], ".");
  }
  for (int64_t i = 0; i < m; ++i) {
    if (cdf[i + 1] < cdf[i]) {
      return InvalidArgument(
          "CDF ", RowName(tensor, row, shape), " is not non-decreasing: entry ", i + 1,
          " = ", cdf[i + 1], " is less than entry ", i, " = ", cdf[i], ".");
    }
  }
  const int64_t total = int64_t{1} << precision;
  if (cdf[m] > total) {
    return InvalidArgument(
        "CDF ", RowName(tensor, row, shape), " ends at ", cdf[m],
        ", above 2^precision = ", total, " (precision = ", precision, ").");
  }
  return absl::OkStatus();
}

// Precision must lie in 1..16.
inline absl::Status ValidatePrecision(int precision) {
  if (precision < 1 || precision > 16) {
    return InvalidArgument("precision must be in 1..16, got ",
                                               precision, ".");
  }
  return absl::OkStatus();
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_CDF_VALIDATION_H_
