"""Transforms of the MNIST example: shapes, variables, initialization."""

import sys

import numpy as np
import pytest
import tensorflow as tf

import mnist_testutil  # pylint: disable=unused-import
from compression.examples.mnist import model

v1 = tf.compat.v1


def _shapes(scope):
  return {v.name: v.shape.as_list() for v in model.transform_variables(scope)}


def test_shapes_and_variables():
  with tf.Graph().as_default():
    x = v1.placeholder(tf.float32, [None, 28, 28, 1])
    y = model.analysis_transform(x, 50)
    x_hat = model.synthesis_transform(y)
    assert y.shape.as_list() == [None, 50]
    assert x_hat.shape.as_list() == [None, 28, 28, 1]
    assert _shapes("analysis") == {
        "analysis/conv_0/kernel:0": [5, 5, 1, 20],
        "analysis/conv_0/bias:0": [20],
        "analysis/conv_1/kernel:0": [5, 5, 20, 50],
        "analysis/conv_1/bias:0": [50],
        "analysis/dense_0/kernel:0": [2450, 500],
        "analysis/dense_0/bias:0": [500],
        "analysis/dense_1/kernel:0": [500, 50],
        "analysis/dense_1/bias:0": [50],
    }
    assert _shapes("synthesis") == {
        "synthesis/dense_0/kernel:0": [50, 500],
        "synthesis/dense_0/bias:0": [500],
        "synthesis/dense_1/kernel:0": [500, 2450],
        "synthesis/dense_1/bias:0": [2450],
        "synthesis/deconv_0/kernel:0": [5, 5, 20, 50],
        "synthesis/deconv_0/bias:0": [20],
        "synthesis/deconv_1/kernel:0": [5, 5, 1, 20],
        "synthesis/deconv_1/bias:0": [1],
    }
    # A second call reuses the variables.
    model.analysis_transform(x, 50)
    model.synthesis_transform(y)
    assert len(v1.global_variables()) == 16
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      out = sess.run(x_hat, {x: np.random.rand(3, 28, 28, 1)})
      assert out.shape == (3, 28, 28, 1) and np.isfinite(out).all()


def test_glorot_uniform_kernels_zero_biases():
  with tf.Graph().as_default():
    v1.set_random_seed(1)
    model.analysis_transform(v1.placeholder(tf.float32, [None, 28, 28, 1]),
                             50)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      for var in model.transform_variables("analysis"):
        value = sess.run(var)
        if var.name.endswith("bias:0"):
          assert not value.any()
          continue
        shape = value.shape
        receptive = np.prod(shape[:-2]) if len(shape) > 2 else 1
        limit = np.sqrt(6 / (receptive * (shape[-2] + shape[-1])))
        assert np.abs(value).max() <= limit
        assert np.abs(value).max() > 0.9 * limit
        # Uniform on [-limit, limit] has std limit / sqrt(3).
        np.testing.assert_allclose(value.std(), limit / np.sqrt(3), rtol=0.1)


def test_transposed_conv_matches_manual_upsampling():
  # A 1x1 input with stride 2 scatters the kernel; checks layout and bias.
  with tf.Graph().as_default():
    x = tf.constant(np.ones([1, 1, 1, 1], np.float32))
    y = model.conv2d_transpose(x, 1, 5, 2, name="t")
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      out, kernel = sess.run([y, v1.global_variables()[0]])
    assert out.shape == (1, 2, 2, 1)
    # The gradient of a "same" stride-2 conv (2x2 -> 1x1, padding 1 before):
    # output pixel o gets kernel tap o + 1.
    np.testing.assert_allclose(out[0, :, :, 0], kernel[1:3, 1:3, 0, 0],
                               rtol=1e-6)


def test_leaky_relu_slope():
  with tf.Graph().as_default(), v1.Session() as sess:
    out = sess.run(model._leaky_relu(tf.constant([-2.0, 0.0, 3.0])))  # pylint: disable=protected-access
  np.testing.assert_allclose(out, [-0.4, 0.0, 3.0])


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
