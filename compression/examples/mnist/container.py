"""The `.mnz` file: one file holding the compressed strings of many digits.

Layout, version 1 (multi-byte integers big-endian):

    offset  size        field
    0       4           magic b"MNZ1"
    4       1           version, 1
    5       1           ndim: rank of one digit's latent tensor (1 here)
    6       4 * ndim    latent shape, uint32 each (here [latent_dims])
    ...     4           count: number of digits N, uint32
    ...                 N records, in digit order, each:
                          length  unsigned LEB128 varint (1 byte when < 128)
                          data    `length` bytes: the range-coded string
    end-4   4           CRC-32 (zlib.crc32) of every byte before it, uint32

The header (magic .. count) plus the CRC is a fixed 4+1+1+4*ndim+4+4 bytes
(18 for a rank-1 latent); the varint length prefixes add 1 byte per digit
for strings shorter than 128 bytes. `evaluate` reports these overheads apart
from the coded bits.

Readers reject, with a `ContainerError` saying which: a wrong magic, an
unsupported version, a file that ends early (truncated), extra bytes after
the CRC, and a CRC mismatch (corrupt).
"""

import struct
import zlib

MAGIC = b"MNZ1"
VERSION = 1
CRC_SIZE = 4
_MAX_VARINT_BYTES = 5  # Enough for lengths < 2**35.


class ContainerError(ValueError):
  """The bytes are not a valid container of a supported version."""


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
      return value, pos + i + 1
  raise ContainerError(f"corrupt: overlong length prefix at byte {pos}")


def header_size(latent_shape):
  """Bytes of magic, version, shape and count (without CRC and records)."""
  return 4 + 1 + 1 + 4 * len(latent_shape) + 4


def overhead_bytes(strings, latent_shape):
  """Container bytes that are not coded data: header, CRC, length prefixes."""
  return (header_size(latent_shape) + CRC_SIZE +
          sum(len(encode_varint(len(s))) for s in strings))


def pack(strings, latent_shape):
  """Serializes strings (one per digit) and their latent shape to bytes."""
  latent_shape = [int(d) for d in latent_shape]
  if not 1 <= len(latent_shape) <= 255:
    raise ValueError(f"latent shape rank must be 1..255, got {latent_shape}")
  if any(not 0 <= d < 2**32 for d in latent_shape):
    raise ValueError(f"latent dims must fit in uint32: {latent_shape}")
  out = bytearray(MAGIC)
  out += struct.pack(">BB", VERSION, len(latent_shape))
  out += struct.pack(f">{len(latent_shape)}I", *latent_shape)
  out += struct.pack(">I", len(strings))
  for s in strings:
    s = bytes(s)
    out += encode_varint(len(s))
    out += s
  out += struct.pack(">I", zlib.crc32(out))
  return bytes(out)


def unpack(buf):
  """Parses container bytes.

  Returns:
    (strings, latent_shape): list of bytes (one per digit), list of ints.

  Raises:
    ContainerError: wrong magic or version, truncation, trailing bytes or a
      CRC mismatch.
  """
  buf = bytes(buf)
  size = len(buf)
  if size < len(MAGIC) or buf[:4] != MAGIC:
    if MAGIC.startswith(buf[:4]):
      raise ContainerError(
          f"truncated: {size} bytes, too short for the {MAGIC!r} magic")
    raise ContainerError(
        f"not an MNIST container: magic {buf[:4]!r}, expected {MAGIC!r}")
  if size < 6:
    raise ContainerError(f"truncated: {size} bytes, header incomplete")
  version, ndim = struct.unpack(">BB", buf[4:6])
  if version != VERSION:
    raise ContainerError(
        f"unsupported container version {version} (this reader supports "
        f"version {VERSION})")
  if ndim == 0:
    raise ContainerError("corrupt: latent shape has rank 0")
  pos = 6
  if size < pos + 4 * ndim + 4:
    raise ContainerError(f"truncated: {size} bytes, header incomplete")
  latent_shape = list(struct.unpack(f">{ndim}I", buf[pos:pos + 4 * ndim]))
  pos += 4 * ndim
  (count,) = struct.unpack(">I", buf[pos:pos + 4])
  pos += 4
  end = size - CRC_SIZE  # Records must end where the CRC starts.
  if end < pos:
    raise ContainerError(f"truncated: {size} bytes, no room for the CRC")
  strings = []
  for i in range(count):
    try:
      length, pos = _decode_varint(buf, pos, end)
    except ContainerError as e:
      raise ContainerError(f"{e} (record {i} of {count})") from None
    if pos + length > end:
      raise ContainerError(
          f"truncated: record {i} of {count} needs {length} bytes at offset "
          f"{pos}, but the data ends at {end} (file size {size})")
    strings.append(buf[pos:pos + length])
    pos += length
  if pos != end:
    raise ContainerError(
        f"corrupt: {end - pos} unexpected bytes after the last of {count} "
        "records")
  (stored_crc,) = struct.unpack(">I", buf[end:])
  actual_crc = zlib.crc32(buf[:end])
  if stored_crc != actual_crc:
    raise ContainerError(
        f"corrupt: CRC-32 mismatch (stored {stored_crc:08x}, computed "
        f"{actual_crc:08x})")
  return strings, latent_shape


def write(path, strings, latent_shape):
  """Writes a container file; returns its size in bytes."""
  data = pack(strings, latent_shape)
  with open(path, "wb") as f:
    f.write(data)
  return len(data)


def read(path):
  """Reads a container file; see `unpack`. Errors name the file."""
  try:
    with open(path, "rb") as f:
      buf = f.read()
  except OSError as e:
    raise ContainerError(f"{path}: cannot read: {e.strerror}") from None
  try:
    return unpack(buf)
  except ContainerError as e:
    raise ContainerError(f"{path}: {e}") from None
