"""Tests of compression/python/layers/signal_conv.py (graph mode).

The reference is written from the documented definition (upsample, then convolve or
correlate about the center tap K // 2, then downsample; padding applied to the input),
one selection matrix per axis, independent of the layer's implementation.

Run with `python -m pytest -q tests/test_signal_conv.py`.
"""

import itertools
import os
import sys

import numpy as np
import scipy.signal
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

import compression  # pylint: disable=g-import-not-at-top
from compression.python.layers import gdn  # pylint: disable=g-import-not-at-top
from compression.python.layers import initializers  # pylint: disable=g-import-not-at-top
from compression.python.layers import parameterizers as pz  # pylint: disable=g-import-not-at-top
from compression.python.layers import signal_conv  # pylint: disable=g-import-not-at-top
import graph_testutil  # pylint: disable=g-import-not-at-top

CLASSES = {1: signal_conv.SignalConv1D, 2: signal_conv.SignalConv2D,
           3: signal_conv.SignalConv3D}


def _axis_matrix(size, taps, corr, up, down, padding, extra_pad_end, shift=0):
  """S[q, k, i]: 1 where output q, tap k reads input sample i (one spatial axis);
  `shift`: output q is centered `shift` upsampled samples later (alignment)."""
  length = size * up if extra_pad_end else (size - 1) * up + 1
  center = taps // 2 - shift if corr else taps // 2 + shift
  if padding == "valid":
    if corr:
      first, last = center, length - taps + center
    else:
      first, last = taps - 1 - center, length - 1 - center
    positions = list(range(first, last + 1, down))
  else:
    positions = list(range(0, length, down))
  matrix = np.zeros((len(positions), taps, size))
  for row, q in enumerate(positions):
    for k in range(taps):
      j = q + k - center if corr else q - k + center  # upsampled position
      if j % up:
        continue  # an inserted zero
      i = j // up
      if padding == "same_reflect":
        if i < 0:
          i = -i
        if i >= size:
          i = 2 * (size - 1) - i
      if 0 <= i < size:
        if padding == "valid":
          assert 0 <= j < length
        matrix[row, k, i] = 1.
  return matrix


def reference(x, kernel, corr, strides_up, strides_down, padding, extra_pad_end,
              separable=False, alignment="first"):
  """NumPy SignalConv of channels_last `x` [B, spatial..., C] with `kernel`;
  alignment "center": output j centered on upsampled sample j d + d//2 - u//2."""
  rank = x.ndim - 2
  letters = "pqr"[:rank], "klm"[:rank], "nst"[:rank]
  operands = [kernel]
  for axis in range(rank):
    shift = (strides_down[axis] // 2 - strides_up[axis] // 2
             if alignment == "center" else 0)
    operands.append(_axis_matrix(x.shape[axis + 1], kernel.shape[axis], corr,
                                 strides_up[axis], strides_down[axis], padding,
                                 extra_pad_end, shift))
  out, taps, inputs = letters
  spec = (f"{taps}io," + ",".join(f"{out[a]}{taps[a]}{inputs[a]}" for a in range(rank))
          + f",b{inputs}i->b{out}" + ("io" if separable else "o"))
  y = np.einsum(spec, *operands, x)
  if separable:
    y = y.reshape(y.shape[:-2] + (-1,))
  return y


def _layer_values(layers_and_inputs, feed=None):
  """Runs [(layer, x, y)] in the default graph: (x, kernel, bias, y) values."""
  fetches = [(x, layer.kernel, layer.bias if layer.bias is not None else tf.zeros([]),
              y) for layer, x, y in layers_and_inputs]
  with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    return sess.run(fetches, feed)


class SamePaddingForKernelTest(tf.test.TestCase):

  def test_values(self):
    f = signal_conv.same_padding_for_kernel
    self.assertEqual(f([3], True), [(1, 1)])
    self.assertEqual(f([4], True), [(2, 1)])
    self.assertEqual(f([4], False), [(1, 2)])
    self.assertEqual(f([5, 4], True, [2, 3]), [(1, 1), (1, 1)])
    self.assertEqual(f([9, 1], False, (4, 2)), [(1, 1), (0, 0)])
    self.assertIs(compression.same_padding_for_kernel, f)

  def test_bad_arguments(self):
    f = signal_conv.same_padding_for_kernel
    with self.assertRaisesRegex(ValueError, "`strides_up` must be an int or 2 ints"):
      f([3, 3], True, [2])
    with self.assertRaisesRegex(ValueError, "`corr` must be a bool"):
      f([3], "yes")
    with self.assertRaisesRegex(ValueError, "`shape` must be >= 1"):
      f([0], True)


class OutputShapeTest(tf.test.TestCase):

  def test_documented_examples(self):
    def length(size, **kwargs):
      layer = signal_conv.SignalConv1D(1, **kwargs)
      return layer.compute_output_shape([1, size, 1])[1]
    for padding, expected in (("valid", (3, 2, 8, 7)), ("same_zeros", (5, 4, 10, 9)),
                              ("same_reflect", (5, 4, 10, 9))):
      with self.subTest(padding=padding):
        got = (length(9, kernel_support=5, strides_down=2, padding=padding),
               length(8, kernel_support=5, strides_down=2, padding=padding),
               length(5, kernel_support=3, strides_up=2, padding=padding),
               length(5, kernel_support=3, strides_up=2, padding=padding,
                      extra_pad_end=False))
        self.assertEqual(got, expected)

  def test_every_padding_and_stride_1d_against_reference(self):
    # Shapes (static, and of the computed tensors) and values for every combination.
    rng = np.random.default_rng(0)
    # Both input parities, alternately (each combination of the rest meets one).
    cases = [case + (8 + i % 2,) for i, case in enumerate(itertools.product(
        signal_conv.PADDINGS, (False, True), (3, 4), (1, 2, 3), (1, 2, 3),
        (True, False)))]
    cases += [case[:-1] + (17 - case[-1],) for case in cases[::7]]
    with tf.Graph().as_default():
      built = []
      for padding, corr, taps, down, up, extra, size in cases:
        x = tf.constant(rng.normal(size=(2, size, 3)), tf.float32)
        layer = signal_conv.SignalConv1D(
            2, taps, corr=corr, strides_down=down, strides_up=up, padding=padding,
            extra_pad_end=extra, use_bias=True,
            bias_initializer=lambda shape, dtype=None: np.arange(shape[0]) / 4.)
        y = layer(x)
        self.assertEqual(y.shape.as_list(),
                         layer.compute_output_shape(x.shape).as_list())
        built.append((layer, x, y))
      values = _layer_values(built)
    for case, (x, kernel, bias, y) in zip(cases, values):
      padding, corr, taps, down, up, extra, size = case
      with self.subTest(padding=padding, corr=corr, taps=taps, down=down, up=up,
                        extra_pad_end=extra, size=size):
        expected = reference(x, kernel, corr, [up], [down], padding, extra) + bias
        length = size * up if extra else (size - 1) * up + 1
        count = -(-length // down) if padding != "valid" else -(-(length - taps + 1)
                                                                  // down)
        self.assertEqual(y.shape, (2, count, 2))
        self.assertAllClose(y, expected, rtol=1e-5, atol=1e-5)

  def test_unknown_spatial_sizes(self):
    rng = np.random.default_rng(1)
    x_value = rng.normal(size=(1, 7, 6, 2)).astype(np.float32)
    with tf.Graph().as_default():
      x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 2])
      built = []
      for padding, up, down in (("valid", 1, 2), ("same_reflect", 2, 1),
                                ("same_zeros", 3, 2), ("valid", 2, 3)):
        layer = signal_conv.SignalConv2D(3, (3, 4), strides_up=up, strides_down=down,
                                         padding=padding)
        y = layer(x)
        self.assertEqual(y.shape.as_list(), [None, None, None, 3])
        built.append((layer, x, y))
      values = _layer_values(built, {x: x_value})
    for (_, kernel, _, y), (padding, up, down) in zip(
        values, (("valid", 1, 2), ("same_reflect", 2, 1), ("same_zeros", 3, 2),
                 ("valid", 2, 3))):
      with self.subTest(padding=padding, up=up, down=down):
        self.assertAllClose(y, reference(x_value, kernel, False, [up] * 2, [down] * 2,
                                         padding, True), rtol=1e-5, atol=1e-5)


class NumericsTest(tf.test.TestCase):

  def check(self, rank, shape, filters, support, separable=False, channels_first=False,
            **kwargs):
    rng = np.random.default_rng(sum(shape) + filters)
    x_value = rng.normal(size=shape).astype(np.float32)
    with tf.Graph().as_default():
      x = tf.constant(np.moveaxis(x_value, -1, 1) if channels_first else x_value)
      layer = CLASSES[rank](filters, support, channel_separable=separable,
                            data_format="channels_first" if channels_first
                            else "channels_last", **kwargs)
      y = layer(x)
      self.assertEqual(y.shape.as_list(), layer.compute_output_shape(x.shape).as_list())
      ((_, kernel, _, y_value),) = _layer_values([(layer, x, y)])
    if channels_first:
      y_value = np.moveaxis(y_value, 1, -1)
    ones = (1,) * rank
    expected = reference(
        x_value, kernel, kwargs.get("corr", False),
        signal_conv._int_tuple(kwargs.get("strides_up", 1), "", rank) or ones,
        signal_conv._int_tuple(kwargs.get("strides_down", 1), "", rank) or ones,
        kwargs.get("padding", "valid"), kwargs.get("extra_pad_end", True), separable)
    self.assertAllClose(y_value, expected, rtol=1e-5, atol=1e-5)
    return x_value, kernel, y_value

  def test_2d_cases(self):
    cases = [
        dict(corr=True, strides_down=2, padding="same_zeros"),
        dict(corr=False, strides_up=2, padding="same_zeros"),
        dict(corr=False, strides_up=(2, 3), padding="same_reflect",
             extra_pad_end=False),
        dict(corr=True, strides_up=2, strides_down=3, padding="valid"),
        dict(corr=False, strides_down=(1, 2), padding="same_reflect"),
        dict(corr=True, strides_up=(1, 2), strides_down=(2, 1), padding="valid",
             extra_pad_end=False),
    ]
    for kwargs in cases:
      for separable in (False, True):
        for channels_first in (False, True):
          with self.subTest(separable=separable, channels_first=channels_first,
                            **kwargs):
            self.check(2, (2, 7, 8, 3), 2, (3, 4), separable, channels_first, **kwargs)

  def test_1d_and_3d_cases(self):
    for separable in (False, True):
      with self.subTest(separable=separable):
        self.check(1, (2, 9, 2), 3, 5, separable, corr=False, strides_up=3,
                   padding="same_reflect")
        self.check(3, (1, 5, 4, 6, 2), 2, (3, 2, 3), separable, corr=True,
                   strides_down=(2, 1, 2), padding="same_zeros")
        self.check(3, (1, 3, 4, 3, 2), 2, (3, 3, 2), separable, corr=False,
                   strides_up=(2, 1, 2), padding="valid", channels_first=True)

  def test_against_scipy(self):
    # Plain odd-kernel convolution ("same" about the center) and correlation
    # ("valid") agree with scipy.signal.
    x_value, kernel, y_value = self.check(2, (1, 9, 7, 1), 1, (3, 5),
                                          corr=False, padding="same_zeros")
    expected = scipy.signal.convolve(x_value[0, ..., 0], kernel[..., 0, 0], "same")
    self.assertAllClose(y_value[0, ..., 0], expected, rtol=1e-5, atol=1e-5)
    x_value, kernel, y_value = self.check(2, (1, 9, 7, 1), 1, (3, 4), corr=True)
    expected = scipy.signal.correlate(x_value[0, ..., 0], kernel[..., 0, 0], "valid")
    self.assertAllClose(y_value[0, ..., 0], expected, rtol=1e-5, atol=1e-5)
    # Upsampling by 2 then convolving = scipy on the zero-stuffed signal.
    x_value, kernel, y_value = self.check(1, (1, 6, 1), 1, 3, corr=False,
                                          strides_up=2, padding="same_zeros")
    stuffed = np.zeros(12)
    stuffed[::2] = x_value[0, :, 0]
    expected = scipy.signal.convolve(stuffed, kernel[:, 0, 0], "same")
    self.assertAllClose(y_value[0, :, 0], expected, rtol=1e-5, atol=1e-5)

  def test_center_tap_alignment(self):
    # Documented: in the same modes, these give one and the same output.
    kernels = [([1, 2, 3], False), ([0, 1, 2, 3, 0], False), ([0, 1, 2, 3], False),
               ([3, 2, 1], True), ([0, 3, 2, 1, 0], True), ([0, 3, 2, 1], True)]
    x_value = np.random.default_rng(2).normal(size=(1, 11, 1)).astype(np.float32)
    for padding, up, down in (("same_zeros", 1, 1), ("same_reflect", 1, 2),
                              ("same_zeros", 2, 1), ("same_reflect", 3, 2)):
      with self.subTest(padding=padding, up=up, down=down):
        with tf.Graph().as_default():
          outputs = []
          for taps, corr in kernels:
            kernel = np.array(taps, np.float32).reshape(-1, 1, 1)
            layer = signal_conv.SignalConv1D(
                1, len(taps), corr=corr, strides_up=up, strides_down=down,
                padding=padding, kernel_parameterizer=pz.StaticParameterizer(kernel))
            outputs.append(layer(tf.constant(x_value)))
          with tf.compat.v1.Session() as sess:
            values = sess.run(outputs)
        for value in values[1:]:
          self.assertAllClose(value, values[0], rtol=1e-6, atol=1e-6)
        self.assertGreater(np.max(np.abs(values[0])), .1)

  def test_identity_initializer_passes_the_input(self):
    x_value = np.random.default_rng(3).normal(size=(2, 6, 5, 3)).astype(np.float32)
    for padding in ("same_zeros", "same_reflect"):
      with self.subTest(padding=padding):
        with tf.Graph().as_default():
          layer = signal_conv.SignalConv2D(
              3, (5, 4), padding=padding,
              kernel_initializer=initializers.IdentityInitializer())
          y = layer(tf.constant(x_value))
          ((_, _, _, y_value),) = _layer_values([(layer, tf.zeros([]), y)])
        self.assertAllClose(y_value, x_value, atol=1e-6)


class CenterAlignmentTest(tf.test.TestCase):
  """alignment="center": the reference with the shifted centers, and tf.nn's
  "SAME" convolutions (lengths multiples of the stride)."""

  def test_against_reference_1d(self):
    rng = np.random.default_rng(7)
    for taps, corr, up, down, padding in itertools.product(
        (1, 3, 4, 5), (True, False), (1, 2, 3), (1, 2, 4), ("same_zeros",
                                                             "same_reflect")):
      size = 12
      if padding == "same_reflect" and taps < max(up, down):
        continue  # a kernel shorter than the stride crops instead of reflecting
      with self.subTest(taps=taps, corr=corr, up=up, down=down, padding=padding):
        x_value = rng.normal(size=(2, size, 2)).astype(np.float32)
        kernel = rng.normal(size=(taps, 2, 3)).astype(np.float32)
        with tf.Graph().as_default():
          layer = signal_conv.SignalConv1D(
              3, taps, corr=corr, strides_up=up, strides_down=down, padding=padding,
              alignment="center", kernel_parameterizer=pz.StaticParameterizer(kernel))
          x = tf.compat.v1.placeholder(tf.float32, [2, None, 2])
          y = layer(x)
          with tf.compat.v1.Session() as sess:
            y_value = sess.run(y, {x: x_value})
        expected = reference(x_value, kernel, corr, (up,), (down,), padding, True,
                             alignment="center")
        self.assertAllClose(y_value, expected, rtol=1e-5, atol=1e-5)

  def test_is_tf_nn_same(self):
    # Correlation down = tf.nn.conv2d "SAME"; convolution up = conv2d_transpose
    # "SAME" (its kernel [k, k, filters, C]), bit for bit where it is that op.
    rng = np.random.default_rng(8)
    for taps, stride in ((5, 2), (9, 4), (3, 1), (4, 2), (3, 3)):
      with self.subTest(taps=taps, stride=stride):
        x_value = rng.normal(size=(2, 6 * stride, 4 * stride, 5)).astype(np.float32)
        kernel = rng.normal(size=(taps, taps, 5, 6)).astype(np.float32)
        with tf.Graph().as_default():
          down = signal_conv.SignalConv2D(
              6, taps, corr=True, strides_down=stride, padding="same_zeros",
              alignment="center", kernel_parameterizer=pz.StaticParameterizer(kernel))
          up = signal_conv.SignalConv2D(
              6, taps, corr=False, strides_up=stride, padding="same_zeros",
              alignment="center", kernel_parameterizer=pz.StaticParameterizer(kernel))
          x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 5])
          shape = tf.shape(x)
          fetches = [
              down(x), tf.nn.conv2d(x, kernel, stride, "SAME"), up(x),
              tf.nn.conv2d_transpose(
                  x, kernel.transpose(0, 1, 3, 2),
                  tf.stack([shape[0], shape[1] * stride, shape[2] * stride, 6]),
                  stride, "SAME")]
          with tf.compat.v1.Session() as sess:
            values = sess.run(fetches, {x: x_value})
        self.assertAllClose(values[0], values[1], rtol=1e-5, atol=1e-5)
        if stride > 1:
          self.assertAllEqual(values[2], values[3])
        else:
          self.assertAllClose(values[2], values[3], rtol=1e-5, atol=1e-5)
        self.assertEqual(values[2].shape, (2, 6 * stride ** 2, 4 * stride ** 2, 6))

  def test_default_and_bad_values(self):
    self.assertEqual(signal_conv.SignalConv2D(2, 3).alignment, "first")
    with self.assertRaisesRegex(ValueError, "`alignment` must be 'first' or "
                                "'center', got 'middle'"):
      signal_conv.SignalConv2D(2, 3, padding="same_zeros", alignment="middle")
    with self.assertRaisesRegex(ValueError, "`alignment` 'center' needs a same "
                                "padding, got padding 'valid'"):
      signal_conv.SignalConv2D(2, 3, alignment="center")


class LayerTest(tf.test.TestCase):

  def test_exports(self):
    from compression.python import layers  # pylint: disable=g-import-not-at-top
    for name in ("SignalConv1D", "SignalConv2D", "SignalConv3D"):
      self.assertIs(getattr(compression, name), getattr(signal_conv, name))
      self.assertIs(getattr(layers, name), getattr(signal_conv, name))

  def test_defaults_and_variables(self):
    layer = signal_conv.SignalConv2D(4, 3)
    self.assertEqual((layer.kernel_support, layer.strides_down, layer.strides_up),
                     ((3, 3), (1, 1), (1, 1)))
    self.assertEqual((layer.corr, layer.padding, layer.extra_pad_end, layer.use_bias,
                      layer.channel_separable, layer.data_format),
                     (False, "valid", True, False, False, "channels_last"))
    self.assertIsInstance(layer.kernel_parameterizer, pz.RDFTParameterizer)
    self.assertIsNone(layer.bias_parameterizer)
    self.assertFalse(signal_conv.SignalConv1D(1, 3, padding="valid",
                                              extra_pad_end=None).extra_pad_end)
    self.assertTrue(signal_conv.SignalConv1D(1, 3, padding="same_zeros",
                                             extra_pad_end=None).extra_pad_end)
    with tf.Graph().as_default():
      layer(tf.zeros([1, 5, 5, 2]))
      self.assertEqual([v.name for v in layer.variables],
                       ["signal_conv2d/kernel_rdft:0"])
      self.assertEqual(layer.kernel.shape.as_list(), [3, 3, 2, 4])
      self.assertIsNone(layer.bias)
      plain = signal_conv.SignalConv2D(4, 3, use_bias=True, kernel_parameterizer=None,
                                       name="plain")
      plain(tf.zeros([1, 5, 5, 2]))
      self.assertEqual([v.name for v in plain.variables],
                       ["plain/kernel:0", "plain/bias:0"])
      separable = signal_conv.SignalConv1D(3, 3, channel_separable=True, use_bias=True)
      y = separable(tf.zeros([1, 5, 2]))
      self.assertEqual(y.shape.as_list(), [1, 3, 6])
      self.assertEqual(separable.bias.shape.as_list(), [6])
      self.assertEqual(separable.output_channels, 6)

  def test_default_kernel_initializer_is_fan_in_variance_scaling(self):
    with tf.Graph().as_default():
      tf.compat.v1.set_random_seed(0)
      layer = signal_conv.SignalConv2D(64, 5)
      layer(tf.zeros([1, 9, 9, 32]))
      ((_, kernel, _, _),) = _layer_values([(layer, tf.zeros([]), tf.zeros([]))])
    # Truncated normal of variance 1 / fan_in (fan_in = 5 * 5 * 32).
    self.assertAllClose(np.var(kernel), 1 / 800, rtol=.1)

  def test_bias_activation_and_losses(self):
    x_value = np.random.default_rng(4).normal(size=(4, 8, 8, 2)).astype(np.float32)
    with tf.Graph().as_default():
      activation = gdn.GDN(name="gdn_0")
      layer = signal_conv.SignalConv2D(
          3, 5, corr=True, strides_down=2, padding="same_zeros", use_bias=True,
          activation=activation, kernel_regularizer=lambda k: tf.reduce_sum(k ** 2),
          bias_regularizer=tf.reduce_sum, activity_regularizer=tf.reduce_sum,
          bias_initializer=lambda shape, dtype=None: np.full(shape, .5))
      y = layer(tf.constant(x_value))
      self.assertLen(layer.losses, 3)
      self.assertLen(tf.compat.v1.losses.get_regularization_losses(), 3)
      self.assertEqual(activation.channels, 3)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        kernel, y_value, losses = sess.run([layer.kernel, y, layer.losses])
    linear = reference(x_value, kernel, True, (1, 1), (2, 2), "same_zeros", True) + .5
    self.assertAllClose(y_value, linear / np.sqrt(1 + .1 * linear ** 2), rtol=1e-5,
                        atol=1e-5)
    self.assertAllClose(losses, [np.sum(kernel ** 2), 1.5, np.sum(y_value) / 4],
                        rtol=1e-5)

  def test_gradients_reach_every_variable(self):
    for kwargs in (dict(strides_down=2), dict(strides_up=2),
                   dict(strides_up=2, channel_separable=True),
                   dict(strides_down=(1, 2), channel_separable=True)):
      with self.subTest(**kwargs):
        with tf.Graph().as_default():
          x = tf.random.stateless_normal([2, 6, 6, 2], seed=[1, 1])
          layer = signal_conv.SignalConv2D(2, 3, padding="same_reflect", use_bias=True,
                                           **kwargs)
          grads = tf.gradients(tf.reduce_sum(layer(x) ** 2), [x] + layer.variables)
          with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            values = sess.run(grads)
        for value in values:
          self.assertTrue(np.all(np.isfinite(value)))
          self.assertGreater(np.max(np.abs(value)), 0.)

  def test_float64(self):
    with tf.Graph().as_default():
      layer = signal_conv.SignalConv1D(2, 3, strides_up=2, dtype=tf.float64,
                                       padding="same_zeros")
      y = layer(tf.zeros([1, 4, 1], tf.float64))
      self.assertEqual(y.dtype, tf.float64)
      with self.assertRaisesRegex(ValueError, "inputs must be float64, got float32"):
        layer(tf.zeros([1, 4, 1]))

  def test_bad_arguments(self):
    cases = [
        (dict(filters=0), "`filters` must be an int >= 1, got 0"),
        (dict(kernel_support=(3, 3, 3)), r"`kernel_support` must be an int or 2 ints"),
        (dict(kernel_support=0), "`kernel_support` must be >= 1"),
        (dict(strides_down=(1, 0)), "`strides_down` must be >= 1"),
        (dict(strides_up=2.), "`strides_up` must be an int or 2 ints"),
        (dict(padding="same"), "`padding` must be one of 'valid', 'same_zeros', "
         "'same_reflect', got 'same'"),
        (dict(extra_pad_end=1), "`extra_pad_end` must be a bool"),
        (dict(corr="yes"), "`corr` must be a bool"),
        (dict(data_format="NHWC"), "`data_format` must be 'channels_last' or"),
        (dict(activation="relu"), "`activation` must be a callable or None"),
        (dict(kernel_parameterizer="rdft"), "`kernel_parameterizer` must be a "
         "Parameterizer or None"),
        (dict(kernel_initializer=3), "`kernel_initializer` must be a callable"),
        (dict(dtype=tf.int32), "`dtype` must be a floating point dtype"),
        (dict(unknown=1), "unexpected keyword argument 'unknown'"),
    ]
    for kwargs, message in cases:
      arguments = dict(filters=2, kernel_support=3)
      arguments.update(kwargs)
      with self.subTest(**{k: str(v) for k, v in kwargs.items()}):
        with self.assertRaisesRegex(ValueError, message):
          signal_conv.SignalConv2D(**arguments)

  def test_bad_inputs(self):
    with tf.Graph().as_default():
      with self.assertRaisesRegex(ValueError, r"inputs must have rank 4 \(batch, 2 "
                                  "spatial axes, channels\\)"):
        signal_conv.SignalConv2D(2, 3)(tf.zeros([1, 4, 2]))
      with self.assertRaisesRegex(ValueError, "the channel axis .* must have a static"):
        signal_conv.SignalConv2D(2, 3)(
            tf.compat.v1.placeholder(tf.float32, [1, 4, 4, None]))
      with self.assertRaisesRegex(ValueError, "spatial axis 1 of the inputs has 2 "
                                  "samples, too few for one \"valid\" output"):
        signal_conv.SignalConv2D(2, 3)(tf.zeros([1, 4, 2, 1]))
      with self.assertRaisesRegex(ValueError, "\"same_reflect\" pads spatial axis 0 by "
                                  "2 samples, which needs at least 3 input samples"):
        signal_conv.SignalConv2D(2, 5, padding="same_reflect")(tf.zeros([1, 2, 9, 1]))
      layer = signal_conv.SignalConv1D(2, 3)
      layer(tf.zeros([1, 5, 2]))
      with self.assertRaisesRegex(ValueError, "built for 2 channels, got inputs with 3"):
        layer(tf.zeros([1, 5, 3]))
      with self.assertRaisesRegex(ValueError, "not built yet"):
        _ = signal_conv.SignalConv1D(2, 3).kernel


_V1_SCRIPT = r"""
import json
import numpy as np
import tensorflow as tf
tf.compat.v1.disable_v2_behavior()
from compression.python.layers import signal_conv
reply = {}
try:
  signal_conv.SignalConv2D(2, 3)(tf.compat.v1.placeholder(tf.float32, [1, 4, 4, None]))
except ValueError as e:
  reply["unknown_channels"] = str(e)
x = tf.compat.v1.placeholder(tf.float32, [None, None, None, 2])
layer = signal_conv.SignalConv2D(3, 5, strides_up=2, padding="same_zeros", use_bias=True)
y = layer(x)
reply["static"] = [d for d in y.shape.as_list()]
with tf.compat.v1.Session() as sess:
  sess.run(tf.compat.v1.global_variables_initializer())
  reply["shape"] = list(sess.run(y, {x: np.ones([1, 3, 4, 2], np.float32)}).shape)
print(json.dumps(reply))
"""


class V1BehaviourTest(tf.test.TestCase):

  def test_under_disable_v2_behavior(self):
    reply = graph_testutil.run_json_script(
        f"import sys; sys.path.insert(0, {_REPO!r})\n" + _V1_SCRIPT, {})
    self.assertIn("the channel axis (channels_last) of the inputs must have a static "
                  "size", reply["unknown_channels"])
    self.assertEqual(reply["static"], [None, None, None, 3])
    self.assertEqual(reply["shape"], [1, 6, 8, 3])


if __name__ == "__main__":
  tf.test.main()
