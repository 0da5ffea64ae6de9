"""The image example's ms2020-cc architecture (channel_model.py): started from an
mbt2018-mean model (`train --init_from`) it is that model exactly; with nonzero
slice nets its files decode to the same symbols in a child process with oneDNN off
and one thread; the tiled path, format version 3, and the refusal of refinement."""

import os

import numpy as np
import pytest
import tensorflow as tf

import images_testutil as util
import mnist_testutil
from compression.examples.images import channel_model
from compression.examples.images import codec
from compression.examples.images import config as config_lib
from compression.examples.images import container
from compression.examples.images import crosscheck
from compression.examples.images import train

ARCHITECTURE = channel_model.ARCHITECTURE


def _from_mean_model(steps):
  """An ms2020-cc model dir started from the cached tiny mbt2018-mean model and
  trained `steps` steps (0: just initialised and saved)."""
  model_dir = util.tmp_dir()
  lines = []
  train.train(util.tiny_config(model_dir, ARCHITECTURE, num_steps=steps,
                               log_every=max(steps, 1), checkpoint_every=max(steps, 1),
                               final_steps=0,
                               init_from=util.trained_model("mbt2018-mean")),
              log=lines.append)
  assert any("initialised" in line for line in lines), lines
  return model_dir


@pytest.fixture(scope="module")
def initialised():
  return _from_mean_model(0)


def _random_slice_nets(values):
  rng = np.random.default_rng(0)
  for name in values:
    if name.startswith("channel_conditional/") and "Adam" not in name:
      values[name] = np.float32(rng.normal(0, .05, values[name].shape))


@pytest.fixture(scope="module")
def trained(initialised):
  """The initialised model with random slice nets (as training would leave them:
  nonzero means and LRP), a cheap stand-in for training."""
  return mnist_testutil.tampered_model(initialised, _random_slice_nets)


@pytest.fixture(scope="module")
def image():
  return util.synthetic_image(100, 140, seed=7)


def test_at_step_0_it_is_the_mbt2018_mean_model(initialised, image):
  mean_dir = util.trained_model("mbt2018-mean")
  cc_dir = initialised
  theirs = codec.Encoder(mean_dir).compress(image)
  ours = codec.Encoder(cc_dir).compress(image)
  a, b = container.unpack(theirs.blob), container.unpack(ours.blob)
  assert (a.architecture, b.architecture) == ("mbt2018-mean", ARCHITECTURE)
  assert ours.blob[4:6] == bytes([3, 4])  # format version 3, architecture 4
  assert a.fingerprint == b.fingerprint
  assert a.y_string == b.y_string and a.z_string == b.z_string
  np.testing.assert_array_equal(ours.y_hat, theirs.y_hat)
  assert ours.bits_estimate == theirs.bits_estimate
  decoded = codec.Decoder(cc_dir).decompress(ours.blob)
  np.testing.assert_array_equal(decoded.image,
                                codec.Decoder(mean_dir).decompress(theirs.blob).image)
  # The slice nets are in the checkpoint, their last layers zero.
  reader = tf.train.load_checkpoint(codec.latest_checkpoint(cc_dir))
  last = [n for n in reader.get_variable_to_shape_map()
          if n.startswith("channel_conditional/") and "/conv_2/" in n
          and "Adam" not in n]
  assert len(last) == 2 * 2 * channel_model.num_slices(6)
  assert all(not np.any(reader.get_tensor(n)) for n in last)


def test_codes_and_decodes_whole_and_tiled(trained, image):
  encoded = codec.Encoder(trained).compress(image)
  decoded = codec.Decoder(trained).decompress(encoded.blob)
  np.testing.assert_array_equal(decoded.y_symbols, encoded.y_symbols)
  np.testing.assert_allclose(decoded.y_hat, encoded.y_hat, atol=1e-5)
  assert decoded.image.shape == image.shape
  # Tiles of 64 pixels: the same file, the same symbols, pixels within a level.
  tiled = codec.Encoder(trained, tile_size=64).compress(image)
  assert tiled.blob == encoded.blob
  again = codec.Decoder(trained, tile_size=64).decompress(tiled.blob)
  np.testing.assert_array_equal(again.y_symbols, encoded.y_symbols)
  assert np.abs(again.image.astype(int) - decoded.image).max() <= 1


def test_another_process_without_onednn_decodes_the_same_symbols(trained):
  folder = util.tmp_dir()
  paths = util.write_pngs(folder, 1, 96, 80, seed=1)
  report = crosscheck.run([trained], paths, timeout=300, log=lambda *a: None)
  assert report["child"]["failure"] is None
  (row,) = report["results"]
  assert row["architecture"] == ARCHITECTURE and row["error"] == "", row
  assert row["latents_exact"] and row["y_mismatches"] == 0, row
  assert row["pixel_max_abs_diff"] <= 1, row


def test_refinement_is_refused_in_one_line(trained):
  with pytest.raises(config_lib.ConfigError) as info:
    codec.Encoder(trained, refinable=True)
  message = str(info.value)
  assert "ms2020-cc" in message and "effort" in message and "\n" not in message


def test_slices_divide_the_latent_channels():
  assert [channel_model.num_slices(m) for m in (64, 96, 6, 7, 9)] == [4, 4, 3, 1, 3]
  assert config_lib.TOTAL_STRIDE[ARCHITECTURE] == 64
  assert os.path.basename(channel_model.__file__) == "channel_model.py"
