"""MNIST example: --prior=deep_factorized|noisy_logistic (config.json "prior")."""

import json
import os
import shutil
import sys

import numpy as np

import pytest
import tensorflow as tf

import mnist_testutil
from compression.examples.mnist import codec
from compression.examples.mnist import config
from compression.examples.mnist import container
from compression.examples.mnist import data
from compression.examples.mnist import errors
from compression.examples.mnist import evaluate
from compression.examples.mnist import priors
from compression.examples.mnist import sweep


def _noisy_logistic_model():
  return mnist_testutil.trained_model(prior="noisy_logistic")


def _one_line_error(proc, *words):
  assert proc.returncode == 1, proc.stdout + proc.stderr
  # TensorFlow's own start-up lines (oneDNN notices) may come first.
  lines = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
  for word in words:
    assert word in lines[0], lines[0]


def test_noisy_logistic_checkpoint_has_trained_scales_and_tables():
  model_dir = _noisy_logistic_model()
  assert config.read(model_dir)["prior"] == "noisy_logistic"
  reader = tf.train.load_checkpoint(
      tf.compat.v1.train.latest_checkpoint(model_dir))
  names = reader.get_variable_to_shape_map()
  # No EntropyBottleneck in this model; the prior's scale, one per dimension.
  assert not [n for n in names if n.startswith("entropy_bottleneck")]
  scale = reader.get_tensor(priors.SCALE_VARIABLE)
  initial = np.linspace(*priors.INITIAL_SCALES, 16, dtype=np.float32)
  assert scale.shape == (16,)
  assert not np.array_equal(scale, initial)  # Trained by the main loss.
  # The update op ran before the save: non-empty tables, one row per table
  # scale, with their fingerprint.
  lengths = reader.get_tensor("noisy_logistic/cdf_length")
  assert lengths.shape == (64,) and (lengths >= 3).all()
  assert reader.get_tensor("noisy_logistic/table_fingerprint") != 0


@pytest.mark.parametrize("per_digit", [False, True])
def test_noisy_logistic_round_trip_in_two_processes(per_digit):
  model_dir = _noisy_logistic_model()
  out = mnist_testutil.tmp_dir()
  mnz = os.path.join(out, "digits.mnz")
  proc = mnist_testutil.run_cli(
      "compress", f"--model_dir={model_dir}", f"--output={mnz}", "--start=5",
      "--count=9", f"--latents_out={out}/enc.npy",
      *(["--per_digit_strings"] if per_digit else []),
      env={"MNIST_DIR": mnist_testutil.data_dir()})
  assert proc.returncode == 0, proc.stderr
  proc = mnist_testutil.run_cli(
      "decompress", f"--model_dir={model_dir}", f"--input={mnz}",
      f"--output_dir={out}/png", f"--latents_out={out}/dec.npy")
  assert proc.returncode == 0, proc.stderr
  encoded, decoded = np.load(f"{out}/enc.npy"), np.load(f"{out}/dec.npy")
  assert encoded.shape == (9, 16)
  np.testing.assert_array_equal(decoded, encoded)
  # Mean 0: the coded latents are integers.
  np.testing.assert_array_equal(encoded, np.round(encoded))

  contents = container.read(mnz)
  assert len(contents.strings) == (9 if per_digit else 1)
  digits = data.load("test", mnist_testutil.data_dir())[0][5:14]
  with codec.Encoder(model_dir) as encoder:
    assert encoder.prior_name == "noisy_logistic"
    assert contents.fingerprint == encoder.fingerprint()
    here = encoder.compress(digits, 1 if per_digit else 9)
  assert here["strings"] == contents.strings
  np.testing.assert_array_equal(here["latents"], encoded)
  with codec.Decoder(model_dir) as decoder:
    assert decoder.fingerprint() == contents.fingerprint
    _, latents = decoder.decompress(contents.strings, 9,
                                    1 if per_digit else 9)
  np.testing.assert_array_equal(latents, encoded)


def test_fingerprint_is_the_prior_in_use():
  with codec.Encoder(_noisy_logistic_model()) as encoder:
    logistic = encoder.fingerprint()
  with codec.Encoder(mnist_testutil.trained_model()) as encoder:
    assert encoder.prior_name == "deep_factorized"
    factorized = encoder.fingerprint()
  assert logistic != factorized
  # A file of one prior is refused by a model of the other.
  out = mnist_testutil.tmp_dir()
  mnz = os.path.join(out, "digits.mnz")
  proc = mnist_testutil.run_cli(
      "compress", f"--model_dir={_noisy_logistic_model()}", f"--output={mnz}",
      "--count=3", env={"MNIST_DIR": mnist_testutil.data_dir()})
  assert proc.returncode == 0, proc.stderr
  _one_line_error(mnist_testutil.run_cli(
      "decompress", f"--model_dir={mnist_testutil.trained_model()}",
      f"--input={mnz}", f"--output_dir={out}/png"), "fingerprint")


def test_noisy_logistic_evaluate_round_trips_and_estimates():
  summary, _ = evaluate.evaluate(_noisy_logistic_model(),
                                 mnist_testutil.data_dir(), test_size=40,
                                 digits_per_file=16)
  assert summary["prior"] == "noisy_logistic"
  assert summary["latents_round_trip_exact"]
  assert summary["count"] == 40
  # Real strings cost at least the estimate less a few bits of rounding, and
  # not absurdly more (table scales at most one table step below the learned
  # ones, plus the range coder's final bytes).
  coded, estimated = (summary["coded_bits_per_digit"],
                      summary["estimated_bits_per_digit"])
  assert estimated - 8 < coded < 1.5 * estimated + 40, (coded, estimated)
  assert summary["files"]["files"] == 3


def test_bad_prior_is_refused_on_one_line(tmp_path):
  _one_line_error(mnist_testutil.run_cli(
      "train", f"--model_dir={tmp_path}/m", "--prior=gaussian", "--steps=1"),
      "--prior", "deep_factorized, noisy_logistic", "'gaussian'")
  assert not os.path.exists(f"{tmp_path}/m")
  _one_line_error(mnist_testutil.run_cli(
      "sweep", f"--output_dir={tmp_path}/s", "--prior=", "--steps=1"),
      "--prior", "''")
  # A config.json naming an unknown prior: compress refuses it, naming it.
  model_dir = str(tmp_path / "bad")
  shutil.copytree(mnist_testutil.trained_model(), model_dir)
  with open(os.path.join(model_dir, config.CONFIG_FILE), "w") as f:
    json.dump({"latent_dims": 16, "lambda": 2000.0, "prior": "laplace"}, f)
  _one_line_error(mnist_testutil.run_cli(
      "compress", f"--model_dir={model_dir}", f"--output={tmp_path}/x.mnz",
      "--count=2", env={"MNIST_DIR": mnist_testutil.data_dir()}),
      "config.json", "prior", "'laplace'")
  with pytest.raises(errors.InputError, match="prior must be one of"):
    config.write(str(tmp_path / "w"), 16, 1.0, prior="laplace")


def test_config_without_prior_reads_as_deep_factorized(tmp_path):
  model_dir = str(tmp_path / "old")
  shutil.copytree(mnist_testutil.trained_model(), model_dir)
  # What `train` wrote before the prior existed.
  with open(os.path.join(model_dir, config.CONFIG_FILE), "w") as f:
    json.dump({"latent_dims": 16, "lambda": 2000.0}, f)
  assert config.read(model_dir) == {"latent_dims": 16, "lambda": 2000.0,
                                    "prior": "deep_factorized"}
  digits = data.load("test", mnist_testutil.data_dir())[0][:4]
  with codec.Encoder(mnist_testutil.trained_model()) as encoder:
    expected = encoder.compress(digits)
  with codec.Encoder(model_dir) as encoder:
    assert encoder.prior_name == "deep_factorized"
    assert encoder.compress(digits)["strings"] == expected["strings"]


def _fake_run(model_dir, prior, lmbda, coded):
  os.makedirs(model_dir)
  config.write(model_dir, 16, lmbda, prior)
  with open(os.path.join(model_dir, evaluate.EVALUATION_FILE), "w") as f:
    json.dump({"coded_bits_per_digit": coded,
               "estimated_bits_per_digit": coded - 1, "mae": 0.05,
               "psnr": 16.0, "files": {
                   "digits_per_file": 1000, "files": 10,
                   "shared_coded_bits_per_digit": coded - 0.9,
                   "shared_file_bytes_per_digit": (coded - 0.8) / 8,
                   "per_digit_file_bytes_per_digit": coded / 8 + 1}}, f)
  with open(os.path.join(model_dir, "metrics.json"), "w") as f:
    json.dump({"steps": 7020, "wall_seconds": 300.0, "steps_per_sec": 23.4},
              f)


def test_report_tabulates_both_priors(tmp_path):
  out = str(tmp_path)
  # An older sweep.csv without the prior column (deep_factorized rows) ...
  with open(os.path.join(out, "sweep.csv"), "w") as f:
    f.write("lambda,coded_bits_per_digit,estimated_bits_per_digit,mae,psnr,"
            "steps,train_seconds,steps_per_sec\n"
            "300,11.1,8.67,0.075,13.63,7020,324,21.7\n")
  # ... and noisy_logistic runs measured by `train` + `evaluate`.
  for lmbda, coded in ((300.0, 12.0), (2000.0, 44.0)):
    _fake_run(sweep.model_subdir(out, "noisy_logistic", lmbda),
              "noisy_logistic", lmbda, coded)
  assert sweep.model_subdir(out, "deep_factorized", 300.0) == os.path.join(
      out, "lambda_300")
  written = sweep.report(out)
  assert os.path.join(out, "rate_distortion.png") in written
  rows = sweep.read_table(os.path.join(out, "sweep.csv"))
  assert [(r["prior"], r["lambda"], r["coded_bits_per_digit"])
          for r in rows] == [("deep_factorized", 300.0, 11.1),
                             ("noisy_logistic", 2000.0, 44.0),
                             ("noisy_logistic", 300.0, 12.0)]
  assert rows[1]["shared_file_bits_per_digit"] == pytest.approx(43.2)
  md = open(os.path.join(out, "sweep.md")).read()
  assert "| deep_factorized | 300 | 11.10 | - | 8.67 |" in md
  assert "| noisy_logistic | 2000 | 44.00 | 43.20 | 43.00 |" in md
  files_md = open(os.path.join(out, "files.md")).read()
  assert "| noisy_logistic | 300 | 11.00 | 11.10 | 1.400 | 2.500 |" in files_md


def test_noisy_logistic_beam_matches_single_process():
  from compression.examples.mnist import beam_codecs  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import images  # pylint: disable=g-import-not-at-top
  import test_beam_mnist  # pylint: disable=g-import-not-at-top
  model_dir = _noisy_logistic_model()
  work = mnist_testutil.tmp_dir()
  one_worker = ["--direct_num_workers=1"]
  test_beam_mnist.run(
      "beam_compress", f"--model_dir={model_dir}", "--count=6",
      f"--data_dir={mnist_testutil.data_dir()}",
      f"--output={work}/beam", *one_worker)
  records = [beam_codecs.parse_compressed_record(r) for r in
             test_beam_mnist.read_tfrecords(f"{work}/beam-*.tfrecord")]
  strings = {key: string for key, string, _, _ in records}
  digits = data.load("test", mnist_testutil.data_dir())[0][:6]
  with codec.Encoder(model_dir) as encoder:
    here = encoder.compress(digits)
    assert {r[3] for r in records} == {encoder.fingerprint()}
  assert [strings[f"test_{i:05d}"] for i in range(6)] == here["strings"]
  test_beam_mnist.run(
      "beam_decompress", f"--model_dir={model_dir}",
      f"--input={work}/beam-*.tfrecord", f"--output={work}/decoded",
      *one_worker)
  with codec.Decoder(model_dir) as decoder:
    expected, _ = decoder.decompress(here["strings"])
  for i in range(6):
    decoded = images.read_png(f"{work}/decoded/test_{i:05d}.png")
    np.testing.assert_array_equal(
        decoded, data.to_uint8(expected[i]))


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
