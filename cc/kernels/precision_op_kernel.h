// Base of the kernels that take a `precision` attribute (bits of the CDF counts).

#ifndef COMPRESSION_CC_KERNELS_PRECISION_OP_KERNEL_H_
#define COMPRESSION_CC_KERNELS_PRECISION_OP_KERNEL_H_

#include "cc/kernels/cdf_validation.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace compression {

class PrecisionOpKernel : public tensorflow::OpKernel {
 public:
  // Reads `precision` and rejects values outside 1..16 when the kernel is created.
  explicit PrecisionOpKernel(tensorflow::OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, context->GetAttr("precision", &precision_));
    OP_REQUIRES_OK(context, ValidatePrecision(precision_));
  }

 protected:
  int precision_;
};

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_PRECISION_OP_KERNEL_H_
