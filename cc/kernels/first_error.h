// The error to report from work sharded over threads: of all the errors the shards
// record, the one of the lowest batch item wins, so the report does not depend on the
// scheduling.

#ifndef COMPRESSION_CC_KERNELS_FIRST_ERROR_H_
#define COMPRESSION_CC_KERNELS_FIRST_ERROR_H_

#include <cstdint>
#include <limits>
#include <mutex>  // NOLINT(build/c++11)
#include <utility>

#include "absl/status/status.h"

namespace compression {

class FirstError {
 public:
  // Records `status` (not OK) for batch item `item`; thread-safe.
  void Record(int64_t item, absl::Status status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (item < item_) {
      item_ = item;
      status_ = std::move(status);
    }
  }

  // OK when nothing was recorded. Call once the shards are done.
  absl::Status status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

 private:
  mutable std::mutex mutex_;
  int64_t item_ = std::numeric_limits<int64_t>::max();
  absl::Status status_;
};

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_FIRST_ERROR_H_
