"""Range coding ops: thin wrappers over the C++ kernels in `cc/kernels`.

All sizes are in symbols; all CDFs are int32 cumulative counts out of
`2**precision`. The bitstream format is documented in README.md.
"""

import numbers

import numpy as np
import tensorflow as tf

from compression.python.ops._library import ops as _ops

__all__ = [
    "range_encode",
    "range_decode",
    "pmf_to_quantized_cdf",
    "indexed_range_encode",
    "indexed_range_decode",
]

MAX_PRECISION = 16


def _check_precision(precision):
  """Returns `precision` as an int after checking it is an integer in 1..16.

  Raises:
    TypeError: `precision` is not an integer (a float such as 2.5, or a bool).
    ValueError: it lies outside 1..16.
  """
  if isinstance(precision, bool) or not isinstance(precision, numbers.Integral):
    raise TypeError(f"precision must be an int in 1..{MAX_PRECISION} (bits of the CDF "
                    f"counts), got {precision!r} of type {type(precision).__name__}.")
  if not 1 <= precision <= MAX_PRECISION:
    raise ValueError(f"precision must be in 1..{MAX_PRECISION}, got {precision}.")
  return int(precision)


def _check_integers(value, dtype, what, op):
  """Returns `value` after checking it can stand for an integer `dtype` input.

  A tensor must have exactly `dtype`; a numpy array, list or Python number must
  hold integers (numpy integer kinds), which TensorFlow then converts to `dtype`.
  Floats and bools are a TypeError naming the op, the input and the dtype found:
  converting them would silently truncate (1.5 -> 1).
  """
  if tf.is_tensor(value) or isinstance(value, tf.Variable):
    if value.dtype != dtype:
      raise TypeError(f"{op}: {what} must be a {dtype.name} tensor, got "
                      f"{value.dtype.name}.")
    return value
  kind = np.asarray(value).dtype
  if kind.kind not in "iu":
    raise TypeError(f"{op}: {what} must hold integers ({dtype.name}), got {kind} "
                    "values; convert them explicitly (e.g. np.round, astype).")
  return value


def range_encode(data, cdf, precision, name=None):
  """Range-codes `data` into one string.

  Args:
    data: int16 tensor of any shape, values in `[0, m)`.
    cdf: int32 tensor `[..., m + 1]` with `1 <= m <= 32768` (the same limit as for
      `range_decode`) and `cdf.ndim == data.ndim + 1`. Every axis but the last equals
      the matching axis of `data` or is 1 (broadcast). Each row starts at 0, never
      decreases and ends at most at `2**precision`; a value `v` that is coded needs
      `cdf[..., v + 1] > cdf[..., v]`.
    precision: Python int in 1..16, the bits of the CDF counts (a float or a bool
      is a TypeError, an int outside 1..16 a ValueError).
    name: Optional op name.

  Returns:
    A scalar `tf.string`. It carries neither shape nor length: keep the shape.

  Raises:
    TypeError: `data` or `cdf` is a tensor of another dtype, or floats or bools
      (integer numpy arrays and Python ints are converted).
    TypeError, ValueError: `precision` is not an int in 1..16.
    tf.errors.InvalidArgumentError (at run time) naming the broken rule, the index and
    the value.
  """
  data = _check_integers(data, tf.int16, "data", "range_encode")
  cdf = _check_integers(cdf, tf.int32, "cdf", "range_encode")
  return _ops.range_encode(data, cdf, precision=_check_precision(precision), name=name)


def range_decode(encoded, shape, cdf, precision, return_exact=False, name=None):
  """Decodes a string written by `range_encode` with the same `cdf` and `precision`.

  Args:
    encoded: Scalar `tf.string`.
    shape: int32 vector, the shape of the encoded data.
    cdf: int32 tensor as for `range_encode`, broadcastable to `shape`.
    precision: Python int in 1..16.
    return_exact: Also return `exact`, a bool scalar: True when `encoded` was
      consumed exactly, i.e. it is byte for byte what `range_encode` writes for
      the decoded values with this `cdf` and `precision`. False means it is
      certainly not such an encoding (truncated, padded, most damage, another
      model's tables or shape). True is not integrity: a damaged string can be
      the exact encoding of other values (measured on conditional-model strings:
      3 of 1,267 truncations and 24 of 1,000 single-byte flips), because the code
      has almost no redundancy. Protect strings that leave the process with a
      checksum (the examples' `.cim` and `.mnz` files carry a CRC-32).
    name: Optional op name.

  Returns:
    int16 tensor of `shape`; with `return_exact`, also the bool scalar `exact`.
    Any string, corrupt or not, decodes without error to some values.
  """
  shape = _check_integers(shape, tf.int32, "shape", "range_decode")
  cdf = _check_integers(cdf, tf.int32, "cdf", "range_decode")
  decoded, exact = _ops.range_decode(
      encoded, shape, cdf, precision=_check_precision(precision), name=name)
  return (decoded, exact) if return_exact else decoded


def pmf_to_quantized_cdf(pmf, precision, name=None):
  """Turns probability rows into integer CDFs for the range coder.

  Args:
    pmf: float32 `[..., m]`: finite, non-negative, each row with a positive entry.
      Rows are normalised, so they need not sum to one.
    precision: Python int in 1..16.
    name: Optional op name.

  Returns:
    int32 `[..., m + 1]`: each row starts at 0 and ends at exactly `2**precision`;
    every bin with positive mass gets at least one count. The result depends only on
    the float32 inputs (see the kernel for the exact rounding rule), so two machines
    compute the same tables.
  """
  return _ops.pmf_to_quantized_cdf(pmf, precision=_check_precision(precision), name=name)


def indexed_range_encode(data, index, cdf, cdf_length, offset, precision, name=None, *,
                         batched_index=False):
  """Range-codes each batch item of `data` into its own string, losslessly.

  Element `i` of every item is coded with CDF row `r = index[i]` (with
  `batched_index=True`, element `i` of item `b` with `r = index[b, i]`): row `r` is
  valid in its first `cdf_length[r]` entries and has `K = cdf_length[r] - 2` regular
  symbols standing for the values `offset[r] .. offset[r] + K - 1`, then an escape
  symbol. A value outside that range is coded as the escape followed by the value (so
  nothing is clipped); it costs the escape's bits plus 4 to 64 raw bits. The bitstream
  depends only on the rows used, not on the index layout: a batched index that repeats
  the same rows for every item gives the same strings as the shared index.

  Args:
    data: int32 `[B, ...]`.
    index: int32 with shape `data.shape[1:]` (shared by the batch items), or with
      `batched_index=True` shape `data.shape`; values in `[0, C)`.
    cdf: int32 `[C, L]`.
    cdf_length: int32 `[C]`, each in `[2, L]`.
    offset: int32 `[C]`.
    precision: Python int in 1..16.
    name: Optional op name.
    batched_index: Python bool (keyword only), whether `index` has a row per element
      of every batch item (the conditional entropy models, whose scales vary per item).

  Returns:
    `tf.string` `[B]`.

  Raises:
    tf.errors.InvalidArgumentError (at run time) naming the broken rule: an index value
    outside `[0, C)` (with its full position), a shape mismatch, a bad table, or a value
    on a zero-width symbol.
  """
  data, index, cdf, cdf_length, offset = (
      _check_integers(v, tf.int32, what, "indexed_range_encode") for v, what in
      zip((data, index, cdf, cdf_length, offset),
          ("data", "index", "cdf", "cdf_length", "offset")))
  return _ops.indexed_range_encode(
      data, index, cdf, cdf_length, offset, precision=_check_precision(precision),
      batched_index=_check_batched_index(batched_index), name=name)


def indexed_range_decode(encoded, index, cdf, cdf_length, offset, precision,
                         return_exact=False, name=None, *, batched_index=False):
  """Decodes strings written by `indexed_range_encode` with the same tables.

  Args:
    encoded: `tf.string` `[B]`.
    index, cdf, cdf_length, offset, precision, batched_index: As given to
      `indexed_range_encode`; with `batched_index=True`, `index` is `[B, ...]` with
      `B = len(encoded)`.
    return_exact: Also return, per string, whether it was consumed exactly: byte
      for byte what `indexed_range_encode` writes for its decoded values with
      these tables. As for `range_decode`, False is certain damage (or other
      tables), True is not integrity: a damaged string can exactly encode other
      values. Keep a checksum over strings that leave the process.
    name: Optional op name.

  Returns:
    int32 `[B] + index.shape`, or `index.shape` with `batched_index=True`; with
    `return_exact`, also bool `[B]`. Any string, corrupt or not, decodes without error.
  """
  index, cdf, cdf_length, offset = (
      _check_integers(v, tf.int32, what, "indexed_range_decode") for v, what in
      zip((index, cdf, cdf_length, offset), ("index", "cdf", "cdf_length", "offset")))
  decoded, exact = _ops.indexed_range_decode(
      encoded, index, cdf, cdf_length, offset, precision=_check_precision(precision),
      batched_index=_check_batched_index(batched_index), name=name)
  return (decoded, exact) if return_exact else decoded


def _check_batched_index(batched_index):
  """Returns `batched_index` after checking it is a Python bool."""
  if not isinstance(batched_index, bool):
    raise TypeError(f"batched_index must be a Python bool, got {batched_index!r} of type "
                    f"{type(batched_index).__name__}.")
  return batched_index
