"""TensorFlow Compression 1.x example scripts run against this library (issue 15).

tests/tfc1_scripts/ holds three scripts written in the manner of the published 1.x
examples (`bls2017.py` of 1.0 and of 1.3, `bmshj2018.py` of 1.3), changed only in
the lines a 1.x user changes (`import compression as tfc`,
`tf.disable_v2_behavior()`; the 1.0 script also TensorFlow's own
`import tensorflow.compat.v1 as tf`, which 1.3 already had). Each runs `train` (3 steps on 64x64 synthetic PNGs,
8 filters), `compress --verbose` and `decompress` in fresh processes, the 1.3 ones
with tf-keras (`TF_USE_LEGACY_KERAS=1`: they keep sublayers in `self._layers`,
which Keras 3 reserves). The decoded PNG must have the shape of the original
(61x45, not a multiple of the transforms' strides: the decoders crop), the PSNR
and mean squared error that `compress` printed (computed on the encoder's own
reconstruction) must be those of that PNG against the original, and the printed
"actual bits per pixel" must be the file's size. After 3 steps at learning rate
1e-4 the models are untrained (dark images, PSNR about 4 dB): this checks that the
scripts run and agree with themselves across processes; the entropy models' exact
decoding in another process is tested in their own tests
(test_entropy_models.py, test_conditional_models.py).

keras_sublayers.py runs the library's layers as sublayers of a Keras 3 layer and of
a tf-keras layer: every trainable variable gets a gradient (the bottleneck's
quantiles from the aux loss) and changes, variables are named under the Keras
layer, both entropy models decode what they encoded, and the library's code runs as
written (tf-keras converts a layer's `call` with AutoGraph, which must not reach
into the library: seconds per model, and Python `if`s could become graph ops).

Processes that load TensorFlow take seconds each, so each stage starts its processes
together.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
import pytest

import images_testutil
import compression
from compression.examples.images import data

# realpath: under `bazel test` this file is a symlink into the source tree.
SCRIPTS = os.path.join(os.path.dirname(os.path.realpath(__file__)), "tfc1_scripts")
IMAGE_SHAPE = (61, 45, 3)
FILTERS = "--num_filters=8"


def _env(legacy_keras):
  env = dict(os.environ)
  # The folder holding the `compression` package this process imports.
  root = os.path.dirname(os.path.dirname(os.path.abspath(compression.__file__)))
  env["PYTHONPATH"] = os.pathsep.join(
      [root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  env.pop("TF_USE_LEGACY_KERAS", None)
  if legacy_keras:
    env["TF_USE_LEGACY_KERAS"] = "1"
  return env


class Job:
  """`python SCRIPT ARGS` in `cwd`, started now."""

  def __init__(self, script, args, cwd, legacy_keras):
    self.command = [sys.executable, os.path.join(SCRIPTS, script)] + list(args)
    self._proc = subprocess.Popen(  # pylint: disable=consider-using-with
        self.command, cwd=cwd, env=_env(legacy_keras), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    self._result = None

  def result(self):
    if self._result is None:
      out, err = self._proc.communicate(timeout=900)
      self._result = subprocess.CompletedProcess(self.command, self._proc.returncode,
                                                 out, err)
      assert self._result.returncode == 0, (self.command, err[-4000:])
    return self._result


# script, legacy Keras, train flags (bmshj2018's strides total 64: 64x64 patches).
SCRIPTS_UNDER_TEST = {
    "bls2017_v1_0": ("bls2017_v1_0.py", False),
    "bls2017_v1_3": ("bls2017_v1_3.py", True),
    "bmshj2018_v1_3": ("bmshj2018_v1_3.py", True),
}


def _train_args(name, folder):
  checkpoint = "--checkpoint_dir=" + os.path.join(folder, name)
  common = ["--batchsize=1", "--patchsize=64", "--last_step=3",
            "--preprocess_threads=1"]
  if name == "bls2017_v1_0":
    return [FILTERS, checkpoint, "--data_glob=" + os.path.join(folder, "train", "*.png")
            ] + common + ["train"]
  return [FILTERS, checkpoint, "train",
          "--train_glob=" + os.path.join(folder, "train", "*.png")] + common


@pytest.fixture(scope="module")
def runs():
  """Runs every stage of every script; {name: {stage: CompletedProcess}}, paths."""
  folder = tempfile.mkdtemp(prefix="tfc1_scripts_")
  try:
    images_testutil.write_pngs(os.path.join(folder, "train"), 3, 64, 64, seed=5)
    original = os.path.join(folder, "original.png")
    data.write_png(original, images_testutil.synthetic_image(*IMAGE_SHAPE[:2], 11))
    results = {name: {} for name in SCRIPTS_UNDER_TEST}

    keras_jobs = {legacy: Job("keras_sublayers.py", [], folder, legacy)
                  for legacy in (False, True)}
    jobs = {name: Job(script, _train_args(name, folder), folder, legacy)
            for name, (script, legacy) in SCRIPTS_UNDER_TEST.items()}
    for name, job in jobs.items():
      results[name]["train"] = job.result()
    keras = {legacy: json.loads(job.result().stdout.strip().splitlines()[-1])
             for legacy, job in keras_jobs.items()}

    paths = {}
    jobs = {}
    for name, (script, legacy) in SCRIPTS_UNDER_TEST.items():
      checkpoint = "--checkpoint_dir=" + os.path.join(folder, name)
      paths[name] = (os.path.join(folder, name + ".bin"),
                     os.path.join(folder, name + ".png"))
      verbose = "--verbose" if name == "bls2017_v1_0" else "-V"
      jobs[name] = Job(script, [FILTERS, checkpoint, verbose, "compress", original,
                                paths[name][0]], folder, legacy)
    for name, job in jobs.items():
      results[name]["compress"] = job.result()
    jobs = {name: Job(script, [FILTERS, "--checkpoint_dir=" + os.path.join(folder, name),
                               "decompress"] + list(paths[name]), folder, legacy)
            for name, (script, legacy) in SCRIPTS_UNDER_TEST.items()}
    decoded = {}
    for name, job in jobs.items():
      results[name]["decompress"] = job.result()
      decoded[name] = np.array(Image.open(paths[name][1]))
    sizes = {name: os.path.getsize(paths[name][0]) for name in paths}
    yield {"results": results, "decoded": decoded, "sizes": sizes, "keras": keras,
           "original": np.array(Image.open(original))}
  finally:
    shutil.rmtree(folder, ignore_errors=True)


def _printed(stdout, label):
  match = re.search(r"^" + re.escape(label) + r": (\S+)$", stdout, re.MULTILINE)
  assert match, (label, stdout)
  return float(match.group(1))


@pytest.mark.parametrize("name", sorted(SCRIPTS_UNDER_TEST))
def test_decoded_image_has_the_original_shape(runs, name):
  decoded = runs["decoded"][name]
  assert decoded.shape == IMAGE_SHAPE
  assert decoded.dtype == np.uint8


@pytest.mark.parametrize("name", sorted(SCRIPTS_UNDER_TEST))
def test_printed_psnr_is_that_of_the_decoded_file(runs, name):
  stdout = runs["results"][name]["compress"].stdout
  printed = _printed(stdout, "PSNR (dB)")
  error = (runs["decoded"][name].astype(np.float64)
           - runs["original"].astype(np.float64))
  mse = np.mean(np.square(error))
  assert mse > 0
  # Printed with 2 decimals (the MSE with 4).
  assert abs(printed - 10 * np.log10(255. ** 2 / mse)) <= .005 + 1e-6, stdout
  assert abs(_printed(stdout, "Mean squared error") - mse) <= 5e-5 + 1e-6 * mse, stdout


@pytest.mark.parametrize("name", sorted(SCRIPTS_UNDER_TEST))
def test_printed_bits_per_pixel_are_the_file_size(runs, name):
  stdout = runs["results"][name]["compress"].stdout
  pixels = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
  assert abs(_printed(stdout, "Actual bits per pixel")
             - 8 * runs["sizes"][name] / pixels) <= 5e-5 + 1e-9
  assert _printed(stdout, "Information content in bpp") > 0


def test_training_wrote_checkpoints_of_the_last_step(runs):
  for name in SCRIPTS_UNDER_TEST:
    log = runs["results"][name]["train"].stderr
    assert "Saving checkpoints for 3 into" in log, (name, log[-2000:])


@pytest.mark.parametrize("legacy", [False, True], ids=["keras3", "tf_keras"])
def test_layers_work_inside_keras_layers(runs, legacy):
  report = runs["keras"][legacy]
  assert report["keras"] == ("tf_keras" if legacy else "keras")
  # The quantiles learn from the aux loss only; everything else from the main loss.
  assert report["without_gradient"] == ["entropy_bottleneck/quantiles:0"]
  assert report["unchanged"] == []
  assert len(report["trainable"]) == 24
  # Keras 3 opens its layer's name scope twice in a v1 graph ("analysis_1").
  for name in report["trainable"]:
    if not name.startswith("entropy_bottleneck/"):
      assert re.match(r"(analysis|synthesis|scales)(_1)?/layer_[01]/", name), name
  assert report["bottleneck_exact"]
  assert report["conditional_exact"]
  # Not converted by AutoGraph (tf-keras converts `call`): one probe per Transform.
  assert report["library_code_as_written"] == [True] * 3


def test_readme_api_table_lists_every_exported_name():
  """The public API table (docs/index.md) has a row for every name compression
  exports."""
  readme = os.path.join(os.path.dirname(SCRIPTS), os.pardir, "docs", "index.md")
  with open(readme, encoding="utf-8") as f:
    text = f.read()
  section = text.split("## Public API", 1)[1].split("\n## ", 1)[0]
  rows = [line for line in section.splitlines() if line.startswith("| `")]
  listed = set()
  for row in rows:
    listed.update(re.findall(r"`(\w+)`", row.split("|")[1]))
  assert set(compression.__all__) <= listed, set(compression.__all__) - listed
  # The 1.3 column marks exactly the 25 names of TensorFlow Compression 1.3.
  marked = {name for row in rows if row.split("|")[2].strip() == "✓"
            for name in re.findall(r"`(\w+)`", row.split("|")[1])}
  assert len(marked) == 25 and marked <= set(compression.__all__), marked


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
