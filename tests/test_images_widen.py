"""`train --init_from` a narrower model widens it (widen.py): at step 0 the wide
model codes an image as the narrow one did (the old channels' symbols, the new
channels all 0, the same pixels), from a checkpoint, from a shipped model and from
a bmshj2018 model into an mbt2018-mean one; training then moves the new units;
narrowing and another hyperprior width are refused in one line."""

import sys

import numpy as np
import pytest
import tensorflow as tf

import images_testutil as util
from compression.examples.images import codec
from compression.examples.images import commands
from compression.examples.images import shipped
from compression.examples.images import train
from compression.examples.images import widen

WIDE = dict(num_filters=7, latent_filters=10, hyper_filters=4)


def _widened(source, architecture="mbt2018-mean", steps=0, **sizes):
  model_dir = util.tmp_dir()
  lines = []
  train.train(util.tiny_config(model_dir, architecture, num_steps=steps,
                               log_every=max(steps, 1),
                               checkpoint_every=max(steps, 1), final_steps=0,
                               init_from=source, **(sizes or WIDE)),
              log=lines.append)
  assert any("widened from" in line for line in lines), lines
  return model_dir


@pytest.fixture(scope="module")
def image():
  return util.synthetic_image(90, 130, seed=3)


def _assert_codes_as(narrow_dir, wide_dir, image, latent_filters):
  narrow = codec.Encoder(narrow_dir).compress(image)
  wide = codec.Encoder(wide_dir).compress(image)
  old = narrow.y_symbols.shape[-1]
  assert wide.y_symbols.shape[-1] == latent_filters
  # The old channels: the same integers (float rounding may move a rare one).
  same = np.mean(wide.y_symbols[..., :old] == narrow.y_symbols)
  assert same >= .999, same
  assert not np.any(wide.y_symbols[..., old:]), "new channels of y are not 0"
  np.testing.assert_allclose(wide.bits_estimate, narrow.bits_estimate, rtol=.01)
  assert abs(len(wide.blob) - len(narrow.blob)) <= 8 + .01 * len(narrow.blob)
  pixels = codec.Decoder(wide_dir).decompress(wide.blob).image.astype(int)
  reference = codec.Decoder(narrow_dir).decompress(narrow.blob).image.astype(int)
  assert np.abs(pixels - reference).max() <= 1
  assert np.mean(pixels == reference) >= .99


def test_a_widened_checkpoint_codes_as_the_narrow_model(image):
  narrow = util.trained_model("mbt2018-mean")
  _assert_codes_as(narrow, _widened(narrow), image, WIDE["latent_filters"])


def test_a_bmshj2018_model_widened_into_mbt2018_mean(image):
  narrow = util.trained_model("bmshj2018")
  _assert_codes_as(narrow, _widened(narrow), image, WIDE["latent_filters"])


def test_a_shipped_model_widened(image):
  folder = shipped.model_dir(1)
  n, m, h = widen.sizes(shipped.values(folder))
  wide = _widened(folder, num_filters=n + 8, latent_filters=m + 16,
                  hyper_filters=h)
  _assert_codes_as(folder, wide, image[:64, :64], m + 16)


def test_training_moves_the_new_units():
  narrow = util.trained_model("mbt2018-mean")
  trained = _widened(narrow, steps=2)
  reader = tf.train.load_checkpoint(codec.latest_checkpoint(trained))
  # New y channels start with zero incoming weights and new synthesis units with
  # zero outgoing ones: after two steps neither is zero.
  kernel = reader.get_tensor("analysis/conv_3/kernel_rdft").reshape(25, 7, 10)
  assert np.any(kernel[:, :, 6:])
  kernel = reader.get_tensor("synthesis/upconv_3/kernel_rdft").reshape(25, 7, 3)
  assert np.any(kernel[:, 4:, :])


def test_widen_keeps_old_values_and_adds_unseen_units():
  values = shipped.values(shipped.model_dir(1))
  n, m, h = widen.sizes(values)
  out = widen.widen(values, n + 2, m + 3, seed=1)
  assert widen.sizes(out) == (n + 2, m + 3, h)
  kernel = out["synthesis/upconv_1/kernel_rdft"].reshape(-1, n + 2, n + 2)
  old = values["synthesis/upconv_1/kernel_rdft"].reshape(-1, n, n)
  np.testing.assert_array_equal(kernel[:, :n, :n], old)
  assert not np.any(kernel[:, n:, :n])  # new inputs -> old outputs
  assert np.all(np.std(kernel[:, :, n:], axis=(0, 1)) > 0)  # new units' inputs
  gamma = out["analysis/gdn_0/reparam_gamma"]
  assert np.all(gamma[:n, n:] ** 2 - widen.PEDESTAL == 0)
  np.testing.assert_allclose(out["hyper_synthesis/conv_2/bias"][m:],
                             np.log(widen.NEW_CHANNEL_SCALE))
  assert not any(name.endswith(widen.DERIVED) for name in out)
  # Deterministic in the seed.
  again = widen.widen(values, n + 2, m + 3, seed=1)
  assert all(np.array_equal(out[k], again[k]) for k in out)


def test_narrowing_and_another_hyperprior_width_are_refused(capsys):
  narrow = util.trained_model("mbt2018-mean")  # N=4, M=6, H=4
  with pytest.raises(widen.WidenError, match="latent_filters=5 is below its "
                     "model's 6; a model can be widened, not narrowed"):
    train.train(util.tiny_config(util.tmp_dir(), "mbt2018-mean", num_filters=5,
                                 latent_filters=5, init_from=narrow))
  with pytest.raises(widen.WidenError, match=r"keeps the hyperprior's width \(4\); "
                     "this run's is 8"):
    train.train(util.tiny_config(util.tmp_dir(), "mbt2018-mean", num_filters=8,
                                 latent_filters=8, init_from=narrow))
  # Through the command line: one error line, no traceback.
  with pytest.raises(SystemExit) as exit_:
    commands.main(["prog", "train", "--architecture=mbt2018-mean",
                   "--num_filters=3", f"--model_dir={util.tmp_dir()}",
                   f"--init_from={narrow}", f"--train_glob={util.training_glob()}",
                   "--num_steps=1"])
  err = capsys.readouterr().err.strip()
  assert exit_.value.code == 1 and "Traceback" not in err
  assert err.startswith("error: ") and len(err.splitlines()) == 1, err
  assert "--num_filters=3 is below its model's 4" in err
  with pytest.raises(widen.WidenError, match="only bmshj2018 and mbt2018-mean"):
    widen.sizes({"analysis/conv_0/bias": np.zeros(3)})


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
