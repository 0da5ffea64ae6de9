"""Command line: `python -m compression.examples.mnist <command> [flags]`.

Each command has its own set of absl flags (`<command> --help` lists them).
TensorFlow is imported only when a command runs, so `--help` is quick.
Expected failures (missing data or checkpoint, bad container files, bad
flags) print one `error:` message and exit with status 1, no traceback.
"""

import os
import tempfile

from compression.examples import cli

PROG = "python -m compression.examples.mnist"
DESCRIPTION = "MNIST worked example: learned compression of handwritten digits."
DEFAULT_MODEL_DIR = os.path.join(tempfile.gettempdir(), "mnist_model")


# The shared plumbing, under the names this module has always offered.
Command = cli.Command
CommandError = cli.CommandError
op_error_message = cli.op_error_message
_log = cli.log

# Flag specs: (kind, name, default, help). Kinds map to absl DEFINE_*.
_MODEL_DIR = ("string", "model_dir", DEFAULT_MODEL_DIR,
              "Model directory: checkpoints, config.json and metrics.json "
              "written by `train`.")
_DATA_DIR = ("string", "data_dir", "",
             "Directory holding the four MNIST files (train-images-idx3-ubyte.gz"
             ", train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
             "t10k-labels-idx1-ubyte.gz). Empty: the MNIST_DIR environment "
             "variable, else the cache folder fetch_mnist fills "
             "(~/.cache/compression/mnist).")
_DOWNLOAD = ("bool", "download", False,
             "Fetch the MNIST files first when they are not there (as "
             "fetch_mnist does: public mirrors, SHA-256 checked).")
_SEED = ("integer", "seed", 0,
         "Random seed (TF graph seed, NumPy, data shuffling).")
_TEST_SIZE = ("integer", "test_size", 0,
              "Use only the first N test digits (0: all 10000).")
_TRAIN_FLAGS = [
    _DATA_DIR,
    ("integer", "latent_dims", 50, "Number of latent dimensions (channels of "
     "the EntropyBottleneck)."),
    ("integer", "epochs", 15, "Training epochs over the training set."),
    ("integer", "steps", 0, "Training steps; when > 0, overrides --epochs."),
    ("integer", "batch_size", 128, "Training batch size."),
    ("float", "learning_rate", 1e-3, "Adam learning rate of the main loss."),
    ("float", "decay_last", 0.0,
     "Fraction of the training steps, at the end, run at --learning_rate / 10 "
     "(0: a constant learning rate)."),
    ("float", "clip_norm", 0.0,
     "Clip the main loss's gradients to this global norm (0, the default: no "
     "clipping, the documented figures). A step whose gradients are not finite "
     "is skipped whatever this is, and counted in the progress lines and "
     "metrics.json."),
    ("float", "aux_learning_rate", 1e-3,
     "Adam learning rate of the EntropyBottleneck's auxiliary (quantile) loss."),
    ("string", "prior", "deep_factorized",
     "Entropy model of the latents: deep_factorized (EntropyBottleneck) or "
     "noisy_logistic (logistic, mean 0, one learned scale per latent "
     "dimension). Recorded in config.json."),
    _SEED,
    ("integer", "log_every", 100, "Print a progress line every N steps."),
    ("float", "checkpoint_minutes", 10.0,
     "Save a checkpoint after every epoch and whenever this many minutes have "
     "passed since the last save; Ctrl-C saves too. Running the same command "
     "again resumes from the newest checkpoint."),
    ("integer", "train_size", 0,
     "Use only the first N training digits (0: all 60000)."),
    _TEST_SIZE,
]
_LAMBDA = ("float", "lambda", 2000.0,
           "Rate-distortion trade-off: loss = bits/digit + lambda * MAE.")


def _train_config(fv, model_dir):
  from compression.examples.mnist import train  # pylint: disable=g-import-not-at-top
  return train.TrainConfig(
      model_dir=model_dir, data_dir=fv["data_dir"].value,
      latent_dims=fv["latent_dims"].value,
      lmbda=fv["lambda"].value if "lambda" in fv else 2000.0,
      epochs=fv["epochs"].value, steps=fv["steps"].value,
      batch_size=fv["batch_size"].value,
      learning_rate=fv["learning_rate"].value,
      aux_learning_rate=fv["aux_learning_rate"].value,
      prior=fv["prior"].value,
      decay_last=fv["decay_last"].value, clip_norm=fv["clip_norm"].value,
      seed=fv["seed"].value,
      log_every=fv["log_every"].value, train_size=fv["train_size"].value,
      test_size=fv["test_size"].value,
      checkpoint_minutes=fv["checkpoint_minutes"].value)


def _check_positive(fv, *names):
  for name in names:
    if fv[name].value <= 0:
      raise CommandError(f"--{name} must be positive, got {fv[name].value}")


def _check_latent_dims(fv):
  from compression.examples.mnist import config  # pylint: disable=g-import-not-at-top
  if not 1 <= fv["latent_dims"].value <= config.MAX_LATENT_DIMS:
    raise CommandError(f"--latent_dims must be in 1..{config.MAX_LATENT_DIMS}"
                       f", got {fv['latent_dims'].value}")


def _check_prior(fv):
  from compression.examples.mnist import config  # pylint: disable=g-import-not-at-top
  if fv["prior"].value not in config.PRIORS:
    raise CommandError(f"--prior must be one of {', '.join(config.PRIORS)}, "
                       f"got {fv['prior'].value!r}")


def _check_at_most(fv, name, limit):
  if fv[name].value > limit:
    raise CommandError(f"--{name} must be at most {limit}, got "
                       f"{fv[name].value}")


# Largest training batch: training holds about 85 KB of activations and
# gradients per digit (a batch of all 60000 digits reached 5 GB and aborted), so
# 4096 digits take about 350 MB.
MAX_BATCH_SIZE = 4096
MAX_EPOCHS = 10000
# Beam: digits per session run and output shards.
MAX_BEAM_BATCH_SIZE = 10000
MAX_SHARDS = 10000
MAX_DEMO_COUNT = 1024


def _check_train_flags(fv):
  """The ranges of the training flags (train, sweep), before anything loads."""
  _check_latent_dims(fv)
  _check_prior(fv)
  cli.check_int(fv, "batch_size", 1, MAX_BATCH_SIZE)
  cli.check_int(fv, "epochs", 0, MAX_EPOCHS)
  cli.check_int(fv, "steps", 0, cli.MAX_STEPS, " (0: use --epochs)")
  if fv["steps"].value == 0 and fv["epochs"].value == 0:
    raise CommandError("give --epochs > 0 or --steps > 0")
  cli.check_int(fv, "log_every", 1, cli.MAX_STEPS)
  cli.check_int(fv, "train_size", 0, 10 ** 9, " (0: all)")
  cli.check_int(fv, "test_size", 0, 10 ** 9, " (0: all)")
  cli.check_int(fv, "seed", 0, cli.MAX_SEED)
  cli.check_float(fv, "learning_rate", 0, low_open=True)
  cli.check_float(fv, "aux_learning_rate", 0, low_open=True)
  cli.check_float(fv, "decay_last", 0, 1)
  cli.check_float(fv, "clip_norm", 0)
  cli.check_float(fv, "checkpoint_minutes", 0, low_open=True)
  if "lambda" in fv:
    cli.check_float(fv, "lambda", 0, low_open=True)


def _check_beam_flags(fv):
  cli.check_int(fv, "num_shards", 0, MAX_SHARDS, " (0: the runner decides)")
  cli.check_int(fv, "max_batch_size", 1, MAX_BEAM_BATCH_SIZE)


def _check_latents_out(fv):
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  if fv["latents_out"].value:
    paths.check_output_file("latents_out", fv["latents_out"].value, ".npy")


def _check_data(fv):
  """Fails early (before TensorFlow loads) when the MNIST files are absent; with
  --download, fetches them first."""
  from compression.examples.mnist import data  # pylint: disable=g-import-not-at-top
  if "download" in fv and fv["download"].value:
    from compression.examples.mnist import fetch  # pylint: disable=g-import-not-at-top
    if fetch.missing(fv["data_dir"].value or fetch.default_dir()):
      _fetch(fv["data_dir"].value)
  data.resolve_data_dir(fv["data_dir"].value)


def _fetch(data_dir, sources=None):
  from compression.examples.mnist import fetch  # pylint: disable=g-import-not-at-top
  data_dir = data_dir or fetch.default_dir()
  _log(f"fetching the four MNIST files into {data_dir}")
  try:
    return fetch.fetch(data_dir, sources or None, log=_log)
  except fetch.FetchError as e:
    raise CommandError(str(e)) from None


def _run_fetch_mnist(fv):
  data_dir = _fetch(fv["data_dir"].value, fv["mirrors"].value)
  _log(f"done: {data_dir} holds the four MNIST files"
       + ("" if fv["data_dir"].value or os.environ.get("MNIST_DIR") else
          "; the MNIST commands read them from there by default"))


_PIL = ("PIL", "pillow")
_MATPLOTLIB = ("matplotlib", "matplotlib")


def _run_train(fv):
  _check_train_flags(fv)
  _check_data(fv)
  from compression.examples.mnist import train  # pylint: disable=g-import-not-at-top
  result = train.train(_train_config(fv, fv["model_dir"].value), log=_log)
  test = result["final"]["test"]
  _log(f"done: {result['steps']} steps at {result['steps_per_sec']:.1f} "
       f"steps/s; test ~{test['bits_per_digit']:.2f} bits/digit (estimate), "
       f"MAE {test['mae']:.4f}, PSNR {test['psnr']:.2f} dB; "
       f"{os.path.join(fv['model_dir'].value, train.METRICS_FILE)}")


def _run_compress(fv):
  from compression.examples.mnist import files  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  paths.check_output_file("output", fv["output"].value)
  _check_latents_out(fv)
  cli.check_int(fv, "start", 0, 10 ** 9)
  from compression.examples.mnist import container  # pylint: disable=g-import-not-at-top
  cli.check_int(fv, "count", 1, container.MAX_COUNT)
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  codec.check_model_dir(fv["model_dir"].value)
  if fv["png"].value:
    digits, labels, names = files.read_pngs(fv["png"].value)
  else:
    digits, labels, names = files.select_test_digits(
        fv["data_dir"].value, fv["start"].value, fv["count"].value)
  per_digit = fv["per_digit_strings"].value
  result = files.compress_digits(fv["model_dir"].value, digits,
                                 fv["output"].value,
                                 fv["latents_out"].value or None, per_digit)
  _log("  digit  source            label  est.bits" +
       ("  bytes" if per_digit else ""))
  for i, name in enumerate(names):
    label = str(labels[i]) if labels[i] >= 0 else "-"
    line = f"  {i:5d}  {name:16s}  {label:>5}  {result['bits'][i]:8.1f}"
    _log(line + (f"  {len(result['strings'][i]):5d}" if per_digit else ""))
  n = len(names)
  coded = sum(len(s) for s in result["strings"])
  _log(f"wrote {fv['output'].value}: {n} digits in "
       f"{len(result['strings'])} string(s), {result['file_size']} bytes "
       f"({coded} coded + {result['file_size'] - coded} container); "
       f"{8 * result['file_size'] / n:.1f} file bits/digit, "
       f"{8 * coded / n:.1f} coded, {result['bits'].mean():.1f} estimated")


def _run_decompress(fv):
  from compression.examples.mnist import files  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  paths.check_output_dir("output_dir", fv["output_dir"].value)
  if fv["grid"].value:
    paths.check_output_file("grid", fv["grid"].value)
  _check_latents_out(fv)
  result = files.decompress_file(
      fv["model_dir"].value, fv["input"].value, fv["output_dir"].value,
      fv["grid"].value or None, fv["latents_out"].value or None)
  n = result["count"]
  _log(f"decoded {n} digits from {fv['input'].value} into "
       f"{fv['output_dir'].value}/ ({files.png_name(0)} .. "
       f"{files.png_name(n - 1) if n else '-'})")
  if fv["grid"].value:
    _log(f"grid: {fv['grid'].value}")


def _run_evaluate(fv):
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  if fv["output"].value:
    paths.check_output_file("output", fv["output"].value)
  cli.check_int(fv, "test_size", 0, 10 ** 9, " (0: all)")
  from compression.examples.mnist import container  # pylint: disable=g-import-not-at-top
  cli.check_int(fv, "digits_per_file", 1, container.MAX_COUNT)
  from compression.examples.mnist import evaluate  # pylint: disable=g-import-not-at-top
  model_dir = fv["model_dir"].value
  summary, _ = evaluate.evaluate(model_dir, fv["data_dir"].value,
                                 fv["test_size"].value,
                                 digits_per_file=fv["digits_per_file"].value)
  for line in evaluate.format_report(summary):
    _log(line)
  output = fv["output"].value or os.path.join(model_dir,
                                              evaluate.EVALUATION_FILE)
  evaluate.write_summary(summary, output)
  _log(f"wrote {output}")


def _run_sweep(fv):
  from compression.examples.mnist import sweep  # pylint: disable=g-import-not-at-top
  lambdas = sweep.parse_lambdas(fv["lambdas"].value)
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  paths.check_output_dir("output_dir", fv["output_dir"].value)
  _check_train_flags(fv)
  cli.require_modules("sweep (figures)", _PIL, _MATPLOTLIB)
  _check_data(fv)
  output_dir = fv["output_dir"].value
  rows = sweep.sweep(_train_config(fv, output_dir), lambdas, output_dir,
                     log=_log)
  _log(f"wrote {output_dir}/sweep.csv, sweep.md, rate_distortion.png and "
       f"examples_lambda_*.png ({len(rows)} runs)")


def _run_report(fv):
  from compression.examples.mnist import sweep  # pylint: disable=g-import-not-at-top
  for path in sweep.report(fv["sweep_dir"].value):
    _log(f"wrote {path}")


def _run_sample(fv):
  _check_positive(fv, "count", "num_bytes")
  from compression.examples.mnist import sample  # pylint: disable=g-import-not-at-top
  _check_at_most(fv, "count", sample.MAX_COUNT)
  _check_at_most(fv, "num_bytes", sample.MAX_NUM_BYTES)
  cli.check_int(fv, "seed", 0, cli.MAX_SEED)
  cli.check_float(fv, "latent_clip", 0)
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  paths.check_output_file("output", fv["output"].value)
  from compression.examples.mnist import images  # pylint: disable=g-import-not-at-top
  digits, _, _ = sample.sample(fv["model_dir"].value, fv["count"].value,
                               fv["num_bytes"].value, fv["seed"].value,
                               fv["latent_clip"].value or None)
  images.write_png(fv["output"].value,
                   images.upscale(images.grid(digits), 2))
  _log(f"decoded {len(digits)} random {fv['num_bytes'].value}-byte strings; "
       f"wrote {fv['output'].value}")


def _run_beam_compress(fv, beam_args):
  _check_beam_flags(fv)
  cli.check_int(fv, "start", 0, 10 ** 9)
  cli.check_int(fv, "count", 0, 10 ** 9, " (0: to the end)")
  from compression.examples.mnist import beam_pipeline  # pylint: disable=g-import-not-at-top
  beam_pipeline.compress(
      fv["model_dir"].value, fv["output"].value, beam_args,
      data_dir=fv["data_dir"].value, split=fv["split"].value,
      start=fv["start"].value, count=fv["count"].value, png=fv["png"].value,
      num_shards=fv["num_shards"].value,
      max_batch_size=fv["max_batch_size"].value, log=_log)


def _run_beam_decompress(fv, beam_args):
  _check_beam_flags(fv)
  from compression.examples.mnist import beam_pipeline  # pylint: disable=g-import-not-at-top
  beam_pipeline.decompress(
      fv["model_dir"].value, fv["input"].value, fv["output"].value, beam_args,
      output_format=fv["output_format"].value,
      num_shards=fv["num_shards"].value,
      max_batch_size=fv["max_batch_size"].value, log=_log)


_BEAM_NOTE = ("\n\nEvery other --flag is a Beam pipeline option (--runner, "
              "--direct_num_workers, --direct_running_mode, Dataflow's "
              "--project/--region/--temp_location, Flink's --flink_master, "
              "...). Default: the DirectRunner, multi-process, one worker per "
              "CPU. Needs the beam extra (apache-beam).")
_BEAM_FLAGS = [
    ("integer", "num_shards", 0, "Output TFRecord shards (0: the runner "
     "decides)."),
    ("integer", "max_batch_size", 1000, "Most elements a worker codes in one "
     "session run (Beam's BatchElements adapts up to it).")]


def _run_demo(fv):
  cli.check_int(fv, "steps", 1, cli.MAX_STEPS)
  cli.check_int(fv, "count", 1, MAX_DEMO_COUNT)
  cli.check_float(fv, "lambda", 0, low_open=True)
  cli.check_int(fv, "seed", 0, cli.MAX_SEED)
  from compression.examples.mnist import paths  # pylint: disable=g-import-not-at-top
  paths.check_output_dir("work_dir", fv["work_dir"].value)
  cli.require_modules("demo (PNG images)", _PIL)
  _check_data(fv)
  from compression.examples.mnist import demo  # pylint: disable=g-import-not-at-top
  demo.run(fv["data_dir"].value, os.path.abspath(fv["work_dir"].value),
           fv["steps"].value, fv["lambda"].value, fv["seed"].value,
           fv["count"].value, log=_log)


COMMANDS = {c.name: c for c in [
    Command(
        "fetch_mnist", "download the four MNIST files (SHA-256 checked) into "
        "a cache folder",
        "Downloads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (11 MB, the "
        "files of LeCun, Cortes and Burges as distributed) from public mirrors "
        "(Google's CVDF bucket, then PyTorch's S3 bucket) into --data_dir, "
        "else $MNIST_DIR, else ~/.cache/compression/mnist ($XDG_CACHE_HOME), "
        "where every MNIST command looks when given no folder. Each file's "
        "SHA-256 is checked before it is kept; an interrupted download resumes "
        "where it stopped (the next mirror, or the next run); files already "
        "there with the right checksum are not fetched again.",
        [("string", "data_dir", "",
          "Folder for the four files (created). Empty: $MNIST_DIR, else "
          "~/.cache/compression/mnist."),
         ("list", "mirrors", [],
          "Base URLs to try in order (empty: $MNIST_MIRRORS, else the public "
          "mirrors).")],
        _run_fetch_mnist),
    Command(
        "demo", "train briefly, compress 16 digits, decompress them in "
        "another process, print bits/MAE/PSNR",
        "The quickest way to see the library work end to end (a couple of "
        "minutes on 2 CPU cores): trains a model for --steps steps, "
        "compresses the first --count test digits into one file, "
        "decompresses that file in a separate process running `decompress`, "
        "prints a table of bits, MAE and PSNR per digit and saves images "
        "under --work_dir (by default runs/mnist_demo in the current folder: "
        "the clone's ignored runs/ folder when started there, as "
        "scripts/demo.sh does).\n\nNeeds MNIST: --data_dir, MNIST_DIR or the "
        "cache folder of fetch_mnist (--download fetches it).",
        [_DATA_DIR, _DOWNLOAD,
         ("string", "work_dir", os.path.join("runs", "mnist_demo"),
          "Where the model, the compressed file and the images go (created; "
          "relative to the current folder)."),
         ("integer", "steps", 500, "Training steps."),
         _LAMBDA, _SEED,
         ("integer", "count", 16, "How many test digits to compress.")],
        _run_demo),
    Command(
        "train", "train a model and write checkpoints and metrics.json",
        "Trains the analysis/synthesis transforms and the EntropyBottleneck "
        "on MNIST with loss = bits/digit + lambda * MAE (Adam, lr 1e-3, batch "
        "128; a second Adam fits the layer's quantiles). Prints progress "
        "lines, evaluates on the test set after each epoch (estimated "
        "bits/digit, MAE, PSNR), saves checkpoints, config.json and "
        "metrics.json into --model_dir. Same --seed, same flags: same result "
        "on CPU. Checkpoints after every epoch, every --checkpoint_minutes and "
        "on Ctrl-C; the same command again resumes from the newest one.",
        [_MODEL_DIR] + _TRAIN_FLAGS[:1] + [_DOWNLOAD, _LAMBDA] +
        _TRAIN_FLAGS[1:],
        _run_train),
    Command(
        "compress", "compress test digits or PNG files into one .mnz file",
        "Builds a compress-only graph (analysis transform + "
        "EntropyBottleneck.compress), restores the checkpoint in --model_dir "
        "and codes the test digits [--start, --start + --count), or the "
        "28x28 grayscale PNG files given with --png, into the single "
        "container file --output: by default as one range-coded string "
        "(strings of up to 4096 digits), or one string per digit with "
        "--per_digit_strings. Prints, per digit, the model's bit estimate "
        "(and the bytes of its string in per-digit mode), then the file's bits "
        "per digit. The container layout is documented in "
        "compression/examples/mnist/container.py.",
        [_MODEL_DIR, _DATA_DIR,
         ("string", "output", None, "The container file to write."),
         ("integer", "start", 0, "First test-set index to compress."),
         ("integer", "count", 16, "Number of test digits to compress."),
         ("list", "png", [], "Comma-separated 28x28 grayscale PNG files to "
          "compress instead of test digits."),
         ("bool", "per_digit_strings", False, "Code one string per digit "
          "(each decodable on its own, about 10 bits more per digit) instead "
          "of strings shared by up to 4096 digits."),
         ("string", "latents_out", "", "Optional .npy file (the path must end "
          "in .npy) for the quantized latents (for checking the round trip).")],
        _run_compress, required=("output",)),
    Command(
        "decompress", "decode a .mnz file into PNG images",
        "Reads the container --input (rejecting wrong magic, unsupported "
        "version, truncated, oversized or corrupt files, and files made with "
        "other coding tables: the header's fingerprint), builds a "
        "decompress-only "
        "graph (EntropyBottleneck.decompress + synthesis transform), "
        "restores the checkpoint in --model_dir and writes digit_NNNN.png "
        "files into --output_dir in batches, plus an optional grid image of "
        "the first 1024 digits.",
        [_MODEL_DIR,
         ("string", "input", None, "The container file to read."),
         ("string", "output_dir", None, "Directory for the PNG files."),
         ("string", "grid", "", "Optional path of one PNG with all digits."),
         ("string", "latents_out", "", "Optional .npy file (the path must end "
          "in .npy) for the decoded latents.")],
        _run_decompress, required=("input", "output_dir")),
    Command(
        "evaluate", "real coded bits, MAE, PSNR on the test set, per class",
        "Compresses and decompresses the whole test set with the checkpoint "
        "in --model_dir, checks that every decoded latent equals the quantized latent "
        "exactly, and reports actual coded bits/digit (container overhead "
        "reported separately), the model's estimated bits/digit, MAE and "
        "PSNR (dB, peak 1.0), overall and per class. Writes a JSON summary.",
        [_MODEL_DIR, _DATA_DIR, _TEST_SIZE,
         ("integer", "digits_per_file", 1000, "File sizes are reported for "
          "the test digits cut into files of this many digits, in both "
          "modes (shared strings and one string per digit)."),
         ("string", "output", "", "JSON summary path (default: "
          "<model_dir>/evaluation.json).")],
        _run_evaluate),
    Command(
        "sweep", "train and evaluate several lambdas; tables and plots",
        "For each lambda in --lambdas, trains a model into "
        "<output_dir>/lambda_<L> and evaluates it; writes sweep.csv, sweep.md,"
        " rate_distortion.png (bits/digit vs MAE and vs PSNR) and, per "
        "lambda, examples_lambda_<L>.png (16 digits with their bitstrings in "
        "hex, bits and reconstructions). Takes about --epochs x (number of "
        "lambdas) training epochs.",
        [("string", "lambdas", "2000,1000,500,300",
          "Comma-separated lambda values."),
         ("string", "output_dir", os.path.join(tempfile.gettempdir(),
                                               "mnist_sweep"),
          "Directory for the models, tables and figures."),
         _DOWNLOAD] + _TRAIN_FLAGS,
        _run_sweep),
    Command(
        "report", "redraw a sweep's plot and tabulate its file sizes",
        "Without training: redraws <sweep_dir>/rate_distortion.png from "
        "<sweep_dir>/sweep.csv, and writes <sweep_dir>/files.md, the file "
        "bytes per digit of both container modes beside the estimated bits, "
        "from each <sweep_dir>/lambda_<L>/evaluation.json (run `evaluate` on "
        "each model first).",
        [("string", "sweep_dir", None, "The sweep's output directory.")],
        _run_report, required=("sweep_dir",)),
    Command(
        "sample", "decode random byte strings into digits (a generative "
        "model)",
        "Feeds random byte strings to the decoder (exactness check off): "
        "the range decoder turns random bits into latents drawn from the "
        "learned prior, and the synthesis transform turns them into digits. "
        "Saves a grid PNG.",
        [_MODEL_DIR,
         ("integer", "count", 64, "Number of digits to generate."),
         ("integer", "num_bytes", 32, "Length of each random string."),
         ("float", "latent_clip", 16.0, "Clamp decoded latents to "
          "[-latent_clip, latent_clip]: random bytes sometimes decode to the "
          "escape symbol, whose value is then arbitrary (0: no clamp)."),
         _SEED,
         ("string", "output", "samples.png", "Grid PNG to write.")],
        _run_sample),
    Command(
        "beam_compress", "compress a whole split or PNG glob on Apache Beam "
        "into sharded TFRecords",
        "Compresses every digit of an MNIST split (train or test, or "
        "[--start, --start + --count) of it) or of the PNG files matching "
        "--png, one range-coded string per digit (byte-identical to "
        "`compress --per_digit_strings` with the same checkpoint), into "
        "sharded TFRecord files <output>-SSSSS-of-NNNNN.tfrecord of "
        "tf.train.Example records (key, string, latent_shape, fingerprint). "
        "Digits that cannot be read go to <output>-dead-letter-*.txt (key, "
        "one-line error); the rest completes." + _BEAM_NOTE,
        [_MODEL_DIR, _DATA_DIR,
         ("string", "output", None, "Output path prefix of the TFRecord "
          "shards (local or any Beam filesystem)."),
         ("string", "split", "test", "MNIST split: train or test."),
         ("integer", "start", 0, "First index of the split to compress."),
         ("integer", "count", 0, "Digits to compress (0: to the end)."),
         ("string", "png", "", "A glob of 28x28 grayscale PNG files to "
          "compress instead of the split (keys: paths relative to the "
          "glob's directory, without .png).")] + _BEAM_FLAGS,
        _run_beam_compress, required=("output",), passthrough=True),
    Command(
        "beam_decompress", "decode TFRecords of beam_compress on Apache Beam "
        "into PNGs or TFRecords",
        "Decodes the compressed records of the TFRecord files matching "
        "--input with the checkpoint in --model_dir (the same decoder as "
        "`decompress`): into <output>/<key>.png files, or with "
        "--output_format=tfrecord into sharded TFRecord files "
        "<output>-SSSSS-of-NNNNN.tfrecord (key, image: 784 uint8 bytes, "
        "shape). Records that are unparsable, of another model (fingerprint, "
        "latent shape) or not exactly decodable go to the dead-letter "
        "files (<output>/dead-letter-*.txt, or <output>-dead-letter-*.txt) "
        "with their keys; the rest completes." + _BEAM_NOTE,
        [_MODEL_DIR,
         ("string", "input", None, "Glob of the TFRecord files to decode."),
         ("string", "output", None, "Output directory (png) or path prefix "
          "(tfrecord)."),
         ("string", "output_format", "png", "png or tfrecord.")]
        + _BEAM_FLAGS,
        _run_beam_decompress, required=("input", "output"),
        passthrough=True),
]}


def usage():
  return cli.usage(PROG, DESCRIPTION, COMMANDS)


def _known_errors():
  """Exception types reported as a one-line error (imported lazily)."""
  from compression.examples.mnist import container  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import data  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import errors  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import images  # pylint: disable=g-import-not-at-top
  return (errors.CheckpointError, errors.NotExactError,
          errors.RoundTripError, errors.InputError, container.ContainerError,
          data.MnistDataError, images.ImageError,
          errors.MissingDependencyError,
          FloatingPointError)  # train: the loss not finite many steps in a row


def main(argv=None):
  """Entry point; `argv` defaults to sys.argv."""
  cli.main(PROG, DESCRIPTION, COMMANDS, _known_errors, argv)
