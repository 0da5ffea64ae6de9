"""The analysis and synthesis transforms, on raw TF ops (graph mode).

Analysis (image -> latent):
  Conv2D(20, 5x5, stride 2, same, leaky ReLU)    [B,28,28,1]  -> [B,14,14,20]
  Conv2D(50, 5x5, stride 2, same, leaky ReLU)                 -> [B,7,7,50]
  Flatten                                                     -> [B,2450]
  Dense(500, leaky ReLU)                                      -> [B,500]
  Dense(latent_dims)                                          -> [B,latent_dims]

Synthesis (latent -> image), the mirror image:
  Dense(500, leaky ReLU) -> Dense(2450, leaky ReLU) -> Reshape(7,7,50)
  -> Conv2DTranspose(20, 5x5, stride 2, same, leaky ReLU)     -> [B,14,14,20]
  -> Conv2DTranspose(1, 5x5, stride 2, same, leaky ReLU)      -> [B,28,28,1]

Variables are made with `tf.compat.v1.get_variable` under the scopes
"analysis" and "synthesis" (glorot-uniform kernels, zero biases), so a graph
that builds only one of the transforms restores just its half of a checkpoint.
Calling a transform twice in one graph reuses its variables.
"""

import tensorflow as tf

from compression.examples.common import layers

v1 = tf.compat.v1

ANALYSIS_SCOPE = "analysis"
SYNTHESIS_SCOPE = "synthesis"
KERNEL_SIZE = 5


LEAKY_RELU_ALPHA = 0.2


def _leaky_relu(x):
  # max(x, a*x) rather than tf.nn.leaky_relu: grappler's remapper tries to fuse
  # conv + bias + LeakyRelu and logs an error on the training graph.
  return tf.maximum(x, LEAKY_RELU_ALPHA * x)


def dense(x, units, activation=None, name="dense"):
  """Fully connected layer: activation(x @ kernel + bias)."""
  with v1.variable_scope(name):
    kernel, bias = layers.weights([int(x.shape[-1]), units], units)
    y = tf.nn.bias_add(tf.matmul(x, kernel), bias)
    return activation(y) if activation else y


def conv2d(x, filters, kernel_size, stride, activation=None, name="conv2d"):
  """2-D convolution, NHWC, "same" padding (`common.layers.conv`)."""
  return layers.conv(x, filters, kernel_size, stride, name, activation)


def conv2d_transpose(x, filters, kernel_size, stride, activation=None,
                     name="conv2d_transpose"):
  """Transposed 2-D convolution, NHWC, "same" padding (output = input*stride;
  `common.layers.conv_transpose`, kernel [k, k, filters, in_channels])."""
  return layers.conv_transpose(x, filters, kernel_size, stride, name,
                               activation)


def analysis_transform(x, latent_dims):
  """float [B, 28, 28, 1] in [0, 1] -> float [B, latent_dims]."""
  with v1.variable_scope(ANALYSIS_SCOPE, reuse=v1.AUTO_REUSE):
    y = conv2d(x, 20, KERNEL_SIZE, 2, _leaky_relu, name="conv_0")
    y = conv2d(y, 50, KERNEL_SIZE, 2, _leaky_relu, name="conv_1")
    y = tf.reshape(y, [-1, 7 * 7 * 50])
    y = dense(y, 500, _leaky_relu, name="dense_0")
    return dense(y, latent_dims, None, name="dense_1")


def synthesis_transform(y):
  """float [B, latent_dims] -> float [B, 28, 28, 1] (not clipped)."""
  with v1.variable_scope(SYNTHESIS_SCOPE, reuse=v1.AUTO_REUSE):
    x = dense(y, 500, _leaky_relu, name="dense_0")
    x = dense(x, 7 * 7 * 50, _leaky_relu, name="dense_1")
    x = tf.reshape(x, [-1, 7, 7, 50])
    x = conv2d_transpose(x, 20, KERNEL_SIZE, 2, _leaky_relu, name="deconv_0")
    return conv2d_transpose(x, 1, KERNEL_SIZE, 2, _leaky_relu,
                            name="deconv_1")


def transform_variables(scope):
  """The variables of one transform in the default graph."""
  return v1.get_collection(v1.GraphKeys.GLOBAL_VARIABLES, scope=scope + "/")


def bits_per_digit(likelihoods):
  """Sum of -log2(likelihood) over all but the batch axis: [B] bits."""
  bits = -tf.math.log(likelihoods) / tf.math.log(2.0)
  return tf.reduce_sum(tf.reshape(bits, [tf.shape(bits)[0], -1]), axis=1)
