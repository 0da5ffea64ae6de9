"""Training on random crops: loss = bits per pixel + lambda * MSE (pixels 0..255).

Two Adam optimizers step together: the main one over the transforms and densities,
the auxiliary one over the EntropyBottleneck's quantiles. The main learning rate
follows `learning_rate_at`: a linear warm-up over the first `warmup_steps`, then
`learning_rate` until the last `decay_last` fraction of the steps, over which it
decays geometrically to `final_learning_rate`. Before every checkpoint the
coding-table update ops run (EntropyBottleneck, GaussianConditional, the integer
hyper-synthesis), so every checkpoint can compress and decompress.

The model directory receives:
  config.json       architecture and sizes (read back by every other command)
  model.ckpt-*      checkpoints; `train` resumes from the newest one
  events.*          TensorBoard summaries: loss, bpp, mse, psnr, reconstructions
  train_log.jsonl   one JSON line per log line (step, loss, bpp, mse, psnr, seconds)
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
from compression.examples.images import codec
from compression.examples.images import config as config_lib
from compression.examples.images import data
from compression.examples.images import model as model_lib
from compression.examples.images import shipped
from compression.examples.images import widen as widen_lib

v1 = tf.compat.v1

CHECKPOINT_PREFIX = training.CHECKPOINT_PREFIX
LOG_FILE = "train_log.jsonl"
MAX_BAD_STEPS_IN_A_ROW = training.MAX_BAD_STEPS_IN_A_ROW
# Pixels a step, after the defaults are filled in (the CLI checks its flags too).
MAX_STEP_PIXELS = 1 << 22
# (patchsize, batch_size) by architecture: 4 crops of 256x256, as the references'
# crop size. Smaller crops are mostly border: on 64x64 crops z is a single position
# whose hyper-synthesis only ever sees zero padding, and its scales are then far off
# on whole photographs (held-out rate x2.6 after 5000 steps).
DEFAULT_CROPS = {"bls2017": (256, 4), "bmshj2018": (256, 4),
                 "mbt2018-mean": (256, 4), "ms2020-cc": (256, 4)}
# Optional last steps on other crops: (steps, patchsize, batch_size); none by default.
DEFAULT_FINAL = {"bls2017": (0, 0, 0), "bmshj2018": (0, 0, 0),
                 "mbt2018-mean": (0, 0, 0), "ms2020-cc": (0, 0, 0)}


@dataclasses.dataclass
class TrainConfig:
  """The `train` command's settings."""
  model_dir: str
  architecture: str = "bmshj2018"
  num_filters: int = config_lib.DEFAULT_NUM_FILTERS
  latent_filters: int = config_lib.DEFAULT_LATENT_FILTERS
  hyper_filters: int = 0       # 0: num_filters
  lmbda: float = 0.01
  train_glob: str = ""        # empty: the embedded photographs (data.TRAIN)
  patchsize: int = 0          # 0: the architecture's default (DEFAULT_CROPS)
  batch_size: int = 0         # 0: the architecture's default (DEFAULT_CROPS)
  num_steps: int = 5000       # total, counting steps of earlier (resumed) runs
  learning_rate: float = 1e-3
  aux_learning_rate: float = 1e-3
  warmup_steps: int = 0
  decay_last: float = .2
  final_learning_rate: float = 1e-5
  init_from: str = ""          # model directory whose weights start a new run
  sampling: str = "image"      # crops: "image" (each image equally) or "area"
  quantization: str = "noise"  # the synthesis input: model_lib.QUANTIZATIONS
  trainable: str = "all"       # config_lib.TRAINABLES: "encoder" keeps the decoder
  clip_norm: float = 1.        # global gradient norm clip of the main loss; 0: none
  log_every: int = 100
  checkpoint_every: int = 500
  checkpoint_minutes: float = 10.  # also save when this long since the last save
  final_steps: int = -1        # last steps on other crops; -1: DEFAULT_FINAL
  final_patchsize: int = 0     # 0: DEFAULT_FINAL
  final_batch_size: int = 0    # 0: DEFAULT_FINAL
  threads: int = 0            # intra/inter-op threads; 0 = TensorFlow's default
  seed: int = 0


def describe_schedule(config, step=0):
  """One line: the crops, steps and learning rates that will actually run."""
  final_from = config.num_steps - config.final_steps
  crops = f"{config.batch_size} crops of {config.patchsize}x{config.patchsize}"
  if final_from <= 0:
    crops = (f"{config.final_batch_size} crops of {config.final_patchsize}x"
             f"{config.final_patchsize}")
  elif config.final_steps:
    crops += (f" until step {final_from}, then {config.final_batch_size} of "
              f"{config.final_patchsize}x{config.final_patchsize}")
  decay_from = config.num_steps - int(round(config.decay_last * config.num_steps))
  if config.quantization != "noise":
    crops += f", {config.quantization} quantization"
  if config.trainable == "encoder":
    crops += ", the encoder only (the decoder kept)"
  rates = f"learning rate {config.learning_rate:g}"
  if config.warmup_steps:
    rates += f" (warm-up over {config.warmup_steps} steps)"
  if decay_from < config.num_steps:
    rates += (f", decaying from step {decay_from} to "
              f"{min(config.final_learning_rate, config.learning_rate):g}")
  left = max(config.num_steps - step, 0)
  return (f"{crops}; {rates}; {left} steps to run; checkpoints every "
          f"{config.checkpoint_every} steps or {config.checkpoint_minutes:g} "
          "minutes, and on Ctrl-C")


def _previous_cpu_seconds(model_dir):
  """CPU seconds of the runs before this one (the log's last line), 0 if none."""
  try:
    with open(os.path.join(model_dir, LOG_FILE)) as f:
      lines = f.read().splitlines()
    return float(json.loads(lines[-1]).get("cpu_seconds", 0.)) if lines else 0.
  except (OSError, ValueError):
    return 0.


def _loop(config, sess, state, fetch, feeds, crops, checkpoints, writer, log,
          stop):
  """The training steps; `state` (step, done, last) is kept current, so an
  interruption knows where it stopped; `stop` (training.StopSignals) is checked
  after each step."""
  x, learning_rate = feeds
  crops, final_crops = crops
  final_from = config.num_steps - config.final_steps
  window = []
  non_finite = training.NonFiniteSteps(MAX_BAD_STEPS_IN_A_ROW)
  started = time.time()
  cpu_started = time.process_time()
  cpu_before = _previous_cpu_seconds(config.model_dir)
  while state["step"] < config.num_steps:
    step = state["step"]
    fetches = [fetch["train_op"], fetch["loss"], fetch["bpp"], fetch["mse"],
               fetch["summaries"]]
    want_images = step % config.checkpoint_every == 0
    if want_images:
      fetches.append(fetch["images"])
    if step < final_from:
      batch = crops.batch(config.batch_size)
    else:
      batch = final_crops.batch(config.final_batch_size)
    out = sess.run(fetches, {x: batch,
                             learning_rate: learning_rate_at(step, config)})
    step += 1
    state["step"] = step
    state["done"] += 1
    if non_finite.finite(step, out[1:4]):  # Else skipped by the graph.
      window.append(out[1:4])
    if step % 10 == 0:
      writer.add_summary(out[4], step)
    if want_images:
      writer.add_summary(out[5], step)
    if step % config.log_every == 0 or step == config.num_steps:
      mean = np.mean(window, axis=0) if window else np.full(3, np.nan)
      window = []
      elapsed = time.time() - started
      eta = elapsed / state["done"] * (config.num_steps - step)
      state["last"] = last = {
          "step": step, "loss": float(mean[0]), "bpp": float(mean[1]),
          "mse": float(mean[2]), "psnr": _psnr(float(mean[2])),
          "seconds": elapsed,
          "cpu_seconds": cpu_before + time.process_time() - cpu_started,
          "skipped_steps": int(sess.run(fetch["skipped"]))}
      log(f"step {step}/{config.num_steps} | loss {mean[0]:.4f} | "
          f"bpp {mean[1]:.4f} | MSE {mean[2]:.2f} | PSNR {last['psnr']:.2f} dB | "
          f"{state['done'] / elapsed:.2f} steps/s | ETA {cli.format_duration(eta)}"
          + (f" | {last['skipped_steps']} non-finite steps skipped"
             if last["skipped_steps"] else ""))
      with open(os.path.join(config.model_dir, LOG_FILE), "a") as f:
        f.write(json.dumps(last) + "\n")
    if (step % config.checkpoint_every == 0 or step == config.num_steps or
        checkpoints.due()):
      checkpoints.save(step)
    stop.check()


def learning_rate_at(step, config):
  """The main learning rate of step `step` (0-based): linear warm-up over
  `warmup_steps`, constant, then a geometric decay to `final_learning_rate` over the
  last `decay_last` fraction of `num_steps` (training.learning_rate_at)."""
  return training.learning_rate_at(
      step, config.num_steps, config.learning_rate, config.warmup_steps,
      config.decay_last, config.final_learning_rate, decay="geometric")


def _psnr(mse):
  return 10. * math.log10(255. ** 2 / max(mse, 1e-10))


def _model_variables():
  return [v for v in v1.global_variables()
          if "Adam" not in v.op.name and "power" not in v.op.name
          and v.op.name not in ("global_step", training.SKIPPED_STEPS)]


def _widening(config):
  """(N, M) of `config.init_from`'s model when this run widens it (`widen.py`: a
  bmshj2018 or mbt2018-mean model into one of those with more hidden channels or
  more channels of y), else None. Refuses a narrower or a differently wide
  hyperprior (WidenError, one line)."""
  source = config_lib.read(config.init_from)
  if source is None:
    return None
  old = (source["num_filters"], source["latent_filters"])
  if old == (config.num_filters, config.latent_filters):
    return None
  if (source["architecture"] not in widen_lib.ARCHITECTURES
      or config.architecture not in widen_lib.ARCHITECTURES):
    return None  # other sizes start from the variables of equal shapes only
  try:
    widen_lib.check_sizes(old, config.num_filters, config.latent_filters)
  except widen_lib.WidenError as error:
    raise widen_lib.WidenError(f"--init_from {config.init_from}: {error}") from None
  hyper = config.hyper_filters or config.num_filters
  if config_lib.hyper_width(source) != hyper:
    raise widen_lib.WidenError(
        f"--init_from {config.init_from}: widening keeps the hyperprior's width "
        f"({config_lib.hyper_width(source)}); this run's is {hyper} "
        f"(--hyper_filters={config_lib.hyper_width(source)})")
  return old


def _check_keeps_decoder(config, widening):
  """ValueError unless a run with trainable="encoder" can keep its decoder: it
  starts from a shipped model folder (which holds the coding tables) of this
  architecture and these sizes."""
  if not config.init_from or not shipped.is_shipped(config.init_from):
    raise ValueError("trainable=encoder needs init_from a shipped model folder "
                     "(quality:N, or a folder with weights.npz), whose decoder and "
                     f"coding tables it keeps; got {config.init_from!r}")
  source = config_lib.require(config.init_from)
  sizes = (config.architecture, config.num_filters, config.latent_filters,
           config.hyper_filters or config.num_filters)
  theirs = (source["architecture"], source["num_filters"],
            source["latent_filters"], config_lib.hyper_width(source))
  if widening or sizes != theirs:
    raise ValueError(
        f"trainable=encoder keeps {config.init_from}'s decoder, so the run must "
        f"have its architecture and sizes {theirs} (architecture, N, M, H); "
        f"this run has {sizes}")


def _checkpoint_values(checkpoint):
  """{name: array} of a checkpoint's model variables, under today's names."""
  reader = tf.train.load_checkpoint(checkpoint)
  values = {name: reader.get_tensor(name)
            for name in reader.get_variable_to_shape_map()
            if "Adam" not in name and "power" not in name}
  return model_lib.upgrade(values)  # a current checkpoint's values pass unchanged


def _initializer(model_dir, widen_to=None, seed=0):
  """init(sess) -> number of variables: sets this graph's model variables (not the
  step, nor optimizer state) that `model_dir` (a checkpoint directory or a shipped
  model, also one with the variable names from before the SignalConv2D
  transforms: model.upgrade) holds with the same shape, so a new run starts from
  those weights. `widen_to` (N, M): the model is widened to those sizes first
  (`_widening` decides, widen.py; `seed` of its new units). Call inside the graph,
  before it is finalized. A decode-only shipped model (models/legacy/: no analysis
  weights) is refused."""
  if shipped.is_shipped(model_dir):
    shipped.check_encodes(model_dir, "init_from")
    variables = _model_variables()
    if widen_to:
      return shipped.values_loader(
          widen_lib.widen(shipped.values(model_dir), *widen_to, seed=seed),
          variables, strict=False, where=model_dir)
    return shipped.loader(model_dir, variables, strict=False)
  checkpoint = codec.latest_checkpoint(model_dir)
  if checkpoint is None:
    raise data.DataError(f"--init_from {model_dir} has no checkpoint")
  # Fully known shapes only: not the coding tables (rebuilt by their update ops).
  variables = [v for v in _model_variables() if v.shape.is_fully_defined()]
  if widen_to:
    return shipped.values_loader(
        widen_lib.widen(_checkpoint_values(checkpoint), *widen_to, seed=seed),
        variables, strict=False, where=checkpoint)
  run, missing = model_lib.checkpoint_restorer(checkpoint, variables)
  if len(missing) == len(variables):
    raise data.DataError(f"--init_from {model_dir}: no variable of this model is in "
                         f"{checkpoint}")
  return run


def _resumer(checkpoint, optional, init_op):
  """resume(sess, checkpoint) for a checkpoint written before the SignalConv2D
  transforms (model.upgrade), else None: restores every variable, the `optional`
  ones (variables added since, e.g. the skipped-steps counter) initialised when it
  lacks them. Call inside the graph, before it is finalized."""
  if not model_lib.is_legacy_checkpoint(checkpoint):
    return None
  run, missing = model_lib.checkpoint_restorer(checkpoint, v1.global_variables())
  optional = {v.op.name for v in optional}
  absent = [v.op.name for v in missing if v.op.name not in optional]
  if absent:
    raise data.DataError(f"{checkpoint} does not fit this model: {absent[0]} is "
                         "not in it")

  def resume(sess, path):
    del path  # the checkpoint above
    sess.run(init_op)
    run(sess)
  return resume


def resolve_defaults(config):
  """The config with its 0 / -1 (architecture default) crop settings filled in,
  checked: ValueError / data.DataError naming the setting."""
  if config.architecture not in DEFAULT_CROPS:
    raise ValueError(f"architecture must be one of {tuple(DEFAULT_CROPS)}, got "
                     f"{config.architecture!r}")
  patch, batch = DEFAULT_CROPS[config.architecture]
  steps, final_patch, final_batch = DEFAULT_FINAL[config.architecture]
  config = dataclasses.replace(
      config, patchsize=config.patchsize or patch,
      batch_size=config.batch_size or batch,
      final_steps=steps if config.final_steps < 0 else config.final_steps,
      final_patchsize=(config.final_patchsize or final_patch
                       or config.patchsize or patch),
      final_batch_size=(config.final_batch_size or final_batch
                        or config.batch_size or batch))
  config = dataclasses.replace(config,
                               final_steps=min(config.final_steps, config.num_steps))
  stride = model_lib.TOTAL_STRIDE[config.architecture]
  for name in ("patchsize", "final_patchsize"):
    if getattr(config, name) % stride:
      raise data.DataError(f"--{name} must be a multiple of {stride} for "
                           f"{config.architecture}, got {getattr(config, name)}")
  for patch, batch in (("patchsize", "batch_size"),
                       ("final_patchsize", "final_batch_size")):
    pixels = getattr(config, patch) ** 2 * getattr(config, batch)
    if pixels > MAX_STEP_PIXELS:
      raise data.DataError(
          f"{getattr(config, batch)} crops of {getattr(config, patch)}x"
          f"{getattr(config, patch)} (--{batch}, --{patch}, defaults filled in) "
          f"are {pixels} pixels a step, more than {MAX_STEP_PIXELS}")
  return config


def train(config, log=print):
  """Trains (or resumes) into config.model_dir; returns the last logged metrics."""
  if config.architecture not in DEFAULT_CROPS:
    raise ValueError(f"architecture must be one of {tuple(DEFAULT_CROPS)}, got "
                     f"{config.architecture!r}")
  config = resolve_defaults(config)
  widening = None
  if config.trainable not in config_lib.TRAINABLES:
    raise ValueError(f"trainable must be one of {config_lib.TRAINABLES}, got "
                     f"{config.trainable!r}")
  if config.init_from:  # before anything is read or written
    shipped.check_encodes(config.init_from, "init_from")
    widening = _widening(config)
  if config.trainable == "encoder":
    _check_keeps_decoder(config, widening)
  paths = (data.glob_paths(config.train_glob) if config.train_glob
           else data.default_paths("train"))
  log(f"reading {len(paths)} training photographs ...")
  crops = data.RandomCrops(paths, config.patchsize, seed=config.seed,
                           sampling=config.sampling)
  final_crops = crops
  if config.final_steps:
    final_crops = data.RandomCrops(paths, config.final_patchsize,
                                   seed=config.seed + 1, sampling=config.sampling)
  final_from = config.num_steps - config.final_steps
  os.makedirs(config.model_dir, exist_ok=True)
  config_lib.write(config.model_dir, config.architecture, config.num_filters,
                   config.latent_filters, config.lmbda, config.hyper_filters)
  image_model = model_lib.ImageModel(config.architecture, config.num_filters,
                                     config.latent_filters, config.hyper_filters)

  log("building the training graph ...")
  graph = tf.Graph()
  with graph.as_default():
    v1.set_random_seed(config.seed)
    x = v1.placeholder(tf.float32, [None, None, None, 3], "x")
    net = image_model.training_graph(x, quantization=config.quantization)
    loss = net["bpp"] + config.lmbda * net["mse"]
    global_step = v1.train.get_or_create_global_step()
    learning_rate = v1.placeholder_with_default(
        tf.constant(config.learning_rate, tf.float32), [], "learning_rate")
    aux_vars = [v for v in v1.trainable_variables() if "quantiles" in v.name]
    main_vars = [v for v in v1.trainable_variables() if v not in aux_vars]
    keep_decoder = config.trainable == "encoder"
    if keep_decoder:  # Neither the decoder nor its tables change (no aux step).
      main_vars = [v for v in main_vars
                   if v.op.name.startswith(config_lib.ENCODER_SCOPES)]
      aux_vars = []
    main_step, skipped = training.clipped_step(
        v1.train.AdamOptimizer(learning_rate), loss, main_vars, global_step,
        config.clip_norm)
    train_op = main_step
    if aux_vars:
      train_op = tf.group(
          main_step,
          v1.train.AdamOptimizer(config.aux_learning_rate).minimize(
              net["aux_loss"], var_list=aux_vars))
    psnr = 10. * tf.math.log(255. ** 2 / net["mse"]) / math.log(10.)
    summaries = v1.summary.merge([
        v1.summary.scalar("loss", loss), v1.summary.scalar("bpp", net["bpp"]),
        v1.summary.scalar("mse", net["mse"]), v1.summary.scalar("psnr", psnr),
        v1.summary.scalar("aux_loss", net["aux_loss"]),
    ])
    images = v1.summary.merge([
        v1.summary.image("original", x, max_outputs=2),
        v1.summary.image("reconstruction",
                         tf.clip_by_value(net["x_hat"], 0., 1.), max_outputs=2),
    ])
    # The coding tables are rebuilt at each checkpoint, unless the decoder is kept:
    # then they stay --init_from's, bit for bit.
    update_op = tf.no_op() if keep_decoder else tf.group(*net["updates"])
    saver = training.ResumableSaver([skipped], max_to_keep=3)
    initialize = None
    if config.init_from:
      initialize = _initializer(
          config.init_from,
          widening and (config.num_filters, config.latent_filters), config.seed)
    init_op = v1.global_variables_initializer()
    latest = codec.latest_checkpoint(config.model_dir)
    resume = (latest and _resumer(latest, [skipped], init_op)) or saver.restore
    graph.finalize()

  with graph.as_default():
    writer = v1.summary.FileWriter(config.model_dir, graph)
  last = {}
  try:
    with training.StopSignals() as stop, v1.Session(
        graph=graph, config=codec.session_config(config.threads)) as sess:
      if latest:
        resume(sess, latest)
      else:
        sess.run(init_op)
        if initialize:
          shipped.write_init_from(config.model_dir, config.init_from)
          log(f"initialised {initialize(sess)} variables from {config.init_from}"
              + (f", widened from N={widening[0]} M={widening[1]} (the same "
                 "function at this step: widen.py)" if widening else ""))
      step = int(sess.run(global_step))
      log(f"{config.architecture} N={config.num_filters} M={config.latent_filters} "
          f"H={image_model.hyper_filters} "
          f"lambda={config.lmbda:g}: {len(crops.images)} training images; "
          + (f"resuming at step {step} of {config.num_steps}" if latest
             else f"{config.num_steps} steps") + f" -> {config.model_dir}")
      log("  " + describe_schedule(config, step))
      if step >= config.num_steps:
        log("already trained to --num_steps; nothing to do")

      checkpoints = training.Checkpoints(sess, saver.saver, config.model_dir,
                                         config.checkpoint_minutes, update_op,
                                         CHECKPOINT_PREFIX)
      state = {"step": step, "done": 0, "last": {}}
      with training.saves_on_interrupt(checkpoints, global_step, step, log):
        _loop(config, sess, state, fetch=dict(
            train_op=train_op, loss=loss, bpp=net["bpp"], mse=net["mse"],
            summaries=summaries, images=images, skipped=skipped),
              feeds=(x, learning_rate), crops=(crops, final_crops),
              checkpoints=checkpoints, writer=writer, log=log, stop=stop)
      step, done_here, last = state["step"], state["done"], state["last"]
      if done_here == 0 and latest is None:
        checkpoints.save(step)
  finally:
    writer.close()
  if done_here:
    log(f"saved {codec.latest_checkpoint(config.model_dir)}")
  return last
