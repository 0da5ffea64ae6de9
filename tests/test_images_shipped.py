"""Shipped image models: export from a checkpoint, compact weights, coding from them,
the quality and fingerprint lookups, and training initialised from them; also the
mbt2018-mean architecture and the learning-rate schedule."""

import json
import os
import sys

import numpy as np

import pytest

import images_testutil as util

from compression.examples.images import codec
from compression.examples.images import container
from compression.examples.images import shipped
from compression.examples.images import train


@pytest.fixture(scope="module", params=["bmshj2018", "mbt2018-mean", "bls2017"])
def exported(request):
  source = util.trained_model(request.param, steps=5)
  out = os.path.join(util.tmp_dir(), "quality_1")
  shipped.export(source, out, {"steps": 5}, log=lambda *a: None)
  return source, out


def test_export_writes_the_three_files_and_a_fingerprint(exported):
  _, out = exported
  assert shipped.is_shipped(out)
  record = shipped.record(out)
  assert len(record["fingerprint"]) == 16 and record["steps"] == 5
  with np.load(os.path.join(out, shipped.WEIGHTS_FILE)) as archive:
    names = archive.files
    assert not any("Adam" in n or n == "global_step" for n in names)
    assert not any(n.endswith(("kernel_int", "bias_int")) for n in names)
    large = [archive[n] for n in names if archive[n].size >= shipped.LARGE]
    assert all(a.dtype != np.float32 for a in large)


def test_export_of_some_qualities_keeps_the_others():
  # `shipped RUN... --qualities=2`: the run becomes quality_2; quality_1 stays.
  source = util.trained_model("bmshj2018", steps=5)
  out = util.tmp_dir()
  os.makedirs(os.path.join(out, "quality_1"))
  with open(os.path.join(out, "quality_1", "marker"), "w") as f:
    f.write("kept")
  shipped.main([source, f"--out={out}", "--qualities=2"])
  assert shipped.is_shipped(os.path.join(out, "quality_2"))
  assert shipped.record(os.path.join(out, "quality_2"))["quality"] == 2
  assert sorted(os.listdir(out)) == ["quality_1", "quality_2"]
  assert os.listdir(os.path.join(out, "quality_1")) == ["marker"]
  for bad in ("0", "2,3", "x"):
    with pytest.raises(SystemExit):
      shipped.main([source, f"--out={out}", f"--qualities={bad}"])


def test_shipped_weights_code_and_decode_exactly(exported):
  source, out = exported
  image = util.synthetic_image(100, 140, seed=7)
  encoder = codec.Encoder(out)
  encoded = encoder.compress(image)
  decoded = codec.Decoder(out).decompress(encoded.blob)
  assert decoded.image.shape == image.shape
  np.testing.assert_array_equal(decoded.y_symbols, encoded.y_symbols)
  # y_hat too, bit for bit: for mbt2018-mean it carries float means, equal here only
  # because encoder and decoder compute them in this process with the same kernels
  # (a deliberate determinism check, not a cross-machine one).
  np.testing.assert_array_equal(decoded.y_hat, encoded.y_hat)
  # Close to the float32 checkpoint's reconstruction (float16 kernels).
  reference = codec.Decoder(source).decompress(
      codec.Encoder(source).compress(image).blob).image
  assert np.mean(np.abs(decoded.image.astype(int) - reference)) < 3.
  assert f"{encoder.fingerprint:016x}" == shipped.record(out)["fingerprint"]


def test_strict_load_names_the_missing_variable(exported):
  _, out = exported
  other = util.trained_model("bls2017", steps=5)
  if shipped.record(out)["architecture"] == "bls2017":
    other = util.trained_model("bmshj2018", steps=5)
  with pytest.raises(codec.CheckpointError, match="does not fit this model"):
    config = json.load(open(os.path.join(other, "config.json")))
    folder = util.tmp_dir()
    for name in (shipped.WEIGHTS_FILE, shipped.RECORD_FILE):
      with open(os.path.join(out, name), "rb") as src, \
          open(os.path.join(folder, name), "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(folder, "config.json"), "w") as f:
      json.dump(config, f)
    codec.Encoder(folder)


def test_quality_and_fingerprint_lookup(exported, monkeypatch):
  _, out = exported
  monkeypatch.setattr(shipped, "MODELS_DIR", os.path.dirname(out))
  assert shipped.qualities() == [1]
  assert shipped.default_quality() == 1
  assert shipped.model_dir(1) == out
  with pytest.raises(shipped.ShippedModelError, match="shipped qualities"):
    shipped.model_dir(9)
  fingerprint = int(shipped.record(out)["fingerprint"], 16)
  assert shipped.model_dir_for_fingerprint(fingerprint) == out
  with pytest.raises(shipped.ShippedModelError, match="no shipped model"):
    shipped.model_dir_for_fingerprint(fingerprint ^ 1)


def test_training_starts_from_a_shipped_model(exported):
  _, out = exported
  architecture = shipped.record(out)["architecture"]
  model_dir = util.tmp_dir()
  lines = []
  train.train(util.tiny_config(model_dir, architecture, num_steps=1, log_every=1,
                               checkpoint_every=1, init_from=out, lmbda=.02),
              log=lines.append)
  assert any("initialised" in line for line in lines)
  # The new run records where it started, so its export counts the steps and
  # CPU time that made the weights it started from (5 steps, the fixture's record).
  parent = shipped.training_totals(out)
  assert parent[0] == 5
  with open(os.path.join(model_dir, shipped.INIT_FROM_FILE)) as f:
    origin = json.load(f)
  assert origin["from"] == os.path.abspath(out) and origin["steps"] == 5
  steps, cpu_hours = shipped.training_totals(model_dir)
  assert steps == 1 + 5 and cpu_hours > parent[1]
  models = util.tmp_dir()
  shipped.main([model_dir, f"--out={models}"])
  assert shipped.record(os.path.join(models, "quality_1"))["steps"] == 6


def test_derive_integer_is_exact_power_of_two_scaling():
  kernel = np.float32([[.5, -.25], [1e-3, 3.]])
  bias = np.float32([.1, -2.])
  k, b = shipped.derive_integer(kernel, bias, 10, 8)
  np.testing.assert_array_equal(k, np.round(kernel.astype(np.float64) * 1024))
  np.testing.assert_array_equal(b, np.round(bias.astype(np.float64) * 2. ** 18))


def test_mbt2018_mean_files_use_format_version_2():
  model_dir = util.trained_model("mbt2018-mean", steps=5)
  blob = codec.Encoder(model_dir).compress(util.synthetic_image(64, 64, 1)).blob
  assert blob[4] == 2 and blob[5] == 3
  assert container.unpack(blob).architecture == "mbt2018-mean"
  forged = bytearray(blob)
  forged[4] = 1  # architecture 3 cannot be in a version 1 file
  with pytest.raises(container.ContainerError, match="architecture code 3"):
    container.unpack(bytes(forged))


@pytest.mark.parametrize("step,expected", [
    (0, 1e-3 / 10), (9, 1e-3), (50, 1e-3), (79, 1e-3), (99, 1e-5)])
def test_learning_rate_schedule(step, expected):
  config = train.TrainConfig(model_dir="", num_steps=100, learning_rate=1e-3,
                             warmup_steps=10, decay_last=.2,
                             final_learning_rate=1e-5)
  assert train.learning_rate_at(step, config) == pytest.approx(expected)
  assert train.learning_rate_at(90, config) < 1e-3


# -- The models shipped in the package. ---------------------------------------------

def test_the_package_ships_at_least_four_qualities_with_records():
  found = shipped.qualities()
  assert len(found) >= 4 and found == list(range(1, len(found) + 1))
  total = 0
  for quality in found:
    folder = shipped.model_dir(quality)
    record = shipped.record(folder)
    for key in ("architecture", "lambda", "steps", "cpu_hours", "data",
                "held_out", "fingerprint"):
      assert key in record, (quality, key)
  # Every file under models/ (the legacy, decode-only models too).
  total = sum(os.path.getsize(os.path.join(root, f))
              for root, _, files in os.walk(shipped.MODELS_DIR) for f in files)
  assert total <= 40 * 10 ** 6  # the wheel's budget for models (issue 22)
  lambdas = [shipped.record(shipped.model_dir(q))["lambda"] for q in found]
  assert lambdas == sorted(lambdas)


def test_cli_compress_and_decompress_with_shipped_models_only(tmp_path):
  import subprocess
  import sys
  from compression.examples.images import data
  image = util.synthetic_image(96, 120, seed=3)
  source = tmp_path / "photo.png"
  data.write_png(str(source), image)
  env = dict(os.environ, PYTHONPATH=util.ROOT)
  run = lambda *args: subprocess.run(
      [sys.executable, "-m", "compression.examples.images", *args],
      cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
  low = run("compress", "--quality=1", "photo.png", "q1.cim")
  assert low.returncode == 0, low.stderr
  default = run("compress", "photo.png", "default.cim")
  assert default.returncode == 0, default.stderr
  assert (tmp_path / "q1.cim").stat().st_size < (tmp_path / "default.cim").stat().st_size
  for name in ("q1", "default"):
    out = run("decompress", f"{name}.cim", f"{name}.png")
    assert out.returncode == 0, out.stderr
    decoded = data.read_image(str(tmp_path / f"{name}.png"))
    assert decoded.shape == image.shape
  wrong = run("decompress", f"--quality={shipped.qualities()[-1]}", "q1.cim", "x.png")
  assert wrong.returncode == 1 and "fingerprint" in wrong.stderr


def test_legacy_models_are_found_by_fingerprint():
  """Models replaced by a newer set (models/legacy/, decode-only) are found by
  fingerprint: `decompress` of a file written with one needs no --model_dir
  (test_images_legacy.py decodes such a file, kept in tests/data/)."""
  legacy = shipped.legacy_dirs()
  assert legacy, "the replaced bmshj2018 set ships in models/legacy"
  current = {shipped.record(shipped.model_dir(q))["fingerprint"]
             for q in shipped.qualities()}
  for folder in legacy:
    fingerprint = shipped.record(folder)["fingerprint"]
    assert fingerprint not in current
    assert shipped.model_dir_for_fingerprint(int(fingerprint, 16)) == folder
    assert shipped.decode_only(folder)


def test_demo_command_prints_the_table_beside_jpeg(tmp_path):
  import subprocess
  import sys
  out = subprocess.run(
      [sys.executable, "-m", "compression.examples.images", "demo",
       f"--output_dir={tmp_path}"], cwd=util.ROOT,
      env=dict(os.environ, PYTHONPATH=util.ROOT), capture_output=True, text=True,
      timeout=600)
  assert out.returncode == 0, out.stderr
  rows = [l.split() for l in out.stdout.splitlines()
          if l.strip() and l.split()[0].isdigit()]
  assert [int(r[0]) for r in rows] == shipped.qualities()
  for r in rows:
    assert int(r[6]) <= int(r[1])  # JPEG not larger than the .cim file
  assert "mean PSNR against JPEG at the same size" in out.stdout
  for q in shipped.qualities():
    assert (tmp_path / f"quality_{q}.cim").is_file()
    assert (tmp_path / f"quality_{q}.png").is_file()


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
