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
`rectify=True` applies a ReLU to the inputs first (`x` is then `max(x, 0)` above).

Nonnegative parameters. `beta` (shape [C]) and `gamma` (shape [C, C], row `i` the
weights of output channel `i`; TensorFlow Compression 1.3 documents the transposed
`gamma[j, i]`, the same for its symmetric initial value) must stay nonnegative, and
`beta` away from zero. By default each is stored, by a `NonnegativeParameterizer`
(parameterizers.py), as a variable `p` named `reparam_beta` / `reparam_gamma` with

    value = lower_bound(p, sqrt(minimum + pedestal))**2 - pedestal,
    p_initial = sqrt(value_initial + pedestal),       pedestal = reparam_offset**2,

so `value >= minimum` always (`minimum` is `beta_min` for beta, 0 for gamma). The
square makes gradient steps on `p` change small values slowly (near zero a value moves
by about `2 p dp`), and the pedestal keeps `p` away from 0 where the square would have
no gradient at all. `lower_bound` (compression/python/ops/math_ops.py, default
gradient "identity_if_towards") lets a gradient that pulls a clipped `p` back up pass.
`beta_parameterizer` / `gamma_parameterizer` replace these (a `StaticParameterizer`
fixes a parameter, `None` stores it in a plain variable named `beta` / `gamma`).

Constants (defaults): `reparam_offset = 2**-18` (so `pedestal = 2**-36`, negligible
next to any value that matters, and a `gamma` entry at its bound is exactly 0), and
`beta_min = 1e-6` (the divisor is then at least 1e-3 for GDN, 1e-6 simplified, so the
output stays finite at `x = 0`). Initial values: `beta = 1`, `gamma = gamma_init *
identity` (`gamma_init = 0.1`), hence at initialisation
`GDN(x)_i = x_i / sqrt(1 + 0.1 x_i**2)`: close to the identity for small inputs.
"""

import numpy as np
import tensorflow as tf

from compression.python.layers import base
from compression.python.layers import entropy_model
from compression.python.layers import parameterizers

__all__ = ["GDN"]

_DATA_FORMATS = ("channels_last", "channels_first")
_DEFAULT_BETA_MIN = 1e-6
_DEFAULT_REPARAM_OFFSET = 2. ** -18
# Stands for the default parameterizers (None means a plain variable).
_DEFAULT = "default"

_is_number = entropy_model.is_number


def _check_bool(name, value):
  if not isinstance(value, bool):
    raise ValueError(f"`{name}` must be a bool, got {value!r}.")


def _check_parameterizer(name, value):
  if value is not None and not isinstance(value, parameterizers.Parameterizer):
    raise ValueError(f"`{name}` must be a Parameterizer or None, got {value!r}.")


class GDN(base.Layer):
  """GDN / IGDN over the channel axis of inputs of rank 2 to 6.

  Usage (graph mode):

    gdn = GDN()                      # or GDN(inverse=True) for IGDN
    y = gdn(x)                       # x float32 [B, ..., C] -> y float32, x's shape
    sess.run(tf.compat.v1.global_variables_initializer())

  Inputs are tensors of the layer's `dtype` (float32 by default) of rank 2 to 6
  (`[B, C]`, `[B, W, C]`, `[B, H, W, C]`, ... for "channels_last"; channel axis 1 for
  "channels_first") with a static channel count `C`; other axes may be unknown. The
  output has the inputs' shape and dtype. With the default parameterizers the layer
  has two trainable variables, `reparam_beta` ([C]) and `reparam_gamma` ([C, C]),
  the stored parameters of beta and gamma (see the module docstring); the
  constrained values are the tensors `layer.beta` and `layer.gamma`.

  The positional arguments are those of TensorFlow Compression 1.3: `GDN(False,
  True)` is `GDN(inverse=False, rectify=True)`.
  """

  def __init__(self, inverse=False, rectify=False, gamma_init=.1,
               data_format="channels_last", beta_parameterizer=_DEFAULT,
               gamma_parameterizer=_DEFAULT, *, simplified=False, beta_min=None,
               reparam_offset=None, dtype=tf.float32, name=None, trainable=True,
               **kwargs):
    """Initializer.

    Args:
      inverse: bool; True computes IGDN (multiplies by the normalizer).
      rectify: bool; True applies a ReLU to the inputs before normalizing.
      gamma_init: float >= 0, initial diagonal of gamma (off-diagonal entries start
        at 0). With 0 the layer starts as the identity (beta starts at 1).
      data_format: "channels_last" or "channels_first".
      beta_parameterizer: a `Parameterizer` for beta, or None for a plain variable.
        Default: `NonnegativeParameterizer(minimum=beta_min,
        reparam_offset=reparam_offset)`.
      gamma_parameterizer: a `Parameterizer` for gamma, or None for a plain
        variable. Default: `NonnegativeParameterizer(minimum=0,
        reparam_offset=reparam_offset)`.
      simplified: bool (keyword only); True uses `|x|` instead of `x**2` and no
        square root.
      beta_min: float in (0, 1] (keyword only), lower bound of every beta_i for the
        default beta parameterizer (default 1e-6).
      reparam_offset: float in (0, 1e-2] (keyword only), offset of the default
        parameterizers' square parametrisation (default 2**-18).
      dtype: floating dtype of the variables and of the inputs (default float32).
      name: layer name (default "gdn", or "igdn" if `inverse`; uniquified by the
        graph).
      trainable: bool; False keeps the variables out of TRAINABLE_VARIABLES.
      **kwargs: the other layer keywords of `base.Layer` (`activity_regularizer`,
        and Keras keywords that have no effect here).

    Raises:
      ValueError: an argument is out of range or of the wrong type (one line naming
        it and the value).
    """
    _check_bool("inverse", inverse)
    if name is None:
      name = "igdn" if inverse else "gdn"
    super().__init__(name=name, trainable=trainable, **kwargs)
    _check_bool("rectify", rectify)
    _check_bool("simplified", simplified)
    if not isinstance(data_format, str) or data_format not in _DATA_FORMATS:
      raise ValueError(
          f"`data_format` must be 'channels_last' or 'channels_first', got "
          f"{data_format!r}.")
    if not _is_number(gamma_init) or not 0 <= gamma_init < float("inf"):
      raise ValueError(
          f"`gamma_init` must be a finite number >= 0, got {gamma_init!r}.")
    custom_beta = beta_parameterizer is not _DEFAULT
    custom_gamma = gamma_parameterizer is not _DEFAULT
    if beta_min is not None:
      if custom_beta:
        raise ValueError("`beta_min` configures the default beta_parameterizer; with "
                         "a beta_parameterizer of your own, leave it out.")
      if not _is_number(beta_min) or not 0 < beta_min <= 1:
        raise ValueError(f"`beta_min` must be a number in (0, 1], got {beta_min!r}.")
    if reparam_offset is not None:
      if custom_beta and custom_gamma:
        raise ValueError("`reparam_offset` configures the default parameterizers; with "
                         "parameterizers of your own, leave it out.")
      if not _is_number(reparam_offset) or not 0 < reparam_offset <= 1e-2:
        raise ValueError(
            f"`reparam_offset` must be a number in (0, 0.01], got {reparam_offset!r}.")
    offset = _DEFAULT_REPARAM_OFFSET if reparam_offset is None else reparam_offset
    if not custom_beta:
      beta_parameterizer = parameterizers.NonnegativeParameterizer(
          minimum=_DEFAULT_BETA_MIN if beta_min is None else beta_min,
          reparam_offset=offset)
    if not custom_gamma:
      gamma_parameterizer = parameterizers.NonnegativeParameterizer(
          minimum=0, reparam_offset=offset)
    _check_parameterizer("beta_parameterizer", beta_parameterizer)
    _check_parameterizer("gamma_parameterizer", gamma_parameterizer)
    self._inverse = inverse
    self._rectify = rectify
    self._simplified = simplified
    self._data_format = data_format
    self._gamma_init = float(gamma_init)
    self._beta_parameterizer = beta_parameterizer
    self._gamma_parameterizer = gamma_parameterizer
    self._dtype = parameterizers.check_float_dtype(dtype)
    self._channels = None
    self._beta = self._gamma = None
    self._beta_param = self._gamma_param = None
    self._created = None  # the variable the getter made last (see _build)

  @property
  def inverse(self):
    return self._inverse

  @property
  def rectify(self):
    return self._rectify

  @property
  def simplified(self):
    return self._simplified

  @property
  def data_format(self):
    return self._data_format

  @property
  def gamma_init(self):
    return self._gamma_init

  @property
  def dtype(self):
    """The `tf.DType` of the variables and of the inputs."""
    return self._dtype

  @property
  def beta_parameterizer(self):
    return self._beta_parameterizer

  @property
  def gamma_parameterizer(self):
    return self._gamma_parameterizer

  @property
  def beta_min(self):
    """The least beta of a `NonnegativeParameterizer` for beta, else None."""
    return getattr(self._beta_parameterizer, "minimum", None)

  @property
  def reparam_offset(self):
    """The `reparam_offset` of a `NonnegativeParameterizer` for beta, else None."""
    return getattr(self._beta_parameterizer, "reparam_offset", None)

  @property
  def pedestal(self):
    """`reparam_offset**2`, subtracted after squaring the stored parameters."""
    return getattr(self._beta_parameterizer, "pedestal", None)

  @property
  def channels(self):
    """Number of channels C (None until built)."""
    return self._channels

  @property
  def beta_variable(self):
    """The variable that stores beta (`reparam_beta` by default; None if none)."""
    self._check_built()
    return self._beta_param

  @property
  def gamma_variable(self):
    """The variable that stores gamma (`reparam_gamma` by default; None if none)."""
    self._check_built()
    return self._gamma_param

  @property
  def beta(self):
    """beta as a [C] tensor of `dtype`, every entry >= `beta_min` by default."""
    self._check_built()
    return self._beta

  @property
  def gamma(self):
    """gamma as a [C, C] tensor (row i: output channel i), entries >= 0 by default."""
    self._check_built()
    return self._gamma

  def parameter_value(self, value, minimum):
    """The stored parameter that represents `value` (NumPy, float32).

    For the default (nonnegative) parametrisation: assign the result to
    `beta_variable` / `gamma_variable` to set beta / gamma.

    Args:
      value: array of the values to represent (each >= `minimum`).
      minimum: the lower bound of the values (`beta_min` or 0).

    Returns:
      float32 array `sqrt(max(value, minimum) + pedestal)`.

    Raises:
      ValueError: beta is not stored by a `NonnegativeParameterizer`.
    """
    if self.reparam_offset is None:
      raise ValueError(f"{self.name}: parameter_value needs the nonnegative "
                       "parametrisation (a NonnegativeParameterizer for beta).")
    return parameterizers.NonnegativeParameterizer(
        minimum=minimum, reparam_offset=self.reparam_offset).stored_value(value)

  def compute_output_shape(self, input_shape):
    """The output shape: the input shape."""
    return tf.TensorShape(input_shape)

  def _check_built(self):
    if not self.built:
      raise ValueError(f"{self.name}: the layer is not built yet (call it first).")

  def _channel_axis(self, rank):
    return rank - 1 if self._data_format == "channels_last" else 1

  def _check_shape(self, input_shape):
    """Returns (rank, channels) of `input_shape` or raises a one-line ValueError."""
    rank = input_shape.rank
    if rank is None or not 2 <= rank <= 6:
      raise ValueError(
          f"{self.name}: inputs must have rank 2 to 6 (batch, 0 to 4 spatial axes, "
          f"channels), got shape {input_shape}.")
    axis = self._channel_axis(rank)
    # dimension_value: under disable_v2_behavior() the items are Dimension objects.
    channels = tf.compat.dimension_value(input_shape[axis])
    if channels is None:
      raise ValueError(
          f"{self.name}: the channel axis ({self._data_format}, axis {axis}) of the "
          f"inputs must have a static size, got shape {input_shape}.")
    return rank, int(channels)

  def _build(self, input_shape):
    _, channels = self._check_shape(input_shape)
    if channels < 1:
      raise ValueError(f"{self.name}: inputs must have at least 1 channel, got 0.")
    self._channels = channels
    getter = self._recording_getter()
    gamma_init = self._gamma_init
    self._created = None
    self._beta = parameterizers.make_parameter(
        self._beta_parameterizer, getter, "beta", [channels], self._dtype,
        lambda shape, dtype=None: np.ones(shape))
    self._beta_param, self._created = self._created, None
    self._gamma = parameterizers.make_parameter(
        self._gamma_parameterizer, getter, "gamma", [channels, channels], self._dtype,
        lambda shape, dtype=None: gamma_init * np.eye(shape[0]))
    self._gamma_param = self._created

  def _recording_getter(self):
    """`layer_getter` that remembers the last variable it made in `self._created`."""
    getter = parameterizers.layer_getter(self)

    def recording_getter(**kwargs):
      self._created = getter(**kwargs)
      return self._created

    return recording_getter

  def call(self, inputs):
    """Applies GDN (or IGDN) to `inputs`.

    Args:
      inputs: tensor of the layer's dtype, rank 2 to 6, with `channels` channels on
        the channel axis of `data_format`.

    Returns:
      Tensor of the shape and dtype of `inputs`.

    Raises:
      ValueError: wrong dtype, rank, or a channel count other than the built one.
    """
    if inputs.dtype != self._dtype:
      raise ValueError(f"{self.name}: inputs must be {self._dtype.name}, got "
                       f"{inputs.dtype.name}.")
    _, channels = self._check_shape(inputs.shape)
    if channels != self._channels:
      raise ValueError(
          f"{self.name}: the layer was built for {self._channels} channels, got "
          f"inputs with {channels} (shape {inputs.shape}).")
    beta, gamma = self._beta, self._gamma
    if self._rectify:
      inputs = tf.nn.relu(inputs)
    magnitude = tf.abs(inputs) if self._simplified else tf.square(inputs)
    # sum_j gamma_ij * magnitude_j on the channel axis, then + beta_i.
    if self._data_format == "channels_last":
      # A [positions, C] x [C, C] matmul: einsum's "...j,ij->...i" broadcasts gamma
      # over every position and is about 20x slower on CPU.
      flat = tf.reshape(magnitude, [-1, channels])
      norm = tf.reshape(tf.matmul(flat, gamma, transpose_b=True) + beta,
                        tf.shape(inputs))
    else:
      # Per batch item a [C, C] x [C, positions] matmul, gamma broadcast over the
      # batch (no transposes); the broadcasting einsum "bj...,ij->bi..." was about
      # 16x slower on CPU. The sizes are explicit, so empty inputs reshape too.
      shape = tf.shape(inputs)
      flat = tf.reshape(magnitude, tf.stack([shape[0], channels,
                                             tf.reduce_prod(shape[2:])]))
      norm = tf.reshape(tf.matmul(gamma, flat) + beta[:, None], shape)
    if self._simplified:
      factor = norm if self._inverse else tf.math.reciprocal(norm)
    else:
      factor = tf.sqrt(norm) if self._inverse else tf.math.rsqrt(norm)
    return tf.multiply(inputs, factor, name="igdn" if self._inverse else "gdn")
