// Allocating an output whose size comes from the inputs (a decode shape, a batch times
// an item size): the byte count is checked, overflow-safe, against the machine's memory
// first, so an impossible size is a ResourceExhausted error at once (TensorFlow's
// allocator would retry for seconds before failing), and then allocated through
// TensorFlow's allocator, which reports any other failure as ResourceExhausted.

#ifndef COMPRESSION_CC_KERNELS_OUTPUT_ALLOCATION_H_
#define COMPRESSION_CC_KERNELS_OUTPUT_ALLOCATION_H_

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"
#include "tensorflow/core/framework/types.h"
#include "tensorflow/core/platform/mem.h"

namespace compression {

inline absl::Status AllocateOutputWithinMemory(tensorflow::OpKernelContext* context,
                                               int index,
                                               const tensorflow::TensorShape& shape,
                                               tensorflow::Tensor** output) {
  const int64_t element_bytes =
      tensorflow::DataTypeSize(context->expected_output_dtype(index));
  const int64_t elements = shape.num_elements();
  const int64_t total = tensorflow::port::GetMemoryInfo().total;  // INT64_MAX if unknown
  const int64_t limit = total > 0 ? total : std::numeric_limits<int64_t>::max();
  if (element_bytes > 0 && elements > limit / element_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "output ", index, " of shape ", shape.DebugString(), " would take ", elements,
        " elements of ", element_bytes, " bytes, more than this machine's ", limit,
        " bytes of memory."));
  }
  return context->allocate_output(index, shape, output);
}

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_OUTPUT_ALLOCATION_H_
