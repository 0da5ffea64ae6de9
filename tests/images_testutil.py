"""Shared helpers for the tests of compression/examples/images.

Synthetic photographs (smooth gradients, soft discs, a little noise: something a
model can learn from) written as PNG files, and tiny models trained for a few steps
into a temporary folder, once per test process and cached. Everything lives under
one temporary folder removed at exit.
"""

import atexit
import os
import shutil
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from compression.examples.images import data  # pylint: disable=g-import-not-at-top,wrong-import-position

_TMP = tempfile.mkdtemp(prefix="images_tests_")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
_CACHE = {}


def tmp_dir():
  """A fresh folder, removed at exit."""
  return tempfile.mkdtemp(dir=_TMP)


def synthetic_image(height, width, seed):
  """uint8 [height, width, 3]: a colour gradient, a few soft discs, mild noise."""
  rng = np.random.default_rng(seed)
  yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
  image = np.empty([height, width, 3], np.float32)
  for c in range(3):
    gy, gx = rng.uniform(-1, 1, 2)
    image[..., c] = .5 + .3 * (gy * yy / height + gx * xx / width)
  for _ in range(4):
    cy, cx = rng.uniform(0, height), rng.uniform(0, width)
    radius = rng.uniform(.1, .3) * min(height, width)
    disc = 1. / (1. + np.exp((np.hypot(yy - cy, xx - cx) - radius) / 2.))
    image += disc[..., None] * rng.uniform(-.4, .4, 3)
  image += rng.normal(0, .02, image.shape)
  return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def write_pngs(folder, count, height, width, seed=0):
  """Writes `count` synthetic PNGs into `folder`; returns their paths, sorted."""
  os.makedirs(folder, exist_ok=True)
  paths = []
  for i in range(count):
    path = os.path.join(folder, f"synthetic_{i}.png")
    data.write_png(path, synthetic_image(height, width, seed + i))
    paths.append(path)
  return paths


def training_glob():
  """Glob of four 128x128 synthetic PNGs (cached)."""
  if "train" not in _CACHE:
    folder = os.path.join(_TMP, "train_images")
    write_pngs(folder, 4, 128, 128, seed=100)
    _CACHE["train"] = os.path.join(folder, "*.png")
  return _CACHE["train"]


def tiny_config(model_dir, architecture="bmshj2018", **overrides):
  """A train.TrainConfig for a tiny model (4 filters, 6 latents, 5 steps)."""
  from compression.examples.images import train  # pylint: disable=g-import-not-at-top
  settings = dict(model_dir=model_dir, architecture=architecture, num_filters=4,
                  latent_filters=6, num_steps=5, patchsize=64, batch_size=2,
                  final_steps=2, final_patchsize=128, final_batch_size=1,
                  train_glob=training_glob(), log_every=5, checkpoint_every=5,
                  threads=1)
  settings.update(overrides)
  return train.TrainConfig(**settings)


def trained_model(architecture="bmshj2018", steps=5):
  """A model directory trained for `steps` steps (cached per process)."""
  key = ("model", architecture, steps)
  if key not in _CACHE:
    from compression.examples.images import train  # pylint: disable=g-import-not-at-top
    model_dir = tempfile.mkdtemp(prefix=f"{architecture}_", dir=_TMP)
    train.train(tiny_config(model_dir, architecture, num_steps=steps,
                            log_every=steps, checkpoint_every=steps),
                log=lambda *a: None)
    _CACHE[key] = model_dir
  return _CACHE[key]

