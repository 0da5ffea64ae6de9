"""`EntropyModel`: what every entropy model of the library shares.

An entropy model quantizes its inputs, returns their likelihoods (for the rate term
of a loss, in bits `sum(-log2(likelihoods))`) and range codes the quantized values with
integer CDF tables kept in non-trainable int32 variables. The subclasses are
`EntropyBottleneck` (a learned factorized prior, `entropy_models.py`) and the
conditional models of `conditional_models.py` (`GaussianConditional`, ...).

The base holds:
- the configuration every model has: `tail_mass`, `likelihood_bound` (applied with
  `math_ops.lower_bound`), `range_coder_precision`, and the layer keywords `name`,
  `dtype` (float32 only) and `trainable`;
- `quantize(inputs, mode)` with the modes of `QUANTIZATION_MODES`;
- the table plumbing: table variables, their fingerprint (`table_fingerprint`),
  the checks `compress` / `decompress` run before coding, and the calls of the
  indexed range coding ops.
"""

import sys

import numpy as np
import tensorflow as tf

from compression.python.layers import base
from compression.python.ops import math_ops
from compression.python.ops import range_coding_ops

__all__ = ["EntropyModel", "QUANTIZATION_MODES"]

MAX_PRECISION = 16

# The quantization modes of `EntropyModel.quantize`.
QUANTIZATION_MODES = ("noise", "dequantize", "symbols")

# Largest magnitude a rounded value may have to be coded (a float32 below 2**31, so
# the int32 cast is exact).
MAX_CODED_MAGNITUDE = 2. ** 31 - 128


class EntropyModel(base.Layer):
  """Base layer of the entropy models (see the module doc).

  Subclasses implement `_build`, `call`, `_quantization_offset(inputs)` (the float
  offset `quantize` rounds around, or None for 0) and create their coding tables with
  `_add_table_variables`; their update op assigns them with `_assign_tables`.
  """

  def __init__(self, tail_mass, likelihood_bound, range_coder_precision, name=None,
               dtype=None, trainable=True):
    """Initializer.

    Args:
      tail_mass: float in (0, 1), probability mass left outside the coded range of
        each table (values there are escape coded, losslessly).
      likelihood_bound: float in [0, 1), lower bound applied to likelihoods (0: none).
      range_coder_precision: int in [1, 16], bits of the CDF tables.
      name: layer name (default: the class name in snake_case, uniquified).
      dtype: None or float32 (`tf.float32`, "float32", `np.float32`): the dtype of
        the outputs and likelihoods. Other dtypes are refused (ValueError).
      trainable: bool; False keeps every variable out of TRAINABLE_VARIABLES.
    """
    super().__init__(name=name, trainable=trainable)
    if not is_number(tail_mass) or not 0 < tail_mass < 1:
      raise ValueError(f"`tail_mass` must be in (0, 1), got {tail_mass!r}.")
    if not is_number(likelihood_bound) or not 0 <= likelihood_bound < 1:
      raise ValueError(
          f"`likelihood_bound` must be in [0, 1), got {likelihood_bound!r}.")
    if (not is_int(range_coder_precision)
        or not 1 <= range_coder_precision <= MAX_PRECISION):
      raise ValueError(
          f"`range_coder_precision` must be an int in [1, {MAX_PRECISION}], got "
          f"{range_coder_precision!r}.")
    if dtype is not None:
      try:
        as_dtype = tf.as_dtype(dtype)
      except TypeError:
        as_dtype = None
      if as_dtype != tf.float32:
        raise ValueError(
            f"{type(self).__name__} supports only dtype float32 (the coding tables "
            f"and bitstreams are defined for float32), got dtype={dtype!r}.")
    self._tail_mass = float(tail_mass)
    self._likelihood_bound = float(likelihood_bound)
    self._range_coder_precision = int(range_coder_precision)
    self._table_variables = None
    self._table_fingerprint = None

  # -- Read-only configuration. ---------------------------------------------------

  @property
  def tail_mass(self):
    return self._tail_mass

  @property
  def likelihood_bound(self):
    return self._likelihood_bound

  @property
  def range_coder_precision(self):
    return self._range_coder_precision

  @property
  def dtype(self):
    """Always `tf.float32`."""
    return tf.float32

  def _assert_built(self, what):
    if not self.built:
      raise ValueError(
          f"{self.name}: {what} is only available once the layer is built.")

  def compute_output_shape(self, input_shape):
    """Shapes of `call`'s outputs: `(outputs, likelihoods)`, both `input_shape`."""
    input_shape = tf.TensorShape(input_shape)
    return input_shape, input_shape

  # -- Quantization and likelihoods. ----------------------------------------------

  def _quantization_offset(self, inputs):
    """Float32 tensor broadcastable to `inputs` that rounding is centred on, or None."""
    raise NotImplementedError

  def quantize(self, inputs, mode):
    """Quantizes `inputs` (float32) in one of the `QUANTIZATION_MODES`.

    Args:
      inputs: float tensor; cast to float32.
      mode: "noise": `inputs` plus uniform noise from [-.5, .5) (training);
        "dequantize": `round(inputs - o) + o` (evaluation; what `decompress`
        returns); "symbols": int32 `round(inputs - o)`, the integers that are coded.
        `o` is the model's quantization offset (EntropyBottleneck: the channel's
        median, conditional models: the mean, else 0). Rounding is `tf.round`
        (ties to even).

    Returns:
      float32 (int32 for "symbols") tensor of the shape of `inputs`. "symbols" fails
      at run time (InvalidArgumentError) for NaN, infinities and values beyond int32.
    """
    if mode not in QUANTIZATION_MODES:
      raise ValueError(
          f"{self.name}: `mode` must be one of {QUANTIZATION_MODES}, got {mode!r}.")
    inputs = tf.cast(tf.convert_to_tensor(inputs, dtype_hint=tf.float32), tf.float32)
    if mode == "noise":
      return inputs + tf.random.uniform(tf.shape(inputs), -.5, .5)
    offset = self._quantization_offset(inputs)
    centred = inputs if offset is None else inputs - offset
    if mode == "symbols":
      return self._to_symbols(tf.round(centred))
    rounded = tf.round(centred)
    return rounded if offset is None else rounded + offset

  def _to_symbols(self, rounded):
    """float32 rounded values -> int32, failing at run time if they do not fit."""
    # Casting NaN, infinities or values beyond int32 is undefined: refuse them (one
    # reduction; NaN fails the comparison too).
    check = tf.debugging.assert_less(
        tf.reduce_max(tf.abs(rounded)), MAX_CODED_MAGNITUDE,
        message=(f"{self.name}: compress needs finite inputs whose rounded "
                 "values fit in int32 (|value| < 2**31 - 128)"))
    with tf.control_dependencies([check]):
      return tf.cast(rounded, tf.int32)

  def _bound_likelihood(self, likelihood):
    """Applies `likelihood_bound` (with the `lower_bound` gradient)."""
    if self._likelihood_bound > 0:
      likelihood = math_ops.lower_bound(likelihood, self._likelihood_bound)
    return likelihood

  # -- Coding tables. -------------------------------------------------------------

  def _add_table_variables(self, rows, vector_names):
    """Creates the coding table variables (all zero: "never updated").

    Args:
      rows: number of CDF rows.
      vector_names: names of the int32 `[rows]` vectors after `cdf` (the first two
        must be "cdf_length" and "cdf_offset").

    Creates `cdf` (int32 `[rows, None]`), the vectors, and `table_fingerprint`
    (int64 scalar, see `table_fingerprint`), in that order.
    """
    tables = [self.add_variable(
        "cdf", tf.zeros([rows, 0], tf.int32), trainable=False,
        shape=tf.TensorShape([rows, None]))]
    for name in vector_names:
      tables.append(self.add_variable(name, tf.zeros([rows], tf.int32),
                                      trainable=False))
    self._table_variables = tables
    self._table_fingerprint = self.add_variable(
        "table_fingerprint", tf.constant(0, tf.int64), trainable=False)

  def _assign_tables(self, tables):
    """Op assigning `tables` (cdf, then the vectors) and their fingerprint."""
    assigns = [variable.assign(value, read_value=False)
               for variable, value in zip(self._table_variables, tables)]
    assigns.append(self._table_fingerprint.assign(
        table_fingerprint(self._range_coder_precision, *tables), read_value=False))
    return tf.group(*assigns, name="update")

  def _coding_tables(self):
    """Reads the coding tables, checking them at run time.

    Fails (InvalidArgumentError) if the tables are empty (the update op never ran)
    or do not match their stored fingerprint (an altered or damaged checkpoint).

    Returns:
      The table tensors (int32 `cdf`, then the vectors), then the int64 scalar
      fingerprint, all read after the checks.
    """
    cdf_length = self._table_variables[1].read_value()
    filled = tf.debugging.assert_positive(
        cdf_length,
        message=(
            f"{self.name}: the range coding tables are empty. Run the layer's update "
            "op (layer.updates[0]) after training and before saving the checkpoint "
            "used for compress/decompress."))
    with tf.control_dependencies([filled]):
      tables = (self._table_variables[0].read_value(), cdf_length) + tuple(
          v.read_value() for v in self._table_variables[2:])
      stored = self._table_fingerprint.read_value()
      matches = tf.debugging.Assert(
          tf.equal(stored, table_fingerprint(self._range_coder_precision, *tables)),
          [tf.strings.join([
              f"{self.name}: the coding tables do not match their stored fingerprint "
              "(0x", _hex(stored), "); the checkpoint was altered or is damaged."])])
    with tf.control_dependencies([matches]):
      return tuple(tf.identity(t) for t in tables + (stored,))

  def fingerprint(self):
    """The stored fingerprint of the coding tables, checked against the tables.

    The update op writes it with the tables (see `table_fingerprint`); it is saved
    in the checkpoint with them. A file format can store it to refuse decoding with
    other tables.

    Returns:
      int64 scalar tensor. Running it fails (InvalidArgumentError) if the tables are
      empty or do not match the stored fingerprint.
    """
    self._assert_built("fingerprint")
    with self.name_scope(), tf.name_scope("fingerprint"):
      return self._coding_tables()[-1]

  # -- Coding. --------------------------------------------------------------------

  def _encode(self, symbols, index, tables, batched_index=False):
    """Range codes int32 `symbols` `[B, ...]` with CDF rows `index` -> tf.string `[B]`.

    `index` has the shape of one item (`batched_index=False`) or of `symbols`.
    """
    cdf, cdf_length, cdf_offset = tables[:3]
    strings = range_coding_ops.indexed_range_encode(
        symbols, index, cdf, cdf_length, cdf_offset, self._range_coder_precision,
        batched_index=batched_index)
    strings.set_shape(symbols.shape[:1])
    return strings

  def _decode(self, strings, index, tables, batched_index=False, return_exact=False):
    """Inverse of `_encode`: int32 `[B] + item shape` (and bool `[B]` if asked)."""
    cdf, cdf_length, cdf_offset = tables[:3]
    decoded = range_coding_ops.indexed_range_decode(
        strings, index, cdf, cdf_length, cdf_offset, self._range_coder_precision,
        return_exact=True, batched_index=batched_index)
    return decoded if return_exact else decoded[0]

  def _string_vector(self, strings):
    """`strings` as a tf.string vector `[B]`; an unknown rank is checked at run time."""
    strings = tf.convert_to_tensor(strings, tf.string)
    if strings.shape.rank is None:
      check = tf.debugging.assert_rank(
          strings, 1,
          message=f"{self.name}: `strings` must be a vector [B] (one per batch item)")
      with tf.control_dependencies([check]):
        strings = tf.identity(strings)
      strings.set_shape([None])
    elif strings.shape.rank != 1:
      raise ValueError(
          f"{self.name}: `strings` must be a vector [B], got shape {strings.shape}.")
    return strings


def table_fingerprint(precision, cdf, *vectors):
  """Deterministic 64-bit hash of a set of coding tables (integer graph ops only).

  The hashed data is the sequence of int32 words `[precision, C, W]`, the vectors
  in order (EntropyBottleneck: `cdf_length`, `cdf_offset`, `quantization_offset`),
  then `cdf` row by row, each word as 4 bytes little-endian (so the value does not
  depend on the machine). The hash is farmhash64 (`tf.fingerprint`, documented as
  stable across platforms), read as a little-endian 64-bit integer; 0, which marks
  tables never updated, becomes 1.

  Args:
    precision: Python int, range_coder_precision.
    cdf: int32 `[C, W]`.
    *vectors: int32 `[C]` each.

  Returns:
    int64 scalar tensor.
  """
  words = tf.concat(
      [tf.constant([precision], tf.int32), tf.shape(cdf, out_type=tf.int32)]
      + list(vectors) + [tf.reshape(cdf, [-1])], axis=0)
  hashed = tf.fingerprint(tf.reshape(little_endian_bytes(words), [1, -1]))[0]  # [8]
  value = tf.reduce_sum(tf.bitwise.left_shift(
      tf.cast(hashed, tf.uint64), tf.constant([0, 8, 16, 24, 32, 40, 48, 56],
                                              tf.uint64)))
  value = tf.bitcast(value, tf.int64)
  return tf.where(tf.equal(value, 0), tf.constant(1, tf.int64), value)


def little_endian_bytes(words, native=sys.byteorder == "little"):
  """int32 `[N]` -> uint8 `[N, 4]`, each word's bytes least significant first.

  On a little-endian machine (`native`) a bitcast, about 5 times faster than the
  shifts and masks used otherwise; both give the same bytes.
  """
  if native:
    return tf.bitcast(words, tf.uint8)
  data = tf.bitwise.bitwise_and(
      tf.bitwise.right_shift(words[:, None], tf.constant([0, 8, 16, 24])), 255)
  return tf.cast(data, tf.uint8)


def _hex(value):
  """int64 scalar tensor -> tf.string scalar of its 16 hex digits (two's complement)."""
  value = tf.bitcast(value, tf.uint64)
  shifts = tf.constant(list(range(60, -4, -4)), tf.uint64)
  nibbles = tf.bitwise.bitwise_and(tf.bitwise.right_shift(value, shifts),
                                   tf.constant(15, tf.uint64))
  digits = tf.gather(tf.constant(list("0123456789abcdef")), tf.cast(nibbles, tf.int32))
  return tf.strings.reduce_join(digits)


def is_int(value):
  return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value):
  return (isinstance(value, (int, float, np.integer, np.floating))
          and not isinstance(value, bool))
