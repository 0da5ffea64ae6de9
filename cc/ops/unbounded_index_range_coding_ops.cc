// Registrations of the unbounded index range coding ops, the interface of TensorFlow
// Compression 1.2 (`unbounded_index_range_encode` / `_decode`) on this library's coder.
// The kernels live in cc/kernels; the value code is described in overflow_code.h.

#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace compression {
namespace {

using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

// cdf [C, L], cdf_size [C], offset [C] at inputs 2, 3, 4.
absl::Status UnboundedTableShapes(InferenceContext* c) {
  ShapeHandle unused;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(2), 2, &unused));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(3), 1, &unused));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(4), 1, &unused));
  return absl::OkStatus();
}

REGISTER_OP("UnboundedIndexRangeEncode")
    .Input("data: int32")
    .Input("index: int32")
    .Input("cdf: int32")
    .Input("cdf_size: int32")
    .Input("offset: int32")
    .Output("encoded: string")
    .Attr("precision: int >= 1")
    .Attr("overflow_width: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      TF_RETURN_IF_ERROR(UnboundedTableShapes(c));
      ShapeHandle unused;
      TF_RETURN_IF_ERROR(c->Merge(c->input(0), c->input(1), &unused));
      c->set_output(0, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Range-codes int32 `data` into one string, element i with CDF row index[i] of the table
(cdf, cdf_size, offset). Row r has cdf_size[r] - 2 regular symbols for the values
offset[r] .. offset[r] + cdf_size[r] - 3, then an overflow symbol; any other int32 value
is coded as the overflow symbol followed by a variable-length code of overflow_width-bit
fields, so nothing is clipped.

data: int32, any shape.
index: int32 of data's shape, values in [0, C).
cdf: int32 [C, L]; row r is used in its first cdf_size[r] entries: 0 first,
  non-decreasing, at most 2^precision; the overflow symbol must have positive width.
cdf_size: int32 [C], each in [2, L].
offset: int32 [C], the value that symbol 0 of row r stands for.
encoded: Scalar string. It records neither shape nor length.
precision: Bits of the CDF counts, 1..16.
overflow_width: Bits of each field of the overflow code, 1..precision.
)doc");

REGISTER_OP("UnboundedIndexRangeDecode")
    .Input("encoded: string")
    .Input("index: int32")
    .Input("cdf: int32")
    .Input("cdf_size: int32")
    .Input("offset: int32")
    .Output("decoded: int32")
    .Output("exact: bool")
    .Attr("precision: int >= 1")
    .Attr("overflow_width: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      TF_RETURN_IF_ERROR(UnboundedTableShapes(c));
      ShapeHandle unused;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 0, &unused));
      c->set_output(0, c->input(1));
      c->set_output(1, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Decodes a string written by UnboundedIndexRangeEncode with the same index, tables,
precision and overflow_width.

encoded: Scalar string.
index: int32, the index the data was encoded with; the output has its shape.
decoded: int32 of index's shape.
exact: True when `encoded` is exactly the encoding of `decoded`. A corrupt or truncated
  string still decodes (to some values) and gives false here.
)doc");

}  // namespace
}  // namespace compression
