"""`IntegerHyperSynthesis`: a hyper-synthesis transform whose scale indexes are
bit-exact on every machine.

In a scale hyperprior (Ballé et al. 2018) the decoder recomputes the scales of `y`
from the decoded `z_hat` with the hyper-synthesis network. Computed in floating
point, another CPU, oneDNN on or off, or another thread count may sum in another
order and move an element's scale across a table boundary of the conditional
model: the rest of the string then decodes to wrong values. This layer runs the
same network a second time in integers for coding: `scale_indexes(z_hat)` gives the
table indexes, which the conditional models take through `indexes=`.

Network: layers of transposed 2-D convolutions ("same" padding, NHWC), each
`(filters, kernel_size, stride, relu)`, the last one's output `h` giving the scales
`exp(h)`. The 2018 hyper-synthesis is
`[(N, 5, 2, True), (N, 5, 2, True), (M, 3, 1, False)]`.

Integer path (fixed point, held in float64 where every product and partial sum is
an integer below 2**53, hence exact in any summation order):
- input `a_0 = clip(round(z_hat * 2**8), -2**18, 2**18)` (8 fraction bits, |z_hat|
  up to 2**10);
- layer `l`: `acc = conv_transpose(a, K_l) + b_l` with `K_l = round(kernel * 2**e_l)`
  and `b_l = round(bias * 2**(f_l + e_l))`, where `e_l` (`weight_bits`) is the
  largest exponent (at most 40) with `|K_l| < 2**14` and `f_l` the fraction bits of
  the layer's input;
- after a hidden layer (every layer but the last has a ReLU): `a = clip(floor(acc / 2**(f_l + e_l - 12)), 0,
  2**22)` (12 fraction bits, at most 2**10);
- the last layer (its ReLU, if any, is `max(acc, 0)`) compares `acc` with the
  thresholds `t_k = ceil(log(scale_table[k]) * 2**(f_L + e_L))`:
  `index = #{k : t_k <= acc} - 1`, clamped to `[0, T - 1]` -- the table entry whose
  scale is the largest not above `exp(h)`, the conditional models' rule.

The update op (`update_op()`, also `updates[0]`) derives the integer kernels,
biases, exponents and thresholds from the float variables and writes them into
non-trainable variables saved with the checkpoint; it first checks, per layer, that
no partial sum can reach 2**53 (inputs at their bound times the largest L1 norm of
an output's integer kernel, plus the largest bias) and that the thresholds are below
2**53, and fails (InvalidArgumentError) otherwise, writing nothing. Run it after
training, before saving; the encoder and decoder read the tables from the
checkpoint. The integer indexes agree with the float scales' indexes except where a
scale is within a rounding of a table boundary (on a trained model, over 99% of the
elements, the rest off by one entry).

Variables (`tf.compat.v1.get_variable` under `tf.compat.v1.variable_scope(name)`,
default name "hyper_synthesis"):
  `<name>/conv_<i>/kernel`       float32 `[k, k, filters, C_in]` (glorot uniform)
  `<name>/conv_<i>/bias`         float32 `[filters]` (zeros)
  `<name>/conv_<i>/kernel_int`   float64, kernel's shape, integers (non-trainable)
  `<name>/conv_<i>/bias_int`     float64 `[filters]`, integers (non-trainable)
  `<name>/conv_<i>/weight_bits`  int32 scalar `e_i` (non-trainable)
  `<name>/scale_thresholds`      float64 `[T]`, integers (non-trainable)
These are the names of the image example's hyper-synthesis (checkpoints carry
over). The variables are created on the first call of `scales`, `scale_indexes` or
`quantized_scales`; a layer lives in one graph.

Usage (graph mode):
  hyper = IntegerHyperSynthesis([(N, 5, 2, True), (N, 5, 2, True), (M, 3, 1, False)],
                                scale_table)
  # Training: float scales.
  gc = GaussianConditional(hyper.scales(z_tilde), scale_table=scale_table)
  updates = [eb.updates[0], hyper.update_op()]
  # Encoder and decoder (after restoring the checkpoint): integer indexes.
  gc = GaussianConditional(None, scale_table=scale_table,
                           indexes=hyper.scale_indexes(z_hat))
"""

import math

import numpy as np
import tensorflow as tf

from compression.python.layers import entropy_model

__all__ = ["IntegerHyperSynthesis"]

v1 = tf.compat.v1

# Fixed point of the integer path (see the module doc).
INPUT_FRACTION_BITS = 8        # z_hat is rounded to multiples of 2**-8.
ACTIVATION_FRACTION_BITS = 12  # hidden activations
MAX_INPUT_MAGNITUDE = 2. ** 10  # |z_hat| and hidden activations are clipped to this
WEIGHT_MAGNITUDE_BITS = 14     # integer kernels have |K| < 2**14
MAX_WEIGHT_BITS = 40           # largest kernel exponent e_l
EXACT_LIMIT = 2. ** 53         # float64 integers are exact below this
# Float path: h is capped at log(largest table scale) + _SCALE_HEADROOM before exp.
_SCALE_HEADROOM = 4.


def _pow2(exponent):
  """2**exponent as an exact float64 tensor (exponent: int or integer tensor)."""
  return tf.pow(tf.constant(2., tf.float64), tf.cast(exponent, tf.float64))


def _conv_transpose(x, kernel, stride):
  """"same" transposed convolution: [B, H, W, C] -> [B, H*s, W*s, kernel's F]."""
  shape = tf.shape(x)
  output_shape = tf.stack(
      [shape[0], shape[1] * stride, shape[2] * stride, tf.shape(kernel)[2]])
  return tf.nn.conv2d_transpose(x, kernel, output_shape, strides=stride,
                                padding="SAME")


# -- The fixed-point rules, shared with other integer paths (integer_slice_scales). --


def integer_layer(kernel, bias, fraction_bits, input_bound, output_axis, what):
  """A layer's integer tables from its float kernel and bias (the module doc's rule).

  Args:
    kernel: float32 kernel; bias: float32 `[filters]`.
    fraction_bits: int32 scalar tensor, the fraction bits of the layer's input.
    input_bound: float, the largest |input| in those units.
    output_axis: the kernel's axis of output channels.
    what: the layer's name for the error message.

  Returns:
    `(k_int, b_int, bits, check)`: float64 integers `round(kernel * 2**bits)` and
    `round(bias * 2**(fraction_bits + bits))`, the int32 exponent `bits` (the
    largest <= MAX_WEIGHT_BITS with |k_int| < 2**WEIGHT_MAGNITUDE_BITS), and an op
    failing unless every partial sum stays below 2**53 (inputs at their bound times
    the largest L1 norm of an output channel's integer kernel, plus the largest
    bias).
  """
  kernel64 = tf.cast(kernel, tf.float64)
  largest = tf.reduce_max(tf.abs(kernel64))
  exponent = tf.cast(tf.math.ceil(
      tf.math.log(tf.maximum(largest, 1e-30)) / math.log(2.)), tf.int32)
  bits = tf.minimum(WEIGHT_MAGNITUDE_BITS - exponent - 1, MAX_WEIGHT_BITS)
  k_int = tf.round(kernel64 * _pow2(bits))
  b_int = tf.round(tf.cast(bias, tf.float64) * _pow2(fraction_bits + bits))
  axes = [a for a in range(kernel.shape.rank) if a != output_axis]
  l1 = tf.reduce_max(tf.reduce_sum(tf.abs(k_int), axis=axes))
  check = tf.debugging.assert_less(
      input_bound * l1 + tf.reduce_max(tf.abs(b_int)),
      tf.constant(EXACT_LIMIT, tf.float64),
      message=f"{what}: integer sums could exceed 2**53")
  return k_int, b_int, bits, check


def scale_thresholds(scale_table, output_bits, what):
  """`(thresholds, check)`: float64 `ceil(log(scale_table) * 2**output_bits)` and
  an op failing unless they are below 2**53."""
  log_table = tf.math.log(tf.constant(scale_table, tf.float64))
  thresholds = tf.math.ceil(log_table * _pow2(output_bits))
  check = tf.debugging.assert_less(
      tf.reduce_max(tf.abs(thresholds)), tf.constant(EXACT_LIMIT, tf.float64),
      message=f"{what}: scale thresholds reach 2**53 (the last kernel is too small)")
  return thresholds, check


def hidden_activation(acc, fraction_bits, weight_bits):
  """A hidden layer's integer ReLU: `clip(floor(acc / 2**(fraction_bits +
  weight_bits - 12)), 0, 2**22)`, ACTIVATION_FRACTION_BITS fraction bits."""
  shift = tf.cast(fraction_bits + weight_bits - ACTIVATION_FRACTION_BITS, tf.float64)
  bound = MAX_INPUT_MAGNITUDE * 2. ** ACTIVATION_FRACTION_BITS
  return tf.clip_by_value(tf.floor(acc * _pow2(-shift)), 0., bound)


def threshold_index(thresholds, acc, size):
  """int32 of acc's shape: the number of thresholds `<= acc`, minus one, clamped to
  `[0, size - 1]`."""
  above = tf.searchsorted(thresholds, tf.reshape(acc, [-1]), side="right")
  index = tf.clip_by_value(above - 1, 0, size - 1)
  return tf.reshape(tf.cast(index, tf.int32), tf.shape(acc))


def checked_scale_table(scale_table):
  """`scale_table` as a tuple of Python floats if it is a non-empty, strictly
  increasing sequence of positive finite floats; else a one-line ValueError."""
  try:
    table = np.asarray(scale_table, np.float64)
  except (TypeError, ValueError):
    table = None
  if (table is None or table.ndim != 1 or table.size == 0
      or not np.all(np.isfinite(table)) or not np.all(table > 0)
      or not np.all(np.diff(table) > 0)):
    raise ValueError(
        "`scale_table` must be a non-empty, strictly increasing sequence of "
        f"positive finite floats, got {scale_table!r}.")
  return tuple(float(s) for s in table)


def _check_layers(layers):
  """`layers` as a tuple of (filters, kernel_size, stride, relu); else ValueError."""
  try:
    layers = tuple(tuple(layer) for layer in layers)
  except TypeError:
    layers = None
  if not layers or not all(
      len(layer) == 4 and all(entropy_model.is_int(v) and v > 0 for v in layer[:3])
      and isinstance(layer[3], (bool, np.bool_)) for layer in layers):
    raise ValueError(
        "`layers` must be a non-empty sequence of (filters, kernel_size, stride, "
        f"relu) with positive ints and a bool, got {layers!r}.")
  if not all(layer[3] for layer in layers[:-1]):
    raise ValueError(
        "`layers`: every layer but the last must have a ReLU (the integer path "
        f"keeps hidden activations nonnegative), got {layers!r}.")
  return tuple((int(f), int(k), int(s), bool(r)) for f, k, s, r in layers)


class IntegerHyperSynthesis:
  """Hyper-synthesis in floating point (training) and in integers (coding).

  See the module doc, `compression.python.layers.integer_hyper_synthesis`, for the
  network, the integer path and the variables. `scales(z)` maps float32
  `[B, h, w, C_z]` to positive float32 scales `[B, s h, s w, M]` (`s` =
  `total_stride`, `M` the last layer's filters, in quantization bins of `y`);
  `scale_indexes(z_hat)` gives int32 table indexes of the same shape.

  Args:
    layers: sequence of `(filters, kernel_size, stride, relu)`, one per transposed
      convolution, input first.
    scale_table: the conditional model's scale table: increasing positive floats
      (e.g. `default_scale_table()`); the last layer's `filters` is the number of
      channels of `y`.
    name: variable scope of the variables (default "hyper_synthesis").
  """

  def __init__(self, layers, scale_table, name="hyper_synthesis"):
    self._layers = _check_layers(layers)
    self._scale_table = checked_scale_table(scale_table)
    if not isinstance(name, str) or not name:
      raise ValueError(f"`name` must be a non-empty string, got {name!r}.")
    self._name = name
    self._float = None     # [(kernel, bias)] per layer
    self._integer = None   # [(kernel_int, bias_int, weight_bits)] per layer
    self._thresholds = None
    self._update = None

  # -- Configuration. ---------------------------------------------------------------

  @property
  def layers(self):
    """The layers, a tuple of `(filters, kernel_size, stride, relu)`."""
    return self._layers

  @property
  def scale_table(self):
    """The scale table, a tuple of Python floats."""
    return self._scale_table

  @property
  def name(self):
    return self._name

  @property
  def built(self):
    return self._float is not None

  @property
  def total_stride(self):
    """Product of the strides: the output is this many times larger than `z`."""
    return math.prod(stride for _, _, stride, _ in self._layers)

  @property
  def variables(self):
    """All variables, per layer kernel, bias, kernel_int, bias_int, weight_bits,
    then scale_thresholds (empty before the layer is built)."""
    if not self.built:
      return []
    return [v for f, i in zip(self._float, self._integer) for v in f + i] + [
        self._thresholds]

  @property
  def trainable_variables(self):
    """The float kernels and biases."""
    return [v for pair in (self._float or []) for v in pair]

  @property
  def updates(self):
    """`[update_op()]` once the layer is built, else `[]`."""
    return [self.update_op()] if self.built else []

  # -- Building. ----------------------------------------------------------------------

  def _build(self, inputs):
    if self._float is not None:
      return
    if inputs.shape.rank != 4:
      raise ValueError(
          f"{self._name}: inputs must be [B, H, W, C] (NHWC), got shape "
          f"{inputs.shape}.")
    in_channels = tf.compat.dimension_value(inputs.shape[-1])
    if in_channels is None:
      raise ValueError(
          f"{self._name}: the channel axis of the inputs must have a static size, "
          f"got shape {inputs.shape}.")
    floats, integers = [], []
    with v1.variable_scope(self._name):
      for i, (filters, size, _, _) in enumerate(self._layers):
        with v1.variable_scope(f"conv_{i}"):
          kernel = v1.get_variable(
              "kernel", [size, size, filters, in_channels], tf.float32,
              initializer=v1.glorot_uniform_initializer())
          bias = v1.get_variable("bias", [filters], tf.float32,
                                 initializer=v1.zeros_initializer())
          kernel_int = v1.get_variable(
              "kernel_int", kernel.shape, tf.float64, trainable=False,
              initializer=v1.zeros_initializer())
          bias_int = v1.get_variable(
              "bias_int", [filters], tf.float64, trainable=False,
              initializer=v1.zeros_initializer())
          weight_bits = v1.get_variable(
              "weight_bits", [], tf.int32, trainable=False,
              initializer=v1.zeros_initializer())
        floats.append((kernel, bias))
        integers.append((kernel_int, bias_int, weight_bits))
        in_channels = filters
      self._thresholds = v1.get_variable(
          "scale_thresholds", [len(self._scale_table)], tf.float64, trainable=False,
          initializer=v1.zeros_initializer())
    self._float, self._integer = floats, integers

  def _assert_built(self, what):
    if not self.built:
      raise ValueError(f"{self._name}.{what}: the layer is not built; call `scales` "
                       "or `scale_indexes` first.")

  # -- Float path. --------------------------------------------------------------------

  def scales(self, z):
    """Float path: z float32 `[B, h, w, C]` -> scales float32 `[B, s h, s w, M]`.

    `s` is `total_stride`, `M` the last layer's filters. The scales are
    `exp(min(h, log(scale_table[-1]) + 4))`, positive (the conditional model bounds
    them below). Differentiable: use it for training.
    """
    h = self._float_layers(z, len(self._layers))
    return tf.exp(tf.minimum(h, math.log(self._scale_table[-1]) + _SCALE_HEADROOM))

  def features(self, z):
    """Float path of the hidden layers: z float32 `[B, h, w, C]` -> float32, the
    last hidden layer's output after its ReLU (`[B, 4 h, 4 w, N]` for the 2018
    layers): features for `IntegerSliceScales` in training. Needs 2 layers or more.
    """
    return self._float_layers(z, self._hidden_count("features"))

  def _hidden_count(self, what):
    if len(self._layers) < 2:
      raise ValueError(f"{self._name}.{what}: the layers have no hidden layer.")
    return len(self._layers) - 1

  def _float_layers(self, z, count):
    z = tf.convert_to_tensor(z, dtype_hint=tf.float32)
    self._build(z)
    h = z
    for (_, _, stride, relu), (kernel, bias) in zip(self._layers[:count],
                                                     self._float[:count]):
      h = tf.nn.bias_add(_conv_transpose(h, kernel, stride), bias)
      if relu:
        h = tf.nn.relu(h)
    return h

  # -- Integer tables. ----------------------------------------------------------------

  def update_op(self):
    """The op writing the integer kernels, biases, exponents and thresholds.

    Created once (the same op on every call). Fails at run time
    (InvalidArgumentError, naming the layer) if a partial sum of a layer could reach
    2**53 or a threshold is not below 2**53; nothing is written then.
    """
    self._assert_built("update_op")
    if self._update is not None:
      return self._update
    with tf.name_scope(f"{self._name}_update"):
      checks, values = [], []
      fraction_bits = tf.constant(INPUT_FRACTION_BITS, tf.int32)
      input_bound = MAX_INPUT_MAGNITUDE * 2. ** INPUT_FRACTION_BITS
      for i, (kernel, bias) in enumerate(self._float):
        # conv2d_transpose kernels [k, k, filters, C_in]: outputs on axis 2.
        k_int, b_int, bits, check = integer_layer(
            kernel, bias, fraction_bits, input_bound, 2, f"{self._name}/conv_{i}")
        checks.append(check)
        values += [k_int, b_int, bits]
        if i + 1 < len(self._float):
          fraction_bits = tf.constant(ACTIVATION_FRACTION_BITS, tf.int32)
          input_bound = MAX_INPUT_MAGNITUDE * 2. ** ACTIVATION_FRACTION_BITS
      # fraction bits of the last layer's acc: fraction_bits + bits
      thresholds, check = scale_thresholds(self._scale_table, fraction_bits + bits,
                                           self._name)
      checks.append(check)
      with tf.control_dependencies(checks):
        variables = [v for layer in self._integer for v in layer]
        assigns = [v.assign(value) for v, value in zip(variables, values)]
        assigns.append(self._thresholds.assign(thresholds))
      self._update = tf.group(*assigns, name="update")
    return self._update

  # -- Integer path. ------------------------------------------------------------------

  def scale_indexes(self, z_hat):
    """Integer path: z_hat float32 `[B, h, w, C]` -> int32 `[B, s h, s w, M]`.

    The scale table index of each element of `y` (see the module doc), for
    `GaussianConditional(..., indexes=...)`. Depends only on `z_hat` and the
    integer variables: the same integers on every machine.
    """
    a = self._integer_layers(z_hat, len(self._layers) - 1)[0]
    (_, _, stride, relu), (kernel_int, bias_int, _) = (self._layers[-1],
                                                       self._integer[-1])
    acc = tf.nn.bias_add(_conv_transpose(a, kernel_int, stride), bias_int)
    if relu:
      acc = tf.maximum(acc, 0.)
    # The thresholds are in the last layer's fixed point.
    return threshold_index(self._thresholds, acc, len(self._scale_table))

  def integer_features(self, z_hat):
    """Integer path of the hidden layers: z_hat float32 `[B, h, w, C]` -> float64
    integers, the last hidden activations times 2**12 (in `[0, 2**22]`), the
    features of `features(z_hat)` in fixed point: for `IntegerSliceScales` when
    coding. The same integers on every machine. Needs 2 layers or more."""
    return self._integer_layers(z_hat, self._hidden_count("integer_features"))[0]

  def _integer_layers(self, z_hat, count):
    """(activations, their fraction bits) after the first `count` layers (hidden
    ones: each ends in the integer ReLU)."""
    z_hat = tf.convert_to_tensor(z_hat, dtype_hint=tf.float32)
    self._build(z_hat)
    bound = MAX_INPUT_MAGNITUDE * 2. ** INPUT_FRACTION_BITS
    a = tf.clip_by_value(
        tf.round(tf.cast(z_hat, tf.float64) * 2. ** INPUT_FRACTION_BITS),
        -bound, bound)
    fraction_bits = INPUT_FRACTION_BITS
    for (_, _, stride, _), (kernel_int, bias_int, weight_bits) in zip(
        self._layers[:count], self._integer[:count]):
      acc = tf.nn.bias_add(_conv_transpose(a, kernel_int, stride), bias_int)
      # A hidden layer: ReLU (checked by the constructor).
      a = hidden_activation(acc, fraction_bits, weight_bits)
      fraction_bits = ACTIVATION_FRACTION_BITS
    return a, fraction_bits

  def quantized_scales(self, z_hat):
    """float32 `scale_table[scale_indexes(z_hat)]`: the table scale of each element
    (a scale that maps back to the same index under the conditional models' rule)."""
    table = tf.constant(self._scale_table, tf.float32)
    return tf.gather(table, self.scale_indexes(z_hat))

  def fingerprint(self):
    """int64 scalar: a 63-bit hash of the integer tables, for file headers.

    `tf.strings.to_hash_bucket_fast` (farmhash) of the concatenated
    `tf.io.serialize_tensor` bytes of each layer's kernel_int, bias_int and
    weight_bits, then the thresholds (the scheme of the image example's files).
    """
    self._assert_built("fingerprint")
    parts = [tf.io.serialize_tensor(v) for layer in self._integer for v in layer]
    parts.append(tf.io.serialize_tensor(self._thresholds))
    return tf.strings.to_hash_bucket_fast(
        tf.strings.reduce_join(tf.stack(parts)), 2 ** 63 - 1)
