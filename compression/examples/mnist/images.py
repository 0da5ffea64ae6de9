"""PNG input/output and image grids.

Pillow is imported only when a PNG is read or written (`_pil`), so training,
which writes no images, works without the examples extra.
"""

import os
import warnings

import numpy as np

from compression.examples.mnist import data
from compression.examples.mnist import errors

# Largest PNG file `read_png` opens: a 28x28 digit takes well under 4 KiB.
MAX_PNG_BYTES = 1 << 20


def _pil():
  """The PIL.Image module, or MissingDependencyError naming the extra."""
  return errors.require("PIL.Image", "pillow", "reading and writing PNG images")


class ImageError(ValueError):
  """A PNG that is not a 28x28 grayscale digit."""


def read_png(path):
  """Reads a 28x28 grayscale PNG as uint8 [28, 28].

  Only a regular PNG file of at most MAX_PNG_BYTES is read (other formats, a
  FIFO or a device are refused by name). Modes become 8 bits by the rules of
  `compression.examples.inputs.to_rgb8` (16-bit grey keeps its high byte; alpha
  and palette transparency are dropped); an RGB(A) or palette image is accepted
  only when it is gray (all channels equal). Anything not 28x28 is rejected from
  its header, before any pixel is decoded.
  """
  import io  # pylint: disable=g-import-not-at-top
  from compression.examples import inputs  # pylint: disable=g-import-not-at-top
  image_lib = _pil()
  raw = inputs.read_file(path, MAX_PNG_BYTES, ImageError)
  kind = inputs.file_kind(raw)
  if kind != "PNG":
    what = f"a {kind} image" if kind else "not a PNG"
    raise ImageError(f"{path}: cannot read as an image: {what}; --png reads "
                     "PNG files only")
  try:
    with warnings.catch_warnings():
      # The size is checked right below, before decoding: no bomb warning.
      warnings.simplefilter("ignore", image_lib.DecompressionBombWarning)
      img = image_lib.open(io.BytesIO(raw), formats=("PNG",))
    with img:
      if img.size != (data.IMAGE_SIZE, data.IMAGE_SIZE):
        raise ImageError(
            f"{path}: image is {img.size[0]}x{img.size[1]}, expected "
            f"{data.IMAGE_SIZE}x{data.IMAGE_SIZE}")
      img.load()
      mode = img.mode
      rgb = inputs.to_rgb8(img, path, ImageError)
  except (OSError, ValueError, SyntaxError,
          image_lib.DecompressionBombError) as e:
    if isinstance(e, ImageError):
      raise
    raise ImageError(f"{path}: cannot read as an image: {e}") from None
  if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and
          np.array_equal(rgb[..., 0], rgb[..., 2])):
    raise ImageError(f"{path}: not grayscale (mode {mode})")
  return np.ascontiguousarray(rgb[..., 0], dtype=np.uint8)


def write_png(path, image):
  """Writes uint8 [H, W] (or float in [0, 1]) as a grayscale PNG."""
  image = np.asarray(image)
  if image.dtype != np.uint8:
    image = data.to_uint8(image)
  image_lib = _pil()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  image_lib.fromarray(np.ascontiguousarray(image)).save(path)


def grid(images, columns=None, pad=2, background=255):
  """Tiles [N, H, W] images into one uint8 image, `columns` per row."""
  images = np.asarray(images)
  if images.dtype != np.uint8:
    images = data.to_uint8(images)
  n, h, w = images.shape
  columns = columns or int(np.ceil(np.sqrt(max(n, 1))))
  rows = int(np.ceil(n / columns)) if n else 1
  out = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad),
                background, np.uint8)
  for i, img in enumerate(images):
    r, c = divmod(i, columns)
    y, x = pad + r * (h + pad), pad + c * (w + pad)
    out[y:y + h, x:x + w] = img
  return out


def upscale(image, factor):
  """Nearest-neighbour enlargement, so small digits stay visible."""
  return np.kron(image, np.ones((factor, factor), dtype=image.dtype))
