"""Generalized divisive normalization (GDN) and its inverse (IGDN), a graph-mode layer.

For each position and channel `i` of the inputs `x` (GDN of Ballé, Laparra and
Simoncelli, "Density modeling of images using a generalized normalization
transformation", ICLR 2016):

    y_i = x_i / sqrt(beta_i + sum_j gamma_ij * x_j**2)

`inverse=True` (IGDN, the approximate inverse used in synthesis transforms)
multiplies instead: `y_i = x_i * sqrt(beta_i + sum_j gamma_ij * x_j**2)`. The
`simplified=True` variant (Ballé et al., "Nonlinear transform coding", 2020) uses
`|x_j|` instead of `x_j**2` and no square root:
`y_i = x_i / (beta_i + sum_j gamma_ij * |x_j|)` (times for the inverse).

Nonnegative parameters. `beta` (shape [C]) and `gamma` (shape [C, C], row `i` the
weights of output channel `i`) must stay nonnegative, and `beta` away from zero. Each
is stored as a variable `p` with

    value = lower_bound(p, sqrt(minimum + pedestal))**2 - pedestal,
    p_initial = sqrt(value_initial + pedestal),       pedestal = reparam_offset**2,

so `value >= minimum` always (`minimum` is `beta_min` for beta, 0 for gamma). The
square makes gradient steps on `p` change small values slowly (near zero a value moves
by about `2 p dp`), and the pedestal keeps `p` away from 0 where the square would have
no gradient at all. `lower_bound` (compression/python/ops/math_ops.py, default
gradient "identity_if_towards") lets a gradient that pulls a clipped `p` back up pass.

Constants (defaults): `reparam_offset = 2**-18` (so `pedestal = 2**-36`, negligible
next to any value that matters, and a `gamma` entry at its bound is exactly 0), and
`beta_min = 1e-6` (the divisor is then at least 1e-3 for GDN, 1e-6 simplified, so the
output stays finite at `x = 0`). Initial values: `beta = 1`, `gamma = 0.1 * identity`,
hence at initialisation `GDN(x)_i = x_i / sqrt(1 + 0.1 x_i**2)`: close to the identity
for small inputs.
"""

import numpy as np
import tensorflow as tf

from compression.python.layers import base
from compression.python.layers import entropy_model
from compression.python.ops import math_ops

__all__ = ["GDN"]

_DATA_FORMATS = ("channels_last", "channels_first")

_is_number = entropy_model.is_number


def _check_bool(name, value):
  if not isinstance(value, bool):
    raise ValueError(f"`{name}` must be a bool, got {value!r}.")


class GDN(base.Layer):
  """GDN / IGDN over the channel axis of inputs with 1 to 3 spatial dimensions.

  Usage (graph mode):

    gdn = GDN()                      # or GDN(inverse=True) for IGDN
    y = gdn(x)                       # x float32 [B, ..., C] -> y float32, x's shape
    sess.run(tf.compat.v1.global_variables_initializer())

  Inputs are float32 tensors of rank 3, 4 or 5 (`[B, W, C]`, `[B, H, W, C]`,
  `[B, D, H, W, C]` for "channels_last"; channel axis 1 for "channels_first") with a
  static channel count `C`; other axes may be unknown. The output has the inputs'
  shape and dtype. The layer has two trainable float32 variables, the stored
  parameters of beta ([C]) and gamma ([C, C]) (see the module docstring); their
  constrained values are the tensors `layer.beta` and `layer.gamma`.
  """

  def __init__(self, inverse=False, simplified=False, data_format="channels_last",
               beta_min=1e-6, gamma_init=.1, reparam_offset=2. ** -18, name=None,
               trainable=True):
    """Initializer.

    Args:
      inverse: bool; True computes IGDN (multiplies by the normalizer).
      simplified: bool; True uses `|x|` instead of `x**2` and no square root.
      data_format: "channels_last" or "channels_first".
      beta_min: float in (0, 1], lower bound of every beta_i (initial beta is 1).
      gamma_init: float >= 0, initial diagonal of gamma (off-diagonal entries start
        at 0).
      reparam_offset: float in (0, 1e-2], offset of the square parametrisation;
        its square is the pedestal.
      name: layer name (default "gdn", or "igdn" if `inverse`; uniquified by the
        graph).
      trainable: bool; False keeps the variables out of TRAINABLE_VARIABLES.

    Raises:
      ValueError: an argument is out of range or of the wrong type (one line naming
        it and the value).
    """
    _check_bool("inverse", inverse)
    if name is None:
      name = "igdn" if inverse else "gdn"
    super().__init__(name=name, trainable=trainable)
    _check_bool("simplified", simplified)
    if not isinstance(data_format, str) or data_format not in _DATA_FORMATS:
      raise ValueError(
          f"`data_format` must be 'channels_last' or 'channels_first', got "
          f"{data_format!r}.")
    if not _is_number(beta_min) or not 0 < beta_min <= 1:
      raise ValueError(f"`beta_min` must be a number in (0, 1], got {beta_min!r}.")
    if not _is_number(gamma_init) or not 0 <= gamma_init < float("inf"):
      raise ValueError(
          f"`gamma_init` must be a finite number >= 0, got {gamma_init!r}.")
    if not _is_number(reparam_offset) or not 0 < reparam_offset <= 1e-2:
      raise ValueError(
          f"`reparam_offset` must be a number in (0, 0.01], got {reparam_offset!r}.")
    self._inverse = inverse
    self._simplified = simplified
    self._data_format = data_format
    self._beta_min = float(beta_min)
    self._gamma_init = float(gamma_init)
    self._reparam_offset = float(reparam_offset)
    self._channels = None

  @property
  def inverse(self):
    return self._inverse

  @property
  def simplified(self):
    return self._simplified

  @property
  def data_format(self):
    return self._data_format

  @property
  def beta_min(self):
    return self._beta_min

  @property
  def reparam_offset(self):
    return self._reparam_offset

  @property
  def pedestal(self):
    """`reparam_offset**2`, subtracted after squaring the stored parameters."""
    return self._reparam_offset ** 2

  @property
  def channels(self):
    """Number of channels C (None until built)."""
    return self._channels

  @property
  def beta_variable(self):
    """The stored parameter of beta, float32 [C] (`sqrt(beta + pedestal)` unbounded)."""
    self._check_built()
    return self._beta_param

  @property
  def gamma_variable(self):
    """The stored parameter of gamma, float32 [C, C]."""
    self._check_built()
    return self._gamma_param

  @property
  def beta(self):
    """beta as a float32 [C] tensor, every entry >= `beta_min`."""
    self._check_built()
    with self.name_scope():
      return self._beta_value()

  @property
  def gamma(self):
    """gamma as a float32 [C, C] tensor (row i: output channel i), entries >= 0."""
    self._check_built()
    with self.name_scope():
      return self._gamma_value()

  def parameter_value(self, value, minimum):
    """The stored parameter that represents `value` (NumPy, float32).

    Args:
      value: array of the values to represent (each >= `minimum`).
      minimum: the lower bound of the values (`beta_min` or 0).

    Returns:
      float32 array `sqrt(max(value, minimum) + pedestal)`; assign it to
      `beta_variable` / `gamma_variable` to set beta / gamma.
    """
    value = np.maximum(np.asarray(value, np.float64), minimum)
    return np.sqrt(value + self.pedestal).astype(np.float32)

  def _check_built(self):
    if not self.built:
      raise ValueError(f"{self.name}: the layer is not built yet (call it first).")

  def _channel_axis(self, rank):
    return rank - 1 if self._data_format == "channels_last" else 1

  def _check_shape(self, input_shape):
    """Returns (rank, channels) of `input_shape` or raises a one-line ValueError."""
    rank = input_shape.rank
    if rank is None or not 3 <= rank <= 5:
      raise ValueError(
          f"{self.name}: inputs must have rank 3, 4 or 5 (batch, 1 to 3 spatial "
          f"axes, channels), got shape {input_shape}.")
    channels = input_shape[self._channel_axis(rank)]
    if channels is None:
      raise ValueError(
          f"{self.name}: the channel axis ({self._data_format}, axis "
          f"{self._channel_axis(rank)}) of the inputs must have a static size, got "
          f"shape {input_shape}.")
    return rank, int(channels)

  def _build(self, input_shape):
    _, channels = self._check_shape(input_shape)
    if channels < 1:
      raise ValueError(f"{self.name}: inputs must have at least 1 channel, got 0.")
    self._channels = channels
    self._beta_param = self.add_variable(
        "reparam_beta", self.parameter_value(np.ones([channels]), self._beta_min))
    gamma = self._gamma_init * np.eye(channels)
    self._gamma_param = self.add_variable(
        "reparam_gamma", self.parameter_value(gamma, 0.))

  def _bounded_square(self, param, minimum, name):
    """`lower_bound(param, sqrt(minimum + pedestal))**2 - pedestal`."""
    bound = np.sqrt(minimum + self.pedestal)
    bounded = math_ops.lower_bound(param, bound, name=f"{name}_bound")
    return tf.subtract(tf.square(bounded), self.pedestal, name=name)

  def _beta_value(self):
    return self._bounded_square(self._beta_param, self._beta_min, "beta")

  def _gamma_value(self):
    return self._bounded_square(self._gamma_param, 0., "gamma")

  def call(self, inputs):
    """Applies GDN (or IGDN) to `inputs`.

    Args:
      inputs: float32 tensor, rank 3 to 5, with `channels` channels on the
        channel axis of `data_format`.

    Returns:
      float32 tensor of the shape of `inputs`.

    Raises:
      ValueError: wrong dtype, rank, or a channel count other than the built one.
    """
    if inputs.dtype != tf.float32:
      raise ValueError(f"{self.name}: inputs must be float32, got {inputs.dtype.name}.")
    rank, channels = self._check_shape(inputs.shape)
    if channels != self._channels:
      raise ValueError(
          f"{self.name}: the layer was built for {self._channels} channels, got "
          f"inputs with {channels} (shape {inputs.shape}).")
    beta, gamma = self._beta_value(), self._gamma_value()
    magnitude = tf.abs(inputs) if self._simplified else tf.square(inputs)
    # sum_j gamma_ij * magnitude_j on the channel axis, then + beta_i.
    if self._data_format == "channels_last":
      # A [positions, C] x [C, C] matmul: einsum's "...j,ij->...i" broadcasts gamma
      # over every position and is about 20x slower on CPU.
      flat = tf.reshape(magnitude, [-1, channels])
      norm = tf.reshape(tf.matmul(flat, gamma, transpose_b=True) + beta,
                        tf.shape(inputs))
    else:
      norm = tf.einsum("bj...,ij->bi...", magnitude, gamma)
      norm += tf.reshape(beta, [channels] + [1] * (rank - 2))
    if self._simplified:
      factor = norm if self._inverse else tf.math.reciprocal(norm)
    else:
      factor = tf.sqrt(norm) if self._inverse else tf.math.rsqrt(norm)
    return tf.multiply(inputs, factor, name="igdn" if self._inverse else "gdn")
