"""Short training runs of the MNIST example (steps, never epochs)."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow as tf

import mnist_testutil
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


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
