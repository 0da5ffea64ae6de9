"""Entropy bottleneck: a learned, per-channel factorized prior with range coding.

Implements the "entropy bottleneck" of Ballé et al., "Variational image compression
with a scale hyperprior" (ICLR 2018, arXiv:1802.01436): during training, additive
uniform noise stands in for quantization and the layer returns the likelihood of its
outputs under a learned univariate density (one per channel); for actual compression
the outputs are rounded and range coded with integer CDF tables derived from the
density.
"""

import numpy as np
import tensorflow as tf

from compression.python.layers import entropy_model

__all__ = ["EntropyBottleneck"]

# Quantization offsets (per-channel medians) are kept in units of 2**-8, so that
# `integer + offset` is exact in float32 and the decoder needs integers only.
_OFFSET_FRACTION_BITS = 8
_OFFSET_SCALE = 2. ** _OFFSET_FRACTION_BITS
# Medians are clipped to +-2**22 before they become int32 offsets.
_MAX_OFFSET = 2. ** 22
# Ends of the coded ranges are searched within +-2**30 symbols (int32-safe; far
# beyond any range a 16-bit table can hold), with at most _SEARCH_STEPS steps of
# bracket doubling and as many of bisection (2**_SEARCH_STEPS > 2**31).
_MAX_RANGE_END = 2 ** 30
_SEARCH_STEPS = 32

_is_int = entropy_model.is_int
_is_number = entropy_model.is_number


class EntropyBottleneck(entropy_model.EntropyModel):
  """Quantizes its input and models the result with a learned factorized density.

  Layout: inputs are float tensors of static rank >= 2, batch first, with a static
  channel count `C` on the last axis ("channels_last") or axis 1 ("channels_first").
  Every channel has its own density, shared by all other positions.

  Density: per channel, the "deep factorized" model of Ballé et al. 2018 (appendix
  6.1): a cumulative function `c(x) = sigmoid(logits_cumulative(x))`, where
  `logits_cumulative` is a chain of per-channel affine maps
  `x <- softplus(H_k) @ x + b_k` of widths `1 -> filters... -> 1`, each but the last
  followed by `x <- x + tanh(a_k) * tanh(x)`. Positive matrices and `|tanh(a_k)| < 1`
  make `c` monotonic. The likelihood of a value `y` is the mass `c(y + .5) - c(y - .5)`.

  Quantization (`quantize(inputs, mode)`, modes "noise", "dequantize", "symbols"):
  `call(inputs, training=True)` adds uniform noise from [-.5, .5);
  `training=False` rounds around each channel's median:
  `round(inputs - m_c) + m_c` (`tf.round`, ties to even), where `m_c` is the learned
  median (`quantiles[c, 0, 1]`) rounded to a multiple of 2**-8. Training with noise
  gives the density no reason to sit on the integer grid; centring the grid on the
  median keeps a narrow density in one bin (on MNIST this saves about 2 bits per
  digit over plain rounding). The offsets are saved as int32 multiples of 2**-8 by the
  update op, so the decoder still needs integers only: it outputs `k + m_c`, exact in
  float32. With `optimize_integer_offset=False` the offsets are 0: plain integer
  rounding, as in the 2018 paper.

  Coding: after training, run the update op `layer.updates[0]`. It writes, into
  non-trainable int32 variables, for each channel `c` an integer range
  `[lower_c, upper_c]` covering all but `tail_mass` of the density (found on the
  learned cumulative itself by bisection; the `quantiles` only bracket the search, so
  the tables do not depend on the aux loss having converged), narrowed at both ends past values of probability below
  `2**-range_coder_precision` (they would cost more inside the table than through the
  escape), and a quantized CDF of `K_c = upper_c - lower_c + 1` symbols plus an
  escape symbol. `compress` codes each rounded value `v` as symbol `v - lower_c` when it
  lies in the range, otherwise as the escape symbol followed by `v` itself, so coding is
  lossless for any int32 value. `compress` and `decompress` use only these tables, so a
  decoder only needs them from the checkpoint.

  Fingerprint: the update op also writes `table_fingerprint`, an int64 hash of the
  tables and the precision (farmhash64 of their bytes, see
  `entropy_model.table_fingerprint`).
  `compress`, `decompress` and `fingerprint()` recompute it from the table variables
  once per run and fail (InvalidArgumentError) when it differs from the stored one: a
  checkpoint whose tables were altered is refused instead of decoding other values.
  File formats store `fingerprint()` to refuse decoding with other tables.

  Auxiliary loss: `layer.losses[0]` fits the `quantiles` variable (shape `[C, 1, 3]`)
  so that `c(quantiles) = (tail_mass / 2, 1/2, 1 - tail_mass / 2)`. It has gradients
  only with respect to the quantiles (`layer.quantile_variables`); minimize it along
  with the main loss, typically with its own optimizer. The fitted medians are the
  quantization offsets (rounding and coding are centred on them) and the tail
  quantiles the starting bracket of the update op's search (accurate ones make it
  short); the coded range itself does not depend on them.

  Example (graph mode):
    eb = EntropyBottleneck()
    y_tilde, likelihoods = eb(y, training=True)      # float32, shape of y
    bits = tf.reduce_sum(-tf.math.log(likelihoods)) / np.log(2.)
    aux_loss = eb.losses[0]
    ... train, then sess.run(eb.updates[0]), save a checkpoint.
    strings = eb.compress(y)                          # tf.string [B]
    y_hat = eb.decompress(strings, tf.shape(y)[1:])   # float32, shape of y
  """

  def __init__(self, init_scale=10., filters=(3, 3, 3), tail_mass=1e-9,
               likelihood_bound=1e-9, range_coder_precision=16,
               data_format="channels_last", optimize_integer_offset=True, name=None,
               dtype=None, trainable=True, **kwargs):
    """Initializer.

    Args:
      init_scale: float > 0, initial width of the density (in quantization bins);
        also the initial distance of the tail quantiles from 0.
      filters: tuple of positive ints, widths of the hidden layers of the density
        model; `()` gives a logistic density.
      tail_mass: float in (0, 1), total probability of the two tails left outside
        the coded range (values there are escape coded).
      likelihood_bound: float >= 0, lower bound applied to likelihoods (0: none).
      range_coder_precision: int in [1, 16], number of bits of the CDF tables.
      data_format: "channels_last" or "channels_first".
      optimize_integer_offset: bool; True rounds around each channel's median,
        False to plain integers (offsets 0).
      name: layer name (default "entropy_bottleneck", uniquified by the graph).
      dtype: None or float32 (other dtypes are refused with a ValueError).
      trainable: bool; False keeps every variable out of TRAINABLE_VARIABLES.
      **kwargs: the other layer keywords a 1.x script may pass
        (`activity_regularizer`, ..., see `base.Layer`).
    """
    super().__init__(tail_mass, likelihood_bound, range_coder_precision, name=name,
                     dtype=dtype, trainable=trainable, **kwargs)
    if not _is_number(init_scale) or not 0 < init_scale < float("inf"):
      raise ValueError(f"`init_scale` must be a positive number, got {init_scale!r}.")
    try:
      filters = tuple(filters)
    except TypeError:
      raise ValueError(
          f"`filters` must be a sequence of positive ints, got {filters!r}.") from None
    if not all(_is_int(f) and f > 0 for f in filters):
      raise ValueError(
          f"`filters` must be a sequence of positive ints, got {filters!r}.")
    if data_format not in ("channels_last", "channels_first"):
      raise ValueError(
          "`data_format` must be 'channels_last' or 'channels_first', got "
          f"{data_format!r}.")
    if not isinstance(optimize_integer_offset, (bool, np.bool_)):
      raise ValueError("`optimize_integer_offset` must be a bool, got "
                       f"{optimize_integer_offset!r}.")
    self._init_scale = float(init_scale)
    self._filters = tuple(int(f) for f in filters)
    self._data_format = data_format
    self._optimize_integer_offset = bool(optimize_integer_offset)
    self._rank = None
    self._channels = None

  # -- Read-only configuration. ---------------------------------------------------

  @property
  def init_scale(self):
    return self._init_scale

  @property
  def filters(self):
    return self._filters

  @property
  def data_format(self):
    return self._data_format

  @property
  def optimize_integer_offset(self):
    return self._optimize_integer_offset

  @property
  def channels(self):
    """Number of channels `C` (None before the layer is built)."""
    return self._channels

  @property
  def quantile_variables(self):
    """The variables the auxiliary loss trains: `[quantiles]` (float32 `[C, 1, 3]`)."""
    self._assert_built("quantile_variables")
    return [self._quantiles]

  @property
  def density_variables(self):
    """The density parameters (matrices, biases, factors), trained by the main loss."""
    self._assert_built("density_variables")
    return self._matrices + self._biases + self._factors

  # -- Building. ------------------------------------------------------------------

  def _channel_axis(self, rank):
    return 1 if self._data_format == "channels_first" else rank - 1

  def _build(self, input_shape):
    rank = input_shape.rank
    if rank is None or rank < 2:
      raise ValueError(
          f"{self.name}: inputs must have a static rank >= 2 (batch first), got shape "
          f"{input_shape}.")
    channels = tf.compat.dimension_value(input_shape[self._channel_axis(rank)])
    if channels is None:
      raise ValueError(
          f"{self.name}: the channel axis ({self._data_format}) of the inputs must "
          f"have a static size, got shape {input_shape}.")
    self._rank = rank
    self._channels = channels = int(channels)

    widths = (1,) + self._filters + (1,)
    scale = self._init_scale ** (1 / (len(self._filters) + 1))
    self._matrices, self._biases, self._factors = [], [], []
    for i, (f_in, f_out) in enumerate(zip(widths[:-1], widths[1:])):
      # softplus(H) = 1 / scale / f_out: the chain of matrices scales by init_scale.
      init = np.log(np.expm1(1 / scale / f_out))
      self._matrices.append(self.add_variable(
          f"matrix_{i}",
          tf.fill([channels, f_out, f_in], tf.constant(init, tf.float32))))
      self._biases.append(self.add_variable(
          f"bias_{i}", tf.random.uniform([channels, f_out, 1], -.5, .5)))
      if i < len(self._filters):
        self._factors.append(self.add_variable(
            f"factor_{i}", tf.zeros([channels, f_out, 1])))

    quantiles = [-self._init_scale, 0., self._init_scale]
    self._quantiles = self.add_variable(
        "quantiles", tf.tile(tf.constant([[quantiles]], tf.float32), [channels, 1, 1]))

    # Integer coding tables, written by the update op (see `_make_update_op`). All
    # zero until then: a cdf_length of 0 marks the tables as empty. Then the 64-bit
    # hash of the four tables and the precision, `table_fingerprint` (0 until then).
    self._add_table_variables(
        channels, ("cdf_length", "cdf_offset", "quantization_offset"))

    self.add_loss(self._make_aux_loss())
    self.add_update(self._make_update_op())

  # -- Density. -------------------------------------------------------------------

  def logits_cumulative(self, inputs, stop_gradient=False):
    """Logit of the cumulative distribution function of each channel.

    Args:
      inputs: float32 `[C, 1, N]`: N values per channel.
      stop_gradient: if True, no gradient flows to the density parameters (only
        to `inputs`).

    Returns:
      float32 `[C, 1, N]`: `logit(P(Y_c <= inputs[c, 0, n]))` (nats of odds).
    """
    self._assert_built("logits_cumulative")
    return self._logits_cumulative(inputs, stop_gradient)

  def _logits_cumulative(self, inputs, stop_gradient=False):
    def param(value):
      return tf.stop_gradient(value) if stop_gradient else value

    logits = inputs
    for i, (matrix, bias) in enumerate(zip(self._matrices, self._biases)):
      logits = tf.linalg.matmul(param(tf.nn.softplus(matrix)), logits)
      logits += param(tf.convert_to_tensor(bias))
      if i < len(self._factors):
        logits += param(tf.tanh(self._factors[i])) * tf.tanh(logits)
    return logits

  def _likelihood(self, values):
    """Probability mass of `[values - .5, values + .5]`: float32 `[C, 1, N]`."""
    lower = self._logits_cumulative(values - .5)
    upper = self._logits_cumulative(values + .5)
    # Subtract in the tail where both sigmoids are far from 1, for accuracy: flip the
    # sign of the logits when their midpoint is above the median.
    sign = tf.stop_gradient(tf.where(lower + upper > 0, -1., 1.))
    return self._bound_likelihood(
        tf.abs(tf.sigmoid(sign * upper) - tf.sigmoid(sign * lower)))

  def _make_aux_loss(self):
    """Sum of |logits_cumulative(quantiles) - target| over channels and quantiles."""
    with tf.name_scope("aux_loss"):
      tail = np.log(2 / self._tail_mass - 1)
      target = tf.constant([-tail, 0., tail], tf.float32)
      logits = self._logits_cumulative(self._quantiles, stop_gradient=True)
      return tf.reduce_sum(tf.abs(logits - target))

  # -- Layout helpers. ------------------------------------------------------------

  def _prepare_inputs(self, inputs, coding=False):
    """Converts to float32 and checks rank and channel count against the build."""
    inputs = super()._prepare_inputs(inputs, coding)
    self._check_shape(inputs.shape, "inputs")
    return inputs

  def _check_shape(self, shape, what):
    """Raises ValueError unless `shape` ([B] + element shape) matches the build."""
    if shape.rank != self._rank:
      raise ValueError(
          f"{self.name}: expected {what} of rank {self._rank} (the rank the layer was "
          f"built with), got shape {shape}.")
    channels = tf.compat.dimension_value(shape[self._channel_axis(self._rank)])
    if channels is not None and channels != self._channels:
      raise ValueError(
          f"{self.name}: expected {self._channels} channels on axis "
          f"{self._channel_axis(self._rank)} ({self._data_format}) of {what}, got "
          f"{channels} (shape {shape}).")

  def _to_channel_major(self, tensor):
    """`[B, ...]` tensor -> (`[C, 1, N]` tensor, function undoing the change)."""
    rank = tensor.shape.rank
    axis = self._channel_axis(rank)
    perm = [axis] + [i for i in range(rank) if i != axis]
    transposed = tf.transpose(tensor, perm)
    transposed_shape = tf.shape(transposed)
    inverse_perm = np.argsort(perm).tolist()

    def undo(values):
      return tf.transpose(tf.reshape(values, transposed_shape), inverse_perm)

    return tf.reshape(transposed, [self._channels, 1, -1]), undo

  def _per_channel(self, vector, rank):
    """Reshapes `[C]` to broadcast along the channel axis of a rank-`rank` tensor."""
    axis = self._channel_axis(rank)
    return tf.reshape(vector, [self._channels if i == axis else 1 for i in range(rank)])

  def _median_offset(self):
    """Per-channel quantization offsets from the live medians: float32 `[C]`.

    Zeros with `optimize_integer_offset=False`.
    """
    if not self._optimize_integer_offset:
      return tf.zeros([self._channels])
    median = tf.clip_by_value(self._quantiles[:, 0, 1], -_MAX_OFFSET, _MAX_OFFSET)
    return tf.round(median * _OFFSET_SCALE) / _OFFSET_SCALE

  def _channel_index(self, element_shape, ndim):
    """int32 tensor of `element_shape` (rank `ndim`) holding each element's channel."""
    axis = self._channel_axis(ndim + 1) - 1
    ids = tf.reshape(tf.range(self._channels, dtype=tf.int32),
                     [self._channels if i == axis else 1 for i in range(ndim)])
    return tf.broadcast_to(ids, element_shape)

  # -- Training / evaluation (`call` is the base's). -------------------------------

  def _output_likelihood(self, outputs):
    """Likelihoods of `outputs` (the layer's layout) under the channels' densities."""
    values, undo = self._to_channel_major(outputs)
    likelihoods = undo(self._likelihood(values))
    likelihoods.set_shape(outputs.shape)
    return likelihoods

  def _quantization_offset(self, inputs):
    """The live per-channel offsets, shaped to broadcast against `inputs`."""
    if not self._optimize_integer_offset:
      return None
    return self._per_channel(self._median_offset(), inputs.shape.rank)

  def quantize(self, inputs, mode):
    """See `EntropyModel.quantize`; the offsets are the live (rounded) medians.

    `compress` and `decompress` use the offsets saved by the update op instead
    (the same values once it has run).
    """
    if self.built:
      inputs = self._prepare_inputs(inputs)
    else:
      inputs = tf.convert_to_tensor(inputs, dtype_hint=tf.float32)
      with self.name_scope():
        self.maybe_build(inputs.shape)
    return super().quantize(inputs, mode)

  def visualize(self, name="densities", points=1000):
    """TensorBoard image summary of the learned densities (one row per channel).

    Each row of the image is one channel's likelihood over `points` evenly spaced
    values between the smallest lower and the largest upper tail quantile, scaled
    to the row's maximum (white = highest).

    Returns:
      The summary op (tf.string scalar, `tf.compat.v1.summary.image`), also added
      to the SUMMARIES collection.
    """
    self._assert_built("visualize")
    with self.name_scope(), tf.name_scope("visualize"):
      low = tf.reduce_min(self._quantiles[:, 0, 0])
      high = tf.reduce_max(self._quantiles[:, 0, 2])
      grid = tf.linspace(low, high, points)
      values = tf.tile(grid[None, None, :], [self._channels, 1, 1])
      density = self._likelihood(values)[:, 0, :]                     # [C, points]
      density /= tf.reduce_max(density, axis=1, keepdims=True)
      image = tf.cast(tf.round(255. * density), tf.uint8)[None, :, :, None]
      return tf.compat.v1.summary.image(name, image, max_outputs=1)

  # -- Range coding. --------------------------------------------------------------

  def _make_update_op(self):
    """Op computing the integer coding tables from the density (see the class doc)."""
    with tf.name_scope("update_tables"):
      quantiles = tf.debugging.assert_all_finite(
          tf.convert_to_tensor(self._quantiles),
          f"{self.name}: quantiles are not finite; cannot build coding tables.")
      offset = self._median_offset()                                     # [C]
      lower, upper = self._coded_range(quantiles, offset)
      return self._assign_tables(self._tables_for_range(lower, upper, offset))

  def _coded_range(self, quantiles, offset):
    """Per channel, the integer range holding all but `tail_mass` of the density.

    Symbols are `v = round(y - offset)`. The range is found on the learned cumulative
    `c` itself, not taken from the quantiles: `lower` is the largest integer with
    `c(lower + offset - .5) <= tail_mass / 2` and `upper` the smallest with
    `1 - c(upper + offset + .5) <= tail_mass / 2` (compared as logits). The quantiles
    only give the starting bracket: accurate ones make the search short, wrong ones
    make it longer (the bracket grows geometrically), never wrong.

    Args:
      quantiles: float32 `[C, 1, 3]`, finite.
      offset: float32 `[C]`, the quantization offsets.

    Returns:
      `(lower, upper)`: int64 `[C]` each, within +-2**30. A channel whose tail lies
      beyond +-2**30 gets that limit (and fails the length check of the caller).
    """
    target = np.log(2 / self._tail_mass - 1)  # logit(1 - tail_mass / 2)
    sign = tf.constant([-1., 1.])             # lower end, upper end
    edge = tf.constant([-.5, .5])

    def outside(values):
      """bool `[C, 2]`: whether the tail beyond each value is small enough."""
      points = tf.cast(values, tf.float32) + offset[:, None] + edge
      logits = self._logits_cumulative(points[:, None, :], stop_gradient=True)
      return sign * logits[:, 0, :] >= target

    # Bracket per channel and end: `outer` satisfies `outside`, `inner` does not,
    # where the density is well placed (symbols 0 are at its median).
    outer = tf.stack([
        tf.minimum(tf.floor(quantiles[:, 0, 0] - offset), -1.),
        tf.maximum(tf.math.ceil(quantiles[:, 0, 2] - offset), 1.)], axis=1)
    outer = tf.cast(tf.clip_by_value(outer, -_MAX_RANGE_END, _MAX_RANGE_END), tf.int64)
    inner = tf.zeros_like(outer)

    def expand(outer, inner):
      # Move a failing end away from the other end: the bracket doubles.
      new_outer = tf.where(outside(outer), outer, 2 * outer - inner)
      new_inner = tf.where(outside(inner), 2 * inner - outer, inner)
      return (tf.clip_by_value(new_outer, -_MAX_RANGE_END, _MAX_RANGE_END),
              tf.clip_by_value(new_inner, -_MAX_RANGE_END, _MAX_RANGE_END))

    def bracketing(outer, inner):
      return tf.reduce_any(
          tf.logical_or(tf.logical_not(outside(outer)), outside(inner)))

    outer, inner = tf.while_loop(
        bracketing, expand, (outer, inner), maximum_iterations=_SEARCH_STEPS)

    def halve(outer, inner):
      middle = tf.math.floordiv(outer + inner, 2)
      is_outside = outside(middle)
      return (tf.where(is_outside, middle, outer),
              tf.where(is_outside, inner, middle))

    def wide(outer, inner):
      return tf.reduce_any(tf.abs(outer - inner) > 1)

    outer, _ = tf.while_loop(wide, halve, (outer, inner),
                             maximum_iterations=_SEARCH_STEPS)
    return outer[:, 0], tf.maximum(outer[:, 1], outer[:, 0])

  def _tables_for_range(self, lower, upper, offset):
    """Coding tables of the symbol ranges `[lower, upper]` (trimmed, plus an escape).

    Args:
      lower, upper: int64 `[C]`, the range of symbols per channel (upper >= lower).
      offset: float32 `[C]`, the quantization offsets.

    Returns:
      `(cdf, cdf_length, cdf_offset, quantization_offset)`: int32 `[C, W]`, `[C]`,
      `[C]`, `[C]` (multiples of 2**-8), the values of the table variables. Fails
      at run time if a range has too many values for the precision.
    """
    length = upper - lower + 1                                          # [C], K_c
    # Each of the K_c + 1 symbols needs at least one of the 2**precision counts.
    check = tf.debugging.assert_less_equal(
        length + 1, tf.constant(2 ** self._range_coder_precision, tf.int64),
        message=(
            f"{self.name}: the coded range of a channel (all but tail_mass="
            f"{self._tail_mass:g} of its density) has too many values for "
            f"range_coder_precision={self._range_coder_precision}; the density is "
            "too wide for the precision (or not finite)"))
    with tf.control_dependencies([check]):
      lower = tf.cast(lower, tf.int32)
      length = tf.cast(length, tf.int32)
    max_length = tf.reduce_max(length)

    # Likelihoods of lower_c + [0, K_max), zero beyond K_c: [C, K_max]. They are
    # the layer's likelihoods, so at least likelihood_bound: every value in the
    # range gets a positive probability, hence a codable (non-empty) bin.
    steps = tf.range(max_length)
    grid = tf.cast(lower[:, None] + steps, tf.float32) + offset[:, None]
    pmf = self._likelihood(grid[:, None, :])[:, 0, :]
    pmf = tf.where(steps < length[:, None], pmf, 0.)
    lower, length, pmf = self._trim_tails(lower, length, pmf)

    # Row c: K_c probabilities, the escape symbol: [C, K_max + 2].
    cdf = self._quantized_cdf(pmf, length)
    return cdf, length + 2, lower, tf.cast(offset * _OFFSET_SCALE, tf.int32)

  def _trim_tails(self, lower, length, pmf):
    """Leaves tail values whose probability is below one count to the escape symbol.

    Every symbol of a table gets at least one of the 2**precision counts, so a value
    of probability p < 2**-precision in the table takes more than its share from the
    others (with the default tail_mass of 1e-9 a wide channel has hundreds of them,
    costing about 0.05% of the rate). Cutting such values from both ends of each
    channel's range costs less: they stay codable, through the escape.

    Args:
      lower: int32 `[C]`, first value of each channel's range.
      length: int32 `[C]`, number of values in each range (>= 1).
      pmf: float32 `[C, K_max]`, their probabilities, zero past `length`.

    Returns:
      `(lower, length, pmf)` for the trimmed ranges; `pmf` keeps its width.
    """
    width = tf.shape(pmf)[1]
    steps = tf.range(width)
    keep = pmf >= 2. ** -self._range_coder_precision
    # A channel with no value above the threshold keeps its whole range.
    keep = tf.where(tf.reduce_any(keep, axis=1, keepdims=True), keep,
                    steps < length[:, None])
    first = tf.argmax(tf.cast(keep, tf.int32), axis=1, output_type=tf.int32)
    last = width - 1 - tf.argmax(
        tf.cast(keep[:, ::-1], tf.int32), axis=1, output_type=tf.int32)
    new_length = last - first + 1
    shifted = tf.gather(pmf, tf.minimum(first[:, None] + steps, width - 1),
                        batch_dims=1)
    shifted = tf.where(steps < new_length[:, None], shifted, 0.)
    return lower + first, new_length, shifted

  # -- Coding (`compress` and `decompress` are the base's). ------------------------

  def _decode_item(self, shape, channels):
    """The item of `decompress(strings, shape, channels)` (see the base's doc)."""
    static_shape, shape = _element_shape(
        shape, None if not self.built else self._rank - 1)
    ndim = len(static_shape)
    if channels is not None and not (_is_int(channels) and channels > 0):
      raise ValueError(f"`channels` must be a positive int, got {channels!r}.")
    if channels is not None and self.built and channels != self._channels:
      raise ValueError(
          f"{self.name}: `channels`={channels} but the layer was built with "
          f"{self._channels} channels.")
    if self.built:
      build_shape = None
    elif channels is None:
      raise ValueError(
          f"{self.name}: the layer is not built; pass `channels` to decompress "
          "(or call/compress first).")
    else:
      build_shape = [None] * (ndim + 1)
      build_shape[self._channel_axis(ndim + 1)] = channels
    return entropy_model.CodingItem(shape, static_shape, build_shape, True)

  def _coding_index(self, tables, item):
    """Each element's channel, one item's shape (shared by the batch)."""
    del tables  # One CDF row per channel.
    ndim = len(item.static)
    if item.from_arguments:
      self._check_shape(tf.TensorShape([None] + item.static), "[batch] + shape")
      axis = self._channel_axis(ndim + 1) - 1
      checks = [tf.debugging.assert_equal(
          item.shape[axis], self._channels,
          message=f"{self.name}: `shape` has the wrong number of channels")]
      with tf.control_dependencies(checks):
        index = self._channel_index(item.shape, ndim)
      index.set_shape(item.static)
    else:
      index = self._channel_index(item.shape, ndim)
    return index, False

  def _coding_offset(self, tables, rank):
    """The quantization offsets saved with the tables, shaped for `rank`."""
    return self._saved_offset(tables[3], rank)

  def _saved_offset(self, quantization_offset, rank):
    """int32 `[C]` saved offsets (units of 2**-8) -> float32, shaped for `rank`."""
    return self._per_channel(
        tf.cast(quantization_offset, tf.float32) / _OFFSET_SCALE, rank)


def _element_shape(shape, ndim=None):
  """Returns (static shape list with None for unknown sizes, int32 vector tensor).

  `ndim`: the expected length, used (and checked at run time) when the tensor's
  static length is unknown; None requires a static length.
  """
  if isinstance(shape, tf.TensorShape):
    shape = shape.as_list()
  if isinstance(shape, (list, tuple, np.ndarray)):
    shape = list(shape)
    if not all(_is_int(s) and s >= 0 for s in shape):
      raise ValueError(f"`shape` must hold non-negative ints, got {shape!r}.")
    return [int(s) for s in shape], tf.constant(shape, tf.int32, shape=[len(shape)])
  shape = tf.convert_to_tensor(shape)
  length = None if shape.shape.rank != 1 else tf.compat.dimension_value(shape.shape[0])
  if shape.dtype not in (tf.int32, tf.int64) or shape.shape.rank not in (1, None) or (
      length is None and ndim is None):
    raise ValueError(
        "`shape` must be a list of ints or an integer vector tensor (of static "
        f"length unless the layer is built), got {shape!r}.")
  shape = tf.cast(shape, tf.int32)
  if length is None:
    check = tf.debugging.assert_equal(
        tf.size(shape), ndim,
        message=f"`shape` must have {ndim} elements (one item's shape, no batch axis)")
    with tf.control_dependencies([check]):
      shape = tf.identity(shape)
    shape.set_shape([ndim])
  static = tf.get_static_value(shape)
  if static is None:
    return [None] * tf.compat.dimension_value(shape.shape[0]), shape
  return [int(s) for s in static], shape
