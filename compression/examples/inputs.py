"""Untrusted inputs of the examples: bounded file reads, Pillow images as 8 bits.

Files. `open_file` / `read_file` take only regular files: a FIFO, a device such
as /dev/zero or a socket is refused by name before a byte is read (reading one
could block or never end), and so is a file larger than the caller's limit (its
size, from fstat, before reading; reads go in chunks of `CHUNK_BYTES`, so a file
that grows meanwhile is cut off at the limit, not read to the end).

Strings. A range-coded string cannot be shorter than its symbols' information:
`string_bits_bound` and `min_bits_per_row` give the fewest bits a string of
claimed latents can have under a model's CDF tables, so a header that claims
more latents than its strings can hold is refused before anything is decoded.

Pixels. `to_rgb8` turns every mode Pillow returns for PNG and JPEG files into
uint8 RGB by one documented rule per mode (see its docstring): 16-bit grey keeps
its high byte, as Pillow does itself for 16-bit colour PNGs; alpha is dropped, not
composited; modes without a defined 8-bit meaning (F, 32-bit I beyond 16 bits) are
refused. No TensorFlow import here; Pillow is imported by the callers.
"""

import os
import stat

import numpy as np

CHUNK_BYTES = 1 << 20

_NOT_REGULAR = ((stat.S_ISFIFO, "a FIFO (named pipe)"),
                (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"))


def open_file(path, limit, error):
  """Opens the regular file `path` of at most `limit` bytes for binary reading.

  Args:
    path: the file.
    limit: the largest size accepted, bytes (None: no limit here; the caller
      checks the size, e.g. against a header).
    error: exception class raised (with one line naming `path`) for a missing
      path, a folder, a non-regular file or a file above `limit`.

  Returns:
    An unbuffered binary file object (the caller closes it); its size is
    `os.fstat(f.fileno()).st_size`.
  """
  try:
    # O_NONBLOCK: opening a FIFO with no writer must not hang before fstat.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
  except FileNotFoundError:
    raise error(f"{path}: no such file") from None
  except IsADirectoryError:
    raise error(f"{path} is a folder, not a file") from None
  except OSError as e:
    raise error(f"{path}: cannot open: {e.strerror}") from None
  try:
    mode = os.fstat(fd).st_mode
    size = os.fstat(fd).st_size
    if stat.S_ISDIR(mode):
      raise error(f"{path} is a folder, not a file")
    for test, kind in _NOT_REGULAR:
      if test(mode):
        raise error(f"{path} is {kind}, not a regular file; only regular files "
                    "are read")
    if limit is not None and size > limit:
      raise error(f"{path}: {size} bytes, more than the {limit} accepted")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb", buffering=0)
  except BaseException:
    os.close(fd)
    raise


def read_at_most(f, n):
  """Up to `n` bytes of `f` (fewer at its end), read in chunks of CHUNK_BYTES:
  never a buffer of `n` bytes at once."""
  chunks = []
  total = 0
  while total < n:
    chunk = f.read(min(CHUNK_BYTES, n - total))
    if not chunk:
      break
    chunks.append(chunk)
    total += len(chunk)
  return b"".join(chunks)


def read_chunks(f, limit, error, where):
  """Reads `f` to its end in chunks; `error` once more than `limit` bytes came."""
  data = read_at_most(f, limit + 1)
  if len(data) > limit:
    raise error(f"{where}: more than the {limit} bytes accepted")
  return data


def read_file(path, limit, error):
  """The bytes of the regular file `path` (at most `limit`); see `open_file`."""
  with open_file(path, limit, error) as f:
    try:
      return read_chunks(f, limit, error, path)
    except OSError as e:
      raise error(f"{path}: cannot read: {e.strerror}") from None


def file_kind(prefix):
  """A name for the format of a file starting with `prefix` (its first bytes)."""
  prefix = bytes(prefix[:16])
  if prefix.startswith(b"\x89PNG\r\n\x1a\n"):
    return "PNG"
  if prefix.startswith(b"\xff\xd8\xff"):
    return "JPEG"
  if prefix[:6] in (b"GIF87a", b"GIF89a"):
    return "GIF"
  if prefix.startswith(b"BM"):
    return "BMP"
  if prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP":
    return "WebP"
  if prefix[:4] in (b"II*\0", b"MM\0*"):
    return "TIFF"
  return None


# Modes handled by `to_rgb8`, and the rule each follows (for error messages).
GREY16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def to_rgb8(image, where, error):
  """A Pillow image -> uint8 [H, W, 3], by mode:

    RGB           as is.
    L             grey: three equal channels.
    1             black 0, white 255.
    I;16, I;16B, I;16L, I;16N, I
                  16-bit grey (Pillow's modes for 16-bit grey PNGs): the high
                  byte, v >> 8 (what Pillow does itself for 16-bit colour PNGs,
                  so grey and colour 16-bit files agree). Mode I must hold values
                  in 0..65535; other values are refused (no 8-bit meaning).
    P, PA         the palette's colours; transparency is dropped.
    LA, RGBA, RGBX
                  the colour channels; alpha is dropped, not composited (the
                  stored colours are coded; transparent areas show them).
    CMYK          Pillow's conversion: R = round((255 - C) (255 - K) / 255), and
                  so on (JPEG's Adobe inversion is undone by Pillow when read).
    YCbCr         Pillow's conversion to RGB.
    anything else (F: 32-bit floats, no defined range; LAB, HSV, I;16S, ...)
                  refused with `error`.
  """
  mode = image.mode
  if mode == "RGB":
    array = np.asarray(image)
  elif mode in ("L", "1"):
    grey = np.asarray(image.convert("L"))
    array = np.repeat(grey[..., None], 3, axis=2)
  elif mode in GREY16_MODES:
    values = np.asarray(image)
    if values.size and (values.min() < 0 or values.max() > 65535):
      raise error(f"{where}: {mode} image with values in {values.min()}.."
                  f"{values.max()}, outside 16 bits (0..65535)")
    grey = (values.astype(np.uint32) >> 8).astype(np.uint8)
    array = np.repeat(grey[..., None], 3, axis=2)
  elif mode in ("P", "PA", "LA", "RGBA", "RGBX"):
    array = np.asarray(image.convert("RGBA"))[..., :3]
  elif mode in ("CMYK", "YCbCr"):
    array = np.asarray(image.convert("RGB"))
  else:
    raise error(f"{where}: Pillow mode {mode} is not supported (8- or 16-bit "
                "grey, palette, RGB(A) or CMYK images are)")
  return np.ascontiguousarray(array, dtype=np.uint8)


# The range coder (cc/kernels/range_coder.h) starts with a 64-bit range and
# writes a 32-bit word whenever the range falls below 2**32; each symbol of
# probability p multiplies the range by at most p. So a string of L bytes that
# decodes exactly holds symbols whose -log2 p sum to at most 8 L + 64.
STRING_SLACK_BITS = 64


def min_bits_per_row(cdf, cdf_length):
  """The fewest bits a symbol of each CDF row costs: float64 [rows].

  log2(total / largest count) of each row's first `cdf_length` entries (total:
  the row's last entry, at most 2**precision, so this never overstates the
  cost). A row that is not a valid table gives 0 (no bound).
  """
  cdf = np.asarray(cdf, np.int64)
  lengths = np.asarray(cdf_length, np.int64).reshape(-1)
  bits = np.zeros(len(lengths))
  if cdf.ndim != 2 or cdf.shape[0] != len(lengths):
    return bits
  for r, length in enumerate(lengths):
    if not 2 <= length <= cdf.shape[1]:
      continue
    counts = np.diff(cdf[r, :length])
    total = cdf[r, length - 1]
    if total > 0 and counts.max() > 0:
      bits[r] = max(0., np.log2(total / counts.max()))
  return bits


def string_bytes_needed(min_bits):
  """The fewest bytes of a string whose symbols cost at least `min_bits` bits."""
  return max(0, int(np.ceil((min_bits - STRING_SLACK_BITS) / 8. - 1e-9)))
