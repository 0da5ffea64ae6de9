"""Photographs: the embedded default set, reading image files, random crops.

Embedded default: the photographs that scikit-image ships inside its wheel (the
`skimage/data` folder, no download). A fixed split, chosen once and never changed:

  TRAIN     astronaut, brick, camera, coins, grass, gravel, hubble_deep_field,
            moon, motorcycle_left, motorcycle_right, retina  (11 photographs)
  HELD_OUT  chelsea, coffee, ihc, rocket                      (4 photographs)

The stereo pair motorcycle_left/right stays on one side of the split. Grey-scale
photographs are used as RGB (three equal channels). Drawings and synthetic images of
that folder (logo, horse, chessboard, phantom, text, page, ...) are not used.

Images are uint8 numpy arrays [H, W, 3].
"""

import glob
import os

import numpy as np

TRAIN = ("astronaut.png", "brick.png", "camera.png", "coins.png", "grass.png",
         "gravel.png", "hubble_deep_field.jpg", "moon.png", "motorcycle_left.png",
         "motorcycle_right.png", "retina.jpg")
HELD_OUT = ("chelsea.png", "coffee.png", "ihc.png", "rocket.jpg")
EXTENSIONS = (".png", ".jpg", ".jpeg")
# Largest image accepted, in pixels (checked from the header before decoding).
MAX_PIXELS = 64 * 2 ** 20
MAX_FILE_BYTES = 1 << 30


class DataError(ValueError):
  """An image file or glob that cannot be used (one line)."""


def skimage_data_dir():
  """The `skimage/data` folder of the installed scikit-image."""
  try:
    import skimage  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise DataError(
        "the embedded photographs come with scikit-image: pip install scikit-image "
        "(or pass --train_glob / a folder of your own)") from None
  return os.path.join(os.path.dirname(skimage.__file__), "data")


def default_paths(split):
  """Paths of the embedded photographs of `split` ("train" or "held_out")."""
  names = {"train": TRAIN, "held_out": HELD_OUT}[split]
  folder = skimage_data_dir()
  paths = [os.path.join(folder, name) for name in names]
  missing = [p for p in paths if not os.path.isfile(p)]
  if missing:
    raise DataError(f"scikit-image's photograph {missing[0]} is missing; "
                    "reinstall scikit-image")
  return paths


def glob_paths(pattern):
  """Image files (PNG/JPEG by extension) matched by a glob, sorted."""
  paths = sorted(p for p in glob.glob(os.path.expanduser(pattern))
                 if os.path.isfile(p))
  if not paths:
    raise DataError(f"no file matches {pattern!r}")
  images = [p for p in paths if p.lower().endswith(EXTENSIONS)]
  if not images:
    raise DataError(f"{pattern!r} matches {len(paths)} files but no PNG or JPEG "
                    f"(e.g. {paths[0]})")
  return images


def folder_paths(folder):
  """PNG/JPEG files of a folder, sorted."""
  if not os.path.isdir(folder):
    raise DataError(f"{folder} is not a folder")
  return glob_paths(os.path.join(folder, "*"))


# Formats `decode_image` reads (Pillow's names), recognised by their content.
IMAGE_FORMATS = ("PNG", "JPEG")


def read_image(path):
  """A PNG or JPEG file -> uint8 [H, W, 3] (see `decode_image` for the rules).

  Only a regular file of at most MAX_FILE_BYTES is opened (a FIFO or a device
  such as /dev/zero is refused by name); Pillow reads it as it decodes, after the
  size in the header was checked.
  """
  from compression.examples import inputs  # pylint: disable=g-import-not-at-top
  with inputs.open_file(path, MAX_FILE_BYTES, DataError) as f:
    return _decode(f, path)


def decode_image(raw, where="image"):
  """PNG or JPEG bytes -> uint8 [H, W, 3].

  Only PNG and JPEG are decoded (by content, whatever the file name): GIF, BMP,
  WebP, TIFF and the other formats Pillow knows are refused with a line naming
  the format, so no other decoder runs on untrusted input. The size is checked
  from the header before the pixels are decoded (at most MAX_PIXELS). Modes
  become 8-bit RGB by the rules of `inputs.to_rgb8`: 16-bit grey keeps its high
  byte (as Pillow does for 16-bit colour PNGs), alpha and palette transparency
  are dropped, CMYK JPEGs are converted.
  """
  import io  # pylint: disable=g-import-not-at-top
  if len(raw) > MAX_FILE_BYTES:
    raise DataError(f"{where}: larger than {MAX_FILE_BYTES} bytes")
  return _decode(io.BytesIO(raw), where)


def _decode(f, where):
  """A seekable binary file object holding a PNG or JPEG -> uint8 [H, W, 3]."""
  import warnings  # pylint: disable=g-import-not-at-top
  from compression.examples import inputs  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  try:
    prefix = f.read(16)
    f.seek(0)
    kind = inputs.file_kind(prefix)
    if kind is None:
      raise DataError(f"{where} is not a readable image (neither PNG nor JPEG)")
    if kind not in IMAGE_FORMATS:
      raise DataError(f"{where} is a {kind} image; this example reads PNG and "
                      "JPEG only (convert it first)")
    with warnings.catch_warnings():
      # The size is checked right below, before decoding: no bomb warning.
      warnings.simplefilter("ignore", Image.DecompressionBombWarning)
      image = Image.open(f, formats=IMAGE_FORMATS)
    with image:
      width, height = image.size
      if width * height > MAX_PIXELS:
        raise DataError(f"{where}: {width}x{height} is larger than {MAX_PIXELS} "
                        "pixels")
      image.load()
      array = inputs.to_rgb8(image, where, DataError)
  except DataError:
    raise
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
    raise DataError(f"{where} is not a readable image ({error})") from None
  if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 1:
    raise DataError(f"{where}: unexpected image shape {array.shape}")
  return array


def write_png(path, array):
  """uint8 [H, W, 3] -> PNG file."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  Image.fromarray(np.asarray(array, np.uint8), "RGB").save(path, format="PNG")


class RandomCrops:
  """Random `patchsize` squares from a list of images, as float32 batches in [0, 1].

  Images smaller than the patch in either dimension are refused at construction.
  `sampling` picks the image of each crop: "image" (the default) draws every image
  equally often, so a few large photographs cannot dominate; "area" in proportion
  to its area (every pixel equally likely).
  """

  def __init__(self, paths, patchsize, seed=0, sampling="image"):
    self.images = []
    for path in paths:
      image = read_image(path)
      if min(image.shape[:2]) < patchsize:
        raise DataError(f"{path}: {image.shape[1]}x{image.shape[0]} is smaller than "
                        f"--patchsize {patchsize}")
      self.images.append(image)
    if not self.images:
      raise DataError("no training images")
    self.patchsize = patchsize
    self._rng = np.random.default_rng(seed)
    if sampling == "image":
      weights = np.ones(len(self.images))
    elif sampling == "area":
      weights = np.array([i.shape[0] * i.shape[1] for i in self.images], np.float64)
    else:
      raise ValueError(f'sampling must be "image" or "area", got {sampling!r}')
    self._weights = weights / weights.sum()

  def batch(self, batch_size):
    """float32 [batch_size, patchsize, patchsize, 3] in [0, 1], random flips."""
    size = self.patchsize
    out = np.empty((batch_size, size, size, 3), np.float32)
    for n, i in enumerate(self._rng.choice(len(self.images), batch_size,
                                           p=self._weights)):
      image = self.images[i]
      top = self._rng.integers(0, image.shape[0] - size + 1)
      left = self._rng.integers(0, image.shape[1] - size + 1)
      crop = image[top:top + size, left:left + size]
      if self._rng.random() < .5:
        crop = crop[:, ::-1]
      out[n] = crop / 255.
    return out


def pad_to_multiple(image, multiple):
  """uint8 [H, W, 3] -> [H', W', 3] with H', W' multiples of `multiple`, padded by
  repeating the last row/column (cheap to code); crop back with `[:H, :W]`."""
  height, width = image.shape[:2]
  pad_h = -height % multiple
  pad_w = -width % multiple
  return np.pad(image, [(0, pad_h), (0, pad_w), (0, 0)], mode="edge")
