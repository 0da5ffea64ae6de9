"""The .mnz container: round trip, and rejection of damaged files."""

import struct
import sys
import zlib

import pytest

import mnist_testutil
from compression.examples.mnist import container

STRINGS = [b"\x01\x02\x03", b"", b"\xff" * 127, b"\x00" * 128, bytes(range(256)) * 3]


def test_round_trip():
  buf = container.pack(STRINGS, [50])
  strings, shape = container.unpack(buf)
  assert strings == STRINGS
  assert shape == [50]


def test_round_trip_empty_and_rank_3():
  strings, shape = container.unpack(container.pack([], [4, 4, 8]))
  assert strings == [] and shape == [4, 4, 8]


def test_documented_layout():
  buf = container.pack([b"ab", b"c"], [50])
  body = (b"MNZ1" + bytes([1, 1]) + struct.pack(">I", 50) +
          struct.pack(">I", 2) + b"\x02ab" + b"\x01c")
  assert buf == body + struct.pack(">I", zlib.crc32(body))
  assert container.header_size([50]) == 14
  assert container.overhead_bytes([b"ab", b"c"], [50]) == len(buf) - 3


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 16383, 16384, 2**31])
def test_varint(n):
  encoded = container.encode_varint(n)
  buf = container.pack([b"x" * n] if n < 20000 else [], [1])
  assert len(encoded) == max(1, (n.bit_length() + 6) // 7)
  if n < 20000:
    assert container.unpack(buf)[0] == [b"x" * n]


def test_file_round_trip(tmp_path):
  path = str(tmp_path / "x.mnz")
  size = container.write(path, STRINGS, [50])
  assert size == len(container.pack(STRINGS, [50]))
  assert container.read(path) == (STRINGS, [50])


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
    container.unpack(b"\x89PNG\r\n\x1a\n" + bytes(20))


def test_wrong_version():
  buf = bytearray(container.pack(STRINGS, [50]))
  buf[4] = 2
  with pytest.raises(container.ContainerError,
                     match="unsupported container version 2"):
    container.unpack(bytes(buf))


def test_corrupt_byte_is_detected():
  buf = container.pack(STRINGS, [50])
  for pos in range(10, len(buf)):
    damaged = bytearray(buf)
    damaged[pos] ^= 0x10
    with pytest.raises(container.ContainerError):
      container.unpack(bytes(damaged))
  damaged = bytearray(buf)
  damaged[30] ^= 0x01  # Inside the data of a string: only the CRC notices.
  with pytest.raises(container.ContainerError, match="CRC"):
    container.unpack(bytes(damaged))


def test_trailing_bytes():
  buf = container.pack(STRINGS, [50])
  with pytest.raises(container.ContainerError):
    container.unpack(buf + b"\0")


def test_read_names_the_file(tmp_path):
  path = str(tmp_path / "bad.mnz")
  with open(path, "wb") as f:
    f.write(b"MNZ1\x01")
  with pytest.raises(container.ContainerError, match="bad.mnz: truncated"):
    container.read(path)
  with pytest.raises(container.ContainerError, match="cannot read"):
    container.read(str(tmp_path / "missing.mnz"))


@pytest.mark.parametrize("damage,message", [
    ("truncated", "truncated"),
    ("magic", "not an MNIST container"),
    ("version", "unsupported container version"),
    ("corrupt", "CRC"),
])
def test_cli_rejects_damaged_files_cleanly(tmp_path, damage, message):
  buf = bytearray(container.pack([b"\x11" * 20] * 4, [50]))
  if damage == "truncated":
    buf = buf[:-7]
  elif damage == "magic":
    buf[:4] = b"ZIP!"
  elif damage == "version":
    buf[4] = 9
  else:
    buf[20] ^= 0xFF
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
