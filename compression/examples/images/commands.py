"""Command line: `python -m compression.examples.images <command> [flags]`.

Each command has its own absl flags (`<command> --help`). TensorFlow is imported
only when a command runs. Expected failures print one `error:` line, exit status 1.
"""

import os
import sys
import tempfile

from compression.examples.mnist import commands as cli

PROG = "python -m compression.examples.images"
DEFAULT_MODEL_DIR = os.path.join(tempfile.gettempdir(), "image_model")

_MODEL_DIR = ("string", "model_dir", DEFAULT_MODEL_DIR,
              "Model directory: config.json, checkpoints and summaries written by "
              "`train`.")
_TRAIN_FLAGS = [
    _MODEL_DIR,
    ("string", "architecture", "bmshj2018",
     "bls2017 (factorized prior) or bmshj2018 (scale hyperprior)."),
    ("integer", "num_filters", 48,
     "N: channels of the hidden layers (and of z). Sized for 2 CPU cores; the "
     "papers use 128 (bmshj2018 low rates) to 192."),
    ("integer", "latent_filters", 64,
     "M: channels of y. The papers use 192 (bmshj2018 low rates)."),
    ("float", "lambda", 0.01,
     "Rate-distortion trade-off: loss = bits per pixel + lambda * MSE, pixels in "
     "[0, 255]."),
    ("string", "train_glob", "",
     "Glob of PNG/JPEG training images (any sizes, at least --patchsize). Empty: "
     "the photographs scikit-image ships (the fixed training split, data.py)."),
    ("integer", "patchsize", 64,
     "Side of the random square crops; a multiple of the total stride (16 for "
     "bls2017, 64 for bmshj2018)."),
    ("integer", "batch_size", 8, "Crops per step."),
    ("integer", "num_steps", 5000,
     "Total training steps (a resumed run continues up to this number)."),
    ("float", "learning_rate", 1e-3, "Adam learning rate of the main loss."),
    ("float", "decay_last", .2,
     "Fraction of the steps, at the end, run at --learning_rate / 10."),
    ("integer", "log_every", 100, "Print a progress line every N steps."),
    ("integer", "checkpoint_every", 500,
     "Save a checkpoint (with fresh coding tables) every N steps."),
    ("integer", "threads", 0,
     "TensorFlow intra- and inter-op threads (0: its default). 1 lets two "
     "trainings share 2 cores at nearly full speed each."),
    ("integer", "seed", 0, "Random seed (crops, initialisation)."),
]


def _run_train(fv):
  from compression.examples.images import train  # pylint: disable=g-import-not-at-top
  for name in ("num_filters", "latent_filters", "patchsize", "batch_size",
               "num_steps", "log_every", "checkpoint_every"):
    if fv[name].value <= 0:
      raise cli.CommandError(f"--{name} must be positive, got {fv[name].value}")
  if not fv["lambda"].value > 0:
    raise cli.CommandError(f"--lambda must be positive, got {fv['lambda'].value}")
  config = train.TrainConfig(
      model_dir=fv.model_dir, architecture=fv.architecture,
      num_filters=fv.num_filters, latent_filters=fv.latent_filters,
      lmbda=fv["lambda"].value, train_glob=fv.train_glob, patchsize=fv.patchsize,
      batch_size=fv.batch_size, num_steps=fv.num_steps,
      learning_rate=fv.learning_rate, decay_last=fv.decay_last,
      log_every=fv.log_every, checkpoint_every=fv.checkpoint_every,
      threads=fv.threads, seed=fv.seed)
  train.train(config, log=cli._log)  # pylint: disable=protected-access


COMMANDS = {
    "train": cli.Command(
        "train", "train a model on random crops of photographs",
        "Trains bls2017 or bmshj2018 on random crops, minimizing bits per pixel + "
        "lambda * MSE. Writes config.json, checkpoints (resumable: run the same "
        "command again) and TensorBoard summaries under --model_dir.",
        _TRAIN_FLAGS, _run_train),
}
