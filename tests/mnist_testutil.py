"""Shared helpers for the tests of compression/examples/mnist.

Data: real MNIST when the MNIST_DIR environment variable points at it,
otherwise small synthetic IDX files written here (digit-like strokes, so a
model has something to learn). Models: trained for a few steps only, once per
test process, and cached.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from compression.examples.mnist import data  # pylint: disable=g-import-not-at-top,wrong-import-position

_TMP = tempfile.mkdtemp(prefix="mnist_tests_")
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
_CACHE = {}


def synthetic_digits(n, seed):
  """uint8 [n, 28, 28] stroke images and uint8 [n] labels 0..9."""
  rng = np.random.RandomState(seed)
  labels = rng.randint(0, 10, size=n).astype(np.uint8)
  yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
  images = np.zeros([n, 28, 28], np.float32)
  for i, label in enumerate(labels):
    angle = np.pi * label / 10 + rng.uniform(-0.15, 0.15)
    cy, cx = 14 + rng.uniform(-2, 2, size=2)
    # Distance to a line through the centre, limited to a segment.
    along = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    across = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    stroke = np.exp(-across**2 / 2.0) * (np.abs(along) < 9)
    if label % 2:  # Odd classes get a ring too.
      r = np.hypot(xx - cx, yy - cy)
      stroke = np.maximum(stroke, np.exp(-(r - 6)**2 / 2.0))
    images[i] = stroke
  return (np.clip(images, 0, 1) * 255).round().astype(np.uint8), labels


def data_dir():
  """A directory with the four MNIST files: $MNIST_DIR or synthetic ones."""
  real = os.environ.get("MNIST_DIR", "")
  if real:
    return real
  if "data" not in _CACHE:
    path = os.path.join(_TMP, "synthetic_mnist")
    data.write_split(path, "train", *synthetic_digits(1024, seed=1))
    data.write_split(path, "test", *synthetic_digits(256, seed=2))
    _CACHE["data"] = path
  return _CACHE["data"]


def trained_model(steps=20, latent_dims=16, seed=0, prior="deep_factorized"):
  """A model directory trained for a few steps (cached per process)."""
  key = ("model", steps, latent_dims, seed, prior)
  if key not in _CACHE:
    from compression.examples.mnist import train  # pylint: disable=g-import-not-at-top
    model_dir = tempfile.mkdtemp(prefix="model_", dir=_TMP)
    train.train(train.TrainConfig(
        model_dir=model_dir, data_dir=data_dir(), latent_dims=latent_dims,
        steps=steps, batch_size=64, seed=seed, train_size=512,
        test_size=64, log_every=1000, prior=prior), log=lambda *a: None)
    _CACHE[key] = model_dir
  return _CACHE[key]


def tmp_dir():
  return tempfile.mkdtemp(dir=_TMP)


def run_cli(*args, env=None):
  """Runs `python -m compression.examples.mnist ARGS` in a fresh process."""
  full_env = dict(os.environ, **(env or {}))
  full_env["PYTHONPATH"] = os.pathsep.join(
      [ROOT] + [p for p in full_env.get("PYTHONPATH", "").split(os.pathsep)
                if p])
  full_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return subprocess.run(
      [sys.executable, "-m", "compression.examples.mnist"] + list(args),
      cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=600,
      check=False)


def _refingerprint(values):
  """Rewrites table_fingerprint to match the (changed) tables in `values`."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from compression.python.layers import entropy_model  # pylint: disable=g-import-not-at-top

  def find(suffix):
    return next(n for n in values if n.endswith("/" + suffix))

  tables = [values[find(n)] for n in ("cdf", "cdf_length", "cdf_offset",
                                      "quantization_offset")]
  with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
    values[find("table_fingerprint")] = sess.run(
        entropy_model.table_fingerprint(16, *tables))


def tampered_model(model_dir, change, refingerprint=False):
  """A copy of model_dir whose checkpoint has `change` applied.

  change(values) gets {variable name: numpy array} and edits it in place.
  With `refingerprint`, the stored table fingerprint is recomputed to match
  the changed tables (so the kernels' own input checks are what fails).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  reader = tf.train.load_checkpoint(v1.train.latest_checkpoint(model_dir))
  values = {name: reader.get_tensor(name)
            for name in reader.get_variable_to_shape_map()}
  change(values)
  if refingerprint:
    _refingerprint(values)
  out = tempfile.mkdtemp(prefix="tampered_", dir=_TMP)
  shutil.copy(os.path.join(model_dir, "config.json"), out)
  graph = tf.Graph()
  with graph.as_default():
    variables = {name: v1.Variable(value, name=name.replace("/", "_"))
                 for name, value in values.items()}
    saver = v1.train.Saver(var_list=variables)
    with v1.Session(graph=graph) as sess:
      sess.run(v1.global_variables_initializer())
      saver.save(sess, os.path.join(out, "model.ckpt"), global_step=1)
  return out
