"""Encoder-side refinement (refine.py, `Encoder.compress(effort=N)`): a lower
rate + lambda * distortion than the analysis' y, files every decoder reads, the
same bytes for the same image, and clear errors."""

import sys

import numpy as np

import pytest

import images_testutil as util

from compression.examples.images import codec
from compression.examples.images import commands
from compression.examples.images import data
from compression.examples.images import refine
from compression.examples.images import shipped


@pytest.fixture(scope="module")
def coders():
  folder = shipped.model_dir(shipped.default_quality())
  return (codec.Encoder(folder, refinable=True), codec.Decoder(folder),
          codec.Encoder(folder))


def _photo():
  """A 64x96 crop of a natural photograph (scikit-image's astronaut)."""
  from skimage import data  # pylint: disable=g-import-not-at-top
  return np.ascontiguousarray(data.astronaut()[40:104, 200:296])


def _loss(encoder, image, blob, decoded):
  height, width = image.shape[:2]
  mse = np.mean((image.astype(np.float64) - decoded.astype(np.float64)) ** 2)
  return 8. * len(blob) / (height * width) + encoder.config["lambda"] * mse


def test_refinement_lowers_the_loss_and_decodes_with_the_plain_decoder(coders):
  refinable, decoder, plain = coders
  image = _photo()
  before = plain.compress(image)
  after = refinable.compress(image, effort=2)
  decoded_before = decoder.decompress(before.blob)
  decoded_after = decoder.decompress(after.blob)
  # The decoder is unchanged: it decodes exactly what the encoder coded.
  np.testing.assert_array_equal(decoded_after.y_symbols, after.y_symbols)
  assert not np.array_equal(after.y_symbols, before.y_symbols)
  # z is refined with y (the shipped models have a hyperprior), and decoded as coded.
  np.testing.assert_array_equal(decoded_after.z_hat, after.z_hat)
  assert not np.array_equal(after.z_hat, before.z_hat)
  # The measured loss (file bytes, decoded pixels) is lower.
  assert (_loss(plain, image, after.blob, decoded_after.image) <
          _loss(plain, image, before.blob, decoded_before.image))
  # The plain path of a refinable encoder is the plain encoder's, byte for byte.
  assert refinable.compress(image, effort=0).blob == before.blob


def test_refinement_is_reproducible(coders):
  refinable = coders[0]
  image = util.synthetic_image(48, 80, seed=3)
  assert (refinable.compress(image, effort=1).blob ==
          refinable.compress(image, effort=1).blob)


def test_refinement_errors(coders):
  refinable, _, plain = coders
  image = util.synthetic_image(32, 32, seed=1)
  with pytest.raises(ValueError, match="effort must be one of"):
    refinable.compress(image, effort=7)
  with pytest.raises(ValueError, match="refinable=True"):
    plain.compress(image, effort=1)
  # A hyperprior model's refinement moves z too: refining y alone is refused.
  with pytest.raises(ValueError, match="needs z"):
    refine.refine(refinable.sess, refinable._refine, {},  # pylint: disable=protected-access
                  np.zeros([1, 2, 2, 1], np.float32), 1)


def test_compress_effort_flag_writes_what_the_refinable_encoder_writes(
    coders, tmp_path, capsys):
  refinable, decoder, _ = coders
  image = _photo()
  source = str(tmp_path / "photo.png")
  data.write_png(source, image)
  for args, effort in (([], 0), (["--effort=1"], 1)):
    out = str(tmp_path / f"effort{effort}.cim")
    with pytest.raises(SystemExit) as done:
      commands.main(["prog", "compress", *args, source, out])
    printed = capsys.readouterr()
    assert done.value.code in (0, None), printed.err
    # Refinement reports its progress: a loss line every quarter of the steps.
    assert printed.out.count("refine step ") == (4 if effort else 0), printed.out
    with open(out, "rb") as f:
      blob = f.read()
    assert blob == refinable.compress(image, effort=effort).blob
    decoder.decompress(blob)
  with pytest.raises(SystemExit) as failed:
    commands.main(["prog", "compress", "--effort=4", source,
                   str(tmp_path / "x.cim")])
  assert failed.value.code == 1
  assert "--effort must be in 0..3, got 4" in capsys.readouterr().err


def test_temperature_anneals_from_start_to_end():
  assert refine.temperature(0, 10) == pytest.approx(refine.TAU_START)
  assert refine.temperature(9, 10) == pytest.approx(refine.TAU_END)
  taus = [refine.temperature(step, 10) for step in range(10)]
  assert all(a > b for a, b in zip(taus, taus[1:]))


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
