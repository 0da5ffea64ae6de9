"""The `.mnz` file: one file holding the compressed digits of a batch.

Layout, version 2 (multi-byte integers big-endian):

    offset  size        field
    0       4           magic b"MNZ1" (the family; the version byte says the layout)
    4       1           version, 2
    5       4           digits_per_string k, uint32, 1..65536: how many consecutive
                        digits one range-coded string holds (1: one string per
                        digit, for random access; > 1: the digits share strings)
    9       8           model fingerprint of the coding tables, int64: the
                        prior's own table fingerprint (the one-table rule of
                        compression/examples/common/fingerprint.py)
    17      1           ndim: rank of one digit's latent tensor (1 here)
    18      4 * ndim    latent shape, uint32 each (here [latent_dims])
    ...     4           count: number of digits N, uint32, at most 10,000,000
    ...                 ceil(N / k) strings, in digit order, each:
                          length  unsigned LEB128 varint, canonical (shortest form)
                          data    `length` bytes: one range-coded string holding
                                  k digits (the last one: the remaining digits),
                                  latents of shape [k] + latent shape
    end-4   4           CRC-32 (zlib.crc32) of every byte before it, uint32

`compress` writes k = min(N, 4096) by default: a file of up to 4096 digits is
one string with one final flush and one length prefix; larger files are cut
into strings of 4096 digits so that a decoder holds at most one string's
latents in memory (at most 65536 digits x latent size, whatever the file
says). `--per_digit_strings` writes k = 1: one string and one length prefix
per digit (about 2.5 + 8 bits more per digit), each decodable on its own.

The header (magic .. count) plus the CRC is 4+1+4+8+1+4*ndim+4+4 bytes (30 for
a rank-1 latent).

Version 1 files (magic, version 1, ndim, shape, count, one varint-prefixed
string per digit, CRC; no fingerprint) are still read, as k = 1 with
`fingerprint` None: they decode, checked by the exactness test only.

Readers reject, with a `ContainerError` saying which: a wrong magic, an
unsupported version, a file that ends early (truncated), extra bytes after
the strings, a non-canonical (overlong) length prefix, counts or sizes beyond
the documented limits, and a CRC mismatch (corrupt). `read` reads the header
first, checks the file's size against the largest size that header allows and
reads the rest in chunks of at most that size: nothing is allocated by what a
header claims. Only regular files are read: `/dev/zero`, a FIFO or a socket is
refused by name before any read.
"""

import dataclasses
import os
import struct
import zlib

MAGIC = b"MNZ1"
VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
CRC_SIZE = 4
MAX_COUNT = 10_000_000
MAX_DIGITS_PER_STRING = 65536
DEFAULT_DIGITS_PER_STRING = 4096
# Product of the latent shape (values per digit); the model's latent_dims limit.
MAX_LATENT_SIZE = 4096
# A coded value costs at most 16 bits of symbol, 4 + 64 bits of escape payload
# and rounding: 12 bytes; 16 leaves room, plus 16 for a string's flush.
MAX_BYTES_PER_VALUE = 16
MAX_STRING_OVERHEAD = 16
_MAX_VARINT_BYTES = 5  # Enough for lengths < 2**35.
_V1_FIXED = 4 + 1 + 1  # magic, version, ndim
_V2_FIXED = 4 + 1 + 4 + 8 + 1  # magic, version, k, fingerprint, ndim


class ContainerError(ValueError):
  """The bytes are not a valid container of a supported version."""


@dataclasses.dataclass
class Contents:
  """A parsed container.

  strings: list of bytes, ceil(count / digits_per_string) of them.
  latent_shape: list of ints, one digit's latent shape.
  count: number of digits.
  digits_per_string: digits per string (the last string may hold fewer).
  fingerprint: int (int64) of the coding tables, None in version 1 files.
  version: 1 or 2.
  """
  strings: list
  latent_shape: list
  count: int
  digits_per_string: int = 1
  fingerprint: int = None
  version: int = VERSION

  def digits_in_string(self, i):
    """Number of digits string `i` holds."""
    return min(self.digits_per_string, self.count - i * self.digits_per_string)


def num_strings(count, digits_per_string):
  return -(-count // digits_per_string)


def encode_varint(n):
  """Unsigned LEB128: 7 bits per byte, low bits first, MSB = "more follows"."""
  if n < 0:
    raise ValueError(f"varint must be non-negative, got {n}")
  out = bytearray()
  while True:
    byte = n & 0x7F
    n >>= 7
    if n:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


def _decode_varint(buf, pos, end):
  value = 0
  for i in range(_MAX_VARINT_BYTES):
    if pos + i >= end:
      raise ContainerError(
          f"truncated: file ends inside a length prefix at byte {pos + i}")
    byte = buf[pos + i]
    value |= (byte & 0x7F) << (7 * i)
    if not byte & 0x80:
      if i and not byte:
        raise ContainerError(
            f"corrupt: non-canonical length prefix at byte {pos} (a final "
            "zero byte; the shortest encoding is required)")
      return value, pos + i + 1
  raise ContainerError(f"corrupt: overlong length prefix at byte {pos}")


def header_size(latent_shape, version=VERSION):
  """Bytes of magic .. count (without CRC and strings)."""
  fixed = _V2_FIXED if version == 2 else _V1_FIXED
  return fixed + 4 * len(latent_shape) + 4


def overhead_bytes(strings, latent_shape):
  """Container bytes that are not coded data: header, CRC, length prefixes."""
  return (header_size(latent_shape) + CRC_SIZE +
          sum(len(encode_varint(len(s))) for s in strings))


def _latent_size(latent_shape):
  size = 1
  for d in latent_shape:
    size *= d
  return size


def _check_counts(latent_shape, count, digits_per_string, error):
  if not 1 <= len(latent_shape) <= 255:
    raise error(f"latent shape rank must be 1..255, got {latent_shape}")
  if any(not 1 <= d for d in latent_shape) or (
      _latent_size(latent_shape) > MAX_LATENT_SIZE):
    raise error(f"latent shape {latent_shape} must have positive sizes and at "
                f"most {MAX_LATENT_SIZE} values")
  if not 0 <= count <= MAX_COUNT:
    raise error(f"count {count} is beyond the limit of {MAX_COUNT} digits")
  if not 1 <= digits_per_string <= MAX_DIGITS_PER_STRING:
    raise error(f"digits_per_string {digits_per_string} must be in "
                f"1..{MAX_DIGITS_PER_STRING}")


def pack(strings, latent_shape, count=None, digits_per_string=1,
         fingerprint=0):
  """Serializes version-2 container bytes.

  Args:
    strings: list of bytes, ceil(count / digits_per_string) of them.
    latent_shape: list of ints, one digit's latent shape.
    count: number of digits (default: len(strings), for digits_per_string 1).
    digits_per_string: int in 1..65536.
    fingerprint: int64 fingerprint of the coding tables.
  """
  latent_shape = [int(d) for d in latent_shape]
  count = len(strings) if count is None else int(count)
  _check_counts(latent_shape, count, digits_per_string, ValueError)
  if len(strings) != num_strings(count, digits_per_string):
    raise ValueError(f"{len(strings)} strings for {count} digits at "
                     f"{digits_per_string} digits per string")
  out = bytearray(MAGIC)
  out += struct.pack(">BIqB", VERSION, digits_per_string, int(fingerprint),
                     len(latent_shape))
  out += struct.pack(f">{len(latent_shape)}I", *latent_shape)
  out += struct.pack(">I", count)
  for s in strings:
    s = bytes(s)
    out += encode_varint(len(s))
    out += s
  out += struct.pack(">I", zlib.crc32(out))
  return bytes(out)


def _parse_header(buf):
  """Parses magic .. count from the start of `buf`.

  Returns:
    (Contents without strings, header length). Raises ContainerError.
  """
  size = len(buf)
  if size < len(MAGIC) or buf[:4] != MAGIC:
    if MAGIC.startswith(buf[:4]):
      raise ContainerError(
          f"truncated: {size} bytes, too short for the {MAGIC!r} magic")
    raise ContainerError(
        f"not an MNIST container: magic {buf[:4]!r}, expected {MAGIC!r}")
  if size < 5:
    raise ContainerError(f"truncated: {size} bytes, header incomplete")
  version = buf[4]
  if version not in SUPPORTED_VERSIONS:
    raise ContainerError(
        f"unsupported container version {version} (this reader supports "
        f"versions {', '.join(map(str, SUPPORTED_VERSIONS))})")
  fixed = _V2_FIXED if version == 2 else _V1_FIXED
  if size < fixed:
    raise ContainerError(f"truncated: {size} bytes, header incomplete")
  if version == 2:
    _, k, fingerprint, ndim = struct.unpack(">BIqB", buf[4:fixed])
  else:
    k, fingerprint, ndim = 1, None, buf[5]
  if ndim == 0:
    raise ContainerError("corrupt: latent shape has rank 0")
  end = fixed + 4 * ndim + 4
  if size < end:
    raise ContainerError(f"truncated: {size} bytes, header incomplete")
  latent_shape = list(struct.unpack(f">{ndim}I", buf[fixed:end - 4]))
  (count,) = struct.unpack(">I", buf[end - 4:end])
  try:
    _check_counts(latent_shape, count, k, ContainerError)
  except ContainerError as e:
    raise ContainerError(f"corrupt or unsupported: {e}") from None
  return Contents([], latent_shape, count, k, fingerprint, version), end


def max_file_size(contents, header_length):
  """Largest file a header allows: every value escape coded, bytes."""
  n = num_strings(contents.count, contents.digits_per_string)
  values = contents.count * _latent_size(contents.latent_shape)
  return (header_length + CRC_SIZE + n * (_MAX_VARINT_BYTES + MAX_STRING_OVERHEAD)
          + values * MAX_BYTES_PER_VALUE)


def unpack(buf):
  """Parses container bytes (version 1 or 2).

  Returns:
    A `Contents`.

  Raises:
    ContainerError: wrong magic or version, truncation, trailing bytes, a
      non-canonical length, counts beyond the limits or a CRC mismatch.
  """
  buf = bytes(buf)
  size = len(buf)
  contents, pos = _parse_header(buf)
  end = size - CRC_SIZE  # Strings must end where the CRC starts.
  if end < pos:
    raise ContainerError(f"truncated: {size} bytes, no room for the CRC")
  n = num_strings(contents.count, contents.digits_per_string)
  if n > end - pos:  # Each string costs at least its 1-byte length.
    raise ContainerError(
        f"truncated: {n} strings cannot fit in the {end - pos} bytes between "
        f"header and CRC (count {contents.count})")
  for i in range(n):
    try:
      length, pos = _decode_varint(buf, pos, end)
    except ContainerError as e:
      raise ContainerError(f"{e} (string {i} of {n})") from None
    if pos + length > end:
      raise ContainerError(
          f"truncated: string {i} of {n} needs {length} bytes at offset "
          f"{pos}, but the data ends at {end} (file size {size})")
    contents.strings.append(buf[pos:pos + length])
    pos += length
  if pos != end:
    raise ContainerError(
        f"corrupt: {end - pos} unexpected bytes after the last of {n} strings")
  (stored_crc,) = struct.unpack(">I", buf[end:])
  actual_crc = zlib.crc32(buf[:end])
  if stored_crc != actual_crc:
    raise ContainerError(
        f"corrupt: CRC-32 mismatch (stored {stored_crc:08x}, computed "
        f"{actual_crc:08x})")
  return contents


def write(path, data):
  """Writes container bytes (from `pack`); returns their size."""
  with open(path, "wb") as f:
    f.write(data)
  return len(data)


def _max_header_size():
  return _V2_FIXED + 4 * 255 + 4


def read(path):
  """Reads a container file with bounded memory; see `unpack`.

  Only a regular file is read (a FIFO or a device such as /dev/zero is refused
  by name before any read). Reads the header, checks the file's size against
  the most that header allows, then reads the rest in chunks
  (inputs.CHUNK_BYTES), never more than that size plus one byte: nothing is
  allocated by what the header claims. Errors name the file.
  """
  from compression.examples import inputs  # pylint: disable=g-import-not-at-top
  with inputs.open_file(path, None, ContainerError) as f:
    try:
      head = f.read(_max_header_size())
      contents, header_length = _parse_header(head)
      limit = max_file_size(contents, header_length)
      size = os.fstat(f.fileno()).st_size
      rest = b"" if size > limit else inputs.read_at_most(
          f, max(0, limit + 1 - len(head)))
    except OSError as e:
      raise ContainerError(f"{path}: cannot read: {e.strerror}") from None
    except ContainerError as e:
      raise ContainerError(f"{path}: {e}") from None
  buf = head + rest
  if size > limit or len(buf) > limit:
    raise ContainerError(
        f"{path}: corrupt: more than {limit} bytes, the most a file of "
        f"{contents.count} digits of latent shape {contents.latent_shape} can "
        "take")
  try:
    return unpack(buf)
  except ContainerError as e:
    raise ContainerError(f"{path}: {e}") from None
