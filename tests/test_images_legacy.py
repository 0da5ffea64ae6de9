"""Image models written before the transforms were SignalConv2D layers (issue 22).

Their synthesis layers were named "synthesis/conv_<i>" and stored the kernel in
tf.nn.conv2d_transpose's layout ([k*k, F*C] coefficients); model.upgrade maps them
to "synthesis/upconv_<i>" ([k*k, C*F]). The shipped weights, an old checkpoint
restored for coding, resumed, or used by `train --init_from` must give exactly
what the old tf.nn helpers (common/layers.py) computed.
"""

import os
import sys

import numpy as np
import pytest
import tensorflow as tf

import images_testutil  # pylint: disable=unused-import
from compression.examples.common import layers
from compression.examples.common import training
from compression.examples.images import codec
from compression.examples.images import config as config_lib
from compression.examples.images import model
from compression.examples.images import shipped
from compression.examples.images import train
from compression.python.layers import gdn

v1 = tf.compat.v1


def _old_transforms(x, y_in, n, m, stages):
  """analysis, hyper-analysis and synthesis as model.py built them before."""
  with v1.variable_scope("analysis"):
    h = x
    for i, (size, stride) in enumerate(stages[:-1]):
      h = gdn.GDN(name=f"gdn_{i}")(
          layers.conv(h, n, size, stride, f"conv_{i}", rdft=True))
    size, stride = stages[-1]
    y = layers.conv(h, m, size, stride, f"conv_{len(stages) - 1}", rdft=True)
  with v1.variable_scope("hyper_analysis"):
    z = layers.conv(tf.abs(y), n, 3, 1, "conv_0", tf.nn.relu, rdft=True)
    z = layers.conv(z, n, 5, 2, "conv_1", tf.nn.relu, rdft=True)
    z = layers.conv(z, n, 5, 2, "conv_2", rdft=True)
  with v1.variable_scope("synthesis"):
    h = y_in
    for i, (size, stride) in enumerate(stages[::-1][:-1]):
      h = gdn.GDN(inverse=True, name=f"igdn_{i}")(
          layers.conv_transpose(h, n, size, stride, f"conv_{i}", rdft=True))
    size, stride = stages[0]
    x_hat = layers.conv_transpose(h, 3, size, stride, f"conv_{len(stages) - 1}",
                                  rdft=True)
  return {"y": y, "z": z, "x_hat": x_hat}


def _new_transforms(x, y_in, n, m, stages):
  y = model.analysis_transform(x, n, m, stages)
  return {"y": y, "z": model.hyper_analysis_transform(y, n),
          "x_hat": model.synthesis_transform(y_in, n, stages)}


def _inputs(m, size, seed=0):
  rng = np.random.default_rng(seed)
  return (rng.random([1, size, size, 3], np.float32),
          rng.normal(0, 3, [1, size // 16, size // 16, m]).astype(np.float32))


def _graph(build, n, m, stages, adam=False):
  x = v1.placeholder(tf.float32, [1, None, None, 3])
  y_in = v1.placeholder(tf.float32, [1, None, None, m])
  out = build(x, y_in, n, m, stages)
  if adam:  # optimizer slots, as a training checkpoint holds them
    loss = sum(tf.reduce_sum(tf.square(t)) for t in out.values())
    step = v1.train.AdamOptimizer(1e-2).minimize(loss)
    return x, y_in, out, step
  return x, y_in, out


def test_shipped_weights_give_the_old_transforms_exactly():
  # A model shipped before the SignalConv2D transforms (models/legacy/, the
  # round-4 set: old names and layouts; the current set is stored with today's).
  legacy = shipped.legacy_dirs()
  folder = legacy[len(legacy) // 2]
  config = config_lib.require(folder)
  n, m = config["num_filters"], config["latent_filters"]
  stages = model.STAGES[config["architecture"]]
  with np.load(os.path.join(folder, shipped.WEIGHTS_FILE)) as archive:
    raw = {name: archive[name].astype(np.float32) for name in archive.files
           if archive[name].dtype == np.float16 or archive[name].dtype == np.float32}
  assert "synthesis/conv_0/kernel_rdft" in raw  # stored with the old names
  x_value, y_value = _inputs(m, 128)
  results = []
  for build in (_old_transforms, _new_transforms):
    with tf.Graph().as_default():
      x, y_in, out = _graph(build, n, m, stages)
      with v1.Session() as sess:
        if build is _old_transforms:
          sess.run([v.assign(raw[v.op.name]) for v in v1.global_variables()])
        else:
          assert shipped.load(sess, folder) == len(v1.global_variables())
        results.append(sess.run(out, {x: x_value, y_in: y_value}))
  for key in ("y", "z", "x_hat"):
    np.testing.assert_array_equal(results[0][key], results[1][key], err_msg=key)


@pytest.mark.parametrize("architecture", ["bls2017", "bmshj2018"])
def test_old_checkpoint_restores_resumes_and_initialises(architecture):
  n, m, stages = 4, 6, model.STAGES[architecture]
  model_dir = images_testutil.tmp_dir()
  x_value, y_value = _inputs(m, 64, seed=1)
  with tf.Graph().as_default():
    x, y_in, out, step = _graph(_old_transforms, n, m, stages, adam=True)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      sess.run(step, {x: x_value, y_in: y_value})
      old = sess.run(out, {x: x_value, y_in: y_value})
      old_values = {v.op.name: sess.run(v) for v in v1.global_variables()}
      v1.train.Saver().save(sess, os.path.join(model_dir, "model.ckpt"), 1)
  checkpoint = codec.latest_checkpoint(model_dir)
  assert model.is_legacy_checkpoint(checkpoint)
  expected = model.upgrade(old_values)
  assert "synthesis/upconv_0/kernel_rdft/Adam" in expected

  def check(sess, out, feed):
    new = sess.run(out, feed)
    for key in ("y", "z", "x_hat"):
      np.testing.assert_array_equal(old[key], new[key], err_msg=key)

  # Resuming (train._resumer, with a counter the old checkpoint lacks) and
  # --init_from (train._initializer), in training graphs.
  for way in ("resume", "init_from"):
    with tf.Graph().as_default():
      x, y_in, out, _ = _graph(_new_transforms, n, m, stages, adam=True)
      counter = v1.Variable(0, name=training.SKIPPED_STEPS)
      with v1.Session() as sess:
        if way == "resume":
          with pytest.raises(codec.CheckpointError, match="skipped_steps is not "
                             "in it"):
            codec.restore(sess, model_dir)  # coding needs every variable
          train._resumer(checkpoint, [counter], v1.global_variables_initializer())(
              sess, checkpoint)
          values = {v.op.name: sess.run(v) for v in v1.global_variables()}
          assert set(values) == set(expected) | {training.SKIPPED_STEPS}
          for name, value in expected.items():
            np.testing.assert_array_equal(value, values[name], err_msg=name)
        else:
          sess.run(v1.global_variables_initializer())
          count = train._initializer(model_dir)(sess)
          assert count == len(train._model_variables())
        check(sess, out, {x: x_value, y_in: y_value})
  # Coding graphs (codec.restore): no optimizer slots, no counter.
  with tf.Graph().as_default():
    x, y_in, out = _graph(_new_transforms, n, m, stages)
    with v1.Session() as sess:
      codec.restore(sess, model_dir)
      check(sess, out, {x: x_value, y_in: y_value})


def test_upgrade_maps_only_old_synthesis_names():
  kernel = np.arange(4 * 6, dtype=np.float32).reshape(4, 6)  # [k*k, F*C], F=3
  values = {"synthesis/conv_1/kernel_rdft": kernel,
            "synthesis/conv_1/bias": np.zeros(3, np.float32),
            "hyper_synthesis/conv_1/kernel": kernel,
            "analysis/conv_1/kernel_rdft": kernel}
  out = model.upgrade(values)
  assert sorted(out) == ["analysis/conv_1/kernel_rdft",
                         "hyper_synthesis/conv_1/kernel",
                         "synthesis/upconv_1/bias", "synthesis/upconv_1/kernel_rdft"]
  np.testing.assert_array_equal(
      out["synthesis/upconv_1/kernel_rdft"],
      kernel.reshape(4, 3, 2).transpose(0, 2, 1).reshape(4, 6))
  assert model.upgrade(out).keys() == out.keys()  # current names pass unchanged
  with pytest.raises(ValueError, match="synthesis/conv_1/kernel_rdft has no bias"):
    model.upgrade({"synthesis/conv_1/kernel_rdft": kernel})


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
