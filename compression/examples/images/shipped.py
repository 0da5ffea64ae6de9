"""Trained models that ship with the package, and their compact storage.

A shipped model is a folder `models/quality_<Q>/` beside this file:

  config.json    architecture, sizes, lambda (as a trained model directory's)
  weights.npz    the variables a coder needs (no optimizer state): large float32
                 kernels (at least LARGE elements) stored as float16, every other
                 variable exactly (small float32 ones, the int32 coding tables, the
                 integer hyper-synthesis's shifts and float64 thresholds); the
                 hyper-synthesis's integer kernels and biases are not stored but
                 derived exactly from the stored kernels (`derive_integer`)
  record.json    how it was trained (architecture, sizes, lambda, data, steps,
                 CPU-hours) and its held-out figures

Encoder and decoder load the same stored values, so every coding table, and the
fingerprint in each file's header, agrees between them on any machine; the float16
rounding of the kernels costs the reconstruction a few hundredths of a dB. `export`
writes such a folder from a training checkpoint: it rounds the kernels, rederives
the integer hyper-synthesis from the rounded kernels (the TensorFlow update op, then
checks that `derive_integer` agrees bit for bit) and keeps the rest.

Qualities are numbered from the lowest rate (1) up.

Models replaced by a newer set stay in `models/legacy/<name>/` (same three files),
decode-only: `--quality` does not offer them, but a file's fingerprint finds them
(`model_dir_for_fingerprint`), so files written with an earlier release still
decode. Their weights.npz holds only what a decoder restores: the encoder-only
transforms (ENCODER_ONLY: analysis/*, hyper_analysis/*) are removed
(`strip_encoder`, `python -m compression.examples.images.shipped --decode_only
FOLDER...`), every other array kept exactly, so the fingerprint is unchanged. A
folder whose weights hold no analysis transform is `decode_only`: the Encoder and
`train --init_from` refuse it in one line (`check_encodes`).
"""

import json
import os
import re

import numpy as np

MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
LEGACY = "legacy"  # the subfolder of MODELS_DIR with replaced, decode-only models
WEIGHTS_FILE = "weights.npz"
RECORD_FILE = "record.json"
LARGE = 4096
_DERIVED = re.compile(r"^(.*)/(kernel_int|bias_int)$")
# Variable scopes only the encoder builds (model.py: encoder_graph, not
# decoder_graph); a decode-only model's weights hold none of them.
ENCODER_ONLY = ("analysis/", "hyper_analysis/")


class ShippedModelError(ValueError):
  """A shipped model that is not there or not usable (one line)."""


def qualities():
  """The shipped qualities, sorted (ints)."""
  if not os.path.isdir(MODELS_DIR):
    return []
  found = []
  for name in os.listdir(MODELS_DIR):
    match = re.fullmatch(r"quality_(\d+)", name)
    if match and os.path.isfile(os.path.join(MODELS_DIR, name, WEIGHTS_FILE)):
      found.append(int(match.group(1)))
  return sorted(found)


def model_dir(quality):
  """The folder of shipped quality `quality` (int or digit string)."""
  available = qualities()
  try:
    number = int(quality)
  except (TypeError, ValueError):
    number = None
  if number not in available:
    listed = ", ".join(map(str, available)) or "none are installed"
    raise ShippedModelError(f"--quality must be one of the shipped qualities "
                            f"({listed}), got {quality!r}")
  return os.path.join(MODELS_DIR, f"quality_{number}")


def default_quality():
  """The quality `compress` uses without --quality: the middle of the shipped ones
  (the upper middle of an even count)."""
  available = qualities()
  if not available:
    raise ShippedModelError(
        "no shipped model is installed (compression/examples/images/models/); "
        "pass --model_dir of a trained model")
  return available[len(available) // 2]


def legacy_dirs():
  """The decode-only folders of replaced models (`models/legacy/*`), sorted."""
  root = os.path.join(MODELS_DIR, LEGACY)
  if not os.path.isdir(root):
    return []
  return [os.path.join(root, name) for name in sorted(os.listdir(root))
          if os.path.isfile(os.path.join(root, name, WEIGHTS_FILE))]


def model_dir_for_fingerprint(fingerprint):
  """The shipped model whose coding tables have `fingerprint` (uint64, a file
  header's), from the fingerprints their records hold: the current qualities
  first, then the legacy models."""
  folders = [os.path.join(MODELS_DIR, f"quality_{q}") for q in qualities()]
  for folder in folders + legacy_dirs():
    if record(folder).get("fingerprint") == f"{fingerprint:016x}":
      return folder
  raise ShippedModelError(
      f"no shipped model has the fingerprint {fingerprint:016x} of this file; "
      "pass --model_dir of the model that wrote it")


def is_shipped(folder):
  return os.path.isfile(os.path.join(folder, WEIGHTS_FILE))


def _stored_names(folder):
  path = os.path.join(folder, WEIGHTS_FILE)
  try:
    with np.load(path, allow_pickle=False) as archive:
      return list(archive.files)
  except (OSError, ValueError) as error:
    raise ShippedModelError(f"{path} cannot be read ({error})") from None


def decode_only(folder):
  """Whether `folder` is a shipped model that can only decode: its weights hold no
  analysis transform (a replaced model of models/legacy/, `strip_encoder`)."""
  return is_shipped(folder) and not any(
      name.startswith("analysis/") for name in _stored_names(folder))


def check_encodes(folder, use="compress"):
  """ShippedModelError (one line) if `folder` is `decode_only`. `use`: "compress"
  (an Encoder) or "init_from" (train --init_from, which would leave the analysis
  at its random initialisation)."""
  if not decode_only(folder):
    return
  if use == "init_from":
    raise ShippedModelError(
        f"--init_from {folder} is a decode-only model (a replaced model kept for "
        "reading old files: its weights have no analysis transform, which would "
        "stay at random initialisation); start from a current quality "
        "(--init_from=quality:N) or a training directory")
  raise ShippedModelError(
      f"{folder} is a decode-only model (a replaced model kept for reading old "
      "files: its weights have no analysis transform); compress with a current "
      "quality (--quality=N)")


def strip_encoder(folder):
  """Rewrites `folder`'s weights.npz without the encoder-only arrays (ENCODER_ONLY),
  every other array unchanged, in the same format (savez_compressed, same order):
  the folder becomes `decode_only`. Returns (bytes before, bytes after)."""
  path = os.path.join(folder, WEIGHTS_FILE)
  before = os.path.getsize(path)
  with np.load(path, allow_pickle=False) as archive:
    kept = {name: archive[name] for name in archive.files
            if not name.startswith(ENCODER_ONLY)}
  if not any(name.startswith("synthesis/") for name in kept):
    raise ShippedModelError(f"{path} has no synthesis transform; not stripped")
  temporary = path + ".tmp.npz"
  np.savez_compressed(temporary, **kept)
  os.replace(temporary, path)
  return before, os.path.getsize(path)


def record(folder):
  path = os.path.join(folder, RECORD_FILE)
  if not os.path.isfile(path):
    return {}
  with open(path) as f:
    return json.load(f)


# -- The integer hyper-synthesis, derived from stored kernels. ---------------------

def derive_integer(kernel, bias, weight_bits, fraction_bits):
  """Integer kernel and bias of one hyper-synthesis layer, float64 arrays of
  integers: `round(kernel * 2**bits)`, `round(bias * 2**(fraction_bits + bits))`.
  Scaling by a power of two is exact and `round` is half-to-even, as TensorFlow's,
  so this equals the update op's result on every machine."""
  kernel = np.asarray(kernel, np.float32).astype(np.float64)
  bias = np.asarray(bias, np.float32).astype(np.float64)
  bits = int(weight_bits)
  return (np.round(kernel * 2. ** bits),
          np.round(bias * 2. ** (fraction_bits + bits)))


def _fraction_bits(layer):
  from compression.examples.images import model as model_lib  # pylint: disable=g-import-not-at-top
  return (model_lib.Z_FRACTION_BITS if layer == 0
          else model_lib.ACTIVATION_FRACTION_BITS)


def _upgrade(named_values):
  """Models shipped before the SignalConv2D transforms, under today's variable
  names and layouts (model.upgrade: exact)."""
  from compression.examples.images import model as model_lib  # pylint: disable=g-import-not-at-top
  if not model_lib.legacy_names(named_values):
    return named_values
  return model_lib.upgrade(named_values)


def _stored(name, value):
  value = np.asarray(value)
  if value.dtype == np.float32 and value.size >= LARGE:
    return value.astype(np.float16)
  return value


def values(folder):
  """{variable name: numpy value in its variable's dtype} of a shipped model,
  the integer hyper-synthesis derived; a model stored with the names of the
  transforms before SignalConv2D under today's (`model.upgrade`)."""
  path = os.path.join(folder, WEIGHTS_FILE)
  try:
    with np.load(path, allow_pickle=False) as archive:
      stored = {name: archive[name] for name in archive.files}
  except (OSError, ValueError) as error:
    raise ShippedModelError(f"{path} cannot be read ({error})") from None
  out = {}
  for name, value in stored.items():
    out[name] = value.astype(np.float32) if value.dtype == np.float16 else value
  out = _upgrade(out)
  scope_layers = sorted({m.group(1) for m in (re.match(r"^(.*)/weight_bits$", n)
                                               for n in stored) if m})
  for scope in scope_layers:
    layer = int(scope.rsplit("_", 1)[1])
    kernel_int, bias_int = derive_integer(
        out[f"{scope}/kernel"], out[f"{scope}/bias"], out[f"{scope}/weight_bits"],
        _fraction_bits(layer))
    out[f"{scope}/kernel_int"] = kernel_int
    out[f"{scope}/bias_int"] = bias_int
  return out


def loader(folder, variables=None, strict=True):
  """A function `run(sess) -> count` that assigns a shipped model's values to
  `variables` (default: the graph's global variables). Call inside the graph before
  it is finalized (it adds the assign ops); `run` may come later. `strict`: every
  variable must be in the model with a compatible shape (ShippedModelError
  otherwise); else those that are not are skipped (initialising another
  architecture or lambda)."""
  return values_loader(values(folder), variables, strict, folder)


def values_loader(stored, variables=None, strict=True, where="the values"):
  """`loader` of named values {variable name: numpy array} instead of a folder
  (`where` names them in errors)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  if variables is None:
    variables = v1.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
  chosen = []
  for variable in variables:
    name = variable.op.name
    value = stored.get(name)
    if value is None or not variable.shape.is_compatible_with(value.shape):
      if strict:
        raise ShippedModelError(
            f"{where} does not fit this model: {name} "
            + ("is missing" if value is None else
               f"has shape {list(value.shape)}, the model's is "
               f"{variable.shape}"))
      continue
    chosen.append(variable)
  return _assigner(chosen, stored)


def _assigner(variables, named_values):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  v1 = tf.compat.v1
  feeds_for = []
  ops = []
  with tf.name_scope("load_shipped"):
    for variable in variables:
      dtype = variable.dtype.base_dtype
      placeholder = v1.placeholder(dtype, None)
      ops.append(v1.assign(variable, placeholder, validate_shape=False))
      feeds_for.append((placeholder, np.asarray(
          named_values[variable.op.name]).astype(dtype.as_numpy_dtype)))

  def run(sess):
    sess.run(ops, dict(feeds_for))
    return len(ops)
  return run


def load(sess, folder, variables=None, strict=True):
  """`loader(...)(sess)`: assigns at once (the graph must not be finalized)."""
  with sess.graph.as_default():
    run = loader(folder, variables, strict)
  return run(sess)


# -- Export. -----------------------------------------------------------------------

def _model_variables(names):
  return [n for n in names if not any(
      part in n for part in ("Adam", "global_step", "skipped_steps", "power"))]


def export(checkpoint_dir, out_dir, record_fields=None, log=print):
  """Writes a shipped model folder from the newest checkpoint of `checkpoint_dir`;
  returns the weights file's size in bytes."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.require(checkpoint_dir)
  checkpoint = codec.latest_checkpoint(checkpoint_dir)
  reader = tf.train.load_checkpoint(checkpoint)
  names = _model_variables(reader.get_variable_to_shape_map())
  # A checkpoint of before the SignalConv2D transforms is stored under today's
  # names and layouts (exact).
  stored = _upgrade({n: _stored(n, reader.get_tensor(n)) for n in names
                     if not _DERIVED.match(n)})
  # Rederive the integer hyper-synthesis from the rounded kernels with the update
  # op itself, then check derive_integer reproduces it bit for bit.
  _, image_model = codec.load_model(checkpoint_dir)
  if image_model.hyperprior:
    graph = tf.Graph()
    with graph.as_default():
      z = tf.compat.v1.placeholder(tf.float32, [1, None, None,
                                                image_model.hyper_filters])
      hyper = image_model._hyper_synthesis()  # pylint: disable=protected-access
      hyper.scales(z)
      update = hyper.update_op()
      with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        rounded = {n: (v.astype(np.float32) if v.dtype == np.float16 else v)
                   for n, v in stored.items()}
        _assigner([v for v in tf.compat.v1.global_variables()
                   if v.op.name in rounded], rounded)(sess)
        sess.run(update)
        for variable in tf.compat.v1.global_variables():
          stored_name = variable.op.name
          if stored_name.endswith(("weight_bits", "scale_thresholds")):
            stored[stored_name] = sess.run(variable)
        check = {v.op.name: sess.run(v) for v in tf.compat.v1.global_variables()
                 if _DERIVED.match(v.op.name)}
    os.makedirs(out_dir, exist_ok=True)
    np.savez_compressed(os.path.join(out_dir, WEIGHTS_FILE), **stored)
    derived = values(out_dir)
    for name, value in check.items():
      if not np.array_equal(derived[name], value):
        raise ShippedModelError(f"derive_integer disagrees with the update op on "
                                f"{name}")
  else:
    os.makedirs(out_dir, exist_ok=True)
    np.savez_compressed(os.path.join(out_dir, WEIGHTS_FILE), **stored)
  config_lib.write(out_dir, config["architecture"], config["num_filters"],
                   config["latent_filters"], config["lambda"],
                   config_lib.hyper_width(config))
  fields = dict(record_fields or {})
  fields.update(architecture=config["architecture"],
                num_filters=config["num_filters"],
                latent_filters=config["latent_filters"],
                hyper_filters=config_lib.hyper_width(config),
                **{"lambda": config["lambda"]},
                checkpoint=os.path.basename(checkpoint))
  from compression.examples.images import codec as codec_lib  # pylint: disable=g-import-not-at-top,reimported
  fields["fingerprint"] = f"{codec_lib.Encoder(out_dir).fingerprint:016x}"
  with open(os.path.join(out_dir, RECORD_FILE), "w") as f:
    json.dump(fields, f, indent=2, sort_keys=True)
  size = os.path.getsize(os.path.join(out_dir, WEIGHTS_FILE))
  log(f"{out_dir}: {size / 1e6:.2f} MB of weights ({len(stored)} arrays)")
  return size


# -- Command line: package trained runs as the shipped models. ----------------------

INIT_FROM_FILE = "init_from.json"  # a run's parent: written by train --init_from


def training_totals(folder):
  """(steps, CPU-hours) that made `folder`'s weights, counting every run they
  started from: a shipped folder's record, or a run directory's train_log.jsonl
  plus its parent's totals (`init_from.json`, which `train --init_from` writes)."""
  if os.path.isfile(os.path.join(folder, RECORD_FILE)):
    fields = record(folder)
    return int(fields.get("steps", 0)), float(fields.get("cpu_hours", 0.))
  lines = []
  path = os.path.join(folder, "train_log.jsonl")
  if os.path.isfile(path):
    with open(path) as f:
      lines = [json.loads(line) for line in f if line.strip()]
  last = lines[-1] if lines else {}
  steps = int(last.get("step", 0))
  cpu = float(last.get("cpu_seconds", 0.))
  parent = os.path.join(folder, INIT_FROM_FILE)
  if os.path.isfile(parent):
    with open(parent) as f:
      origin = json.load(f)
    steps += int(origin.get("steps", 0))
    cpu += float(origin.get("cpu_seconds", 0.))
  return steps, cpu / 3600.


def write_init_from(run_dir, source):
  """Records in `run_dir` (a new run started from `source`'s weights) the source
  and the steps and CPU time that made its weights (`training_totals`)."""
  steps, cpu_hours = training_totals(source)
  with open(os.path.join(run_dir, INIT_FROM_FILE), "w") as f:
    json.dump({"from": os.path.abspath(source), "steps": steps,
               "cpu_seconds": round(cpu_hours * 3600., 1)}, f, indent=2)


def _held_out_figures(rd_csv, folder):
  """{"bpp", "psnr", "ms_ssim", "images"} of `folder`'s mean row in compare's
  rd.csv, or None."""
  import csv  # pylint: disable=g-import-not-at-top
  with open(rd_csv) as f:
    for row in csv.DictReader(f):
      if row["image"] == "(mean)" and os.path.abspath(row["model_dir"]) == \
          os.path.abspath(folder):
        return {"bpp": float(row["bpp"]), "psnr": float(row["psnr"]),
                "ms_ssim": float(row["ms_ssim"]), "file": rd_csv}
  return None


def main(argv=None):
  import argparse  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(
      prog="python -m compression.examples.images.shipped",
      description="Exports trained runs as the shipped models (quality 1 = the "
                  "lowest lambda), or adds held-out figures to their records.")
  parser.add_argument("runs", nargs="*", help="training directories to export")
  parser.add_argument("--out", default=MODELS_DIR, help="models folder")
  parser.add_argument("--data", default="", help="training data, for the record")
  parser.add_argument("--figures", default="",
                      help="compare's rd.csv: add each model's held-out mean")
  parser.add_argument("--training_photos", default="",
                      help="the training photographs (a glob): list them, with "
                           "their SHA-256, in every model's record")
  parser.add_argument("--qualities", default="",
                      help="comma-separated quality numbers the runs take, in "
                           "lambda order (default 1..K): replace some qualities "
                           "and keep the others' folders as they are")
  parser.add_argument("--decode_only", nargs="+", default=[], metavar="FOLDER",
                      help="shipped model folders (models/legacy/*) to make "
                           "decode-only: remove their encoder-only weights")
  args = parser.parse_args(argv)
  for folder in args.decode_only:
    before, after = strip_encoder(folder)
    print(f"{folder}: {before / 1e6:.2f} MB -> {after / 1e6:.2f} MB of weights, "
          "decode-only")
  from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
  if args.runs:
    runs = sorted(args.runs, key=lambda d: config_lib.require(d)["lambda"])
    numbers = list(range(1, len(runs) + 1))
    if args.qualities:
      try:
        numbers = [int(q) for q in args.qualities.split(",")]
      except ValueError:
        parser.error(f"--qualities={args.qualities}: expected integers like 6,7")
      if (len(numbers) != len(runs) or len(set(numbers)) != len(numbers)
          or min(numbers) < 1 or numbers != sorted(numbers)):
        parser.error(f"--qualities={args.qualities}: one increasing quality number "
                     f"(from 1) per run, {len(runs)} runs given")
    for quality, run in zip(numbers, runs):
      steps, cpu_hours = training_totals(run)
      export(run, os.path.join(args.out, f"quality_{quality}"),
             {"quality": quality, "steps": steps,
              "cpu_hours": round(cpu_hours, 3), "data": args.data,
              "trained_from": os.path.basename(os.path.normpath(run))})
  photos = None
  if args.training_photos:
    import glob  # pylint: disable=g-import-not-at-top
    from compression.examples.images import photos as photos_lib  # pylint: disable=g-import-not-at-top
    photos = photos_lib.manifest(glob.glob(args.training_photos))
    if not photos:
      parser.error(f"--training_photos={args.training_photos} matches no file")
  if args.figures or photos:
    for quality in qualities() if args.out == MODELS_DIR else []:
      folder = os.path.join(args.out, f"quality_{quality}")
      fields = record(folder)
      if args.figures:
        fields["held_out"] = _held_out_figures(args.figures, folder)
      if photos:
        fields["training_photographs"] = photos
      with open(os.path.join(folder, RECORD_FILE), "w") as f:
        json.dump(fields, f, indent=2, sort_keys=True)


def trained_on(image):
  """The shipped qualities whose record lists a training photograph of exactly
  these pixels (uint8 [H, W, 3]); [] when none does (or no record lists them)."""
  from compression.examples.images import photos as photos_lib  # pylint: disable=g-import-not-at-top
  digest = photos_lib.pixels_sha256(image)
  found = []
  for quality in qualities():
    listed = record(model_dir(quality)).get("training_photographs") or []
    if any(entry.get("pixels_sha256") == digest for entry in listed):
      found.append(quality)
  return found


if __name__ == "__main__":
  main()
