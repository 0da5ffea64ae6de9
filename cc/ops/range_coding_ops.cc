// Registrations of the range coding ops and their shape functions. The kernels live in
// cc/kernels, one per file; README.md documents the rules and the bitstream format.

#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace compression {
namespace {

using absl::Status;
using tensorflow::shape_inference::DimensionHandle;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

REGISTER_OP("RangeEncode")
    .Input("data: int16")
    .Input("cdf: int32")
    .Output("encoded: string")
    .Attr("precision: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Range-codes int16 `data` into one string with the CDFs `cdf` (broadcast over `data`).

data: Values in [0, m), any shape.
cdf: int32 [..., m + 1], rank data.rank + 1; each axis but the last equals data's or is 1.
  Every row starts at 0, never decreases and ends at most at 2^precision; every coded
  value v needs cdf[v + 1] > cdf[v].
encoded: The bitstream, a scalar string. It records neither shape nor length.
precision: Bits of the CDF counts, 1..16.
)doc");

REGISTER_OP("RangeDecode")
    .Input("encoded: string")
    .Input("shape: int32")
    .Input("cdf: int32")
    .Output("decoded: int16")
    .Output("exact: bool")
    .Attr("precision: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle unused;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 0, &unused));
      TF_RETURN_IF_ERROR(c->WithRank(c->input(1), 1, &unused));
      ShapeHandle out;
      TF_RETURN_IF_ERROR(c->MakeShapeFromShapeTensor(1, &out));
      c->set_output(0, out);
      c->set_output(1, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Decodes a string written by RangeEncode with the same `cdf` and `precision`.

encoded: Scalar string.
shape: int32 vector, the shape of the data that was encoded.
cdf: As for RangeEncode; must broadcast to `shape`.
decoded: int16 tensor of `shape`.
exact: True when `encoded` is exactly the encoding of `decoded`. A corrupt or truncated
  string still decodes (to some values) and gives false here.
)doc");

REGISTER_OP("PmfToQuantizedCdf")
    .Input("pmf: float")
    .Output("cdf: int32")
    .Attr("precision: int >= 1")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle in;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &in));
      DimensionHandle last = c->Dim(in, -1);
      DimensionHandle grown;
      TF_RETURN_IF_ERROR(c->Add(last, 1, &grown));
      ShapeHandle out;
      TF_RETURN_IF_ERROR(c->ReplaceDim(in, -1, grown, &out));
      c->set_output(0, out);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Quantizes probability rows to integer CDFs that start at 0 and end at 2^precision.

pmf: float [..., m], finite and >= 0, each row with a positive entry; rows need not sum
  to 1 (they are normalised).
cdf: int32 [..., m + 1]. Every bin with positive mass gets at least one count.
)doc");

Status IndexedShapeCommon(InferenceContext* c, int index_input) {
  ShapeHandle unused;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(index_input + 1), 2, &unused));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(index_input + 2), 1, &unused));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(index_input + 3), 1, &unused));
  return absl::OkStatus();
}

REGISTER_OP("IndexedRangeEncode")
    .Input("data: int32")
    .Input("index: int32")
    .Input("cdf: int32")
    .Input("cdf_length: int32")
    .Input("offset: int32")
    .Output("encoded: string")
    .Attr("precision: int >= 1")
    .Attr("batched_index: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      TF_RETURN_IF_ERROR(IndexedShapeCommon(c, 1));
      bool batched_index;
      TF_RETURN_IF_ERROR(c->GetAttr("batched_index", &batched_index));
      ShapeHandle data;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 1, &data));
      if (batched_index) {
        TF_RETURN_IF_ERROR(c->Merge(data, c->input(1), &data));
      }
      c->set_output(0, c->Vector(c->Dim(data, 0)));
      return absl::OkStatus();
    })
    .Doc(R"doc(
Range-codes each batch item of `data` into its own string, element i with CDF row
index[i] of the table (cdf, cdf_length, offset), or with `batched_index` element i of
item b with row index[b, i]; values outside a row's range are coded losslessly after its
escape symbol. Both index layouts give the same bitstream for the same rows.

data: int32 [B, ...].
index: int32 of shape data.shape[1:], or of data.shape with batched_index; values in
  [0, C).
cdf: int32 [C, L]; row c is used in its first cdf_length[c] entries; its last symbol is
  the escape and must have positive width.
cdf_length: int32 [C], each in [2, L].
offset: int32 [C], the value that symbol 0 of row c stands for.
encoded: string [B].
batched_index: Whether `index` has a row per element of every batch item.
)doc");

REGISTER_OP("IndexedRangeDecode")
    .Input("encoded: string")
    .Input("index: int32")
    .Input("cdf: int32")
    .Input("cdf_length: int32")
    .Input("offset: int32")
    .Output("decoded: int32")
    .Output("exact: bool")
    .Attr("precision: int >= 1")
    .Attr("batched_index: bool = false")
    .SetShapeFn([](InferenceContext* c) {
      TF_RETURN_IF_ERROR(IndexedShapeCommon(c, 1));
      bool batched_index;
      TF_RETURN_IF_ERROR(c->GetAttr("batched_index", &batched_index));
      ShapeHandle encoded;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 1, &encoded));
      ShapeHandle out;
      if (batched_index) {
        ShapeHandle index;
        TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(1), 1, &index));
        DimensionHandle batch;
        TF_RETURN_IF_ERROR(c->Merge(c->Dim(encoded, 0), c->Dim(index, 0), &batch));
        TF_RETURN_IF_ERROR(c->ReplaceDim(index, 0, batch, &out));
        encoded = c->Vector(batch);
      } else {
        TF_RETURN_IF_ERROR(c->Concatenate(encoded, c->input(1), &out));
      }
      c->set_output(0, out);
      c->set_output(1, encoded);
      return absl::OkStatus();
    })
    .Doc(R"doc(
Decodes strings written by IndexedRangeEncode with the same index and tables.

encoded: string [B].
index: As given to IndexedRangeEncode: int32 of one item's shape, or with batched_index
  [B, ...].
decoded: int32 [B] + index.shape, or index.shape with batched_index.
exact: bool [B], true where the string is exactly the encoding of its decoded values.
batched_index: Whether `index` has a row per element of every batch item.
)doc");

}  // namespace
}  // namespace compression
