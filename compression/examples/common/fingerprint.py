"""The model fingerprint a compressed file carries: the one scheme of both examples.

Each entropy model's coding tables have an int64 fingerprint
(`compression.python.layers.entropy_model.table_fingerprint`, returned by the
layer's `fingerprint()`). A file stores one 64-bit *model fingerprint* made
from them, and a decoder refuses a file whose model fingerprint differs from
its own model's. The rule (`model_fingerprint`):

- Named tables, a dict {name: int64} (the image codec's `.cim` files: the
  tables "entropy_bottleneck", and for the hyperprior models also
  "gaussian_conditional" and "hyper_synthesis"): the first 8 bytes, read as a
  little-endian uint64, of SHA-256 over the entries in name order, each entry
  the UTF-8 name, a NUL byte, and the int64 as 8 little-endian bytes.
- One unnamed table, an int (the MNIST codec's `.mnz` files and Beam records,
  whose model has a single prior): that table's fingerprint itself, as 64 bits.

The result is a uint64 (0 .. 2**64 - 1). Formats that store a signed int64
(`.mnz` version 2, the MNIST TFRecord records) store `to_int64` of it: the same
64 bits. These are exactly the values the formats stored before this module
existed, so every file written before still decodes; a change of the rule is a
new version of each format that uses it.
"""

import hashlib
import struct

MASK = 2 ** 64 - 1


def _int64_bits(value):
  """The 64-bit pattern (uint64) of an int64 or uint64 `value`; ValueError
  for anything outside -2**63 .. 2**64 - 1."""
  value = int(value)
  if not -2 ** 63 <= value <= MASK:
    raise ValueError(f"a table fingerprint is 64 bits, got {value}")
  return value & MASK


def model_fingerprint(tables):
  """The model fingerprint (uint64) of `tables` (see the module doc).

  Args:
    tables: dict name (str) -> int64 table fingerprint (names need not be
      given in order), or one int64 (a model of a single unnamed table).
  """
  if not isinstance(tables, dict):
    return _int64_bits(tables)
  if not tables:
    raise ValueError("a model fingerprint needs at least one table")
  digest = hashlib.sha256()
  for name in sorted(tables):
    bits = _int64_bits(tables[name])
    digest.update(name.encode() + b"\0" + struct.pack("<Q", bits))
  return struct.unpack("<Q", digest.digest()[:8])[0]


def to_int64(value):
  """The 64 bits of a fingerprint as a signed int64 (for int64 fields)."""
  bits = _int64_bits(value)
  return bits - 2 ** 64 if bits >= 2 ** 63 else bits


def format_fingerprint(value):
  """A fingerprint (int64 or uint64) as 16 lowercase hex digits of its bits."""
  return f"{_int64_bits(value):016x}"
