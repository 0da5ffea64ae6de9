"""config.json of an image model directory, validated before anything is built.

Fields: architecture (one of ARCHITECTURES), num_filters and latent_filters (ints in
1..MAX_FILTERS), lambda (positive number), and optionally hyper_filters (an int in
1..MAX_FILTERS: the width of the hyperprior's networks and of z, when it differs from
num_filters; written only then, so the configs of models with one width are as
before). No TensorFlow import here.
"""

import json
import math
import os

CONFIG_FILE = "config.json"
ARCHITECTURES = ("bls2017", "bmshj2018", "mbt2018-mean", "ms2020-cc")
# Architectures with a hyperprior (z, the integer hyper-synthesis).
HYPERPRIOR = ("bmshj2018", "mbt2018-mean", "ms2020-cc")
# What the synthesis sees of y in training (train --quantization; "mixed" rounds
# around the predicted means, so only the architectures of MEAN_ARCHITECTURES take
# it).
QUANTIZATIONS = ("noise", "mixed")
# Architectures that predict y's means (the mean hyper-synthesis).
MEAN_ARCHITECTURES = ("mbt2018-mean", "ms2020-cc")
# What learns in training (train --trainable): everything, or only the encoder (the
# analysis and hyper-analysis; the decoder and its coding tables stay as loaded).
TRAINABLES = ("all", "encoder")
ENCODER_SCOPES = ("analysis/", "hyper_analysis/")
# Pixels per latent position of the coded tensors' deepest one (y for bls2017, z for
# the hyperprior models): images are padded to multiples of it.
TOTAL_STRIDE = {"bls2017": 16, "bmshj2018": 64, "mbt2018-mean": 64,
                "ms2020-cc": 64}
# Sized for 2 CPU cores (about 0.2 s per step of 8 crops of 64x64 on one core);
# the published models use 128 / 192 (--num_filters 128 --latent_filters 192).
DEFAULT_NUM_FILTERS = 48
DEFAULT_LATENT_FILTERS = 64
MAX_FILTERS = 1024
_MAX_BYTES = 1 << 16


class ConfigError(ValueError):
  """A model directory without a usable config.json (one line)."""


def _check_filters(value, name, where):
  if isinstance(value, bool) or not isinstance(value, int) or not (
      1 <= value <= MAX_FILTERS):
    raise ConfigError(f"{where}: {name} must be an integer in 1..{MAX_FILTERS}, "
                      f"got {value!r}")
  return value


def hyper_width(config):
  """The hyperprior's width of a validated config (num_filters unless given)."""
  return config.get("hyper_filters") or config["num_filters"]


def write(model_dir, architecture, num_filters, latent_filters, lmbda,
          hyper_filters=None):
  """Writes config.json (creating the folder); refuses a changed architecture."""
  config = {"architecture": architecture, "num_filters": num_filters,
            "latent_filters": latent_filters, "lambda": lmbda}
  if hyper_filters and hyper_filters != num_filters:
    config["hyper_filters"] = hyper_filters
  check(config, "config")
  existing = read(model_dir)
  def sizes(c):
    return c["architecture"], c["num_filters"], c["latent_filters"], hyper_width(c)
  if existing is not None and sizes(existing) != sizes(config):
    raise ConfigError(
        f"{model_dir} holds a {existing['architecture']} model with "
        f"N={existing['num_filters']} M={existing['latent_filters']} "
        f"H={hyper_width(existing)}; use another "
        "--model_dir or the same architecture and sizes")
  os.makedirs(model_dir, exist_ok=True)
  with open(os.path.join(model_dir, CONFIG_FILE), "w") as f:
    json.dump(config, f, indent=2)


def check(config, where):
  if not isinstance(config, dict):
    raise ConfigError(f"{where}: expected a JSON object")
  if config.get("architecture") not in ARCHITECTURES:
    raise ConfigError(f"{where}: architecture must be one of "
                      f"{', '.join(ARCHITECTURES)}, got {config.get('architecture')!r}")
  _check_filters(config.get("num_filters"), "num_filters", where)
  _check_filters(config.get("latent_filters"), "latent_filters", where)
  if "hyper_filters" in config:
    _check_filters(config["hyper_filters"], "hyper_filters", where)
  lmbda = config.get("lambda")
  if isinstance(lmbda, bool) or not isinstance(lmbda, (int, float)) or not (
      math.isfinite(lmbda) and lmbda > 0):
    raise ConfigError(f"{where}: lambda must be a positive number, got {lmbda!r}")
  return config


def read(model_dir):
  """The validated config dict of `model_dir`, or None if it has no config.json."""
  path = os.path.join(model_dir, CONFIG_FILE)
  if not os.path.isfile(path):
    return None
  try:
    with open(path, "rb") as f:
      raw = f.read(_MAX_BYTES + 1)
    if len(raw) > _MAX_BYTES:
      raise ConfigError(f"{path}: larger than {_MAX_BYTES} bytes, not a config file")
    config = json.loads(raw.decode("utf-8"))
  except OSError as error:
    raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
  except (UnicodeDecodeError, ValueError) as error:
    raise ConfigError(f"{path}: not valid JSON ({error})") from None
  return check(config, path)


def require(model_dir):
  """Like `read`, but a missing config.json or checkpoint is an error."""
  if not os.path.isdir(model_dir):
    raise ConfigError(f"--model_dir {model_dir} does not exist; train a model first")
  config = read(model_dir)
  if config is None:
    raise ConfigError(f"{model_dir} has no {CONFIG_FILE}; is it a model directory "
                      "written by `train`?")
  return config
