"""PNG input/output and image grids (pillow)."""

import os

import numpy as np
from PIL import Image

from compression.examples.mnist import data


class ImageError(ValueError):
  """A PNG that is not a 28x28 grayscale digit."""


def read_png(path):
  """Reads a 28x28 grayscale PNG as uint8 [28, 28].

  An RGB(A) or palette image is accepted only when it is gray (all channels
  equal, alpha ignored); anything not 28x28 is rejected.
  """
  try:
    with Image.open(path) as img:
      img.load()
      mode = img.mode
      if mode in ("1", "L", "I;16", "I"):
        array = np.asarray(img.convert("L"))
      else:
        rgb = np.asarray(img.convert("RGB"))
        if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and
                np.array_equal(rgb[..., 0], rgb[..., 2])):
          raise ImageError(f"{path}: not grayscale (mode {mode})")
        array = rgb[..., 0]
  except (OSError, Image.DecompressionBombError) as e:
    raise ImageError(f"{path}: cannot read as an image: {e}") from None
  if array.shape != (data.IMAGE_SIZE, data.IMAGE_SIZE):
    raise ImageError(
        f"{path}: image is {array.shape[1]}x{array.shape[0]}, expected "
        f"{data.IMAGE_SIZE}x{data.IMAGE_SIZE}")
  return np.ascontiguousarray(array, dtype=np.uint8)


def write_png(path, image):
  """Writes uint8 [H, W] (or float in [0, 1]) as a grayscale PNG."""
  image = np.asarray(image)
  if image.dtype != np.uint8:
    image = data.to_uint8(image)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  Image.fromarray(np.ascontiguousarray(image)).save(path)


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
