"""Trained models against JPEG and WebP on the same images: table, plots, BD-rates.

Standard codecs (Pillow): JPEG at each quality of `jpeg_qualities` (4:2:0 chroma
subsampling, optimize=True: Huffman tables optimized per image) and lossy WebP at
each quality of `webp_qualities` (method=6, the slowest and best). Sizes are whole
files (JPEG/WebP headers included, as the models' .cim header and CRC are).
Each model directory is evaluated with `evaluate.evaluate` (one point per model);
models of one architecture form one curve, sorted by rate.

A point is the MEAN over the images of bits per pixel, PSNR (dB) and MS-SSIM (each
per image first, then averaged). BD-rates (metrics.bd_rate) compare each model curve
with JPEG and with WebP, and bmshj2018 with bls2017 when both are there, at equal
PSNR and at equal MS-SSIM in dB (-10 log10(1 - MS-SSIM)), on the interval of
qualities both curves cover (reported as "overlap"); no overlap, or fewer than two
points on a curve, gives a note instead of a figure.

Files written to `out_dir`:
  rd.csv          one row per (codec, setting, image) and one "(mean)" row per
                  (codec, setting): codec, setting, model_dir, image, width, height,
                  bytes, bpp, psnr, ms_ssim, ms_ssim_db (mean rows: width and height
                  empty, bytes the mean)
  rd_psnr.png     bpp vs PSNR, one line per codec
  rd_msssim.png   bpp vs MS-SSIM (dB), one line per codec
  summary.md      images, every point, the BD-rate table
"""

import csv
import io
import os
import time

import numpy as np

from compression.examples.images import data
from compression.examples.images import evaluate as evaluate_lib
from compression.examples.images import metrics
from compression.examples.images import plots

JPEG_QUALITIES = (1, 2, 3, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95)
WEBP_QUALITIES = (1, 2, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95)
STANDARD = ("jpeg", "webp")
LABELS = {"jpeg": "JPEG (Pillow, 4:2:0, optimize)", "webp": "WebP (Pillow, method 6)"}
# BD-rate quality measures: (key in a point's "mean", label).
QUALITIES = (("psnr", "PSNR (dB)"), ("ms_ssim_db", "MS-SSIM (dB)"))
CSV_FIELDS = ("codec", "setting", "model_dir", "image", "width", "height", "bytes",
              "bpp", "psnr", "ms_ssim", "ms_ssim_db")
MEAN_ROW = "(mean)"


def encode_standard(codec, image, quality):
  """uint8 [H, W, 3] -> (file bytes, decoded uint8 [H, W, 3]) with Pillow."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  picture = Image.fromarray(image, "RGB")
  if codec == "jpeg":
    picture.save(buffer, format="JPEG", quality=quality, subsampling="4:2:0",
                 optimize=True)
  elif codec == "webp":
    picture.save(buffer, format="WEBP", quality=quality, method=6)
  else:
    raise ValueError(f"unknown codec {codec!r}, expected one of {STANDARD}")
  blob = buffer.getvalue()
  with Image.open(io.BytesIO(blob)) as decoded:
    return blob, np.asarray(decoded.convert("RGB"), np.uint8)


def _image_row(name, image, blob, decoded):
  height, width = image.shape[:2]
  return {"name": name, "height": height, "width": width, "bytes": len(blob),
          "bpp": 8. * len(blob) / (height * width),
          "psnr": metrics.psnr(image, decoded),
          "ms_ssim": metrics.ms_ssim(image, decoded)}


def _point(codec, setting, rows, model_dir=""):
  mean = evaluate_lib.means(rows, ("bpp", "psnr", "ms_ssim"))
  mean["bytes"] = sum(r["bytes"] for r in rows) / len(rows)
  mean["ms_ssim_db"] = metrics.ms_ssim_db(mean["ms_ssim"])
  return {"codec": codec, "setting": setting, "model_dir": model_dir,
          "images": rows, "mean": mean}


def sweep(codec, images, qualities, log=print):
  """Points of one standard codec: list of {"codec", "setting", "model_dir",
  "images", "mean"}; `images` is a list of (name, uint8 [H, W, 3])."""
  points = []
  start = time.perf_counter()
  for quality in qualities:
    rows = [_image_row(name, image, *encode_standard(codec, image, quality))
            for name, image in images]
    points.append(_point(codec, f"quality={quality}", rows))
  log(f"{codec}: {len(qualities)} qualities x {len(images)} images in "
      f"{time.perf_counter() - start:.1f} s")
  return points


def _curve(points):
  return sorted(points, key=lambda p: p["mean"]["bpp"])


def _bd_entry(test, anchor, curves, key):
  """One BD-rate comparison (test against anchor at equal `key`) as a dict."""
  entry = {"test": test, "anchor": anchor, "quality": key, "bd_rate": None,
           "overlap": None, "note": ""}
  test_points, anchor_points = curves[test], curves[anchor]
  rate_t = [p["mean"]["bpp"] for p in test_points]
  rate_a = [p["mean"]["bpp"] for p in anchor_points]
  quality_t = [p["mean"][key] for p in test_points]
  quality_a = [p["mean"][key] for p in anchor_points]
  if len(test_points) < 2 or len(anchor_points) < 2:
    entry["note"] = (f"needs at least 2 points per curve ({test}: "
                     f"{len(test_points)}, {anchor}: {len(anchor_points)})")
    return entry
  try:
    entry["bd_rate"] = metrics.bd_rate(rate_a, quality_a, rate_t, quality_t)
  except ValueError as error:
    entry["note"] = str(error)
    return entry
  low, high = metrics.overlap(quality_a, quality_t)
  entry["overlap"] = (low, high)
  share = (high - low) / (max(quality_t) - min(quality_t))
  entry["note"] = f"overlap covers {100 * share:.0f}% of {test}'s range"
  return entry


def bd_rates(curves):
  """BD-rate entries for every model curve against JPEG and WebP, and bmshj2018
  against bls2017 when both are present; `curves`: codec -> points sorted by bpp."""
  models = [c for c in curves if c not in STANDARD]
  pairs = [(m, s) for m in models for s in STANDARD if s in curves]
  if "bmshj2018" in curves and "bls2017" in curves:
    pairs.append(("bmshj2018", "bls2017"))
  return [_bd_entry(test, anchor, curves, key)
          for test, anchor in pairs for key, _ in QUALITIES]


def _write_csv(points, path):
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, CSV_FIELDS)
    writer.writeheader()
    for p in points:
      common = {"codec": p["codec"], "setting": p["setting"],
                "model_dir": p["model_dir"]}
      for r in p["images"]:
        writer.writerow(dict(
            common, image=r["name"], width=r["width"], height=r["height"],
            bytes=r["bytes"], bpp=f"{r['bpp']:.6f}", psnr=f"{r['psnr']:.4f}",
            ms_ssim=f"{r['ms_ssim']:.6f}",
            ms_ssim_db=f"{metrics.ms_ssim_db(r['ms_ssim']):.4f}"))
      m = p["mean"]
      writer.writerow(dict(
          common, image=MEAN_ROW, width="", height="", bytes=f"{m['bytes']:.1f}",
          bpp=f"{m['bpp']:.6f}", psnr=f"{m['psnr']:.4f}",
          ms_ssim=f"{m['ms_ssim']:.6f}", ms_ssim_db=f"{m['ms_ssim_db']:.4f}"))


def _label(codec):
  return LABELS.get(codec, codec)


def _write_plots(curves, out_dir):
  files = {}
  for key, ylabel, name in (("psnr", "PSNR (dB)", "rd_psnr.png"),
                            ("ms_ssim_db", "MS-SSIM (dB) = -10 log10(1 - MS-SSIM)",
                             "rd_msssim.png")):
    path = os.path.join(out_dir, name)
    plots.rate_distortion(
        [(_label(codec), [(p["mean"]["bpp"], p["mean"][key]) for p in points])
         for codec, points in curves.items()],
        ylabel, f"Rate vs {ylabel.split(' =')[0]} (mean over the images)", path)
    files[name] = path
  return files


def _summary(images, curves, entries):
  lines = ["# Rate-distortion comparison", "",
           f"Images ({len(images)}): " + ", ".join(
               f"{name} ({image.shape[1]}x{image.shape[0]})" for name, image in images)
           + ".", "",
           "Each point is the mean over these images of bits per pixel (whole file "
           "bytes * 8 / pixels), PSNR (RGB, 8 bits) and MS-SSIM (RGB, channels "
           "averaged). JPEG: Pillow, 4:2:0, optimize=True. WebP: Pillow, lossy, "
           "method=6. Models: .cim files (56-byte header and 4-byte CRC included), "
           "one point per model directory.", "",
           "| codec | setting | bpp | PSNR (dB) | MS-SSIM | MS-SSIM (dB) |",
           "|---|---|---:|---:|---:|---:|"]
  for codec, points in curves.items():
    for p in points:
      m = p["mean"]
      lines.append(f"| {codec} | {p['setting']} | {m['bpp']:.4f} | {m['psnr']:.2f} | "
                   f"{m['ms_ssim']:.4f} | {m['ms_ssim_db']:.2f} |")
  lines += ["", "## BD-rate", "",
            "Bjøntegaard delta rate (log rate as a PCHIP function of quality, "
            "integrated over the quality interval both curves cover, the overlap "
            "below); negative: the test codec needs fewer bits than the anchor "
            "for the same quality. MS-SSIM in dB.", ""]
  if not entries:
    lines.append("No model curve to compare.")
  else:
    lines += ["| test | anchor | at equal | BD-rate | overlap used | note |",
              "|---|---|---|---:|---|---|"]
    labels = dict(QUALITIES)
    for e in entries:
      figure = "n/a" if e["bd_rate"] is None else f"{e['bd_rate']:+.2f}%"
      interval = ("none" if e["overlap"] is None else
                  f"{e['overlap'][0]:.2f} .. {e['overlap'][1]:.2f} dB")
      lines.append(f"| {e['test']} | {e['anchor']} | {labels[e['quality']]} | "
                   f"{figure} | {interval} | {e['note']} |")
  return "\n".join(lines) + "\n"


def compare(model_dirs, paths, out_dir, jpeg_qualities=JPEG_QUALITIES,
            webp_qualities=WEBP_QUALITIES, threads=0, log=print):
  """Evaluates models, JPEG and WebP on `paths`; writes the files of the module doc.

  Args:
    model_dirs: trained model directories (may be empty: JPEG and WebP only).
    paths: PNG / JPEG image files.
    out_dir: output folder (created).
    jpeg_qualities, webp_qualities: the quality sweeps (ints 1..100; empty: skip).
    threads: TensorFlow threads for the models (0: TensorFlow's default).
    log: called with progress lines.

  Returns:
    {"images": [{"name", "height", "width"}], "points": [{"codec", "setting",
     "model_dir", "images": [per-image rows], "mean": {"bpp", "psnr", "ms_ssim",
     "ms_ssim_db", "bytes"}}], "bd_rates": [{"test", "anchor", "quality",
     "bd_rate" (percent or None), "overlap" ((low, high) or None), "note"}],
     "models": [evaluate() results], "files": {name: path}}.
  """
  paths = list(paths)
  if not paths:
    raise data.DataError("compare: no images")
  for quality in list(jpeg_qualities) + list(webp_qualities):
    if isinstance(quality, bool) or not isinstance(quality, int) or not (
        1 <= quality <= 100):
      raise ValueError(f"qualities must be integers in 1..100, got {quality!r}")
  images = [(os.path.basename(p), data.read_image(p)) for p in paths]
  points = []
  for codec, qualities in (("jpeg", jpeg_qualities), ("webp", webp_qualities)):
    if qualities:
      points += sweep(codec, images, qualities, log)
  models = []
  for model_dir in model_dirs:
    log(f"evaluating {model_dir}")
    result = evaluate_lib.evaluate(model_dir, paths, threads=threads, log=log)
    models.append(result)
    points.append(_point(result["architecture"], f"lambda={result['lambda']:g}",
                         result["images"], model_dir))
  curves = {}
  for p in points:
    curves.setdefault(p["codec"], []).append(p)
  curves = {codec: _curve(group) for codec, group in curves.items()}
  entries = bd_rates(curves)

  os.makedirs(out_dir, exist_ok=True)
  files = {"rd.csv": os.path.join(out_dir, "rd.csv"),
           "summary.md": os.path.join(out_dir, "summary.md")}
  _write_csv(points, files["rd.csv"])
  files.update(_write_plots(curves, out_dir))
  with open(files["summary.md"], "w") as f:
    f.write(_summary(images, curves, entries))
  for e in entries:
    figure = "n/a" if e["bd_rate"] is None else f"{e['bd_rate']:+.2f}%"
    log(f"BD-rate {e['test']} vs {e['anchor']} at equal {e['quality']}: {figure} "
        f"({e['note']})")
  log(f"wrote {', '.join(files.values())}")
  return {"images": [{"name": n, "height": i.shape[0], "width": i.shape[1]}
                     for n, i in images],
          "points": points, "bd_rates": entries, "models": models, "files": files}
