"""The compressed image file (".cim"), versions 1 to 3. All integers little-endian.

  offset  size  field
  0       4     magic b"CIMG"
  4       1     version: 1, 2 for mbt2018-mean, 3 for ms2020-cc (the only
                change of version 2 is architecture code 3, of version 3 code 4;
                the writer uses the lowest version that can hold the file, so
                files of the first two architectures are byte-identical to
                version 1's and mbt2018-mean's to version 2's)
  5       1     architecture: 1 = bls2017, 2 = bmshj2018, 3 = mbt2018-mean,
                4 = ms2020-cc
  6       2     zero (reserved)
  8       8     model fingerprint (uint64) of the model's coding tables, named
                entropy_bottleneck (and for the hyperprior models also
                gaussian_conditional and hyper_synthesis): the SHA-256 rule of
                compression/examples/common/fingerprint.py
  16      4     image height H (pixels, before padding)
  20      4     image width W
  24      12    y shape: height, width, channels (uint32 each)
  36      12    z shape (hyperprior models; zeros for bls2017)
  48      4     length of the y string, Ly
  52      4     length of the z string, Lz (0 for bls2017)
  56      Ly    y string (range coded, `compress` of the y entropy model)
  56+Ly   Lz    z string
  end-4   4     CRC-32 (zlib) of every byte before it

The image is padded (edge rows/columns repeated) to multiples of the total stride
S (16 or 64) before coding, so y is [ceil(H/S) S/16, ceil(W/S) S/16, M] and z a
quarter of that; `unpack` checks these relations, the sizes, and the CRC, so a
truncated, damaged or foreign file is refused before any decoding.

The CRC guards against accidents, not forgery: a file edited with its CRC
recomputed passes. H and W changed within the same padding (same latent shapes)
decode to a differently cropped image without any error, since the strings do
not record the unpadded size. Authenticity needs a signature outside this format.
"""

import dataclasses
import struct
import zlib


from compression.examples.images import config

MAGIC = b"CIMG"
VERSION = 3  # the newest version this program writes and reads
ARCHITECTURE_CODES = {"bls2017": 1, "bmshj2018": 2, "mbt2018-mean": 3,
                      "ms2020-cc": 4}
# The first format version that can hold each architecture (what `pack` writes).
FIRST_VERSION = {"bls2017": 1, "bmshj2018": 1, "mbt2018-mean": 2, "ms2020-cc": 3}
_HEADER = struct.Struct("<4sBBH Q II III III II")
HEADER_BYTES = _HEADER.size  # 56
CRC_BYTES = 4
MAX_SIDE = 1 << 15
MAX_PIXELS = 64 * 2 ** 20
MAX_FILE_BYTES = 1 << 30


class ContainerError(ValueError):
  """A file that is not a valid compressed image for this model (one line)."""


@dataclasses.dataclass
class CompressedImage:
  architecture: str
  fingerprint: int          # uint64
  height: int
  width: int
  y_shape: tuple            # (h, w, c)
  z_shape: tuple            # (h, w, c), zeros for bls2017
  y_string: bytes
  z_string: bytes = b""


def latent_shapes(architecture, height, width, latent_filters, num_filters):
  """The y and z shapes of an H x W image (see the module doc)."""
  stride = config.TOTAL_STRIDE[architecture]
  padded_h = -(-height // stride) * stride
  padded_w = -(-width // stride) * stride
  y_shape = (padded_h // 16, padded_w // 16, latent_filters)
  if architecture in config.HYPERPRIOR:
    return y_shape, (padded_h // 64, padded_w // 64, num_filters)
  return y_shape, (0, 0, 0)


def check_image_size(width, height, where="image"):
  """ContainerError unless a width x height image fits the format: each side in
  1..MAX_SIDE and at most MAX_PIXELS pixels. Thin images (1 x 30000) are fine:
  they are padded to the total stride like any other."""
  if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE
          and height * width <= MAX_PIXELS):
    raise ContainerError(
        f"{where}: {width}x{height} does not fit a compressed image: each side "
        f"must be 1..{MAX_SIDE} pixels and the whole at most {MAX_PIXELS} pixels")


def pack(image):
  """CompressedImage -> bytes."""
  header = _HEADER.pack(
      MAGIC, FIRST_VERSION[image.architecture],
      ARCHITECTURE_CODES[image.architecture], 0, image.fingerprint,
      image.height, image.width, *image.y_shape, *image.z_shape,
      len(image.y_string), len(image.z_string))
  body = header + image.y_string + image.z_string
  return body + struct.pack("<I", zlib.crc32(body))


def unpack(blob, where="file"):
  """bytes -> CompressedImage; ContainerError naming the first problem found."""
  if len(blob) < HEADER_BYTES + CRC_BYTES:
    if not MAGIC.startswith(bytes(blob[:4])):
      raise ContainerError(f"{where} is not a compressed image (no CIMG magic)")
    raise ContainerError(f"{where} is truncated: {len(blob)} bytes, a compressed "
                         f"image has at least {HEADER_BYTES + CRC_BYTES}")
  (magic, version, code, reserved, fingerprint, height, width, yh, yw, yc, zh, zw,
   zc, y_length, z_length) = _HEADER.unpack_from(blob)
  if magic != MAGIC:
    raise ContainerError(f"{where} is not a compressed image (magic {magic!r}, "
                         f"expected {MAGIC!r})")
  if not 1 <= version <= VERSION:
    raise ContainerError(f"{where}: format version {version} is not supported "
                         f"(this program reads versions 1 to {VERSION})")
  names = {v: k for k, v in ARCHITECTURE_CODES.items()}
  if code not in names or reserved or FIRST_VERSION[names[code]] > version:
    raise ContainerError(f"{where}: bad header (architecture code {code} in a "
                         f"version {version} file)")
  expected = HEADER_BYTES + y_length + z_length + CRC_BYTES
  if len(blob) != expected:
    raise ContainerError(
        f"{where} is {'truncated' if len(blob) < expected else 'too long'}: "
        f"{len(blob)} bytes, its header says {expected}")
  (crc,) = struct.unpack_from("<I", blob, len(blob) - CRC_BYTES)
  if crc != zlib.crc32(blob[:-CRC_BYTES]):
    raise ContainerError(f"{where} is damaged: CRC-32 mismatch")
  architecture = names[code]
  if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE
          and height * width <= MAX_PIXELS):
    raise ContainerError(f"{where}: image size {width}x{height} out of range")
  y_shape, z_shape = latent_shapes(architecture, height, width, yc, zc)
  if (yh, yw, yc) != y_shape or (zh, zw, zc) != z_shape or yc < 1 or (
      architecture in config.HYPERPRIOR and zc < 1) or (
          architecture == "bls2017" and z_length):
    raise ContainerError(f"{where}: latent shapes {(yh, yw, yc)} {(zh, zw, zc)} do "
                         f"not fit a {width}x{height} {architecture} image")
  y_string = blob[HEADER_BYTES:HEADER_BYTES + y_length]
  z_string = blob[HEADER_BYTES + y_length:HEADER_BYTES + y_length + z_length]
  return CompressedImage(architecture, fingerprint, height, width, y_shape, z_shape,
                         y_string, z_string)


def read_blob(path):
  """The bytes of a .cim file: a regular file of at most MAX_FILE_BYTES (its
  size checked before reading, then read in chunks); a FIFO or a device such as
  /dev/zero is refused by name (inputs.read_file)."""
  from compression.examples import inputs  # pylint: disable=g-import-not-at-top
  return inputs.read_file(path, MAX_FILE_BYTES, ContainerError)


def read(path):
  """Reads (`read_blob`) and unpacks a file."""
  return unpack(read_blob(path), path)
