"""MNIST loader for the IDX files as distributed (gzip-compressed).

The directory must hold the four files named in `FILE_NAMES`. It is taken from
the `--data_dir` flag or, when that is empty, from the `MNIST_DIR` environment
variable, or else it is the cache folder that `fetch_mnist` (fetch.py) fills.

IDX layout (all integers big-endian):

    offset  size      field
    0       4         magic: 2051 (0x00000803) for images, 2049 (0x00000801)
                      for labels. Byte 2 is the element type (0x08 = uint8),
                      byte 3 the number of dimensions (3 or 1).
    4       4 * ndim  dimension sizes, uint32
    ...     prod(dims) the elements, uint8, row-major

Images must be [N, 28, 28], labels [N], and both files of a split must hold the
same N. Every check failure raises `MnistDataError` naming the file.
"""

import gzip
import os
import struct
import zlib

import numpy as np

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
IMAGE_SIZE = 28

FILE_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
ALL_FILE_NAMES = FILE_NAMES["train"] + FILE_NAMES["test"]
ENV_VAR = "MNIST_DIR"


class MnistDataError(Exception):
  """The MNIST files are missing or malformed."""


def resolve_data_dir(data_dir=None):
  """Returns the MNIST directory: `data_dir`, else the MNIST_DIR variable, else
  the cache folder of `fetch_mnist` (fetch.cache_dir()) when it holds the files.

  Raises:
    MnistDataError: the directory lacks one of the four files (or, none given,
      the cache folder does). The message lists the four expected file names,
      how to point at them and how to fetch them.
  """
  from compression.examples.mnist import fetch  # pylint: disable=g-import-not-at-top
  source = "--data_dir"
  if not data_dir:
    data_dir = os.environ.get(ENV_VAR, "")
    source = "$" + ENV_VAR
  names = "\n".join("  " + n for n in ALL_FILE_NAMES)
  if not data_dir:
    data_dir, source = fetch.cache_dir(), "the cache folder"
    if any(not os.path.isfile(os.path.join(data_dir, n)) for n in ALL_FILE_NAMES):
      raise MnistDataError(
          "No MNIST data: no --data_dir, no environment variable "
          f"{ENV_VAR}, and the cache folder {data_dir} lacks the files. Fetch "
          "them with `python -m compression.examples.mnist fetch_mnist` (or "
          "pass --download), or pass --data_dir=DIR / set "
          f"{ENV_VAR}=DIR, a folder holding the four MNIST files "
          f"(gzip-compressed, as distributed):\n{names}")
  missing = [n for n in ALL_FILE_NAMES
             if not os.path.isfile(os.path.join(data_dir, n))]
  if missing:
    raise MnistDataError(
        f"MNIST directory {data_dir!r} (from {source}) is missing "
        f"{', '.join(missing)}. It must contain the four MNIST files "
        "(`python -m compression.examples.mnist fetch_mnist "
        f"--data_dir={data_dir}` fetches them):\n{names}")
  return data_dir


def _read_bytes(path):
  """Reads a file, gunzipping it when it starts with the gzip magic."""
  try:
    with open(path, "rb") as f:
      raw = f.read()
  except OSError as e:
    raise MnistDataError(f"{path}: cannot read: {e}") from e
  if raw[:2] != b"\x1f\x8b":
    return raw
  try:
    return gzip.decompress(raw)
  except (EOFError, OSError, zlib.error) as e:
    raise MnistDataError(
        f"{path}: corrupt or truncated gzip stream ({e})") from e


def parse_idx(raw, expected_magic, path="<bytes>"):
  """Parses an uncompressed IDX buffer into a uint8 array.

  Args:
    raw: the bytes.
    expected_magic: IMAGE_MAGIC or LABEL_MAGIC.
    path: file name used in error messages.

  Returns:
    uint8 array with the dimensions stated in the header.
  """
  if len(raw) < 4:
    raise MnistDataError(f"{path}: file too short for an IDX header "
                         f"({len(raw)} bytes)")
  (magic,) = struct.unpack(">I", raw[:4])
  if magic != expected_magic:
    kind = "image" if expected_magic == IMAGE_MAGIC else "label"
    raise MnistDataError(
        f"{path}: bad magic number {magic} (expected {expected_magic} for an "
        f"IDX {kind} file)")
  ndim = magic & 0xFF
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise MnistDataError(f"{path}: truncated header ({len(raw)} bytes, "
                         f"need {header})")
  dims = struct.unpack(f">{ndim}I", raw[4:header])
  expected_len = header + int(np.prod(dims, dtype=np.int64))
  if len(raw) != expected_len:
    what = "truncated" if len(raw) < expected_len else "has trailing bytes"
    raise MnistDataError(
        f"{path}: {what}: header says dims {list(dims)}, i.e. "
        f"{expected_len} bytes, but the file has {len(raw)}")
  return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_images(path):
  """Reads an IDX image file into uint8 [N, 28, 28]."""
  images = parse_idx(_read_bytes(path), IMAGE_MAGIC, path)
  if images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
    raise MnistDataError(
        f"{path}: images are {images.shape[1]}x{images.shape[2]}, expected "
        f"{IMAGE_SIZE}x{IMAGE_SIZE}")
  return images


def read_labels(path):
  """Reads an IDX label file into uint8 [N] with values 0..9."""
  labels = parse_idx(_read_bytes(path), LABEL_MAGIC, path)
  if labels.size and labels.max() > 9:
    raise MnistDataError(f"{path}: label {labels.max()} out of range 0..9")
  return labels


def load(split, data_dir=None):
  """Loads one split.

  Args:
    split: "train" or "test".
    data_dir: the directory; empty means $MNIST_DIR.

  Returns:
    (images, labels): uint8 [N, 28, 28] in 0..255 and uint8 [N].
  """
  if split not in FILE_NAMES:
    raise ValueError(f"split must be 'train' or 'test', got {split!r}")
  data_dir = resolve_data_dir(data_dir)
  image_name, label_name = FILE_NAMES[split]
  images = read_images(os.path.join(data_dir, image_name))
  labels = read_labels(os.path.join(data_dir, label_name))
  if len(images) != len(labels):
    raise MnistDataError(
        f"{data_dir}: {image_name} holds {len(images)} images but "
        f"{label_name} holds {len(labels)} labels")
  return images, labels


def to_float(images):
  """uint8 0..255 -> float32 in [0, 1]."""
  return np.asarray(images, dtype=np.float32) / 255.0


def to_uint8(images):
  """float in [0, 1] (clipped) -> uint8, rounding to the nearest level."""
  return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def encode_idx(array, magic):
  """Serializes a uint8 array as an uncompressed IDX buffer."""
  array = np.asarray(array, dtype=np.uint8)
  header = struct.pack(">I", magic) + struct.pack(
      f">{array.ndim}I", *array.shape)
  return header + array.tobytes()


def write_split(data_dir, split, images, labels):
  """Writes a split as the two gzipped IDX files `load` expects."""
  os.makedirs(data_dir, exist_ok=True)
  image_name, label_name = FILE_NAMES[split]
  for name, array, magic in ((image_name, images, IMAGE_MAGIC),
                             (label_name, labels, LABEL_MAGIC)):
    with gzip.open(os.path.join(data_dir, name), "wb") as f:
      f.write(encode_idx(array, magic))
