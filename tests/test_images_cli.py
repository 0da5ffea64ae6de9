"""Command line of the image example, in fresh processes.

`python -m compression.examples.images ...` with this process's environment: help,
a train -> compress -> decompress round trip through separate processes, evaluate
and compare, and every expected failure as exactly one `error:` line (exit status
1, no traceback). Two tiny models (4 filters, 5 steps, other seeds) are trained
once for the module. Each process that loads TensorFlow takes seconds, so those
are started together (`Job`) and the tests collect their results.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import images_testutil
from compression.examples.images import commands
from compression.examples.images import compare
from compression.examples.images import container
from compression.examples.images import data

ALL = sorted(commands.COMMANDS)
_TINY = ["--num_filters=4", "--latent_filters=6", "--num_steps=5", "--patchsize=64",
         "--batch_size=2", "--final_steps=2", "--final_patchsize=128",
         "--log_every=5", "--checkpoint_every=5", "--threads=1"]


def _command(*args):
  return [sys.executable, "-m", "compression.examples.images"] + list(args)


def _env():
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join(
      [images_testutil.ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                if p])
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return env


class Job:
  """`python -m compression.examples.images ARGS`, started now in a fresh process."""

  def __init__(self, *args):
    self._args = list(args)
    self._proc = subprocess.Popen(  # pylint: disable=consider-using-with
        _command(*args), cwd=images_testutil.ROOT, env=_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    self._result = None

  def result(self):
    """The finished process (subprocess.CompletedProcess)."""
    if self._result is None:
      out, err = self._proc.communicate(timeout=600)
      self._result = subprocess.CompletedProcess(self._args, self._proc.returncode,
                                                 out, err)
    return self._result


def run_cli(*args):
  """Runs `python -m compression.examples.images ARGS`; the finished process."""
  return Job(*args).result()


def assert_one_error(proc, *words):
  """Exit status 1, no traceback, exactly one `error:` line naming `words`."""
  assert proc.returncode == 1, (proc.returncode, proc.stderr)
  assert "Traceback" not in proc.stderr, proc.stderr
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1, proc.stderr
  for word in words:
    assert word in errors[0], errors[0]
  return errors[0]


@pytest.fixture(scope="module")
def work():
  """Images, two tiny models (seeds 0 and 1) trained by `train`, a folder."""
  folder = images_testutil.tmp_dir()
  images = {"square": os.path.join(folder, "square.png"),
            "odd": os.path.join(folder, "odd.png")}
  data.write_png(images["square"], images_testutil.synthetic_image(64, 64, 1))
  data.write_png(images["odd"], images_testutil.synthetic_image(45, 70, 2))
  models = {seed: os.path.join(images_testutil.tmp_dir(), "model")
            for seed in (0, 1)}
  trainings = {seed: Job("train", f"--model_dir={model_dir}", f"--seed={seed}",
                         f"--train_glob={images_testutil.training_glob()}", *_TINY)
               for seed, model_dir in models.items()}
  for job in trainings.values():
    proc = job.result()
    assert proc.returncode == 0, proc.stderr
    assert "step 5/5" in proc.stdout, proc.stdout
  return {"folder": folder, "images": images, "model": models[0],
          "other_model": models[1], "out": images_testutil.tmp_dir()}


@pytest.fixture(scope="module")
def compressed(work):
  """The odd-sized image compressed by the first model: (path, stdout)."""
  path = os.path.join(work["out"], "odd.cim")
  proc = run_cli("compress", f"--model_dir={work['model']}", work["images"]["odd"],
                 path)
  assert proc.returncode == 0, proc.stderr
  return path, proc.stdout


@pytest.fixture(scope="module")
def jobs(work, compressed):
  """The commands that load TensorFlow, started together (name -> Job)."""
  return {
      # Flags instead of positional arguments: the same command.
      "decompress": Job("decompress", f"--model_dir={work['model']}",
                        f"--input={compressed[0]}",
                        f"--output={work['out']}/odd_decoded.png"),
      "other_model": Job("decompress", f"--model_dir={work['other_model']}",
                         compressed[0], f"{work['out']}/never.png"),
      "evaluate": Job("evaluate", f"--model_dir={work['model']}",
                      f"--folder={work['folder']}",
                      f"--output_json={work['out']}/evaluation.json"),
      "compare": Job("compare", f"--model_dirs={work['model']}",
                     f"--folder={work['folder']}",
                     f"--out_dir={work['out']}/compare"),
  }


def _write(work, name, blob):
  path = os.path.join(work["out"], name)
  with open(path, "wb") as f:
    f.write(blob)
  return path


def _decompress(work, path, model_dir=None):
  return run_cli("decompress", f"--model_dir={model_dir or work['model']}", path,
                 os.path.join(work["out"], "never.png"))


def test_top_level_help_lists_commands():
  proc = run_cli("--help")
  assert proc.returncode == 0, proc.stderr
  assert commands.DESCRIPTION in proc.stdout
  for name in ALL:
    assert f"  {name} " in proc.stdout


@pytest.mark.parametrize("name", ALL)
def test_command_help(name):
  proc = run_cli(name, "--help")
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.startswith(f"usage: {commands.PROG} {name}")
  for spec in commands.COMMANDS[name].flag_specs:
    assert f"--{spec[1]}=" in proc.stdout or f"--[no]{spec[1]}" in proc.stdout


def test_usage_names_positional_arguments():
  assert commands.COMMANDS["compress"].usage_line("p").endswith(" IMAGE OUT")
  assert commands.COMMANDS["decompress"].usage_line("p").endswith(" IN OUT.png")


def test_round_trip_through_separate_processes(work, compressed, jobs):
  path, stdout = compressed
  assert "bpp (model estimate" in stdout and "70x45" in stdout, stdout
  with open(path, "rb") as f:
    blob = f.read()
  assert blob[:4] == container.MAGIC
  bpp = 8. * len(blob) / (70 * 45)
  assert f"{len(blob)} bytes" in stdout and f"{bpp:.4f} bpp" in stdout, stdout
  png = os.path.join(work["out"], "odd_decoded.png")
  proc = jobs["decompress"].result()
  assert proc.returncode == 0, proc.stderr
  assert "70x45" in proc.stdout and f"{len(blob)} bytes" in proc.stdout
  assert data.read_image(png).shape == (45, 70, 3)


@pytest.mark.parametrize("damage,words", [
    ("truncated", ["truncated"]),
    ("random", ["not a compressed image"]),
    ("flipped", ["damaged", "CRC"]),
])
def test_broken_files_give_one_error_line(work, compressed, damage, words):
  with open(compressed[0], "rb") as f:
    blob = f.read()
  if damage == "truncated":
    blob = blob[:len(blob) - 7]
  elif damage == "random":
    blob = np.random.default_rng(5).integers(0, 256, 200, np.uint8).tobytes()
  else:
    blob = bytearray(blob)
    blob[container.HEADER_BYTES] ^= 0x10  # first byte of the y string
    blob = bytes(blob)
  path = _write(work, damage + ".cim", blob)
  assert path in assert_one_error(_decompress(work, path), *words)


def test_file_of_another_model(jobs):
  assert_one_error(jobs["other_model"].result(), "fingerprint", "decode it with the model that wrote it")


def test_file_of_another_architecture(work):
  height, width = 45, 70
  y_shape, z_shape = container.latent_shapes("bls2017", height, width, 6, 4)
  blob = container.pack(container.CompressedImage(
      "bls2017", 1234, height, width, y_shape, z_shape, b"\x01\x02\x03"))
  path = _write(work, "bls2017.cim", blob)
  assert_one_error(_decompress(work, path), "bls2017", "bmshj2018")


def test_missing_model_and_checkpoint(work, compressed):
  missing = os.path.join(work["out"], "no_such_model")
  assert_one_error(_decompress(work, compressed[0], missing), "does not exist")
  proc = run_cli("compress", f"--model_dir={missing}", work["images"]["odd"],
                 os.path.join(work["out"], "x.cim"))
  assert_one_error(proc, "does not exist")
  no_checkpoint = images_testutil.tmp_dir()
  shutil.copy(os.path.join(work["model"], "config.json"), no_checkpoint)
  assert_one_error(_decompress(work, compressed[0], no_checkpoint),
                   "has no checkpoint")


def test_compress_refuses_bad_input_and_output(work):
  not_image = _write(work, "not_an_image.png", b"hello, world\n" * 10)
  proc = run_cli("compress", f"--model_dir={work['model']}", not_image,
                 os.path.join(work["out"], "x.cim"))
  assert_one_error(proc, "not a readable image")
  proc = run_cli("compress", f"--model_dir={work['model']}", work["images"]["odd"],
                 work["out"])
  assert_one_error(proc, "is a folder")
  assert_one_error(run_cli("compress", work["images"]["odd"]), "OUT", "required")
  assert_one_error(run_cli("compress", "a", "b", "c"), "unexpected arguments")


def test_train_with_a_glob_matching_nothing(work):
  proc = run_cli("train", f"--model_dir={work['out']}/m",
                 f"--train_glob={work['out']}/nothing_*.png", *_TINY)
  assert_one_error(proc, "no file matches")
  assert not os.path.exists(os.path.join(work["out"], "m"))


def test_evaluate_folder_to_json(work, jobs):
  output = os.path.join(work["out"], "evaluation.json")
  proc = jobs["evaluate"].result()
  assert proc.returncode == 0, proc.stderr
  assert "mean of 2 images" in proc.stdout, proc.stdout
  with open(output) as f:
    result = json.load(f)
  assert sorted(r["name"] for r in result["images"]) == ["odd.png", "square.png"]
  assert result["mean"]["bpp"] == pytest.approx(
      np.mean([r["bpp"] for r in result["images"]]))
  assert result["architecture"] == "bmshj2018"


def test_compare_writes_table_and_plots(work, jobs):
  out_dir = os.path.join(work["out"], "compare")
  proc = jobs["compare"].result()
  assert proc.returncode == 0, proc.stderr
  for name in ("rd.csv", "rd_psnr.png", "rd_msssim.png", "summary.md"):
    assert os.path.getsize(os.path.join(out_dir, name)) > 0, name
  with open(os.path.join(out_dir, "rd.csv")) as f:
    codecs = {line.split(",")[0] for line in f.read().splitlines()[1:]}
  # No --anchors: every anchor whose library is installed (requirements.txt
  # installs them all), each over its default sweep.
  assert codecs == set(compare.ANCHORS) | {"bmshj2018"}
  summary = open(os.path.join(out_dir, "summary.md")).read()
  for anchor in compare.ANCHORS:
    assert compare.LABELS[anchor] in summary
    assert f"| bmshj2018 | {anchor} | PSNR (dB) |" in summary
    assert f"| bmshj2018 | {anchor} | MS-SSIM (dB) |" in summary
  proc = run_cli("compare", f"--model_dirs={work['out']}/none",
                 f"--folder={work['folder']}", f"--out_dir={out_dir}")
  assert_one_error(proc, "does not exist")


def test_effort_flags_are_checked_before_any_work(work):
  out_dir = os.path.join(work["out"], "compare_efforts")
  for value, words in (("0,5", ("--efforts", "'5'", "0,1,2,3")),
                       ("1,1", ("--efforts", "named twice")),
                       ("x", ("--efforts", "'x'"))):
    proc = run_cli("compare", f"--efforts={value}", "--anchors=jpeg",
                   f"--folder={work['folder']}", f"--out_dir={out_dir}")
    assert_one_error(proc, *words)
  assert not os.path.exists(out_dir)
  proc = run_cli("evaluate", f"--model_dir={work['model']}", "--effort=4",
                 f"--folder={work['folder']}")
  assert_one_error(proc, "--effort must be in 0..3")


def test_compare_anchors_flag(work):
  out_dir = os.path.join(work["out"], "compare_anchors")
  proc = run_cli("compare", "--anchors=heic,jpeg2000", f"--folder={work['folder']}",
                 f"--out_dir={out_dir}")
  assert proc.returncode == 0, proc.stderr
  with open(os.path.join(out_dir, "rd.csv")) as f:
    rows = f.read().splitlines()[1:]
  assert {line.split(",")[0] for line in rows} == {"jpeg2000", "heic"}
  # Each setting: the 2 images and their mean.
  assert len(rows) == 3 * (len(compare.SWEEPS["jpeg2000"]) +
                           len(compare.SWEEPS["heic"]))
  assert "heic: " in proc.stdout and "jpeg2000: " in proc.stdout
  proc = run_cli("compare", "--anchors=jpeg,bpg", f"--folder={work['folder']}",
                 f"--out_dir={out_dir}")
  assert_one_error(proc, "unknown anchor", "'bpg'", "jpeg,webp,jpeg2000")


def test_compare_anchor_points_from_an_earlier_run(work):
  """--anchor_points: the anchors' rows of an earlier rd.csv, not run again."""
  earlier = os.path.join(work["out"], "compare_anchors", "rd.csv")
  if not os.path.isfile(earlier):
    test_compare_anchors_flag(work)
  out_dir = os.path.join(work["out"], "compare_reused")
  proc = run_cli("compare", f"--anchor_points={earlier}", "--anchors=heic",
                 f"--folder={work['folder']}", f"--out_dir={out_dir}")
  assert proc.returncode == 0, proc.stderr
  # The per-image rows as they were, to MS-SSIM (the means, and MS-SSIM in dB,
  # are recomputed from the rounded values).
  def rows(path):
    with open(path) as f:
      return [line.rsplit(",", 1)[0] for line in f.read().splitlines()
              if line.startswith("heic,") and ",(mean)," not in line]
  assert rows(os.path.join(out_dir, "rd.csv")) == rows(earlier)
  assert f"read from {earlier}" in open(os.path.join(out_dir, "summary.md")).read()
  # An image the file has no row for: one line naming anchor, setting and image.
  folder = os.path.join(work["out"], "one_more")
  os.makedirs(folder, exist_ok=True)
  for name in os.listdir(work["folder"]):
    shutil.copy(os.path.join(work["folder"], name), folder)
  shutil.copy(os.path.join(work["folder"], "odd.png"), os.path.join(folder, "new.png"))
  proc = run_cli("compare", f"--anchor_points={earlier}", f"--folder={folder}",
                 f"--out_dir={out_dir}")
  assert_one_error(proc, "no row for image new.png", "jpeg2000 bpp=")
  proc = run_cli("compare", f"--anchor_points={earlier}", "--anchors=webp",
                 f"--folder={work['folder']}", f"--out_dir={out_dir}")
  assert_one_error(proc, "has no rows of anchor(s) webp")


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
