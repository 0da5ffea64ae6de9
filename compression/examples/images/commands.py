"""Command line: `python -m compression.examples.images <command> [flags]`.

  train       train a model (bls2017 or bmshj2018) on random crops
  compress    IMAGE (PNG/JPEG) -> OUT (.cim file, format in container.py); or
              --out_dir=FOLDER INPUT... (files, folders, globs; batch.py), and
              --max_bytes / --target_bpp / --target_psnr choose the quality
  decompress  IN (.cim) -> OUT.png; or --out_dir=FOLDER INPUT...
  evaluate    bits per pixel, PSNR and MS-SSIM of a model on a folder of images
  compare     rate-distortion of models against JPEG, WebP, JPEG 2000, JPEG XL,
              AVIF and HEIC, plots, BD-rate
  beam_compress, beam_decompress   the same as compress / decompress for many
              files, on Apache Beam (beam_pipeline.py)

Each command has its own absl flags (`<command> --help`). TensorFlow is imported
only when a command needs it (help and most input errors come without it).
Expected failures print one `error:` line on stderr and exit with status 1.
"""

import json
import os
import sys
import tempfile
import time

from absl import flags

from compression.examples import cli

PROG = "python -m compression.examples.images"
DESCRIPTION = ("Image example: learned compression of photographs (bls2017, "
               "bmshj2018).")
DEFAULT_MODEL_DIR = os.path.join(tempfile.gettempdir(), "image_model")

_MODEL_DIR = ("string", "model_dir", DEFAULT_MODEL_DIR,
              "Model directory: config.json, checkpoints and summaries written by "
              "`train`.")
_CODER_MODEL_DIR = (
    "string", "model_dir", "",
    "Model directory written by `train`. Empty: a model shipped with the package "
    "(--quality).")
_QUALITY = (
    "integer", "quality", 0,
    "Which shipped model codes, when --model_dir is empty: 1 (lowest rate) to the "
    "highest shipped quality. 0: compress uses the default quality, decompress "
    "the model whose fingerprint the file's header names.")
_THREADS = ("integer", "threads", 0,
            "TensorFlow intra- and inter-op threads (0: its default).")
_OUT_DIR = (
    "string", "out_dir", "",
    "Many files: the folder (created) for NAME%s of every input; then every "
    "positional argument is an input: a file, a folder (its %s files, not "
    "recursive) or a quoted glob. Inputs of one name (stem) and an output that "
    "is an input are refused before any work; a file that fails is named on "
    "stderr and the rest go on (exit status 1 at the end).")
_EFFORT = (
    "integer", "effort", 0,
    "Encoder-side refinement: 0 (none: the network's own latents, fastest), 1, 2 "
    "or 3 (30, 100, 300 steps of gradient descent on this image's bits + lambda * "
    "MSE; on one thread about 0.5, 1.5 and 5 minutes a megapixel; see the image "
    "README for what each buys). The file format and the decoder are unchanged. "
    "Whole-image only: refused above the tile size.")
_TARGET_NOTE = (" Chooses per image among the shipped qualities (binary "
                "search); not with --quality / --model_dir. 0: none.")
_TARGETS = [
    ("integer", "max_bytes", 0,
     "The highest shipped quality whose file has at most N bytes. If even the "
     "lowest quality's file is larger: an error naming that size, nothing "
     "written." + _TARGET_NOTE),
    ("float", "target_bpp", 0.,
     "As --max_bytes, with a budget of floor(B * pixels / 8) bytes." +
     _TARGET_NOTE),
    ("float", "target_psnr", 0.,
     "The lowest shipped quality whose decoded image (decoded in-process) has a "
     "PSNR of at least D dB. If even the highest falls short: its file is "
     "written with a warning naming the PSNR reached (exit status 0)." +
     _TARGET_NOTE),
]
_FOLDER = ("string", "folder", "",
           "Folder of PNG/JPEG images. Empty: the held-out photographs that "
           "scikit-image ships (chelsea, coffee, ihc, rocket; never trained on).")
_TRAIN_FLAGS = [
    _MODEL_DIR,
    ("string", "architecture", "bmshj2018",
     "bls2017 (factorized prior), bmshj2018 (scale hyperprior), mbt2018-mean "
     "(mean-scale hyperprior) or ms2020-cc (mbt2018-mean with channel-"
     "conditional means; start it with --init_from an mbt2018-mean model)."),
    ("integer", "num_filters", 64,
     "N: channels of the analysis' and synthesis' hidden layers. Sized for 2 CPU "
     "cores; the papers use 128 (bmshj2018 low rates) to 192."),
    ("integer", "latent_filters", 96,
     "M: channels of y. The papers use 192 (bmshj2018 low rates)."),
    ("integer", "hyper_filters", 0,
     "Channels of the hyperprior's networks and of z (0: N). A narrower "
     "hyperprior keeps a wide model small: z is a few percent of the rate."),
    ("float", "lambda", 0.01,
     "Rate-distortion trade-off: loss = bits per pixel + lambda * MSE, pixels in "
     "[0, 255]."),
    ("string", "train_glob", "",
     "Glob of PNG/JPEG training images (any sizes, at least --patchsize). Empty: "
     "the photographs scikit-image ships (the fixed training split, data.py); "
     "the shipped models trained on the colour set of `fetch_photos` "
     "(--train_glob='~/.cache/compression/photos/train/*.png')."),
    ("string", "sampling", "image",
     "Which image each crop comes from: image (every image equally often) or "
     "area (in proportion to its area)."),
    ("string", "quantization", "noise",
     "What the synthesis sees of y while training: noise (y plus uniform noise, "
     "as in the rate term) or mixed (mbt2018-mean, ms2020-cc: y rounded around "
     "its predicted mean, as the coder codes it, the rounding's gradient passed "
     "straight through; the rate term keeps the noise)."),
    ("string", "trainable", "all",
     "What learns: all, or encoder (only the analysis and hyper-analysis "
     "transforms; needs --init_from a shipped model, whose decoder, entropy "
     "models and coding tables stay bit for bit, so the exported model has its "
     "fingerprint and decodes its files)."),
    ("integer", "patchsize", 0,
     "Side of the random square crops; a multiple of the total stride (16 for "
     "bls2017, 64 for the hyperprior models). 0: 256."),
    ("integer", "batch_size", 0, "Crops per step. 0: 4."),
    ("integer", "final_steps", -1,
     "The last N steps train on --final_patchsize crops. -1: none."),
    ("integer", "final_patchsize", 0, "Crop side of the final steps. 0: "
     "--patchsize."),
    ("integer", "final_batch_size", 0, "Crops per final step. 0: "
     "--batch_size."),
    ("string", "init_from", "",
     "A new run starts from the weights of this model directory, or of a "
     "shipped model (quality:1 .. quality:N), instead of a random "
     "initialisation (fresh step count and optimizer; another lambda, or "
     "mbt2018-mean from bmshj2018, ms2020-cc from mbt2018-mean). A larger "
     "--num_filters or --latent_filters than its model's widens a bmshj2018 or "
     "mbt2018-mean model so that it computes the same at step 0 (new units "
     "reach nothing until trained; --hyper_filters stays its model's). Ignored "
     "when --model_dir has a checkpoint."),
    ("integer", "num_steps", 5000,
     "Total training steps (a resumed run continues up to this number)."),
    ("float", "learning_rate", 1e-3, "Adam learning rate of the main loss."),
    ("integer", "warmup_steps", 200,
     "The learning rate rises linearly to --learning_rate over the first N "
     "steps."),
    ("float", "decay_last", .2,
     "Fraction of the steps, at the end, over which the learning rate decays "
     "geometrically to --final_learning_rate."),
    ("float", "final_learning_rate", 1e-5,
     "The learning rate at the last step."),
    ("float", "clip_norm", 1.,
     "Clip the main loss's gradients to this global norm (0: no clipping). A "
     "step whose gradients are not finite is skipped and counted."),
    ("integer", "log_every", 100, "Print a progress line every N steps."),
    ("integer", "checkpoint_every", 500,
     "Save a checkpoint (with fresh coding tables) every N steps."),
    ("float", "checkpoint_minutes", 10.,
     "Also save when this many minutes have passed since the last save. Ctrl-C "
     "saves too, and says how to resume."),
    ("integer", "threads", 0,
     "TensorFlow intra- and inter-op threads (0: its default). 1 lets two "
     "trainings share 2 cores at nearly full speed each."),
    ("integer", "seed", 0, "Random seed (crops, initialisation)."),
]


class _FilesFlagValues(flags.FlagValues):
  """The flags of compress / decompress: with --out_dir every positional
  argument is an input (kept in `inputs_given`), else they fill --input and
  --output as before; extra or missing ones fail as flag errors (one line)."""

  def __call__(self, argv, known_only=False):
    rest = super().__call__(argv, known_only)
    args, metavars = rest[1:], self.__dict__["_metavars"]
    if self["out_dir"].value:
      self.__dict__["inputs_given"] = (
          [self["input"].value] if self["input"].present else []) + args
      if not self.inputs_given:
        raise flags.Error("--out_dir needs one or more inputs (files, folders, "
                          "quoted globs)")
      return rest[:1]
    self.__dict__["inputs_given"] = []
    free = [name for name, _ in metavars if not self[name].present]
    if len(args) > len(free):
      raise flags.Error(
          f"unexpected arguments {args[len(free):]} (flags are --name=value; "
          "several inputs need --out_dir=FOLDER)")
    values = dict(zip(free, args))
    for name, metavar in metavars:
      if not values.get(name, self[name].value):
        raise flags.Error(f"{metavar} (or --{name}) is required")
    return rest


class _FilesCommand(cli.Command):
  """compress / decompress: one file (`IN OUT`, as `cli.Command`'s positional
  arguments), or many with --out_dir (`_FilesFlagValues`)."""

  def __init__(self, *args, many="", **kwargs):
    super().__init__(*args, **kwargs)
    self.many = many

  def make_flags(self):
    fv = _FilesFlagValues()
    fv.__dict__["_metavars"] = self.positional
    for kind, name, default, help_text in self.flag_specs + cli.COMMON_FLAGS:
      getattr(flags, f"DEFINE_{kind}")(name, default, help_text, flag_values=fv)
    return fv

  def help(self, prog):
    first, rest = super().help(prog).split("\n", 1)
    return "\n".join([first, f"   or: {prog} {self.name} --out_dir=FOLDER "
                              f"[--flag=value ...] {self.many}", rest])


def _check_output_file(what, path):
  """`path` can be written as a file: not a folder, in an existing folder."""
  if os.path.isdir(path):
    raise cli.CommandError(f"{what} {path} is a folder; give a file name")
  folder = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(folder):
    raise cli.CommandError(f"{what} {path}: folder {folder} does not exist")


def _require_model(model_dir):
  """The config of a trained model directory; fails before TensorFlow loads."""
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.require(model_dir)
  from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
  # tf.train.latest_checkpoint reads this index file; without it there is none.
  if not (os.path.isfile(os.path.join(model_dir, "checkpoint"))
          or shipped.is_shipped(model_dir)):
    raise cli.CommandError(f"{model_dir} has no checkpoint; train a model first")
  return config


def _image_paths(folder):
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  return data.folder_paths(folder) if folder else data.default_paths("held_out")


# Crop sizes: a side of at most MAX_PATCHSIZE, at most MAX_BATCH_SIZE crops and
# MAX_STEP_PIXELS pixels a step (128 times the default 8 crops of 64x64; about
# 1 GB of activations at N=48), so an absurd flag fails at once, not at 5 GB.
MAX_PATCHSIZE = 4096
MAX_BATCH_SIZE = 1024
MAX_STEP_PIXELS = 1 << 22
# Ranges of compress's targets (0: none).
MAX_TARGET_BYTES = 1 << 30
MAX_TARGET_BPP = 64.
MAX_TARGET_PSNR = 200.


def _check_threads(fv):
  cli.check_int(fv, "threads", 0, cli.MAX_THREADS, " (0: TensorFlow's default)")


def _check_train_flags(fv):
  """The ranges of `train`'s flags, before anything loads."""
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  for name in ("num_filters", "latent_filters"):
    cli.check_int(fv, name, 1, config_lib.MAX_FILTERS)
  cli.check_int(fv, "hyper_filters", 0, config_lib.MAX_FILTERS, " (0: N)")
  for name in ("num_steps", "log_every", "checkpoint_every"):
    cli.check_int(fv, name, 1, cli.MAX_STEPS)
  cli.check_int(fv, "final_steps", -1, cli.MAX_STEPS, " (-1: the default)")
  for name in ("patchsize", "final_patchsize"):
    cli.check_int(fv, name, 0, MAX_PATCHSIZE, " (0: the default)")
  for name in ("batch_size", "final_batch_size"):
    cli.check_int(fv, name, 0, MAX_BATCH_SIZE, " (0: the default)")
  for patch, batch in (("patchsize", "batch_size"),
                       ("final_patchsize", "final_batch_size")):
    pixels = fv[patch].value ** 2 * fv[batch].value
    if pixels > MAX_STEP_PIXELS:
      raise cli.CommandError(
          f"--{batch}={fv[batch].value} crops of --{patch}={fv[patch].value} are "
          f"{pixels} pixels a step, more than {MAX_STEP_PIXELS}")
  cli.check_float(fv, "lambda", 0, low_open=True)
  cli.check_float(fv, "learning_rate", 0, low_open=True)
  cli.check_float(fv, "decay_last", 0, 1)
  cli.check_float(fv, "checkpoint_minutes", 0, low_open=True)
  cli.check_float(fv, "final_learning_rate", 0, low_open=True)
  cli.check_int(fv, "warmup_steps", 0, cli.MAX_STEPS)
  if fv.sampling not in ("image", "area"):
    raise cli.CommandError(f"--sampling must be image or area, got {fv.sampling!r}")
  if fv.quantization not in config_lib.QUANTIZATIONS:
    raise cli.CommandError(
        f"--quantization must be {' or '.join(config_lib.QUANTIZATIONS)}, got "
        f"{fv.quantization!r}")
  if (fv.quantization == "mixed"
      and fv.architecture not in config_lib.MEAN_ARCHITECTURES):
    raise cli.CommandError(
        "--quantization=mixed needs --architecture="
        f"{' or '.join(config_lib.MEAN_ARCHITECTURES)} (the means it rounds "
        f"around), got {fv.architecture!r}")
  if fv.trainable not in config_lib.TRAINABLES:
    raise cli.CommandError(
        f"--trainable must be {' or '.join(config_lib.TRAINABLES)}, got "
        f"{fv.trainable!r}")
  if fv.trainable == "encoder" and not fv.init_from:
    raise cli.CommandError("--trainable=encoder needs --init_from (the shipped "
                           "model whose decoder it keeps)")
  cli.check_float(fv, "clip_norm", 0)
  cli.check_int(fv, "seed", 0, cli.MAX_SEED)
  _check_threads(fv)


def _init_from(value):
  """--init_from: "" , a model directory, or quality:N (a shipped model)."""
  if not value:
    return ""
  if value.startswith("quality:"):
    from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
    return shipped.model_dir(value[len("quality:"):])
  _require_model(value)
  return value


def _run_train(fv):
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  _check_train_flags(fv)
  if fv.architecture not in config_lib.ARCHITECTURES:
    raise cli.CommandError(f"--architecture must be one of "
                           f"{', '.join(config_lib.ARCHITECTURES)}, got "
                           f"{fv.architecture!r}")
  # Before TensorFlow loads: a glob matching no image fails at once.
  if fv.train_glob:
    data.glob_paths(fv.train_glob)
  else:
    data.default_paths("train")
  from compression.examples.images import train  # pylint: disable=g-import-not-at-top
  config = train.TrainConfig(
      model_dir=fv.model_dir, architecture=fv.architecture,
      num_filters=fv.num_filters, latent_filters=fv.latent_filters,
      hyper_filters=fv.hyper_filters, lmbda=fv["lambda"].value, train_glob=fv.train_glob, patchsize=fv.patchsize,
      batch_size=fv.batch_size, num_steps=fv.num_steps,
      learning_rate=fv.learning_rate, decay_last=fv.decay_last,
      warmup_steps=fv.warmup_steps, final_learning_rate=fv.final_learning_rate,
      init_from=_init_from(fv.init_from), sampling=fv.sampling,
      quantization=fv.quantization, trainable=fv.trainable,
      clip_norm=fv.clip_norm, final_steps=fv.final_steps,
      final_patchsize=fv.final_patchsize, final_batch_size=fv.final_batch_size,
      log_every=fv.log_every, checkpoint_every=fv.checkpoint_every,
      checkpoint_minutes=fv.checkpoint_minutes,
      threads=fv.threads, seed=fv.seed)
  train.train(config, log=cli.log)


def _coder_model_dir(fv, compressed=None):
  """The model directory of compress / decompress / evaluate: --model_dir, else the
  shipped model of --quality (or the default one, or the one the file names)."""
  if fv.model_dir:
    if fv.quality:
      raise cli.CommandError("give --model_dir or --quality, not both")
    return fv.model_dir
  from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
  if fv.quality:
    return shipped.model_dir(fv.quality)
  if compressed is not None:
    return shipped.model_dir_for_fingerprint(compressed.fingerprint)
  return shipped.model_dir(shipped.default_quality())


def _compress_target(fv):
  """The batch.Target of --max_bytes / --target_bpp / --target_psnr, or None;
  checked before anything loads."""
  cli.check_int(fv, "max_bytes", 0, MAX_TARGET_BYTES, " (0: no size target)")
  cli.check_float(fv, "target_bpp", 0, MAX_TARGET_BPP)
  cli.check_float(fv, "target_psnr", 0, MAX_TARGET_PSNR)
  given = [name for name in ("max_bytes", "target_bpp", "target_psnr")
           if fv[name].value]
  if not given:
    return None
  if len(given) > 1:
    raise cli.CommandError(
        f"give one target, not {' and '.join('--' + n for n in given)}")
  if fv.model_dir or fv.quality:
    raise cli.CommandError(
        f"--{given[0]} chooses among the shipped qualities; give it without "
        "--quality and --model_dir")
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  return batch.Target(given[0], float(fv[given[0]].value))


def _input_hint(path, what):
  """A CommandError for the one-file form given a folder or a glob as its input."""
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  if os.path.isdir(path) or not os.path.exists(path) and batch.is_glob(path):
    kind = "a folder" if os.path.isdir(path) else "a glob"
    raise cli.CommandError(
        f"{what} {path} is {kind}; for many files give an output folder: "
        f"--out_dir=FOLDER {path}")


def _run_compress(fv):
  started = time.time()
  _check_threads(fv)
  from compression.examples.images import refine  # pylint: disable=g-import-not-at-top
  cli.check_int(fv, "effort", 0, max(refine.EFFORT_STEPS))
  target = _compress_target(fv)
  if fv.out_dir:
    return _run_compress_many(fv, target, started)
  _input_hint(fv.input, "IMAGE")
  _check_output_file("OUT", fv.output)
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  image = data.read_image(fv.input)
  from compression.examples.images import container  # pylint: disable=g-import-not-at-top
  container.check_image_size(image.shape[1], image.shape[0], fv.input)
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  choice = None
  if target is None:
    model_dir = _coder_model_dir(fv)
    _require_model(model_dir)
    from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
    # Refinement takes seconds to minutes: its loss every quarter of the steps.
    encoded = codec.Encoder(model_dir, threads=fv.threads,
                            refinable=fv.effort > 0).compress(
                                image, effort=fv.effort,
                                log=cli.log if fv.effort else None)
  else:
    try:
      choice = batch.choose(image, target, batch.Coders(fv.threads, fv.effort),
                            fv.input)
    except batch.TargetError as error:
      raise cli.CommandError(str(error)) from None
    encoded = choice.trial.encoded
  with open(fv.output, "wb") as f:
    f.write(encoded.blob)
  height, width = image.shape[:2]
  pixels = height * width
  chosen = f"; {choice.summary}" if choice else ""
  cli.log(f"{fv.output}: {len(encoded.blob)} bytes for {width}x{height}, "
          f"{encoded.bpp(height, width):.4f} bpp (model estimate "
          f"{encoded.bits_estimate / pixels:.4f} bpp){chosen}; coded in "
          f"{encoded.seconds:.3f} s, {time.time() - started:.1f} s in all")
  if choice and choice.warning:
    print(f"warning: {choice.warning}", file=sys.stderr, flush=True)


def _file_errors():
  """What fails one file of many (the run carries on): the one-line errors."""
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  known = _known_errors() + (OSError, cli.CommandError, batch.TargetError)
  tf = sys.modules.get("tensorflow")
  return known + ((tf.errors.OpError,) if tf is not None else ())


def _prepare_many(fv, extensions, extension):
  """The (input, output) pairs of the many-files form, checked before any
  work; the output folder is created."""
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  if fv.output:
    raise cli.CommandError("give OUT (or --output) for one file, or --out_dir for "
                           "many, not both")
  if os.path.exists(fv.out_dir) and not os.path.isdir(fv.out_dir):
    raise cli.CommandError(f"--out_dir {fv.out_dir} exists and is not a folder")
  inputs = batch.expand(fv.inputs_given, extensions)
  jobs = batch.outputs(inputs, fv.out_dir, extension)
  os.makedirs(fv.out_dir, exist_ok=True)
  return jobs


def _finish_many(summary, count):
  if summary.failed:
    from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
    raise cli.CommandError(batch.failure_message(summary, count))


def _run_compress_many(fv, target, started):
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  jobs = _prepare_many(fv, batch.IMAGE_EXTENSIONS, ".cim")
  model_dir = None
  if target is None:
    model_dir = _coder_model_dir(fv)
    _require_model(model_dir)
  from compression.examples.images import container  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  coders = batch.Coders(fv.threads, fv.effort)

  def work(source, output):
    image = data.read_image(source)
    height, width = image.shape[:2]
    container.check_image_size(width, height, source)
    detail = warning = ""
    if target is None:
      blob = coders.compress(model_dir, image).blob
    else:
      choice = batch.choose(image, target, coders, source)
      blob, detail, warning = (choice.trial.encoded.blob, f"; {choice.summary}",
                               choice.warning)
    with open(output, "wb") as f:
      f.write(blob)
    return batch.Done(bytes_in=os.path.getsize(source), bytes_out=len(blob),
                      coded_bytes=len(blob), pixels=height * width,
                      detail=detail, warning=warning)

  _finish_many(batch.run(jobs, work, _file_errors, started), len(jobs))


def _read_compressed(path):
  """The bytes of a .cim file, checked (header, sizes, CRC) without TensorFlow."""
  from compression.examples.images import container  # pylint: disable=g-import-not-at-top
  blob = container.read_blob(path)
  return blob, container.unpack(blob, path)


def _run_decompress(fv):
  started = time.time()
  _check_threads(fv)
  if fv.out_dir:
    return _run_decompress_many(fv, started)
  _input_hint(fv.input, "IN")
  _check_output_file("OUT", fv.output)
  blob, compressed = _read_compressed(fv.input)
  model_dir = _coder_model_dir(fv, compressed)
  architecture = _require_model(model_dir)["architecture"]
  if compressed.architecture != architecture:
    raise cli.CommandError(f"{fv.input} was made by a {compressed.architecture} "
                           f"model, the model in {model_dir} is {architecture}")
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  decoded = codec.Decoder(model_dir, threads=fv.threads).decompress(
      blob, fv.input)
  data.write_png(fv.output, decoded.image)
  height, width = compressed.height, compressed.width
  cli.log(f"{fv.output}: {width}x{height} from {len(blob)} bytes "
          f"({8. * len(blob) / (height * width):.4f} bpp); decoded in "
          f"{decoded.seconds:.3f} s, {time.time() - started:.1f} s in all")


def _run_decompress_many(fv, started):
  from compression.examples.images import batch  # pylint: disable=g-import-not-at-top
  jobs = _prepare_many(fv, batch.CIM_EXTENSIONS, ".png")
  if fv.model_dir or fv.quality:  # one model for every file: check it now
    _require_model(_coder_model_dir(fv))
  from compression.examples.images import container  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
  coders = batch.Coders(fv.threads)

  def work(source, output):
    blob, compressed = _read_compressed(source)
    model_dir = _coder_model_dir(fv, compressed)
    architecture = _require_model(model_dir)["architecture"]
    if compressed.architecture != architecture:
      raise container.ContainerError(
          f"{source} was made by a {compressed.architecture} model, the model in "
          f"{model_dir} is {architecture}")
    decoded = coders.decoder(model_dir).decompress(blob, source)
    data.write_png(output, decoded.image)
    quality = shipped.record(model_dir).get("quality")
    model = (f"quality {quality}" if shipped.is_shipped(model_dir) and quality
             else model_dir)
    height, width = compressed.height, compressed.width
    return batch.Done(bytes_in=len(blob), bytes_out=os.path.getsize(output),
                      coded_bytes=len(blob), pixels=height * width,
                      detail=f"; {width}x{height} by {model}")

  _finish_many(batch.run(jobs, work, _file_errors, started), len(jobs))


def _json_value(value):
  if hasattr(value, "tolist"):  # numpy scalars and arrays
    return value.tolist()
  raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _efforts(values):
  """--efforts' strings -> distinct ints among refine.EFFORT_STEPS."""
  from compression.examples.images import refine  # pylint: disable=g-import-not-at-top
  known = sorted(refine.EFFORT_STEPS)
  efforts = []
  for value in values:
    if not value.strip().isdigit() or int(value) not in known:
      raise cli.CommandError(f"--efforts: {value!r} is not an effort; each must be "
                             f"one of {','.join(map(str, known))}")
    if int(value) in efforts:
      raise cli.CommandError(f"--efforts: {value} is named twice")
    efforts.append(int(value))
  if not efforts:
    raise cli.CommandError("--efforts: name at least one effort (0: none)")
  return efforts


def _run_evaluate(fv):
  from compression.examples.images import refine  # pylint: disable=g-import-not-at-top
  _check_threads(fv)
  cli.check_int(fv, "effort", 0, max(refine.EFFORT_STEPS))
  if fv.output_json:
    _check_output_file("--output_json", fv.output_json)
  paths = _image_paths(fv.folder)
  _require_model(fv.model_dir)
  from compression.examples.images import evaluate  # pylint: disable=g-import-not-at-top
  result = evaluate.evaluate(fv.model_dir, paths, threads=fv.threads, log=cli.log,
                             effort=fv.effort)
  mean = result["mean"]
  cli.log(f"mean of {len(result['images'])} images: {mean['bpp']:.4f} bpp (est. "
          f"{mean['bpp_estimate']:.4f}), PSNR {mean['psnr']:.2f} dB, MS-SSIM "
          f"{mean['ms_ssim']:.4f}; every round trip exact")
  if fv.output_json:
    with open(fv.output_json, "w") as f:
      json.dump(result, f, indent=2, default=_json_value)
    cli.log(f"wrote {fv.output_json}")


def _run_compare(fv):
  _check_threads(fv)
  if os.path.exists(fv.out_dir) and not os.path.isdir(fv.out_dir):
    raise cli.CommandError(f"--out_dir {fv.out_dir} exists and is not a folder")
  efforts = _efforts(fv.efforts)
  paths = _image_paths(fv.folder)
  for model_dir in fv.model_dirs:
    _require_model(model_dir)
  cli.require_modules("compare (figures)", ("matplotlib", "matplotlib"))
  from compression.examples.images import compare  # pylint: disable=g-import-not-at-top
  # Checked before any work: an unknown name or a named anchor whose library is
  # missing is one error line naming its pip package and the anchors extra.
  if fv.anchor_points:
    if not os.path.isfile(fv.anchor_points):
      raise cli.CommandError(f"--anchor_points {fv.anchor_points} is not a file")
    anchors = fv.anchors
  else:
    anchors = compare.resolve_anchors(fv.anchors, log=cli.log)
  compare.compare(fv.model_dirs, paths, fv.out_dir, anchors=anchors,
                  threads=fv.threads, log=cli.log, anchor_points=fv.anchor_points,
                  efforts=efforts)


def _run_fetch_photos(fv):
  from compression.examples.images import photos  # pylint: disable=g-import-not-at-top
  try:
    written = photos.fetch(fv.data_dir, log=cli.log)
  except photos.FetchError as error:
    raise cli.CommandError(str(error)) from None
  cli.log(f"done: {len(written['train'])} training and {len(written['held_out'])} "
          f"held-out photographs under {fv.data_dir}; train with "
          f"--train_glob='{os.path.join(fv.data_dir, 'train', '*.png')}'")


def _run_demo(fv):
  _check_threads(fv)
  from compression.examples.images import demo  # pylint: disable=g-import-not-at-top
  from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
  rows = demo.run(fv.output_dir, fv.input or demo.SAMPLE, log=cli.log)
  if fv.input == "":
    cli.log(f"(the photograph: {demo.SAMPLE_SOURCE})")
  gain = demo.mean_gain(rows)
  cli.log(f"mean PSNR against JPEG at the same size: {gain:+.2f} dB over "
          f"{len(rows)} qualities (models: {shipped.MODELS_DIR})")


def _run_beam(fv, beam_args, which):
  _check_threads(fv)
  if os.path.exists(fv.output_dir) and not os.path.isdir(fv.output_dir):
    raise cli.CommandError(f"--output_dir {fv.output_dir} is not a folder")
  _require_model(fv.model_dir)
  from compression.examples.images import beam_pipeline  # pylint: disable=g-import-not-at-top
  getattr(beam_pipeline, which)(fv.model_dir, fv.input_glob, fv.output_dir,
                                beam_args, threads=fv.threads, log=cli.log)


_BEAM_NOTE = (" Dead letters (inputs that failed, with the reason) go to "
              "OUTPUT_DIR/dead-letter-*.txt. Other arguments are Beam pipeline "
              "options (--runner, --direct_num_workers, ...); the default is the "
              "DirectRunner with one worker process per CPU. Needs the beam extra "
              "(apache-beam).")


COMMANDS = {
    "demo": cli.Command(
        "demo", "the shipped models on a bundled photograph, beside JPEG",
        "Compresses a bundled held-out photograph (or --input) with every shipped "
        "quality, decompresses each file in a separate process, and prints bytes, "
        "bits per pixel, PSNR and MS-SSIM beside JPEG at the largest quality whose "
        "file is not larger. Writes the .cim files and decoded PNGs (and JPEG's) "
        "into --output_dir.",
        [("string", "input", "", "A PNG/JPEG photograph; empty: the bundled one."),
         ("string", "output_dir", os.path.join("runs", "image_demo"),
          "Folder for the .cim files and decoded images."),
         _THREADS],
        _run_demo),
    "fetch_photos": cli.Command(
        "fetch_photos", "build the colour photograph set (Debian packages)",
        "Downloads Debian's opencv-doc and mate-backgrounds with apt-get download "
        "(unpacked with dpkg-deb into a temporary folder; nothing is installed), "
        "takes their natural colour photographs and a few from matplotlib, "
        "scikit-image and scikit-learn's wheel, and writes them as PNG under "
        "DATA_DIR/train and DATA_DIR/held_out (the fixed split of photos.py), with "
        "the licences under DATA_DIR/licenses. About 150 MB downloaded.",
        [("string", "data_dir", os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
            "compression", "photos"), "Folder to write the photographs to.")],
        _run_fetch_photos),
    "train": cli.Command(
        "train", "train a model on random crops of photographs",
        "Trains bls2017, bmshj2018, mbt2018-mean or ms2020-cc on random crops, "
        "minimizing bits per pixel + lambda * MSE. Writes config.json, "
        "checkpoints (resumable: run the same "
        "command again) and TensorBoard summaries under --model_dir.",
        _TRAIN_FLAGS, _run_train),
    "compress": _FilesCommand(
        "compress", "compress PNG/JPEG images into .cim files",
        "Reads IMAGE (PNG or JPEG; grey and alpha images become RGB), codes it "
        "with the newest checkpoint in --model_dir (or a shipped --quality) and "
        "writes OUT, a .cim file (format: compression/examples/images/README.md). "
        "Prints the file size, the actual bits per pixel (file bits / pixels, "
        "header included), the model's estimate and the time."
        "\n\n"
        "Many files: `compress --out_dir=FOLDER INPUT...` writes FOLDER/NAME.cim "
        "for every image of the inputs (files, folders, quoted globs) in one "
        "process (TensorFlow and each model load once), a line `[i/n] name: "
        "bytes, bpp, seconds` per file and a summary (files done and failed, "
        "bytes in and out, mean bpp, photos per second)."
        "\n\n"
        "Targets: --max_bytes / --target_bpp (highest quality that fits) or "
        "--target_psnr (lowest quality that reaches it) choose a shipped quality "
        "per image; the line names the quality, bytes and PSNR."
        "\n\n"
        "--effort=N refines the latents for this image before coding (slower "
        "encoding, fewer bits at the same quality; any decoder reads the file).",
        [_CODER_MODEL_DIR, _QUALITY,
         ("string", "input", None, "The PNG or JPEG image to compress."),
         ("string", "output", None, "The compressed file to write (.cim)."),
         (_OUT_DIR[0], _OUT_DIR[1], _OUT_DIR[2],
          _OUT_DIR[3] % (".cim", "PNG/JPEG")),
         *_TARGETS,
         _EFFORT,
         _THREADS],
        _run_compress,
        positional=(("input", "IMAGE"), ("output", "OUT")),
        many="INPUT..."),
    "decompress": _FilesCommand(
        "decompress", "decode .cim files into PNG images",
        "Reads IN (refusing files that are truncated, damaged (CRC-32), not "
        ".cim files, or made by another model: the header's architecture and "
        "fingerprint of the coding tables), decodes it with the newest "
        "checkpoint in --model_dir (without --model_dir and --quality: the "
        "shipped model whose fingerprint the header names) and writes OUT as a "
        "PNG of the original size."
        "\n\n"
        "Many files: `decompress --out_dir=FOLDER INPUT...` writes "
        "FOLDER/NAME.png for every .cim file of the inputs (files, folders, "
        "quoted globs) in one process, the model chosen per file as above, with "
        "a line per file and a summary.",
        [_CODER_MODEL_DIR, _QUALITY,
         ("string", "input", None, "The .cim file to decode."),
         ("string", "output", None, "The PNG file to write."),
         (_OUT_DIR[0], _OUT_DIR[1], _OUT_DIR[2], _OUT_DIR[3] % (".png", ".cim")),
         _THREADS],
        _run_decompress,
        positional=(("input", "IN"), ("output", "OUT.png")),
        many="INPUT..."),
    "evaluate": cli.Command(
        "evaluate", "bits per pixel, PSNR and MS-SSIM on a folder of images",
        "Compresses and decompresses every image of --folder with the model in "
        "--model_dir, checks the round trip, and reports per image and on "
        "average the actual bits per pixel, PSNR (dB, peak 255) and MS-SSIM.",
        [_MODEL_DIR, _FOLDER,
         ("string", "output_json", "", "Optional JSON file for the results."),
         _EFFORT, _THREADS],
        _run_evaluate),
    "compare": cli.Command(
        "compare", "models against JPEG, WebP, JPEG 2000, JPEG XL, AVIF, HEIC",
        "Evaluates every model of --model_dirs and sweeps the setting of each "
        "anchor codec (JPEG, WebP and JPEG 2000 by Pillow; JPEG XL and AVIF by "
        "imagecodecs and HEIC by pillow-heif: the anchors extra) on the images "
        "of --folder; writes the rate-distortion points (CSV), plots of PSNR and "
        "MS-SSIM against bits per pixel and the BD-rate of each model against "
        "every anchor into --out_dir. Models of one architecture form one curve "
        "(train several lambdas).",
        [("list", "model_dirs", [], "Comma-separated model directories "
          "(none: the anchors only)."),
         ("list", "anchors", [], "Comma-separated anchors among jpeg, webp, "
          "jpeg2000, jpegxl, avif, heic (none: every one whose library is "
          "installed; one named whose library is missing is an error naming "
          "its pip package)."),
         _FOLDER,
         ("string", "out_dir", "image_compare",
          "Folder for rd.csv, rd_psnr.png, rd_msssim.png and summary.md "
          "(created), and evaluations/: each model's evaluation, read back by a "
          "later compare into this folder when the weights, effort and images "
          "are the same (an interrupted compare resumes; delete it to measure "
          "again)."),
         ("string", "anchor_points", "", "rd.csv of an earlier compare on the "
          "same images: its anchor points stand in for running the anchors "
          "again (they are deterministic; --anchors picks among them)."),
         ("list", "efforts", ["0"], "Comma-separated efforts of encoder-side "
          "refinement (as compress --effort) to evaluate every model at: one "
          "curve per architecture and effort, each effort N > 0 also compared "
          "with effort 0 when that is named too (default: 0 only)."),
         _THREADS],
        _run_compare),
    "beam_compress": cli.Command(
        "beam_compress", "compress many images on Apache Beam",
        "Compresses every image matched by --input_glob into "
        "--output_dir/<name>.cim (the bytes `compress` writes), on Apache Beam."
        + _BEAM_NOTE,
        [_MODEL_DIR,
         ("string", "input_glob", None, "Glob of PNG/JPEG images (any Beam "
          "filesystem)."),
         ("string", "output_dir", None, "Folder for the .cim files (created)."),
         _THREADS],
        lambda fv, rest: _run_beam(fv, rest, "compress"),
        required=("input_glob", "output_dir"), passthrough=True),
    "beam_decompress": cli.Command(
        "beam_decompress", "decode many .cim files on Apache Beam",
        "Decodes every .cim file matched by --input_glob into "
        "--output_dir/<name>.png, on Apache Beam." + _BEAM_NOTE,
        [_MODEL_DIR,
         ("string", "input_glob", None, "Glob of .cim files."),
         ("string", "output_dir", None, "Folder for the PNG files (created)."),
         _THREADS],
        lambda fv, rest: _run_beam(fv, rest, "decompress"),
        required=("input_glob", "output_dir"), passthrough=True),
}


def _known_errors():
  """Exception types reported as one `error:` line.

  The codec's errors can only have been raised once it was imported, so it is
  not imported here (that would load TensorFlow just to report an error).
  """
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  from compression.examples.images import container  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  from compression.examples.common import errors as beam_errors  # pylint: disable=g-import-not-at-top
  from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
  from compression.examples.images import widen  # pylint: disable=g-import-not-at-top
  known = [config_lib.ConfigError, container.ContainerError, data.DataError,
           shipped.ShippedModelError, widen.WidenError, beam_errors.InputError,
           beam_errors.MissingDependencyError,
           FloatingPointError]  # train: the loss not finite many steps in a row
  codec = sys.modules.get("compression.examples.images.codec")
  if codec is not None:
    known += [codec.CheckpointError, codec.DecodeError]
  return tuple(known)


def main(argv=None):
  """Entry point (also the `image-compression` console script)."""
  cli.main(PROG, DESCRIPTION, COMMANDS, _known_errors, argv)
