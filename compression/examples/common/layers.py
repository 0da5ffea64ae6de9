"""Convolution helpers of the examples' transforms (tf.compat.v1 graph mode, NHWC).

Each helper makes its variables with `tf.compat.v1.get_variable` in a variable
scope `name` (or, for `weights`, in the caller's scope): "bias" (zeros,
[filters]) and "kernel" (glorot-uniform), or with `rdft` the kernel's real DFT
coefficients ("kernel_rdft", `parameterizers.RDFTParameterizer`). These names
are part of every checkpoint the examples have written: changing them would
stop trained models from loading.

The MNIST example's transforms use them. The image example's are the library's
SignalConv2D layers (images/model.py, whose `upgrade` loads the models these
helpers built); tests/test_images_legacy.py rebuilds those old graphs with them
(`zero_kernel`: the old mean hyper-synthesis' last kernel).
"""

import tensorflow as tf

from compression.python.layers import parameterizers

v1 = tf.compat.v1


def weights(kernel_shape, filters, zero_kernel=False, rdft=False):
  """(kernel, bias) float32 variables: kernel of `kernel_shape`, bias [filters].

  zero_kernel: the kernel starts at zero (else glorot-uniform).
  rdft: a spatial kernel (`kernel_shape[0] > 1`) is stored as its real DFT
    coefficients, so that Adam steps each spatial frequency separately (the
    image transforms train about twice as fast per step); else, and for 1x1 or
    dense kernels, a plain variable "kernel".
  """
  initializer = (v1.zeros_initializer() if zero_kernel
                 else v1.glorot_uniform_initializer())
  if rdft and kernel_shape[0] > 1:
    kernel = parameterizers.RDFTParameterizer()(
        v1.get_variable, "kernel", kernel_shape, tf.float32, initializer)
  else:
    kernel = v1.get_variable("kernel", kernel_shape, tf.float32,
                             initializer=initializer)
  bias = v1.get_variable("bias", [filters], tf.float32,
                         initializer=v1.zeros_initializer())
  return kernel, bias


def conv(x, filters, kernel_size, stride, name, activation=None, rdft=False):
  """activation(conv(x) + bias), "same" padding:
  float32 [B, H, W, C] -> [B, ceil(H/stride), ceil(W/stride), filters]."""
  with v1.variable_scope(name):
    kernel, bias = weights(
        [kernel_size, kernel_size, int(x.shape[-1]), filters], filters,
        rdft=rdft)
    y = tf.nn.bias_add(
        tf.nn.conv2d(x, kernel, strides=stride, padding="SAME"), bias)
    return activation(y) if activation else y


def transposed(x, kernel, stride):
  """tf.nn.conv2d_transpose, "same": [B, H, W, C] -> [B, H*s, W*s, F] for a
  kernel [k, k, F, C]; static sizes of x carry over to the result's shape."""
  shape = tf.shape(x)
  output_shape = tf.stack(
      [shape[0], shape[1] * stride, shape[2] * stride, tf.shape(kernel)[2]])
  y = tf.nn.conv2d_transpose(x, kernel, output_shape, strides=stride,
                             padding="SAME")
  static = x.shape.as_list()
  y.set_shape([static[0]] + [d * stride if d is not None else None
                             for d in static[1:3]] + [kernel.shape[2]])
  return y


def conv_transpose(x, filters, kernel_size, stride, name, activation=None,
                   rdft=False):
  """activation(transposed conv(x) + bias), "same":
  float32 [B, H, W, C] -> [B, H*stride, W*stride, filters].

  The kernel is [k, k, filters, C], the layout of `tf.nn.conv2d_transpose`
  (glorot-uniform's fan-in and fan-out are symmetric in the channel counts)."""
  with v1.variable_scope(name):
    kernel, bias = weights(
        [kernel_size, kernel_size, filters, int(x.shape[-1])], filters,
        rdft=rdft)
    y = tf.nn.bias_add(transposed(x, kernel, stride), bias)
    return activation(y) if activation else y
