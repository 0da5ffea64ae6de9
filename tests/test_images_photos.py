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


def test_training_rounds_and_file_hashes():
  train = [name for name, _, _ in photos.TRAIN]
  # Rounds only append: the first 31 (round 3) and the first 54 (round 4) stay.
  assert photos.TRAIN_ROUND1 == tuple(train[:31])
  assert photos.TRAIN_ROUND4 == tuple(train[:54])
  assert photos.TRAIN_ROUND4[30:32] == ("flower", "skybridge")
  assert photos.TRAIN_ROUND4[-1] == "daisies" and len(train) >= 150
  # Every photograph's source file has its SHA-256, checked by `fetch`.
  names = train + [name for name, _, _ in photos.HELD_OUT]
  assert set(photos.FILE_SHA256) == set(names)
  assert len(set(photos.FILE_SHA256.values())) == len(names)
  for digest in photos.FILE_SHA256.values():
    assert len(digest) == 64 and int(digest, 16) >= 0
  # Every Debian source is downloaded, and its copyright file copied.
  sources = {source for _, source, _ in photos.TRAIN + photos.HELD_OUT}
  assert sources - {"matplotlib", "scikit-image", "scikit-learn"} == set(
      photos._DEBIAN)  # pylint: disable=protected-access


def _rcc(files):
  """A Qt resource file (format 2) of {"dir/name": (bytes, compressed)}."""
  import struct  # pylint: disable=g-import-not-at-top
  import zlib  # pylint: disable=g-import-not-at-top
  folder = {path.split("/")[0] for path in files}
  assert len(folder) == 1
  entries = [(path.split("/")[1], *value) for path, value in sorted(files.items())]
  names, data = b"", b""

  def add_name(name):
    nonlocal names
    offset = len(names)
    encoded = name.encode("utf-16-be")
    names += struct.pack(">HI", len(name), 0) + encoded
    return offset

  nodes = [struct.pack(">IHII", 0, 2, 1, 1) + bytes(8),  # root: 1 child, node 1
           struct.pack(">IHII", add_name(folder.pop()), 2, len(entries), 2) +
           bytes(8)]
  for name, blob, compressed in entries:
    payload = (struct.pack(">I", len(blob)) + zlib.compress(blob) if compressed
               else blob)
    nodes.append(struct.pack(">IHHHI", add_name(name), int(compressed), 0, 0,
                             len(data)) + bytes(8))
    data += struct.pack(">I", len(payload)) + payload
  tree = b"".join(nodes)
  header = 20
  return (b"qres" + struct.pack(">IIII", 2, header, header + len(tree),
                                 header + len(tree) + len(data)) +
          tree + data + names)


def test_sources_read_from_files_and_qt_resource_files(tmp_path):
  """GCompris's photographs are members of Qt resource files (.rcc)."""
  files = {"res/plain.jpg": (b"plain bytes", False),
           "res/packed.webp": (b"packed bytes " * 50, True)}
  (tmp_path / "pack.rcc").write_bytes(_rcc(files))
  (tmp_path / "loose.png").write_bytes(b"loose")
  cache = {}
  read = photos._read_source  # pylint: disable=protected-access
  assert read(str(tmp_path), "pack.rcc::res/plain.jpg", cache) == b"plain bytes"
  assert (read(str(tmp_path), "pack.rcc::res/packed.webp", cache) ==
          b"packed bytes " * 50)
  assert read(str(tmp_path), "pack.rcc::res/none.jpg", cache) is None
  assert read(str(tmp_path), "other.rcc::res/plain.jpg", cache) is None
  assert read(str(tmp_path), "loose.png", cache) == b"loose"
  assert read(str(tmp_path), "absent.png", cache) is None
  (tmp_path / "bad.rcc").write_bytes(b"not a resource file")
  with pytest.raises(photos.FetchError):
    read(str(tmp_path), "bad.rcc::res/plain.jpg", cache)


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
