"""Tiled analysis and synthesis (compression/examples/images/tiling.py): with small
tiles forced, the encoder codes the same y symbols into the same file bytes as the
whole-image transforms, and the decoder's image is within one level of the
whole-image decode; the geometry (receptive fields, margins, tile runs); images
within one tile take the whole-image path; refinement above the tile size is
refused."""

import dataclasses
import sys

import numpy as np

import pytest

import images_testutil as util

from compression.examples.images import codec
from compression.examples.images import container
from compression.examples.images import model as model_lib
from compression.examples.images import shipped
from compression.examples.images import tiling


def _model_dir(architecture):
  """The shipped default quality if it is of `architecture` (no training), else
  a tiny model trained for 5 steps."""
  folder = shipped.model_dir(shipped.default_quality())
  if shipped.record(folder).get("architecture") == architecture:
    return folder
  return util.trained_model(architecture, steps=5)


_CODERS = {}


def _coders(architecture):
  """(Encoder, Decoder) of `architecture`, cached per process (tile_size is set
  per image)."""
  if architecture not in _CODERS:
    model_dir = _model_dir(architecture)
    _CODERS[architecture] = (codec.Encoder(model_dir, threads=1),
                             codec.Decoder(model_dir, threads=1))
  return _CODERS[architecture]


def _check_same_as_whole(architecture, image, tile_size, expect_tiles=True):
  encoder, decoder = _coders(architecture)
  stages = model_lib.STAGES[architecture]
  stride = encoder.model.total_stride
  padded = [-(-s // stride) * stride for s in image.shape[:2]]
  assert tiling.tiled(*padded, stages, tiling.check_tile_size(
      tile_size, stages)) == expect_tiles
  encoder.tile_size = decoder.tile_size = 0
  whole = encoder.compress(image)
  reference = decoder.decompress(whole.blob)
  encoder.tile_size = decoder.tile_size = tile_size
  tiles = encoder.compress(image)
  np.testing.assert_array_equal(tiles.y_symbols, whole.y_symbols)
  assert tiles.blob == whole.blob
  np.testing.assert_allclose(tiles.y_hat, whole.y_hat, rtol=0, atol=1e-4)
  decoded = decoder.decompress(whole.blob)
  assert decoded.image.shape == image.shape == reference.image.shape
  assert decoded.image.dtype == np.uint8
  np.testing.assert_array_equal(decoded.y_symbols, reference.y_symbols)
  difference = np.abs(decoded.image.astype(int) - reference.image)
  assert difference.max() <= 1 and difference.mean() < 1e-3


@pytest.mark.parametrize("tile_size", [48, 64, 100])
def test_small_tiles_code_the_same_file_as_the_whole_image(tile_size):
  # 160x224 pads to 192x256: 12x16 y positions in 3 to 6 tiles a side.
  _check_same_as_whole("bmshj2018", util.synthetic_image(160, 224, seed=1),
                       tile_size)


@pytest.mark.parametrize("height,width", [(150, 213), (17, 300), (333, 61)])
def test_odd_sizes_not_multiples_of_the_tile(height, width):
  _check_same_as_whole("bmshj2018", util.synthetic_image(height, width, seed=2),
                       48)


def test_one_tile_and_below_the_tile_size_take_the_whole_image_path():
  image = util.synthetic_image(160, 224, seed=3)
  # Padded to 192x256: a tile of 256 holds it whole (the file of today's code).
  _check_same_as_whole("bmshj2018", image, 256, expect_tiles=False)
  # The default tile size: small images are not tiled.
  _check_same_as_whole("bmshj2018", image, tiling.DEFAULT_TILE_SIZE,
                       expect_tiles=False)
  # One tile across, two down.
  _check_same_as_whole("bmshj2018", util.synthetic_image(300, 200, seed=4), 256)


def test_bls2017():
  # Its own stages (9x9 /4, 5x5 /2, 5x5 /2); mbt2018-mean has bmshj2018's.
  _check_same_as_whole("bls2017", util.synthetic_image(150, 213, seed=5), 48)


def test_refinement_above_the_tile_size_is_refused():
  model_dir = _model_dir("bmshj2018")
  encoder = codec.Encoder(model_dir, threads=1, refinable=True, tile_size=64)
  assert encoder.tile_size == 64
  with pytest.raises(codec.RefineSizeError, match="above the tile size"):
    encoder.compress(util.synthetic_image(100, 140, seed=6), effort=1)
  # An image-size limit: the commands report it as one line, like the format's.
  assert issubclass(codec.RefineSizeError, container.ContainerError)
  # Within one tile, refinement runs as before.
  small = util.synthetic_image(40, 50, seed=6)
  refined = encoder.compress(small, effort=1)
  assert _coders("bmshj2018")[1].decompress(refined.blob).image.shape == small.shape


def test_damaged_strings_are_refused_in_tiles_too():
  encoder, decoder = _coders("bmshj2018")
  encoder.tile_size = decoder.tile_size = 48
  blob = encoder.compress(util.synthetic_image(160, 224, seed=9)).blob
  compressed = container.unpack(blob)
  damaged = dataclasses.replace(
      compressed, y_string=compressed.y_string[:len(compressed.y_string) // 2])
  with pytest.raises((codec.DecodeError, container.ContainerError)):
    decoder.decompress(container.pack(damaged))


def test_tile_size_is_checked():
  stages = model_lib.STAGES["bmshj2018"]
  assert tiling.check_tile_size(0, stages) == 0
  assert tiling.check_tile_size(None, stages) == 0
  assert tiling.check_tile_size(100, stages) == 6
  for bad in (8, -16, 1.5e3, True, "1024"):
    with pytest.raises(ValueError, match="tile_size"):
      tiling.check_tile_size(bad, stages)


@pytest.mark.parametrize("architecture,field,reach", [
    ("bmshj2018", 61, (15, 45)),
    ("mbt2018-mean", 61, (15, 45)),
    ("bls2017", 57, (14, 42)),
])
def test_receptive_fields_and_margins(architecture, field, reach):
  stages = model_lib.STAGES[architecture]
  assert tiling.stride(stages) == 16
  assert tiling.receptive_field(stages) == field
  assert tiling.analysis_reach(stages) == reach
  assert tiling.synthesis_reach(stages) == (2, 1)
  # The margin: the receptive field in whole y positions, beyond either reach.
  assert tiling.margin(stages) == 4


def test_hyper_synthesis_tiles():
  """The integer hyper-synthesis' tiles (z_hat -> indexes at 4x): its geometry, and
  the stitching of a stand-in that shows which z position each index came from."""
  stages = tiling.hyper_stages(model_lib.HyperSynthesis.LAYERS)
  assert stages == ((3, 1), (5, 2), (5, 2)) and tiling.stride(stages) == 4
  assert tiling.receptive_field(stages) == 15 and tiling.margin(stages) == 4
  assert tiling.synthesis_reach(stages) == (2, 1)
  z_hat = np.arange(1, 1 + 11 * 7, dtype=np.float32).reshape(1, 11, 7, 1)
  seen = []

  def run(z):
    seen.append(z.shape)
    return np.repeat(np.repeat(z, 4, axis=1), 4, axis=2).astype(np.int32)

  indexes = tiling.scale_indexes(run, z_hat, stages, 3, 4, 1)
  assert len(seen) == 4 * 3 and max(max(s[1:3]) for s in seen) <= 3 + 8
  np.testing.assert_array_equal(indexes, run(z_hat))


def test_runs_split_evenly_and_cover_every_position():
  assert tiling.runs(12, 4) == [(0, 4), (4, 8), (8, 12)]
  assert tiling.runs(177, 64) == [(0, 59), (59, 118), (118, 177)]
  for positions in range(1, 40):
    for per_tile in range(1, 12):
      cuts = tiling.runs(positions, per_tile)
      assert cuts[0][0] == 0 and cuts[-1][1] == positions
      assert all(a < b <= a + per_tile for a, b in cuts)
      assert all(b == a for (_, b), (a, _) in zip(cuts, cuts[1:]))


def test_only_one_tile_is_float_at_a_time():
  """The transforms see tiles of at most (tile + 2 margins) a side, never the
  whole image, and the stitched result keeps each tile's interior."""
  stages = model_lib.STAGES["bmshj2018"]
  image = util.synthetic_image(1000, 700, seed=8)
  seen = []

  def analysis(x):
    seen.append(x.shape)
    assert x.dtype == np.float32
    # A stand-in transform: the mean of each 16x16 cell, so the stitched y
    # says which pixels it came from.
    h, w = x.shape[1] // 16, x.shape[2] // 16
    cells = x[0].reshape(h, 16, w, 16, 3).mean(axis=(1, 3))
    return cells[None].astype(np.float32)

  y = tiling.analysis(analysis, image, (1024, 704), stages, 32, 4, 3)
  assert len(seen) == 4 and max(max(s[1:3]) for s in seen) <= (32 + 8) * 16
  padded = np.pad(image, [(0, 24), (0, 4), (0, 0)], mode="edge") / 255.
  expected = padded.reshape(64, 16, 44, 16, 3).mean(axis=(1, 3))
  np.testing.assert_allclose(y[0], expected, atol=1e-5)

  def synthesis(y_hat):
    seen.append(y_hat.shape)
    return np.repeat(np.repeat(y_hat, 16, axis=1), 16, axis=2)

  seen.clear()
  out = tiling.synthesis(synthesis, y, 1000, 700, stages, 32, 4)
  assert len(seen) == 4 and max(max(s[1:3]) for s in seen) <= 32 + 8
  assert out.dtype == np.uint8 and out.shape == image.shape
  cells = np.round(np.repeat(np.repeat(y[0], 16, 0), 16, 1) * 255.)
  np.testing.assert_array_equal(out, cells[:1000, :700].astype(np.uint8))


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
