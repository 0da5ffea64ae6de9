"""SignalConv1D / 2D / 3D: convolutions with explicit resampling and alignment.

The layers of TensorFlow Compression 1.3's image models, as that release documents
them. Along each spatial axis the output is the composition of

  1. upsampling by `strides_up` (zeros inserted after each input sample),
  2. a convolution (`corr=False`) or cross-correlation (`corr=True`) with the kernel,
  3. downsampling by `strides_down` (every `strides_down`-th sample kept),
  4. adding a bias (`use_bias=True`), then the `activation` (if any).

Alignment. The kernel's center is tap `c = K // 2` of its `K` taps, whatever `K`:
convolution gives `y[n] = sum_k h[k] x[n - k + c]`, correlation `y[n] = sum_k h[k]
x[n + k - c]` (indexes in the upsampled signal). So convolving with `[1, 2, 3]`,
`[0, 1, 2, 3, 0]` or `[0, 1, 2, 3]` gives the same output, as does correlating with
`[3, 2, 1]`, `[0, 3, 2, 1, 0]` or `[0, 3, 2, 1]`.

Lengths. For an input of `N` samples, kernel support `K`, strides `u` (up), `d`
(down), the upsampled signal has `L = N u` samples with `extra_pad_end=True` (the
zeros after the last sample count) or `L = (N - 1) u + 1` with `extra_pad_end=False`.

- `"valid"`: only outputs whose kernel window lies inside the upsampled signal:
  `ceil((L - K + 1) / d)` samples (an input too short for one is a ValueError). The
  first output is centered on upsampled sample `K - 1 - c` (convolution) or `c`
  (correlation).
- `"same_zeros"`, `"same_reflect"`: `ceil(L / d)` samples, output sample `j` centered
  on upsampled sample `j d`: the first output is aligned with the first input sample,
  whatever the input's length. Outside the input the signal is taken as zeros, or as
  the input reflected about its first and last samples (`tf.pad`'s "REFLECT",
  applied to the input before upsampling; the input needs more samples than the
  padding on that axis).

Alignment of the strided grids, `alignment` (keyword only, same modes):
`"first"` (the default, 1.3's) aligns sample 0 of the input, of the upsampled signal
and of the output, as above. `"center"` places every sample at the middle of its
block of strides instead: input sample `i` at `i u + u // 2` and output sample `j` at
`j d + d // 2` (the later middle of an even stride), so output `j` is centered on
upsampled sample `j d + d // 2 - u // 2` (indexes of the upsampled signal as above);
a kernel shorter than the stride then skips (crops) input samples rather than pad.
With a kernel support `K` at least the stride (odd, or even with an even stride),
this is the alignment of `tf.nn.conv2d` with padding "SAME" on inputs whose length
is a multiple of `strides_down` (correlation, `corr=True`, the same kernel), and of
`tf.nn.conv2d_transpose` with "SAME" to `N u` outputs (convolution, `corr=False`,
the kernel's two channel axes swapped): such a layer computes what those calls do,
and with zero padding calls those ops itself (`tf.nn.convolution` /
`tf.nn.conv_transpose`, any rank). With strides 1 the two alignments are the same.

Examples, `N = 9, K = 5, d = 2`: valid 3 outputs, same 5; `N = 5, K = 3, u = 2`:
valid 8 (`extra_pad_end=True`) or 7, same 10 or 9. A decoder of `k` upsampling layers
of stride 2 in a same mode makes `2**k` times the input of an encoder of `k`
downsampling layers, then crops to the original size.

`channel_separable=True`: every input channel is filtered on its own by `filters`
kernels; the output has `C_in * filters` channels, the block of input channel `c`
first (depthwise convolution). Unlike 1.3, every combination is implemented (3-D and
upsampled separable convolutions too).

Parameters. The kernel, of shape `kernel_support + (C_in, filters)`, is made by
`kernel_parameterizer` (default `RDFTParameterizer()`: stored as its real DFT,
variable `kernel_rdft`; `None` for a plain variable `kernel`); the bias, of shape
`[C_out]`, by `bias_parameterizer` (default None: a plain variable `bias`). Both are
initialised by their initializers (1.3's defaults: variance scaling, fan-in, for the
kernel; zeros for the bias) and regularized by their regularizers, whose losses go to
`layer.losses` and the REGULARIZATION_LOSSES collection.
"""

import math
import numbers

import numpy as np
import tensorflow as tf

from compression.python.layers import base
from compression.python.layers import parameterizers

__all__ = [
    "SignalConv1D",
    "SignalConv2D",
    "SignalConv3D",
    "same_padding_for_kernel",
]

PADDINGS = ("valid", "same_zeros", "same_reflect")
ALIGNMENTS = ("first", "center")
_DATA_FORMATS = ("channels_last", "channels_first")
# Stands for the default kernel parameterizer (None means a plain variable).
_DEFAULT = "default"


def _is_int(value):
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int_tuple(value, name, rank):
  """`value` (an int, or `rank` ints), each >= 1, as a tuple of `rank` ints."""
  if _is_int(value):
    values = (int(value),) * rank
  else:
    try:
      values = tuple(value)
    except TypeError:
      values = None
    if values is None or len(values) != rank or not all(_is_int(v) for v in values):
      raise ValueError(f"`{name}` must be an int or {rank} ints, got {value!r}.")
    values = tuple(int(v) for v in values)
  if any(v < 1 for v in values):
    raise ValueError(f"`{name}` must be >= 1, got {value!r}.")
  return values


def _check_bool(name, value):
  if not isinstance(value, bool):
    raise ValueError(f"`{name}` must be a bool, got {value!r}.")


def same_padding_for_kernel(shape, corr, strides_up=None):
  """The input padding that makes a `"valid"` convolution a `"same"` one.

  Padding the input by these amounts and then convolving (or correlating) in
  `"valid"` mode, after upsampling by `strides_up` if given, gives as many outputs as
  the (upsampled) input has samples, output `j` centered on sample `j` (the center
  tap being `K // 2`, see the module docstring). The padding is in input samples:
  the kernel reaches `K // 2` upsampled samples one way and `(K - 1) // 2` the other
  (which way depends on `corr`), i.e. `ceil(reach / u)` input samples.

  Args:
    shape: iterable of ints >= 1, the kernel's spatial support.
    corr: bool; True for correlation, False for convolution.
    strides_up: None (no upsampling), or an iterable of ints >= 1 with an entry
      per axis of `shape`.

  Returns:
    A list of `(before, after)` int pairs, one per axis.
  """
  shape = tuple(shape)
  support = _int_tuple(shape, "shape", len(shape)) if shape else ()
  _check_bool("corr", corr)
  if strides_up is None:
    strides_up = (1,) * len(support)
  strides_up = _int_tuple(strides_up, "strides_up", len(support))
  padding = []
  for taps, stride in zip(support, strides_up):
    forward, backward = taps // 2, (taps - 1) // 2
    before, after = (forward, backward) if corr else (backward, forward)
    padding.append((-(-before // stride), -(-after // stride)))
  return padding


class _SignalConv(base.Layer):
  """Base of SignalConv1D/2D/3D (`_rank` spatial axes); see the module docstring."""

  _rank = None

  def __init__(self, filters, kernel_support, corr=False, strides_down=1, strides_up=1,
               padding="valid", extra_pad_end=True, channel_separable=False,
               data_format="channels_last", activation=None, use_bias=False,
               use_explicit=False, kernel_initializer=None, bias_initializer=None,
               kernel_regularizer=None, bias_regularizer=None,
               kernel_parameterizer=_DEFAULT, bias_parameterizer=None, *,
               alignment="first", dtype=tf.float32, name=None, trainable=True,
               **kwargs):
    """Initializer (the arguments of 1.3, in its order).

    Args:
      filters: int >= 1; the number of output channels, or with
        `channel_separable` the number of filters per input channel.
      kernel_support: int or `rank` ints >= 1, the kernel's taps per axis.
      corr: bool; True correlates, False convolves.
      strides_down: int or `rank` ints >= 1, downsampling after the filter.
      strides_up: int or `rank` ints >= 1, upsampling before the filter.
      padding: "valid", "same_zeros" or "same_reflect" (module docstring).
      extra_pad_end: bool, or None for True in the same modes and False in
        "valid"; whether the upsampled signal keeps the zeros after its last sample.
      channel_separable: bool; True filters each input channel on its own.
      data_format: "channels_last" (`[B, ..., C]`) or "channels_first"
        (`[B, C, ...]`).
      activation: callable applied to the output (a GDN layer, tf.nn.relu, ...), or
        None.
      use_bias: bool; whether to add a bias per output channel.
      use_explicit: bool, accepted for 1.3 compatibility (how the padding is
        computed is an implementation detail here).
      kernel_initializer: initializer `(shape, dtype) -> value` of the kernel;
        default variance scaling (scale 1, fan-in, truncated normal), as 1.3.
      bias_initializer: initializer of the bias; default zeros.
      kernel_regularizer: callable `kernel -> scalar loss`, or None.
      bias_regularizer: callable `bias -> scalar loss`, or None.
      kernel_parameterizer: a `Parameterizer` for the kernel, or None for a plain
        variable; default `RDFTParameterizer()`.
      bias_parameterizer: a `Parameterizer` for the bias, or None (default) for a
        plain variable.
      alignment: "first" (default) or "center" (keyword only): where the strided
        samples sit in the same modes (module docstring); "center" is tf.nn's
        "SAME" alignment. With "valid" only "first".
      dtype: floating dtype of the variables and of the inputs (keyword only).
      name: layer name (default "signal_conv2d" etc., uniquified by the graph).
      trainable: bool.
      **kwargs: the other layer keywords of `base.Layer` (`activity_regularizer`,
        and Keras keywords that have no effect here).

    Raises:
      ValueError: an argument of the wrong type or out of range (one line naming it).
    """
    rank = self._rank
    super().__init__(name=name or f"signal_conv{rank}d", trainable=trainable, **kwargs)
    if not _is_int(filters) or filters < 1:
      raise ValueError(f"`filters` must be an int >= 1, got {filters!r}.")
    self._filters = int(filters)
    self._kernel_support = _int_tuple(kernel_support, "kernel_support", rank)
    _check_bool("corr", corr)
    self._corr = corr
    self._strides_down = _int_tuple(strides_down, "strides_down", rank)
    self._strides_up = _int_tuple(strides_up, "strides_up", rank)
    if not isinstance(padding, str) or padding not in PADDINGS:
      raise ValueError(f"`padding` must be one of {', '.join(map(repr, PADDINGS))}, got "
                       f"{padding!r}.")
    self._padding = padding
    if not isinstance(alignment, str) or alignment not in ALIGNMENTS:
      raise ValueError(f"`alignment` must be 'first' or 'center', got {alignment!r}.")
    if alignment != "first" and padding == "valid":
      raise ValueError(f"`alignment` {alignment!r} needs a same padding, got "
                       "padding 'valid'.")
    self._alignment = alignment
    if extra_pad_end is None:
      extra_pad_end = padding != "valid"
    _check_bool("extra_pad_end", extra_pad_end)
    self._extra_pad_end = extra_pad_end
    _check_bool("channel_separable", channel_separable)
    self._channel_separable = channel_separable
    if not isinstance(data_format, str) or data_format not in _DATA_FORMATS:
      raise ValueError(f"`data_format` must be 'channels_last' or 'channels_first', "
                       f"got {data_format!r}.")
    self._data_format = data_format
    if activation is not None and not callable(activation):
      raise ValueError(f"`activation` must be a callable or None, got {activation!r}.")
    self._activation = activation
    _check_bool("use_bias", use_bias)
    self._use_bias = use_bias
    _check_bool("use_explicit", use_explicit)
    self._use_explicit = use_explicit
    for key, value in (("kernel_initializer", kernel_initializer),
                       ("bias_initializer", bias_initializer),
                       ("kernel_regularizer", kernel_regularizer),
                       ("bias_regularizer", bias_regularizer)):
      if value is not None and not callable(value):
        raise ValueError(f"`{key}` must be a callable or None, got {value!r}.")
    self._kernel_initializer = (
        kernel_initializer if kernel_initializer is not None
        else tf.compat.v1.initializers.variance_scaling())
    self._bias_initializer = (bias_initializer if bias_initializer is not None
                              else tf.compat.v1.initializers.zeros())
    self._kernel_regularizer = kernel_regularizer
    self._bias_regularizer = bias_regularizer
    if kernel_parameterizer is _DEFAULT:
      kernel_parameterizer = parameterizers.RDFTParameterizer()
    for key, value in (("kernel_parameterizer", kernel_parameterizer),
                       ("bias_parameterizer", bias_parameterizer)):
      if value is not None and not isinstance(value, parameterizers.Parameterizer):
        raise ValueError(f"`{key}` must be a Parameterizer or None, got {value!r}.")
    self._kernel_parameterizer = kernel_parameterizer
    self._bias_parameterizer = bias_parameterizer
    self._dtype = parameterizers.check_float_dtype(dtype)
    self._input_channels = None
    self._kernel = self._bias = None

  # The constructor arguments, read-only.
  filters = property(lambda self: self._filters)
  kernel_support = property(lambda self: self._kernel_support)
  corr = property(lambda self: self._corr)
  strides_down = property(lambda self: self._strides_down)
  strides_up = property(lambda self: self._strides_up)
  padding = property(lambda self: self._padding)
  alignment = property(lambda self: self._alignment)
  extra_pad_end = property(lambda self: self._extra_pad_end)
  channel_separable = property(lambda self: self._channel_separable)
  data_format = property(lambda self: self._data_format)
  activation = property(lambda self: self._activation)
  use_bias = property(lambda self: self._use_bias)
  use_explicit = property(lambda self: self._use_explicit)
  kernel_initializer = property(lambda self: self._kernel_initializer)
  bias_initializer = property(lambda self: self._bias_initializer)
  kernel_regularizer = property(lambda self: self._kernel_regularizer)
  bias_regularizer = property(lambda self: self._bias_regularizer)
  kernel_parameterizer = property(lambda self: self._kernel_parameterizer)
  bias_parameterizer = property(lambda self: self._bias_parameterizer)
  dtype = property(lambda self: self._dtype, doc="The dtype of variables and inputs.")

  @property
  def kernel(self):
    """The kernel, a tensor `kernel_support + (C_in, filters)` (after building)."""
    self._check_built()
    return self._kernel

  @property
  def bias(self):
    """The bias, a tensor `[C_out]`, or None without `use_bias` (after building)."""
    self._check_built()
    return self._bias

  @property
  def output_channels(self):
    """`filters`, or `C_in * filters` when channel separable (None until built)."""
    if self._input_channels is None:
      return None
    return self._filters * (self._input_channels if self._channel_separable else 1)

  def _check_built(self):
    if not self.built:
      raise ValueError(f"{self.name}: the layer is not built yet (call it first).")

  def _channel_axis(self):
    return -1 if self._data_format == "channels_last" else 1

  def _spatial_axes(self):
    first = 1 if self._data_format == "channels_last" else 2
    return list(range(first, first + self._rank))

  def _check_shape(self, input_shape):
    """(spatial sizes or None, channels) of `input_shape`, or a one-line ValueError."""
    input_shape = tf.TensorShape(input_shape)
    if input_shape.rank != self._rank + 2:
      raise ValueError(
          f"{self.name}: inputs must have rank {self._rank + 2} (batch, {self._rank} "
          f"spatial axes, channels), got shape {input_shape}.")
    # dimension_value: under disable_v2_behavior() the items are Dimension objects.
    channels = tf.compat.dimension_value(input_shape[self._channel_axis()])
    if channels is None:
      raise ValueError(
          f"{self.name}: the channel axis ({self._data_format}) of the inputs must "
          f"have a static size, got shape {input_shape}.")
    sizes = [tf.compat.dimension_value(input_shape[a]) for a in self._spatial_axes()]
    return sizes, int(channels)

  def _output_size(self, axis, size):
    """Output samples along spatial `axis` for `size` input samples (int or tensor)."""
    taps, up, down = (self._kernel_support[axis], self._strides_up[axis],
                      self._strides_down[axis])
    length = size * up if self._extra_pad_end else (size - 1) * up + 1
    if self._padding != "valid":
      return -(-length // down)
    return -(-(length - taps + 1) // down)

  def compute_output_shape(self, input_shape):
    """The static output shape for `input_shape` (unknown sizes stay unknown).

    Raises:
      ValueError: a bad rank, an unknown channel count, or (`"valid"`) an input too
        short for one output.
    """
    sizes, channels = self._check_shape(input_shape)
    outputs = []
    for axis, size in enumerate(sizes):
      if size is None:
        outputs.append(None)
        continue
      output = self._output_size(axis, size)
      if output < 1:
        raise ValueError(
            f"{self.name}: spatial axis {axis} of the inputs has {size} samples, too "
            f"few for one \"valid\" output of a kernel of {self._kernel_support[axis]} "
            f"taps (upsampled by {self._strides_up[axis]}).")
      outputs.append(output)
    output_channels = self._filters * (channels if self._channel_separable else 1)
    batch = tf.compat.dimension_value(tf.TensorShape(input_shape)[0])
    if self._data_format == "channels_last":
      return tf.TensorShape([batch] + outputs + [output_channels])
    return tf.TensorShape([batch, output_channels] + outputs)

  def _build(self, input_shape):
    _, channels = self._check_shape(input_shape)
    if channels < 1:
      raise ValueError(f"{self.name}: inputs must have at least 1 channel, got 0.")
    self._input_channels = channels
    getter = parameterizers.layer_getter(self)
    self._kernel = parameterizers.make_parameter(
        self._kernel_parameterizer, getter, "kernel",
        self._kernel_support + (channels, self._filters), self._dtype,
        self._kernel_initializer, self._kernel_regularizer)
    if self._use_bias:
      self._bias = parameterizers.make_parameter(
          self._bias_parameterizer, getter, "bias", (self.output_channels,),
          self._dtype, self._bias_initializer, self._bias_regularizer)

  def call(self, inputs):
    """Applies the layer.

    Args:
      inputs: tensor of the layer's dtype, `[B, spatial..., C_in]` (channels_last)
        or `[B, C_in, spatial...]`, with the channel count it was built for.

    Returns:
      Tensor of the layer's dtype with `compute_output_shape(inputs.shape)`.

    Raises:
      ValueError: wrong dtype, rank, channel count, or too short for the padding.
    """
    if inputs.dtype != self._dtype:
      raise ValueError(f"{self.name}: inputs must be {self._dtype.name}, got "
                       f"{inputs.dtype.name}.")
    sizes, channels = self._check_shape(inputs.shape)
    if channels != self._input_channels:
      raise ValueError(
          f"{self.name}: the layer was built for {self._input_channels} channels, got "
          f"inputs with {channels} (shape {inputs.shape}).")
    output_shape = self.compute_output_shape(inputs.shape)
    rank = self._rank
    x = inputs
    if self._data_format == "channels_first":
      x = tf.transpose(x, [0] + list(range(2, rank + 2)) + [1])
    if self._is_correlation_same():
      y = self._correlation_same(x)
    elif self._is_transpose_same():
      y = self._transpose_same(x, sizes)
    elif all(u == 1 for u in self._strides_up):
      x = self._pad(x, sizes)
      y = self._correlate(x, self._correlation_kernel(), self._strides_down)
    else:
      y = self._upsample_and_filter(self._pad(x, sizes), sizes)
    if self._bias is not None:
      y = tf.nn.bias_add(y, self._bias)
    if self._data_format == "channels_first":
      y = tf.transpose(y, [0, rank + 1] + list(range(1, rank + 1)))
    y.set_shape(output_shape)
    if self._activation is not None:
      y = self._activation(y)
    return y

  def _shifts(self):
    """Per spatial axis, how many upsampled samples later output sample 0 is
    centered than with `alignment="first"`: `d // 2 - u // 2` for "center"."""
    if self._alignment == "first":
      return [0] * self._rank
    return [down // 2 - up // 2
            for up, down in zip(self._strides_up, self._strides_down)]

  def _paddings(self):
    """(before, after) input samples of padding per spatial axis; a negative amount
    (only with `alignment="center"`, a kernel shorter than the stride) crops."""
    if self._padding == "valid":
      return [(0, 0)] * self._rank
    padding = same_padding_for_kernel(self._kernel_support, self._corr, self._strides_up)
    if self._alignment == "first":
      return padding
    out = []
    for taps, up, shift in zip(self._kernel_support, self._strides_up, self._shifts()):
      # The kernel's reach (upsampled samples) before and after the output's center.
      forward, backward = taps // 2, (taps - 1) // 2
      before, after = (forward, backward) if self._corr else (backward, forward)
      out.append((-(-(before - shift) // up), -(-(after + shift) // up)))
    return out

  def _pad(self, x, sizes):
    """Pads the spatial axes of channels_last `x` for the padding mode."""
    paddings = self._paddings()
    if any(before < 0 or after < 0 for before, after in paddings):
      crop = [slice(None)] + [slice(max(-before, 0), None if after >= 0 else after)
                              for before, after in paddings]
      x = x[tuple(crop)]
      paddings = [(max(before, 0), max(after, 0)) for before, after in paddings]
    if not any(before or after for before, after in paddings):
      return x
    if self._padding == "same_reflect":
      for axis, (size, (before, after)) in enumerate(zip(sizes, paddings)):
        if size is not None and max(before, after) >= size:
          raise ValueError(
              f"{self.name}: \"same_reflect\" pads spatial axis {axis} by "
              f"{max(before, after)} samples, which needs at least "
              f"{max(before, after) + 1} input samples; the inputs have {size}.")
    mode = "REFLECT" if self._padding == "same_reflect" else "CONSTANT"
    return tf.pad(x, [(0, 0)] + [list(p) for p in paddings] + [(0, 0)], mode=mode)

  def _spatial_reverse(self, kernel):
    return tf.reverse(kernel, list(range(self._rank)))

  def _correlation_kernel(self):
    """The kernel that correlation applies: the kernel, flipped for convolution."""
    return self._kernel if self._corr else self._spatial_reverse(self._kernel)

  def _correlate(self, x, kernel, strides):
    """"valid" correlation of channels_last `x` with `kernel`, every `strides`-th
    output kept (the first output is the first full window)."""
    strides = list(strides)
    if not self._channel_separable:
      return tf.nn.convolution(x, kernel, strides=strides, padding="VALID")
    if self._rank == 3:
      # No 3-D depthwise op: one convolution per input channel, blocks in order.
      outputs = [
          tf.nn.convolution(x[..., c:c + 1], kernel[..., c:c + 1, :], strides=strides,
                            padding="VALID")
          for c in range(self._input_channels)]
      return tf.concat(outputs, axis=-1)
    if self._rank == 1:
      x, kernel, strides = x[:, None], kernel[None], [1] + strides
    if strides[0] == strides[1]:
      y = tf.nn.depthwise_conv2d(x, kernel, [1] + strides + [1], "VALID")
    else:  # the depthwise op wants equal strides: filter densely, then subsample
      y = tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "VALID")
      y = y[:, ::strides[0], ::strides[1]]
    return y[:, 0] if self._rank == 1 else y

  # With alignment="center", zero padding and no channel separation, the layers
  # that tf.nn's "SAME" convolutions compute (module docstring) call those ops: the
  # same values bit for bit, and no padded copy of the input.

  def _same_eligible(self):
    return (self._alignment == "center" and not self._channel_separable
            and self._padding == "same_zeros")

  def _is_correlation_same(self):
    """Whether the layer is `tf.nn.convolution` "SAME" of the input extended with
    zeros to a multiple of `strides_down`: no upsampling, and on each axis the
    correlation kernel's center minus the shift `d // 2` is "SAME"'s padding
    before, `max(K - d, 0) // 2`."""
    if not self._same_eligible() or any(u != 1 for u in self._strides_up):
      return False
    return all(
        (taps // 2 if self._corr else (taps - 1) // 2) - down // 2
        == max(taps - down, 0) // 2
        for taps, down in zip(self._kernel_support, self._strides_down))

  def _correlation_same(self, x):
    """The layer as tf.nn.convolution "SAME" (`_is_correlation_same`)."""
    shape = _shape_list(x)
    extend = [0 if down == 1 else (-shape[axis + 1]) % down
              for axis, down in enumerate(self._strides_down)]
    if any(isinstance(e, tf.Tensor) or e for e in extend):
      x = tf.pad(x, [[0, 0]] + [[0, e] for e in extend] + [[0, 0]])
    return tf.nn.convolution(x, self._correlation_kernel(),
                             strides=list(self._strides_down), padding="SAME")

  def _is_transpose_same(self):
    """Whether the layer is `tf.nn.conv_transpose` with "SAME" padding.

    A zero-padded layer that only upsamples (to `N u` samples) computes
    `y[n] = sum_k w[k] U[n - k + p]`, `w` the convolution kernel, `p` its center
    plus the shift `-(u // 2)`: the adjoint of a correlation with `w` padded by `p`
    before, which conv_transpose's "SAME" is with `p = max(K - u, 0) // 2`.
    """
    if (not self._same_eligible() or not self._extra_pad_end
        or any(d != 1 for d in self._strides_down)
        or all(u == 1 for u in self._strides_up)):
      return False
    return all(
        (taps // 2 if not self._corr else (taps - 1) // 2) - up // 2
        == max(taps - up, 0) // 2
        for taps, up in zip(self._kernel_support, self._strides_up))

  def _transpose_same(self, x, sizes):
    """The layer as tf.nn.conv_transpose "SAME" (`_is_transpose_same`)."""
    rank = self._rank
    w = self._spatial_reverse(self._correlation_kernel())  # the convolution kernel
    shape = _shape_list(x)
    output_shape = [shape[0]] + [
        self._output_size(axis, shape[axis + 1] if size is None else size)
        for axis, size in enumerate(sizes)] + [self._filters]
    if any(isinstance(d, tf.Tensor) for d in output_shape):
      output_shape = tf.stack(output_shape)
    return tf.nn.conv_transpose(
        x, tf.transpose(w, list(range(rank)) + [rank + 1, rank]), output_shape,
        strides=list(self._strides_up), padding="SAME")

  def _upsample_and_filter(self, x, sizes):
    """Upsampling, filtering and downsampling of the padded channels_last `x`.

    Computes the full convolution of the upsampled padded input with `w` (the
    kernel, flipped for correlation), `full[t] = sum_k w[k] U[t - k]` for every `t`
    in `[0, P u + K - 1)` (P padded samples), then keeps every `strides_down`-th
    sample from the first output's position (see `_output_start`).
    """
    rank = self._rank
    shape = _shape_list(x)
    full_sizes = [shape[a + 1] * self._strides_up[a] + self._kernel_support[a] - 1
                  for a in range(rank)]
    if self._channel_separable:
      upsampled = x
      for axis, stride in enumerate(self._strides_up):
        upsampled = _insert_zeros(upsampled, axis + 1, stride)
      margin = [(k - 1, k - 1) for k in self._kernel_support]
      upsampled = tf.pad(upsampled, [(0, 0)] + margin + [(0, 0)])
      # The full convolution with w is the correlation with w reversed, which is
      # the correlation kernel.
      full = self._correlate(upsampled, self._correlation_kernel(), [1] * rank)
    else:
      w = self._correlation_kernel()
      w = self._spatial_reverse(w)  # the convolution kernel: flip(corr kernel)
      filters = tf.transpose(w, list(range(rank)) + [rank + 1, rank])
      output_shape = [shape[0]] + full_sizes + [self._filters]
      if any(isinstance(d, tf.Tensor) for d in output_shape):
        output_shape = tf.stack(output_shape)
      full = tf.nn.conv_transpose(x, filters, output_shape,
                                  strides=list(self._strides_up), padding="VALID")
    paddings = self._paddings()
    selection = [slice(None)]
    for axis in range(rank):
      size = shape[axis + 1] - sum(paddings[axis]) if sizes[axis] is None else sizes[axis]
      start = self._output_start(axis)
      down = self._strides_down[axis]
      selection.append(
          slice(start, start + (self._output_size(axis, size) - 1) * down + 1, down))
    return full[tuple(selection)]

  def _output_start(self, axis):
    """Index of the first output in the full convolution along spatial `axis`."""
    taps = self._kernel_support[axis]
    if self._padding == "valid":
      return taps - 1
    before = self._paddings()[axis][0]
    # The conv kernel's center: taps // 2 (convolution) or (taps - 1) // 2 after
    # flipping a correlation kernel.
    center = taps // 2 if not self._corr else (taps - 1) // 2
    return before * self._strides_up[axis] + center + self._shifts()[axis]


def _shape_list(x):
  """The shape of `x`: ints where static, scalar int32 tensors elsewhere."""
  dynamic = None
  dims = []
  for axis, size in enumerate(x.shape.as_list()):
    if size is None:
      dynamic = tf.shape(x) if dynamic is None else dynamic
      size = dynamic[axis]
    dims.append(size)
  return dims


def _insert_zeros(x, axis, stride):
  """`x` upsampled by `stride` along `axis`: `stride - 1` zeros after each sample."""
  if stride == 1:
    return x
  expanded = tf.expand_dims(x, axis + 1)
  paddings = [(0, 0)] * (x.shape.rank + 1)
  paddings[axis + 1] = (0, stride - 1)
  expanded = tf.pad(expanded, paddings)
  shape = _shape_list(x)
  shape[axis] *= stride
  if any(isinstance(d, tf.Tensor) for d in shape):
    shape = tf.stack(shape)
  return tf.reshape(expanded, shape)


class SignalConv1D(_SignalConv):
  """1-D SignalConv: inputs `[B, W, C]` (channels_last) or `[B, C, W]`.

  See the module docstring, `compression.python.layers.signal_conv`, for the
  arguments and the output length rules. Outputs are float32 (the layer's dtype)
  with `filters` channels (times the inputs' channels if `channel_separable`).
  """
  _rank = 1


class SignalConv2D(_SignalConv):
  """2-D SignalConv: inputs `[B, H, W, C]` (channels_last) or `[B, C, H, W]`.

  See the module docstring, `compression.python.layers.signal_conv`, for the
  arguments and the output length rules. Outputs are float32 (the layer's dtype)
  with `filters` channels (times the inputs' channels if `channel_separable`).
  """
  _rank = 2


class SignalConv3D(_SignalConv):
  """3-D SignalConv: inputs `[B, D, H, W, C]` (channels_last) or `[B, C, D, H, W]`.

  See the module docstring, `compression.python.layers.signal_conv`, for the
  arguments and the output length rules. Outputs are float32 (the layer's dtype)
  with `filters` channels (times the inputs' channels if `channel_separable`).
  """
  _rank = 3
