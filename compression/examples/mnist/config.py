"""config.json of a model directory: the hyperparameters compress/decompress
need, validated before anything is built (no TensorFlow import here).

Fields: latent_dims (int, 1..MAX_LATENT_DIMS), lambda (positive number),
prior (one of PRIORS; absent reads as "deep_factorized", the only prior of
model directories written before the field existed).
"""

import json
import math
import os

from compression.examples.mnist import errors

CONFIG_FILE = "config.json"
# Latents per digit. The first synthesis layer holds 500 x latent_dims
# weights; 4096 is far beyond any useful MNIST model and keeps graphs small.
MAX_LATENT_DIMS = 4096
_MAX_CONFIG_BYTES = 1 << 16
# Entropy models of the latents (priors.py builds them).
PRIORS = ("deep_factorized", "noisy_logistic")
DEFAULT_PRIOR = "deep_factorized"


def check_latent_dims(value, where):
  """Returns `value` if it is an int in 1..MAX_LATENT_DIMS, else raises."""
  if isinstance(value, bool) or not isinstance(value, int):
    raise errors.CheckpointError(
        f"{where}: latent_dims must be an integer, got {value!r}")
  if not 1 <= value <= MAX_LATENT_DIMS:
    raise errors.CheckpointError(
        f"{where}: latent_dims must be in 1..{MAX_LATENT_DIMS}, got {value}")
  return value


def check_prior(value, where):
  """Returns `value` if it names one of PRIORS, else raises."""
  if value not in PRIORS:
    raise errors.InputError(
        f"{where}: prior must be one of {', '.join(PRIORS)}, got {value!r}")
  return value


def write(model_dir, latent_dims, lmbda, prior=DEFAULT_PRIOR):
  check_prior(prior, "prior")
  os.makedirs(model_dir, exist_ok=True)
  with open(os.path.join(model_dir, CONFIG_FILE), "w") as f:
    json.dump({"latent_dims": latent_dims, "lambda": lmbda, "prior": prior},
              f, indent=2)


def read(model_dir):
  """Reads and validates config.json; None when absent.

  Returns:
    dict with "latent_dims" (int), "lambda" (float or None if absent) and
    "prior" (str, DEFAULT_PRIOR if absent).

  Raises:
    errors.CheckpointError: unreadable, not JSON, not an object, or a field
      of the wrong type or range (the message names the field and value).
  """
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.isfile(path):
    return None
  try:
    with open(path, "rb") as f:
      raw = f.read(_MAX_CONFIG_BYTES + 1)
  except OSError as e:
    raise errors.CheckpointError(f"{path}: cannot read: {e.strerror}") from None
  if len(raw) > _MAX_CONFIG_BYTES:
    raise errors.CheckpointError(
        f"{path}: larger than {_MAX_CONFIG_BYTES} bytes, not a config file")
  try:
    config = json.loads(raw.decode("utf-8"))
  except (UnicodeDecodeError, ValueError) as e:
    raise errors.CheckpointError(f"{path}: not valid JSON ({e})") from None
  if not isinstance(config, dict):
    raise errors.CheckpointError(
        f"{path}: expected a JSON object, got {type(config).__name__}")
  if "latent_dims" not in config:
    raise errors.CheckpointError(f"{path}: no latent_dims field")
  check_latent_dims(config["latent_dims"], path)
  lmbda = config.get("lambda")
  if lmbda is not None and (
      isinstance(lmbda, bool) or not isinstance(lmbda, (int, float)) or
      not math.isfinite(lmbda) or lmbda <= 0):
    raise errors.CheckpointError(
        f"{path}: lambda must be a positive number, got {lmbda!r}")
  prior = config.get("prior", DEFAULT_PRIOR)
  if prior not in PRIORS:
    raise errors.CheckpointError(
        f"{path}: prior must be one of {', '.join(PRIORS)}, got {prior!r}")
  return {"latent_dims": config["latent_dims"], "lambda": lmbda,
          "prior": prior}
