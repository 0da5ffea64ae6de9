"""What encoder-side refinement (`compress --effort=N`) buys, and what it costs.

For each effort, every shipped quality codes every photograph of --folder; the
file is decoded with the plain decoder and measured (whole-file bits per pixel,
PSNR and MS-SSIM of the decoded pixels). Printed side by side, per effort: the
mean bpp / PSNR of each quality, the BD-rate against effort 0 (the network's own
y) at equal PSNR and at equal MS-SSIM (dB), and the encoder's seconds per
megapixel (the coding run included, model loading not).

  python bench/refine_gain.py --folder=runs/photos/held_out [--efforts=0,1,2]
      [--images=baboon,home] [--threads=0] [--out=refine_gain.json]

Run from the repository root after `bazel build //compression:all`.
"""

import argparse
import glob
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from compression.examples.images import codec  # pylint: disable=wrong-import-position
from compression.examples.images import data  # pylint: disable=wrong-import-position
from compression.examples.images import metrics  # pylint: disable=wrong-import-position
from compression.examples.images import refine  # pylint: disable=wrong-import-position
from compression.examples.images import shipped  # pylint: disable=wrong-import-position


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--folder", required=True)
  parser.add_argument("--images", default="", help="comma-separated stems; "
                      "default: every PNG of --folder")
  parser.add_argument("--efforts", default="0,1,2")
  parser.add_argument("--qualities", default="", help="default: every shipped one")
  parser.add_argument("--threads", type=int, default=0)
  parser.add_argument("--out", default="")
  args = parser.parse_args()
  paths = sorted(glob.glob(os.path.join(args.folder, "*.png")))
  if args.images:
    stems = args.images.split(",")
    paths = [p for p in paths if os.path.basename(p)[:-4] in stems]
  if not paths:
    sys.exit(f"no photographs in {args.folder}")
  images = {os.path.basename(p)[:-4]: data.read_image(p) for p in paths}
  megapixels = sum(i.shape[0] * i.shape[1] for i in images.values()) / 1e6
  efforts = [int(e) for e in args.efforts.split(",")]
  qualities = ([int(q) for q in args.qualities.split(",")] if args.qualities
               else shipped.qualities())
  print(f"{len(images)} photographs, {megapixels:.2f} Mpixel; qualities "
        f"{qualities}; efforts {efforts} (Adam steps "
        f"{[refine.EFFORT_STEPS[e] for e in efforts]})", flush=True)
  points = {e: [] for e in efforts}
  for quality in qualities:
    folder = shipped.model_dir(quality)
    encoder = codec.Encoder(folder, threads=args.threads, refinable=True)
    decoder = codec.Decoder(folder, threads=args.threads)
    for effort in efforts:
      rows = []
      seconds = 0.
      for name, image in images.items():
        start = time.time()
        encoded = encoder.compress(image, effort=effort)
        seconds += time.time() - start
        decoded = decoder.decompress(encoded.blob).image
        rows.append({"bpp": encoded.bpp(*image.shape[:2]),
                     "psnr": metrics.psnr(image, decoded),
                     "ms_ssim": metrics.ms_ssim(image, decoded)})
      mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
      mean["ms_ssim_db"] = metrics.ms_ssim_db(mean["ms_ssim"])
      mean["seconds_per_megapixel"] = seconds / megapixels
      points[effort].append(dict(quality=quality, **mean))
      print(f"quality {quality} effort {effort}: {mean['bpp']:.4f} bpp, "
            f"{mean['psnr']:.3f} dB, MS-SSIM {mean['ms_ssim']:.4f}; "
            f"{mean['seconds_per_megapixel']:.1f} s/Mpixel", flush=True)
  print()
  print("| effort | steps | BD-rate vs effort 0, PSNR | BD-rate, MS-SSIM | s/Mpixel |")
  print("|---:|---:|---:|---:|---:|")
  base = points[efforts[0]]
  for effort in efforts:
    curve = points[effort]
    figures = []
    for key in ("psnr", "ms_ssim_db"):
      try:
        figures.append(f"{metrics.bd_rate([p['bpp'] for p in base], [p[key] for p in base], [p['bpp'] for p in curve], [p[key] for p in curve]):+.1f}%")
      except ValueError as error:
        figures.append(f"n/a ({error})")
    speed = np.mean([p["seconds_per_megapixel"] for p in curve])
    print(f"| {effort} | {refine.EFFORT_STEPS[effort]} | {figures[0]} | "
          f"{figures[1]} | {speed:.1f} |")
  if args.out:
    with open(args.out, "w") as f:
      json.dump({"images": sorted(images), "megapixels": megapixels,
                 "points": {str(e): p for e, p in points.items()}}, f, indent=1)


if __name__ == "__main__":
  main()
