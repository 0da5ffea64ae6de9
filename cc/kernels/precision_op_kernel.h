// Base of the coding kernels: reads the `precision` attribute (bits of the CDF counts)
// and runs the kernel's DoCompute so that no C++ exception leaves Compute.

#ifndef COMPRESSION_CC_KERNELS_PRECISION_OP_KERNEL_H_
#define COMPRESSION_CC_KERNELS_PRECISION_OP_KERNEL_H_

#include "cc/kernels/cdf_validation.h"
#include "cc/kernels/exceptions.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace compression {

class PrecisionOpKernel : public tensorflow::OpKernel {
 public:
  // Reads `precision` and rejects values outside 1..16 when the kernel is created.
  explicit PrecisionOpKernel(tensorflow::OpKernelConstruction* context)
      : OpKernel(context) {
    OP_REQUIRES_OK(context, GetAttrAndValidate(context));
  }

  // Runs DoCompute; an exception it throws (say std::bad_alloc) becomes the op's error.
  void Compute(tensorflow::OpKernelContext* context) final {
    try {
      DoCompute(context);
    } catch (...) {
      context->SetStatus(CurrentExceptionStatus(type_string()));
    }
  }

 protected:
  // The kernel proper: validates its inputs first, then computes.
  virtual void DoCompute(tensorflow::OpKernelContext* context) = 0;

  int precision_;

 private:
  absl::Status GetAttrAndValidate(tensorflow::OpKernelConstruction* context) {
    TF_RETURN_IF_ERROR(context->GetAttr("precision", &precision_));
    return ValidatePrecision(precision_);
  }
};

}  // namespace compression

#endif  // COMPRESSION_CC_KERNELS_PRECISION_OP_KERNEL_H_
