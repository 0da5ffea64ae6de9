"""The training-loop pieces the examples share (MNIST and images `train`).

  clipped_step         an optimizer step on gradients clipped to a global norm; a
                       step whose gradients are not finite is skipped and counted
  NonFiniteSteps       the Python side of that: which steps to leave out of the
                       averages, and FloatingPointError after too many in a row
  learning_rate_at     warm-up, constant, then a step or geometric decay
  ResumableSaver       a Saver whose restore also takes checkpoints written before
                       optional variables (the skipped-step counter) existed
  Checkpoints          saving: coding tables updated first, a relative index (the
                       folder can be moved), a clock for time-based saves
  StopSignals          Ctrl-C / SIGTERM ask the loop to stop after the step that
                       runs (a flag read between steps; a second one stops at once)
  saves_on_interrupt   the stop saves the step reached and says how to resume

Graph mode (tf.compat.v1); build the graph pieces before the graph is finalized.
"""

import contextlib
import os
import signal
import threading
import time

import numpy as np
import tensorflow as tf

v1 = tf.compat.v1

CHECKPOINT_PREFIX = "model.ckpt"
SKIPPED_STEPS = "skipped_steps"  # The counter variable's name (in checkpoints).
MAX_BAD_STEPS_IN_A_ROW = 20


def clipped_step(optimizer, loss, variables, global_step, clip_norm):
  """(train op, skipped-step counter): one `optimizer` step on the gradients of
  `loss` (a float scalar tensor) over `variables`, clipped to a global norm of
  `clip_norm` (a float >= 0; 0: not clipped).

  A step whose gradients are not finite (a NaN or infinite loss) is skipped: the
  variables and the optimizer's slots are left untouched and the int64 scalar
  variable SKIPPED_STEPS (not trainable, created here) is incremented.
  `global_step` advances either way. Clipping scales every gradient by
  min(1, clip_norm / norm); with clip_norm 0 the update is the optimizer's own.
  """
  pairs = optimizer.compute_gradients(loss, var_list=variables)
  grads = [g for g, _ in pairs]
  norm = tf.linalg.global_norm(grads)
  if clip_norm:
    grads, _ = tf.clip_by_global_norm(grads, clip_norm, use_norm=norm)
  skipped = v1.get_variable(SKIPPED_STEPS, [], tf.int64, trainable=False,
                            initializer=v1.zeros_initializer())

  def apply():
    return optimizer.apply_gradients(
        [(g, v) for g, (_, v) in zip(grads, pairs)], global_step=global_step)

  def skip():
    return tf.group(skipped.assign_add(1), global_step.assign_add(1))

  return tf.cond(tf.math.is_finite(norm), apply, skip), skipped


class NonFiniteSteps:
  """Watches the numbers a step fetched (loss first): `finite(step, values)` is
  False for a step `clipped_step` skipped; FloatingPointError (the message names
  the step and says what to lower) once `limit` steps in a row were not finite."""

  def __init__(self, limit=MAX_BAD_STEPS_IN_A_ROW,
               advice="lower --learning_rate"):
    self.limit = limit
    self.advice = advice
    self.in_a_row = 0

  def finite(self, step, values):
    if all(np.isfinite(values)):
      self.in_a_row = 0
      return True
    self.in_a_row += 1
    if self.in_a_row >= self.limit:
      raise FloatingPointError(
          f"step {step}: the loss was not finite ({values[0]}) {self.in_a_row} "
          f"steps in a row; {self.advice}")
    return False


def learning_rate_at(step, num_steps, learning_rate, warmup_steps=0,
                     decay_last=0., final_learning_rate=0., decay="geometric"):
  """The learning rate of step `step` (0-based) of `num_steps`.

  A linear warm-up over the first `warmup_steps` (step s runs at
  learning_rate * (s + 1) / warmup_steps), then `learning_rate`, then over the
  last round(decay_last * num_steps) steps a decay to
  min(final_learning_rate, the rate before it): "geometric" reaches it at the
  last step, "step" drops to it at once.
  """
  if decay not in ("geometric", "step"):
    raise ValueError(f"decay must be 'geometric' or 'step', got {decay!r}")
  rate = learning_rate
  if step < warmup_steps:
    rate *= (step + 1) / warmup_steps
  decay_steps = int(round(decay_last * num_steps))
  decay_from = num_steps - decay_steps
  if decay_steps and step >= decay_from:
    final = min(final_learning_rate, rate)
    if decay == "step":
      return final
    progress = min(1., (step - decay_from + 1) / decay_steps)
    rate = rate * (final / rate) ** progress
  return rate


class ResumableSaver:
  """A v1 Saver of all global variables (`.saver`) whose `restore` also takes a
  checkpoint without some of the `optional` variables (written before they were
  added, e.g. the SKIPPED_STEPS counter): the others are restored, the optional
  ones initialised. Any other missing variable fails as Saver.restore does.
  Build inside the graph, before it is finalized."""

  def __init__(self, optional, max_to_keep=3):
    self.saver = v1.train.Saver(max_to_keep=max_to_keep)
    self._optional = {v.op.name for v in optional}
    self._without = v1.train.Saver(
        [v for v in v1.global_variables() if v.op.name not in self._optional])
    self._init_optional = v1.variables_initializer(list(optional))

  def restore(self, sess, path):
    present = {name for name, _ in tf.train.list_variables(path)}
    if self._optional <= present:
      self.saver.restore(sess, path)
    else:
      self._without.restore(sess, path)
      sess.run(self._init_optional)


class Checkpoints:
  """Saves a session's checkpoints into `model_dir` as PREFIX-<step>.

  `save(step)` runs `before_save` (ops, e.g. the coding-table updates, or None)
  first, then writes the `checkpoint` index with names relative to `model_dir`
  (the folder can be moved) and returns the path written. `due()`: more than
  `minutes` since the last save (or since this object was made)."""

  def __init__(self, sess, saver, model_dir, minutes, before_save=None,
               prefix=CHECKPOINT_PREFIX):
    self.sess = sess
    self.saver = saver
    self.model_dir = model_dir
    self.minutes = minutes
    self.before_save = before_save
    self.prefix = prefix
    self.last_time = time.time()

  def due(self):
    return time.time() - self.last_time > 60. * self.minutes

  def save(self, step):
    self.last_time = time.time()
    if self.before_save is not None:
      self.sess.run(self.before_save)
    path = self.saver.save(self.sess, os.path.join(self.model_dir, self.prefix),
                           global_step=step)
    v1.train.update_checkpoint_state(
        os.path.abspath(self.model_dir), os.path.basename(path),
        [os.path.basename(p) for p in self.saver.last_checkpoints])
    return path


class StopSignals:
  """Within `with StopSignals() as stop:`, Ctrl-C (SIGINT) and SIGTERM (`kill`, a
  session or a scheduler ending the job) only set a flag; the training loop calls
  `stop.check()` between steps, which raises KeyboardInterrupt there, so
  `saves_on_interrupt` saves the step reached.

  The handlers never raise: an exception raised from a signal handler lands at
  whatever bytecode runs, which may be inside TensorFlow's Python-C++ glue of
  `Session.run`; there it was swallowed (the run went on) or crashed the process
  (SIGSEGV). A second signal stops the process at once, with the signal's default
  action, saving nothing. SIGINT is left alone when it was ignored (a job started
  in the background of a non-interactive shell, `nohup`), as Unix expects; outside
  the main thread (where handlers cannot be installed) nothing is installed."""

  SIGNALS = (signal.SIGINT, signal.SIGTERM)

  def __init__(self):
    self.received = None  # The first signal's number.
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for signum in self.SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
          self._previous[signum] = signal.signal(signum, self._handle)
    return self

  def __exit__(self, *exc_info):
    for signum, previous in self._previous.items():
      signal.signal(signum, previous)
    self._previous = {}

  def _handle(self, signum, frame):  # pylint: disable=unused-argument
    if self.received is not None:  # The second: at once, as without handlers.
      signal.signal(signum, signal.SIG_DFL)
      os.kill(os.getpid(), signum)
      return
    self.received = signum
    # os.write, not print: the main thread may be inside a print to the same stream.
    os.write(2, (f"\n{signal.Signals(signum).name}: stopping after this step and "
                 "saving; send it again to stop at once without saving\n").encode())

  def check(self):
    """Raises KeyboardInterrupt once a signal has come (call it between steps)."""
    if self.received is not None:
      raise KeyboardInterrupt(signal.Signals(self.received).name)


@contextlib.contextmanager
def saves_on_interrupt(checkpoints, global_step, first_step, log):
  """Within the block, KeyboardInterrupt (Ctrl-C: StopSignals.check, or Python's
  own outside StopSignals) saves a checkpoint of the step reached, if it is past
  `first_step` (the step the run started at), logs one line saying so and how to
  resume, and is raised again."""
  try:
    yield
  except KeyboardInterrupt:
    # A step's sess.run finishes before Python sees the signal: the graph's step
    # counter is the truth.
    step = int(checkpoints.sess.run(global_step))
    if step > first_step:
      path = checkpoints.save(step)
      log(f"interrupted at step {step}: saved {path}; run the same command "
          "again to resume")
    else:
      log(f"interrupted at step {step}; nothing new to save")
    raise
