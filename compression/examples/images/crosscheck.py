"""Cross-process determinism check: do files decode identically elsewhere?

  python -m compression.examples.images.crosscheck --model_dirs=A,B \\
      [--folder=F] [--out=report.json] [--timeout=900]

For every model directory and image (default: the held-out photographs,
`data.default_paths("held_out")`), this process compresses with TensorFlow's
default settings and also decodes them itself. Then ONE child process, started
with TF_ENABLE_ONEDNN_OPTS=0 and decoding with 1 intra-op and 1 inter-op thread
(`codec.Decoder(model_dir, threads=1)`), decodes every file and writes its y
symbols, y_hat, z_hat and image as .npy files. The parent compares:

  latents  the child's decoded y symbols (the integers the string codes) and
           z_hat against the encoder's: must be bit-exact (otherwise the range
           decoder has used other tables: a broken file). y_hat is compared too
           and reported (`y_hat_differing`): it equals the symbols plus the
           quantization offset, and mbt2018-mean's offset is its float mean, which
           may differ in the last bits across settings without harming decoding;
  pixels   the child's image against this process's decode: max |difference|
           (0..255) and the number of differing values. The float synthesis
           may differ slightly across settings; that is allowed, and reported.

For the hyperprior models (bmshj2018, mbt2018-mean) it also measures what plain
floating point would have done: both processes compute the FLOAT scale indexes
(`HyperSynthesis.scales` on z_hat, then the index of the largest float32 table
entry <= the scale, clamped, the GaussianConditional's rule) and count the elements whose index differs; any such
element would have broken decoding without the integer hyper-synthesis. The
parent also counts where its float index differs from the integer path's
(a rounding near table boundaries, harmless: both sides use the integer one).

Decode failures in the child (one-line errors) are reported per image; the child
is killed after `--timeout` seconds. Prints a table, writes JSON (`--out`), and
exits with status 1 if any latent differs or any file failed to decode.
"""

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

from compression.examples.images.config import HYPERPRIOR

CHILD_ENV = {"TF_ENABLE_ONEDNN_OPTS": "0"}
CHILD_THREADS = 1
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


# -- Float-path scale indexes (both processes). --------------------------------


class FloatScaleIndexes:
  """`FloatScaleIndexes(model_dir, threads)(z_hat)`: the indexes plain floating
  point would select, and the integer path's.

  z_hat float32 [1, h, w, N] -> (float, integer) int32 [1, 4h, 4w, M] each. Only
  the hyper-synthesis variables are restored.
  """

  def __init__(self, model_dir, threads=0):
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
    v1 = tf.compat.v1
    config, image_model = codec.load_model(model_dir)
    del config
    self._table = np.float32(image_model.scale_table)
    self.graph = tf.Graph()
    with self.graph.as_default():
      self._z = v1.placeholder(tf.float32, [1, None, None, image_model.hyper_filters])
      hyper = image_model._hyper_synthesis()
      self._scales = hyper.scales(self._z)
      self._indexes = hyper.scale_indexes(self._z)
      self.sess = v1.Session(config=codec.session_config(threads))
      codec.restore(self.sess, model_dir)
    self.graph.finalize()

  def __call__(self, z_hat):
    scales, integer = self.sess.run([self._scales, self._indexes], {self._z: z_hat})
    index = np.searchsorted(self._table, scales, side="right") - 1
    return np.clip(index, 0, len(self._table) - 1).astype(np.int32), integer


# -- The child: decode every file, 1 thread, oneDNN off. -----------------------


def _one_line(error):
  text = str(error).strip().splitlines()
  return f"{type(error).__name__}: {text[0] if text else ''}"


def run_child(jobs_path):
  """Decodes the jobs of `jobs_path` (JSON list of {model_dir, blob, out}); for
  each writes out.json ({"ok", "error", "seconds"}) and, when decoded,
  out.y_symbols.npy, out.y_hat.npy, out.image.npy, and for hyperprior models
  out.z_hat.npy and out.float_index.npy."""
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  with open(jobs_path) as f:
    jobs = json.load(f)
  decoders = {}
  for job in jobs:
    status = {"ok": False, "error": None, "seconds": None}
    try:
      model_dir = job["model_dir"]
      if model_dir not in decoders:
        decoder = codec.Decoder(model_dir, threads=CHILD_THREADS)
        floats = (FloatScaleIndexes(model_dir, threads=CHILD_THREADS)
                  if decoder.model.hyperprior else None)
        decoders[model_dir] = decoder, floats
      decoder, floats = decoders[model_dir]
      with open(job["blob"], "rb") as f:
        decoded = decoder.decompress(f.read(), job["blob"])
      np.save(job["out"] + ".y_symbols.npy", decoded.y_symbols)
      np.save(job["out"] + ".y_hat.npy", decoded.y_hat)
      np.save(job["out"] + ".image.npy", decoded.image)
      if floats is not None:
        np.save(job["out"] + ".z_hat.npy", decoded.z_hat)
        np.save(job["out"] + ".float_index.npy", floats(decoded.z_hat)[0])
      status.update(ok=True, seconds=decoded.seconds)
    except Exception as error:  # pylint: disable=broad-except
      # Reported per image; one bad file or model must not stop the others.
      status["error"] = _one_line(error)
    with open(job["out"] + ".json", "w") as f:
      json.dump(status, f)


def _start_child(jobs_path, timeout):
  """Runs the child on `jobs_path`; returns None or a one-line failure."""
  env = dict(os.environ, **CHILD_ENV)
  env["PYTHONPATH"] = os.pathsep.join(
      [_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  try:
    proc = subprocess.run(
        [sys.executable, "-m", "compression.examples.images.crosscheck",
         f"--child={jobs_path}"], env=env, cwd=_ROOT, capture_output=True,
        text=True, timeout=timeout, check=False)
  except subprocess.TimeoutExpired:
    return f"the decoding process timed out after {timeout:g} s"
  if proc.returncode:
    lines = proc.stderr.strip().splitlines()
    return (f"the decoding process exited with status {proc.returncode}"
            + (f": {lines[-1]}" if lines else ""))
  return None


# -- The parent. ----------------------------------------------------------------


@dataclasses.dataclass
class Result:
  """One (model, image) pair of the report."""
  model_dir: str
  architecture: str
  image: str
  height: int
  width: int
  bytes: int = 0
  latents_exact: bool = False
  y_mismatches: int = -1            # y symbols that differ (-1: unknown)
  z_mismatches: int = -1            # elements of z_hat that differ
  y_hat_differing: int = -1         # elements of y_hat (symbols + offset) that differ
  pixel_max_abs_diff: int = -1      # child image vs this process's decode, 0..255
  pixel_differing: int = -1         # values (pixels x 3 channels) that differ
  float_index_differences: int = -1  # hyperprior: float-path indexes, parent vs child
  float_vs_integer: int = -1        # hyperprior: parent float path vs integer path
  scale_elements: int = 0
  error: str = ""


def _differences(a, b):
  if a is None or b is None or a.shape != b.shape:
    return -1
  return int(np.sum(a != b))


def _encode_all(model_dirs, paths, work, log):
  """Compresses and decodes in this process; returns (results, jobs, parent data)."""
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  images = [data.read_image(p) for p in paths]
  results, jobs, ours = [], [], []
  for m, (model_dir, decoder_dir) in enumerate(model_dirs):
    encoder = codec.Encoder(model_dir)
    decoder = codec.Decoder(model_dir)
    floats = FloatScaleIndexes(model_dir) if encoder.model.hyperprior else None
    log(f"{model_dir}: {encoder.model.architecture}, {len(paths)} images")
    for i, (path, image) in enumerate(zip(paths, images)):
      result = Result(model_dir, encoder.model.architecture, path, *image.shape[:2])
      encoded = encoder.compress(image)
      result.bytes = len(encoded.blob)
      mine = {"y_symbols": encoded.y_symbols, "y_hat": encoded.y_hat,
              "z_hat": encoded.z_hat,
              "image": decoder.decompress(encoded.blob).image}
      if floats is not None:
        mine["float_index"], integer = floats(encoded.z_hat)
        result.float_vs_integer = _differences(mine["float_index"], integer)
        result.scale_elements = int(integer.size)
      blob_path = os.path.join(work, f"m{m}_i{i}.cim")
      with open(blob_path, "wb") as f:
        f.write(encoded.blob)
      jobs.append({"model_dir": decoder_dir, "blob": blob_path,
                   "out": os.path.join(work, f"m{m}_i{i}")})
      results.append(result)
      ours.append(mine)
  return results, jobs, ours


def _load(prefix, name):
  path = f"{prefix}.{name}.npy"
  return np.load(path) if os.path.isfile(path) else None


def _compare(result, job, mine, child_failure):
  status_path = job["out"] + ".json"
  if not os.path.isfile(status_path):
    result.error = child_failure or "the decoding process wrote no result"
    return
  with open(status_path) as f:
    status = json.load(f)
  if not status["ok"]:
    result.error = status["error"]
    return
  theirs = {k: _load(job["out"], k) for k in ("y_symbols", "y_hat", "z_hat",
                                              "image", "float_index")}
  result.y_mismatches = _differences(mine["y_symbols"], theirs["y_symbols"])
  result.y_hat_differing = _differences(mine["y_hat"], theirs["y_hat"])
  result.z_mismatches = (0 if mine["z_hat"] is None and theirs["z_hat"] is None
                         else _differences(mine["z_hat"], theirs["z_hat"]))
  result.latents_exact = result.y_mismatches == 0 and result.z_mismatches == 0
  if mine["image"].shape == theirs["image"].shape:
    difference = np.abs(mine["image"].astype(np.int16) - theirs["image"])
    result.pixel_max_abs_diff = int(difference.max())
    result.pixel_differing = int(np.count_nonzero(difference))
  if "float_index" in mine:
    result.float_index_differences = _differences(mine["float_index"],
                                                  theirs["float_index"])


def run(model_dirs, paths, timeout=900., decoder_dirs=None, log=print):
  """The check; returns the report (a JSON-ready dict).

  Args:
    model_dirs: model directories (each trained, with config.json).
    paths: image files.
    timeout: seconds allowed to the decoding process.
    decoder_dirs: optional, one per model: the directory the child decodes with
      instead (a test of the checker itself: other tables must be refused).
    log: progress lines.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  pairs = list(zip(model_dirs, decoder_dirs or model_dirs))
  with tempfile.TemporaryDirectory(prefix="crosscheck_") as work:
    results, jobs, ours = _encode_all(pairs, paths, work, log)
    jobs_path = os.path.join(work, "jobs.json")
    with open(jobs_path, "w") as f:
      json.dump(jobs, f)
    log(f"decoding {len(jobs)} files in a child process "
        f"({', '.join(f'{k}={v}' for k, v in CHILD_ENV.items())}, "
        f"{CHILD_THREADS} thread)")
    started = time.time()
    child_failure = _start_child(jobs_path, timeout)
    child_seconds = time.time() - started
    for result, job, mine in zip(results, jobs, ours):
      _compare(result, job, mine, child_failure)
  rows = [dataclasses.asdict(r) for r in results]
  hyper = [r for r in results if r.architecture in HYPERPRIOR and not r.error]
  return {
      "parent": {"settings": "TensorFlow defaults",
                 "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS")},
      "child": {"settings": f"TF_ENABLE_ONEDNN_OPTS=0, {CHILD_THREADS} intra-op and "
                            f"{CHILD_THREADS} inter-op thread",
                "failure": child_failure, "seconds": round(child_seconds, 1)},
      "machine": {"platform": platform.platform(), "processor": platform.machine(),
                  "cpus": os.cpu_count(), "tensorflow": tf.__version__},
      "results": rows,
      "pairs": len(rows),
      "latent_mismatches": sum(not r.latents_exact for r in results),
      "decode_errors": sum(bool(r.error) for r in results),
      "pixel_mismatched_pairs": sum(r.pixel_differing > 0 for r in results),
      "float_index_differences": sum(r.float_index_differences for r in hyper),
      "float_vs_integer": sum(r.float_vs_integer for r in hyper),
      "scale_elements": sum(r.scale_elements for r in hyper),
  }


def table(report):
  """The report as a Markdown table (one row per model and image) and a summary."""
  lines = ["| model | image | size | bytes | latents exact | y_hat differing | "
           "pixel max diff | pixels differing | float-index diffs (parent vs "
           "child) | float vs integer index |", "|" + "---|" * 10]
  for r in report["results"]:
    hyper = r["architecture"] in HYPERPRIOR and not r["error"]
    lines.append(
        f"| {os.path.basename(os.path.normpath(r['model_dir']))} | "
        f"{os.path.basename(r['image'])} | {r['width']}x{r['height']} | "
        f"{r['bytes']} | "
        + ("yes" if r["latents_exact"] else f"NO ({r['error'] or 'latents differ'})")
        + f" | {r['y_hat_differing'] if r['y_hat_differing'] >= 0 else '-'}"
        + f" | {r['pixel_max_abs_diff'] if r['pixel_max_abs_diff'] >= 0 else '-'}"
        f" | {r['pixel_differing'] if r['pixel_differing'] >= 0 else '-'}"
        f" | {r['float_index_differences'] if hyper else '-'}"
        f" | {str(r['float_vs_integer']) + ' / ' + str(r['scale_elements']) if hyper else '-'} |")
  lines.append("")
  lines.append(f"Latent mismatches: {report['latent_mismatches']} of "
               f"{report['pairs']} (decode errors: {report['decode_errors']}); "
               f"pairs with differing pixels: {report['pixel_mismatched_pairs']}; "
               f"float-path scale indexes differing between the processes: "
               f"{report['float_index_differences']} of "
               f"{report['scale_elements']}.")
  return "\n".join(lines)


def main(argv=None):
  parser = argparse.ArgumentParser(
      prog="python -m compression.examples.images.crosscheck",
      description="Decode in a second process (oneDNN off, 1 thread) and compare.")
  parser.add_argument("--model_dirs", help="comma-separated model directories")
  parser.add_argument("--folder", default="",
                      help="PNG/JPEG folder (default: the held-out photographs)")
  parser.add_argument("--out", default="", help="JSON report path")
  parser.add_argument("--timeout", type=float, default=900.,
                      help="seconds allowed to the decoding process")
  parser.add_argument("--child", default="", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    run_child(args.child)
    return 0
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.images import config  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  model_dirs = [d for d in (args.model_dirs or "").split(",") if d]
  if not model_dirs:
    parser.error("--model_dirs is required")
  try:
    paths = (data.folder_paths(args.folder) if args.folder
             else data.default_paths("held_out"))
    report = run(model_dirs, paths, timeout=args.timeout,
                 log=lambda line: print(line, file=sys.stderr))
  except (config.ConfigError, codec.CheckpointError, data.DataError) as error:
    print(f"error: {error}", file=sys.stderr)
    return 2
  print(table(report))
  if args.out:
    with open(args.out, "w") as f:
      json.dump(report, f, indent=2)
  return 1 if report["latent_mismatches"] else 0


if __name__ == "__main__":
  sys.exit(main())
