"""Image `train`: Ctrl-C saves a checkpoint and says how to resume; the banner says
what will actually run; CPU seconds are logged."""

import json
import os
import signal
import subprocess
import sys

import pytest

import images_testutil as util
import process_testutil

from compression.examples.images import train

ROOT = util.ROOT


def _train_command(model_dir, steps):
  return [sys.executable, "-m", "compression.examples.images", "train",
          f"--model_dir={model_dir}", "--num_filters=4", "--latent_filters=6",
          "--patchsize=64", "--batch_size=1", f"--num_steps={steps}",
          "--log_every=1", "--checkpoint_every=100000", "--warmup_steps=0",
          f"--train_glob={util.training_glob()}", "--threads=1"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM],
                         ids=["ctrl_c", "sigterm"])
def test_ctrl_c_saves_and_the_same_command_resumes(sig):
  """Ctrl-C, and SIGTERM (`kill`, the end of a session or a batch job), both save."""
  model_dir = util.tmp_dir()
  env = dict(os.environ, PYTHONPATH=ROOT)
  code, lines, err = process_testutil.interrupt_when(
      _train_command(model_dir, 100000), lambda line: line.startswith("step 3/"),
      cwd=ROOT, env=env, sig=sig)
  assert code == 130, err
  assert "Traceback" not in err
  saved = [l for l in lines if l.startswith("interrupted at step")]
  assert saved and "saved" in saved[0] and "run the same command" in saved[0]
  step = int(saved[0].split()[3].rstrip(":"))
  assert step >= 3
  assert os.path.isfile(os.path.join(model_dir, f"model.ckpt-{step}.index"))
  resumed = subprocess.run(_train_command(model_dir, step + 1), cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
  assert resumed.returncode == 0, resumed.stderr
  assert f"resuming at step {step} of {step + 1}" in resumed.stdout
  log = [json.loads(l) for l in open(os.path.join(model_dir, train.LOG_FILE))]
  assert log[-1]["step"] == step + 1
  assert log[-1]["cpu_seconds"] >= log[-2]["cpu_seconds"] > 0


def test_banner_describes_the_schedule_that_runs():
  config = train.resolve_defaults(train.TrainConfig(
      model_dir="", num_steps=500, final_steps=1000, final_patchsize=128,
      patchsize=64, batch_size=8, warmup_steps=0, decay_last=.2))
  line = train.describe_schedule(config)
  # final_steps is capped at num_steps: every step runs on the final crops.
  assert line.startswith("8 crops of 128x128;")
  assert "decaying from step 400" in line
  assert "500 steps to run" in line
  assert "Ctrl-C" in line


def test_pixels_a_step_are_checked_after_the_defaults():
  import pytest
  from compression.examples.images import data
  with pytest.raises(data.DataError, match="pixels a step"):
    train.resolve_defaults(train.TrainConfig(
        model_dir="", patchsize=256, batch_size=4, final_steps=10,
        final_batch_size=1000))


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
