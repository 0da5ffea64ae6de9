"""Tests of compression/python/ops/math_ops.py (graph mode)."""

import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from compression.python.ops import math_ops  # pylint: disable=g-import-not-at-top


class BoundTest(tf.test.TestCase):

  def _value_and_grad(self, fn, inputs, bound, dy):
    """Runs fn(inputs, bound) and its gradient for the incoming gradient dy."""
    with tf.Graph().as_default():
      x = tf.constant(inputs, tf.float32)
      y = fn(x, bound)
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


if __name__ == "__main__":
  tf.test.main()
