"""Every Pillow mode of a PNG or JPEG becomes the documented 8-bit RGB (issue 17, 1).

Both readers are checked against a reference conversion written here in numpy:
the image example's `decode_image` / `read_image` and the MNIST `--png` reader.
Other formats (GIF, BMP, WebP, TIFF) are refused by name.
"""

import io
import os
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from compression.examples import inputs  # pylint: disable=g-import-not-at-top,wrong-import-position
from compression.examples.images import data  # pylint: disable=g-import-not-at-top,wrong-import-position
from compression.examples.mnist import images as mnist_images  # pylint: disable=g-import-not-at-top,wrong-import-position

RNG = np.random.default_rng(17)


def _png(image, **params):
  buffer = io.BytesIO()
  image.save(buffer, format="PNG", **params)
  return buffer.getvalue()


def _chunk(kind, payload):
  return (struct.pack(">I", len(payload)) + kind + payload +
          struct.pack(">I", zlib.crc32(kind + payload)))


def _png16(values):
  """A 16-bit PNG written by hand (Pillow cannot write 16-bit colour):
  uint16 [H, W] (grey, colour type 0) or [H, W, 3] (RGB, colour type 2)."""
  height, width = values.shape[:2]
  colour_type = 2 if values.ndim == 3 else 0
  rows = values.astype(">u2").reshape(height, -1).tobytes()
  stride = len(rows) // height
  raw = b"".join(b"\0" + rows[i * stride:(i + 1) * stride] for i in range(height))
  return (b"\x89PNG\r\n\x1a\n" +
          _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type,
                                      0, 0, 0)) +
          _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def _grey3(grey):
  return np.repeat(np.asarray(grey, np.uint8)[..., None], 3, axis=2)


def _check_both(raw, expected, tmp_path):
  """decode_image, read_image and (for grey 28x28) the MNIST reader give
  `expected` (uint8 [H, W, 3])."""
  np.testing.assert_array_equal(data.decode_image(raw), expected)
  path = str(tmp_path / "image.png")
  with open(path, "wb") as f:
    f.write(raw)
  np.testing.assert_array_equal(data.read_image(path), expected)
  if expected.shape[:2] == (28, 28) and (expected == expected[..., :1]).all():
    np.testing.assert_array_equal(mnist_images.read_png(path), expected[..., 0])


def test_16_bit_grey_keeps_its_high_byte(tmp_path):
  # The case: a photograph of mean 126 came back with mean 254.9.
  values = np.clip(RNG.normal(126 * 257, 40 * 257, [28, 28]), 0, 65535).astype(
      np.uint16)
  raw = _png(Image.fromarray(values))
  assert Image.open(io.BytesIO(raw)).mode == "I;16"
  expected = _grey3(values >> 8)
  _check_both(raw, expected, tmp_path)
  assert abs(data.decode_image(raw).mean() - values.mean() / 256) < 1
  # The same bytes by hand, and a 16-bit colour PNG, which Pillow itself reads
  # as its high bytes: grey and colour 16-bit files agree.
  _check_both(_png16(values), expected, tmp_path)
  colour = RNG.integers(0, 65536, [5, 7, 3]).astype(np.uint16)
  np.testing.assert_array_equal(data.decode_image(_png16(colour)),
                                (colour >> 8).astype(np.uint8))


def test_mode_i_is_16_bit_grey_and_other_values_are_refused():
  values = RNG.integers(0, 65536, [6, 9]).astype(np.int32)
  image = Image.fromarray(values, "I")
  np.testing.assert_array_equal(inputs.to_rgb8(image, "x", ValueError),
                                _grey3(values >> 8))
  for bad in (-1, 65536, 2 ** 31 - 1):
    values[2, 3] = bad
    with pytest.raises(ValueError, match="outside 16 bits"):
      inputs.to_rgb8(Image.fromarray(values, "I"), "x", ValueError)


def test_float_and_unknown_modes_are_refused():
  for mode in ("F", "HSV", "LAB", "I;16S"):
    try:
      image = Image.new(mode, (3, 3))
    except ValueError:
      continue  # A mode this Pillow cannot make.
    with pytest.raises(data.DataError, match=f"mode {mode} is not supported"):
      inputs.to_rgb8(image, "x", data.DataError)


def test_palette_with_transparency_gives_the_palette_colours(tmp_path):
  palette = RNG.integers(0, 256, [256, 3]).astype(np.uint8)
  indexes = RNG.integers(0, 256, [28, 28]).astype(np.uint8)
  image = Image.fromarray(indexes, "P")
  image.putpalette(palette.tobytes())
  for transparency in (7, bytes(RNG.integers(0, 256, 256).astype(np.uint8))):
    raw = _png(image, transparency=transparency)
    reopened = Image.open(io.BytesIO(raw))
    assert reopened.mode == "P" and "transparency" in reopened.info
    _check_both(raw, palette[indexes], tmp_path)
  # A grey palette passes the MNIST reader too.
  grey = Image.fromarray(indexes, "P")
  grey.putpalette(np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes())
  _check_both(_png(grey, transparency=0), _grey3(indexes), tmp_path)


def test_alpha_is_dropped_not_composited(tmp_path):
  grey = RNG.integers(0, 256, [28, 28]).astype(np.uint8)
  alpha = RNG.integers(0, 256, [28, 28]).astype(np.uint8)
  _check_both(_png(Image.fromarray(np.stack([grey, alpha], -1), "LA")),
              _grey3(grey), tmp_path)
  rgba = RNG.integers(0, 256, [9, 11, 4]).astype(np.uint8)
  _check_both(_png(Image.fromarray(rgba, "RGBA")), rgba[..., :3], tmp_path)


def test_bilevel_and_grey(tmp_path):
  bits = RNG.integers(0, 2, [28, 28]).astype(bool)
  raw = _png(Image.fromarray(bits).convert("1"))
  assert Image.open(io.BytesIO(raw)).mode == "1"
  _check_both(raw, _grey3(bits * 255), tmp_path)
  grey = RNG.integers(0, 256, [28, 28]).astype(np.uint8)
  _check_both(_png(Image.fromarray(grey, "L")), _grey3(grey), tmp_path)


def test_cmyk_jpeg(tmp_path):
  cmyk = RNG.integers(0, 256, [16, 16, 4]).astype(np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(cmyk, "CMYK").save(buffer, format="JPEG", quality=95)
  raw = buffer.getvalue()
  decoded = np.asarray(Image.open(io.BytesIO(raw))).astype(np.int64)  # lossy
  assert decoded.shape == (16, 16, 4)
  # Reference: each colour is (255 - C)(255 - K) / 255, rounded.
  expected = (255 - decoded[..., :3]) * (255 - decoded[..., 3:]) / 255.
  got = data.decode_image(raw)
  assert np.abs(got - expected).max() <= .5 + 1e-9, np.abs(got - expected).max()
  path = str(tmp_path / "cmyk.jpg")
  with open(path, "wb") as f:
    f.write(raw)
  np.testing.assert_array_equal(data.read_image(path), got)


@pytest.mark.parametrize("fmt,name", [("GIF", "GIF"), ("BMP", "BMP"),
                                      ("WEBP", "WebP"), ("TIFF", "TIFF")])
def test_other_formats_are_refused_by_name(tmp_path, fmt, name):
  buffer = io.BytesIO()
  Image.new("L", (28, 28)).save(buffer, format=fmt)
  with pytest.raises(data.DataError, match=f"is a {name} image; this example "
                     "reads PNG and JPEG only"):
    data.decode_image(buffer.getvalue(), "in")
  path = str(tmp_path / "digit.png")  # Whatever the name says.
  with open(path, "wb") as f:
    f.write(buffer.getvalue())
  with pytest.raises(data.DataError, match=f"a {name} image"):
    data.read_image(path)
  with pytest.raises(mnist_images.ImageError,
                     match=f"a {name} image; --png reads PNG files only"):
    mnist_images.read_png(path)


def test_a_float_tiff_is_refused_as_tiff():
  buffer = io.BytesIO()
  Image.new("F", (4, 4), 0.5).save(buffer, format="TIFF")
  with pytest.raises(data.DataError, match="TIFF image"):
    data.decode_image(buffer.getvalue())


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
