"""`IntegerSliceScales`: scales conditioned on the previous slices, bit-exact.

With channel-conditional entropy models (Minnen & Singh 2020; `ChannelConditional`
holds the means) the scales of slice `k` may also depend on the slices before it.
The decoder must then compute slice k's scale table indexes from what it decoded,
and they must be the encoder's on every machine, or the rest of the string decodes
to garbage. This layer computes them in exact integer arithmetic from integer
inputs only: the hyperprior's fixed-point features (e.g.
`IntegerHyperSynthesis.integer_features(z_hat)`) and the symbols (integers) of the
first `min(k, max_previous_slices)` slices. Training uses the same network in
floating point on the float features (`IntegerHyperSynthesis.features(z_tilde)`)
and the noisy symbols (`y_tilde - mean`).

Network of slice `k` (`M` = S slices of `C` channels, `F` feature channels): stride-1
2-D convolutions ("same" padding, NHWC) of `hidden_channels` then `C` filters, ReLU
after every hidden layer; input `concat(features, clip(symbols_0, +-2**10), ...,
clip(symbols_{j-1}, +-2**10))`, `j = min(k, max_previous_slices)`; the last output
`h` gives the scales `exp(min(h, log(scale_table[-1]) + 4))`.

Integer path: the rules of integer_hyper_synthesis.py with every input in
ACTIVATION_FRACTION_BITS (12) fraction bits: the features as they are (integers
`value * 2**12` in `[0, 2**22]`, as `integer_features` gives them), the symbols
clipped to `+-2**10` times `2**12`; per layer `K = round(kernel * 2**e)` (`|K| <
2**14`, `e <= 40`), the bias in the accumulator's fixed point, hidden activations
`clip(floor(acc / 2**(12 + e - 12)), 0, 2**22)`, and the last layer's `acc` compared
with `ceil(log(scale_table) * 2**(12 + e))`. Every sum is of integers below 2**53 in
float64 (the update op checks it), hence exact in any order, on any machine.

Coding slice by slice: slice k's symbols go in a string of their own, coded with
`GaussianConditional(None, indexes=layer.scale_indexes(features, symbols, k))`; the
decoder decodes slice 0 (its indexes depend on the features only), then slice 1 from
the indexes of slice 0's symbols, and so on (`tests/test_integer_slice_scales.py`).

Variables (`tf.compat.v1.get_variable` under `tf.compat.v1.variable_scope(name)`,
default "slice_scales"), for slice `k`:
  `<name>/slice_<k>/conv_<i>/kernel`       float32 `[size, size, C_in, C_out]` (glorot)
  `<name>/slice_<k>/conv_<i>/bias`         float32 `[C_out]` (zeros)
  `<name>/slice_<k>/conv_<i>/kernel_int`   float64 integers (non-trainable)
  `<name>/slice_<k>/conv_<i>/bias_int`     float64 integers (non-trainable)
  `<name>/slice_<k>/conv_<i>/weight_bits`  int32 scalar (non-trainable)
  `<name>/slice_<k>/scale_thresholds`      float64 `[T]` integers (non-trainable)
Run `update_op()` after training, before saving; the coders read the integer
tables from the checkpoint.
"""

import math

import tensorflow as tf

from compression.python.layers import channel_conditional
from compression.python.layers import conditional_models
from compression.python.layers import entropy_model
from compression.python.layers import integer_hyper_synthesis as ihs

__all__ = ["IntegerSliceScales"]

v1 = tf.compat.v1

_FRACTION_BITS = ihs.ACTIVATION_FRACTION_BITS
_SYMBOL_BOUND = ihs.MAX_INPUT_MAGNITUDE   # |symbols| are clipped to this
_SCALE_HEADROOM = 4.


class IntegerSliceScales(channel_conditional.SliceLayout):
  """Scales of slice k from features and the first slices' symbols, float and integer.

  See the module doc. Shapes: `features` `[B, h, w, F]` (float32 for `scales`;
  integer values `value * 2**12` held in float64 or an integer dtype for
  `scale_indexes`), `symbols` `[B, h, w, M]` (float32 noisy symbols for `scales`,
  integers for `scale_indexes`), all NHWC with static channels. `scales` returns
  float32 `[B, h, w, M]` (quantization bins of `y`), `scale_indexes` int32
  `[B, h, w, C]` for one slice or `[B, h, w, M]` for all.

  Args:
    num_slices: S, an int >= 1 dividing `latent_channels`.
    latent_channels: M.
    feature_channels: F, the channels of the features.
    hidden_channels: sequence of ints >= 1 (default `(ceil(2 M / 3), ceil(M / 3))`).
    kernel_size: int >= 1 (default 3).
    max_previous_slices: None (all) or an int >= 0: slice k sees the symbols of
      the first `min(k, max_previous_slices)` slices.
    scale_table: the conditional model's table (default `default_scale_table()`).
    name: the variable scope (default "slice_scales").
  """

  def __init__(self, num_slices, latent_channels, feature_channels,
               hidden_channels=None, kernel_size=3, max_previous_slices=None,
               scale_table=None, name="slice_scales"):
    super().__init__(num_slices, latent_channels, hidden_channels, kernel_size,
                     max_previous_slices, name)
    self._feature_channels = channel_conditional.positive_int(
        feature_channels, "feature_channels")
    if scale_table is None:
      scale_table = conditional_models.default_scale_table()
    self._scale_table = ihs.checked_scale_table(scale_table)
    self._slices = None   # per slice: {"float": [...], "integer": [...], "thresholds"}
    self._update = None

  # -- Configuration. ---------------------------------------------------------------

  @property
  def feature_channels(self):
    """F, the channels of the features."""
    return self._feature_channels

  @property
  def scale_table(self):
    """The scale table, a tuple of Python floats."""
    return self._scale_table

  @property
  def variables(self):
    """All variables, slice by slice (empty before the first call)."""
    out = []
    for s in self._slices or []:
      for f, i in zip(s["float"], s["integer"]):
        out += list(f) + list(i)
      out.append(s["thresholds"])
    return out

  @property
  def trainable_variables(self):
    """The float kernels and biases."""
    return [v for s in self._slices or [] for pair in s["float"] for v in pair]

  # -- Building. ----------------------------------------------------------------------

  def _build(self):
    if self._built_here():
      return
    c = self.slice_channels
    slices = []
    with v1.variable_scope(self._name):
      for k in range(self._num_slices):
        inputs = self._feature_channels + c * self.support_slices(k)
        floats, integers = [], []
        for i, out in enumerate(self._hidden_channels + (c,)):
          shape = [self._kernel_size, self._kernel_size, inputs, out]
          with v1.variable_scope(f"slice_{k}/conv_{i}"):
            floats.append((
                v1.get_variable("kernel", shape, tf.float32,
                                initializer=v1.glorot_uniform_initializer()),
                v1.get_variable("bias", [out], tf.float32,
                                initializer=v1.zeros_initializer())))
            integers.append(tuple(
                v1.get_variable(n, s, d, trainable=False,
                                initializer=v1.zeros_initializer())
                for n, s, d in (("kernel_int", shape, tf.float64),
                                ("bias_int", [out], tf.float64),
                                ("weight_bits", [], tf.int32))))
          inputs = out
        with v1.variable_scope(f"slice_{k}"):
          thresholds = v1.get_variable(
              "scale_thresholds", [len(self._scale_table)], tf.float64,
              trainable=False, initializer=v1.zeros_initializer())
        slices.append({"float": floats, "integer": integers,
                       "thresholds": thresholds})
    self._slices = slices

  # -- Checks. ------------------------------------------------------------------------

  def _input(self, value, channels, what, float_only):
    tensor = tf.convert_to_tensor(value)
    if float_only and tensor.dtype != tf.float32:
      raise ValueError(f"{self._name}: `{what}` must be float32, got dtype "
                       f"{tensor.dtype.name}.")
    if not (tensor.dtype.is_integer or tensor.dtype.is_floating):
      raise ValueError(f"{self._name}: `{what}` must be numbers, got dtype "
                       f"{tensor.dtype.name}.")
    if (tensor.shape.rank != 4
        or tf.compat.dimension_value(tensor.shape[-1]) != channels):
      raise ValueError(f"{self._name}: `{what}` must be [B, h, w, {channels}] "
                       f"(NHWC), got shape {tensor.shape}.")
    return tensor

  def _slice_range(self, k):
    if k is None:
      return range(self._num_slices)
    if not entropy_model.is_int(k) or not 0 <= k < self._num_slices:
      raise ValueError(f"{self._name}: `k` must be a slice in 0..{self._num_slices - 1}"
                       f" or None, got {k!r}.")
    return [int(k)]

  def _support(self, features, symbols, k):
    c = self.slice_channels
    return tf.concat([features, symbols[..., :c * self.support_slices(k)]], -1)

  # -- Float path. --------------------------------------------------------------------

  def scales(self, features, symbols):
    """Float path (training): float32 `[B, h, w, M]` scales of every slice.

    Args:
      features: float32 `[B, h, w, F]` (e.g. `IntegerHyperSynthesis.features`).
      symbols: float32 `[B, h, w, M]`, e.g. `y_tilde - mean` (slice k's scales use
        only the first slices' channels).
    """
    features = self._input(features, self._feature_channels, "features", True)
    symbols = self._input(symbols, self._latent_channels, "symbols", True)
    self._build()
    symbols = tf.clip_by_value(symbols, -_SYMBOL_BOUND, _SYMBOL_BOUND)
    cap = math.log(self._scale_table[-1]) + _SCALE_HEADROOM
    out = []
    for k, s in enumerate(self._slices):
      h = self._support(features, symbols, k)
      for i, (kernel, bias) in enumerate(s["float"]):
        h = tf.nn.bias_add(tf.nn.conv2d(h, kernel, 1, "SAME"), bias)
        if i + 1 < len(s["float"]):
          h = tf.nn.relu(h)
      out.append(tf.exp(tf.minimum(h, cap)))
    return tf.concat(out, -1)

  # -- Integer tables. ----------------------------------------------------------------

  def update_op(self):
    """The op writing every slice's integer kernels, biases, exponents and
    thresholds (integer_hyper_synthesis' rules); created once. Fails at run time
    (InvalidArgumentError naming the layer) if a sum could reach 2**53."""
    if self._slices is None:
      raise ValueError(f"{self._name}.update_op: the layer is not built; call "
                       "`scales` or `scale_indexes` first.")
    if self._update is not None:
      return self._update
    bound = _SYMBOL_BOUND * 2. ** _FRACTION_BITS
    fraction_bits = tf.constant(_FRACTION_BITS, tf.int32)
    with tf.name_scope(f"{self._name}_update"):
      checks, assigns = [], []
      for k, s in enumerate(self._slices):
        for i, ((kernel, bias), variables) in enumerate(zip(s["float"],
                                                            s["integer"])):
          *values, check = ihs.integer_layer(
              kernel, bias, fraction_bits, bound, 3,
              f"{self._name}/slice_{k}/conv_{i}")
          checks.append(check)
          assigns += list(zip(variables, values))
        thresholds, check = ihs.scale_thresholds(
            self._scale_table, fraction_bits + values[2], f"{self._name}/slice_{k}")
        checks.append(check)
        assigns.append((s["thresholds"], thresholds))
      with tf.control_dependencies(checks):
        self._update = tf.group(*[v.assign(x) for v, x in assigns], name="update")
    return self._update

  # -- Integer path. ------------------------------------------------------------------

  def scale_indexes(self, features, symbols, k=None):
    """Integer path (coding): int32 table indexes of slice `k`, `[B, h, w, C]` (or of
    every slice, `[B, h, w, M]`, with `k` None).

    Args:
      features: `[B, h, w, F]`, integers `value * 2**12` in any int or float dtype
        (e.g. `IntegerHyperSynthesis.integer_features(z_hat)`).
      symbols: `[B, h, w, M]` integers (int32 or integral floats), e.g. the decoded
        symbols; slice k reads only the first slices' channels, so the decoder may
        pass zeros for the slices it has not decoded yet.
      k: the slice (an int), or None for all.

    The same integers on every machine (exact float64 integer arithmetic).
    """
    features = self._input(features, self._feature_channels, "features", False)
    symbols = self._input(symbols, self._latent_channels, "symbols", False)
    slices = self._slice_range(k)
    self._build()
    features = tf.cast(features, tf.float64)
    bound = _SYMBOL_BOUND * 2. ** _FRACTION_BITS
    symbols = tf.clip_by_value(tf.cast(symbols, tf.float64) * 2. ** _FRACTION_BITS,
                               -bound, bound)
    out = []
    for j in slices:
      s = self._slices[j]
      a = self._support(features, symbols, j)
      for i, (kernel_int, bias_int, weight_bits) in enumerate(s["integer"]):
        acc = tf.nn.bias_add(tf.nn.conv2d(a, kernel_int, 1, "SAME"), bias_int)
        if i + 1 < len(s["integer"]):
          a = ihs.hidden_activation(acc, _FRACTION_BITS, weight_bits)
      out.append(ihs.threshold_index(s["thresholds"], acc, len(self._scale_table)))
    return out[0] if k is not None else tf.concat(out, -1)

  def fingerprint(self):
    """int64 scalar: a 63-bit hash of every integer table (as
    `IntegerHyperSynthesis.fingerprint`)."""
    if self._slices is None:
      raise ValueError(f"{self._name}.fingerprint: the layer is not built.")
    parts = [tf.io.serialize_tensor(v) for v in self.variables
             if v.dtype.base_dtype != tf.float32]
    return tf.strings.to_hash_bucket_fast(
        tf.strings.reduce_join(tf.stack(parts)), 2 ** 63 - 1)
