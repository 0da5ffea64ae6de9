"""`demo`: the shipped models on a bundled photograph, beside JPEG at the same size.

For every shipped quality: compress the photograph (`models/sample.png`, a held-out
photograph no model trained on, or `--input`) into a .cim file, decompress that file
in a separate process (as another machine would), and compare with JPEG at the
largest quality whose file is not larger than the .cim file. Prints one table:
bytes, bits per pixel, PSNR and MS-SSIM of both.
"""

import os
import subprocess
import sys
import time

import numpy as np

from compression.examples.images import shipped

SAMPLE = os.path.join(shipped.MODELS_DIR, "sample.png")
SAMPLE_SOURCE = ("fruits.jpg of OpenCV's sample data (Debian opencv-doc; "
                 "Apache-2.0 AND BSD-3-Clause), a held-out photograph")


def _decompress_elsewhere(cim, png):
  """Runs `decompress` in a new process; returns its wall seconds."""
  started = time.time()
  result = subprocess.run(
      [sys.executable, "-m", "compression.examples.images", "decompress", cim, png],
      capture_output=True, text=True, check=False,
      env=dict(os.environ, PYTHONPATH=os.pathsep.join(
          p for p in [os.path.dirname(os.path.dirname(os.path.dirname(
              os.path.dirname(os.path.abspath(__file__))))),
                      os.environ.get("PYTHONPATH", "")] if p)))
  if result.returncode:
    lines = result.stderr.strip().splitlines()
    raise RuntimeError(f"decompress {cim} failed: {lines[-1] if lines else '?'}")
  return time.time() - started


def jpeg_at_most(image, max_bytes):
  """(quality, bytes, decoded) of the best JPEG quality not larger than
  `max_bytes`, or of quality 1 when even that is larger."""
  from compression.examples.images import compare  # pylint: disable=g-import-not-at-top
  best = None
  low, high = 1, 100
  while low <= high:  # the size grows with the quality
    quality = (low + high) // 2
    blob, decoded = compare.encode_standard("jpeg", image, quality)
    if len(blob) <= max_bytes:
      best = (quality, len(blob), decoded)
      low = quality + 1
    else:
      high = quality - 1
  if best is None:
    blob, decoded = compare.encode_standard("jpeg", image, 1)
    best = (1, len(blob), decoded)
  return best


def run(out_dir, image_path=SAMPLE, log=print):
  """Runs the demo into `out_dir`; returns the table rows (dicts)."""
  from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  from compression.examples.images import metrics  # pylint: disable=g-import-not-at-top
  qualities = shipped.qualities()
  if not qualities:
    raise shipped.ShippedModelError("no shipped model is installed")
  image = data.read_image(image_path)
  height, width = image.shape[:2]
  pixels = height * width
  os.makedirs(out_dir, exist_ok=True)
  log(f"{image_path}: {width}x{height}; {len(qualities)} shipped qualities")
  rows = []
  for quality in qualities:
    encoded = codec.Encoder(shipped.model_dir(quality)).compress(image)
    cim = os.path.join(out_dir, f"quality_{quality}.cim")
    png = os.path.join(out_dir, f"quality_{quality}.png")
    with open(cim, "wb") as f:
      f.write(encoded.blob)
    seconds = _decompress_elsewhere(cim, png)
    decoded = data.read_image(png)
    jpeg_quality, jpeg_bytes, jpeg = jpeg_at_most(image, len(encoded.blob))
    data.write_png(os.path.join(out_dir, f"quality_{quality}_jpeg.png"), jpeg)
    rows.append({
        "quality": quality, "bytes": len(encoded.blob),
        "bpp": 8. * len(encoded.blob) / pixels,
        "psnr": metrics.psnr(image, decoded), "ms_ssim": metrics.ms_ssim(image, decoded),
        "jpeg_quality": jpeg_quality, "jpeg_bytes": jpeg_bytes,
        "jpeg_bpp": 8. * jpeg_bytes / pixels, "jpeg_psnr": metrics.psnr(image, jpeg),
        "jpeg_ms_ssim": metrics.ms_ssim(image, jpeg), "decode_seconds": seconds})
  log(f"{'quality':>7} {'bytes':>7} {'bpp':>6} {'PSNR':>6} {'MS-SSIM':>7}   |  "
      f"{'JPEG q':>6} {'bytes':>7} {'bpp':>6} {'PSNR':>6} {'MS-SSIM':>7}")
  for r in rows:
    log(f"{r['quality']:>7} {r['bytes']:>7} {r['bpp']:>6.3f} {r['psnr']:>6.2f} "
        f"{r['ms_ssim']:>7.4f}   |  {r['jpeg_quality']:>6} {r['jpeg_bytes']:>7} "
        f"{r['jpeg_bpp']:>6.3f} {r['jpeg_psnr']:>6.2f} {r['jpeg_ms_ssim']:>7.4f}")
  log(f"(PSNR in dB on 8-bit RGB; each .cim decoded by a separate process; JPEG: "
      f"Pillow 4:2:0, the best quality not larger than the .cim file; files in "
      f"{out_dir})")
  return rows


def mean_gain(rows):
  """Mean PSNR difference (model - JPEG) in dB over the rows."""
  return float(np.mean([r["psnr"] - r["jpeg_psnr"] for r in rows]))
