"""Tests of compression/python/ops/math_ops.py (graph mode)."""

import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from compression.python.ops import math_ops  # pylint: disable=g-import-not-at-top


class BoundTest(tf.test.TestCase):

  def _value_and_grad(self, fn, inputs, bound, dy, **kwargs):
    """Runs fn(inputs, bound, **kwargs) and its gradient for the incoming gradient dy."""
    with tf.Graph().as_default():
      x = tf.constant(inputs, tf.float32)
      y = fn(x, bound, **kwargs)
      dx, = tf.gradients(y, [x], grad_ys=tf.constant(dy, tf.float32))
      with tf.compat.v1.Session() as sess:
        return sess.run([y, dx])

  def test_lower_bound_value(self):
    x = [-2., -1., 0., 1., 2.]
    y, _ = self._value_and_grad(math_ops.lower_bound, x, 0.5, np.ones(5))
    self.assertAllEqual(y, [.5, .5, .5, 1., 2.])

  def test_lower_bound_gradient_passes_above_bound(self):
    # Inputs at or above the bound: gradient passes whatever its sign.
    x = [0., 1., 2., 0., 1., 2.]
    dy = [1., 1., 1., -1., -1., -1.]
    _, dx = self._value_and_grad(math_ops.lower_bound, x, 0., dy)
    self.assertAllEqual(dx, dy)

  def test_lower_bound_gradient_below_bound(self):
    # Below the bound: only gradients that push the input up (dy < 0) pass.
    x = [-3., -2., -1., -3., -2., -1.]
    dy = [2., 1., .5, -2., -1., -.5]
    _, dx = self._value_and_grad(math_ops.lower_bound, x, 0., dy)
    self.assertAllEqual(dx, [0., 0., 0., -2., -1., -.5])

  def test_lower_bound_tensor_bound_broadcasts(self):
    x = [[-1., 1.], [-1., 1.]]
    bound = np.array([[0.], [2.]], np.float32)
    dy = [[1., 1.], [-1., 1.]]
    y, dx = self._value_and_grad(math_ops.lower_bound, x, bound, dy)
    self.assertAllEqual(y, [[0., 1.], [2., 2.]])
    self.assertAllEqual(dx, [[0., 1.], [-1., 0.]])

  def test_lower_bound_gradient_descent_escapes_bound(self):
    # Minimising (x - 3)^2 from below the bound must still move x up to 3.
    with tf.Graph().as_default():
      x = tf.Variable(-5.)
      loss = tf.square(math_ops.lower_bound(x, 0.) - 3.)
      step = tf.compat.v1.train.GradientDescentOptimizer(.1).minimize(loss)
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(100):
          sess.run(step)
        self.assertAllClose(sess.run(x), 3., atol=1e-3)

  def test_upper_bound_mirrors_lower_bound(self):
    x = [3., 2., 1., 3., 2., 1.]
    dy = [2., 1., .5, -2., -1., -.5]
    y, dx = self._value_and_grad(math_ops.upper_bound, x, 2., dy)
    self.assertAllEqual(y, [2., 2., 1., 2., 2., 1.])
    # Above the bound only dy > 0 (which pushes the input down) passes.
    self.assertAllEqual(dx, [2., 1., .5, 0., -1., -.5])

  def test_dtype_and_name(self):
    with tf.Graph().as_default():
      x = tf.constant([1., 2.], tf.float64)
      y = math_ops.lower_bound(x, 1.5, name="my_bound")
      self.assertEqual(y.dtype, tf.float64)
      self.assertStartsWith(y.name, "my_bound")


class GradientModeTest(tf.test.TestCase):
  """The 2018 `gradient=` argument: identity, identity_if_towards, disconnected."""

  # Inputs below, at and above the bound 0, each with a gradient of each sign.
  X = [-2., -2., 0., 0., 2., 2.]
  DY = [1., -1., 1., -1., 1., -1.]
  # Expected gradient w.r.t. the inputs of lower_bound(X, 0.) for the incoming DY.
  LOWER = {
      "identity": DY,
      "identity_if_towards": [0., -1., 1., -1., 1., -1.],
      "disconnected": [0., 0., 1., -1., 1., -1.],
  }

  def value_and_grad(self, fn, x, bound, dy, **kwargs):
    return BoundTest._value_and_grad(self, fn, x, bound, dy, **kwargs)

  def test_lower_bound_modes(self):
    for gradient, expected in self.LOWER.items():
      with self.subTest(gradient=gradient):
        y, dx = self.value_and_grad(math_ops.lower_bound, self.X, 0., self.DY,
                                    gradient=gradient)
        self.assertAllEqual(y, [0., 0., 0., 0., 2., 2.])
        self.assertAllEqual(dx, expected)

  def test_upper_bound_modes_mirror_lower_bound(self):
    # upper_bound(x, 0) = -lower_bound(-x, 0): the gradient w.r.t. x for dy is the
    # lower bound's gradient at -x for -dy, negated.
    for gradient, expected in self.LOWER.items():
      with self.subTest(gradient=gradient):
        y, dx = self.value_and_grad(math_ops.upper_bound, np.negative(self.X), 0.,
                                    np.negative(self.DY), gradient=gradient)
        self.assertAllEqual(y, [0., 0., 0., 0., -2., -2.])
        self.assertAllEqual(dx, np.negative(expected))

  def test_default_is_identity_if_towards(self):
    _, default = self.value_and_grad(math_ops.lower_bound, self.X, 0., self.DY)
    self.assertAllEqual(default, self.LOWER["identity_if_towards"])
    _, default = self.value_and_grad(math_ops.upper_bound, self.X, 0., self.DY)
    _, towards = self.value_and_grad(math_ops.upper_bound, self.X, 0., self.DY,
                                     gradient="identity_if_towards")
    self.assertAllEqual(default, towards)

  def test_disconnected_is_the_gradient_of_maximum_and_minimum(self):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5)).astype(np.float32)
    x[0, :2] = [0.5, -0.5]  # ties with the bound
    bound = rng.normal(size=(1, 5)).astype(np.float32)
    bound[0, :2] = [0.5, -0.5]
    dy = rng.normal(size=(4, 5)).astype(np.float32)
    for ours, theirs in [(math_ops.lower_bound, tf.maximum),
                         (math_ops.upper_bound, tf.minimum)]:
      with self.subTest(op=theirs.__name__):
        y, dx = self.value_and_grad(ours, x, bound, dy, gradient="disconnected")
        y_ref, dx_ref = self.value_and_grad(theirs, x, bound, dy)
        self.assertAllEqual(y, y_ref)
        self.assertAllEqual(dx, dx_ref)
        self.assertTrue((dx == 0).any() and (dx != 0).any())

  def test_broadcast_bound_in_every_mode(self):
    x = [[-1., 1.], [-1., 1.]]
    bound = np.array([[0.], [2.]], np.float32)
    dy = [[1., 1.], [-1., 1.]]
    expected = {"identity": dy, "identity_if_towards": [[0., 1.], [-1., 0.]],
                "disconnected": [[0., 1.], [0., 0.]]}
    for gradient, dx_expected in expected.items():
      with self.subTest(gradient=gradient):
        y, dx = self.value_and_grad(math_ops.lower_bound, x, bound, dy,
                                    gradient=gradient)
        self.assertAllEqual(y, [[0., 1.], [2., 2.]])
        self.assertAllEqual(dx, dx_expected)

  def test_bound_gets_no_gradient(self):
    for gradient in math_ops.GRADIENTS:
      with self.subTest(gradient=gradient), tf.Graph().as_default():
        x = tf.constant([-1., 1.])
        bound = tf.constant(0.)
        y = math_ops.lower_bound(x, bound, gradient=gradient)
        self.assertEqual(tf.gradients(y, [bound]), [None])

  def test_identity_moves_inputs_through_the_bound_disconnected_does_not(self):
    # Minimising (lower_bound(x, 0) - 3)^2 from x = -5: identity and
    # identity_if_towards move x up to 3; disconnected leaves it stuck.
    for gradient, final in [("identity", 3.), ("identity_if_towards", 3.),
                            ("disconnected", -5.)]:
      with self.subTest(gradient=gradient), tf.Graph().as_default():
        x = tf.Variable(-5.)
        loss = tf.square(math_ops.lower_bound(x, 0., gradient=gradient) - 3.)
        step = tf.compat.v1.train.GradientDescentOptimizer(.1).minimize(loss)
        with tf.compat.v1.Session() as sess:
          sess.run(tf.compat.v1.global_variables_initializer())
          for _ in range(100):
            sess.run(step)
          self.assertAllClose(sess.run(x), final, atol=1e-3)

  def test_unknown_gradient_is_refused_naming_the_choices(self):
    for fn in (math_ops.lower_bound, math_ops.upper_bound):
      for gradient in ("straight_through", None, "Identity", 1):
        with self.subTest(fn=fn.__name__, gradient=gradient):
          with self.assertRaisesRegex(
              ValueError, r"gradient must be one of 'identity_if_towards', 'identity', "
                          r"'disconnected', got "):
            fn(tf.constant([1.]), 0., gradient=gradient)

  def test_eager(self):
    x = tf.constant([-1., 1.])
    for gradient, expected in [("identity", [1., 1.]), ("disconnected", [0., 1.])]:
      with self.subTest(gradient=gradient):
        with tf.GradientTape() as tape:
          tape.watch(x)
          y = math_ops.lower_bound(x, 0., gradient=gradient)
        self.assertAllEqual(tape.gradient(y, x), expected)


if __name__ == "__main__":
  tf.test.main()
