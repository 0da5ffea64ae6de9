"""The library's layers as sublayers of a `tf.keras.layers.Layer`, in graph mode.

Run by tests/test_tfc1_scripts.py once with Keras 3 (`tf.keras` by default) and once
with tf-keras (`TF_USE_LEGACY_KERAS=1`). A Keras layer creates SignalConv2D / GDN
sublayers in `build` (kept in `self.stages`: Keras 3 reserves `_layers`) and is
followed by an EntropyBottleneck and a GaussianConditional whose scales come from a
second Keras layer. Two training steps run, then compress / decompress in the same
graph. Prints one JSON line: the Keras flavour, the variable names, whether every
trainable variable got a gradient and changed, whether the decoded latents equal
the dequantized ones, and whether the library's code ran as written (tf-keras
converts a layer's `call` with AutoGraph; the library's layers must not be).
"""

import inspect
import json
import os

import numpy as np
import tensorflow.compat.v1 as tf

import compression as tfc

tf.disable_v2_behavior()

# One entry per activation call: was SignalConv's own source file on the stack?
# (AutoGraph runs converted functions from generated files instead.)
PROBES = []


def probe(tensor):
  """Identity activation recording whether signal_conv.py calls it as written."""
  PROBES.append(any(os.path.basename(frame.filename) == "signal_conv.py"
                    for frame in inspect.stack()))
  return tensor


class Transform(tf.keras.layers.Layer):
  """Two SignalConv2D stages, GDN (or IGDN) after the first."""

  def __init__(self, filters, inverse, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.filters = filters
    self.inverse = inverse

  def build(self, input_shape):
    resample = {"strides_up" if self.inverse else "strides_down": 2}
    self.stages = [
        tfc.SignalConv2D(4, (3, 3), name="layer_0", corr=not self.inverse,
                         padding="same_zeros", activation=tfc.GDN(
                             name="gdn_0", inverse=self.inverse), **resample),
        tfc.SignalConv2D(self.filters, (3, 3), name="layer_1",
                         corr=not self.inverse, padding="same_zeros",
                         activation=probe, **resample),
    ]
    super().build(input_shape)

  def call(self, tensor):
    for stage in self.stages:
      tensor = stage(tensor)
    return tensor


def main():
  rng = np.random.RandomState(0)
  x = tf.constant(rng.uniform(size=(2, 16, 16, 3)).astype(np.float32))
  analysis = Transform(4, False, name="analysis")
  synthesis = Transform(3, True, name="synthesis")
  scales = Transform(4, False, name="scales")
  y = analysis(x)
  sigma = tf.exp(scales(tf.stop_gradient(x)))
  bottleneck = tfc.EntropyBottleneck()
  conditional = tfc.GaussianConditional(sigma)
  z_tilde, z_likelihoods = bottleneck(y, training=True)
  y_tilde, y_likelihoods = conditional(y, training=True)
  x_tilde = synthesis(y_tilde + z_tilde)
  loss = (tf.reduce_mean(tf.squared_difference(x, x_tilde))
          - tf.reduce_mean(tf.log(y_likelihoods)) - tf.reduce_mean(tf.log(z_likelihoods)))
  trainable = tf.trainable_variables()
  grads = tf.gradients(loss, trainable)
  step = tf.group(tf.train.AdamOptimizer(1e-2).minimize(loss),
                  tf.train.AdamOptimizer(1e-2).minimize(bottleneck.losses[0]))

  z_hat, _ = bottleneck(y, training=False)
  z_decoded = bottleneck.decompress(bottleneck.compress(y), tf.shape(y)[1:])
  y_hat, _ = conditional(y, training=False)
  y_decoded = conditional.decompress(conditional.compress(y))

  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    before = sess.run(trainable)
    missing = [v.name for v, g in zip(trainable, grads) if g is None]
    for _ in range(2):
      sess.run(step)
    after = sess.run(trainable)
    sess.run(bottleneck.updates[0])
    values = sess.run([z_hat, z_decoded, y_hat, y_decoded])
  print(json.dumps({
      "keras": tf.keras.layers.Layer.__module__.split(".")[0],
      "variables": [v.name for v in tf.global_variables()],
      "trainable": [v.name for v in trainable],
      "without_gradient": missing,
      "unchanged": [v.name for v, a, b in zip(trainable, before, after)
                    if np.array_equal(a, b)],
      "bottleneck_exact": bool(np.array_equal(values[0], values[1])),
      "conditional_exact": bool(np.array_equal(values[2], values[3])),
      "library_code_as_written": PROBES,
  }))


if __name__ == "__main__":
  main()
