"""The unbounded index range coding ops: TensorFlow Compression 1.2's interface.

`unbounded_index_range_encode(data, index, cdf, cdf_size, offset, precision,
overflow_width)` codes every element of `data` into ONE scalar string, element `i` with
CDF row `index[i]`; `unbounded_index_range_decode` inverts it. They exist so that
scripts written for the 1.2 / 1.3 ops run; new code should use `indexed_range_encode` /
`indexed_range_decode` (range_coding_ops.py), which code one string per batch item on
several threads.

Tables. `cdf` is int32 `[C, L]`; row `r` uses its first `m = cdf_size[r]` entries
(`2 <= m <= L`): `cdf[r, 0] = 0`, non-decreasing, at most `2**precision`. It has
`m - 2` regular symbols standing for the values `offset[r] .. offset[r] + m - 3` and one
last symbol, the overflow symbol, which must have positive width.

Values outside a row's range. Such a value is coded as the overflow symbol, then its
distance `d` beyond the range folded to `z >= 0` (`z = 2d - 1` below the range,
`z = 2d` above it), then `z` in raw fields of `w = overflow_width` bits: the number
`n >= 1` of `w`-bit chunks `z` needs, as `n - 1` in unary over `w`-bit fields (fields
of value `2**w - 1` while they fit, then one field with the rest), then the `n` chunks,
most significant first. So nothing is clipped: every int32 value round-trips. Besides
the overflow symbol, a `z` of `b` bits costs `2b` bits at `w = 1`, and `b` rounded up
to a multiple of `w`, plus `w` count bits, when `b <= w (2**w - 1)`. At `w = 4` this
is the escape code of `indexed_range_encode` (same bytes). The coder and the rest
of the bitstream are those of README.md's "Bitstream format"; these strings are not
byte-compatible with TensorFlow Compression's.

Checks (always on, unlike 1.2, whose `debug_level=0` skipped them): shapes, every CDF
row, `cdf_size` in `[2, L]`, `index` in `[0, C)`, `precision` in 1..16 and
`overflow_width` in `1..precision`; a broken rule is an `InvalidArgumentError` naming
the argument, the position and the value (precision and overflow_width are checked in
Python first, as `TypeError` / `ValueError`). Any string decodes without error and in
bounded time; `return_exact=True` tells whether it was exactly an encoding.
"""

import numbers

from compression.python.ops import range_coding_ops
from compression.python.ops._library import ops as _ops

__all__ = [
    "unbounded_index_range_encode",
    "unbounded_index_range_decode",
]


def _check_overflow_width(overflow_width, precision):
  """Returns `overflow_width` as an int after checking it is an integer in 1..precision.

  Raises:
    TypeError: not an integer (a float or a bool).
    ValueError: outside 1..precision.
  """
  if (isinstance(overflow_width, bool) or
      not isinstance(overflow_width, numbers.Integral)):
    raise TypeError(f"overflow_width must be an int in 1..precision (bits of each "
                    f"overflow code field), got {overflow_width!r} of type "
                    f"{type(overflow_width).__name__}.")
  if not 1 <= overflow_width <= precision:
    raise ValueError(f"overflow_width must be in 1..precision = 1..{precision}, got "
                     f"{overflow_width}.")
  return int(overflow_width)


def _check_debug_level(debug_level):
  if isinstance(debug_level, bool) or debug_level not in (0, 1):
    raise ValueError(f"debug_level must be 0 or 1, got {debug_level!r}.")


def _attrs(precision, overflow_width, debug_level):
  precision = range_coding_ops._check_precision(precision)  # pylint: disable=protected-access
  _check_debug_level(debug_level)
  return precision, _check_overflow_width(overflow_width, precision)


def unbounded_index_range_encode(data, index, cdf, cdf_size, offset, precision,
                                 overflow_width, debug_level=1, name=None):
  """Range-codes int32 `data` into one string, element `i` with CDF row `index[i]`.

  Args:
    data: int32 tensor of any shape; any int32 value (see the module docstring).
    index: int32 tensor of `data`'s shape, values in `[0, C)`.
    cdf: int32 `[C, L]`, one CDF per row, valid in its first `cdf_size[r]` entries;
      counts out of `2**precision`.
    cdf_size: int32 `[C]`, each in `[2, L]`.
    offset: int32 `[C]`, the value that symbol 0 of row `r` stands for.
    precision: Python int in 1..16, the bits of the CDF counts.
    overflow_width: Python int in `1..precision`, the bits of each field of the
      overflow code.
    debug_level: 0 or 1, accepted for 1.2 compatibility; inputs are always checked.
    name: Optional op name.

  Returns:
    A scalar `tf.string`. It stores neither the shape nor a terminator: the decoder
    gets `index`.

  Raises:
    TypeError, ValueError: `precision`, `overflow_width` or `debug_level` is not an
      allowed Python int.
    tf.errors.InvalidArgumentError (at run time): a shape mismatch, a bad table, an
      index outside `[0, C)` (with its position), or a value on a zero-width symbol.
  """
  precision, overflow_width = _attrs(precision, overflow_width, debug_level)
  return _ops.unbounded_index_range_encode(
      data, index, cdf, cdf_size, offset, precision=precision,
      overflow_width=overflow_width, name=name)


def unbounded_index_range_decode(encoded, index, cdf, cdf_size, offset, precision,
                                 overflow_width, debug_level=1, name=None,
                                 return_exact=False):
  """Decodes a string written by `unbounded_index_range_encode` with the same tables.

  Args:
    encoded: scalar `tf.string`.
    index, cdf, cdf_size, offset, precision, overflow_width: as given to
      `unbounded_index_range_encode`.
    debug_level: 0 or 1, accepted for 1.2 compatibility; inputs are always checked.
    name: Optional op name.
    return_exact: also return a bool scalar, true exactly when `encoded` is byte for
      byte the encoding of the decoded values (false for truncated, padded and most
      corrupt strings; not a checksum).

  Returns:
    int32 tensor of `index`'s shape; with `return_exact`, also a bool scalar. Any
    string, corrupt or not, decodes without error.

  Raises:
    As `unbounded_index_range_encode`, but for the values.
  """
  precision, overflow_width = _attrs(precision, overflow_width, debug_level)
  decoded, exact = _ops.unbounded_index_range_decode(
      encoded, index, cdf, cdf_size, offset, precision=precision,
      overflow_width=overflow_width, name=name)
  return (decoded, exact) if return_exact else decoded
