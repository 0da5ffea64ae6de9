"""IDX reader of the MNIST example, on tiny files the tests write."""

import gzip
import os
import struct
import sys

import numpy as np
import pytest

import mnist_testutil  # pylint: disable=unused-import
from compression.examples.mnist import data

def _write(path, payload, compress=True):
  if compress:
    with gzip.open(path, "wb") as f:
      f.write(payload)
  else:
    with open(path, "wb") as f:
      f.write(payload)


def _tiny_split(tmp_path, n=5, seed=0):
  rng = np.random.RandomState(seed)
  images = rng.randint(0, 256, size=[n, 28, 28]).astype(np.uint8)
  labels = rng.randint(0, 10, size=[n]).astype(np.uint8)
  data.write_split(str(tmp_path), "train", images, labels)
  data.write_split(str(tmp_path), "test", images[:3], labels[:3])
  return images, labels


def test_round_trip(tmp_path):
  images, labels = _tiny_split(tmp_path)
  got_images, got_labels = data.load("train", str(tmp_path))
  np.testing.assert_array_equal(got_images, images)
  np.testing.assert_array_equal(got_labels, labels)
  assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
  test_images, _ = data.load("test", str(tmp_path))
  assert test_images.shape == (3, 28, 28)


def test_header_layout_is_big_endian_idx():
  buf = data.encode_idx(np.zeros([2, 28, 28], np.uint8), data.IMAGE_MAGIC)
  assert buf[:16] == struct.pack(">IIII", 2051, 2, 28, 28)
  assert len(buf) == 16 + 2 * 28 * 28
  buf = data.encode_idx(np.arange(3, dtype=np.uint8), data.LABEL_MAGIC)
  assert buf == struct.pack(">II", 2049, 3) + b"\x00\x01\x02"


def test_uncompressed_files_are_accepted(tmp_path):
  images = np.full([2, 28, 28], 7, np.uint8)
  path = str(tmp_path / "img")
  _write(path, data.encode_idx(images, data.IMAGE_MAGIC), compress=False)
  np.testing.assert_array_equal(data.read_images(path), images)


def test_env_var_is_the_default(tmp_path, monkeypatch):
  _tiny_split(tmp_path)
  monkeypatch.setenv("MNIST_DIR", str(tmp_path))
  assert data.load("test")[0].shape == (3, 28, 28)


@pytest.mark.parametrize("magic,reader", [
    (data.LABEL_MAGIC, data.read_images),
    (data.IMAGE_MAGIC, data.read_labels),
    (0x12345678, data.read_images),
])
def test_bad_magic(tmp_path, magic, reader):
  path = str(tmp_path / "f.gz")
  _write(path, struct.pack(">I", magic) + b"\0" * 32)
  with pytest.raises(data.MnistDataError, match="bad magic number"):
    reader(path)


def test_wrong_image_size(tmp_path):
  path = str(tmp_path / "f.gz")
  _write(path, data.encode_idx(np.zeros([2, 27, 28], np.uint8),
                               data.IMAGE_MAGIC))
  with pytest.raises(data.MnistDataError, match="expected 28x28"):
    data.read_images(path)


@pytest.mark.parametrize("cut", [1, 3, 5, 15, 16, 17, 100, 1000])
def test_truncated_image_file(tmp_path, cut):
  full = data.encode_idx(np.zeros([2, 28, 28], np.uint8), data.IMAGE_MAGIC)
  path = str(tmp_path / "f.gz")
  _write(path, full[:-cut])
  with pytest.raises(data.MnistDataError, match="truncated|too short"):
    data.read_images(path)


def test_trailing_bytes(tmp_path):
  path = str(tmp_path / "f.gz")
  _write(path, data.encode_idx(np.zeros([3], np.uint8), data.LABEL_MAGIC) +
         b"\0")
  with pytest.raises(data.MnistDataError, match="trailing bytes"):
    data.read_labels(path)


def test_label_out_of_range(tmp_path):
  path = str(tmp_path / "f.gz")
  _write(path, data.encode_idx(np.array([1, 10], np.uint8),
                               data.LABEL_MAGIC))
  with pytest.raises(data.MnistDataError, match="out of range"):
    data.read_labels(path)


def test_truncated_gzip_stream(tmp_path):
  path = str(tmp_path / "f.gz")
  _write(path, data.encode_idx(np.ones([4, 28, 28], np.uint8),
                               data.IMAGE_MAGIC))
  with open(path, "rb") as f:
    raw = f.read()
  with open(path, "wb") as f:
    f.write(raw[:len(raw) // 2])
  with pytest.raises(data.MnistDataError, match="gzip"):
    data.read_images(path)


def test_count_mismatch(tmp_path):
  _tiny_split(tmp_path)
  labels_path = os.path.join(str(tmp_path), data.FILE_NAMES["train"][1])
  _write(labels_path, data.encode_idx(np.zeros([4], np.uint8),
                                      data.LABEL_MAGIC))
  with pytest.raises(data.MnistDataError, match="5 images but .* 4 labels"):
    data.load("train", str(tmp_path))


def test_missing_directory_lists_the_four_files(tmp_path, monkeypatch):
  monkeypatch.delenv("MNIST_DIR", raising=False)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no fetch_mnist cache
  with pytest.raises(data.MnistDataError) as e:
    data.load("train", "")
  for name in data.ALL_FILE_NAMES:
    assert name in str(e.value)
  assert "MNIST_DIR" in str(e.value) and "--data_dir" in str(e.value)


def test_missing_file_is_named(tmp_path):
  _tiny_split(tmp_path)
  os.remove(os.path.join(str(tmp_path), "t10k-labels-idx1-ubyte.gz"))
  with pytest.raises(data.MnistDataError) as e:
    data.load("train", str(tmp_path))
  message = str(e.value)
  assert "missing t10k-labels-idx1-ubyte.gz" in message
  for name in data.ALL_FILE_NAMES:
    assert name in message


def test_float_conversion():
  x = np.array([0, 128, 255], np.uint8)
  np.testing.assert_allclose(data.to_float(x), [0, 128 / 255, 1])
  np.testing.assert_array_equal(data.to_uint8(data.to_float(x)), x)
  np.testing.assert_array_equal(
      data.to_uint8(np.array([-1.0, 2.0])), [0, 255])


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
