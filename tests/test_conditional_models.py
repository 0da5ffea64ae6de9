"""Tests of compression/python/layers/conditional_models.py (graph mode).

Run with `python -m pytest tests/test_conditional_models.py`. The coding tests need the
op library (`compression/_compression_ops.so` or `bazel-bin/compression/`).
"""

import os
import sys

import numpy as np
import pytest
from scipy import stats
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

import compression  # pylint: disable=g-import-not-at-top
import graph_testutil  # pylint: disable=g-import-not-at-top
from compression.python.layers import conditional_models  # pylint: disable=g-import-not-at-top

GaussianConditional = conditional_models.GaussianConditional
LogisticConditional = conditional_models.LogisticConditional
LaplacianConditional = conditional_models.LaplacianConditional

# CI runs this module with v2 behaviour on and off (tests/conftest.py).
pytestmark = pytest.mark.both_tf_behaviors

# Each family with its scipy distribution.
_FAMILIES = [(GaussianConditional, stats.norm), (LogisticConditional, stats.logistic),
             (LaplacianConditional, stats.laplace)]


_session = graph_testutil.session_with_tables


class SymmetricConditionalTest(tf.test.TestCase):

  # -- Configuration. -------------------------------------------------------------

  def test_exports_and_defaults(self):
    self.assertIs(compression.GaussianConditional, GaussianConditional)
    self.assertIs(compression.LogisticConditional, LogisticConditional)
    self.assertIs(compression.LaplacianConditional, LaplacianConditional)
    self.assertIs(compression.SymmetricConditional,
                  conditional_models.SymmetricConditional)
    table = conditional_models.default_scale_table()
    self.assertLen(table, 64)
    self.assertAllClose([table[0], table[-1]], [.11, 256.])
    layer = GaussianConditional(tf.ones([2, 3]))
    self.assertEqual(layer.scale_table, tuple(table))
    self.assertEqual(layer.scale_bound, table[0])
    self.assertEqual(layer.name, "gaussian_conditional")
    self.assertEqual(layer.tail_mass, 1e-9)
    self.assertEqual(layer.range_coder_precision, 16)
    self.assertEqual(layer.dtype, tf.float32)
    self.assertIsNone(layer.mean)

  def test_invalid_arguments(self):
    scale = np.ones([2], np.float32)
    for kwargs in [dict(scale_table=[]), dict(scale_table=[1., 1.]),
                   dict(scale_table=[2., 1.]), dict(scale_table=[0., 1.]),
                   dict(scale_table=[1., np.inf]), dict(scale_table=[[1., 2.]]),
                   dict(scale_table=tf.constant([1., 2.])), dict(scale_table="ab"),
                   dict(scale_bound=-1.), dict(scale_bound="1"),
                   dict(tail_mass=0), dict(likelihood_bound=1.),
                   dict(range_coder_precision=17), dict(dtype=tf.float16),
                   dict(dtype="int32"), dict(dtype="no_such_type"), dict(name=""),
                   dict(trainable="yes"), dict(index_check="yes"),
                   dict(indexes=np.zeros([2], np.float32)),
                   dict(indexes=np.zeros([3], np.int32)), dict(dynamic=True),
                   dict(activity_regularizer="l2"), dict(no_such_keyword=1)]:
      with self.subTest(**{k: str(v) for k, v in kwargs.items()}):
        with self.assertRaises(ValueError):
          GaussianConditional(scale, **kwargs)
    with self.assertRaisesRegex(
        ValueError, "LaplacianConditional supports only dtypes float32 and float64 "
        r"\(the coding tables are float32 either way\), got dtype='float16'"):
      LaplacianConditional(scale, dtype="float16")
    GaussianConditional(scale, dtype=tf.float32)
    GaussianConditional(scale, dtype="float32")
    self.assertEqual(GaussianConditional(scale, dtype="float64").dtype, tf.float64)
    self.assertEqual(GaussianConditional(scale, dtype=np.float64).dtype, tf.float64)
    with tf.Graph().as_default():
      layer = GaussianConditional(tf.constant(scale))
      with self.assertRaisesRegex(ValueError, "one of"):
        layer.quantize(scale, "round")
      with self.assertRaisesRegex(ValueError, "scale's shape"):
        layer.compress(tf.zeros([3]))

  def test_variables_and_update(self):
    with tf.Graph().as_default():
      layer = GaussianConditional(tf.ones([2, 3]), scale_table=[.5, 1., 2.])
      layer(tf.zeros([2, 3]), training=True)
      self.assertTrue(layer.built)
      self.assertEqual([v.name for v in layer.variables], [
          "gaussian_conditional/cdf:0", "gaussian_conditional/cdf_length:0",
          "gaussian_conditional/cdf_offset:0",
          "gaussian_conditional/scale_table_bits:0",
          "gaussian_conditional/table_fingerprint:0"])
      self.assertEqual(layer.trainable_variables, [])
      self.assertLen(layer.updates, 1)
      self.assertEqual(layer.compute_output_shape((None, 3)),
                       (tf.TensorShape([None, 3]),) * 2)

  def test_layer_keywords_of_1x_scripts(self):
    with tf.Graph().as_default():
      layer = LogisticConditional(
          tf.ones([2, 3]), scale_table=[.5, 1., 2.], name="prior", trainable=False,
          dtype="float32", activity_regularizer=tf.reduce_sum, dynamic=False,
          autocast=False, input_shape=(3,), batch_size=2)
      self.assertIs(layer.activity_regularizer, tf.reduce_sum)
      outputs, likelihoods = layer(tf.constant([[1., 2., 3.], [4., 5., 6.]]),
                                   training=False)
      self.assertLen(layer.losses, 2)   # outputs and likelihoods, per batch item
      self.assertEqual(tf.compat.v1.get_collection(
          tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES), layer.losses)
      with _session() as sess:
        losses, outputs, likelihoods = sess.run(
            [layer.losses, outputs, likelihoods])
    self.assertAllClose(losses, [outputs.sum() / 2, likelihoods.sum() / 2])
    with self.assertRaisesRegex(ValueError, "unexpected keyword argument 'weights'"):
      GaussianConditional(tf.ones([2]), weights=[])

  # -- Rank of `scale` (issue 23 item 5). ------------------------------------------

  def test_scale_of_unknown_rank(self):
    # A placeholder without a shape: coding needs the rank when the graph is built
    # (a clear ValueError, not a TypeError or TensorFlow's as_list() error); call()
    # and quantize() broadcast and work.
    message = (r"GaussianConditional: {} needs the rank of `scale` known when the "
               r"graph is built \(got a tensor of unknown rank\); give the "
               r"placeholder a shape such as \[None, None, None, C\]")
    scale_value = np.float32([[.5, 2., 9.], [1., 30., .2]])
    values = np.float32([[.4, -3.2, 7.], [0., 41.6, -.7]])
    with tf.Graph().as_default():
      scale = tf.compat.v1.placeholder(tf.float32)
      layer = GaussianConditional(scale)
      with self.assertRaisesRegex(ValueError, message.format("compress")):
        layer.compress(tf.constant(values))
      with self.assertRaisesRegex(ValueError, message.format("compress")):
        layer.compress(tf.compat.v1.placeholder(tf.float32))
      with self.assertRaisesRegex(ValueError, message.format("decompress")):
        layer.decompress(tf.constant([b"", b""]))
      with self.assertRaisesRegex(ValueError, message.format("decompress")):
        layer.decompress(tf.compat.v1.placeholder(tf.string), return_exact=True)
      inputs = tf.compat.v1.placeholder(tf.float32)
      outputs, likelihoods = layer(inputs, training=False)
      noisy, _ = layer(inputs, training=True)
      symbols = layer.quantize(inputs, "symbols")
      _, expected = GaussianConditional(scale_value)(values, training=False)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        outputs, likelihoods, noisy, symbols, expected = sess.run(
            [outputs, likelihoods, noisy, symbols, expected],
            {scale: scale_value, inputs: values})
    self.assertAllEqual(outputs, np.round(values))
    self.assertAllEqual(symbols, np.round(values))
    self.assertAllInRange(noisy - values, -.5, .5)
    self.assertAllEqual(likelihoods, expected)
    with tf.Graph().as_default():
      # With `indexes` too, both unknown; a scalar scale has no batch axis.
      layer = LogisticConditional(tf.compat.v1.placeholder(tf.float32),
                                  indexes=tf.compat.v1.placeholder(tf.int32))
      with self.assertRaisesRegex(
          ValueError, "LogisticConditional: decompress needs the rank of `scale` and "
          "`indexes` known"):
        layer.decompress(tf.constant([b""]))
      with self.assertRaisesRegex(
          ValueError, r"LaplacianConditional: compress needs `scale` of rank 1 or "
          r"more \(\[B, ...\], batch first"):
        LaplacianConditional(tf.constant(1.)).compress(tf.constant(1.))
      with self.assertRaisesRegex(ValueError, "decompress needs `scale` of rank 1"):
        LaplacianConditional(tf.constant(1.)).decompress(tf.constant([b""]))

  def test_known_rank_placeholders_and_inputs_of_unknown_rank(self):
    # 1.3's test_codec: placeholders of known rank, unknown sizes. Inputs of
    # unknown rank take the scale's shape (checked at run time).
    rng = np.random.default_rng(21)
    values = np.float32(rng.normal(0, 20, [3, 40]))
    scale_value = np.float32(rng.uniform(5, 50, [3, 40]))
    mean_value = np.float32(rng.normal(0, 1, [3, 40]))
    with tf.Graph().as_default():
      scale = tf.compat.v1.placeholder(tf.float32, [None, None])
      mean = tf.compat.v1.placeholder(tf.float32, [None, None])
      layer = GaussianConditional(scale, [2. ** x for x in range(-10, 10)], mean=mean)
      inputs = tf.compat.v1.placeholder(tf.float32)
      strings = layer.compress(inputs)
      self.assertEqual(strings.shape.as_list(), [None])
      decoded = layer.decompress(strings)
      self.assertEqual(decoded.shape.as_list(), [None, None])
      feed = {inputs: values, scale: scale_value, mean: mean_value}
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        self.assertAllEqual(sess.run(decoded, feed),
                            np.round(values - mean_value) + mean_value)
        with self.assertRaises(tf.errors.InvalidArgumentError):
          sess.run(strings, {**feed, inputs: values[None]})

  # -- float64 (TensorFlow Compression 1.3's tests, issue 23 item 5). ---------------

  def test_float64_likelihoods_match_scipy(self):
    # 1.3's test_distribution, in float64: float64 placeholders, dtype=tf.float64.
    values = np.arange(-5, 1, dtype=np.float64)[:, None]
    scales = 2 ** np.linspace(-3, 3, 10)[None, :]
    mean_value = np.full([6, 10], .1)
    inputs_value = values + mean_value          # integers from the mean
    for cls, dist in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(tf.float64, [None, None])
        scale = tf.compat.v1.placeholder(tf.float64, [None, None])
        mean = tf.compat.v1.placeholder(tf.float64, [None, None])
        layer = cls(scale, [1], scale_bound=0, mean=mean, dtype=tf.float64,
                    likelihood_bound=0)
        self.assertEqual(layer.dtype, tf.float64)
        self.assertEqual(layer.scale.dtype, tf.float64)
        self.assertEqual(layer.mean.dtype, tf.float64)
        outputs, likelihood = layer(inputs, training=False)
        noisy, noisy_likelihood = layer(inputs, training=True)
        given = layer.likelihood(inputs)
        for tensor in (outputs, likelihood, noisy, noisy_likelihood, given):
          self.assertEqual(tensor.dtype, tf.float64)
        with tf.compat.v1.Session() as sess:
          sess.run(tf.compat.v1.global_variables_initializer())
          outputs, likelihoods, noisy, given = sess.run(
              [outputs, likelihood, noisy, given],
              {inputs: inputs_value, scale: scales, mean: mean_value})
        self.assertAllEqual(outputs, inputs_value)
        self.assertAllEqual(given, likelihoods)
        self.assertAllInRange(noisy - inputs_value, -.5, .5)
        # The symmetric form, in the lower tail: relative accuracy of float64.
        expected = (dist.cdf((values + .5) / scales) - dist.cdf((values - .5) / scales))
        self.assertAllClose(likelihoods, expected, rtol=1e-9, atol=0)

  def test_likelihood_under_other_scales_and_means(self):
    # likelihood(outputs, scale, mean) is the likelihood of a layer made with that
    # scale and mean (the scale bounded below as the layer's own), differentiable in
    # both: an encoder refining z moves y's scales and means through it.
    values = np.array([[-3., -.4, 0., .2, 1., 7.]], np.float32)
    own_scale, own_mean = np.full([1, 6], 2., np.float32), np.zeros([1, 6], np.float32)
    other_scale = np.array([[.01, .5, 1., 3., 8., 20.]], np.float32)
    other_mean = np.array([[-3.3, .1, .3, -1., .9, 6.]], np.float32)
    for cls, _ in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        layer = cls(own_scale, mean=own_mean, scale_bound=.11)
        reference = cls(other_scale, mean=other_mean, scale_bound=.11)
        layer(values, training=False)
        reference(values, training=False)
        scale = tf.constant(other_scale)
        mean = tf.constant(other_mean)
        given = layer.likelihood(values, scale, mean)
        own = layer.likelihood(values)
        gradients = tf.gradients(tf.reduce_sum(tf.math.log(given)), [scale, mean])
        with tf.compat.v1.Session() as sess:
          sess.run(tf.compat.v1.global_variables_initializer())
          given, own, expected, own_given, gradients = sess.run(
              [given, own, reference.likelihood(values),
               layer.likelihood(values, own_scale, own_mean), gradients])
        self.assertAllClose(given, expected, rtol=1e-6, atol=0)
        self.assertAllClose(own_given, own, rtol=1e-6, atol=0)
        self.assertFalse(np.allclose(given, own))
        for gradient in gradients:
          self.assertTrue(np.all(np.isfinite(gradient)))
          self.assertGreater(np.abs(gradient).max(), 0.)

  def test_float64_gradients(self):
    for cls, _ in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        scale = tf.constant([1e-8, .05, 1., 1e4, 1e7], tf.float64)
        mean = tf.constant([0., 0., 3., -5., 1e6], tf.float64)
        values = tf.constant([0., 3., 8., 7., 0.], tf.float64)
        layer = cls(scale, scale_bound=1e-9, mean=mean, dtype=tf.float64)
        _, likelihoods = layer(values, training=True)
        bits = tf.reduce_sum(-tf.math.log(likelihoods)) / np.log(2.)
        gradients = tf.gradients(bits, [values, scale, mean])
        self.assertEqual([g.dtype for g in gradients], [tf.float64] * 3)
        with tf.compat.v1.Session() as sess:
          gradients = sess.run(gradients)
        for gradient in gradients:
          self.assertAllEqual(np.isfinite(gradient), [True] * 5)
        self.assertLess(gradients[1][2], 0)   # 5 scales out: wider is likelier

  def test_float64_coding(self):
    # compress/decompress of float64 inputs round-trip; the coding is float32's:
    # the same int32 tables and, for the same symbols and indexes, the same strings.
    rng = np.random.default_rng(22)
    shape = [3, 6, 5]
    scale = np.exp(rng.uniform(np.log(.05), np.log(500.), shape))
    mean = rng.normal(0, 10, shape)
    values = mean + rng.laplace(0, 1, shape) * scale
    values[0, 0, :2] = [1e6 + .25, -3e6]      # escape coded (float32-exact symbols)
    for cls, _ in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        layer = cls(tf.constant(scale), mean=tf.constant(mean), dtype=tf.float64)
        dequantized, _ = layer(values, training=False)
        strings = layer.compress(tf.constant(values))
        decoded, exact = layer.decompress(strings, return_exact=True)
        self.assertEqual(decoded.dtype, tf.float64)
        # Float32 scales, means and inputs of the same symbols: the same strings.
        scale32, mean32 = np.float32(scale), np.float32(mean)
        values32 = np.float32(np.round(values - mean)) + mean32
        layer32 = cls(scale32, mean=mean32)
        strings32 = layer32.compress(values32)
        on64 = cls(np.float64(scale32), mean=np.float64(mean32), dtype="float64")
        strings_on64 = on64.compress(np.float64(values32))
        decoded_on64 = on64.decompress(strings32)
        with _session() as sess:
          dequantized, strings, decoded, exact, strings32, strings_on64, tables, \
              tables32, decoded_on64 = sess.run(
                  [dequantized, strings, decoded, exact, strings32, strings_on64,
                   layer.variables, layer32.variables, decoded_on64])
        self.assertEqual(decoded.dtype, np.float64)
        self.assertAllEqual(decoded, dequantized)
        self.assertAllEqual(decoded, np.round(values - mean) + mean)
        self.assertAllEqual(exact, [True] * 3)
        self.assertEqual(list(strings_on64), list(strings32))
        self.assertAllEqual(decoded_on64, np.round(np.float64(values32) - mean32)
                            + np.float64(mean32))
        for table, table32 in zip(tables, tables32):
          self.assertEqual(table.dtype, table32.dtype)
          self.assertAllEqual(table, table32)
        self.assertEqual(tables[0].dtype, np.int32)

  def test_float64_python_inputs_keep_their_precision(self):
    # Python lists become float64 directly, not through float32: the same noisy
    # outputs (same seeds) as a float64 array.
    values = [[.1, 1. / 3, 1e-10]]
    noisy = []
    for inputs in (values, np.float64(values)):
      with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(1)
        layer = GaussianConditional(tf.ones([1, 3], tf.float64), dtype=tf.float64)
        outputs, _ = layer(inputs, training=True)
        self.assertEqual(outputs.dtype, tf.float64)
        with tf.compat.v1.Session() as sess:
          noisy.append(sess.run(outputs))
    self.assertAllEqual(noisy[0], noisy[1])

  def test_float64_table_index_rounds_scales_to_float32(self):
    with tf.Graph().as_default():
      # Just below 2 (within half a float32 step): rounds to 2, index 1.
      scale = tf.constant([[1.5, 2. - 1e-12, 2. - 1e-6, 4., 1e300]], tf.float64)
      layer = GaussianConditional(scale, scale_table=[1., 2., 4.], dtype=tf.float64)
      layer.build(scale.shape)
      index = layer._table_index(layer._table_variables[3])  # pylint: disable=protected-access
      # The indexes path: the float32 table entries, as float64 scales.
      only = LaplacianConditional(None, indexes=[[0, 2]], scale_table=[.3, 1., 7.],
                                  dtype=tf.float64)
      self.assertEqual(only.scale.dtype, tf.float64)
      with _session(layer) as sess:
        self.assertAllEqual(sess.run(index), [[0, 1, 0, 2, 2]])
        self.assertAllEqual(sess.run(only.scale), [np.float32([.3, 7.])])

  # -- Likelihoods. ---------------------------------------------------------------

  def _likelihoods(self, cls, values, scale, mean=None, **kwargs):
    with tf.Graph().as_default():
      layer = cls(tf.constant(scale, tf.float32), mean=mean, **kwargs)
      self.assertEqual(layer.scale.dtype, tf.float32)
      # Rounding around the mean keeps `values` (integers + mean) as they are.
      _, likelihoods = layer(tf.constant(values, tf.float32), training=False)
      with tf.compat.v1.Session() as sess:
        return sess.run(likelihoods)

  def test_likelihoods_sum_to_one_and_match_scipy(self):
    scales = np.array([.11, .3, 1., 3.7, 20., 256.], np.float32)
    grid = np.arange(-4000, 4001, dtype=np.float32)
    mean = .3
    for cls, dist in _FAMILIES:
      with self.subTest(cls.__name__):
        likelihoods = self._likelihoods(
            cls, grid[None, :] + mean, np.repeat(scales[:, None], grid.size, 1),
            mean=mean, likelihood_bound=0.)
        # float32 differences of cumulatives near .5 lose ~1e-8 each at wide scales.
        self.assertAllClose(likelihoods.astype(np.float64).sum(axis=1),
                            np.ones(len(scales)), atol=2e-4)
        self.assertAllClose(likelihoods[:3].astype(np.float64).sum(axis=1),
                            np.ones(3), atol=1e-6)
        scale = scales[:, None].astype(np.float64)
        expected = (dist.cdf((grid + .5) / scale) - dist.cdf((grid - .5) / scale))
        self.assertAllClose(likelihoods, expected, rtol=0, atol=1e-6)
        # Far in the tail, relative accuracy too (the symmetric form).
        tail = likelihoods[:, -1]
        tail_expected = expected[:, -1]
        big = tail_expected > 1e-30
        self.assertAllClose(tail[big], tail_expected[big], rtol=1e-3)

  def test_likelihood_bound_and_scale_bound(self):
    likelihoods = self._likelihoods(GaussianConditional, [[0., 100.]], [[1e-3, 1.]])
    # The scale is bounded by .11: P(0) under N(0, .11**2) is ~1 - 5e-6.
    self.assertAllClose(likelihoods[0, 0], 1., atol=1e-5)
    self.assertEqual(likelihoods[0, 1], np.float32(1e-9))

  def test_gradients_finite_at_tiny_and_huge_scales(self):
    for cls, _ in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        scale = tf.constant([1e-8, 1e-3, .05, 1., 1e4, 1e7, 1e-8, 1e7])
        mean = tf.constant([0., .2, 0., 3., -5., 0., 0., 1e6])
        values = tf.constant([0., 1., 3., 8., 7., 1e4, 1e3, 0.])
        layer = cls(scale, scale_bound=1e-9, mean=mean)
        _, likelihoods = layer(values, training=True)
        bits = tf.reduce_sum(-tf.math.log(likelihoods)) / np.log(2.)
        gradients = tf.gradients(bits, [scale, mean])
        with tf.compat.v1.Session() as sess:
          grad_scale, grad_mean = sess.run(gradients)
        self.assertAllEqual(np.isfinite(grad_scale), [True] * 8)
        self.assertAllEqual(np.isfinite(grad_mean), [True] * 8)
        # A value 5 scales from the mean: a wider scale makes it likelier, and so
        # does moving the mean towards it.
        self.assertLess(grad_scale[3], 0)
        self.assertLess(grad_mean[3], 0)

  def test_scale_bound_zero_disables_the_bound(self):
    # As 1.3 documents: scale_bound=0 applies no bound; scales below the table
    # still code with its first entry.
    values = np.float32([[0., 1., -1., 2.]])
    scale = np.float32([[.02, .02, .05, .05]])
    unbounded = self._likelihoods(GaussianConditional, values, scale, scale_bound=0.)
    bounded = self._likelihoods(GaussianConditional, values, scale)
    expected = stats.norm.cdf(.5 - np.abs(values), scale=scale) - stats.norm.cdf(
        -.5 - np.abs(values), scale=scale)
    self.assertAllClose(unbounded, np.maximum(expected, 1e-9), rtol=1e-5)
    self.assertAllLess(bounded[0, 1:], .01)         # the .11 bound widens them
    self.assertNotAllClose(bounded, unbounded)
    with tf.Graph().as_default():
      layer = GaussianConditional(tf.constant(scale), scale_bound=0.)
      self.assertEqual(layer.scale_bound, 0.)
      decoded = layer.decompress(layer.compress(values))
      with _session() as sess:
        self.assertAllEqual(sess.run(decoded), values)

  def test_scale_below_the_bound_is_pulled_up(self):
    with tf.Graph().as_default():
      scale = tf.constant([.01, .01])
      layer = GaussianConditional(scale)       # scale_bound .11
      _, likelihoods = layer(tf.constant([0., 1.]), training=True)
      bits = -tf.math.log(likelihoods)
      gradients = tf.gradients(bits[1], scale)[0]
      with tf.compat.v1.Session() as sess:
        grad = sess.run(gradients)
    self.assertLess(grad[1], 0)   # Gradient descent increases the scale.
    self.assertEqual(grad[0], 0)

  # -- Quantization. --------------------------------------------------------------

  def test_quantize_modes(self):
    rng = np.random.default_rng(3)
    values = rng.normal(0, 5, [4, 50]).astype(np.float32)
    mean = rng.normal(0, 2, [4, 50]).astype(np.float32)
    with tf.Graph().as_default():
      layer = LaplacianConditional(tf.ones([4, 50]), mean=mean)
      noise, dequantized, symbols = [layer.quantize(values, mode) for mode in
                                     ("noise", "dequantize", "symbols")]
      evaluation, _ = layer(values, training=tf.constant(False))
      with tf.compat.v1.Session() as sess:
        noise, dequantized, symbols, evaluation = sess.run(
            [noise, dequantized, symbols, evaluation])
    self.assertAllInRange(noise - values, -.5, .5)
    self.assertEqual(symbols.dtype, np.int32)
    self.assertAllEqual(symbols, np.round(values - mean))
    self.assertAllEqual(dequantized, np.round(values - mean) + mean)
    self.assertAllEqual(evaluation, dequantized)

  # -- Tables. --------------------------------------------------------------------

  def test_table_index_rule(self):
    with tf.Graph().as_default():
      scale = tf.constant([[.05, 1., 1.5, 2., 3.99, 4., 1e9]])
      layer = GaussianConditional(scale, scale_table=[1., 2., 4.], scale_bound=.01)
      layer.build(scale.shape)
      index = layer._table_index(layer._table_variables[3])  # pylint: disable=protected-access
      with _session(layer) as sess:
        self.assertAllEqual(sess.run(index), [[0, 0, 0, 1, 1, 2, 2]])

  def test_table_index_is_exact(self):
    # Against numpy's rule (entries <= scale, minus one, clamped) at the table
    # entries, one float step either side of them, and random scales, for tables
    # of spread and close entries.
    rng = np.random.default_rng(4)
    tables = [conditional_models.default_scale_table(), [1.], [.5, .5000001, 3.],
              np.sort(rng.uniform(.01, 100., 200)), np.geomspace(1e-3, 1e5, 7)]
    for table in tables:
      table = np.unique(np.float32(table))
      scale = np.concatenate([
          table, np.nextafter(table, np.float32(0)), np.nextafter(table, np.inf),
          np.float32(np.exp(rng.uniform(-10, 14, 2000))), np.float32([1e-30, 3e38])])
      for bound in (np.float32(0.), np.float32(1e-30),
                    table[len(table) // 2] * np.float32(1.01),
                    np.float32(1e30)):
        expected = np.clip(np.searchsorted(table, np.maximum(scale, bound),
                                           side="right") - 1, 0, None)
        with self.subTest(entries=len(table), bound=bound), tf.Graph().as_default():
          layer = GaussianConditional(scale, scale_table=table, scale_bound=bound)
          layer.build(scale.shape)
          index = layer._table_index(layer._table_variables[3])  # pylint: disable=protected-access
          with _session(layer) as sess:
            self.assertAllEqual(sess.run(index), expected)

  def test_scale_table_of_the_checkpoint_must_match(self):
    with tf.Graph().as_default():
      layer = GaussianConditional(tf.ones([1, 3]), scale_table=[1., 2.])
      layer.build((1, 3))
      strings = layer.compress(tf.zeros([1, 3]))
      with _session(layer) as sess:
        bits = layer._table_variables[3]  # pylint: disable=protected-access
        fingerprint = layer._table_fingerprint  # pylint: disable=protected-access
        tables = [v.read_value() for v in layer._table_variables]  # pylint: disable=protected-access
        other = np.float32([1., 2.5]).view(np.int32)
        sess.run(bits.assign(other))
        sess.run(fingerprint.assign(conditional_models.entropy_model.table_fingerprint(
            16, *tables)))
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                    "scale table of the coding tables"):
          sess.run(strings)

  def test_tables(self):
    table = [.11, .5, 3., 40., 256.]
    for cls, dist in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        layer = cls(tf.ones([1]), scale_table=table)
        layer.build((1,))
        fingerprint = layer.fingerprint()
        with _session(layer) as sess:
          cdf, length, offset, bits = sess.run(layer._table_variables[:4])  # pylint: disable=protected-access
          self.assertNotEqual(sess.run(fingerprint), 0)
        self.assertAllEqual(bits.view(np.float32), np.float32(table))
        self.assertEqual(cdf.shape, (5, length.max()))
        for row, (n, lowest, scale) in enumerate(zip(length, offset, table)):
          half = -lowest
          self.assertEqual(n, 2 * half + 3)
          counts = np.diff(cdf[row, :n])
          self.assertEqual(cdf[row, 0], 0)
          self.assertEqual(cdf[row, n - 1], 2 ** 16)
          self.assertAllGreater(counts, 0)
          # Kept: the values whose probability reaches an eighth of one count.
          mass = dist.cdf((np.arange(half + 2) + .5) / scale) - dist.cdf(
              (np.arange(half + 2) - .5) / scale)
          self.assertGreaterEqual(mass[half], 2. ** -19 * .999)
          self.assertLess(mass[half + 1], 2. ** -19 * 1.001)
          # The counts follow the probabilities of -m .. m.
          mass = np.concatenate([mass[half:0:-1], mass[:half + 1]])
          # (Within 15%: the values of one count in the tails take some mass.)
          self.assertAllClose(counts[:2 * half + 1], mass * 2 ** 16, rtol=.15, atol=2)

  # -- Coding. --------------------------------------------------------------------

  def test_round_trip_with_means_outliers_and_scales_outside_the_table(self):
    rng = np.random.default_rng(7)
    shape = [3, 5, 7, 4]
    scale = np.exp(rng.uniform(np.log(.01), np.log(1e4), shape)).astype(np.float32)
    mean = rng.normal(0, 30, shape).astype(np.float32)
    values = (mean + rng.laplace(0, 1, shape) * scale).astype(np.float32)
    values[0, 0, 0, :] = [1e4, -1e4, 2e9, -2e9]
    values[1, 2, 3, :2] = [np.float32(1e4) + .5, -np.float32(1e4) - .5]
    for cls, _ in _FAMILIES:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        layer = cls(scale, mean=mean)
        dequantized, _ = layer(values, training=False)
        strings = layer.compress(values)
        string_input = tf.compat.v1.placeholder(tf.string)   # unknown shape
        decoded, exact = layer.decompress(string_input, return_exact=True)
        with _session(layer) as sess:
          dequantized, strings = sess.run([dequantized, strings])
          decoded, exact = sess.run([decoded, exact], {string_input: strings})
        self.assertEqual(strings.shape, (3,))
        self.assertAllEqual(decoded, dequantized)
        self.assertAllEqual(exact, [True] * 3)

  def test_wide_and_coarse_tables(self):
    # Scales far beyond what a 16-bit table holds (rows capped at 32768 symbols, the
    # rest escape coded) and a low precision.
    rng = np.random.default_rng(8)
    for kwargs in [dict(scale_table=[1., 1e5]),
                   dict(scale_table=[.5, 4., 30.], range_coder_precision=6)]:
      scale = np.float32(rng.choice(kwargs["scale_table"], [2, 500]))
      values = rng.laplace(0, scale).astype(np.float32)
      with self.subTest(**kwargs), tf.Graph().as_default():
        layer = LaplacianConditional(scale, **kwargs)
        expected, _ = layer(values, training=False)
        decoded, exact = layer.decompress(layer.compress(values), return_exact=True)
        with _session(layer) as sess:
          expected, decoded, exact, length = sess.run(
              [expected, decoded, exact, layer.variables[1]])
        self.assertAllEqual(decoded, expected)
        self.assertAllEqual(exact, [True, True])
        self.assertLessEqual(length.max() - 1, min(2 ** layer.range_coder_precision,
                                                   32768))

  def test_coded_size_matches_table_likelihoods(self):
    rng = np.random.default_rng(11)
    shape = [4, 25000]
    for cls, sample in [(GaussianConditional, rng.normal),
                        (LaplacianConditional, rng.laplace)]:
      with self.subTest(cls.__name__), tf.Graph().as_default():
        scale = np.exp(rng.uniform(np.log(.11), np.log(256.), shape)).astype(np.float32)
        values = sample(0, scale).astype(np.float32)
        layer = cls(scale)
        strings = layer.compress(values)
        index = layer._table_index(layer._table_variables[3])  # pylint: disable=protected-access
        with _session(layer) as sess:
          strings, index = sess.run([strings, index])
        table_scale = np.float32(layer.scale_table)[index]
        with tf.Graph().as_default():
          _, likelihoods = cls(table_scale)(values, training=False)
          with tf.compat.v1.Session() as sess:
            likelihoods = sess.run(likelihoods)
        model_bits = np.sum(-np.log2(likelihoods.astype(np.float64)))
        coded_bits = 8. * sum(len(s) for s in strings)
        print(f"{cls.__name__}: coded {coded_bits:.0f} bits, table model "
              f"{model_bits:.0f} bits ({coded_bits / model_bits - 1:+.4%})")
        self.assertAllClose(coded_bits, model_bits, rtol=1e-3)

  def test_bad_inputs_and_corrupt_strings(self):
    rng = np.random.default_rng(5)
    scale = np.full([2, 300], 3., np.float32)
    values = rng.normal(0, 3, [2, 300]).astype(np.float32)
    with tf.Graph().as_default():
      # The coder's own handling of damaged strings: no index check in front.
      layer = GaussianConditional(scale, index_check=False)
      strings = layer.compress(values)
      inputs = tf.compat.v1.placeholder(tf.float32, [2, 300])
      checked = layer.compress(inputs)
      string_input = tf.compat.v1.placeholder(tf.string)
      decoded, exact = layer.decompress(string_input, return_exact=True)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        # The tables exist from initialization on; the update op rewrites them.
        before_update = sess.run(strings)
        sess.run(layer.updates[0])
        strings = sess.run(strings)
        self.assertEqual(list(strings), list(before_update))
        for bad in (np.nan, np.inf, 3e9):
          with self.subTest(value=bad):
            feed = values.copy()
            feed[1, 7] = bad
            with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "fit in int32"):
              sess.run(checked, {inputs: feed})
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "vector"):
          sess.run(decoded, {string_input: [strings]})
        with self.assertRaises(tf.errors.InvalidArgumentError):
          sess.run(decoded, {string_input: strings[:1]})   # 1 string, 2 items
        # Damaged strings decode to some values, never crash; exact tells.
        for damaged in ([strings[0][:len(strings[0]) // 2], strings[1]],
                        [bytes(len(strings[0])), b"\xff" * 40],
                        [b"", strings[1] + b"\x01\x02"]):
          _, flags = sess.run([decoded, exact], {string_input: damaged})
          self.assertFalse(flags.all())
        # Tables altered in the checkpoint are refused.
        cdf = layer.variables[0]
        sess.run(cdf[0, 1].assign(cdf[0, 1] + 1))
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "fingerprint"):
          sess.run(decoded, {string_input: strings})

  def test_tables_exist_without_running_the_update_op(self):
    # 1.3's bmshj2018 runs only the entropy bottleneck's update op, saves, and
    # compresses from the checkpoint in another graph.
    rng = np.random.default_rng(12)
    scale = np.float32(np.exp(rng.uniform(-2, 5, [2, 30])))
    values = np.float32(rng.normal(0, 1, [2, 30]) * scale)
    path = os.path.join(self.get_temp_dir(), "no_update")
    with tf.Graph().as_default():
      layer = GaussianConditional(tf.constant(scale))
      layer(values, training=True)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        fingerprint = sess.run(layer.fingerprint())
        tables = sess.run(layer.variables)
        tf.compat.v1.train.Saver().save(sess, path)
        sess.run(layer.updates[0])              # Writes the same values.
        self.assertEqual(sess.run(layer.fingerprint()), fingerprint)
        for before, after in zip(tables, sess.run(layer.variables)):
          self.assertAllEqual(before, after)
    self.assertNotEqual(fingerprint, 0)
    self.assertTrue(np.all(tables[1] > 2))        # cdf_length: every row filled
    with tf.Graph().as_default():
      layer = GaussianConditional(tf.constant(scale))
      strings = layer.compress(values)
      decoded = layer.decompress(strings)
      with tf.compat.v1.Session() as sess:
        tf.compat.v1.train.Saver().restore(sess, path)
        self.assertAllEqual(sess.run(decoded), np.round(values))

  def test_indexes_path(self):
    rng = np.random.default_rng(13)
    table = conditional_models.default_scale_table()
    scale = np.float32(np.exp(rng.uniform(-3, 6, [3, 40])))
    indexes = np.clip(np.searchsorted(np.float32(table), scale, side="right") - 1,
                      0, 63).astype(np.int32)
    values = np.float32(rng.normal(0, 1, scale.shape) * scale)
    with tf.Graph().as_default():
      from_scale = GaussianConditional(tf.constant(scale), index_check=False)
      given = GaussianConditional(tf.constant(scale), indexes=indexes)
      only = GaussianConditional(None, indexes=tf.constant(indexes, tf.int64))
      self.assertFalse(given.index_check)
      self.assertEqual(only.indexes.dtype, tf.int32)
      strings = [layer.compress(values) for layer in (from_scale, given, only)]
      decoded = only.decompress(strings[2])
      _, likelihoods = only(values, training=False)
      _, scale_likelihoods = given(values, training=False)
      _, table_likelihoods = GaussianConditional(
          tf.gather(np.float32(table), indexes))(values, training=False)
      out_of_range = GaussianConditional(None, indexes=indexes + 64)
      bad = out_of_range.compress(values)
      with _session() as sess:
        strings, decoded = sess.run([strings, decoded])
        # Same indexes, same (unchecked) format as the float path.
        self.assertEqual(list(strings[0]), list(strings[1]))
        self.assertEqual(list(strings[0]), list(strings[2]))
        self.assertAllEqual(decoded, np.round(values))
        # call(): `scale` when given, else the table scales of the indexes.
        likelihoods, scale_likelihoods, table_likelihoods = sess.run(
            [likelihoods, scale_likelihoods, table_likelihoods])
        # Bit for bit: the same kernels on the same scales in one session.
        self.assertAllEqual(likelihoods, table_likelihoods)
        self.assertNotAllClose(likelihoods, scale_likelihoods)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "index"):
          sess.run(bad)
      with self.assertRaisesRegex(ValueError, "shape of `scale`"):
        GaussianConditional(tf.ones([3, 40]), indexes=tf.zeros([3, 41], tf.int32))
      with self.assertRaisesRegex(ValueError, "neither"):
        GaussianConditional(None)
      with self.assertRaisesRegex(ValueError, "integer tensor"):
        GaussianConditional(None, indexes=tf.zeros([3]))

  def test_golden_bytes_without_index_check(self):
    # Strings of the format without the index check (index_check=False, and the
    # `indexes=` path), pinned from before the index check existed (commit
    # 545c88e): they must not change. _GOLDEN_MEAN and _GOLDEN_VALUES are inputs
    # (float32 values, exact as written); only the coded bytes are compared.
    scale = np.float32([[.05, .11, .3, 1., 2.5, 7., 30., 300.],
                        [1., 1., 1., 1., 4., 4., 4., 4.]])
    mean = np.float32(_GOLDEN_MEAN)
    values = np.float32(_GOLDEN_VALUES)
    table = np.float32(conditional_models.default_scale_table())
    indexes = np.clip(np.searchsorted(table, np.maximum(scale, table[0]),
                                      side="right") - 1, 0, 63)
    with tf.Graph().as_default():
      strings = []
      for cls in (GaussianConditional, LaplacianConditional):
        strings.append(cls(scale, mean=mean, index_check=False).compress(values))
        strings.append(cls(None, mean=mean, indexes=indexes).compress(values))
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        strings = [[s.hex() for s in pair] for pair in sess.run(strings)]
    self.assertEqual(strings, [_GOLDEN_GAUSSIAN] * 2 + [_GOLDEN_LAPLACIAN] * 2)

  def test_tiny_hyperprior_separate_graphs(self):
    # z through EntropyBottleneck, scales from a "hyper-synthesis" of z_hat, y
    # through GaussianConditional; compress and decompress in separate graphs.
    rng = np.random.default_rng(2)
    y_data = rng.normal(0, 4, [3, 6, 8]).astype(np.float32)
    z_data = rng.normal(0, 2, [3, 6, 2]).astype(np.float32)
    path = os.path.join(self.get_temp_dir(), "hyperprior")

    def hyper_synthesis(z_hat):
      kernel = tf.compat.v1.get_variable(
          "hyper_kernel", initializer=tf.constant(rng.normal(0, .5, [2, 8]),
                                                  tf.float32))
      return tf.exp(tf.tensordot(z_hat, kernel, 1) + 1.)

    with tf.Graph().as_default():
      y = tf.constant(y_data)
      z = tf.constant(z_data)
      eb = compression.EntropyBottleneck()
      z_hat, _ = eb(z, training=False)
      gc = GaussianConditional(hyper_synthesis(z_hat))
      y_hat, _ = gc(y, training=False)
      strings = [gc.compress(y), eb.compress(z)]
      with _session(eb, gc) as sess:
        tf.compat.v1.train.Saver().save(sess, path)
        y_strings, z_strings = sess.run(strings)
        expected = sess.run(y_hat)

    with tf.Graph().as_default():
      y_string = tf.compat.v1.placeholder(tf.string, [None])
      z_string = tf.compat.v1.placeholder(tf.string, [None])
      eb = compression.EntropyBottleneck()
      z_hat = eb.decompress(z_string, [6, 2], channels=2)
      gc = GaussianConditional(hyper_synthesis(z_hat))
      y_hat = gc.decompress(y_string)
      with tf.compat.v1.Session() as sess:
        tf.compat.v1.train.Saver().restore(sess, path)
        decoded = sess.run(y_hat, {y_string: y_strings, z_string: z_strings})
    self.assertAllEqual(decoded, expected)

  def test_decompress_in_another_process(self):
    rng = np.random.default_rng(9)
    values = rng.laplace(0, 5, [2, 40]).astype(np.float32)
    path = os.path.join(self.get_temp_dir(), "conditional")
    with tf.Graph().as_default():
      log_scale = tf.Variable(np.linspace(-3, 6, 40, dtype=np.float32), name="log_scale")
      mean = tf.Variable(np.linspace(-2, 2, 40, dtype=np.float32), name="mean")
      scale = tf.tile(tf.exp(log_scale)[None], [2, 1])
      layer = LaplacianConditional(scale, mean=tf.tile(mean[None], [2, 1]))
      dequantized, _ = layer(values, training=False)
      strings = layer.compress(values)
      with _session(layer) as sess:
        tf.compat.v1.train.Saver().save(sess, path)
        strings, dequantized = sess.run([strings, dequantized])
    request = dict(repo=_REPO, checkpoint=path, strings=[s.hex() for s in strings])
    reply = graph_testutil.run_json_script(_DECODER_SCRIPT, request)
    # Exact by construction: both sides are an integer symbol plus the same float32
    # mean restored from the checkpoint (one IEEE addition), on this machine.
    self.assertEqual(np.float32(reply["values"]).tobytes(), dequantized.tobytes())
    self.assertEqual(reply["exact"], [True, True])


_GOLDEN_MEAN = [
    [-2.861746072769165, -1.8730953931808472, 0.7878767251968384, -1.0481733083724976,
     1.0512324571609497, 1.6146472692489624, -2.8870627880096436, 2.0341274738311768],
    [-1.1912972927093506, 4.188169956207275, 1.4573779106140137, -1.0779788494110107,
     0.40297558903694153, 0.4299558401107788, 0.6590362191200256, 2.7865209579467773]]
_GOLDEN_VALUES = [
    [-2.858182668685913, -1.6309128999710083, 0.6641282439231873, 0.651421070098877,
     0.8823099732398987, 20.702659606933594, 19.66509437561035, 252.9369354248047],
    [1000.5, 4.381240367889404, 0.7584104537963867, -0.16099463403224945,
     -2.235462188720703, 2.1237761974334717, -6.911062717437744, -0.03646726533770561]]
_GOLDEN_GAUSSIAN = ["efb3c23e0d", "ffff27ca62c8c0"]
_GOLDEN_LAPLACIAN = ["dae6a47c", "ffff27bc635a25"]

# Runs in a fresh Python process: rebuilds the scales from the checkpoint's
# variables, decodes, and prints the values as JSON.
_DECODER_SCRIPT = r"""
import json, sys
request = json.load(sys.stdin)
sys.path.insert(0, request["repo"])
import numpy as np
import tensorflow as tf
from compression import LaplacianConditional

with tf.Graph().as_default():
  log_scale = tf.Variable(tf.zeros([40]), name="log_scale")
  mean = tf.Variable(tf.zeros([40]), name="mean")
  layer = LaplacianConditional(tf.tile(tf.exp(log_scale)[None], [2, 1]),
                               mean=tf.tile(mean[None], [2, 1]))
  strings = tf.constant([bytes.fromhex(s) for s in request["strings"]])
  decoded, exact = layer.decompress(strings, return_exact=True)
  with tf.compat.v1.Session() as sess:
    tf.compat.v1.train.Saver().restore(sess, request["checkpoint"])
    decoded, exact = sess.run([decoded, exact])
print(json.dumps(dict(values=decoded.astype(np.float64).tolist(),
                      exact=exact.tolist())))
"""


if __name__ == "__main__":
  tf.test.main()
