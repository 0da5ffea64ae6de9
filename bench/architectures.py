"""Rate, quality and seconds per megapixel of image models side by side: one row per
model directory (any architecture: bls2017, bmshj2018, mbt2018-mean, ms2020-cc).

For each model, in one process: an `Encoder` and a `Decoder` are built once; every
photograph is compressed and decompressed once as a warm-up and then --runs times,
and the median wall time of `Encoder.compress` and `Decoder.decompress` (graph
built, weights loaded: the cost a long-running process pays per photograph) is
divided by the photograph's megapixels. The photographs' rate (bits per pixel of
the whole file) and PSNR are averaged over the photographs.

  python bench/architectures.py MODEL_DIR [MODEL_DIR ...] [--photos=GLOB]
      [--runs=3] [--threads=1]

MODEL_DIR may also be `quality:N` (a shipped model). Default photographs: three of
the held-out set (runs/photos/held_out, written by `fetch_photos
--data_dir=runs/photos`). Times depend on the machine and its load; compare rows of
one run.
"""

import argparse
import glob
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top

from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
from compression.examples.images import config as config_lib  # pylint: disable=g-import-not-at-top
from compression.examples.images import data  # pylint: disable=g-import-not-at-top
from compression.examples.images import metrics  # pylint: disable=g-import-not-at-top
from compression.examples.images import shipped  # pylint: disable=g-import-not-at-top

DEFAULT_PHOTOS = ("castle", "dogs", "yellowflower")


def _model_dir(name):
  if name.startswith("quality:"):
    return shipped.model_dir(name.split(":", 1)[1])
  return name


def _timed(function, runs):
  function()  # warm-up
  seconds = []
  for _ in range(runs):
    start = time.perf_counter()
    result = function()
    seconds.append(time.perf_counter() - start)
  return result, statistics.median(seconds)


def measure(model_dir, images, runs, threads):
  """{bpp, psnr, encode, decode} (the last two: seconds per megapixel) of a model."""
  encoder = codec.Encoder(model_dir, threads=threads)
  decoder = codec.Decoder(model_dir, threads=threads)
  rows = []
  for image in images:
    megapixels = image.shape[0] * image.shape[1] / 1e6
    encoded, encode = _timed(lambda image=image: encoder.compress(image), runs)
    decoded, decode = _timed(lambda blob=encoded.blob: decoder.decompress(blob),
                             runs)
    rows.append((encoded.bpp(*image.shape[:2]),
                 metrics.psnr(image, decoded.image),
                 encode / megapixels, decode / megapixels))
  return np.mean(rows, axis=0)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("models", nargs="+", help="model directories or quality:N")
  parser.add_argument("--photos", default="", help="glob of PNG photographs")
  parser.add_argument("--runs", type=int, default=3)
  parser.add_argument("--threads", type=int, default=1)
  args = parser.parse_args(argv)
  if args.photos:
    paths = sorted(glob.glob(args.photos))
  else:
    paths = [os.path.join("runs/photos/held_out", f"{n}.png") for n in DEFAULT_PHOTOS]
  missing = [p for p in paths if not os.path.isfile(p)]
  if not paths or missing:
    sys.exit(f"no photographs at {missing or args.photos}: pass --photos=GLOB, or "
             "fetch the held-out set with `python -m compression.examples.images "
             "fetch_photos --data_dir=runs/photos`")
  images = [data.read_image(p) for p in paths]
  pixels = sum(i.shape[0] * i.shape[1] for i in images) / 1e6
  print(f"{len(images)} photographs ({pixels:.2f} MP), {args.runs} timed runs each "
        f"(median), {args.threads} thread(s)")
  print(f"{'model':<44} {'architecture':<13} {'bpp':>6} {'PSNR':>6} "
        f"{'encode s/MP':>11} {'decode s/MP':>11}")
  for name in args.models:
    model_dir = _model_dir(name)
    architecture = config_lib.require(model_dir)["architecture"]
    bpp, psnr, encode, decode = measure(model_dir, images, args.runs, args.threads)
    print(f"{name:<44} {architecture:<13} {bpp:6.3f} {psnr:6.2f} "
          f"{encode:11.2f} {decode:11.2f}", flush=True)


if __name__ == "__main__":
  main()
