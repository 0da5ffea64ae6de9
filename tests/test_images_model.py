"""The image model: transform shapes, training, the integer hyper-synthesis, and the
.cim container."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

import images_testutil
from compression.examples.images import container
from compression.examples.images import model
from compression.examples.images import train
from compression.python.layers import conditional_models

v1 = tf.compat.v1
TABLE = conditional_models.default_scale_table()


# -- Shapes. ---------------------------------------------------------------------


@pytest.mark.parametrize("architecture,height,width", [
    ("bls2017", 64, 80), ("bmshj2018", 128, 192), ("ms2020-cc", 128, 64)])
def test_transform_shapes(architecture, height, width):
  n, m = 4, 6
  image_model = model.ImageModel(architecture, n, m)
  assert image_model.total_stride == {"bls2017": 16, "bmshj2018": 64,
                                     "ms2020-cc": 64}[architecture]
  with tf.Graph().as_default():
    x = v1.placeholder(tf.float32, [None, None, None, 3])
    y = model.analysis_transform(x, n, m)
    fetches = {"y": y, "x_hat": model.synthesis_transform(y, n)}
    if image_model.hyperprior:
      z = model.hyper_analysis_transform(y, n)
      hyper = model.HyperSynthesis(n, m, TABLE)
      fetches.update(z=z, scales=hyper.scales(z), indexes=hyper.scale_indexes(z),
                     quantized=hyper.quantized_scales(z))
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      out = sess.run(fetches, {x: np.random.default_rng(0).random(
          [2, height, width, 3], np.float32)})
  with tf.Graph().as_default():
    net = image_model.training_graph(tf.fill([2, height, width, 3], .5))
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      out.update(sess.run({"train_x_hat": net["x_hat"], "bits": net["bits"],
                           "bpp": net["bpp"], "mse": net["mse"]}))
  assert out["y"].shape == (2, height // 16, width // 16, m)
  assert out["x_hat"].shape == (2, height, width, 3)
  assert out["train_x_hat"].shape == (2, height, width, 3)
  assert out["bits"].shape == (2,) and np.all(out["bits"] > 0)
  assert out["bpp"].shape == () and out["mse"].shape == ()
  if image_model.hyperprior:
    assert out["z"].shape == (2, height // 64, width // 64, n)
    assert out["scales"].shape == out["y"].shape
    assert out["indexes"].shape == out["y"].shape
    assert out["indexes"].dtype == np.int32
    assert out["quantized"].shape == out["y"].shape
    assert np.all(out["scales"] > 0)


def test_unknown_architecture_refused():
  with pytest.raises(ValueError, match="architecture"):
    model.ImageModel("bls2018", 4)


# -- Training. -------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["bls2017", "bmshj2018"])
def test_training_lowers_the_loss(architecture):
  model_dir = images_testutil.tmp_dir()
  steps = 30
  train.train(images_testutil.tiny_config(
      model_dir, architecture, num_steps=steps, log_every=1,
      checkpoint_every=steps, learning_rate=1e-2, decay_last=0., lmbda=.01, seed=3,
      final_steps=0),
              log=lambda *a: None)
  with open(os.path.join(model_dir, train.LOG_FILE)) as f:
    losses = [json.loads(line)["loss"] for line in f]
  assert len(losses) == steps and np.all(np.isfinite(losses))
  first, last = np.mean(losses[:5]), np.mean(losses[-5:])
  assert last < .7 * first, losses


# -- Integer hyper-synthesis. ----------------------------------------------------

N, M = 4, 6


def _random_z_hat(rng, height=6, width=5):
  """float32 [1, height, width, N]: integers plus a per-channel offset, as z_hat."""
  offsets = rng.uniform(-.5, .5, N)
  return (rng.integers(-8, 9, [1, height, width, N]) + offsets).astype(np.float32)


class _HyperGraph:
  """A HyperSynthesis with random weights, its float and integer paths on a
  placeholder z_hat, and its update op."""

  def __init__(self, seed=0):
    self.graph = tf.Graph()
    with self.graph.as_default():
      v1.set_random_seed(seed)
      self.z = v1.placeholder(tf.float32, [1, None, None, N])
      self.hyper = model.HyperSynthesis(N, M, TABLE)
      self.scales = self.hyper.scales(self.z)
      self.indexes = self.hyper.scale_indexes(self.z)
      self.quantized = self.hyper.quantized_scales(self.z)
      self.update = self.hyper.update_op()
      self.variables = {v.op.name: v for v in v1.global_variables()}
      self.sess = v1.Session()
      self.sess.run(v1.global_variables_initializer())
      # Random biases, and the last layer's centred in the table's log range, so
      # the scales spread over many table entries.
      rng = np.random.default_rng(seed)
      for i in range(3):
        bias = self.variables[f"hyper_synthesis/conv_{i}/bias"]
        value = rng.normal(0, .3, bias.shape.as_list())
        if i == 2:
          value += np.log(TABLE).mean()
        bias.load(value.astype(np.float32), self.sess)

  def set(self, name, value):
    with self.graph.as_default():
      self.variables[name].load(value, self.sess)

  def get(self, name):
    return self.sess.run(self.variables[name])

  def run(self, fetches, z_hat):
    return self.sess.run(fetches, {self.z: z_hat})


def _float_index(scales):
  """Index of the largest float32 table entry <= each scale, clamped."""
  table = np.float32(TABLE)
  index = np.searchsorted(table, scales, side="right") - 1
  return np.clip(index, 0, len(table) - 1)


def _conv_transpose_int64(a, kernel, stride):
  """int64 [1, H, W, C] x int64 [k, k, F, C] -> int64 [1, sH, sW, F], "same", like
  tf.nn.conv2d_transpose (the transpose of conv2d with padding ((k - s) // 2 first))."""
  _, height, width, _ = a.shape
  size = kernel.shape[0]
  full = np.zeros([1, (height - 1) * stride + size, (width - 1) * stride + size,
                   kernel.shape[2]], np.int64)
  for i in range(size):
    for j in range(size):
      # [1, H, W, C] . [F, C] -> [1, H, W, F]
      contribution = np.tensordot(a, kernel[i, j].T, axes=([3], [0]))
      full[:, i:i + (height - 1) * stride + 1:stride,
           j:j + (width - 1) * stride + 1:stride] += contribution
  top = max(size - stride, 0) // 2
  return full[:, top:top + height * stride, top:top + width * stride]


def _floor_shift_clip(acc, shift, bound):
  """clip(floor(acc / 2**shift), 0, bound) in int64 (a left shift when shift < 0,
  saturating instead of overflowing)."""
  if shift >= 0:
    return np.clip(acc >> shift, 0, bound)
  left = -shift
  saturated = acc > (bound >> left) if left < 63 else acc > 0
  return np.where(acc <= 0, 0, np.where(saturated, bound, acc << min(left, 62)))


def _integer_indexes_numpy(graph, z_hat):
  """The integer path, in int64 NumPy from the update op's variables."""
  bound = 2 ** (10 + model.Z_FRACTION_BITS)
  a = np.clip(np.round(z_hat.astype(np.float64) * 2 ** model.Z_FRACTION_BITS),
              -bound, bound).astype(np.int64)
  fraction_bits = model.Z_FRACTION_BITS
  for i, (_, stride, relu) in enumerate(model.HyperSynthesis.LAYERS):
    scope = f"hyper_synthesis/conv_{i}/"
    kernel = graph.get(scope + "kernel_int")
    bias = graph.get(scope + "bias_int")
    assert np.all(kernel == np.round(kernel)) and np.all(bias == np.round(bias))
    acc = _conv_transpose_int64(a, kernel.astype(np.int64), stride) + bias.astype(
        np.int64)
    if relu:
      shift = fraction_bits + int(graph.get(scope + "weight_bits")) - 12
      a = _floor_shift_clip(acc, shift, 2 ** (10 + 12))
      fraction_bits = 12
  thresholds = graph.get("hyper_synthesis/scale_thresholds").astype(np.int64)
  index = np.searchsorted(thresholds, acc, side="right") - 1
  return np.clip(index, 0, len(thresholds) - 1)


@pytest.fixture(scope="module")
def hyper_graph():
  graph = _HyperGraph(seed=0)
  graph.sess.run(graph.update)
  return graph


def test_integer_indexes_follow_the_float_scales(hyper_graph):
  rng = np.random.default_rng(1)
  scales, indexes = hyper_graph.run([hyper_graph.scales, hyper_graph.indexes],
                                    _random_z_hat(rng, 12, 10))
  expected = _float_index(scales)
  assert indexes.shape == expected.shape == (1, 48, 40, M)
  assert len(np.unique(indexes)) >= 10, "the test should cover many table entries"
  assert np.mean(indexes == expected) >= .99
  assert np.max(np.abs(indexes - expected)) <= 1


def test_integer_path_equals_int64_numpy_exactly(hyper_graph):
  rng = np.random.default_rng(2)
  for height, width in [(6, 5), (1, 1), (3, 8)]:
    z_hat = _random_z_hat(rng, height, width)
    np.testing.assert_array_equal(hyper_graph.run(hyper_graph.indexes, z_hat),
                                  _integer_indexes_numpy(hyper_graph, z_hat))


def test_integer_tables_are_integers_in_range(hyper_graph):
  for i in range(3):
    kernel = hyper_graph.get(f"hyper_synthesis/conv_{i}/kernel_int")
    assert np.all(kernel == np.round(kernel))
    assert np.max(np.abs(kernel)) < 2 ** model.WEIGHT_MAGNITUDE_BITS
    assert np.max(np.abs(kernel)) >= 2 ** (model.WEIGHT_MAGNITUDE_BITS - 2)
  thresholds = hyper_graph.get("hyper_synthesis/scale_thresholds")
  assert np.all(np.diff(thresholds) > 0)


def test_huge_kernel_is_rescaled_and_stays_exact():
  graph = _HyperGraph(seed=4)
  name = "hyper_synthesis/conv_1/kernel"
  kernel = graph.get(name)
  kernel[0, 0, 0, 0] = 1e30
  graph.set(name, kernel)
  graph.sess.run(graph.update)
  assert np.max(np.abs(graph.get(name + "_int"))) < 2 ** model.WEIGHT_MAGNITUDE_BITS
  z_hat = _random_z_hat(np.random.default_rng(5))
  np.testing.assert_array_equal(graph.run(graph.indexes, z_hat),
                                _integer_indexes_numpy(graph, z_hat))


def test_update_refuses_sums_beyond_2_pow_53():
  graph = _HyperGraph(seed=6)
  name = "hyper_synthesis/conv_0/bias"
  graph.set(name, np.full(graph.get(name).shape, 1e15, np.float32))
  with pytest.raises(tf.errors.InvalidArgumentError, match="2\\*\\*53"):
    graph.sess.run(graph.update)
  # Nothing was written: the integer tables are still the initial zeros.
  assert not np.any(graph.get("hyper_synthesis/conv_0/bias_int"))


def test_quantized_scales_round_trip_through_gaussian_conditional(hyper_graph):
  rng = np.random.default_rng(7)
  z_hat = _random_z_hat(rng)
  with hyper_graph.graph.as_default():
    gc = conditional_models.GaussianConditional(
        hyper_graph.quantized, scale_table=TABLE, name="round_trip")
    y = v1.placeholder(tf.float32, [1, None, None, M])
    strings = gc.compress(y)
    decoded = gc.decompress(strings)
    hyper_graph.sess.run(v1.variables_initializer(gc.variables))
    hyper_graph.sess.run(gc.updates[0])
  indexes, quantized = hyper_graph.run([hyper_graph.indexes, hyper_graph.quantized],
                                       z_hat)
  # The table scale maps back to its own index (the layer's rule: the largest table
  # entry <= the scale).
  np.testing.assert_array_equal(_float_index(quantized), indexes)
  y_value = (rng.normal(size=quantized.shape) * quantized * 1.5).astype(np.float32)
  y_hat = hyper_graph.sess.run(decoded, {hyper_graph.z: z_hat, y: y_value})
  np.testing.assert_array_equal(y_hat, np.round(y_value))


# -- Container. ------------------------------------------------------------------


def _compressed(architecture="bmshj2018", height=70, width=90):
  y_shape, z_shape = container.latent_shapes(architecture, height, width, 6, 4)
  return container.CompressedImage(
      architecture=architecture, fingerprint=0x0123456789abcdef, height=height,
      width=width, y_shape=y_shape, z_shape=z_shape, y_string=b"y-string\x00\xff",
      z_string=b"zz" if architecture == "bmshj2018" else b"")


@pytest.mark.parametrize("architecture", ["bls2017", "bmshj2018"])
def test_container_round_trip(architecture):
  image = _compressed(architecture)
  blob = container.pack(image)
  assert len(blob) == (container.HEADER_BYTES + len(image.y_string)
                       + len(image.z_string) + container.CRC_BYTES)
  assert container.unpack(blob) == image


def test_container_refuses_every_truncation_and_flipped_byte():
  blob = container.pack(_compressed())
  for length in range(len(blob)):
    with pytest.raises(container.ContainerError):
      container.unpack(blob[:length])
  for position in range(len(blob)):
    damaged = bytearray(blob)
    damaged[position] ^= 0x5a
    with pytest.raises(container.ContainerError):
      container.unpack(bytes(damaged))
  with pytest.raises(container.ContainerError, match="too long"):
    container.unpack(blob + b"\0")


@pytest.mark.parametrize("change", [
    {"y_shape": (2, 2, 6)}, {"z_shape": (1, 1, 4)}, {"y_shape": (2, 2, 0)},
    {"z_shape": (0, 0, 0)}, {"height": 200}, {"width": 0}])
def test_container_refuses_shapes_inconsistent_with_the_size(change):
  image = _compressed()
  for key, value in change.items():
    setattr(image, key, value)
  with pytest.raises(container.ContainerError):
    container.unpack(container.pack(image))


def test_container_refuses_z_string_in_bls2017():
  image = _compressed("bls2017")
  image.z_string = b"z"
  with pytest.raises(container.ContainerError, match="latent shapes"):
    container.unpack(container.pack(image))


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))


# -- The hyperprior's own width (hyper_filters). ----------------------------------


def test_hyper_filters_give_z_its_own_width_through_training_and_coding():
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  model_dir = images_testutil.tmp_dir()
  train.train(images_testutil.tiny_config(
      model_dir, "mbt2018-mean", num_steps=3, final_steps=0, log_every=3,
      checkpoint_every=3, hyper_filters=3), log=lambda *a: None)
  with open(os.path.join(model_dir, "config.json")) as f:
    config = json.load(f)
  assert (config["num_filters"], config["latent_filters"],
          config["hyper_filters"]) == (4, 6, 3)
  image = (np.random.default_rng(5).random([70, 100, 3]) * 255).astype(np.uint8)
  encoder, decoder = codec.Encoder(model_dir), codec.Decoder(model_dir)
  try:
    encoded = encoder.compress(image)
    decoded = decoder.decompress(encoded.blob)
  finally:
    encoder.sess.close()
    decoder.sess.close()
  unpacked = container.unpack(encoded.blob)
  assert unpacked.z_shape == (2, 2, 3) and unpacked.y_shape == (8, 8, 6)
  assert decoded.z_hat.shape == (1, 2, 2, 3) and decoded.image.shape == image.shape
  # Another width in the same folder is refused, naming the sizes.
  with pytest.raises(config_lib.ConfigError, match="H=3"):
    config_lib.write(model_dir, "mbt2018-mean", 4, 6, .01, hyper_filters=5)


def test_hyper_filters_are_written_only_when_they_differ_and_are_checked():
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  folder = images_testutil.tmp_dir()
  config_lib.write(folder, "bmshj2018", 8, 12, .01, hyper_filters=8)
  assert "hyper_filters" not in config_lib.read(folder)  # same as N: as before
  assert config_lib.hyper_width(config_lib.read(folder)) == 8
  base = {"architecture": "bmshj2018", "num_filters": 8, "latent_filters": 12,
          "lambda": .01}
  for bad in (0, -1, "4", 4.0, True, config_lib.MAX_FILTERS + 1):
    with pytest.raises(config_lib.ConfigError, match="hyper_filters"):
      config_lib.check(dict(base, hyper_filters=bad), "config.json")
  assert config_lib.hyper_width(dict(base, hyper_filters=5)) == 5


# -- Quantization in training. ---------------------------------------------------


def _training_outputs(architecture, quantization, runs=2):
  """Runs of one training graph on one image: random weights (seed 5), the mean
  path's too (it starts at zero output), so that y's means are not 0."""
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(5)
    image_model = model.ImageModel(architecture, 8, 12)
    x = tf.constant(np.random.default_rng(5).uniform(0, 1, [1, 64, 64, 3]),
                    tf.float32)
    net = image_model.training_graph(x, quantization=quantization)
    analysis = [v for v in v1.trainable_variables() if v.name.startswith("analysis")]
    gradients = tf.gradients(net["mse"], analysis)
    randomize = [v.assign(tf.random.normal(v.shape, stddev=.3))
                 for v in v1.trainable_variables()
                 if v.name.startswith("hyper_synthesis_mean")]
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      sess.run(randomize)
      return [sess.run({"net": {k: v for k, v in net.items() if k != "updates"},
                        "gradients": gradients}) for _ in range(runs)]


@pytest.mark.parametrize("architecture", ["mbt2018-mean", "ms2020-cc"])
def test_mixed_quantization_synthesizes_y_rounded_around_its_mean(architecture):
  # ms2020-cc's slice nets start at zero output (no LRP yet): y_tilde is then
  # exactly the rounded y around the slices' means.
  mixed = _training_outputs(architecture, "mixed")
  noise = _training_outputs(architecture, "noise")
  for name, runs in (("mixed", mixed), ("noise", noise)):
    for run in runs:
      mean = run["net"]["y_mean"]
      assert np.mean(np.abs(mean - np.round(mean)) > .1) > .5  # means off the grid
      offsets = run["net"]["y_tilde"] - mean
      distance = np.abs(offsets - np.round(offsets))
      if name == "mixed":  # integers, up to float32 rounding of y_mean's size
        assert distance.max() < 1e-4, distance.max()
      else:
        assert distance.max() > .1
  # The means follow z's noise, so y_tilde does, around them; the rate term keeps
  # y's noise; the distortion's gradient reaches the analysis (straight through).
  assert not np.array_equal(mixed[0]["net"]["y_mean"], mixed[1]["net"]["y_mean"])
  assert mixed[0]["net"]["bits"][0] != mixed[1]["net"]["bits"][0]
  for gradient in mixed[0]["gradients"]:
    assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)


def test_mixed_quantization_needs_the_means():
  with pytest.raises(ValueError, match="mixed.*mbt2018-mean, ms2020-cc.*bmshj2018"):
    _training_outputs("bmshj2018", "mixed", runs=0)
  with pytest.raises(ValueError, match="quantization must be one of"):
    _training_outputs("mbt2018-mean", "rounded", runs=0)
