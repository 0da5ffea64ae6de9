"""Tests of compression/python/layers/integer_hyper_synthesis.py (graph mode).

Run with `python -m pytest tests/test_integer_hyper_synthesis.py`.
"""

import hashlib
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

import compression  # pylint: disable=g-import-not-at-top
from compression.python.layers import conditional_models  # pylint: disable=g-import-not-at-top
from compression.python.layers import integer_hyper_synthesis as ihs  # pylint: disable=g-import-not-at-top

pytestmark = pytest.mark.both_tf_behaviors

v1 = tf.compat.v1
N, M = 4, 6
TABLE = conditional_models.default_scale_table()
LAYERS_2018 = [(N, 5, 2, True), (N, 5, 2, True), (M, 3, 1, False)]


def _pattern(shape, salt, step):
  """Deterministic float32 values, multiples of `step` in [-50, 50] steps (exact)."""
  n = np.arange(int(np.prod(shape))).reshape(shape)
  return np.float32(((n * 37 + salt * 11) % 101 - 50) * step)


class _Graph:
  """A graph with one layer, its float and integer outputs for a z placeholder."""

  def __init__(self, layers=None, table=TABLE, channels=N, kernel_step=2. ** -9,
               bias_step=2. ** -6, rng=None):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.layer = ihs.IntegerHyperSynthesis(layers or LAYERS_2018, table)
      self.z = v1.placeholder(tf.float32, [None, None, None, channels])
      self.scales = self.layer.scales(self.z)
      self.indexes = self.layer.scale_indexes(self.z)
      self.quantized = self.layer.quantized_scales(self.z)
      self.update = self.layer.update_op()
      self.fingerprint = self.layer.fingerprint()
      self.sess = v1.Session()
      self.sess.run(v1.global_variables_initializer())
      for i, v in enumerate(self.layer.trainable_variables):
        step = kernel_step if "kernel" in v.name else bias_step
        if rng is None:
          value = _pattern(v.shape.as_list(), i, step)
        else:
          value = np.float32(rng.normal(0, 50 * step, v.shape.as_list()))
        v.load(value, self.sess)

  def get(self, variable):
    return self.sess.run(variable)

  def set(self, variable, value):
    with self.graph.as_default():
      variable.load(value, self.sess)

  def run(self, fetches, z):
    return self.sess.run(fetches, {self.z: z})


def _z(rng, batch=2, height=3, width=5, channels=N, spread=3.):
  """z_hat-like values: integers plus a per-channel offset in 2**-8 steps."""
  offset = rng.integers(0, 256, [1, 1, 1, channels]) / 256.
  return np.float32(np.round(rng.normal(0, spread, [batch, height, width, channels]))
                    + offset)


def _reference_indexes(graph, z):
  """The documented integer path, with Python-int (int64) NumPy arithmetic."""
  layer = graph.layer
  a = np.clip(np.round(z.astype(np.float64) * 256), -2 ** 18, 2 ** 18).astype(np.int64)
  fraction_bits = 8
  last = len(layer.layers) - 1
  for i, ((_, size, stride, relu), (kernel, bias, bits)) in enumerate(
      zip(layer.layers, layer._integer)):  # pylint: disable=protected-access
    kernel, bias, bits = graph.get(kernel), graph.get(bias), int(graph.get(bits))
    assert np.array_equal(kernel, np.round(kernel)) and np.all(np.abs(kernel) < 2 ** 14)
    kernel, bias = kernel.astype(np.int64), bias.astype(np.int64)
    batch, height, width, _ = a.shape
    pad = max(size - stride, 0) // 2
    acc = np.zeros([batch, height * stride, width * stride, kernel.shape[2]], np.int64)
    # Each input position adds its kernel-weighted values around (i s - pad, j s - pad).
    for di in range(size):
      for dj in range(size):
        rows = np.arange(height) * stride + di - pad
        cols = np.arange(width) * stride + dj - pad
        keep_r = (rows >= 0) & (rows < height * stride)
        keep_c = (cols >= 0) & (cols < width * stride)
        term = np.einsum("bhwc,fc->bhwf", a, kernel[di, dj])
        acc[:, rows[keep_r][:, None], cols[keep_c][None, :]] += (
            term[:, keep_r][:, :, keep_c])
    acc += bias
    if i < last:
      shift = fraction_bits + bits - 12
      scaled = acc >> shift if shift >= 0 else acc * 2 ** -shift
      a = np.clip(scaled, 0, 2 ** 22)
      fraction_bits = 12
    elif relu:
      acc = np.maximum(acc, 0)
  thresholds = graph.get(layer._thresholds).astype(np.int64)  # pylint: disable=protected-access
  return np.clip(np.searchsorted(thresholds, acc, side="right") - 1, 0,
                 len(thresholds) - 1)


def test_variables_have_the_image_example_names_dtypes_and_shapes():
  graph = _Graph()
  expected = []
  in_channels = N
  for i, (filters, size, _, _) in enumerate(LAYERS_2018):
    scope = f"hyper_synthesis/conv_{i}/"
    kernel = [size, size, filters, in_channels]
    expected += [(scope + "kernel", tf.float32, kernel, True),
                 (scope + "bias", tf.float32, [filters], True),
                 (scope + "kernel_int", tf.float64, kernel, False),
                 (scope + "bias_int", tf.float64, [filters], False),
                 (scope + "weight_bits", tf.int32, [], False)]
    in_channels = filters
  expected.append(("hyper_synthesis/scale_thresholds", tf.float64, [64], False))
  with graph.graph.as_default():
    trainable = set(v1.trainable_variables())
    actual = [(v.op.name, v.dtype.base_dtype, v.shape.as_list(), v in trainable)
              for v in v1.global_variables()]
  assert actual == expected
  assert [v.op.name for v in graph.layer.variables] == [e[0] for e in expected]
  assert graph.layer.updates == [graph.update]
  assert graph.layer.update_op() is graph.update
  assert graph.layer.total_stride == 4
  assert graph.layer.layers == tuple(LAYERS_2018)


def test_golden_indexes_and_fingerprint():
  # Pinned from the image example's HyperSynthesis (commit 545c88e) with these
  # weights: the library layer must give the same integers, so its trained
  # checkpoints and files keep working.
  graph = _Graph()
  graph.sess.run(graph.update)
  z = np.float32((np.arange(2 * 3 * 5 * N).reshape([2, 3, 5, N]) * 29 % 61 - 30) / 4.)
  indexes = graph.run(graph.indexes, z)
  assert indexes.shape == (2, 12, 20, M) and indexes.dtype == np.int32
  assert indexes[0, :2, :3].tolist() == [
      [[18, 22, 15, 19, 11, 16], [19, 23, 15, 19, 11, 16], [18, 22, 15, 19, 11, 16]],
      [[18, 23, 15, 20, 11, 16], [18, 23, 14, 19, 11, 16], [18, 22, 15, 20, 11, 16]]]
  assert hashlib.sha256(indexes.astype("<i4").tobytes()).hexdigest() == (
      "cc7e32869730f990c5fe729b152db0417623bbbe4825f5e8b8c1e8524a66946a")
  if sys.byteorder == "little":  # serialize_tensor writes native byte order
    assert graph.get(graph.fingerprint) == 7881708150718884360


@pytest.mark.parametrize("seed,kernel_step", [(1, 2. ** -9), (2, 2. ** -3),
                                              (3, 2. ** -20)])
def test_integer_path_equals_the_documented_arithmetic(seed, kernel_step):
  rng = np.random.default_rng(seed)
  graph = _Graph(rng=rng, kernel_step=kernel_step)
  graph.sess.run(graph.update)
  for shape in [(2, 3, 5), (1, 1, 1), (1, 4, 2)]:
    z = _z(rng, *shape)
    np.testing.assert_array_equal(graph.run(graph.indexes, z),
                                  _reference_indexes(graph, z))


def test_other_layer_lists_and_a_last_relu():
  rng = np.random.default_rng(4)
  layers = [(3, 3, 2, True), (5, 1, 1, True)]
  graph = _Graph(layers=layers, table=[.5, 1., 2., 4., 8.], rng=rng)
  graph.sess.run(graph.update)
  z = _z(rng, 2, 4, 3)
  indexes, scales = graph.run([graph.indexes, graph.scales], z)
  assert indexes.shape == scales.shape == (2, 8, 6, 5)
  np.testing.assert_array_equal(indexes, _reference_indexes(graph, z))
  assert np.all(scales >= 1.)   # exp(relu(h))


def test_indexes_follow_the_float_scales():
  rng = np.random.default_rng(5)
  graph = _Graph(rng=rng, bias_step=2. ** -4)
  graph.sess.run(graph.update)
  scales, indexes, quantized = graph.run(
      [graph.scales, graph.indexes, graph.quantized], _z(rng, 1, 12, 10, spread=6.))
  float_indexes = np.clip(
      np.searchsorted(np.float32(TABLE), scales, side="right") - 1, 0, 63)
  assert len(np.unique(indexes)) >= 10, "the test should cover many table entries"
  assert np.mean(indexes == float_indexes) >= .99
  assert np.max(np.abs(indexes - float_indexes)) <= 1
  np.testing.assert_array_equal(quantized, np.float32(TABLE)[indexes])


def test_update_guards_2_pow_53_and_writes_nothing_then():
  graph = _Graph()
  bias = graph.layer.trainable_variables[1]          # conv_0/bias
  graph.set(bias, np.full([N], 1e15, np.float32))
  with pytest.raises(tf.errors.InvalidArgumentError, match=r"conv_0: integer sums "
                     r"could exceed 2\*\*53"):
    graph.sess.run(graph.update)
  assert not any(np.any(graph.get(v)) for v in graph.layer.variables
                 if v.dtype.base_dtype != tf.float32)
  # A last kernel so small that its exponent is capped: thresholds too large.
  graph = _Graph(kernel_step=2. ** -40)
  with pytest.raises(tf.errors.InvalidArgumentError, match="thresholds reach 2"):
    graph.sess.run(graph.update)


def test_huge_kernel_is_rescaled():
  graph = _Graph()
  kernel = graph.layer.trainable_variables[2]       # conv_1/kernel
  value = graph.get(kernel)
  value[0, 0, 0, 0] = 1e6
  graph.set(kernel, value)
  graph.sess.run(graph.update)
  kernel_int = graph.get(graph.layer.variables[7])  # conv_1/kernel_int
  assert np.max(np.abs(kernel_int)) < 2 ** 14
  assert np.max(np.abs(kernel_int)) >= 2 ** 12
  z = _z(np.random.default_rng(6))
  np.testing.assert_array_equal(graph.run(graph.indexes, z),
                                _reference_indexes(graph, z))


def test_round_trip_with_indexes_in_separate_graphs(tmp_path):
  rng = np.random.default_rng(7)
  path = str(tmp_path / "model")
  z_value = _z(rng, 2, 3, 4)
  graph = _Graph(rng=rng)
  with graph.graph.as_default():
    gc = compression.GaussianConditional(None, indexes=graph.indexes,
                                         name="gaussian_conditional")
    legacy = compression.GaussianConditional(graph.quantized, index_check=False,
                                             name="legacy")
    y = v1.placeholder(tf.float32, [None, None, None, M])
    strings, legacy_strings = gc.compress(y), legacy.compress(y)
    graph.sess.run(v1.variables_initializer(gc.variables + legacy.variables))
    graph.sess.run(graph.update)
    quantized = graph.run(graph.quantized, z_value)
    y_value = np.float32(rng.normal(size=quantized.shape) * quantized * 2.)
    strings, legacy_strings = graph.sess.run(
        [strings, legacy_strings], {graph.z: z_value, y: y_value})
    v1.train.Saver().save(graph.sess, path)
  assert not gc.index_check
  # The format of the float path without the check (the image example's files).
  assert list(strings) == list(legacy_strings)

  with tf.Graph().as_default():
    z = v1.placeholder(tf.float32, [None, None, None, N])
    layer = compression.IntegerHyperSynthesis(LAYERS_2018, TABLE)
    gc = compression.GaussianConditional(None, indexes=layer.scale_indexes(z),
                                         name="gaussian_conditional")
    decoded, exact = gc.decompress(strings, return_exact=True)
    with v1.Session() as sess:
      v1.train.Saver().restore(sess, path)
      decoded, exact = sess.run([decoded, exact], {z: z_value})
  np.testing.assert_array_equal(decoded, np.round(y_value))
  assert exact.tolist() == [True, True]


def test_invalid_arguments():
  for layers in [[], [(4, 5, 2)], [(0, 5, 2, True)], [(4, 5, 2, "yes")], "abc",
                 [(4, 5, 2, False), (4, 3, 1, False)], None]:
    with pytest.raises(ValueError, match="layers"):
      ihs.IntegerHyperSynthesis(layers, TABLE)
  for table in [[], [1., 1.], [2., 1.], [0., 1.], [1., np.inf], "ab", [[1., 2.]]]:
    with pytest.raises(ValueError, match="scale_table"):
      ihs.IntegerHyperSynthesis(LAYERS_2018, table)
  with pytest.raises(ValueError, match="name"):
    ihs.IntegerHyperSynthesis(LAYERS_2018, TABLE, name="")
  with tf.Graph().as_default():
    layer = ihs.IntegerHyperSynthesis(LAYERS_2018, TABLE)
    for method in (layer.update_op, layer.fingerprint):
      with pytest.raises(ValueError, match="not built"):
        method()
    assert layer.updates == [] and layer.variables == []
    with pytest.raises(ValueError, match="static size"):
      layer.scales(v1.placeholder(tf.float32, [1, 2, 2, None]))
    with pytest.raises(ValueError, match="NHWC"):
      layer.scale_indexes(tf.zeros([2, 3, N]))
    assert not layer.built


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
