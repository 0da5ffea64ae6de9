"""Tests of compression/python/layers/gdn.py (graph mode).

Run with `python -m pytest tests/test_gdn.py` (a few seconds).
"""

import os
import sys

import numpy as np
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

import compression  # pylint: disable=g-import-not-at-top
from compression.python.layers import gdn  # pylint: disable=g-import-not-at-top
from compression.python.layers import parameterizers as pz  # pylint: disable=g-import-not-at-top
import graph_testutil  # pylint: disable=g-import-not-at-top

GDN = gdn.GDN

# Spatial shapes of the three supported ranks (1-D, 2-D, 3-D).
_SPATIAL = [(5,), (4, 3), (3, 2, 2)]


def _numpy_gdn(x, beta, gamma, inverse=False, simplified=False,
               channels_first=False):
  """NumPy reference in float64: y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2) etc."""
  x = np.asarray(x, np.float64)
  if channels_first:
    x = np.moveaxis(x, 1, -1)
  magnitude = np.abs(x) if simplified else x ** 2
  norm = beta + magnitude @ np.asarray(gamma, np.float64).T
  if not simplified:
    norm = np.sqrt(norm)
  y = x * norm if inverse else x / norm
  return np.moveaxis(y, -1, 1) if channels_first else y


def _run(fetches, feed=None, assign=None):
  """Initializes the variables, runs `assign` ops, then returns `fetches`."""
  with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    if assign:
      sess.run(assign)
    return sess.run(fetches, feed)


def _random_parameters(rng, channels):
  beta = rng.uniform(.5, 2., channels)
  gamma = rng.uniform(0., .3, (channels, channels))
  return beta, gamma


def _assign_parameters(layer, beta, gamma):
  return [layer.beta_variable.assign(layer.parameter_value(beta, layer.beta_min)),
          layer.gamma_variable.assign(layer.parameter_value(gamma, 0.))]


class GDNTest(tf.test.TestCase):

  def test_exports_and_defaults(self):
    self.assertIs(compression.GDN, GDN)
    from compression.python import layers  # pylint: disable=g-import-not-at-top
    self.assertIs(layers.GDN, GDN)
    layer = GDN()
    self.assertFalse(layer.inverse)
    self.assertFalse(layer.simplified)
    self.assertEqual(layer.data_format, "channels_last")
    self.assertEqual(layer.beta_min, 1e-6)
    self.assertEqual(layer.reparam_offset, 2. ** -18)
    self.assertEqual(layer.pedestal, 2. ** -36)
    self.assertEqual(layer.name, "gdn")
    self.assertIsNone(layer.channels)
    self.assertEqual(GDN(inverse=True).name, "igdn")
    self.assertEqual(GDN(inverse=True, name="synthesis_igdn").name, "synthesis_igdn")

  def test_shape_and_dtype_all_ranks_and_formats(self):
    for data_format in ("channels_last", "channels_first"):
      for spatial in _SPATIAL:
        for inverse in (False, True):
          with self.subTest(data_format=data_format, spatial=spatial, inverse=inverse):
            with tf.Graph().as_default():
              if data_format == "channels_last":
                shape = (2,) + spatial + (3,)
                placeholder_shape = (None,) * (1 + len(spatial)) + (3,)
              else:
                shape = (2, 3) + spatial
                placeholder_shape = (None, 3) + (None,) * len(spatial)
              x = tf.compat.v1.placeholder(tf.float32, placeholder_shape)
              layer = GDN(inverse=inverse, data_format=data_format)
              y = layer(x)
              self.assertEqual(y.dtype, tf.float32)
              self.assertEqual(y.shape.as_list(), list(placeholder_shape))
              self.assertEqual(layer.channels, 3)
              self.assertEqual(layer.variables[0].shape.as_list(), [3])
              self.assertEqual(layer.variables[1].shape.as_list(), [3, 3])
              self.assertLen(layer.trainable_variables, 2)
              value = _run(y, {x: np.ones(shape, np.float32)})
              self.assertEqual(value.shape, shape)

  def test_initial_parameters_and_formula(self):
    with tf.Graph().as_default():
      x = tf.constant(np.linspace(-4, 4, 2 * 5 * 3).reshape(2, 5, 3), tf.float32)
      layer = GDN()
      y = layer(x)
      beta, gamma, y_value, x_value = _run([layer.beta, layer.gamma, y, x])
    self.assertAllClose(beta, np.ones(3), rtol=0, atol=1e-7)
    # Off-diagonal entries sit exactly on the bound: value 0.
    self.assertAllEqual(gamma - np.diag(np.diag(gamma)), np.zeros([3, 3]))
    self.assertAllClose(np.diag(gamma), [.1] * 3, rtol=1e-6)
    self.assertAllClose(y_value, x_value / np.sqrt(1 + .1 * x_value ** 2), rtol=1e-6)
    # Not the identity for large inputs (so the next test's closeness means something).
    self.assertGreater(np.max(np.abs(y_value - x_value)), 1.)

  def test_near_identity_for_tiny_inputs_at_init(self):
    rng = np.random.default_rng(0)
    x_value = rng.uniform(-.03, .03, (2, 4, 4, 3)).astype(np.float32)
    for inverse in (False, True):
      for simplified in (False, True):
        with self.subTest(inverse=inverse, simplified=simplified):
          with tf.Graph().as_default():
            y = GDN(inverse=inverse, simplified=simplified)(tf.constant(x_value))
            y_value = _run(y)
          # Relative change about 0.1 |x| <= 3e-3 (simplified) or 0.05 x^2 <= 4.5e-5.
          rtol = 3.1e-3 if simplified else 5e-5
          self.assertAllClose(y_value, x_value, rtol=rtol, atol=0)
          self.assertFalse(np.array_equal(y_value, x_value))

  def test_formula_at_random_parameters(self):
    rng = np.random.default_rng(1)
    for data_format in ("channels_last", "channels_first"):
      for spatial in _SPATIAL:
        for inverse in (False, True):
          for simplified in (False, True):
            with self.subTest(data_format=data_format, spatial=spatial,
                              inverse=inverse, simplified=simplified):
              channels = 4
              first = data_format == "channels_first"
              shape = ((2, channels) + spatial if first
                       else (2,) + spatial + (channels,))
              x_value = rng.normal(0, 2, shape).astype(np.float32)
              beta, gamma = _random_parameters(rng, channels)
              with tf.Graph().as_default():
                layer = GDN(inverse=inverse, simplified=simplified,
                            data_format=data_format)
                y = layer(tf.constant(x_value))
                y_value, beta_value, gamma_value = _run(
                    [y, layer.beta, layer.gamma],
                    assign=_assign_parameters(layer, beta, gamma))
              self.assertAllClose(beta_value, beta, rtol=1e-6)
              self.assertAllClose(gamma_value, gamma, rtol=1e-5, atol=1e-7)
              expected = _numpy_gdn(x_value, beta, gamma, inverse, simplified, first)
              self.assertAllClose(y_value, expected, rtol=1e-5, atol=1e-6)

  def test_channels_first_matches_channels_last(self):
    rng = np.random.default_rng(2)
    x_value = rng.normal(0, 2, (2, 4, 3, 5)).astype(np.float32)
    beta, gamma = _random_parameters(rng, 5)
    outputs = []
    for data_format, x in (("channels_last", x_value),
                           ("channels_first", np.moveaxis(x_value, -1, 1))):
      with tf.Graph().as_default():
        layer = GDN(data_format=data_format)
        y = layer(tf.constant(x))
        outputs.append(_run(y, assign=_assign_parameters(layer, beta, gamma)))
    self.assertAllClose(outputs[0], np.moveaxis(outputs[1], 1, -1), rtol=1e-6)

  def test_channels_first_is_a_matmul_with_unknown_and_empty_sizes(self):
    # channels_first is a batched [C, C] x [C, positions] matmul (no einsum, which
    # broadcast gamma over every position and was ~16x slower); with unknown batch
    # and spatial sizes, empty batches and empty spatial axes, it gives the
    # einsum's values and gradients within float rounding.
    rng = np.random.default_rng(12)
    beta, gamma = _random_parameters(rng, 4)
    with tf.Graph().as_default() as graph:
      x = tf.compat.v1.placeholder(tf.float32, [None, 4, None, None])
      layer = GDN(data_format="channels_first")
      y = layer(x)
      op_types = {op.type for op in graph.get_operations()}
      self.assertNotIn("Einsum", op_types)
      self.assertIn("BatchMatMulV2", op_types)
      reference = x / tf.sqrt(
          tf.einsum("bjhw,ij->bihw", tf.square(x), layer.gamma)
          + tf.reshape(layer.beta, [4, 1, 1]))
      grads = tf.gradients(tf.reduce_sum(y * y), [x, layer.gamma_variable])
      reference_grads = tf.gradients(tf.reduce_sum(reference * reference),
                                     [x, layer.gamma_variable])
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        sess.run(_assign_parameters(layer, beta, gamma))
        for shape in ((3, 4, 5, 6), (1, 4, 1, 1), (0, 4, 3, 2), (2, 4, 0, 3)):
          with self.subTest(shape=shape):
            x_value = rng.normal(0, 2, shape).astype(np.float32)
            values = sess.run([y, reference] + grads + reference_grads, {x: x_value})
            self.assertEqual(values[0].shape, shape)
            self.assertAllClose(values[0], values[1], rtol=1e-6, atol=1e-7)
            self.assertAllClose(values[0], _numpy_gdn(x_value, beta, gamma,
                                                      channels_first=True),
                                rtol=1e-5, atol=1e-6)
            self.assertAllClose(values[2], values[4], rtol=1e-5, atol=1e-6)
            self.assertAllClose(values[3], values[5], rtol=1e-5, atol=1e-5)

  def test_gradients_finite(self):
    rng = np.random.default_rng(3)
    x_value = rng.normal(0, 3, (2, 4, 4, 3)).astype(np.float32)
    x_value[0, 0, 0] = 0.  # |x| and the square root at 0.
    for inverse in (False, True):
      for simplified in (False, True):
        with self.subTest(inverse=inverse, simplified=simplified):
          with tf.Graph().as_default():
            x = tf.constant(x_value)
            layer = GDN(inverse=inverse, simplified=simplified)
            loss = tf.reduce_sum(tf.square(layer(x)))
            grads = tf.gradients(loss, [x] + layer.trainable_variables)
            values = _run(grads)
          for value in values:
            self.assertTrue(np.all(np.isfinite(value)))
          # Every gradient is nonzero somewhere (the variables are connected).
          for value in values:
            self.assertGreater(np.max(np.abs(value)), 0.)

  def test_input_gradient_matches_numeric(self):
    rng = np.random.default_rng(4)
    x_value = rng.normal(0, 1, (1, 3, 2)).astype(np.float64)
    beta, gamma = _random_parameters(rng, 2)
    eps = 1e-3
    with tf.Graph().as_default():
      x = tf.compat.v1.placeholder(tf.float32, (1, 3, 2))
      layer = GDN()
      loss = tf.reduce_sum(layer(x) * np.arange(1, 7).reshape(1, 3, 2))
      grad = tf.gradients(loss, x)[0]
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        sess.run(_assign_parameters(layer, beta, gamma))
        analytic = sess.run(grad, {x: x_value})
    weights = np.arange(1, 7).reshape(1, 3, 2)
    numeric = np.zeros_like(x_value)
    for index in np.ndindex(*x_value.shape):
      plus, minus = x_value.copy(), x_value.copy()
      plus[index] += eps
      minus[index] -= eps
      numeric[index] = np.sum(
          (_numpy_gdn(plus, beta, gamma) - _numpy_gdn(minus, beta, gamma)) * weights
      ) / (2 * eps)
    self.assertAllClose(analytic, numeric, rtol=1e-3, atol=1e-4)

  def test_inverse_after_forward_close_to_identity(self):
    rng = np.random.default_rng(5)
    for data_format in ("channels_last", "channels_first"):
      with self.subTest(data_format=data_format):
        x_value = rng.uniform(-.1, .1, (2, 3, 8, 8)).astype(np.float32)
        with tf.Graph().as_default():
          x = tf.constant(x_value)
          y = GDN(data_format=data_format)(x)
          x_back = GDN(inverse=True, data_format=data_format)(y)
          y_value, back = _run([y, x_back])
        # The forward step alone moves the values by up to 0.05%, the round trip far less.
        self.assertGreater(np.max(np.abs(y_value - x_value)), 1e-5)
        self.assertAllClose(back, x_value, rtol=0, atol=1e-6)

  def test_simplified_formula_at_init(self):
    x_value = np.array([[[-3., -.5, 0., .5, 3.]]], np.float32).transpose(0, 2, 1)
    for inverse in (False, True):
      with self.subTest(inverse=inverse):
        with tf.Graph().as_default():
          y = GDN(simplified=True, inverse=inverse)(tf.constant(x_value))
          y_value = _run(y)
        norm = 1 + .1 * np.abs(x_value)
        self.assertAllClose(y_value, x_value * norm if inverse else x_value / norm,
                            rtol=1e-6)

  def test_parameters_stay_nonnegative_under_gradient_descent(self):
    with tf.Graph().as_default():
      layer = GDN()
      layer(tf.zeros([1, 2, 2, 3]))
      beta, gamma = layer.beta, layer.gamma
      # The loss decreases as beta and gamma decrease: descent pushes them negative.
      loss = tf.reduce_sum(beta) + tf.reduce_sum(gamma)
      step = tf.compat.v1.train.GradientDescentOptimizer(1.).minimize(loss)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(5):
          sess.run(step)
        beta_value, gamma_value, params = sess.run(
            [beta, gamma, layer.beta_variable])
    # The stored parameter did go below the bound (the update was not blocked) ...
    self.assertLess(np.max(params), np.sqrt(1e-6))
    # ... yet the values stay at their minimums.
    self.assertAllClose(beta_value, [1e-6] * 3, rtol=1e-3)
    self.assertAllGreaterEqual(beta_value, 1e-6 * (1 - 1e-4))
    self.assertAllGreaterEqual(gamma_value, 0.)
    self.assertAllEqual(gamma_value, np.zeros([3, 3]))

  def test_clipped_parameter_recovers(self):
    with tf.Graph().as_default():
      layer = GDN()
      layer(tf.zeros([1, 2, 3]))
      gamma = layer.gamma
      sign = tf.compat.v1.placeholder(tf.float32, [])
      step = tf.compat.v1.train.GradientDescentOptimizer(.5).minimize(
          sign * tf.reduce_sum(gamma))
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(3):
          sess.run(step, {sign: 1.})
        self.assertAllEqual(sess.run(gamma), np.zeros([3, 3]))
        # Now descent pulls gamma up: the clipped parameters must move (by 1e4 *
        # 2 * 2**-18 * 0.5 = 0.038, so every gamma becomes about 1.5e-3).
        sess.run(step, {sign: -1e4})
        self.assertGreater(np.min(sess.run(gamma)), 1e-3)

  def test_bad_arguments(self):
    cases = [
        (dict(data_format="NHWC"), "`data_format` must be 'channels_last' or "
         "'channels_first', got 'NHWC'"),
        (dict(inverse=1), "`inverse` must be a bool, got 1"),
        (dict(simplified="yes"), "`simplified` must be a bool, got 'yes'"),
        (dict(beta_min=0.), r"`beta_min` must be a number in \(0, 1\], got 0.0"),
        (dict(gamma_init=-1), "`gamma_init` must be a finite number >= 0, got -1"),
        (dict(reparam_offset=.5), r"`reparam_offset` must be a number in \(0, 0.01\]"),
        (dict(name=""), "`name` must be a non-empty string"),
    ]
    for kwargs, message in cases:
      with self.subTest(**kwargs):
        with self.assertRaisesRegex(ValueError, message):
          GDN(**kwargs)

  def test_bad_inputs(self):
    with tf.Graph().as_default():
      with self.assertRaisesRegex(
          ValueError, r"gdn: the channel axis \(channels_last, axis 3\) of the inputs "
          "must have a static size"):
        GDN()(tf.compat.v1.placeholder(tf.float32, [None, 4, 4, None]))
      with self.assertRaisesRegex(
          ValueError, r"the channel axis \(channels_first, axis 1\) of the inputs must "
          "have a static size"):
        GDN(data_format="channels_first")(
            tf.compat.v1.placeholder(tf.float32, [2, None, 4, 4]))
      with self.assertRaisesRegex(ValueError, "inputs must have rank 2 to 6"):
        GDN()(tf.zeros([3]))
      with self.assertRaisesRegex(ValueError, "inputs must have rank 2 to 6"):
        GDN()(tf.zeros([1, 2, 2, 2, 2, 2, 3]))
      with self.assertRaisesRegex(ValueError, "inputs must have rank 2 to 6"):
        GDN()(tf.compat.v1.placeholder(tf.float32))
      with self.assertRaisesRegex(ValueError, "inputs must be float32, got float64"):
        GDN()(tf.zeros([1, 2, 3], tf.float64))
      layer = GDN()
      layer(tf.zeros([1, 2, 3]))
      with self.assertRaisesRegex(
          ValueError, "built for 3 channels, got inputs with 4"):
        layer(tf.zeros([1, 2, 4]))
      with self.assertRaisesRegex(ValueError, "not built yet"):
        _ = GDN().beta

  def test_checkpoint_round_trip(self):
    rng = np.random.default_rng(6)
    beta, gamma = _random_parameters(rng, 2)
    x_value = rng.normal(0, 1, (1, 3, 2)).astype(np.float32)
    path = os.path.join(self.get_temp_dir(), "gdn")
    with tf.Graph().as_default():
      layer = GDN()
      y = layer(tf.constant(x_value))
      saver = tf.compat.v1.train.Saver()
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        sess.run(_assign_parameters(layer, beta, gamma))
        saver.save(sess, path)
    with tf.Graph().as_default():
      y = GDN()(tf.constant(x_value))
      with tf.compat.v1.Session() as sess:
        tf.compat.v1.train.Saver().restore(sess, path)
        restored = sess.run(y)
    self.assertAllClose(restored, _numpy_gdn(x_value, beta, gamma), rtol=1e-5)



# An old-style checkpoint: the stored parameters (float32, hex) of a GDN of 3 channels
# saved by the GDN of commit 268dc2c (before parameterizers), and the outputs that
# version computed for the input `_OLD_X` [2, 4, 3] on the machine that wrote this
# test. Those bytes are not portable: another CPU's kernels (e.g. AVX-512 matmul or
# rsqrt) may round some outputs differently in the last bit, so the test compares
# against `_old_gdn` (the 268dc2c formula, run here) and keeps `_OLD_OUTPUTS` only
# as a within-a-few-ulps check.
_OLD_BETA = "d1ab983fb26ca83f0b2b583f"
_OLD_GAMMA = ("1e858cbd14a9993e2e701b3b5d68ce3ecb26113e3e2f613ebf49153f9fe0e43ee036fb3e")
_OLD_X = ("5c8bba3f36fb89bfd152ce3e2c23dc3e99b6283f5c5632407768883fc58f5440405ca23fc201b6"
          "becc1f43c0c4bf47c0cfb3d13ef9e3b03f3dbe384057019dbff3471f3e591fd0bf143c58bf7de2"
          "91c0c724bd3faafcb8bf41e114be1d37643f")
_OLD_OUTPUTS = {
    "gdn": ("fcf1963fc8143ebf7cef9d3e2213b63e545be63ebccad73faf822f3f62cf0e40af05293f6e24"
            "72bedb64fbbfd867b3bf390fa63e65856e3faaedcf3f458883bf879bdb3dca5b98bf9442eebe"
            "ef803dc0615d1f3f61fd9abf7900cdbdd15d333f"),
    "igdn": ("0b8ae63fbe52c8bfaec4063f1914053f9521773f38629340e408d43fcd309e4009f61b4050c"
             "e08bf097397c03a66dec05b68043f382f0340a724a4404c69bbbf7b0d673eea250ec0d03ec4"
             "bf8d9ce0c0af7c604039cadcbf7f3e58be0e2f913f"),
    "simplified": ("047f753f5b5609bfefa4873e1c8a943e281bad3ee1a2d63fe1721e3fc925d13fa5d31"
                   "e3f8c7856be57fec2bfd70ab6bf088b873e8103343f06a3ca3f01925abf174b9e3d9b"
                   "0a86bf92e6ebbe8f9b0fc07bdd263f36d880bf93f893bde6961d3f"),
}


def _from_hex(text, shape):
  return np.frombuffer(bytes.fromhex(text), np.float32).reshape(shape)


def _old_gdn(x, reparam_beta, reparam_gamma, inverse=False, simplified=False):
  """What the GDN of commit 268dc2c computed (channels_last), in TensorFlow ops.

  Its stored variables `reparam_beta` / `reparam_gamma` p gave
  `beta = max(p, sqrt(beta_min + pedestal))**2 - pedestal` (beta_min 1e-6) and
  `gamma = max(p, sqrt(pedestal))**2 - pedestal` (pedestal 2**-36, the square of
  reparam_offset 2**-18); the normalizer was `[positions, C] x gamma^T + beta` on
  `x**2` (or `|x|` if simplified), then `x * rsqrt(norm)` (GDN), `x * sqrt(norm)`
  (IGDN), `x * reciprocal(norm)` (simplified) or `x * norm` (simplified IGDN).
  """
  pedestal = 2. ** -36
  def bounded_square(param, minimum):
    bound = tf.constant(np.sqrt(minimum + pedestal), tf.float32)
    return tf.square(tf.maximum(param, bound)) - pedestal
  beta = bounded_square(tf.constant(reparam_beta), 1e-6)
  gamma = bounded_square(tf.constant(reparam_gamma), 0.)
  x = tf.constant(x)
  channels = x.shape[-1]
  magnitude = tf.abs(x) if simplified else tf.square(x)
  flat = tf.reshape(magnitude, [-1, channels])
  norm = tf.reshape(tf.matmul(flat, gamma, transpose_b=True) + beta, tf.shape(x))
  if simplified:
    factor = norm if inverse else tf.math.reciprocal(norm)
  else:
    factor = tf.sqrt(norm) if inverse else tf.math.rsqrt(norm)
  return x * factor


class GDN13Test(tf.test.TestCase):
  """The TensorFlow Compression 1.3 interface: rectify, parameterizers, ranks 2-6."""

  def test_positional_arguments_in_13_order(self):
    layer = GDN(False, True)
    self.assertFalse(layer.inverse)
    self.assertTrue(layer.rectify)
    self.assertFalse(layer.simplified)
    layer = GDN(True, False, .25, "channels_first")
    self.assertTrue(layer.inverse)
    self.assertFalse(layer.rectify)
    self.assertEqual(layer.gamma_init, .25)
    self.assertEqual(layer.data_format, "channels_first")
    with self.assertRaisesRegex(TypeError, "positional"):
      GDN(False, False, .1, "channels_last", None, None, True)  # pylint: disable=too-many-function-args

  def test_old_checkpoint_restores_with_the_old_outputs(self):
    # An old-style checkpoint (`reparam_beta`, `reparam_gamma` as 268dc2c stored
    # them) restores into the new GDN under the same variable names, and the outputs
    # are those of the old formula computed here, in this run, within float32
    # rounding (a few ulps: the new layer need not use the very same kernels).
    x_value = _from_hex(_OLD_X, (2, 4, 3))
    reparam_beta = _from_hex(_OLD_BETA, [3])
    reparam_gamma = _from_hex(_OLD_GAMMA, [3, 3])
    for key, kwargs in (("gdn", {}), ("igdn", dict(inverse=True)),
                        ("simplified", dict(simplified=True))):
      with self.subTest(key):
        scope = "igdn" if key == "igdn" else "gdn"
        path = os.path.join(self.get_temp_dir(), key)
        with tf.Graph().as_default():  # The checkpoint as the old layer wrote it.
          tf.Variable(reparam_beta, name=f"{scope}/reparam_beta")
          tf.Variable(reparam_gamma, name=f"{scope}/reparam_gamma")
          with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            tf.compat.v1.train.Saver().save(sess, path)
        with tf.Graph().as_default():
          layer = GDN(**kwargs)
          y = layer(tf.constant(x_value))
          self.assertEqual([v.name for v in layer.variables],
                           [f"{scope}/reparam_beta:0", f"{scope}/reparam_gamma:0"])
          with tf.compat.v1.Session() as sess:
            tf.compat.v1.train.Saver().restore(sess, path)
            y_value, stored = sess.run([y, layer.variables])
        # The variables hold the checkpoint's values, bit for bit (a restore copies).
        self.assertEqual(stored[0].tobytes(), reparam_beta.tobytes())
        self.assertEqual(stored[1].tobytes(), reparam_gamma.tobytes())
        with tf.Graph().as_default():
          old = _run(_old_gdn(x_value, reparam_beta, reparam_gamma, **kwargs))
        self.assertEqual(y_value.dtype, np.float32)
        self.assertAllClose(y_value, old, rtol=1e-6, atol=1e-7)
        # The outputs the old layer gave on the machine that wrote this test: equal
        # up to the last bits (another CPU may round 1 ulp differently).
        np.testing.assert_array_max_ulp(
            y_value, _from_hex(_OLD_OUTPUTS[key], (2, 4, 3)), maxulp=4)

  def test_default_initial_variables_are_unchanged(self):
    with tf.Graph().as_default():
      layer = GDN()
      layer(tf.zeros([1, 4]))
      beta, gamma = _run([layer.beta_variable, layer.gamma_variable])
    pedestal = 2. ** -36
    self.assertAllEqual(beta, np.sqrt(np.ones(4) + pedestal).astype(np.float32))
    self.assertAllEqual(gamma, np.sqrt(.1 * np.eye(4) + pedestal).astype(np.float32))

  def test_rectify(self):
    x_value = np.array([[-2., -.5, .5, 2.]], np.float32).reshape(1, 2, 2)
    for inverse in (False, True):
      with self.subTest(inverse=inverse):
        with tf.Graph().as_default():
          y_value = _run(GDN(inverse, True)(tf.constant(x_value)))
        rectified = np.maximum(x_value, 0)
        expected = _numpy_gdn(rectified, np.ones(2), .1 * np.eye(2), inverse)
        self.assertAllClose(y_value, expected, rtol=1e-6)
        self.assertAllEqual(y_value[x_value < 0], [0., 0.])

  def test_ranks_2_and_6(self):
    rng = np.random.default_rng(7)
    beta, gamma = _random_parameters(rng, 3)
    for data_format in ("channels_last", "channels_first"):
      for shape in ((2, 3), (2, 2, 1, 2, 2, 3) if data_format == "channels_last"
                    else (2, 3, 2, 1, 2, 2)):
        with self.subTest(data_format=data_format, shape=shape):
          x_value = rng.normal(0, 2, shape).astype(np.float32)
          with tf.Graph().as_default():
            layer = GDN(data_format=data_format)
            y = layer(tf.constant(x_value))
            y_value = _run(y, assign=_assign_parameters(layer, beta, gamma))
          expected = _numpy_gdn(x_value, beta, gamma,
                                channels_first=data_format == "channels_first")
          self.assertAllClose(y_value, expected, rtol=1e-5, atol=1e-6)

  def test_custom_parameterizers(self):
    x_value = np.array([[1., -2.]], np.float32)
    with tf.Graph().as_default():
      layer = GDN(beta_parameterizer=pz.StaticParameterizer([4., 9.]),
                  gamma_parameterizer=pz.NonnegativeParameterizer(minimum=.5))
      y = layer(tf.constant(x_value))
      self.assertIsNone(layer.beta_variable)
      self.assertEqual([v.name for v in layer.variables], ["gdn/reparam_gamma:0"])
      self.assertIsNone(layer.beta_min)
      y_value, gamma = _run([y, layer.gamma])
    # gamma = max(0.1 I, 0.5) = 0.5 everywhere.
    self.assertAllClose(gamma, np.full((2, 2), .5), rtol=1e-6)
    self.assertAllClose(y_value, _numpy_gdn(x_value, [4., 9.], gamma), rtol=1e-6)

  def test_none_parameterizers_are_plain_variables(self):
    with tf.Graph().as_default():
      layer = GDN(beta_parameterizer=None, gamma_parameterizer=None)
      layer(tf.zeros([1, 2]))
      self.assertEqual([v.name for v in layer.variables], ["gdn/beta:0", "gdn/gamma:0"])
      beta, gamma = _run([layer.beta, layer.gamma])
    self.assertAllEqual(beta, [1., 1.])
    self.assertAllClose(gamma, .1 * np.eye(2))

  def test_beta_min_and_reparam_offset_configure_the_defaults(self):
    layer = GDN(beta_min=1e-3, reparam_offset=2. ** -10)
    self.assertEqual(layer.beta_min, 1e-3)
    self.assertEqual(layer.gamma_parameterizer.reparam_offset, 2. ** -10)
    self.assertEqual(layer.pedestal, 2. ** -20)
    cases = [
        (dict(beta_parameterizer=pz.NonnegativeParameterizer(), beta_min=1e-3),
         "`beta_min` configures the default beta_parameterizer"),
        (dict(beta_parameterizer=None, gamma_parameterizer=None, reparam_offset=1e-3),
         "`reparam_offset` configures the default parameterizers"),
        (dict(beta_parameterizer="nonnegative"),
         "`beta_parameterizer` must be a Parameterizer or None, got 'nonnegative'"),
        (dict(rectify=1), "`rectify` must be a bool, got 1"),
        (dict(dtype=tf.int32), "`dtype` must be a floating point dtype"),
    ]
    for kwargs, message in cases:
      with self.subTest(**{k: str(v) for k, v in kwargs.items()}):
        with self.assertRaisesRegex(ValueError, message):
          GDN(**kwargs)

  def test_activity_regularizer(self):
    x_value = np.full((4, 2, 3), .5, np.float32)
    with tf.Graph().as_default():
      layer = GDN(activity_regularizer=tf.reduce_sum)
      y = layer(tf.constant(x_value))
      (loss,) = layer.losses
      self.assertEqual(tf.compat.v1.losses.get_regularization_losses(), [loss])
      y_value, loss_value = _run([y, loss])
    self.assertAllClose(loss_value, np.sum(y_value) / 4, rtol=1e-6)

  def test_float64(self):
    rng = np.random.default_rng(8)
    x_value = rng.normal(0, 2, (2, 3, 2))
    with tf.Graph().as_default():
      layer = GDN(dtype=tf.float64)
      y = layer(tf.constant(x_value))
      self.assertEqual(y.dtype, tf.float64)
      self.assertEqual(layer.variables[0].dtype.base_dtype, tf.float64)
      y_value = _run(y)
      with self.assertRaisesRegex(ValueError, "inputs must be float64, got float32"):
        layer(tf.zeros([2, 3, 2]))
    self.assertAllClose(y_value, _numpy_gdn(x_value, np.ones(2), .1 * np.eye(2)),
                        rtol=1e-12)

  def test_compute_output_shape(self):
    self.assertEqual(GDN().compute_output_shape([None, 4, 3]).as_list(), [None, 4, 3])


_V1_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
tf.compat.v1.disable_v2_behavior()
from compression.python.layers import gdn
reply = {}
try:
  gdn.GDN()(tf.compat.v1.placeholder(tf.float32, [None, 4, None]))
except ValueError as e:
  reply["unknown_channels"] = str(e)
try:
  gdn.GDN()(tf.compat.v1.placeholder(tf.float32, None))
except ValueError as e:
  reply["unknown_rank"] = str(e)
x = tf.compat.v1.placeholder(tf.float32, [None, None, 2])
layer = gdn.GDN(inverse=True)
y = layer(x)
with tf.compat.v1.Session() as sess:
  sess.run(tf.compat.v1.global_variables_initializer())
  reply["y"] = sess.run(y, {x: np.full([1, 2, 2], 2., np.float32)}).tolist()
reply["names"] = [v.name for v in layer.variables]
print(json.dumps(reply))
"""


class V1BehaviourTest(tf.test.TestCase):
  """Under tf.compat.v1.disable_v2_behavior() (a separate process: it is global)."""

  def test_unknown_channels_is_a_value_error(self):
    reply = graph_testutil.run_json_script(
        f"import sys; sys.path.insert(0, {_REPO!r})\n" + _V1_SCRIPT, {})
    self.assertIn("the channel axis (channels_last, axis 2) of the inputs must have a "
                  "static size", reply["unknown_channels"])
    self.assertIn("inputs must have rank 2 to 6", reply["unknown_rank"])
    self.assertAllClose(reply["y"], np.full([1, 2, 2], 2. * np.sqrt(1.4)), rtol=1e-6)
    self.assertEqual(reply["names"], ["igdn/reparam_beta:0", "igdn/reparam_gamma:0"])


if __name__ == "__main__":
  tf.test.main()
