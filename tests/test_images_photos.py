"""The photograph set's bookkeeping: pixel hashes, training manifests in the
shipped records, and the check that a photograph was never trained on."""

import os
import sys

import numpy as np

import pytest

import images_testutil as util

from compression.examples.images import photos
from compression.examples.images import shipped


def test_pixel_hash_depends_on_pixels_not_on_the_png_encoder(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  image = util.synthetic_image(30, 40, seed=2)
  paths = []
  for level in (0, 9):
    path = str(tmp_path / f"level{level}.png")
    Image.fromarray(image).save(path, compress_level=level)
    paths.append(path)
  entries = photos.manifest(paths)
  assert entries[0]["file_sha256"] != entries[1]["file_sha256"]
  assert entries[0]["pixels_sha256"] == entries[1]["pixels_sha256"]
  assert entries[0]["pixels_sha256"] == photos.pixels_sha256(image)
  assert (entries[0]["width"], entries[0]["height"]) == (40, 30)
  changed = image.copy()
  changed[0, 0, 0] ^= 1
  assert photos.pixels_sha256(changed) != photos.pixels_sha256(image)
  # Same bytes, other shape: another hash.
  assert (photos.pixels_sha256(image.reshape(40, 30, 3)) !=
          photos.pixels_sha256(image))


def test_split_names_are_unique_and_disjoint():
  train = [name for name, _, _ in photos.TRAIN]
  held_out = [name for name, _, _ in photos.HELD_OUT]
  assert len(set(train)) == len(train) and len(set(held_out)) == len(held_out)
  assert not set(train) & set(held_out)
  assert len(held_out) >= 20
  assert set(photos.HELD_OUT_ROUND1) <= set(held_out)
  sources = {(source, inner) for _, source, inner in photos.TRAIN + photos.HELD_OUT}
  assert len(sources) == len(train) + len(held_out)  # no file on both sides


@pytest.mark.parametrize("quality", shipped.qualities())
def test_shipped_records_list_their_training_photographs(quality):
  listed = shipped.record(shipped.model_dir(quality))["training_photographs"]
  names = [entry["name"] for entry in listed]
  assert len(set(names)) == len(names)
  # Every model started from the round-3 training (TRAIN_ROUND1); the later ones
  # went on with the whole training split.
  assert set(photos.TRAIN_ROUND1) <= set(names) <= {n for n, _, _ in photos.TRAIN}
  assert not set(names) & {name for name, _, _ in photos.HELD_OUT}
  for entry in listed:
    assert len(entry["pixels_sha256"]) == 64 and len(entry["file_sha256"]) == 64
    int(entry["pixels_sha256"], 16)


def test_trained_on_finds_no_held_out_photograph():
  from skimage import data  # pylint: disable=g-import-not-at-top
  assert shipped.trained_on(data.chelsea()) == []
  assert shipped.trained_on(np.zeros((8, 8, 3), np.uint8)) == []


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
