"""MNIST example: one-line errors, bounded work, fingerprints, lazy imports."""

import os
import struct
import sys
import textwrap
import zlib

import numpy as np
import pytest
from PIL import Image
from PIL import ImageFile

import mnist_testutil
from compression.examples.mnist import codec
from compression.examples.mnist import commands
from compression.examples.mnist import container
from compression.examples.mnist import data
from compression.examples.mnist import files
from compression.examples.mnist import images


def _run_in_process(capsys, *args):
  """commands.main in this process: (exit code, stderr)."""
  with pytest.raises(SystemExit) as e:
    commands.main(["prog"] + list(args))
  _, err = capsys.readouterr()
  return e.value.code, err


def _assert_one_line_error(code, err, *words):
  assert code == 1
  lines = err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: "), err
  for word in words:
    assert word in lines[0]


def _mnz(tmp_path):
  path = str(tmp_path / "in.mnz")
  container.write(path, container.pack([b"\x11" * 4], [16]))
  return path


def test_bad_output_paths_are_one_line(capsys, tmp_path):
  a_file = str(tmp_path / "a_file")
  open(a_file, "w").close()
  mnz = _mnz(tmp_path)
  model = f"--model_dir={tmp_path}/none"
  cases = [
      (["decompress", f"--input={mnz}", f"--output_dir={a_file}", model],
       ["--output_dir", "is not a directory"]),
      (["decompress", f"--input={mnz}", f"--output_dir={tmp_path}/o",
        f"--grid={a_file}/sub/grid.png", model], ["--grid", "is a file"]),
      (["compress", f"--output={tmp_path}", model], ["--output", "directory"]),
      (["sample", f"--output={tmp_path}", model], ["--output", "directory"]),
      (["evaluate", f"--output={tmp_path}", model], ["--output", "directory"]),
      (["compress", f"--output={tmp_path}/x.mnz", f"--latents_out={tmp_path}",
        model], ["--latents_out", "directory"]),
      (["decompress", f"--input={mnz}", f"--output_dir={tmp_path}/o",
        f"--latents_out={tmp_path}/lat", model], ["must end in .npy"]),
      (["sample", "--num_bytes=4000000000", model],
       ["--num_bytes must be at most 4096"]),
      (["train", "--latent_dims=1000000000", model],
       ["--latent_dims must be in 1..4096"]),
      (["decompress", "--input=/dev/zero", f"--output_dir={tmp_path}/o",
        model], ["/dev/zero is a character device, not a regular file"]),
  ]
  for args, words in cases:
    _assert_one_line_error(*_run_in_process(capsys, *args), *words)


@pytest.mark.parametrize("text,words", [
    ("{not json", ["not valid JSON"]),
    ('{"latent_dims": "50"}', ["latent_dims must be an integer", "'50'"]),
    ('{"latent_dims": -3}', ["latent_dims must be in 1..4096", "-3"]),
    ('{"latent_dims": 1000000000}', ["latent_dims must be in 1..4096"]),
    ("[1, 2]", ["expected a JSON object"]),
])
def test_bad_config_is_one_line(capsys, tmp_path, text, words):
  model_dir = tmp_path / "model"
  model_dir.mkdir()
  (model_dir / "config.json").write_text(text)
  code, err = _run_in_process(
      capsys, "decompress", f"--input={_mnz(tmp_path)}",
      f"--output_dir={tmp_path}/o", f"--model_dir={model_dir}")
  _assert_one_line_error(code, err, "config.json", *words)


def _png_claiming(path, width, height):
  """A small PNG whose header claims width x height."""
  Image.new("L", (28, 28)).save(path)
  raw = bytearray(open(path, "rb").read())
  # IHDR data starts at byte 16: width, height; its CRC covers type + data.
  raw[16:24] = struct.pack(">II", width, height)
  raw[29:33] = struct.pack(">I", zlib.crc32(bytes(raw[12:29])))
  open(path, "wb").write(bytes(raw))


def test_png_size_is_checked_from_the_header(tmp_path, monkeypatch):
  path = str(tmp_path / "huge.png")
  _png_claiming(path, 12000, 12000)
  decoded = []
  monkeypatch.setattr(ImageFile.ImageFile, "load",
                      lambda self: decoded.append(1))
  with pytest.raises(images.ImageError, match="12000x12000, expected 28x28"):
    images.read_png(path)
  assert not decoded  # Refused before any pixel was decoded.
  with open(path, "ab") as f:
    f.write(bytes(images.MAX_PNG_BYTES))
  with pytest.raises(images.ImageError, match="more than"):
    images.read_png(path)


def test_op_error_message_keeps_the_ops_words():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  graph = tf.Graph()
  with graph.as_default():
    x = tf.compat.v1.placeholder(tf.int32, [])
    check = tf.debugging.assert_positive(x, message="tables are empty: rule 7")
    with tf.control_dependencies([check]):
      y = tf.identity(x)
    with tf.compat.v1.Session() as sess:
      with pytest.raises(tf.errors.InvalidArgumentError) as e:
        sess.run(y, {x: -4})
  assert "Graph execution error" in e.value.message
  line = commands.op_error_message(e.value)
  assert "\n" not in line and "tables are empty: rule 7" in line
  assert "-4" in line
  assert "Graph execution" not in line and "[[" not in line
  assert "Detected at node" not in line and "File " not in line


def test_fingerprint_mismatch_is_refused(tmp_path):
  model_dir = mnist_testutil.trained_model()
  digits = data.load("test", mnist_testutil.data_dir())[0][:3]
  mnz = str(tmp_path / "d.mnz")
  result = files.compress_digits(model_dir, digits, mnz)
  contents = container.read(mnz)
  container.write(mnz, container.pack(
      contents.strings, [16], 3, 3, result["fingerprint"] ^ 1))
  with pytest.raises(container.ContainerError, match="fingerprint"):
    files.decompress_file(model_dir, mnz, str(tmp_path / "out"))
  # A version-1 file (no fingerprint) of per-digit strings still decodes.
  with codec.Encoder(model_dir) as encoder:
    strings = encoder.compress(digits)["strings"]
  body = b"MNZ1\x01\x01" + struct.pack(">II", 16, 3) + b"".join(
      container.encode_varint(len(s)) + s for s in strings)
  with open(mnz, "wb") as f:
    f.write(body + struct.pack(">I", zlib.crc32(body)))
  assert files.decompress_file(model_dir, mnz, str(tmp_path / "v1"))[
      "count"] == 3


def test_decompress_streams_in_batches(tmp_path, monkeypatch):
  model_dir = mnist_testutil.trained_model()
  digits = data.load("test", mnist_testutil.data_dir())[0][:1]
  with codec.Encoder(model_dir) as encoder:
    result = encoder.compress(digits)
  n = 1100  # One short string repeated: a small file of many digits.
  mnz = str(tmp_path / "many.mnz")
  container.write(mnz, container.pack(result["strings"] * n, [16], n, 1,
                                      result["fingerprint"]))
  sizes = []
  synthesize = codec.Decoder.synthesize
  monkeypatch.setattr(codec.Decoder, "synthesize", lambda self, y: (
      sizes.append(len(y)), synthesize(self, y))[1])
  out = tmp_path / "out"
  files.decompress_file(model_dir, mnz, str(out), str(tmp_path / "grid.png"),
                        str(tmp_path / "lat.npy"), batch_size=400)
  assert sizes == [400, 400, 300]
  assert len(os.listdir(out)) == n
  latents = np.load(str(tmp_path / "lat.npy"))
  assert latents.shape == (n, 16)
  np.testing.assert_array_equal(latents, np.repeat(result["latents"], n, 0))
  grid = Image.open(str(tmp_path / "grid.png"))
  assert grid.size == (2 * (32 * 30 + 2),) * 2  # The first 1024 digits.


def test_tampered_checkpoint_error_is_the_ops_message(tmp_path):
  model_dir = mnist_testutil.trained_model()

  def damage(values):
    name = next(n for n in values if n.endswith("cdf_length"))
    values[name][0] = 1  # Below the 2 entries a table needs.

  tampered = mnist_testutil.tampered_model(model_dir, damage)
  proc = mnist_testutil.run_cli(
      "compress", f"--model_dir={tampered}", f"--output={tmp_path}/x.mnz",
      "--count=2", env={"MNIST_DIR": mnist_testutil.data_dir()})
  assert proc.returncode == 1
  # TensorFlow's C++ logging may print lines of its own before ours.
  line = proc.stderr.strip().splitlines()[-1]
  assert line.startswith("error: TensorFlow InvalidArgumentError: "), line
  assert "Traceback" not in proc.stderr and proc.stderr.count("error:") == 1
  assert "Graph execution" not in line and "[[" not in line
  assert "do not match their stored fingerprint" in line


def _table(values, suffix):
  return values[next(n for n in values if n.endswith("/" + suffix))]


def _short_cdf_length(values):
  _table(values, "cdf_length")[0] = 1


def _zero_width_escape(values):
  m = _table(values, "cdf_length")[0] - 1
  row = _table(values, "cdf")[0]
  row[m - 1] = row[m]


@pytest.mark.parametrize("damage,words", [
    (_short_cdf_length, ["cdf_length[0] = 1 must lie in [2, "]),
    (_zero_width_escape, ["gives its escape symbol", "zero width"]),
])
def test_damaged_tables_give_the_kernels_message(capsys, tmp_path, damage,
                                                 words):
  model_dir = mnist_testutil.trained_model()
  # The fingerprint is recomputed: the kernel's own validation must catch it.
  tampered = mnist_testutil.tampered_model(model_dir, damage,
                                           refingerprint=True)
  code, err = _run_in_process(
      capsys, "compress", f"--model_dir={tampered}",
      f"--output={tmp_path}/x.mnz", "--count=2",
      f"--data_dir={mnist_testutil.data_dir()}")
  _assert_one_line_error(code, err, "error: TensorFlow InvalidArgumentError",
                         *words)
  assert "Graph execution" not in err and "[[" not in err


def test_both_modes_round_trip(tmp_path):
  model_dir = mnist_testutil.trained_model()
  digits = data.load("test", mnist_testutil.data_dir())[0][:5]
  decoded = {}
  for per_digit in (False, True):
    mnz = str(tmp_path / f"{per_digit}.mnz")
    result = files.compress_digits(model_dir, digits, mnz,
                                   per_digit_strings=per_digit)
    contents = container.read(mnz)
    assert len(contents.strings) == (5 if per_digit else 1)
    assert contents.digits_per_string == (1 if per_digit else 5)
    out = tmp_path / f"out_{per_digit}"
    files.decompress_file(model_dir, mnz, str(out),
                          latents_out=str(tmp_path / f"{per_digit}.npy"))
    np.testing.assert_array_equal(np.load(str(tmp_path / f"{per_digit}.npy")),
                                  result["latents"])
    decoded[per_digit] = [open(str(out / files.png_name(i)), "rb").read()
                          for i in range(5)]
  assert decoded[False] == decoded[True]


def test_report_redraws_the_plot_and_tabulates_files(capsys, tmp_path):
  from compression.examples.mnist import sweep  # pylint: disable=g-import-not-at-top
  row = {c: 1.0 for c in sweep.COLUMNS}
  sweep.write_tables([dict(row, coded_bits_per_digit=12.0, mae=0.07)],
                     str(tmp_path))
  (tmp_path / "lambda_300").mkdir()
  (tmp_path / "lambda_300" / "evaluation.json").write_text(
      '{"estimated_bits_per_digit": 8.0, "files": {"digits_per_file": 1000, '
      '"files": 10, "shared_coded_bits_per_digit": 8.04, '
      '"shared_file_bytes_per_digit": 1.01, '
      '"per_digit_file_bytes_per_digit": 2.4}}')
  with pytest.raises(SystemExit) as e:
    commands.main(["prog", "report", f"--sweep_dir={tmp_path}"])
  assert not e.value.code
  assert (tmp_path / "rate_distortion.png").stat().st_size > 0
  table = (tmp_path / "files.md").read_text()
  assert "Files of 1000 test digits" in table
  assert "| 300 | 8.00 | 8.04 | 1.010 | 2.400 | +1.0% |" in table
  code, err = _run_in_process(capsys, "report", f"--sweep_dir={tmp_path}/x")
  _assert_one_line_error(code, err, "no sweep.csv")


def test_training_needs_no_pillow_or_matplotlib(tmp_path):
  script = textwrap.dedent(f"""
      import sys
      sys.modules["PIL"] = None
      sys.modules["matplotlib"] = None
      from compression.examples.mnist import commands, images
      try:
        commands.main(["prog", "train", "--steps=2", "--batch_size=8",
                       "--train_size=64", "--test_size=16", "--latent_dims=4",
                       "--data_dir={mnist_testutil.data_dir()}",
                       "--model_dir={tmp_path}/m"])
      except SystemExit as e:
        assert not e.code, e.code
      try:
        images.write_png("{tmp_path}/x.png", images.np.zeros([28, 28]))
      except images.errors.MissingDependencyError as e:
        print("MISSING:", e)
      """)
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [mnist_testutil.ROOT, os.environ.get("PYTHONPATH", "")]))
  import subprocess  # pylint: disable=g-import-not-at-top
  proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=str(
      tmp_path), capture_output=True, text=True, timeout=600, check=False)
  assert proc.returncode == 0, proc.stderr
  assert "done: 2 steps" in proc.stdout
  assert os.path.exists(f"{tmp_path}/m/config.json")
  assert "MISSING:" in proc.stdout
  assert "pip install learned-compression[examples]" in proc.stdout
  assert "pip install pillow matplotlib" in proc.stdout


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
