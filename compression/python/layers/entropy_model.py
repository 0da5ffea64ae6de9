"""`EntropyModel`: the base entropy model, which owns quantization and coding.

An entropy model quantizes its inputs, returns their likelihoods (for the rate term
of a loss, in bits `sum(-log2(likelihoods))`) and range codes the quantized values with
integer CDF tables kept in non-trainable int32 variables. The subclasses are
`EntropyBottleneck` (a learned factorized prior, `entropy_bottleneck.py`) and the
conditional models of `conditional_models.py` (`GaussianConditional`, ...).

The base holds everything but the density:
- the configuration every model has: `tail_mass`, `likelihood_bound` (applied with
  `math_ops.lower_bound`), `range_coder_precision`, and the layer keywords `name`,
  `dtype` (float32; the conditional models also take float64, see `_DTYPES`),
  `trainable` and those of `base.Layer` (`activity_regularizer`, ...);
- `call(inputs, training)`, `quantize(inputs, mode)` (the modes of
  `QUANTIZATION_MODES`), `compress(inputs)` and `decompress(strings, ...)`;
- the tables: a probability table plus an escape symbol quantized with
  `pmf_to_quantized_cdf` (`_quantized_cdf`), the table variables, their fingerprint
  (`table_fingerprint`) and the checks `compress` / `decompress` run before coding;
- the optional index check of the conditional models' strings (`INDEX_CHECK_BYTES`
  bytes in front of each string, see `_with_index_check`).

A subclass supplies the density and where coding looks things up, through these
hooks: `_build(input_shape)` (variables, tables, update op), `_prepare_inputs`,
`_output_likelihood(outputs)`, `_quantization_offset(inputs)` (the live offset of
`quantize`), `_coding_index(tables, item)` (the CDF row of each element),
`_coding_offset(tables, rank)` (the offset `compress` rounds around and `decompress`
adds back) and `_decode_item(shape, channels)` (the arguments of `decompress`).
"""

import collections
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

# Smallest probability given to the escape symbol when the table holds (numerically)
# all the mass. Any positive value works: the quantized CDF gives every positive bin
# at least one count.
_MIN_ESCAPE_MASS = 1e-9

# The index check in front of a string (see `_with_index_check`): one byte of format
# version, then the low INDEX_CHECK_BYTES - 1 bytes of a hash of the table indexes.
INDEX_CHECK_VERSION = 1
INDEX_CHECK_BYTES = 4


class CodingItem(collections.namedtuple(
    "CodingItem", ["shape", "static", "build_shape", "from_arguments"])):
  """What coding knows of one batch item.

  Fields:
    shape: int32 vector tensor, one item's shape (no batch axis), or None when the
      model takes it from elsewhere (the conditional models' `scale`).
    static: list of ints / None, its static value.
    build_shape: shape to build the layer with if it is not built yet, or None.
    from_arguments: True when `shape` came from `decompress`'s arguments (its
      values are then checked at run time).
  """


class EntropyModel(base.Layer):
  """Base layer of the entropy models (see `compression.python.layers.entropy_model`).

  Subclasses implement the hooks listed in the module doc, create their coding tables
  with `_add_table_variables` and build the CDFs with `_quantized_cdf`; an update op
  assigns them with `_assign_tables`.

  `return_exact` (of `decompress`): True for a string means it was consumed exactly:
  it is the encoding of the values decoded from it, no byte missing and none left
  over (within what the coder can tell, see `decompress`). It is not an integrity
  check: a string damaged so that it still decodes to some values, or a string of
  another model, may come out "exact" with wrong values. Protect stored strings
  with a checksum (the example file formats carry a CRC) and refuse other tables
  with the fingerprint.

  `dtype` is the dtype of the values (inputs, outputs, likelihoods, what
  `decompress` returns): float32, or one of `_DTYPES` of the subclass. The coding
  tables are int32, computed in float32, and the coded symbols int32, whatever the
  dtype.
  """

  # The dtypes the layer takes (the first is the default).
  _DTYPES = (tf.float32,)

  def __init__(self, tail_mass, likelihood_bound, range_coder_precision, name=None,
               dtype=None, trainable=True, **kwargs):
    """Initializer.

    Args:
      tail_mass: float in (0, 1), probability mass left outside the coded range of
        each table (values there are escape coded, losslessly).
      likelihood_bound: float in [0, 1), lower bound applied to likelihoods (0: none).
      range_coder_precision: int in [1, 16], bits of the CDF tables.
      name: layer name (default: the class name in snake_case, uniquified).
      dtype: None (float32) or one of `_DTYPES` (`tf.float32`, "float32",
        `np.float32`; the conditional models also float64): the dtype of the
        inputs (cast to it), outputs and likelihoods. Other dtypes are refused
        (ValueError).
      trainable: bool; False keeps every variable out of TRAINABLE_VARIABLES.
      **kwargs: the other layer keywords of `base.Layer` (`activity_regularizer`,
        `dynamic`, `autocast`, `input_shape`, ...).
    """
    super().__init__(name=name, trainable=trainable, **kwargs)
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
    self._dtype = self._DTYPES[0]
    if dtype is not None:
      try:
        as_dtype = tf.as_dtype(dtype)
      except TypeError:
        as_dtype = None
      if as_dtype not in self._DTYPES:
        if len(self._DTYPES) == 1:
          raise ValueError(
              f"{type(self).__name__} supports only dtype float32 (the coding tables "
              f"and bitstreams are defined for float32), got dtype={dtype!r}.")
        names = " and ".join(d.name for d in self._DTYPES)
        raise ValueError(
            f"{type(self).__name__} supports only dtypes {names} (the coding tables "
            f"are float32 either way), got dtype={dtype!r}.")
      self._dtype = as_dtype
    self._tail_mass = float(tail_mass)
    self._likelihood_bound = float(likelihood_bound)
    self._range_coder_precision = int(range_coder_precision)
    self._table_variables = None
    self._table_fingerprint = None
    self._index_check = False

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
    """The dtype of the values: `tf.float32` (default) or one of `_DTYPES`."""
    return self._dtype

  def _assert_built(self, what):
    if not self.built:
      raise ValueError(
          f"{self.name}: {what} is only available once the layer is built.")

  def compute_output_shape(self, input_shape):
    """Shapes of `call`'s outputs: `(outputs, likelihoods)`, both `input_shape`."""
    input_shape = tf.TensorShape(input_shape)
    return input_shape, input_shape

  # -- Hooks of the subclasses. ---------------------------------------------------

  def _prepare_inputs(self, inputs, coding=False):
    """`inputs` as the layer's dtype, checked against the layer (`coding`: for
    `compress`)."""
    del coding
    inputs = tf.convert_to_tensor(inputs, dtype_hint=self._dtype)
    return inputs if inputs.dtype == self._dtype else tf.cast(inputs, self._dtype)

  def _output_likelihood(self, outputs):
    """Likelihood (the layer's dtype) of each element of `outputs` (at least
    likelihood_bound)."""
    raise NotImplementedError

  def _quantization_offset(self, inputs):
    """Tensor (the layer's dtype) broadcastable to `inputs` that rounding is centred
    on, or None."""
    raise NotImplementedError

  def _coding_index(self, tables, item):
    """`(index, batched)`: int32 CDF row of each element for the coder.

    `index` has one item's shape (`batched=False`) or the batch's (`batched=True`).
    `tables` are the tensors of `_coding_tables()`, `item` a `CodingItem`.
    """
    raise NotImplementedError

  def _coding_offset(self, tables, rank):
    """Offset (the layer's dtype, broadcastable to a rank-`rank` batch) coding
    rounds around, read from `tables` or the layer's inputs; None for 0. `rank` is
    None when the rank of the coded tensor is not known."""
    raise NotImplementedError

  def _decode_item(self, shape, channels):
    """The `CodingItem` of `decompress(strings, shape, channels)`; raises ValueError
    for arguments the model does not take."""
    raise NotImplementedError

  # -- Training and evaluation. ---------------------------------------------------

  @tf.autograph.experimental.do_not_convert
  def __call__(self, inputs, *args, **kwargs):
    # Python numbers and lists become the layer's dtype (float64 ones are not
    # rounded through float32 first); tensors and arrays keep theirs until `call`.
    inputs = tf.convert_to_tensor(inputs, dtype_hint=self._dtype)
    return super().__call__(inputs, *args, **kwargs)

  def call(self, inputs, training):
    """Quantizes (or adds noise to) `inputs` and returns the likelihoods.

    Args:
      inputs: float tensor `[B, ...]` (cast to the layer's dtype): for
        EntropyBottleneck of the layout it was built with, for conditional models
        broadcast-compatible with `scale` and `mean`.
      training: Python bool or scalar bool tensor. True: add uniform noise from
        [-.5, .5) ("noise"). False: round around the quantization offset
        ("dequantize", see `quantize`).

    Returns:
      outputs: the layer's dtype (float32 unless set), shape of `inputs`: the noisy
        or rounded values.
      likelihoods: the layer's dtype (conditional models: the broadcast shape of
        `inputs` and `scale`): the probability of each output under the model (the
        mass of the unit interval around it), at least `likelihood_bound`. The rate
        in bits is `sum(-log2(likelihoods))`.
    """
    inputs = self._prepare_inputs(inputs)

    def noisy():
      return self.quantize(inputs, "noise")

    def rounded():
      return self.quantize(inputs, "dequantize")

    if isinstance(training, (bool, np.bool_)):
      outputs = noisy() if training else rounded()
    else:
      outputs = tf.cond(tf.cast(training, tf.bool), noisy, rounded)
    outputs.set_shape(inputs.shape)
    return outputs, self._output_likelihood(outputs)

  # -- Quantization and likelihoods. ----------------------------------------------

  def quantize(self, inputs, mode):
    """Quantizes `inputs` (the layer's dtype) in one of the `QUANTIZATION_MODES`.

    Args:
      inputs: float tensor; cast to the layer's dtype (float32 unless set).
      mode: "noise": `inputs` plus uniform noise from [-.5, .5) (training);
        "dequantize": `round(inputs - o) + o` (evaluation; what `decompress`
        returns); "symbols": int32 `round(inputs - o)`, the integers that are coded.
        `o` is the model's quantization offset (EntropyBottleneck: the channel's
        median, conditional models: the mean, else 0). Rounding is `tf.round`
        (ties to even).

    Returns:
      tensor of the layer's dtype (int32 for "symbols"), the shape of `inputs`.
      "symbols" fails at run time (InvalidArgumentError) for NaN, infinities and
      values beyond int32.
    """
    if mode not in QUANTIZATION_MODES:
      raise ValueError(
          f"{self.name}: `mode` must be one of {QUANTIZATION_MODES}, got {mode!r}.")
    inputs = tf.cast(tf.convert_to_tensor(inputs, dtype_hint=self._dtype), self._dtype)
    if mode == "noise":
      return inputs + tf.random.uniform(tf.shape(inputs), -.5, .5, dtype=self._dtype)
    offset = self._quantization_offset(inputs)
    centred = inputs if offset is None else inputs - offset
    if mode == "symbols":
      return self._to_symbols(tf.round(centred))
    rounded = tf.round(centred)
    return rounded if offset is None else rounded + offset

  def likelihood(self, outputs):
    """Likelihoods of given outputs, as `call` returns them for its own outputs.

    For a rate computed on values this layer did not quantize itself: a
    relaxation of rounding (soft or stochastic rounding while an encoder refines
    its latents for one input), or values quantized elsewhere. The layer must be
    built (called once).

    Args:
      outputs: float tensor of the layout `call` takes (cast to the layer's dtype).

    Returns:
      tensor of the layer's dtype (float32 unless set; conditional models: the
      broadcast shape of `outputs` and `scale`): the mass of the unit interval
      around each value, at least `likelihood_bound`. The rate in bits is
      `sum(-log2(likelihoods))`.
    """
    self._assert_built("likelihood")
    outputs = tf.cast(tf.convert_to_tensor(outputs, dtype_hint=self._dtype),
                      self._dtype)
    return self._output_likelihood(outputs)

  def _to_symbols(self, rounded):
    """Rounded float values -> int32, failing at run time if they do not fit."""
    # Casting NaN, infinities or values beyond int32 is undefined: refuse them (one
    # reduction; NaN fails the comparison too).
    limit = tf.constant(MAX_CODED_MAGNITUDE, rounded.dtype)
    check = tf.debugging.assert_less(
        tf.reduce_max(tf.abs(rounded)), limit,
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

  def _quantized_cdf(self, pmf, length):
    """CDF rows of probability tables plus an escape symbol each.

    Args:
      pmf: float32 `[R, W]`: row `r` holds the probabilities of its `length[r]`
        table values, then zeros.
      length: int32 `[R]`, each in `[0, W]`.

    Returns:
      int32 `[R, W + 2]`: the quantized CDF (`pmf_to_quantized_cdf`,
      `range_coder_precision` bits) of each row's values followed by the escape
      symbol, whose probability is the mass left outside the row
      (`1 - sum(pmf[r])`, at least `_MIN_ESCAPE_MASS`); the first
      `length[r] + 2` entries of row `r` are its CDF.
    """
    escape = tf.maximum(1. - tf.reduce_sum(pmf, axis=1), _MIN_ESCAPE_MASS)
    width = tf.shape(pmf)[1]
    pmf = tf.pad(pmf, [[0, 0], [0, 1]])
    pmf += tf.one_hot(length, width + 1) * escape[:, None]
    return range_coding_ops.pmf_to_quantized_cdf(pmf, self._range_coder_precision)

  def _add_table_variables(self, rows, vector_names, initial_tables=None):
    """Creates the coding table variables.

    Args:
      rows: number of CDF rows.
      vector_names: names of the int32 `[rows]` vectors after `cdf` (the first two
        must be "cdf_length" and "cdf_offset").
      initial_tables: None (all zero: "never updated", an update op fills them),
        or the table tensors (`cdf`, then the vectors) the variables start with;
        the fingerprint then starts as theirs.

    Creates `cdf` (int32 `[rows, None]`), the vectors, and `table_fingerprint`
    (int64 scalar, see `table_fingerprint`), in that order.
    """
    if initial_tables is None:
      initial_tables = [tf.zeros([rows, 0], tf.int32)] + [
          tf.zeros([rows], tf.int32) for _ in vector_names]
      fingerprint = tf.constant(0, tf.int64)
    else:
      fingerprint = table_fingerprint(self._range_coder_precision, *initial_tables)
    tables = [self.add_variable(
        "cdf", initial_tables[0], trainable=False,
        shape=tf.TensorShape([rows, None]))]
    for name, initial in zip(vector_names, initial_tables[1:]):
      tables.append(self.add_variable(name, initial, trainable=False))
    self._table_variables = tables
    self._table_fingerprint = self.add_variable(
        "table_fingerprint", fingerprint, trainable=False)

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

  def compress(self, inputs):
    """Rounds `inputs` and range codes them, one string per batch item.

    Args:
      inputs: float tensor `[B, ...]` (cast to the layer's dtype): for
        EntropyBottleneck of the layout it was built with (any batch and spatial
        sizes), for conditional models of `scale`'s shape (whose rank must be
        known when the graph is built). Values are rounded like `call(inputs,
        training=False)`; NaN, infinities and rounded values of magnitude
        2**31 - 128 or more fail at run time (InvalidArgumentError).

    Returns:
      tf.string `[B]`. With the index check on (conditional models given float
      scales), each string starts with the `INDEX_CHECK_BYTES`-byte check.
    """
    inputs = tf.convert_to_tensor(inputs, dtype_hint=self._dtype)
    with self.name_scope():
      self.maybe_build(inputs.shape)
      inputs = self._prepare_inputs(inputs, coding=True)
      with tf.name_scope("compress"):
        item = CodingItem(tf.shape(inputs)[1:], inputs.shape[1:].as_list(), None,
                          False)
        tables = self._coding_tables()
        index, batched = self._coding_index(tables, item)
        offset = self._coding_offset(tables, inputs.shape.rank)
        centred = inputs if offset is None else inputs - offset
        symbols = self._to_symbols(tf.round(centred))
        strings = self._encode(symbols, index, tables, batched_index=batched)
        if self._index_check:
          strings = self._with_index_check(strings, index)
        return strings

  def decompress(self, strings, shape=None, channels=None, return_exact=False):
    """Decodes strings made by `compress`.

    Args:
      strings: tf.string `[B]` (a tensor of unknown rank is checked at run time).
      shape: EntropyBottleneck: one item's shape, without the batch axis: list/tuple
        of ints or an int32 vector tensor (e.g. `tf.shape(y)[1:]`); its length may
        be statically unknown once the layer is built (checked at run time).
        Conditional models take the shape from `scale` (or `indexes`): None.
      channels: EntropyBottleneck: number of channels; only needed (and checked if
        given) when the layer is not built yet, e.g. in a graph that only
        decompresses. Conditional models: None.
      return_exact: if True, also return a bool `[B]` tensor telling, for each
        string, whether it was consumed exactly: it is exactly the encoding of the
        decoded values. False means a corrupted or truncated string (or, for
        EntropyBottleneck, a `shape` with too few elements). The strings do not
        store their length, so a `shape` with too MANY elements is not reliably
        detected (the last few decoded values may be "free"). This is not an
        integrity check: a damaged string can still be "exact" (it then decodes to
        other values). Use a checksum (the example file formats' CRC) for that.

    Returns:
      the layer's dtype (float32 unless set), `[B] + item shape`: equal to
      `call(y, training=False)[0]` for the `y` that was compressed; and with
      `return_exact`, the bool `[B]` tensor. With the index check on, running it
      fails (InvalidArgumentError) before anything is decoded when a string's
      check differs from the decoder's table indexes.
    """
    strings = self._string_vector(strings)
    if not isinstance(return_exact, (bool, np.bool_)):
      raise ValueError(f"`return_exact` must be a bool, got {return_exact!r}.")
    item = self._decode_item(shape, channels)
    with self.name_scope():
      if item.build_shape is not None:
        self.maybe_build(item.build_shape)
      with tf.name_scope("decompress"):
        tables = self._coding_tables()
        index, batched = self._coding_index(tables, item)
        if batched:
          check = tf.debugging.assert_equal(
              tf.size(strings), tf.shape(index)[0],
              message=(f"{self.name}: decompress needs one string per batch item of "
                       "`scale` (strings, batch size)"))
          with tf.control_dependencies([check]):
            index = tf.identity(index)
        if self._index_check:
          strings = self._without_index_check(strings, index)
        values, exact = self._decode(strings, index, tables, batched_index=batched,
                                     return_exact=True)
        outputs = tf.cast(values, self._dtype)
        rank = index.shape.rank
        offset = self._coding_offset(
            tables, None if rank is None else rank + (not batched))
        if offset is not None:
          outputs += offset
        outputs.set_shape(index.shape if batched
                          else strings.shape[:1].concatenate(index.shape))
        return (outputs, exact) if return_exact else outputs

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

  # -- Index check. ---------------------------------------------------------------

  def _index_check_bytes(self, index):
    """uint8 `[B, INDEX_CHECK_BYTES]`: the check of each item's table indexes.

    Byte 0 is INDEX_CHECK_VERSION; bytes 1.. are the low bytes, least significant
    first, of farmhash64 (`tf.fingerprint`) of the item's int32 indexes in row-major
    order, each as 4 bytes little-endian.
    """
    index = tf.cast(index, tf.int32)
    shape = tf.shape(index)
    batch = shape[0]
    data = tf.reshape(little_endian_bytes(tf.reshape(index, [-1])),
                      [batch, 4 * tf.reduce_prod(shape[1:])])
    hashed = tf.fingerprint(data)                                   # uint8 [B, 8]
    version = tf.fill([batch, 1], tf.constant(INDEX_CHECK_VERSION, tf.uint8))
    return tf.concat([version, hashed[:, :INDEX_CHECK_BYTES - 1]], axis=1)

  def _with_index_check(self, strings, index):
    """Puts the index check (`_index_check_bytes`) in front of each string."""
    with tf.name_scope("index_check"):
      check = self._index_check_bytes(index)
      byte_strings = tf.constant([bytes([b]) for b in range(256)])
      header = tf.strings.reduce_join(
          tf.gather(byte_strings, tf.cast(check, tf.int32)), axis=1)
      joined = tf.strings.join([header, strings])
      joined.set_shape(strings.shape)
      return joined

  def _without_index_check(self, strings, index):
    """Verifies each string's index check against `index` and strips it.

    Fails at run time (InvalidArgumentError) before anything is decoded when a
    string is too short, has another check version, or its check differs from
    `index` (the decoder's table indexes differ from the encoder's).
    """
    with tf.name_scope("index_check"):
      size = INDEX_CHECK_BYTES
      long_enough = tf.debugging.assert_greater_equal(
          tf.strings.length(strings), size,
          message=(f"{self.name}: a string is shorter than its {size}-byte index "
                   "check; it was not made by compress with the index check on"))
      with tf.control_dependencies([long_enough]):
        stored = tf.io.decode_raw(strings, tf.uint8, fixed_length=size)  # [B, 4]
      version_ok = tf.debugging.assert_equal(
          stored[:, 0], tf.constant(INDEX_CHECK_VERSION, tf.uint8),
          message=(f"{self.name}: unknown index check version (this library writes "
                   f"version {INDEX_CHECK_VERSION}); the strings were made with "
                   "another format or without the index check"))
      with tf.control_dependencies([version_ok]):
        expected = self._index_check_bytes(index)
      differs = tf.reduce_any(tf.not_equal(stored, expected), axis=1)
      mismatches = tf.cast(tf.reduce_sum(tf.cast(differs, tf.int32)), tf.int64)
      first = tf.cast(tf.argmax(tf.cast(differs, tf.int32), output_type=tf.int32),
                      tf.int64)
      same = tf.debugging.Assert(
          tf.logical_not(tf.reduce_any(differs)),
          [tf.strings.join([
              f"{self.name}: scale mismatch: the table indexes the decoder computed "
              "from its `scale` differ from the encoder's (index check of ",
              tf.strings.as_string(mismatches), " of ",
              tf.strings.as_string(tf.size(differs, out_type=tf.int64)),
              " strings, first at item ", tf.strings.as_string(first),
              "); decoding would give wrong values. The float scale network gave "
              "other values here (another CPU, oneDNN on/off, other thread "
              "count): compute integer table indexes on both sides (e.g. "
              "IntegerHyperSynthesis.scale_indexes) and pass them with `indexes=`."])],
          summarize=1)
      with tf.control_dependencies([same]):
        payload = tf.strings.substr(strings, size, -1)
      payload.set_shape(strings.shape)
      return payload


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
