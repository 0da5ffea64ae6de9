"""beam_compress / beam_decompress on the DirectRunner, 2 worker processes.

The guarantees of the Beam commands against the single-process commands
with the same checkpoint: every key exactly once, byte-identical strings,
identical decoded images, bad records in the dead letters with their keys
(the rest unaffected), and one model load per worker.

The pipelines run once per module (each one starts two worker processes
that import TensorFlow); the tests check their outputs.
"""

import glob
import os
import re
import struct
import sys

import numpy as np
import pytest

import mnist_testutil
from compression.examples.mnist import beam_codecs
from compression.examples.mnist import beam_pipeline
from compression.examples.mnist import container
from compression.examples.mnist import data
from compression.examples.mnist import images

COUNT = 120  # Test digits compressed by both paths.
WORKERS = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
GOOD_PNGS = 6  # Test digits 0..5 written as PNG files.


def read_tfrecords(pattern):
  """The records of the TFRecord files matching `pattern` (framing only)."""
  records = []
  for path in sorted(glob.glob(pattern)):
    with open(path, "rb") as f:
      raw = f.read()
    pos = 0
    while pos < len(raw):
      (length,) = struct.unpack("<Q", raw[pos:pos + 8])
      records.append(raw[pos + 12:pos + 12 + length])
      pos += 12 + length + 4
  return records


def write_tfrecords(path, records):
  from apache_beam.io import tfrecordio  # pylint: disable=g-import-not-at-top
  with open(path, "wb") as f:
    for record in records:
      tfrecordio._TFRecordUtil.write_record(f, record)  # pylint: disable=protected-access


def dead_letters(pattern):
  """{key: message} of the dead-letter text files matching `pattern`."""
  letters = {}
  for path in glob.glob(pattern):
    with open(path) as f:
      for line in f:
        key, message = line.rstrip("\n").split("\t", 1)
        assert key not in letters, f"{key} twice in the dead letters"
        letters[key] = message
  return letters


def counters(stdout):
  """The `counters:` line the commands print, as a dict."""
  line = [l for l in stdout.splitlines() if l.startswith("counters: ")][-1]
  return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def run(*args):
  """Runs a command in a fresh process; its counters (Beam commands)."""
  proc = mnist_testutil.run_cli(*args)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return counters(proc.stdout) if args[0].startswith("beam_") else None


@pytest.fixture(scope="module")
def runs():
  """Runs the single-process and Beam commands once; their outputs."""
  model = mnist_testutil.trained_model()
  env_data = ["--data_dir=" + mnist_testutil.data_dir()]
  work = mnist_testutil.tmp_dir()
  out = {"model": model, "work": work}
  # Single process, one string per digit.
  mnz = os.path.join(work, "single.mnz")
  run("compress", "--model_dir=" + model, "--output=" + mnz,
      f"--count={COUNT}", "--per_digit_strings", *env_data)
  run("decompress", "--model_dir=" + model, "--input=" + mnz,
      "--output_dir=" + os.path.join(work, "single"))
  out["strings"] = container.read(mnz).strings
  # Beam, the same digits.
  out["compress"] = run(
      "beam_compress", "--model_dir=" + model, f"--count={COUNT}",
      "--output=" + os.path.join(work, "beam"), *env_data, *WORKERS)
  # Beam, PNG files: test digits 0..5 and two files that are no digit.
  pngs = os.path.join(work, "pngs")
  digits, _ = data.load("test", mnist_testutil.data_dir())
  for i in range(GOOD_PNGS):
    images.write_png(os.path.join(pngs, f"d{i}.png"), digits[i])
  with open(os.path.join(pngs, "broken.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\nnot a png at all")
  images.write_png(os.path.join(pngs, "big.png"), np.zeros([30, 30], np.uint8))
  out["png"] = run(
      "beam_compress", "--model_dir=" + model, "--png=" + pngs + "/*.png",
      "--output=" + os.path.join(work, "from_png", "png"), *WORKERS)
  # Bad records beside the good ones: not exact, foreign tables, wrong latent
  # shape, no tf.train.Example at all.
  records = {beam_codecs.parse_compressed_record(r)[0]: r
             for r in read_tfrecords(os.path.join(work, "beam-*.tfrecord"))}
  _, string, shape, fingerprint = beam_codecs.parse_compressed_record(
      records["test_00003"])
  write_tfrecords(os.path.join(work, "bad.tfrecord"), [
      beam_codecs.compressed_record("bad_exact", string + b"\x00\x07", shape,
                                    fingerprint),
      beam_codecs.compressed_record("bad_fingerprint", string, shape,
                                    fingerprint ^ 1),
      beam_codecs.compressed_record("bad_shape", string, [shape[0] + 1],
                                    fingerprint),
      b"\x01\x02garbage"])
  out["decompress"] = run(
      "beam_decompress", "--model_dir=" + model,
      "--input=" + os.path.join(work, "*.tfrecord"),
      "--output=" + os.path.join(work, "decoded"), *WORKERS)
  return out


def test_every_key_exactly_once(runs):
  keys = [beam_codecs.parse_compressed_record(r)[0] for r in
          read_tfrecords(os.path.join(runs["work"], "beam-*.tfrecord"))]
  assert sorted(keys) == [beam_pipeline.digit_key("test", i)
                          for i in range(COUNT)]
  assert runs["compress"]["elements_out"] == COUNT
  assert runs["compress"]["dead_letters"] == 0
  assert not dead_letters(os.path.join(runs["work"], "beam-dead-letter-*"))


def test_strings_byte_identical_to_single_process(runs):
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  with codec.Encoder(runs["model"]) as encoder:
    expected_fingerprint = encoder.fingerprint()
  records = read_tfrecords(os.path.join(runs["work"], "beam-*.tfrecord"))
  assert len(records) == COUNT
  for record in records:
    key, string, shape, fingerprint = beam_codecs.parse_compressed_record(
        record)
    index = int(key.split("_")[1])
    assert string == runs["strings"][index], key
    assert shape == [codec.load_latent_dims(runs["model"])]
    assert fingerprint == expected_fingerprint
  assert runs["compress"]["bytes_out"] == sum(len(s) for s in runs["strings"])


def test_decoded_images_identical_to_single_process(runs):
  for i in range(COUNT):
    beam_png = os.path.join(runs["work"], "decoded", beam_pipeline.png_file_name(
        beam_pipeline.digit_key("test", i)))
    single_png = os.path.join(runs["work"], "single", f"digit_{i:04d}.png")
    np.testing.assert_array_equal(images.read_png(beam_png),
                                  images.read_png(single_png), err_msg=beam_png)
  assert runs["decompress"]["elements_out"] == COUNT


def test_bad_pngs_go_to_dead_letters_rest_unaffected(runs):
  letters = dead_letters(os.path.join(runs["work"], "from_png",
                                      "png-dead-letter-*"))
  assert sorted(letters) == ["big", "broken"]
  assert "30x30, expected 28x28" in letters["big"]
  assert "cannot read as an image" in letters["broken"]
  strings = {key: string for key, string, _, _ in map(
      beam_codecs.parse_compressed_record,
      read_tfrecords(os.path.join(runs["work"], "from_png",
                                  "png-*.tfrecord")))}
  assert strings == {f"d{i}": runs["strings"][i] for i in range(GOOD_PNGS)}
  assert runs["png"]["dead_letters"] == 2
  assert runs["png"]["elements_in"] == GOOD_PNGS + 2


def test_bad_records_go_to_dead_letters_rest_unaffected(runs):
  letters = dead_letters(os.path.join(runs["work"], "decoded",
                                      "dead-letter-*"))
  garbage = [k for k in letters if "#unreadable-" in k]
  assert len(garbage) == 1 and garbage[0].startswith(
      os.path.join(runs["work"], "bad.tfrecord"))
  assert "not a tf.train.Example" in letters[garbage[0]]
  assert sorted(set(letters) - set(garbage)) == [
      "bad_exact", "bad_fingerprint", "bad_shape"]
  assert "not exact encodings" in letters["bad_exact"]
  assert "fingerprint" in letters["bad_fingerprint"]
  assert "latent shape" in letters["bad_shape"]
  decoded = sorted(os.listdir(os.path.join(runs["work"], "decoded")))
  pngs = [name for name in decoded if name.endswith(".png")]
  assert pngs == [beam_pipeline.png_file_name(beam_pipeline.digit_key(
      "test", i)) for i in range(COUNT)]
  assert runs["decompress"]["dead_letters"] == 4


@pytest.mark.parametrize("name", ["compress", "png", "decompress"])
def test_model_loaded_once_per_worker(runs, name):
  # Two worker processes: at most two loads, however many elements.
  assert 1 <= runs[name]["model_loads"] <= 2, runs[name]
  assert runs[name]["elements_in"] > 2 * runs[name]["model_loads"]


def test_decompress_to_tfrecords_in_process(runs):
  """--output_format=tfrecord, the in-memory DirectRunner in this process."""
  output = os.path.join(runs["work"], "decoded_records")
  result = beam_pipeline.decompress(
      runs["model"], os.path.join(runs["work"], "beam-*.tfrecord"), output,
      ["--direct_running_mode=in_memory", "--direct_num_workers=1"],
      output_format="tfrecord", log=lambda *a: None)
  assert result["elements_out"] == COUNT and result["model_loads"] <= 1
  decoded = dict(map(beam_codecs.parse_decoded_record,
                     read_tfrecords(output + "-*.tfrecord")))
  assert sorted(decoded) == [beam_pipeline.digit_key("test", i)
                             for i in range(COUNT)]
  for i in range(COUNT):
    single_png = os.path.join(runs["work"], "single", f"digit_{i:04d}.png")
    np.testing.assert_array_equal(
        decoded[beam_pipeline.digit_key("test", i)],
        images.read_png(single_png))


def test_unknown_flag_is_one_line_error():
  proc = mnist_testutil.run_cli("beam_compress", "--output=/tmp/x",
                                "--no_such_option=1")
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert lines[-1].startswith("error: unknown flag(s) --no_such_option"), (
      proc.stderr)


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
