"""Tests of the `EntropyModel` layer API on EntropyBottleneck: the keywords, build
and shape handling a 2018 graph-mode script relies on, quantization modes,
`optimize_integer_offset`, `visualize()`, and the classic 2018 README usage run as a
script in its own process (`import tensorflow.compat.v1 as tf`).

Run with `python -m pytest tests/test_entropy_model_api.py`.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

from compression.python.layers import entropy_model  # pylint: disable=g-import-not-at-top
import graph_testutil  # pylint: disable=g-import-not-at-top
from compression.python.layers import entropy_bottleneck  # pylint: disable=g-import-not-at-top

EntropyBottleneck = entropy_bottleneck.EntropyBottleneck

# CI runs this module with v2 behaviour on and off (tests/conftest.py).
pytestmark = pytest.mark.both_tf_behaviors


_session = graph_testutil.session_with_tables


class EntropyModelApiTest(tf.test.TestCase):

  def test_is_an_entropy_model_with_standard_keywords(self):
    layer = EntropyBottleneck(dtype=tf.float32, name="eb", trainable=True)
    self.assertIsInstance(layer, entropy_model.EntropyModel)
    self.assertEqual(layer.dtype, tf.float32)
    self.assertTrue(layer.optimize_integer_offset)
    EntropyBottleneck(dtype="float32")
    EntropyBottleneck(dtype=np.float32)
    for dtype in (tf.float64, tf.float16, tf.bfloat16, "int32", "nonsense"):
      with self.subTest(dtype=str(dtype)):
        with self.assertRaisesRegex(ValueError, "supports only dtype float32"):
          EntropyBottleneck(dtype=dtype)
    with self.assertRaisesRegex(ValueError, "optimize_integer_offset"):
      EntropyBottleneck(optimize_integer_offset="no")
    with self.assertRaisesRegex(ValueError, "trainable"):
      EntropyBottleneck(trainable=None)

  def test_trainable_false(self):
    with tf.Graph().as_default():
      layer = EntropyBottleneck(trainable=False)
      layer(tf.zeros([2, 3]), training=True)
      self.assertFalse(layer.trainable)
      self.assertEqual(layer.trainable_variables, [])
      self.assertEqual(tf.compat.v1.trainable_variables(), [])
      self.assertLen(layer.variables, 17)

  def test_build_with_tuple_or_tensor_shape_and_output_shape(self):
    for shape in [(None, 7, 4), [None, 7, 4], tf.TensorShape([None, 7, 4])]:
      with self.subTest(shape=str(shape)), tf.Graph().as_default():
        layer = EntropyBottleneck()
        layer.build(shape)
        self.assertTrue(layer.built)
        self.assertEqual(layer.channels, 4)
        self.assertEqual(layer.variables[0].name, "entropy_bottleneck/matrix_0:0")
        layer.build(shape)                      # A second build does nothing.
        self.assertLen(layer.variables, 17)
        self.assertEqual(layer.compute_output_shape(shape),
                         (tf.TensorShape([None, 7, 4]),) * 2)
        layer(tf.zeros([2, 7, 4]), training=False)
        self.assertLen(layer.variables, 17)

  def test_decompress_with_unknown_string_and_shape_lengths(self):
    rng = np.random.default_rng(0)
    values = rng.laplace(0, 3, [2, 5, 3]).astype(np.float32)
    with tf.Graph().as_default():
      layer = EntropyBottleneck()
      y = tf.compat.v1.placeholder(tf.float32, [None, None, 3])
      strings = layer.compress(y)
      expected, _ = layer(y, training=False)
      string_input = tf.compat.v1.placeholder(tf.string)          # unknown rank
      shape_input = tf.compat.v1.placeholder(tf.int32, [None])   # unknown length
      decoded = layer.decompress(string_input, shape_input)
      self.assertEqual(decoded.shape.as_list(), [None, None, 3])
      with _session(layer) as sess:
        strings, expected = sess.run([strings, expected], {y: values})
        self.assertAllEqual(
            sess.run(decoded, {string_input: strings, shape_input: [5, 3]}), expected)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "2 elements"):
          sess.run(decoded, {string_input: strings, shape_input: [5, 3, 1]})
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "vector"):
          sess.run(decoded, {string_input: strings[0], shape_input: [5, 3]})
    with tf.Graph().as_default():
      with self.assertRaisesRegex(ValueError, "static length unless the layer is built"):
        EntropyBottleneck().decompress(
            ["x"], tf.compat.v1.placeholder(tf.int32, [None]), channels=3)

  def test_quantize_modes(self):
    rng = np.random.default_rng(1)
    values = rng.normal(0, 4, [3, 20, 2]).astype(np.float32)
    with tf.Graph().as_default():
      layer = EntropyBottleneck()
      noise, dequantized, symbols = [layer.quantize(values, mode) for mode in
                                     ("noise", "dequantize", "symbols")]
      with self.assertRaisesRegex(ValueError, "`mode` must be one of"):
        layer.quantize(values, "round")
      evaluation, _ = layer(values, training=False)
      with _session() as sess:
        sess.run(layer.quantile_variables[0].assign(  # Medians off the grid.
            tf.constant([[[-9., .3, 9.]], [[-9., -1.75, 9.]]])))
        noise, dequantized, symbols, evaluation = sess.run(
            [noise, dequantized, symbols, evaluation])
    offset = np.float32([.30078125, -1.75])   # Medians in units of 2**-8.
    self.assertAllInRange(noise - values, -.5, .5)
    self.assertEqual(symbols.dtype, np.int32)
    self.assertAllEqual(symbols, np.round(values - offset))
    self.assertAllEqual(dequantized, np.round(values - offset) + offset)
    self.assertAllEqual(evaluation, dequantized)

  def test_plain_integer_rounding(self):
    rng = np.random.default_rng(2)
    values = rng.laplace(0, 3, [2, 30, 2]).astype(np.float32)
    with tf.Graph().as_default():
      layer = EntropyBottleneck(optimize_integer_offset=False)
      outputs, _ = layer(values, training=False)
      strings = layer.compress(values)
      decoded = layer.decompress(strings, [30, 2])
      with _session() as sess:
        sess.run(layer.quantile_variables[0].assign(
            tf.constant([[[-9., .4, 9.]], [[-9., -1.3, 9.]]])))
        sess.run(layer.updates[0])
        outputs, decoded = sess.run([outputs, decoded])
        offsets = sess.run(layer.non_trainable_variables[3])
    self.assertAllEqual(offsets, [0, 0])
    self.assertAllEqual(outputs, np.round(values))
    self.assertAllEqual(decoded, outputs)

  def test_visualize(self):
    with tf.Graph().as_default():
      layer = EntropyBottleneck()
      with self.assertRaisesRegex(ValueError, "built"):
        layer.visualize()
      tf.compat.v1.set_random_seed(0)
      layer(tf.zeros([1, 4]), training=True)
      summary = layer.visualize(points=50)
      self.assertIn(summary, tf.compat.v1.get_collection(
          tf.compat.v1.GraphKeys.SUMMARIES))
      with _session() as sess:
        # Far tails at the image's left edge: that column must be dark whatever
        # the random initial density.
        sess.run(layer.quantile_variables[0].assign(
            tf.tile(tf.constant([[[-80., 0., 80.]]]), [4, 1, 1])))
        proto = tf.compat.v1.Summary.FromString(sess.run(summary))
    image = proto.value[0].image
    self.assertEqual((image.height, image.width), (4, 50))
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
      decoded = sess.run(tf.image.decode_png(image.encoded_image_string))
    self.assertEqual(decoded.max(), 255)   # Each row scaled to its maximum.
    self.assertLess(decoded[:, 0].max(), 255)

  def test_layer_keywords_of_1x_scripts(self):
    with tf.Graph().as_default():
      layer = EntropyBottleneck(
          activity_regularizer=lambda t: tf.reduce_sum(tf.abs(t)), autocast=False,
          input_shape=(None, 3), batch_input_shape=(2, 3), input_dim=3, dynamic=False)
      outputs, likelihoods = layer(tf.constant([[1., -2., 3.], [4., 5., -6.]]),
                                   training=False)
      aux_loss = layer.losses[0]
      self.assertLen(layer.losses, 3)   # aux loss, then outputs' and likelihoods'
      self.assertEqual(tf.compat.v1.get_collection(
          tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES), layer.losses[1:])
      with _session() as sess:
        activity, outputs, likelihoods, aux = sess.run(
            [layer.losses[1:], outputs, likelihoods, aux_loss])
    self.assertAllClose(activity, [np.abs(outputs).sum() / 2, likelihoods.sum() / 2])
    self.assertGreater(aux, 0)
    for kwargs, pattern in [(dict(weights=[]), "unexpected keyword argument 'weights'"),
                            (dict(dynamic=True), "dynamic"),
                            (dict(activity_regularizer=3), "activity_regularizer")]:
      with self.assertRaisesRegex(ValueError, pattern):
        EntropyBottleneck(**kwargs)

  def test_unknown_channels_and_shape_length_with_v2_behavior_off(self):
    # Under disable_v2_behavior() TensorShape items are Dimension objects.
    result = subprocess.run(
        [sys.executable, "-c", _V1_SCRIPT], capture_output=True, text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=_REPO),
        timeout=300, check=False)
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(result.stdout.strip().splitlines()[-1], "ok")

  def test_classic_2018_readme_script(self):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=_REPO)
    result = subprocess.run(
        [sys.executable, "-c", _CLASSIC_SCRIPT,
         os.path.join(self.get_temp_dir(), "classic")], capture_output=True, text=True,
        env=env, timeout=300, check=False)
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    self.assertEqual(result.stdout.strip().splitlines()[-1], "decoded 4 images exactly")


_V1_SCRIPT = r"""
import numpy as np
import tensorflow.compat.v1 as tf
from compression import EntropyBottleneck

tf.disable_v2_behavior()
try:
  EntropyBottleneck()(tf.placeholder(tf.float32, [2, None]), training=True)
  raise SystemExit("no error")
except ValueError as e:
  assert "static size" in str(e), e
layer = EntropyBottleneck()
y = np.float32(np.random.RandomState(0).laplace(0, 3, [2, 5, 3]))
strings = layer.compress(y)
shape = tf.placeholder(tf.int32, [None])
decoded = layer.decompress(strings, shape)
expected, _ = layer(y, training=False)
with tf.Session() as sess:
  sess.run(tf.global_variables_initializer())
  sess.run(layer.updates[0])
  decoded, expected = sess.run([decoded, expected], {shape: [5, 3]})
assert np.array_equal(decoded, expected)
print("ok")
"""

# The usage of the classic (2018) TensorFlow Compression README, with tiny
# transforms, the update op in every training step, and decompression in its own
# graph with `EntropyBottleneck(dtype=tf.float32)` and a shape placeholder.
_CLASSIC_SCRIPT = r"""
import sys
import numpy as np
import tensorflow.compat.v1 as tf
from compression import EntropyBottleneck

tf.disable_v2_behavior()


def forward_transform(x):
  with tf.variable_scope("forward", reuse=tf.AUTO_REUSE):
    kernel = tf.get_variable("kernel", [4, 4, 1, 5])
    return tf.nn.conv2d(x, kernel, [1, 4, 4, 1], "SAME")


def backward_transform(y):
  with tf.variable_scope("backward", reuse=tf.AUTO_REUSE):
    kernel = tf.get_variable("kernel", [4, 4, 1, 5])
    return tf.nn.conv2d_transpose(y, kernel, tf.stack([tf.shape(y)[0], 28, 28, 1]),
                                  [1, 4, 4, 1], "SAME")


images = np.random.RandomState(0).uniform(0, 1, [4, 28, 28, 1]).astype(np.float32)

# Build autoencoder.
x = tf.placeholder(tf.float32, [None, 28, 28, 1])
y = forward_transform(x)
entropy_bottleneck = EntropyBottleneck()
y_tilde, likelihoods = entropy_bottleneck(y, training=True)
x_tilde = backward_transform(y_tilde)

# Information content (= predicted codelength) in bits of each batch element.
bits = tf.reduce_sum(tf.log(likelihoods), axis=(1, 2, 3)) / -np.log(2)
squared_error = tf.reduce_sum(tf.squared_difference(x, x_tilde), axis=(1, 2, 3))
main_loss = 0.5 * tf.reduce_mean(squared_error) + tf.reduce_mean(bits)

main_optimizer = tf.train.AdamOptimizer(learning_rate=1e-4)
main_step = main_optimizer.minimize(main_loss)
aux_optimizer = tf.train.AdamOptimizer(learning_rate=1e-3)
aux_step = aux_optimizer.minimize(entropy_bottleneck.losses[0])
step = tf.group(main_step, aux_step, entropy_bottleneck.updates[0])

# Compression, in the same graph.
strings = entropy_bottleneck.compress(y)
shape = tf.shape(y)[1:]
y_hat_eval, _ = entropy_bottleneck(y, training=False)

with tf.Session() as sess:
  sess.run(tf.global_variables_initializer())
  for _ in range(5):
    sess.run(step, {x: images})
  string_values, shape_value, expected = sess.run(
      [strings, shape, y_hat_eval], {x: images})
  path = tf.train.Saver().save(sess, sys.argv[1])

# Decompression, in its own graph.
with tf.Graph().as_default():
  strings = tf.placeholder(tf.string, [None])
  shape = tf.placeholder(tf.int32, [3])
  entropy_bottleneck = EntropyBottleneck(dtype=tf.float32)
  y_hat = entropy_bottleneck.decompress(strings, shape, channels=5)
  x_hat = backward_transform(y_hat)
  with tf.Session() as sess:
    tf.train.Saver().restore(sess, path)
    decoded, _ = sess.run([y_hat, x_hat], {strings: string_values, shape: shape_value})

assert np.array_equal(decoded, expected), "decoded latents differ"
print("decoded %d images exactly" % len(decoded))
"""


if __name__ == "__main__":
  tf.test.main()
