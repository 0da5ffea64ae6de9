"""Tests of compression/python/layers/parameterizers.py and initializers.py.

Run with `python -m pytest -q tests/test_parameterizers.py` (a few seconds).
"""

import numpy as np
import tensorflow as tf

import compression
from compression.python.layers import base
from compression.python.layers import initializers
from compression.python.layers import parameterizers as pz


def _build(parameterizer, shape, initializer, regularizer=None, dtype=tf.float32):
  """(value, layer) of `parameterizer` for a fresh layer in the current graph."""
  layer = base.Layer(name="owner")
  with layer.name_scope():
    value = parameterizer(pz.layer_getter(layer), "kernel", shape, dtype, initializer,
                          regularizer)
  return value, layer


def _run(fetches):
  with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    return sess.run(fetches)


def _constant(array):
  return lambda shape, dtype=None: np.asarray(array).reshape(shape)


class IrdftMatrixTest(tf.test.TestCase):

  def test_orthonormal_with_dc_first(self):
    for shape in [(1,), (2,), (4,), (5,), (3, 4), (2, 2), (4, 4), (3, 2, 2), (5, 5)]:
      with self.subTest(shape=shape):
        matrix = pz.irdft_matrix(shape, tf.float64).numpy()
        size = int(np.prod(shape))
        self.assertEqual(matrix.shape, (size, size))
        self.assertAllClose(matrix.T @ matrix, np.eye(size), atol=1e-12)
        self.assertAllClose(matrix[:, 0], np.full(size, size ** -.5), atol=1e-15)

  def test_columns_are_the_real_fourier_basis(self):
    matrix = pz.irdft_matrix([4], tf.float64).numpy()
    n = np.arange(4)
    expected = np.stack([np.ones(4) / 2, np.cos(np.pi * n / 2) / np.sqrt(2),
                         np.sin(np.pi * n / 2) / np.sqrt(2), np.cos(np.pi * n) / 2], 1)
    self.assertAllClose(matrix, expected, atol=1e-12)

  def test_coefficients_carry_the_rfft_power(self):
    # Each frequency's coefficients (cosine, sine) carry |rfftn|^2 of it, scaled.
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 4))
    coefficients = pz.irdft_matrix((3, 4), tf.float64).numpy().T @ kernel.ravel()
    spectrum = np.abs(np.fft.fft2(kernel)) ** 2 / kernel.size
    self.assertAllClose(np.sum(coefficients ** 2), np.sum(spectrum), rtol=1e-12)
    self.assertAllClose(coefficients[0] ** 2, spectrum[0, 0], rtol=1e-12)

  def test_dtype_and_bad_shapes(self):
    self.assertEqual(pz.irdft_matrix([3, 3]).dtype, tf.float32)
    for shape in ([], [0], [3, None], "a"):
      with self.subTest(shape=shape):
        with self.assertRaisesRegex(ValueError, "irdft_matrix: shape"):
          pz.irdft_matrix(shape)


class RDFTParameterizerTest(tf.test.TestCase):

  def test_kernel_starts_at_the_initial_value(self):
    rng = np.random.default_rng(1)
    for shape in [(5, 3, 2), (3, 3, 2, 4), (2, 3, 2, 1, 2)]:
      with self.subTest(shape=shape):
        init = rng.normal(size=shape)
        with tf.Graph().as_default():
          kernel, layer = _build(pz.RDFTParameterizer(), shape, _constant(init))
          (variable,) = layer.variables
          self.assertEqual(variable.name, "owner/kernel_rdft:0")
          size = int(np.prod(shape[:-2]))
          self.assertEqual(variable.shape.as_list(), [size, shape[-2] * shape[-1]])
          self.assertEqual(kernel.shape.as_list(), list(shape))
          kernel_value, variable_value = _run([kernel, variable])
        self.assertAllClose(kernel_value, init, atol=1e-6)
        # The variable holds the coefficients, not the taps.
        self.assertGreater(np.max(np.abs(variable_value.ravel()[:init.size] -
                                         init.reshape(size, -1).ravel())), .1)

  def test_random_initializer_goes_through_tensorflow(self):
    def initializer(shape, dtype=None):
      return tf.random.stateless_normal(shape, seed=[1, 2], dtype=dtype)
    with tf.Graph().as_default():
      kernel, _ = _build(pz.RDFTParameterizer(), (3, 3, 2, 2), initializer)
      expected = initializer((3, 3, 2, 2), tf.float32)
      kernel_value, expected_value = _run([kernel, expected])
    self.assertAllClose(kernel_value, expected_value, atol=1e-5)

  def test_without_dc_kernels_sum_to_zero(self):
    rng = np.random.default_rng(2)
    init = rng.normal(size=(3, 3, 2, 2)) + 5.
    with tf.Graph().as_default():
      kernel, layer = _build(pz.RDFTParameterizer(dc=False), init.shape,
                             _constant(init))
      self.assertEqual(layer.variables[0].shape.as_list(), [8, 4])
      kernel_value = _run(kernel)
    self.assertAllClose(kernel_value.sum(axis=(0, 1)), np.zeros((2, 2)), atol=1e-5)
    self.assertAllClose(kernel_value, init - init.mean(axis=(0, 1)), atol=1e-5)

  def test_support_one_is_a_plain_variable(self):
    init = np.arange(6.).reshape(1, 1, 2, 3)
    with tf.Graph().as_default():
      kernel, layer = _build(pz.RDFTParameterizer(), init.shape, _constant(init))
      self.assertEqual(layer.variables[0].name, "owner/kernel:0")
      self.assertAllEqual(_run(kernel), init)
      with self.assertRaisesRegex(ValueError, "only the DC coefficient"):
        _build(pz.RDFTParameterizer(dc=False), init.shape, _constant(init))

  def test_regularizer_sees_the_kernel(self):
    rng = np.random.default_rng(3)
    init = rng.normal(size=(4, 2, 3))
    with tf.Graph().as_default():
      kernel, layer = _build(pz.RDFTParameterizer(), init.shape, _constant(init),
                             regularizer=lambda k: tf.reduce_sum(k[0] ** 3))
      (loss,) = layer.losses
      self.assertEqual(tf.compat.v1.losses.get_regularization_losses(), [loss])
      loss_value = _run(loss)
    self.assertAllClose(loss_value, np.sum(init[0] ** 3), rtol=1e-5)

  def test_gradient_reaches_the_coefficients(self):
    with tf.Graph().as_default():
      kernel, layer = _build(pz.RDFTParameterizer(), (3, 1, 1),
                             _constant(np.zeros(3)))
      grad = tf.gradients(kernel[0, 0, 0], layer.variables)[0]
      grad_value = _run(grad)
    # d kernel[0] / d coefficients = row 0 of the matrix.
    self.assertAllClose(grad_value[:, 0],
                        pz.irdft_matrix([3], tf.float64).numpy()[0], atol=1e-6)

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, "`dc` must be a bool"):
      pz.RDFTParameterizer(dc=1)
    with tf.Graph().as_default():
      with self.assertRaisesRegex(ValueError, "at least one spatial axis"):
        _build(pz.RDFTParameterizer(), (2, 3), _constant(np.zeros(6)))
      with self.assertRaisesRegex(ValueError, "fully known shape"):
        _build(pz.RDFTParameterizer(), (3, None, 2), _constant(np.zeros(6)))
      with self.assertRaisesRegex(ValueError, "initializer must be a callable"):
        _build(pz.RDFTParameterizer(), (3, 1, 2), None)


class NonnegativeParameterizerTest(tf.test.TestCase):

  def test_value_starts_at_the_initial_value_and_stays_above_minimum(self):
    init = np.array([2., .5, 1e-3, 0., -1.])
    with tf.Graph().as_default():
      param = pz.NonnegativeParameterizer(minimum=.01)
      value, layer = _build(param, [5], _constant(init))
      (variable,) = layer.variables
      self.assertEqual(variable.name, "owner/reparam_kernel:0")
      value_value, variable_value = _run([value, variable])
    self.assertAllClose(value_value, np.maximum(init, .01), rtol=1e-6)
    self.assertAllEqual(variable_value, param.stored_value(init))
    self.assertAllClose(variable_value ** 2, np.maximum(init, .01) + 2. ** -36,
                        rtol=1e-6)

  def test_defaults_and_properties(self):
    param = pz.NonnegativeParameterizer()
    self.assertEqual(param.minimum, 0.)
    self.assertEqual(param.reparam_offset, 2. ** -18)
    self.assertEqual(param.pedestal, 2. ** -36)
    self.assertEqual(param.stored_value([0.])[0], np.float32(2. ** -18))

  def test_descent_cannot_push_below_the_minimum(self):
    with tf.Graph().as_default():
      value, layer = _build(pz.NonnegativeParameterizer(minimum=.1), [3],
                            _constant(np.ones(3)))
      step = tf.compat.v1.train.GradientDescentOptimizer(1.).minimize(
          tf.reduce_sum(value), var_list=layer.variables)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(5):
          sess.run(step)
        self.assertAllClose(sess.run(value), [.1] * 3, rtol=1e-5)

  def test_random_initializer_and_regularizer(self):
    def initializer(shape, dtype=None):
      return tf.random.stateless_uniform(shape, seed=[3, 4], minval=.5, maxval=1.,
                                         dtype=dtype)
    with tf.Graph().as_default():
      value, layer = _build(pz.NonnegativeParameterizer(), [4], initializer,
                            regularizer=tf.reduce_sum)
      expected = initializer([4], tf.float32)
      value_value, expected_value, loss = _run([value, expected, layer.losses[0]])
    self.assertAllClose(value_value, expected_value, rtol=1e-5)
    self.assertAllClose(loss, np.sum(expected_value), rtol=1e-5)

  def test_bad_arguments(self):
    for kwargs, pattern in [(dict(minimum=-1.), "`minimum` must be a finite number"),
                            (dict(minimum="0"), "`minimum` must be a finite number"),
                            (dict(reparam_offset=0.), "`reparam_offset` must be"),
                            (dict(reparam_offset=np.inf), "`reparam_offset` must be")]:
      with self.subTest(**kwargs):
        with self.assertRaisesRegex(ValueError, pattern):
          pz.NonnegativeParameterizer(**kwargs)


class StaticParameterizerTest(tf.test.TestCase):

  def test_constant_tensor_and_callable(self):
    with tf.Graph().as_default():
      layer = base.Layer(name="owner")
      getter = pz.layer_getter(layer)
      fixed = pz.StaticParameterizer([1., 2.])(getter, "b", [2], tf.float32, None)
      made = pz.StaticParameterizer(tf.zeros)(getter, "b", [2, 3], tf.float64, None)
      other = tf.constant([5., 6.])
      passed = pz.StaticParameterizer(other * 2)(getter, "b", [2], tf.float32, None)
      self.assertEqual(layer.variables, [])
      self.assertEqual(made.dtype, tf.float64)
      values = _run([fixed, made, passed])
    self.assertAllEqual(values[0], [1., 2.])
    self.assertAllEqual(values[1], np.zeros((2, 3)))
    self.assertAllEqual(values[2], [10., 12.])

  def test_shape_mismatch(self):
    with tf.Graph().as_default():
      with self.assertRaisesRegex(ValueError, r"the value has shape \(3,\), the "
                                  r"parameter needs \(2,\)"):
        pz.StaticParameterizer([1., 2., 3.])(None, "b", [2], tf.float32, None)

  def test_base_class_is_abstract(self):
    with self.assertRaisesRegex(NotImplementedError, "does not implement"):
      pz.Parameterizer()(None, "x", [1], tf.float32, None)


class IdentityInitializerTest(tf.test.TestCase):

  def test_center_tap_identity(self):
    kernel = initializers.IdentityInitializer(gain=2)((3, 4, 2, 3)).numpy()
    expected = np.zeros((3, 4, 2, 3))
    expected[1, 2] = 2 * np.eye(2, 3)
    self.assertAllEqual(kernel, expected)
    self.assertEqual(initializers.IdentityInitializer()((5, 1, 1), tf.float64).dtype,
                     tf.float64)

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, "`gain` must be a finite number"):
      initializers.IdentityInitializer(gain=float("nan"))
    with self.assertRaisesRegex(ValueError, "fully known kernel shape"):
      initializers.IdentityInitializer()((3, 3))


class ExportsTest(tf.test.TestCase):

  def test_public_names(self):
    from compression.python import layers  # pylint: disable=g-import-not-at-top
    for name, value in [("Parameterizer", pz.Parameterizer),
                        ("StaticParameterizer", pz.StaticParameterizer),
                        ("RDFTParameterizer", pz.RDFTParameterizer),
                        ("NonnegativeParameterizer", pz.NonnegativeParameterizer),
                        ("irdft_matrix", pz.irdft_matrix),
                        ("IdentityInitializer", initializers.IdentityInitializer)]:
      with self.subTest(name=name):
        self.assertIs(getattr(compression, name), value)
        self.assertIs(getattr(layers, name), value)


if __name__ == "__main__":
  tf.test.main()
