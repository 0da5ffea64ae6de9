"""Training: rate + lambda * distortion, in a tf.compat.v1 graph.

rate        bits per digit, sum of -log2(likelihood) over the latent, from the
            prior (priors.py: `deep_factorized` EntropyBottleneck or
            `noisy_logistic`) with additive uniform noise (training=True).
distortion  mean absolute pixel difference, pixels in [0, 1].

Two Adam optimizers step together: one (`learning_rate`) minimizes the loss
over the transforms and the density model (for noisy_logistic: its scales),
the other (`aux_learning_rate`) minimizes the EntropyBottleneck's auxiliary
loss over its quantile variables (the only ones it has gradients for; the
noisy logistic has no auxiliary loss). The main step's gradients are clipped
to a global norm of `clip_norm` (0, the default: not clipped); a step whose
gradients are not finite is skipped and counted (variable `skipped_steps`, in the
progress lines and metrics.json), as in the image example
(compression/examples/common/training.py). The prior's update op (integer CDF
tables) runs before each checkpoint save, so every checkpoint written can
compress and decompress. Checkpoints are saved after every epoch, every
`checkpoint_minutes`, at the end and on Ctrl-C; `train` resumes from the newest
one (also checkpoints written before `skipped_steps` existed).

The model directory receives:
  config.json    model hyperparameters (read back by compress/decompress)
  model.ckpt-*   checkpoints (tf.compat.v1.train.Saver)
  metrics.json   flags, final train/test metrics and per-evaluation history
"""

import dataclasses
import json
import math
import os
import time

import numpy as np
import tensorflow as tf

from compression.examples import cli
from compression.examples.common import training
from compression.examples.mnist import config as config_lib
from compression.examples.mnist import data
from compression.examples.mnist import errors
from compression.examples.mnist import metrics
from compression.examples.mnist import model
from compression.examples.mnist import priors

v1 = tf.compat.v1

CONFIG_FILE = config_lib.CONFIG_FILE
METRICS_FILE = "metrics.json"
CHECKPOINT_PREFIX = training.CHECKPOINT_PREFIX


@dataclasses.dataclass
class TrainConfig:
  """Training settings (the `train` command's flags)."""
  model_dir: str
  data_dir: str = ""
  latent_dims: int = 50
  lmbda: float = 2000.0
  epochs: int = 15
  steps: int = 0  # > 0 overrides epochs.
  batch_size: int = 128
  learning_rate: float = 1e-3
  aux_learning_rate: float = 1e-3
  decay_last: float = 0.0  # fraction of the steps at learning_rate / 10, at the end
  clip_norm: float = 0.0  # global gradient norm clip of the main loss; 0: none
  seed: int = 0
  log_every: int = 100
  train_size: int = 0  # 0 = all 60000.
  test_size: int = 0  # 0 = all 10000.
  eval_batch_size: int = 1000
  max_to_keep: int = 3
  prior: str = config_lib.DEFAULT_PRIOR  # One of config_lib.PRIORS.
  checkpoint_minutes: float = 10.0  # also save when this long since the last save
  resume: bool = True  # continue from the newest checkpoint in model_dir


def write_config(model_dir, config):
  config_lib.write(model_dir, config.latent_dims, config.lmbda, config.prior)


def read_config(model_dir):
  """Reads and validates config.json; None when absent (see config.py)."""
  return config_lib.read(model_dir)


class _Graph:
  """The training graph and its evaluation branch (no noise, rounding)."""

  def __init__(self, config):
    self.graph = tf.Graph()
    with self.graph.as_default():
      v1.set_random_seed(config.seed)
      self.x = v1.placeholder(tf.float32, [None, 28, 28], name="x")
      x = self.x[..., None]

      # Training branch.
      y = model.analysis_transform(x, config.latent_dims)
      prior = priors.create(config.prior, config.latent_dims, tf.shape(y))
      y_tilde, likelihoods = prior.call(y, training=True)
      x_tilde = model.synthesis_transform(y_tilde)
      self.rate = tf.reduce_mean(model.bits_per_digit(likelihoods))
      self.distortion = tf.reduce_mean(tf.abs(x - x_tilde))
      self.loss = self.rate + config.lmbda * self.distortion

      # Evaluation branch, same variables.
      y_hat, eval_likelihoods = prior.call(y, training=False)
      self.eval_bits = model.bits_per_digit(eval_likelihoods)
      self.eval_x_hat = tf.clip_by_value(
          model.synthesis_transform(y_hat)[..., 0], 0.0, 1.0)

      self.global_step = v1.train.get_or_create_global_step()
      self.learning_rate = v1.placeholder_with_default(
          tf.constant(config.learning_rate, tf.float32), [], name="learning_rate")
      # The aux optimizer trains the bottleneck's quantiles, the only
      # variables the aux loss reaches; the main one gets every other
      # trainable variable (for noisy_logistic: all of them, its scales too).
      aux_vars = list(prior.aux_variables)
      aux_ids = {id(v) for v in aux_vars}
      main_vars = [v for v in v1.trainable_variables() if id(v) not in aux_ids]
      main_step, self.skipped = training.clipped_step(
          v1.train.AdamOptimizer(self.learning_rate), self.loss, main_vars,
          self.global_step, config.clip_norm)
      steps = [main_step]
      if prior.aux_loss is not None:
        steps.append(v1.train.AdamOptimizer(config.aux_learning_rate).minimize(
            prior.aux_loss, var_list=aux_vars))
      self.train_op = tf.group(*steps)
      self.update_op = prior.update_op
      self.init_op = v1.global_variables_initializer()
      # Checkpoints of before `skipped_steps` existed restore too.
      self.saver = training.ResumableSaver([self.skipped], config.max_to_keep)
      self.graph.finalize()


def evaluate_estimate(sess, g, images, batch_size=1000):
  """Test-set numbers from the graph: estimated bits, MAE, PSNR.

  Bits are the model's estimate (-log2 of the likelihoods of the rounded
  latent), not real strings; `evaluate` measures real ones.
  """
  bits, mae, mse = [], [], []
  for start in range(0, len(images), batch_size):
    batch = images[start:start + batch_size]
    b, x_hat = sess.run([g.eval_bits, g.eval_x_hat],
                        {g.x: data.to_float(batch)})
    e_abs, e_sq = metrics.per_digit_errors(batch, x_hat)
    bits.append(b)
    mae.append(e_abs)
    mse.append(e_sq)
  result = metrics.summarize(np.concatenate(mae), np.concatenate(mse))
  result["bits_per_digit"] = float(np.mean(np.concatenate(bits)))
  return result


def _resume_point(config, log):
  """The newest checkpoint of config.model_dir to resume from, or None (a fresh
  run). InputError when the folder holds another model's checkpoint."""
  checkpoint = v1.train.latest_checkpoint(config.model_dir)
  if checkpoint is None or not config.resume:
    return None
  try:
    saved = read_config(config.model_dir)
  except errors.CheckpointError:
    saved = None
  wanted = {"latent_dims": config.latent_dims, "lambda": config.lmbda,
            "prior": config.prior}
  differ = [f"{k} {saved.get(k)!r}, not {v!r}" for k, v in wanted.items()
            if saved is None or saved.get(k) != v]
  if differ:
    raise errors.InputError(
        f"--model_dir={config.model_dir} holds a checkpoint of another model "
        f"({'; '.join(differ)}); give another --model_dir, or remove that one")
  log(f"resuming from {checkpoint}")
  return checkpoint


def train(config, log=print):
  """Trains a model into config.model_dir; returns the metrics dict.

  Resumes from the newest checkpoint in config.model_dir (same latent_dims,
  lambda and prior, else InputError) unless config.resume is False: the steps
  count from the checkpoint's global step, the batches continue where the
  interrupted run stopped. Saves a checkpoint after every epoch, when
  config.checkpoint_minutes have passed since the last save, at the end and on
  KeyboardInterrupt (Ctrl-C), which is then raised again.
  """
  log(f"reading MNIST ({config.data_dir or data.resolve_data_dir('')}) ...")
  train_images, _ = data.load("train", config.data_dir)
  test_images, _ = data.load("test", config.data_dir)
  if config.train_size:
    train_images = train_images[:config.train_size]
  if config.test_size:
    test_images = test_images[:config.test_size]
  num_train = len(train_images)
  if not num_train:
    raise errors.InputError("no training images")
  batch_size = min(config.batch_size, num_train)
  steps_per_epoch = num_train // batch_size
  total_steps = config.steps or config.epochs * steps_per_epoch
  total_epochs = math.ceil(total_steps / steps_per_epoch)

  os.makedirs(config.model_dir, exist_ok=True)
  resume_from = _resume_point(config, log)
  write_config(config.model_dir, config)
  np.random.seed(config.seed)
  rng = np.random.RandomState(config.seed)
  log("building the training graph ...")
  g = _Graph(config)
  history = []

  def evaluate(sess, epoch, step):
    result = evaluate_estimate(sess, g, test_images, config.eval_batch_size)
    result.update(epoch=epoch, step=step)
    history.append(result)
    log(f"  test after epoch {epoch} (step {step}): "
        f"~{result['bits_per_digit']:.2f} bits/digit (estimate), "
        f"MAE {result['mae']:.4f}, PSNR {result['psnr']:.2f} dB")

  with training.StopSignals() as stop, v1.Session(graph=g.graph) as sess:
    if resume_from:
      g.saver.restore(sess, resume_from)
    else:
      sess.run(g.init_op)
    first_step = step = int(sess.run(g.global_step))
    checkpoints = training.Checkpoints(sess, g.saver.saver, config.model_dir,
                                       config.checkpoint_minutes, g.update_op,
                                       CHECKPOINT_PREFIX)
    non_finite = training.NonFiniteSteps()
    log(f"training on {num_train} digits, testing on {len(test_images)}; "
        f"{total_steps} steps of batch {batch_size} "
        f"({steps_per_epoch} steps/epoch), lambda={config.lmbda:g}, "
        f"latent_dims={config.latent_dims}, prior={config.prior}, "
        f"model_dir={config.model_dir}")
    log(f"  {'resuming at step ' + str(step) if step else 'starting'}; a "
        f"progress line every {config.log_every} steps, a test evaluation and "
        f"a checkpoint after every epoch, also every "
        f"{config.checkpoint_minutes:g} minutes and on Ctrl-C")
    window = {"rate": 0.0, "distortion": 0.0, "loss": 0.0, "n": 0}
    losses = []
    last_window = {}
    start_time = time.time()
    train_time = 0.0
    epoch = step // steps_per_epoch
    # The batches of the epochs already done, drawn again: a resumed run trains
    # on the same batches as one that was never interrupted.
    for _ in range(epoch):
      rng.permutation(num_train)
    path = resume_from
    with training.saves_on_interrupt(checkpoints, g.global_step, first_step,
                                     log):
      while step < total_steps:
        epoch += 1
        order = rng.permutation(num_train)
        for i in range(step % steps_per_epoch, steps_per_epoch):
          if step >= total_steps:
            break
          batch = train_images[order[i * batch_size:(i + 1) * batch_size]]
          t0 = time.time()
          learning_rate = training.learning_rate_at(
              step, total_steps, config.learning_rate,
              decay_last=config.decay_last,
              final_learning_rate=config.learning_rate * 0.1, decay="step")
          _, rate, dist, loss = sess.run(
              [g.train_op, g.rate, g.distortion, g.loss],
              {g.x: data.to_float(batch), g.learning_rate: learning_rate})
          train_time += time.time() - t0
          step += 1
          losses.append(float(loss))
          if non_finite.finite(step, (loss, rate, dist)):  # Else skipped.
            window["rate"] += rate
            window["distortion"] += dist
            window["loss"] += loss
            window["n"] += 1
          if step % config.log_every == 0 or step == total_steps:
            n = window["n"] or math.nan
            speed = (step - first_step) / train_time
            eta = (total_steps - step) / speed
            skipped = int(sess.run(g.skipped))
            log(f"epoch {epoch}/{total_epochs} step {step}/{total_steps} | "
                f"rate {window['rate'] / n:.2f} bits | "
                f"distortion {window['distortion'] / n:.4f} | "
                f"loss {window['loss'] / n:.2f} | {speed:.1f} steps/s | "
                f"ETA {cli.format_duration(eta)}"
                + (f" | {skipped} non-finite steps skipped" if skipped else ""))
            last_window = {k: float(window[k] / n) for k in
                           ("rate", "distortion", "loss")}
            window = {"rate": 0.0, "distortion": 0.0, "loss": 0.0, "n": 0}
          if (step % steps_per_epoch and step != total_steps and
              checkpoints.due()):
            path = checkpoints.save(step)
            log(f"  saved {path} ({config.checkpoint_minutes:g} minutes since "
                "the last save)")
          stop.check()
        if step % steps_per_epoch == 0 or step == total_steps:
          evaluate(sess, epoch, step)
          path = checkpoints.save(step)
    skipped = int(sess.run(g.skipped))
    if step == first_step:  # Already trained that far: evaluate only.
      log(f"already trained to step {step} (--steps / --epochs); nothing to do")
      evaluate(sess, epoch, step)
    log(f"saved {path}")
    elapsed = time.time() - start_time

  flags = dataclasses.asdict(config)
  flags["lambda"] = flags.pop("lmbda")  # Named like the command-line flag.
  result = {
      "flags": flags,
      "final": {
          "test": history[-1],
          "train_last_window": last_window,
          "train_first_loss": losses[0] if losses else None,
      },
      "history": history,
      "steps": total_steps,
      "first_step": first_step,
      "steps_per_sec": (step - first_step) / train_time if train_time else 0.0,
      "skipped_steps": skipped,  # Non-finite steps, earlier runs' included.
      "wall_seconds": elapsed,
      "checkpoint": path,
  }
  with open(os.path.join(config.model_dir, METRICS_FILE), "w") as f:
    json.dump(result, f, indent=2)
  result["losses"] = losses  # Per step; returned, not written.
  return result
