"""Image models written before the transforms were SignalConv2D layers (issue 22).

Their synthesis layers were named "synthesis/conv_<i>", and mbt2018-mean's mean
hyper-synthesis' "hyper_synthesis_mean/conv_<i>", and stored the kernel in
tf.nn.conv2d_transpose's layout ([k*k, F*C] coefficients); model.upgrade maps them
to ".../upconv_<i>" ([k*k, C*F]). The shipped weights (the current mbt2018-mean set
still holds the old mean-path names), an old checkpoint restored for coding,
resumed, or used by `train --init_from` (ms2020-cc's too) must give exactly what
the old tf.nn helpers (common/layers.py) computed.

The replaced models of models/legacy/ are decode-only (shipped.py): their weights
hold no analysis transforms. A file each replaced set wrote (tests/data/, kept
from before they were replaced) still decodes, found by its fingerprint; encoding or
`--init_from` with one is refused in one line.
"""

import functools
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import images_testutil  # pylint: disable=unused-import
from compression.examples.common import layers
from compression.examples.common import training
from compression.examples.images import codec
from compression.examples.images import config as config_lib
from compression.examples.images import container
from compression.examples.images import data
from compression.examples.images import model
from compression.examples.images import shipped
from compression.examples.images import train
from compression.python.layers import gdn

v1 = tf.compat.v1


def _old_hyper_synthesis_mean(z_hat, n, m):
  """mbt2018-mean's mean path as model.py built it before (kernels [k, k, F, C])."""
  with v1.variable_scope("hyper_synthesis_mean"):
    h = z_hat
    filters = (n, n, m)
    for i, ((size, stride, relu), out) in enumerate(
        zip(model.HyperSynthesis.LAYERS, filters)):
      with v1.variable_scope(f"conv_{i}"):
        kernel, bias = layers.weights([size, size, out, int(h.shape[-1])], out,
                                      zero_kernel=i == len(filters) - 1,
                                      rdft=True)
      h = tf.nn.bias_add(layers.transposed(h, kernel, stride), bias)
      if relu:
        h = tf.nn.relu(h)
    return h


def _train_last_mean_kernel(sess):
  """The old mean path's last kernel starts at zero (so would a wrong layout of
  the others go unseen): random values, as training leaves it."""
  last, = [v for v in v1.global_variables()
           if v.op.name == "hyper_synthesis_mean/conv_2/kernel_rdft"]
  sess.run(last.assign(np.random.default_rng(5).normal(
      0, .1, last.shape).astype(np.float32)))


@functools.lru_cache(maxsize=None)
def _stride_1_ops_agree():
  """Whether tf.nn.conv2d_transpose and tf.nn.convolution compute a stride-1
  "SAME" layer bit for bit in this process: with oneDNN's kernels (TensorFlow's
  default on x86) they do; TensorFlow's own (TF_ENABLE_ONEDNN_OPTS=0) sum in
  another order. The old mean path's last layer called the one, the new calls the
  other; every other layer calls the same op as before."""
  rng = np.random.default_rng(7)
  x = rng.normal(size=[1, 8, 12, 16]).astype(np.float32)
  kernel = rng.normal(size=[3, 3, 24, 16]).astype(np.float32)  # [k, k, F, C]
  with tf.Graph().as_default(), v1.Session() as sess:
    inputs = v1.placeholder(tf.float32, x.shape)  # fed: not constant-folded
    weights = v1.placeholder(tf.float32, kernel.shape)
    a, b = sess.run([
        tf.nn.conv2d_transpose(inputs, weights, [1, 8, 12, 24], 1, "SAME"),
        tf.nn.convolution(inputs, tf.transpose(tf.reverse(weights, [0, 1]),
                                               [0, 1, 3, 2]), padding="SAME")],
                    {inputs: x, weights: kernel})
  np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)  # the same layer
  return np.array_equal(a, b)


def _assert_same(old, new, key):
  """Bit for bit; the means within float rounding where the stride-1 ops differ."""
  if key == "mean" and not _stride_1_ops_agree():
    np.testing.assert_allclose(new, old, rtol=0,
                               atol=1e-5 * np.abs(old).max(), err_msg=key)
  else:
    np.testing.assert_array_equal(old, new, err_msg=key)


def _old_transforms(x, y_in, n, m, stages, mean=False):
  """analysis, hyper-analysis and synthesis (and with `mean` the mean
  hyper-synthesis of z) as model.py built them before."""
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
  out = {"y": y, "z": z, "x_hat": _old_synthesis_transform(y_in, n, stages)}
  if mean:
    out["mean"] = _old_hyper_synthesis_mean(z, n, m)
  return out


def _old_synthesis_transform(y_in, n, stages):
  with v1.variable_scope("synthesis"):
    h = y_in
    for i, (size, stride) in enumerate(stages[::-1][:-1]):
      h = gdn.GDN(inverse=True, name=f"igdn_{i}")(
          layers.conv_transpose(h, n, size, stride, f"conv_{i}", rdft=True))
    size, stride = stages[0]
    return layers.conv_transpose(h, 3, size, stride, f"conv_{len(stages) - 1}",
                                 rdft=True)


def _new_transforms(x, y_in, n, m, stages, mean=False):
  y = model.analysis_transform(x, n, m, stages)
  out = {"y": y, "z": model.hyper_analysis_transform(y, n),
         "x_hat": model.synthesis_transform(y_in, n, stages)}
  if mean:
    out["mean"] = model.hyper_synthesis_mean(out["z"], n, m)
  return out


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


def _old_synthesis(x, y_in, n, m, stages):
  del x, m  # the synthesis only, as a decoder builds it
  return {"x_hat": _old_synthesis_transform(y_in, n, stages)}


def _new_synthesis(x, y_in, n, m, stages):
  del x, m
  return {"x_hat": model.synthesis_transform(y_in, n, stages)}


def test_shipped_weights_give_the_old_synthesis_exactly():
  # A model shipped before the SignalConv2D transforms (models/legacy/, the
  # round-4 set: old names and layouts; the current set is stored with today's).
  # Decode-only: its weights hold the synthesis, not the analysis transforms.
  legacy = shipped.legacy_dirs()
  folder = legacy[len(legacy) // 2]
  config = config_lib.require(folder)
  n, m = config["num_filters"], config["latent_filters"]
  stages = model.STAGES[config["architecture"]]
  with np.load(os.path.join(folder, shipped.WEIGHTS_FILE)) as archive:
    raw = {name: archive[name].astype(np.float32) for name in archive.files
           if archive[name].dtype == np.float16 or archive[name].dtype == np.float32}
  assert "synthesis/conv_0/kernel_rdft" in raw  # stored with the old names
  assert not any(name.startswith(shipped.ENCODER_ONLY) for name in raw)
  _, y_value = _inputs(m, 128)
  results = []
  for build in (_old_synthesis, _new_synthesis):
    with tf.Graph().as_default():
      _, y_in, out = _graph(build, n, m, stages)
      with v1.Session() as sess:
        if build is _old_synthesis:
          sess.run([v.assign(raw[v.op.name]) for v in v1.global_variables()])
        else:  # strict: every variable of the synthesis is in the weights
          assert shipped.load(sess, folder) == len(v1.global_variables())
        results.append(sess.run(out, {y_in: y_value}))
  np.testing.assert_array_equal(results[0]["x_hat"], results[1]["x_hat"])


def _old_mean(z_in, n, m):
  return {"mean": _old_hyper_synthesis_mean(z_in, n, m)}


def _new_mean(z_in, n, m):
  return {"mean": model.hyper_synthesis_mean(z_in, n, m)}


def test_shipped_weights_give_the_old_mean_path_exactly():
  # Round 5's set (mbt2018-mean, now in models/legacy/) stores the mean path under
  # its old names and layout (float16 kernels); N = 64 and M = 96. (Round 6's
  # were exported from runs of the current names.)
  folder = next(f for f in shipped.legacy_dirs()
                if os.path.basename(f).startswith("mbt2018-mean_quality_"))
  config = config_lib.require(folder)
  assert config["architecture"] == "mbt2018-mean"
  n, m = config_lib.hyper_width(config), config["latent_filters"]
  with np.load(os.path.join(folder, shipped.WEIGHTS_FILE)) as archive:
    raw = {name: archive[name].astype(np.float32) for name in archive.files
           if name.startswith("hyper_synthesis_mean/")}
  assert sorted(raw) == [f"hyper_synthesis_mean/conv_{i}/{v}" for i in range(3)
                         for v in ("bias", "kernel_rdft")]
  z_value = np.random.default_rng(3).normal(0, 2, [1, 3, 5, n]).astype(np.float32)
  results = []
  for build in (_old_mean, _new_mean):
    with tf.Graph().as_default():
      z_in = v1.placeholder(tf.float32, [1, None, None, n])
      out = build(z_in, n, m)
      with v1.Session() as sess:
        if build is _old_mean:
          sess.run([v.assign(raw[v.op.name]) for v in v1.global_variables()])
        else:
          assert sorted(v.op.name for v in v1.global_variables()) == sorted(
              model.upgraded_name(name) for name in raw)
          assert shipped.load(sess, folder) == 6
        results.append(sess.run(out, {z_in: z_value}))
  assert results[0]["mean"].shape == (1, 12, 20, m)
  assert np.any(results[0]["mean"])
  _assert_same(results[0]["mean"], results[1]["mean"], "mean")


def test_the_mean_path_starts_at_zero():
  with tf.Graph().as_default():
    z_in = v1.placeholder(tf.float32, [1, None, None, 4])
    mean = model.hyper_synthesis_mean(z_in, 4, 6)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      value = sess.run(mean, {z_in: np.ones([1, 2, 3, 4], np.float32)})
      kernels = {v.op.name: sess.run(v) for v in v1.global_variables()
                 if v.op.name.endswith("kernel_rdft")}
  assert value.shape == (1, 8, 12, 6) and not np.any(value)
  assert sorted(kernels) == [f"hyper_synthesis_mean/upconv_{i}/kernel_rdft"
                             for i in range(3)]
  assert np.any(kernels["hyper_synthesis_mean/upconv_1/kernel_rdft"])
  assert not np.any(kernels["hyper_synthesis_mean/upconv_2/kernel_rdft"])


def test_weights_stored_with_old_names_give_the_old_transforms_exactly():
  # The whole old set (analysis and hyper-analysis too), stored as `export` stored
  # it before today's names (large kernels in float16), loads exactly.
  n, m, stages = 16, 24, model.STAGES["bmshj2018"]  # 5x5x16x16 kernels: float16
  x_value, y_value = _inputs(m, 64, seed=2)
  folder = images_testutil.tmp_dir()
  old_build = functools.partial(_old_transforms, mean=True)
  with tf.Graph().as_default():
    x, y_in, out = _graph(old_build, n, m, stages)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      _train_last_mean_kernel(sess)
      stored = {v.op.name: shipped._stored(v.op.name, sess.run(v))  # pylint: disable=protected-access
                for v in v1.global_variables()}
      assert any(value.dtype == np.float16 for value in stored.values())
      np.savez_compressed(os.path.join(folder, shipped.WEIGHTS_FILE), **stored)
      sess.run([v.assign(stored[v.op.name].astype(np.float32))
                for v in v1.global_variables()])
      old = sess.run(out, {x: x_value, y_in: y_value})
  assert "synthesis/conv_0/kernel_rdft" in stored and "analysis/conv_0/bias" in stored
  assert "hyper_synthesis_mean/conv_0/kernel_rdft" in stored
  with tf.Graph().as_default():
    x, y_in, out = _graph(functools.partial(_new_transforms, mean=True), n, m,
                          stages)
    with v1.Session() as sess:
      assert shipped.load(sess, folder) == len(v1.global_variables())
      new = sess.run(out, {x: x_value, y_in: y_value})
  assert np.any(old["mean"])
  for key in ("y", "z", "x_hat", "mean"):
    _assert_same(old[key], new[key], key)


# mbt2018-mean (its mean path too) with N = M: the old and new mean kernels have
# the same shapes, in different layouts; only the names tell them apart.
@pytest.mark.parametrize("architecture,n,m", [("bls2017", 4, 6),
                                              ("bmshj2018", 4, 6),
                                              ("mbt2018-mean", 6, 6)])
def test_old_checkpoint_restores_resumes_and_initialises(architecture, n, m):
  stages = model.STAGES[architecture]
  mean = architecture == "mbt2018-mean"
  old_build = functools.partial(_old_transforms, mean=mean)
  new_build = functools.partial(_new_transforms, mean=mean)
  keys = ("y", "z", "x_hat", "mean") if mean else ("y", "z", "x_hat")
  model_dir = images_testutil.tmp_dir()
  x_value, y_value = _inputs(m, 64, seed=1)
  with tf.Graph().as_default():
    x, y_in, out, step = _graph(old_build, n, m, stages, adam=True)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      if mean:
        _train_last_mean_kernel(sess)
      sess.run(step, {x: x_value, y_in: y_value})
      old = sess.run(out, {x: x_value, y_in: y_value})
      old_values = {v.op.name: sess.run(v) for v in v1.global_variables()}
      v1.train.Saver().save(sess, os.path.join(model_dir, "model.ckpt"), 1)
  checkpoint = codec.latest_checkpoint(model_dir)
  assert model.is_legacy_checkpoint(checkpoint)
  expected = model.upgrade(old_values)
  assert "synthesis/upconv_0/kernel_rdft/Adam" in expected
  if mean:
    old_kernel = old_values["hyper_synthesis_mean/conv_1/kernel_rdft"]
    new_kernel = expected["hyper_synthesis_mean/upconv_1/kernel_rdft"]
    assert old_kernel.shape == new_kernel.shape  # N = M: names, not shapes
    assert not np.array_equal(old_kernel, new_kernel)
    for slot in ("", "/Adam", "/Adam_1"):
      assert f"hyper_synthesis_mean/upconv_2/kernel_rdft{slot}" in expected
      assert f"hyper_synthesis_mean/conv_2/kernel_rdft{slot}" not in expected
    assert np.any(old["mean"])

  def check(sess, out, feed):
    new = sess.run(out, feed)
    for key in keys:
      _assert_same(old[key], new[key], key)

  # Resuming (train._resumer, with a counter the old checkpoint lacks) and
  # --init_from (train._initializer), in training graphs.
  for way in ("resume", "init_from"):
    with tf.Graph().as_default():
      x, y_in, out, _ = _graph(new_build, n, m, stages, adam=True)
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
    x, y_in, out = _graph(new_build, n, m, stages)
    with v1.Session() as sess:
      codec.restore(sess, model_dir)
      check(sess, out, {x: x_value, y_in: y_value})


def test_upgrade_maps_only_old_synthesis_names():
  kernel = np.arange(4 * 6, dtype=np.float32).reshape(4, 6)  # [k*k, F*C], F=3
  square = np.arange(9 * 4, dtype=np.float32).reshape(9, 4)  # F = C = 2
  values = {"synthesis/conv_1/kernel_rdft": kernel,
            "synthesis/conv_1/bias": np.zeros(3, np.float32),
            "hyper_synthesis_mean/conv_2/kernel_rdft": square,
            "hyper_synthesis_mean/conv_2/kernel_rdft/Adam_1": square + 1,
            "hyper_synthesis_mean/conv_2/bias": np.zeros(2, np.float32),
            "hyper_synthesis/conv_1/kernel": kernel,
            "hyper_synthesis/conv_1/kernel_rdft": kernel,
            "channel_conditional/slice_0/mean/conv_1/kernel_rdft": kernel,
            "analysis/conv_1/kernel_rdft": kernel}
  out = model.upgrade(values)
  assert sorted(out) == ["analysis/conv_1/kernel_rdft",
                         "channel_conditional/slice_0/mean/conv_1/kernel_rdft",
                         "hyper_synthesis/conv_1/kernel",
                         "hyper_synthesis/conv_1/kernel_rdft",
                         "hyper_synthesis_mean/upconv_2/bias",
                         "hyper_synthesis_mean/upconv_2/kernel_rdft",
                         "hyper_synthesis_mean/upconv_2/kernel_rdft/Adam_1",
                         "synthesis/upconv_1/bias", "synthesis/upconv_1/kernel_rdft"]
  assert sorted(model.legacy_names(values)) == sorted(
      name for name in values if name.startswith(("synthesis/",
                                                   "hyper_synthesis_mean/")))
  np.testing.assert_array_equal(
      out["synthesis/upconv_1/kernel_rdft"],
      kernel.reshape(4, 3, 2).transpose(0, 2, 1).reshape(4, 6))
  for slot, value in (("", square), ("/Adam_1", square + 1)):
    np.testing.assert_array_equal(
        out[f"hyper_synthesis_mean/upconv_2/kernel_rdft{slot}"],
        value.reshape(9, 2, 2).transpose(0, 2, 1).reshape(9, 4))
  assert model.upgrade(out).keys() == out.keys()  # current names pass unchanged
  assert not model.legacy_names(out)
  with pytest.raises(ValueError, match="synthesis/conv_1/kernel_rdft has no bias"):
    model.upgrade({"synthesis/conv_1/kernel_rdft": kernel})
  with pytest.raises(ValueError, match="hyper_synthesis_mean/conv_0/kernel_rdft "
                     "has no bias"):
    model.upgrade({"hyper_synthesis_mean/conv_0/kernel_rdft": square})


# -- The decode-only legacy models (models/legacy/). -----------------------------

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
# 58x45 crops of models/sample.png written with a shipped quality 4 before a newer
# set replaced it, and their decoded pixels: bmshj2018 (round 4, written before its
# encoder-only weights were removed) and mbt2018-mean (round 5). Each with its
# header's fingerprint and the SHA-256 of its decoded y symbols (int32,
# little-endian): integers, exact on any machine (the integer hyper-synthesis gives
# the tables), unlike the pixels.
GOLDEN_FILES = {
    "bmshj2018": ("legacy_bmshj2018_quality_4", "b5a0e8b13de5b39a",
                  "836d165ea3f07ca2acc6942225e9ccd2674b1a168c5bed15eac0fdfd9793dafb"),
    "mbt2018-mean": ("legacy_mbt2018-mean_quality_4", "fcb18713aba33d11",
                     "8f8a363fab48b87e4001c18d4f7730ef1f27fc74c0997f390ef2c8f64c790dd3"),
}


def _cli(tmp_path, *args):
  return subprocess.run(
      [sys.executable, "-m", "compression.examples.images", *args],
      cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=images_testutil.ROOT),
      capture_output=True, text=True, timeout=300)


def _close(decoded, expected):
  """Decoded pixels against the golden PNG: the float synthesis may differ in the
  last bits on another CPU, so at most 1 apart and almost all equal."""
  assert decoded.shape == expected.shape
  difference = np.abs(decoded.astype(int) - expected.astype(int))
  assert difference.max() <= 1
  assert np.mean(difference > 0) <= .01


@pytest.mark.parametrize("architecture", sorted(GOLDEN_FILES))
def test_a_file_written_with_a_legacy_model_still_decodes(tmp_path, architecture):
  name, fingerprint, symbols_sha256 = GOLDEN_FILES[architecture]
  golden = os.path.join(DATA, name)
  blob = open(golden + ".cim", "rb").read()
  expected = data.read_image(golden + ".png")
  header = container.unpack(blob)
  assert f"{header.fingerprint:016x}" == fingerprint
  folder = shipped.model_dir_for_fingerprint(header.fingerprint)
  assert os.path.dirname(folder) == os.path.join(shipped.MODELS_DIR, shipped.LEGACY)
  assert os.path.basename(folder).startswith(architecture + "_quality_")
  assert shipped.decode_only(folder)
  # The command line, no --model_dir: the header's fingerprint finds the model.
  out = _cli(tmp_path, "decompress", "--threads=1", golden + ".cim", "old.png")
  assert out.returncode == 0, out.stderr
  _close(data.read_image(str(tmp_path / "old.png")), expected)
  # The decoder: the symbols exactly.
  decoded = codec.Decoder(folder, threads=1).decompress(blob)
  symbols = np.ascontiguousarray(decoded.y_symbols, "<i4")
  assert hashlib.sha256(symbols.tobytes()).hexdigest() == symbols_sha256
  _close(decoded.image, expected)


def test_legacy_models_are_decode_only(tmp_path):
  legacy = shipped.legacy_dirs()
  assert legacy and all(shipped.decode_only(folder) for folder in legacy)
  assert not any(shipped.decode_only(shipped.model_dir(q))
                 for q in shipped.qualities())
  folder = legacy[len(legacy) // 2]
  with pytest.raises(shipped.ShippedModelError,
                     match="is a decode-only model .*compress with a current"):
    codec.Encoder(folder)
  # The command line: one line naming it, not a missing variable.
  data.write_png(str(tmp_path / "photo.png"),
                 images_testutil.synthetic_image(32, 48, seed=4))
  out = _cli(tmp_path, "compress", "--threads=1", f"--model_dir={folder}",
             "photo.png", "photo.cim")
  assert out.returncode == 1 and not (tmp_path / "photo.cim").exists()
  lines = out.stderr.strip().splitlines()
  assert len(lines) == 1 and "decode-only" in lines[0], out.stderr
  assert "missing" not in out.stderr
  # train --init_from would leave the analysis at random initialisation.
  model_dir = os.path.join(images_testutil.tmp_dir(), "run")
  with pytest.raises(shipped.ShippedModelError,
                     match="--init_from .* is a decode-only model"):
    train.train(images_testutil.tiny_config(model_dir, init_from=folder))
  assert not os.path.exists(model_dir)  # refused before anything is written
  with pytest.raises(shipped.ShippedModelError, match="decode-only"):
    train._initializer(folder)  # pylint: disable=protected-access


def test_strip_encoder_keeps_everything_else_exactly():
  folder = images_testutil.tmp_dir()
  rng = np.random.default_rng(0)
  values = {"analysis/conv_0/kernel_rdft": rng.random([9, 12], np.float32),
            "synthesis/conv_0/kernel_rdft": rng.random([9, 12]).astype(np.float16),
            "hyper_analysis/conv_0/bias": np.zeros(4, np.float32),
            "hyper_synthesis/conv_0/weight_bits": np.int32(11),
            "hyper_synthesis/scale_thresholds": rng.random(5),
            "entropy_bottleneck/cdf": np.arange(12, dtype=np.int32)}
  np.savez_compressed(os.path.join(folder, shipped.WEIGHTS_FILE), **values)
  assert not shipped.decode_only(folder)
  shipped.check_encodes(folder)  # a whole model: no error
  shipped.strip_encoder(folder)
  assert shipped.decode_only(folder)
  with np.load(os.path.join(folder, shipped.WEIGHTS_FILE)) as archive:
    assert archive.files == [n for n in values
                             if not n.startswith(shipped.ENCODER_ONLY)]
    for name in archive.files:
      assert archive[name].dtype == values[name].dtype
      np.testing.assert_array_equal(archive[name], values[name])


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
