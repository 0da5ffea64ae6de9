// Building the InvalidArgument errors the kernels report.

#ifndef COMPRESSION_CC_KERNELS_STATUS_H_
#define COMPRESSION_CC_KERNELS_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace compression {

// An InvalidArgument status whose message is the concatenation of `pieces`.
template <typename... Pieces>
absl::Status InvalidArgument(const Pieces&... pieces) {
  return absl::InvalidArgumentError(absl::StrCat(pieces...));
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_STATUS_H_
