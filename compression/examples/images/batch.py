"""Many files per process, and size or PSNR targets, for compress / decompress.

Inputs (`expand`). Each argument is a file (taken whatever its name), a folder
(its files whose names end in one of the command's extensions, not recursive:
.png/.jpg/.jpeg for `compress`, .cim for `decompress`) or a glob (quoted, so the
shell leaves it alone; the matching files with those extensions). An argument that
names nothing (a missing file, an empty folder, a glob matching no such file) is
an error before any work; a file named twice (a folder and a glob) counts once.
`outputs` maps each input to OUT_DIR/<stem><extension> and refuses, before any
work, two inputs with the same stem and an output that would overwrite an input.

Running (`run`). One process codes every file: TensorFlow loads once and each model
once (`Coders` keeps one Encoder / Decoder per model directory). Each file prints
one progress line, `[i/n] name: bytes, bpp, seconds` (the .cim file's size and bits
per pixel), on stdout; a file that fails prints `[i/n] failed: name: reason` on
stderr and the run carries on. At the end a summary line: files done and failed,
bytes in and out, mean bits per pixel (the mean of the files'), photographs per
second (files done / wall seconds since the command started, loading included).

Targets (`Target`, `choose`). Instead of one model, `compress` may choose among the
shipped qualities per image:

  --max_bytes=N, --target_bpp=B   the highest quality whose file has at most N
      bytes (B: at most floor(B * pixels / 8) bytes). If even the lowest quality's
      file is larger, the image fails (`TargetError`, naming that smallest size);
      nothing is written: never a silently larger file.
  --target_psnr=D   the lowest quality whose decoded image (decoded here by the
      Decoder, PSNR on the actual uint8 pixels) reaches D dB. If even the highest
      quality falls short, its file is written with a warning naming the PSNR
      reached (not a failure).

The search is a binary search over the sorted qualities, assuming size and PSNR
grow with quality (as for the shipped models); every probe is a real coding (and
for PSNR a real decoding), so the chosen file meets a size target, and the
quality above it was coded and found too large (for PSNR: the quality below was
decoded and fell short). The chosen file's PSNR is measured for size targets too.
"""

import dataclasses
import glob
import math
import os
import sys
import time

from compression.examples import cli
from compression.examples.common import errors

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
CIM_EXTENSIONS = (".cim",)
_GLOB_CHARS = "*?["
# At most this many failed names are listed in the final error line.
_NAMES_LISTED = 5


class TargetError(ValueError):
  """A size target that no shipped quality meets (one line)."""


def is_glob(spec):
  return any(c in spec for c in _GLOB_CHARS)


def expand(specs, extensions):
  """Input paths of `specs` (files, folders, globs), in order, without repeats.

  Folders and globs give their files whose names end in `extensions` (any case),
  sorted; a file named as such is taken whatever its name. errors.InputError for
  a spec that gives no file.
  """
  found, seen = [], set()
  kinds = "/".join(e.lstrip(".").upper() for e in extensions)
  for spec in specs:
    path = os.path.expanduser(spec)
    if os.path.isdir(path):
      matches = sorted(os.path.join(path, n) for n in os.listdir(path))
      source = f"folder {spec} has"
    elif os.path.exists(path):
      matches = [path]
      source = None
    elif is_glob(spec):
      matches = sorted(glob.glob(path))
      source = f"{spec!r} matches"
      if not matches:
        raise errors.InputError(f"no file matches {spec!r}")
    else:
      raise errors.InputError(f"{spec}: no such file or folder")
    if source is not None:
      matches = [p for p in matches if os.path.isfile(p) and
                 p.lower().endswith(extensions)]
      if not matches:
        raise errors.InputError(f"{source} no {kinds} file")
    for match in matches:
      key = os.path.realpath(match)
      if key not in seen:
        seen.add(key)
        found.append(match)
  return found


def outputs(inputs, out_dir, extension):
  """[(input, OUT_DIR/<stem><extension>)]; errors.InputError, before any work,
  for two inputs of one stem or an output that is an input."""
  by_stem = {}
  for path in inputs:
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem in by_stem:
      raise errors.InputError(
          f"{by_stem[stem]} and {path} have the same name {stem!r}; both would "
          f"write {os.path.join(out_dir, stem + extension)} (rename one, or run "
          "them separately)")
    by_stem[stem] = path
  real_inputs = {os.path.realpath(p): p for p in inputs}
  jobs = []
  for stem, path in by_stem.items():
    output = os.path.join(out_dir, stem + extension)
    overwritten = real_inputs.get(os.path.realpath(output))
    if overwritten is not None:
      raise errors.InputError(f"the output {output} would overwrite the input "
                              f"{overwritten}; choose another --out_dir")
    jobs.append((path, output))
  return jobs


class Coders:
  """Encoders and decoders, one of each per model directory, made when first
  needed (building one takes about a second; coding an image much less)."""

  def __init__(self, threads=0, effort=0):
    self.threads = threads
    self.effort = effort  # compress: encoder-side refinement (refine.py)
    self._encoders = {}
    self._decoders = {}

  def encoder(self, model_dir):
    key = os.path.abspath(model_dir)
    if key not in self._encoders:
      from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
      self._encoders[key] = codec.Encoder(model_dir, threads=self.threads,
                                          refinable=self.effort > 0)
    return self._encoders[key]

  def compress(self, model_dir, image):
    """Encoded: `image` coded by `model_dir`'s encoder at this `effort`."""
    return self.encoder(model_dir).compress(image, effort=self.effort)

  def decoder(self, model_dir):
    key = os.path.abspath(model_dir)
    if key not in self._decoders:
      from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
      self._decoders[key] = codec.Decoder(model_dir, threads=self.threads)
    return self._decoders[key]


@dataclasses.dataclass(frozen=True)
class Target:
  """What `compress` aims at: flag is max_bytes, target_bpp or target_psnr."""
  flag: str
  value: float

  def __str__(self):
    value = int(self.value) if self.flag == "max_bytes" else self.value
    return f"--{self.flag}={value:g}"

  def byte_limit(self, height, width):
    """The largest file allowed (bytes), or None for a PSNR target."""
    if self.flag == "max_bytes":
      return int(self.value)
    if self.flag == "target_bpp":
      return int(math.floor(self.value * height * width / 8.))
    return None


@dataclasses.dataclass
class Trial:
  """One shipped quality coded (and maybe decoded) for one image."""
  quality: int
  model_dir: str
  encoded: object       # codec.Encoded
  psnr: float = None    # dB of the decoded pixels, once measured


@dataclasses.dataclass
class Choice:
  """The quality `choose` picked, and why."""
  trial: Trial
  summary: str          # "quality 3, PSNR 31.20 dB (...)"
  warning: str = ""     # non-empty: the target was not met (PSNR)
  tried: tuple = ()     # the qualities coded, in order


def _last_true(count, test):
  """The largest i in 0..count-1 with test(i), for a test true on a prefix
  (binary search); None if test(0) is false."""
  low, high, best = 0, count - 1, None
  while low <= high:
    middle = (low + high) // 2
    if test(middle):
      best, low = middle, middle + 1
    else:
      high = middle - 1
  return best


def _first_true(count, test):
  """The smallest i in 0..count-1 with test(i), for a test true on a suffix
  (binary search); None if test(count - 1) is false."""
  low, high, best = 0, count - 1, None
  while low <= high:
    middle = (low + high) // 2
    if test(middle):
      best, high = middle, middle - 1
    else:
      low = middle + 1
  return best


def choose(image, target, coders, where="image"):
  """The shipped quality that best meets `target` for `image` (uint8 [H, W, 3]).

  Returns a Choice; TargetError if a size target is below the lowest quality's
  file (nothing to write). See the module docstring for the rules.
  """
  from compression.examples.images import metrics  # pylint: disable=g-import-not-at-top
  from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top
  qualities = shipped.qualities()
  if not qualities:
    shipped.default_quality()  # raises ShippedModelError: none installed
  height, width = image.shape[:2]
  trials, order = {}, []

  def trial(i):
    if i not in trials:
      model_dir = shipped.model_dir(qualities[i])
      encoded = coders.compress(model_dir, image)
      trials[i] = Trial(qualities[i], model_dir, encoded)
      order.append(qualities[i])
    return trials[i]

  def psnr(i):
    t = trial(i)
    if t.psnr is None:
      decoded = coders.decoder(t.model_dir).decompress(t.encoded.blob, where)
      t.psnr = metrics.psnr(image, decoded.image)
    return t.psnr

  limit = target.byte_limit(height, width)
  warning = ""
  if limit is not None:
    budget = str(target) + (f" ({limit} bytes)" if target.flag != "max_bytes"
                            else "")
    best = _last_true(len(qualities), lambda i: len(trial(i).encoded.blob) <= limit)
    if best is None:
      smallest = len(trial(0).encoded.blob)
      raise TargetError(
          f"{where}: {budget} cannot be met: the lowest quality "
          f"({qualities[0]}) takes {smallest} bytes "
          f"({8. * smallest / (height * width):.4f} bpp), the smallest file "
          "reachable; nothing written")
    psnr(best)
    why = ("the highest within " if best + 1 < len(qualities)
           else "the highest shipped, within ") + budget
  else:
    best = _first_true(len(qualities), lambda i: psnr(i) >= target.value)
    if best is None:
      best = len(qualities) - 1
      why = f"the highest shipped, short of {target}"
      warning = (f"{where}: even the highest quality ({qualities[best]}) reaches "
                 f"only {psnr(best):.2f} dB, short of {target}; wrote quality "
                 f"{qualities[best]}")
    else:
      why = ("the lowest reaching " if best > 0
             else "the lowest shipped, reaching ") + str(target)
  chosen = trials[best]
  summary = (f"quality {chosen.quality}, PSNR {chosen.psnr:.2f} dB: {why}, "
             f"{len(order)} of {len(qualities)} qualities tried")
  return Choice(chosen, summary, warning, tuple(order))


@dataclasses.dataclass
class Done:
  """What one file's work returns to `run`."""
  bytes_in: int
  bytes_out: int
  coded_bytes: int      # the .cim file's size (written or read)
  pixels: int
  detail: str = ""      # appended to the progress line
  warning: str = ""     # printed as a `warning:` line on stderr

  @property
  def bpp(self):
    return 8. * self.coded_bytes / self.pixels


@dataclasses.dataclass
class Summary:
  done: int
  failed: list
  warned: int
  bytes_in: int
  bytes_out: int
  mean_bpp: float
  seconds: float

  @property
  def photos_per_second(self):
    return self.done / self.seconds if self.seconds > 0 else math.inf


def reason(error):
  """One line for a file's failure: the error's own words (OS errors as path:
  reason, TensorFlow op errors in the op's words)."""
  if isinstance(error, OSError) and error.filename:
    text = f"{error.filename}: {error.strerror}"
  else:
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(error, tf.errors.OpError):
      text = f"TensorFlow {type(error).__name__}: {cli.op_error_message(error)}"
    else:
      text = str(error) or type(error).__name__
  return " ".join(text.split())


def run(jobs, work, file_errors, started, log=cli.log, warn=None):
  """Runs `work(input, output) -> Done` on every (input, output) of `jobs`.

  An exception of a type in `file_errors()` (called when one is raised, so it
  may name types of modules loaded meanwhile) fails that file: one line on
  stderr, and the next file. Others propagate. Prints a progress line per file
  and the summary; returns the Summary.
  """
  if warn is None:
    warn = lambda line: print(line, file=sys.stderr, flush=True)
  count = len(jobs)
  done, failed, warned = [], [], 0
  for i, (source, output) in enumerate(jobs, 1):
    start = time.time()
    try:
      result = work(source, output)
    except Exception as error:  # pylint: disable=broad-except
      if not isinstance(error, tuple(file_errors())):
        raise
      why = reason(error)
      named = why if source in why else f"{source}: {why}"
      warn(f"[{i}/{count}] failed: {named}")
      failed.append(source)
      continue
    log(f"[{i}/{count}] {source}: {result.coded_bytes} bytes, {result.bpp:.4f} "
        f"bpp, {time.time() - start:.2f} s{result.detail}")
    if result.warning:
      warn(f"warning: {result.warning}")
      warned += 1
    done.append(result)
  seconds = time.time() - started
  summary = Summary(
      done=len(done), failed=failed, warned=warned,
      bytes_in=sum(d.bytes_in for d in done),
      bytes_out=sum(d.bytes_out for d in done),
      mean_bpp=(sum(d.bpp for d in done) / len(done)) if done else math.nan,
      seconds=seconds)
  notes = [f"{len(failed)} failed"]
  if warned:
    notes.append(f"{warned} short of the target")
  mean = f"{summary.mean_bpp:.4f}" if done else "-"
  log(f"done: {summary.done} of {count} files ({', '.join(notes)}); "
      f"{summary.bytes_in} bytes in, {summary.bytes_out} bytes out, mean "
      f"{mean} bpp; {summary.photos_per_second:.2f} photos/s "
      f"({seconds:.1f} s in all)")
  return summary


def failure_message(summary, count):
  """The final error line of a run with failures."""
  names = summary.failed[:_NAMES_LISTED]
  more = len(summary.failed) - len(names)
  listed = ", ".join(names) + (f" and {more} more" if more else "")
  return f"{len(summary.failed)} of {count} files failed: {listed}"
