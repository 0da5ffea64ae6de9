"""Sizes a file claims are checked against the bytes present before anything is
allocated or run; only regular files are read (issue 17, item 3).

Every case that would allocate by a header's word if the check regressed runs in
a child process under RLIMIT_AS (hardening_testutil), so a regression fails the
test instead of the machine.
"""

import os
import struct
import sys
import textwrap
import zlib

import numpy as np
import pytest

import hardening_testutil
import images_testutil
import mnist_testutil
from compression.examples import inputs
from compression.examples.images import container as cim
from compression.examples.images import data
from compression.examples.mnist import container as mnz

# Children that do not import TensorFlow get 1 GiB of address space.
SMALL_LIMIT = 1 << 30


def _python(code, limit=SMALL_LIMIT):
  return hardening_testutil.run_limited(["-c", textwrap.dedent(code)], limit)


# -- .mnz --------------------------------------------------------------------


def _mnz_header(count, dims, k=1):
  return (b"MNZ1" + struct.pack(">BIqB", 2, k, 0, 1) + struct.pack(">I", dims) +
          struct.pack(">I", count))


def test_mnz_header_claiming_10m_digits_is_refused_in_a_limited_child(tmp_path):
  # 70 bytes claiming 10,000,000 digits of 4096 values: the old reader called
  # f.read() with the header's limit (655 GB) and died with MemoryError.
  body = _mnz_header(10_000_000, 4096) + b"\x01\x00" * 20
  path = tmp_path / "claims.mnz"
  path.write_bytes(body + struct.pack(">I", zlib.crc32(body)))
  assert path.stat().st_size == 70
  proc = hardening_testutil.run_limited(
      ["-m", "compression.examples.mnist", "decompress", f"--input={path}",
       f"--output_dir={tmp_path}/out", f"--model_dir={tmp_path}/none"],
      SMALL_LIMIT)
  line = hardening_testutil.error_line(proc)
  assert "10000000 strings cannot fit in the 40 bytes" in line, line


def test_every_bit_flip_of_an_mnz_header_is_one_error(tmp_path):
  """All single-bit flips of a valid file's header and first string, read in a
  limited child: each is a ContainerError or reads back (no MemoryError)."""
  path = str(tmp_path / "ok.mnz")
  mnz.write(path, mnz.pack([b"\x11\x22\x33\x44"] * 3, [16], 3, 1, 7))
  proc = _python(f"""
      import collections, os
      from compression.examples.mnist import container
      good = open({path!r}, "rb").read()
      kinds = collections.Counter()
      for bit in range(8 * 36):
        raw = bytearray(good)
        raw[bit // 8] ^= 1 << (bit % 8)
        with open({path!r} + ".x", "wb") as f:
          f.write(raw)
        try:
          container.read({path!r} + ".x")
          kinds["read"] += 1
        except container.ContainerError:
          kinds["refused"] += 1
      print(dict(kinds))
      """)
  assert proc.returncode == 0, proc.stderr
  kinds = eval(proc.stdout.strip())  # pylint: disable=eval-used
  assert kinds == {"refused": 8 * 36}, kinds  # The CRC catches every flip.


def test_mnz_size_is_checked_before_reading(tmp_path):
  body = _mnz_header(3, 16) + b"\x01\x00" * 3
  path = tmp_path / "big.mnz"
  path.write_bytes(body + struct.pack(">I", zlib.crc32(body)))
  with open(path, "ab") as f:  # Sparse: 4 GiB of size, no data written.
    f.truncate(4 << 30)
  with pytest.raises(mnz.ContainerError, match=r"corrupt: more than \d+ bytes, the most a file of 3 digits"):
    mnz.read(str(path))


# -- Non-regular files -------------------------------------------------------


@pytest.mark.parametrize("reader,error", [
    (data.read_image, data.DataError), (cim.read, cim.ContainerError),
    (mnz.read, mnz.ContainerError)])
def test_devices_and_fifos_are_refused_by_name(tmp_path, reader, error):
  with pytest.raises(error, match="/dev/zero is a character device, not a "
                     "regular file"):
    reader("/dev/zero")
  fifo = str(tmp_path / "fifo")
  os.mkfifo(fifo)  # No writer: opening it must not block.
  with pytest.raises(error, match="is a FIFO"):
    reader(fifo)
  with pytest.raises(error, match="no such file"):
    reader(str(tmp_path / "missing"))
  with pytest.raises(error, match="is a folder"):
    reader(str(tmp_path))


def test_read_image_of_dev_zero_reads_nothing_in_a_limited_child():
  # It used to read 1 GiB before refusing.
  proc = _python("""
      from compression.examples.images import data
      try:
        data.read_image("/dev/zero")
      except data.DataError as e:
        print(e)
      """, limit=512 << 20)
  assert proc.returncode == 0, proc.stderr
  assert "character device" in proc.stdout


def test_image_and_cim_sizes_are_checked_before_reading(tmp_path):
  path = tmp_path / "huge.png"
  data.write_png(str(path), np.zeros([4, 4, 3], np.uint8))
  with open(path, "ab") as f:
    f.truncate(data.MAX_FILE_BYTES + 1)  # Sparse.
  with pytest.raises(data.DataError, match="more than the 1073741824 accepted"):
    data.read_image(str(path))
  os.rename(path, tmp_path / "huge.cim")
  with pytest.raises(cim.ContainerError, match="more than the 1073741824"):
    cim.read(str(tmp_path / "huge.cim"))


def test_read_chunks_stops_at_the_limit():
  class Endless:
    reads = []

    def read(self, n):
      self.reads.append(n)
      return b"\0" * n

  with pytest.raises(ValueError, match="where: more than the 5000000 bytes"):
    inputs.read_chunks(Endless(), 5_000_000, ValueError, "where")
  assert max(Endless.reads) == inputs.CHUNK_BYTES
  assert sum(Endless.reads) == 5_000_001


# -- Strings against the claimed latents -------------------------------------


def test_the_string_bound_holds_for_real_strings():
  """A peaked CDF: n symbols of its likeliest value never fit in fewer bytes
  than string_bytes_needed says (the bound refuses no genuine string)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from compression.python.ops import range_coding_ops  # pylint: disable=g-import-not-at-top
  cdf = np.array([0, 60000, 65000, 65536], np.int32)
  bits = inputs.min_bits_per_row(cdf[None], [4])
  assert bits[0] == pytest.approx(np.log2(65536 / 60000))
  for n in (10, 1000, 100_000):
    values = np.zeros([n], np.int16)
    string = range_coding_ops.range_encode(
        tf.constant(values), tf.constant(np.tile(cdf, [n, 1])), 16).numpy()
    needed = inputs.string_bytes_needed(n * bits[0])
    assert needed <= len(string) <= needed + 12, (n, needed, len(string))


def _forged(blob, height, width):
  """`blob` (a .cim file) with another image size, shapes to match and a valid
  CRC: the strings stay those of the original image."""
  c = cim.unpack(blob)
  y_shape, z_shape = cim.latent_shapes(c.architecture, height, width,
                                       c.y_shape[2], c.z_shape[2])
  return cim.pack(cim.CompressedImage(c.architecture, c.fingerprint, height,
                                      width, y_shape, z_shape, c.y_string,
                                      c.z_string))


@pytest.fixture(scope="module", params=["bmshj2018", "bls2017"])
def model_and_file(request):
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  model_dir = images_testutil.trained_model(request.param)
  blob = codec.Encoder(model_dir).compress(
      images_testutil.synthetic_image(64, 64, 5)).blob
  return model_dir, blob


def test_forged_8192_header_is_refused_before_synthesis(model_and_file):
  """A few hundred bytes claiming 8192x8192 (valid CRC): the old decoder ran the
  whole synthesis (3 GB with a tiny model, then an abort). In a child capped at
  3 GiB it must fail with one line naming the forged size."""
  model_dir, blob = model_and_file
  work = images_testutil.tmp_dir()
  forged = os.path.join(work, "forged.cim")
  with open(forged, "wb") as f:
    f.write(_forged(blob, 8192, 8192))
  assert os.path.getsize(forged) < 400
  proc = hardening_testutil.run_limited(
      ["-m", "compression.examples.images", "decompress",
       f"--model_dir={model_dir}", forged, os.path.join(work, "out.png")])
  line = hardening_testutil.error_line(proc)
  assert "string has" in line and "the header's size 8192x8192 is damaged or "
  "forged" in line, line
  assert not os.path.exists(os.path.join(work, "out.png"))


def test_genuine_files_pass_and_synthesis_waits_for_exact_strings(
    model_and_file):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  model_dir, blob = model_and_file
  decoder = codec.Decoder(model_dir)
  fetched = []
  run = decoder.sess.run

  class Recording:
    def run(self, fetches, feed_dict=None):
      fetched.append(fetches)
      return run(fetches, feed_dict)

  decoder.sess = Recording()
  assert decoder.decompress(blob).image.shape == (64, 64, 3)
  assert len(fetched) == 2  # Entropy decoding, then the synthesis.
  x_hat = decoder._out["x_hat"]  # pylint: disable=protected-access
  fetched.clear()
  # Sizes within the strings' bound that do not decode exactly: refused by one
  # of the checks, never synthesized.
  for height, width in ((64, 128), (128, 64), (65, 64)):
    with pytest.raises((cim.ContainerError, codec.DecodeError,
                        tf.errors.InvalidArgumentError)):
      decoder.decompress(_forged(blob, height, width))
    assert all(f is not x_hat for f in fetched), (height, width)


def test_mnz_strings_too_short_for_their_digits_are_refused(tmp_path):
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import files  # pylint: disable=g-import-not-at-top
  model_dir = mnist_testutil.trained_model()
  digits = mnist_testutil.data.load("test", mnist_testutil.data_dir())[0][:3]
  with codec.Encoder(model_dir) as encoder:
    result = encoder.compress(digits, 3)
  path = str(tmp_path / "forged.mnz")
  # The string of 3 digits, claimed to hold 65536 (CRC valid).
  mnz.write(path, mnz.pack(result["strings"], [16], 65536, 65536,
                           result["fingerprint"]))
  with pytest.raises(mnz.ContainerError, match="string 0 has .* bytes, too few "
                     "for its 65536 digits under this model"):
    files.decompress_file(model_dir, path, str(tmp_path / "out"))
  # The genuine file passes the same check.
  mnz.write(path, mnz.pack(result["strings"], [16], 3, 3, result["fingerprint"]))
  assert files.decompress_file(model_dir, path, str(tmp_path / "ok"))["count"] == 3


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
