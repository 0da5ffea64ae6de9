"""The .mnz container: round trip, and rejection of damaged files."""

import struct
import sys
import zlib

import pytest

import mnist_testutil
from compression.examples.mnist import container

STRINGS = [b"\x01\x02\x03", b"", b"\xff" * 127, b"\x00" * 128, bytes(range(256)) * 3]
FINGERPRINT = -0x123456789ABCDEF


def test_round_trip():
  buf = container.pack(STRINGS, [50], fingerprint=FINGERPRINT)
  contents = container.unpack(buf)
  assert contents.strings == STRINGS
  assert contents.latent_shape == [50] and contents.count == len(STRINGS)
  assert contents.digits_per_string == 1 and contents.version == 2
  assert contents.fingerprint == FINGERPRINT


def test_round_trip_shared_strings():
  # 10 digits, 4 per string: strings of 4, 4 and 2 digits.
  contents = container.unpack(container.pack(STRINGS[:3], [8], 10, 4, 7))
  assert contents.strings == STRINGS[:3] and contents.count == 10
  assert [contents.digits_in_string(i) for i in range(3)] == [4, 4, 2]
  with pytest.raises(ValueError, match="3 strings for 13 digits"):
    container.pack(STRINGS[:3], [8], 13, 4)


def test_round_trip_empty_and_rank_3():
  contents = container.unpack(container.pack([], [4, 4, 8]))
  assert contents.strings == [] and contents.latent_shape == [4, 4, 8]


def test_documented_layout():
  buf = container.pack([b"ab", b"c"], [50], 5, 3, FINGERPRINT)
  body = (b"MNZ1" + bytes([2]) + struct.pack(">I", 3) +
          struct.pack(">q", FINGERPRINT) + bytes([1]) + struct.pack(">I", 50) +
          struct.pack(">I", 5) + b"\x02ab" + b"\x01c")
  assert buf == body + struct.pack(">I", zlib.crc32(body))
  assert container.header_size([50]) == 26
  assert container.overhead_bytes([b"ab", b"c"], [50]) == len(buf) - 3


def _version_1(strings, shape):
  body = b"MNZ1" + bytes([1, len(shape)]) + struct.pack(
      f">{len(shape)}I", *shape) + struct.pack(">I", len(strings))
  for s in strings:
    body += container.encode_varint(len(s)) + s
  return body + struct.pack(">I", zlib.crc32(body))


def test_version_1_files_are_read_without_fingerprint():
  contents = container.unpack(_version_1(STRINGS, [50]))
  assert contents.strings == STRINGS and contents.latent_shape == [50]
  assert contents.version == 1 and contents.fingerprint is None
  assert contents.digits_per_string == 1


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 16383, 16384, 2**31])
def test_varint(n):
  encoded = container.encode_varint(n)
  assert len(encoded) == max(1, (n.bit_length() + 6) // 7)
  if n < 20000:
    assert container.unpack(container.pack([b"x" * n], [1])).strings == [
        b"x" * n]


@pytest.mark.parametrize("prefix", [b"\x82\x00", b"\x82\x80\x00"])
def test_non_canonical_varint_is_refused(prefix):
  good = container.pack([b"ab"], [1])
  header = container.header_size([1])
  body = good[:header] + prefix + b"ab"
  with pytest.raises(container.ContainerError, match="non-canonical"):
    container.unpack(body + struct.pack(">I", zlib.crc32(body)))


def test_file_round_trip(tmp_path):
  path = str(tmp_path / "x.mnz")
  buf = container.pack(STRINGS, [50], fingerprint=5)
  assert container.write(path, buf) == len(buf)
  assert container.read(path) == container.unpack(buf)


def test_every_truncation_is_rejected():
  buf = container.pack(STRINGS, [50])
  for cut in range(len(buf)):
    with pytest.raises(container.ContainerError, match="truncated|corrupt"):
      container.unpack(buf[:cut])


def test_wrong_magic():
  buf = container.pack(STRINGS, [50])
  with pytest.raises(container.ContainerError, match="not an MNIST container"):
    container.unpack(b"PNG!" + buf[4:])
  with pytest.raises(container.ContainerError, match="not an MNIST container"):
    container.unpack(b"\x89PNG\r\n\x1a\n" + bytes(40))


def test_wrong_version():
  buf = bytearray(container.pack(STRINGS, [50]))
  buf[4] = 3
  with pytest.raises(container.ContainerError,
                     match="unsupported container version 3"):
    container.unpack(bytes(buf))


def _header(count, k=1, shape=(1,)):
  return (b"MNZ1" + struct.pack(">BIqB", 2, k, 0, len(shape)) +
          struct.pack(f">{len(shape)}I", *shape) + struct.pack(">I", count))


@pytest.mark.parametrize("header,message", [
    (_header(container.MAX_COUNT + 1), "count 10000001 is beyond the limit"),
    (_header(1, k=0), "digits_per_string 0"),
    (_header(1, k=container.MAX_DIGITS_PER_STRING + 1), "digits_per_string"),
    (_header(1, shape=(5000,)), "at most 4096 values"),
    (_header(1, shape=(0,)), "positive sizes"),
    # 10 million one-byte records cannot fit in 3 bytes: refused before any.
    (_header(container.MAX_COUNT), "cannot fit"),
])
def test_absurd_headers_are_refused(header, message):
  body = header + b"\x00\x00\x00"
  with pytest.raises(container.ContainerError, match=message):
    container.unpack(body + struct.pack(">I", zlib.crc32(body)))


def test_read_is_bounded_by_the_header(tmp_path):
  # One digit of one latent value: at most a few dozen bytes.
  path = str(tmp_path / "big.mnz")
  with open(path, "wb") as f:
    f.write(_header(1) + bytes(1 << 20))
  with pytest.raises(container.ContainerError, match="more than 67 bytes"):
    container.read(path)
  with pytest.raises(container.ContainerError, match="/dev/zero is a character "
                     "device, not a regular file"):
    container.read("/dev/zero")


def test_corrupt_byte_is_detected():
  buf = container.pack(STRINGS, [50])
  for pos in range(10, len(buf)):
    damaged = bytearray(buf)
    damaged[pos] ^= 0x10
    with pytest.raises(container.ContainerError):
      container.unpack(bytes(damaged))
  damaged = bytearray(buf)
  damaged[40] ^= 0x01  # Inside the data of a string: only the CRC notices.
  with pytest.raises(container.ContainerError, match="CRC"):
    container.unpack(bytes(damaged))


def test_trailing_bytes():
  buf = container.pack(STRINGS, [50])
  with pytest.raises(container.ContainerError):
    container.unpack(buf + b"\0")


def test_read_names_the_file(tmp_path):
  path = str(tmp_path / "bad.mnz")
  with open(path, "wb") as f:
    f.write(b"MNZ1\x02")
  with pytest.raises(container.ContainerError, match="bad.mnz: truncated"):
    container.read(path)
  with pytest.raises(container.ContainerError, match="missing.mnz: no such file"):
    container.read(str(tmp_path / "missing.mnz"))


@pytest.mark.parametrize("damage,message", [
    ("truncated", "truncated"),
    ("magic", "not an MNIST container"),
    ("version", "unsupported container version"),
    ("corrupt", "CRC"),
    ("varint", "non-canonical length prefix"),
])
def test_cli_rejects_damaged_files_cleanly(tmp_path, damage, message):
  buf = bytearray(container.pack([b"\x11" * 20] * 4, [50]))
  if damage == "truncated":
    buf = buf[:-7]
  elif damage == "magic":
    buf[:4] = b"ZIP!"
  elif damage == "version":
    buf[4] = 9
  elif damage == "varint":
    buf = bytearray(container.pack([b"\x11"], [50]))
    header = container.header_size([50])
    buf[header:header + 1] = b"\x81\x00"
    buf[-4:] = struct.pack(">I", zlib.crc32(bytes(buf[:-4])))
  else:
    buf[35] ^= 0xFF  # Inside the first string.
  path = str(tmp_path / "in.mnz")
  with open(path, "wb") as f:
    f.write(bytes(buf))
  # The container is checked before the model: no checkpoint needed.
  proc = mnist_testutil.run_cli(
      "decompress", f"--input={path}", f"--output_dir={tmp_path}/out",
      f"--model_dir={tmp_path}/no_model")
  assert proc.returncode == 1, proc.stderr
  assert message in proc.stderr
  assert proc.stderr.strip().splitlines()[-1].startswith("error: ")
  assert "Traceback" not in proc.stderr + proc.stdout


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
