"""Photographs per second: one `compress --out_dir` process for many files against
one `compress` process per photograph (and the same for `decompress`).

Makes --count photographs (default 100) of held-out size in a temporary folder:
crops of the held-out colour photographs (runs/photos/held_out/*.png, written by
`fetch_photos --data_dir=runs/photos`; else scikit-image's held-out four), photo
i from source i mod the number of sources, each side 80-100% of its source's at a
random place (seeded), as PNG. Then, at the default shipped quality (or
--quality) and the same --threads everywhere:

  one process      `compress --out_dir=CIM PHOTOS` (then `decompress --out_dir=PNG
                   CIM`), one fresh process each; wall seconds, process start to
                   exit, for all photographs
  per photograph   --singles fresh `compress IMAGE OUT` processes (then
                   `decompress IN OUT.png`) on photographs from different sources,
                   timed. Extrapolated to all photographs: each costs the fixed
                   cost of a process (a timed call's wall time minus that photo's
                   seconds in the batch's progress line, averaged over the timed
                   calls) plus its own seconds in the batch (the first photo's
                   hold the loading: the median instead). The plain mean of the
                   timed calls times the count is printed too.

The single calls must write the same bytes as the batch (checked). Run from the
repository root after `bazel build //compression:all`:

  python bench/batch_throughput.py [--count=100] [--singles=5] [--threads=0]
      [--quality=0] [--photos_dir=runs/photos/held_out] [--keep=DIR]

The figures depend on the machine and its load (this one has 2 cores and often a
training job beside it); the ratio is the point.
"""

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)

from compression.examples.images import data  # pylint: disable=g-import-not-at-top,wrong-import-position

_LINE = re.compile(r"^\[\d+/\d+\] (\S+): \d+ bytes, [\d.]+ bpp, ([\d.]+) s")


def _env():
  env = dict(os.environ)
  env["PYTHONPATH"] = os.pathsep.join([ROOT] + [
      p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
  env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  return env


def run(args):
  """(wall seconds, stdout) of `python -m compression.examples.images ARGS`."""
  start = time.time()
  proc = subprocess.run([sys.executable, "-m", "compression.examples.images"] +
                        args, cwd=ROOT, env=_env(), capture_output=True,
                        text=True, check=False)
  if proc.returncode:
    raise SystemExit(f"{' '.join(args[:2])} ... failed:\n{proc.stderr}")
  return time.time() - start, proc.stdout


def sources(photos_dir):
  paths = sorted(glob.glob(os.path.join(photos_dir, "*.png")))
  if paths:
    return paths, photos_dir
  return data.default_paths("held_out"), "scikit-image's held-out photographs"


def make_photos(paths, count, folder, seed=0):
  """Writes `count` crops of `paths` into `folder`; returns (paths, pixels)."""
  rng = np.random.default_rng(seed)
  images = [data.read_image(p) for p in paths]
  written, pixels = [], []
  for i in range(count):
    image = images[i % len(images)]
    height, width = image.shape[:2]
    h = int(round(height * rng.uniform(.8, 1.)))
    w = int(round(width * rng.uniform(.8, 1.)))
    top = rng.integers(0, height - h + 1)
    left = rng.integers(0, width - w + 1)
    path = os.path.join(folder, f"photo_{i:03d}.png")
    data.write_png(path, image[top:top + h, left:left + w])
    written.append(path)
    pixels.append(h * w)
  return written, pixels


def batch_seconds(stdout):
  """{input path: seconds} of a batch run's progress lines."""
  found = {}
  for line in stdout.splitlines():
    match = _LINE.match(line)
    if match:
      found[match.group(1)] = float(match.group(2))
  return found


def measure(which, inputs, batch_args, single_args, samples, count):
  """{one, per_photo, naive} seconds for all `count` photographs."""
  wall, stdout = run(batch_args)
  per_file = batch_seconds(stdout)
  if len(per_file) != count:
    raise SystemExit(f"{which}: {len(per_file)} progress lines for {count} files")
  singles, overheads = [], []
  for i in samples:
    seconds, _ = run(single_args(i))
    singles.append(seconds)
    overheads.append(seconds - per_file[inputs[i]])
  # The first file's seconds include loading TensorFlow and the model, which a
  # single call's fixed cost already holds: it counts as a typical photo.
  coding = [per_file[p] for p in inputs]
  coding[0] = statistics.median(coding[1:]) if count > 1 else coding[0]
  per_photo = sum(coding) + count * statistics.mean(overheads)
  return {"one": wall, "per_photo": per_photo,
          "naive": count * statistics.mean(singles), "singles": singles,
          "overhead": statistics.mean(overheads)}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--count", type=int, default=100)
  parser.add_argument("--singles", type=int, default=5)
  parser.add_argument("--threads", type=int, default=0)
  parser.add_argument("--quality", type=int, default=0)
  parser.add_argument("--photos_dir",
                      default=os.path.join(ROOT, "runs", "photos", "held_out"))
  parser.add_argument("--keep", default="",
                      help="Write the photographs and outputs here (kept).")
  args = parser.parse_args()
  work = args.keep or tempfile.mkdtemp(prefix="batch_throughput_")
  folders = {k: os.path.join(work, k) for k in ("photos", "cim", "png", "one")}
  for folder in folders.values():
    os.makedirs(folder, exist_ok=True)
  paths, where = sources(args.photos_dir)
  photos, pixels = make_photos(paths, args.count, folders["photos"])
  # Photographs of different sources, spread over the set.
  step = max(1, args.count // max(1, args.singles))
  samples = sorted({min(args.count - 1, 1 + i * step + i % len(paths))
                    for i in range(args.singles)})
  flags = [f"--threads={args.threads}"] + (
      [f"--quality={args.quality}"] if args.quality else [])
  cims = [os.path.join(folders["cim"], os.path.basename(p)[:-4] + ".cim")
          for p in photos]
  compress = measure(
      "compress", photos,
      ["compress", *flags, f"--out_dir={folders['cim']}", folders["photos"]],
      lambda i: ["compress", *flags, photos[i],
                 os.path.join(folders["one"], f"{i}.cim")],
      samples, args.count)
  decompress = measure(
      "decompress", cims,
      ["decompress", f"--threads={args.threads}", f"--out_dir={folders['png']}",
       folders["cim"]],
      lambda i: ["decompress", f"--threads={args.threads}", cims[i],
                 os.path.join(folders["one"], f"{i}.png")],
      samples, args.count)
  for i in samples:
    with open(cims[i], "rb") as a, open(
        os.path.join(folders["one"], f"{i}.cim"), "rb") as b:
      if a.read() != b.read():
        raise SystemExit(f"photo {i}: the single call wrote other bytes")
  megapixels = np.array(pixels) / 1e6
  print(f"{args.count} photographs: crops of {len(paths)} held-out photographs "
        f"({where}), {megapixels.min():.2f}-{megapixels.max():.2f} Mpixel, "
        f"mean {megapixels.mean():.2f}; quality "
        f"{args.quality or 'default'}, --threads={args.threads}")
  print(f"per photograph: {len(samples)} fresh processes timed (photos "
        f"{', '.join(map(str, samples))}), extrapolated to {args.count}")
  print()
  print(f"{'':12s}{'one process':>26s}{'one process per photo':>30s}{'ratio':>8s}")
  for name, m in (("compress", compress), ("decompress", decompress)):
    one = args.count / m["one"]
    each = args.count / m["per_photo"]
    print(f"{name:12s}{m['one']:9.1f} s {one:7.2f} photos/s"
          f"{m['per_photo']:12.1f} s {each:7.3f} photos/s{one / each:7.1f}x")
  print()
  for name, m in (("compress", compress), ("decompress", decompress)):
    timed = ", ".join(f"{s:.1f}" for s in m["singles"])
    print(f"{name}: timed single calls {timed} "
          f"s (fixed cost of a process {m['overhead']:.1f} s); plain mean x "
          f"{args.count} = {m['naive']:.0f} s, {args.count / m['naive']:.3f} "
          "photos/s")
  if not args.keep:
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
  main()
