"""Short training runs of the MNIST example (steps, never epochs)."""

import json
import os
import signal
import sys

import numpy as np
import pytest
import tensorflow as tf

import mnist_testutil
import process_testutil
from compression.examples.mnist import errors
from compression.examples.mnist import train

def _config(model_dir, **kwargs):
  args = dict(model_dir=model_dir, data_dir=mnist_testutil.data_dir(),
              latent_dims=16, batch_size=64, train_size=512, test_size=64,
              log_every=10)
  args.update(kwargs)
  return train.TrainConfig(**args)


def test_short_run_lowers_the_loss_and_writes_files():
  model_dir = mnist_testutil.tmp_dir()
  lines = []
  result = train.train(_config(model_dir, steps=30), log=lines.append)
  losses = result["losses"]
  assert len(losses) == 30 and np.isfinite(losses).all()
  assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5]), losses

  # Progress lines and per-epoch evaluation (512 / 64 = 8 steps per epoch).
  progress = [l for l in lines if l.startswith("epoch ")]
  assert len(progress) == 3
  for word in ("step", "rate", "bits", "distortion", "loss", "steps/s",
               "ETA"):
    assert word in progress[0]
  assert [h["step"] for h in result["history"]] == [8, 16, 24, 30]

  with open(os.path.join(model_dir, train.METRICS_FILE)) as f:
    saved = json.load(f)
  assert saved["flags"]["steps"] == 30
  assert saved["flags"]["lambda"] == 2000.0
  for key in ("bits_per_digit", "mae", "psnr"):
    assert np.isfinite(saved["final"]["test"][key])
  assert train.read_config(model_dir)["latent_dims"] == 16

  # The final checkpoint holds coding tables (the update op ran).
  reader = tf.train.load_checkpoint(model_dir)
  assert tf.train.latest_checkpoint(model_dir).endswith("model.ckpt-30")
  names = reader.get_variable_to_shape_map()
  cdf_length = [n for n in names if n.endswith("cdf_length")]
  assert cdf_length, sorted(names)
  assert (reader.get_tensor(cdf_length[0]) > 2).all()


def test_same_seed_same_run_other_seed_other_run():
  runs = [train.train(_config(mnist_testutil.tmp_dir(), steps=4, seed=seed,
                              test_size=16), log=lambda *a: None)
          for seed in (3, 3, 4)]
  assert runs[0]["losses"] == runs[1]["losses"]
  assert runs[0]["final"]["test"] == runs[1]["final"]["test"]
  assert runs[0]["losses"] != runs[2]["losses"]


def _train_command(model_dir, steps, *extra):
  return ["train", f"--model_dir={model_dir}",
          f"--data_dir={mnist_testutil.data_dir()}", f"--steps={steps}",
          "--batch_size=16", "--latent_dims=4", "--train_size=512",
          "--test_size=16", "--log_every=1"] + list(extra)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM],
                         ids=["ctrl_c", "sigterm"])
def test_ctrl_c_saves_and_the_same_command_resumes(sig):
  """Ctrl-C, and SIGTERM (`kill`, the end of a session or a batch job), both save."""
  model_dir = mnist_testutil.tmp_dir()
  env = dict(os.environ, PYTHONPATH=mnist_testutil.ROOT)
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  code, lines, err = process_testutil.interrupt_when(
      [sys.executable, "-m", "compression.examples.mnist"] +
      _train_command(model_dir, 100000),
      lambda line: line.startswith("epoch 1/") and " step 3/" in line,
      cwd=mnist_testutil.ROOT, env=env, sig=sig)
  assert code == 130, err
  assert "Traceback" not in err
  # The signal is acknowledged at once; the step that runs ends, then the save.
  assert err.strip().splitlines() == [
      f"{sig.name}: stopping after this step and saving; send it again to stop "
      "at once without saving",
      "python -m compression.examples.mnist train: interrupted"], err
  # What happens before the first progress line is said.
  first = next(i for i, l in enumerate(lines) if l.startswith("epoch "))
  assert any(l.startswith("building the training graph") for l in lines[:first])
  assert any("a checkpoint after every epoch" in l for l in lines[:first])
  saved = [l for l in lines if l.startswith("interrupted at step")]
  assert saved and "saved" in saved[0] and "run the same command" in saved[0]
  step = int(saved[0].split()[3].rstrip(":"))
  assert step >= 3
  assert os.path.isfile(os.path.join(model_dir, f"model.ckpt-{step}.index"))
  resumed = mnist_testutil.run_cli(*_train_command(model_dir, step + 2))
  assert resumed.returncode == 0, resumed.stderr
  assert f"resuming at step {step};" in resumed.stdout
  progress = [l for l in resumed.stdout.splitlines() if l.startswith("epoch ")]
  assert [l.split()[3] for l in progress] == [f"{step + 1}/{step + 2}",
                                              f"{step + 2}/{step + 2}"]
  assert tf.train.latest_checkpoint(model_dir).endswith(f"model.ckpt-{step + 2}")
  with open(os.path.join(model_dir, train.METRICS_FILE)) as f:
    assert json.load(f)["first_step"] == step


def test_checkpoints_by_time_between_epochs():
  model_dir = mnist_testutil.tmp_dir()
  lines = []
  # 512 / 64 = 8 steps per epoch: steps 1..4 are saved by time only.
  train.train(_config(model_dir, steps=5, checkpoint_minutes=1e-9,
                      max_to_keep=10), log=lines.append)
  by_time = [l for l in lines if "minutes since the last save" in l]
  assert len(by_time) == 4
  state = tf.train.get_checkpoint_state(model_dir)
  assert [p.rsplit("-", 1)[1] for p in state.all_model_checkpoint_paths] == [
      "1", "2", "3", "4", "5"]
  lines = []
  train.train(_config(mnist_testutil.tmp_dir(), steps=5), log=lines.append)
  assert not [l for l in lines if "minutes since the last save" in l]


def test_resume_refuses_another_model_and_a_finished_run_only_evaluates():
  model_dir = mnist_testutil.tmp_dir()
  train.train(_config(model_dir, steps=2, log_every=1), log=lambda *a: None)
  with pytest.raises(errors.InputError, match=r"holds a checkpoint of another "
                     r"model \(latent_dims 16, not 8\)"):
    train.train(_config(model_dir, steps=4, latent_dims=8), log=lambda *a: None)
  lines = []
  result = train.train(_config(model_dir, steps=2), log=lines.append)
  assert any(l.startswith("already trained to step 2") for l in lines)
  assert result["losses"] == [] and len(result["history"]) == 1
  # resume=False (the demo) starts afresh whatever the folder holds.
  result = train.train(_config(model_dir, steps=2, resume=False),
                       log=lambda *a: None)
  assert len(result["losses"]) == 2


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
