// Turning a C++ exception (std::bad_alloc from a string or vector that cannot grow, ...)
// into an error status, so that no exception ever leaves a kernel.

#ifndef COMPRESSION_CC_KERNELS_EXCEPTIONS_H_
#define COMPRESSION_CC_KERNELS_EXCEPTIONS_H_

#include <exception>
#include <new>
#include <stdexcept>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace compression {

// The status for the exception being handled; call it only inside a catch block.
// Out-of-memory and oversized containers are ResourceExhausted, anything else Internal.
inline absl::Status CurrentExceptionStatus(absl::string_view op) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(op, " ran out of memory for its working buffers."));
  } catch (const std::length_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat(op, " needs a buffer beyond the largest size possible (", e.what(),
                     ")."));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(op, " failed: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(op, " failed with an unknown exception."));
  }
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_EXCEPTIONS_H_
