"""Trained models against standard codecs on the same images: table, plots, BD-rates.

Anchors (the standard codecs), each over its own sweep of one setting (`SWEEPS`),
named in `LABELS` and described with the library versions in summary.md:

  jpeg      Pillow (libjpeg-turbo): quality, 4:2:0 chroma subsampling, optimize=True
            (Huffman tables optimized per image).
  webp      Pillow (libwebp): lossy, quality, method=6 (the slowest and best).
  jpeg2000  OpenJPEG through Pillow's binding: a JP2 file, one tile, the
            irreversible 9/7 wavelet with 5 decomposition levels, 64x64 code-blocks,
            one quality layer, RGB through the codec's colour transform (ICT,
            mct=1). The setting is the rate in bits per pixel, given to OpenJPEG as
            the compression ratio 24 / bpp (quality_mode="rates", as `opj_compress
            -r`); OpenJPEG's rate allocation meets it within about 1%.
            Not imagecodecs' `jpeg2k_encode`: it offers only OpenJPEG's PSNR
            target (`opj_compress -q`). How a sweep shares bits among the images
            moves the mean curve: over 20 photographs (runs/photos/held_out) the
            shipped bmshj2018 models' BD-rate at equal PSNR against JPEG 2000 was
            -33% with PSNR targets (every image at the same PSNR), +62% with
            fixed rates (every image at the same bpp) and +34% as the mean of the
            per-image BD-rates; fixed rates are the usual JPEG 2000 setting and
            the nearer of the two.
  jpegxl    libjxl via imagecodecs (`jpegxl_encode`): effort 7 (libjxl's default),
            the setting is the Butteraugli distance (`cjxl -d`; 1.0 is visually
            lossless, 25 the most lossy); a bare codestream.
  avif      libavif with the libaom encoder (codec="aom") via imagecodecs
            (`avif_encode`): speed 6 (avifenc's default), 8-bit 4:2:0 YUV, the
            setting is libavif's quality 0..100 (`avifenc -q`); decoded by libavif.
  heic      pillow-heif (libheif, HEVC intra with x265, Main Still Picture profile):
            4:2:0 (chroma=420), libheif's x265 defaults (preset slow, tune ssim),
            BT.601 full-range YCbCr; the setting is libheif's quality 0..100 (x265
            QP = (100 - quality) * 51 / 100); decoded by libheif with libde265.

jpeg, webp and jpeg2000 need Pillow (the examples extra; its wheels carry
libjpeg-turbo, libwebp and OpenJPEG), jpegxl and avif `imagecodecs`, heic
`pillow-heif` (those two: the anchors extra); each library is imported when used,
and an
anchor asked for whose library is missing is a MissingDependencyError naming its
pip package and extra (`resolve_anchors`; with no anchors named, those missing are
left out). Sizes are whole files (headers and containers included, as the models'
.cim header and CRC are); each anchor's file is decoded with the same library.
Each model directory is evaluated with `evaluate.evaluate` (one point per model);
models of one architecture form one curve, sorted by rate. With `efforts` (compare
--efforts=0,1) every model is evaluated once per effort of encoder-side refinement
(`compress --effort`, refine.py): effort 0 gives the architecture's curve, effort
N > 0 the curve "ARCHITECTURE effort N" (`model_curve`), which is compared with
every anchor and with the same architecture's effort-0 curve. summary.md lists
each model point's encode and decode seconds per megapixel.

Saved evaluations: each model's evaluation at each effort is saved in
`OUT_DIR/evaluations/` as it finishes (a JSON of `evaluate.evaluate`'s result and
what it depends on). A later comparison into the same folder reads it back instead
of evaluating again when the weights (the SHA-256 of the shipped weights file or
of the newest checkpoint), the effort, the refinement's settings (refine.py's
steps, rates, temperatures and METHOD) and the images (names and file SHA-256)
are the same: an interrupted comparison resumes, and adding one model evaluates
only that model. Timings are those of the saved run. Delete the folder to measure
again (after changing the code of the codec, for instance).

Anchor points from an earlier run (`anchor_points`, `compare --anchor_points=CSV`):
the anchors are deterministic, and their sweeps take most of a comparison's time
(about 25 minutes for the six over 20 photographs on 2 cores), so their rows of an
earlier rd.csv can stand in for encoding them again. Every image of this run must
have a row, with the same width and height, for every setting of every anchor
taken from the file; else a one-line error names the anchor, setting and image.
summary.md then names the file instead of library versions and times.

A point is the MEAN over the images of bits per pixel, PSNR (dB) and MS-SSIM (each
per image first, then averaged). BD-rates (metrics.bd_rate) compare each model curve
with every anchor, and each architecture with every earlier one present (in
`config.ARCHITECTURES` order: bmshj2018 with bls2017, mbt2018-mean with both, ...), at equal
PSNR and at equal MS-SSIM in dB (-10 log10(1 - MS-SSIM)), on the interval of
qualities both curves cover (reported as "overlap"); no overlap, or fewer than two
points on a curve, gives a note instead of a figure. Beside each, the mean of the
per-photograph BD-rates (`per_image_bd_rates`: each photograph's own points, a
setting that costs more bits for less quality left out, the photographs whose
curves overlap counted), which weighs every photograph alike where the mean
curves favour a sweep at fixed rates.

Files written to `out_dir`:
  rd.csv          one row per (codec, setting, image) and one "(mean)" row per
                  (codec, setting): codec, setting, model_dir, image, width, height,
                  bytes, bpp, psnr, ms_ssim, ms_ssim_db (mean rows: width and height
                  empty, bytes the mean)
  rd_psnr.png     bpp vs PSNR, one line per codec
  rd_msssim.png   bpp vs MS-SSIM (dB), one line per codec
  summary.md      images, anchors (library versions, settings, time), every point,
                  the BD-rate table (mean curves, and the mean of per-photograph
                  BD-rates)
"""

import csv
import hashlib
import importlib
import importlib.util
import io
import json
import math
import os
import time

import numpy as np

from compression.examples.common import errors
from compression.examples.images import config as config_lib
from compression.examples.images import data
from compression.examples.images import evaluate as evaluate_lib
from compression.examples.images import metrics
from compression.examples.images import plots
from compression.examples.images import refine

ANCHORS = ("jpeg", "webp", "jpeg2000", "jpegxl", "avif", "heic")
# The anchors Pillow encodes (`encode_standard`).
STANDARD = ("jpeg", "webp", "jpeg2000")
JPEG_QUALITIES = (1, 2, 3, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95)
WEBP_QUALITIES = (1, 2, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95)
# The anchors of issue 22, each sweep from about 0.05 to 2 bpp on average over 20
# photographs of 0.2-2.5 Mpixel (runs/photos/held_out): jpeg2000 0.05-2.0,
# jpegxl 0.12-2.3 (distance 25, libjxl's largest, is its lowest rate), avif
# 0.07-1.9, heic 0.04-2.0.
JPEG2000_RATES = (0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.7, 1, 1.4, 2)
JPEGXL_DISTANCES = (25, 15, 10, 7, 4.5, 3, 2, 1.5, 1, 0.5)
AVIF_QUALITIES = (2, 10, 20, 30, 40, 50, 60, 70, 80, 88)
HEIC_QUALITIES = (1, 10, 20, 30, 40, 50, 60, 66)
SWEEPS = {"jpeg": JPEG_QUALITIES, "webp": WEBP_QUALITIES,
          "jpeg2000": JPEG2000_RATES, "jpegxl": JPEGXL_DISTANCES,
          "avif": AVIF_QUALITIES, "heic": HEIC_QUALITIES}
LABELS = {"jpeg": "JPEG (Pillow, 4:2:0, optimize)",
          "webp": "WebP (Pillow, method 6)",
          "jpeg2000": "JPEG 2000 (OpenJPEG, 9/7 + ICT, fixed rates)",
          "jpegxl": "JPEG XL (libjxl, effort 7)",
          "avif": "AVIF (libaom, speed 6, 4:2:0)",
          "heic": "HEIC (x265 intra, 4:2:0)"}
# The settings behind each label, for summary.md.
DESCRIPTIONS = {
    "jpeg": "4:2:0 chroma subsampling, optimize=True (Huffman tables per image); "
            "setting: quality",
    "webp": "lossy, method=6; setting: quality",
    "jpeg2000": "Pillow's OpenJPEG binding: JP2 file, irreversible 9/7 wavelet, 5 "
                "decomposition levels, 64x64 code-blocks, one quality layer, RGB "
                "through the codec's colour transform (ICT); setting: the rate in "
                "bpp, OpenJPEG's compression ratio 24 / bpp (opj_compress -r)",
    "jpegxl": "effort 7; setting: Butteraugli distance (cjxl -d)",
    "avif": "libaom encoder (codec=aom), speed 6, 8-bit 4:2:0; setting: libavif "
            "quality (avifenc -q)",
    "heic": "HEVC intra by x265 with libheif's defaults (preset slow, tune ssim), "
            "4:2:0, BT.601 full range; setting: libheif quality (QP = (100 - q) * "
            "51 / 100)",
}
# The setting each sweep varies: (name, type, lowest, highest).
SETTINGS = {"jpeg": ("quality", int, 1, 100),
            "webp": ("quality", int, 1, 100),
            "jpeg2000": ("bpp", float, 0.01, 24),
            "jpegxl": ("distance", float, 0.01, 25),
            "avif": ("quality", int, 0, 100),
            "heic": ("quality", int, 0, 100)}
# What each anchor needs: (module, pip package, extra, the codec in the module: a
# Pillow feature or an imagecodecs codec class).
REQUIRES = {"jpeg": ("PIL", "pillow", "examples", "jpg"),
            "webp": ("PIL", "pillow", "examples", "webp"),
            "jpeg2000": ("PIL", "pillow", "examples", "jpg_2000"),
            "jpegxl": ("imagecodecs", "imagecodecs", "anchors", "JPEGXL"),
            "avif": ("imagecodecs", "imagecodecs", "anchors", "AVIF"),
            "heic": ("pillow_heif", "pillow-heif", "anchors", None)}
# BD-rate quality measures: (key in a point's "mean", label).
QUALITIES = (("psnr", "PSNR (dB)"), ("ms_ssim_db", "MS-SSIM (dB)"))
CSV_FIELDS = ("codec", "setting", "model_dir", "image", "width", "height", "bytes",
              "bpp", "psnr", "ms_ssim", "ms_ssim_db")
MEAN_ROW = "(mean)"
# The curve of an architecture's models refined at effort N: ARCHITECTURE + REFINED + N.
REFINED = " effort "


def model_curve(architecture, effort=0):
  """The curve (the "codec" of its points) of `architecture` at `effort`."""
  return architecture if not effort else f"{architecture}{REFINED}{effort}"


def _purpose(codec):
  return f"compare --anchors={codec}"


def _import(codec):
  """The module `codec` needs, imported; MissingDependencyError if it is not
  installed (naming the pip package and the extra)."""
  module, package, extra, _ = REQUIRES[codec]
  try:
    return importlib.import_module(module)
  except ImportError:
    raise errors.missing(_purpose(codec), package, module, extra=extra) from None


def _has_codec(codec):
  """(whether the installed module has `codec`'s codec, the check's name)."""
  module, _, _, name = REQUIRES[codec]
  if name is None:
    return True, ""
  if module == "PIL":
    from PIL import features  # pylint: disable=g-import-not-at-top
    return bool(features.check(name)), f"PIL.features.check({name!r})"
  available = getattr(getattr(_import(codec), name, None), "available", False)
  return bool(available), f"imagecodecs.{name}.available"


def missing_reason(codec):
  """None if anchor `codec` can run here, else the MissingDependencyError saying
  why: its module is not installed (looked up without importing), or the
  installed build lacks the codec (a Pillow feature, `imagecodecs.<CODEC>`)."""
  module, package, extra, _ = REQUIRES[codec]
  try:
    found = importlib.util.find_spec(module) is not None
  except (ImportError, ValueError):  # e.g. sys.modules[module] is None
    found = False
  if not found:
    return errors.missing(_purpose(codec), package, module, extra=extra)
  try:
    available, check = _has_codec(codec)
  except ImportError:
    available, check = False, f"import {module}"
  if not available:
    return errors.MissingDependencyError(
        f"{_purpose(codec)} needs {package} built with its {codec} codec ({check} "
        f"is false here): "
        f"{errors.install_hint(extra, f'pip install --upgrade {package}')}")
  return None


def resolve_anchors(names=None, log=None):
  """The anchors to run, in `ANCHORS` order.

  Args:
    names: anchor names (duplicates allowed); None or empty: every anchor whose
      library is installed (the others are named through `log`).
    log: optional, called with a line naming the anchors left out.

  Raises:
    errors.InputError: an unknown name.
    errors.MissingDependencyError: a named anchor whose library is missing.
  """
  if names:
    unknown = [n for n in names if n not in ANCHORS]
    if unknown:
      raise errors.InputError(f"unknown anchor(s) {', '.join(map(repr, unknown))}; "
                              f"known: {','.join(ANCHORS)}")
    for name in ANCHORS:
      if name in names:
        reason = missing_reason(name)
        if reason is not None:
          raise reason
    return tuple(n for n in ANCHORS if n in names)
  chosen, left_out = [], []
  for name in ANCHORS:
    reason = missing_reason(name)
    (chosen if reason is None else left_out).append(name)
  if left_out and log is not None:
    log(f"anchors left out (library not installed): {', '.join(left_out)}; "
        "pip install learned-compression[anchors] adds them")
  return tuple(chosen)


def versions(codec):
  """The library versions behind anchor `codec`, one string (imports them)."""
  module = _import(codec)
  if REQUIRES[codec][0] == "PIL":
    from PIL import features  # pylint: disable=g-import-not-at-top
    if codec == "jpeg":
      turbo = features.version("libjpeg_turbo")
      library = (f"libjpeg-turbo {turbo}" if turbo else
                 f"libjpeg {features.version('jpg')}")
    elif codec == "webp":
      library = f"libwebp {features.version('webp')}"
    else:
      library = f"OpenJPEG {features.version('jpg_2000')}"
    return f"Pillow {module.__version__}, {library}"
  if codec == "heic":
    info = module.libheif_info()
    return (f"pillow-heif {module.__version__}, libheif {info.get('libheif')}, "
            f"{info.get('HEIF')}, decoders: "
            + ", ".join(info.get("decoders", {}).values()))
  library = {"jpegxl": module.jpegxl_version, "avif": module.avif_version}[codec]()
  return f"imagecodecs {module.__version__}, {library}"


def check_setting(codec, setting):
  """ValueError unless `setting` is valid for anchor `codec` (`SETTINGS`)."""
  name, kind, low, high = SETTINGS[codec]
  if kind is int:
    valid = isinstance(setting, int) and not isinstance(setting, bool)
    what = "integers"
  else:
    valid = (isinstance(setting, (int, float)) and not isinstance(setting, bool)
             and math.isfinite(setting))
    what = "numbers"
  if not valid or not low <= setting <= high:
    raise ValueError(f"{codec} {name} settings must be {what} in {low}..{high}, "
                     f"got {setting!r}")


def setting_label(codec, setting):
  """"quality=10", "distance=1.5", ...: the setting column of rd.csv."""
  return f"{SETTINGS[codec][0]}={setting:g}"


def encode_standard(codec, image, quality):
  """uint8 [H, W, 3] -> (file bytes, decoded uint8 [H, W, 3]) with Pillow; for
  jpeg2000 `quality` is the rate in bits per pixel."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  picture = Image.fromarray(image, "RGB")
  if codec == "jpeg":
    picture.save(buffer, format="JPEG", quality=quality, subsampling="4:2:0",
                 optimize=True)
  elif codec == "webp":
    picture.save(buffer, format="WEBP", quality=quality, method=6)
  elif codec == "jpeg2000":
    # `quality` is the rate in bpp: OpenJPEG's ratio to the 24 bpp of the input.
    picture.save(buffer, format="JPEG2000", quality_mode="rates",
                 quality_layers=[24. / quality], irreversible=True, mct=1,
                 no_jp2=False)
  else:
    raise ValueError(f"unknown codec {codec!r}, expected one of {STANDARD}")
  blob = buffer.getvalue()
  with Image.open(io.BytesIO(blob)) as decoded:
    return blob, np.asarray(decoded.convert("RGB"), np.uint8)


def _encode_heic(image, quality):
  pillow_heif = _import("heic")
  height, width = image.shape[:2]
  heif = pillow_heif.from_bytes(mode="RGB", size=(width, height),
                                data=np.ascontiguousarray(image).tobytes())
  buffer = io.BytesIO()
  heif.save(buffer, quality=quality, chroma=420)
  blob = buffer.getvalue()
  decoded = pillow_heif.open_heif(io.BytesIO(blob), convert_hdr_to_8bit=True)
  return blob, np.asarray(decoded[0].to_pillow().convert("RGB"), np.uint8)


def encode_anchor(codec, image, setting):
  """uint8 [H, W, 3] -> (whole file bytes, decoded uint8 [H, W, 3]) of anchor
  `codec` (one of `ANCHORS`) at `setting` (see `SETTINGS`), decoded with the
  library that encoded it."""
  if codec not in ANCHORS:
    raise ValueError(f"unknown codec {codec!r}, expected one of {ANCHORS}")
  check_setting(codec, setting)
  image = np.ascontiguousarray(image, np.uint8)
  if codec in STANDARD:
    return encode_standard(codec, image, setting)
  if codec == "heic":
    return _encode_heic(image, setting)
  imagecodecs = _import(codec)
  if codec == "jpegxl":
    blob = imagecodecs.jpegxl_encode(image, effort=7, distance=float(setting))
    decode = imagecodecs.jpegxl_decode
  else:
    blob = imagecodecs.avif_encode(
        image, setting, speed=6, pixelformat=imagecodecs.AVIF.PIXEL_FORMAT.YUV420,
        codec=imagecodecs.AVIF.CODEC_CHOICE.AOM)
    decode = imagecodecs.avif_decode
  blob = bytes(blob)
  decoded = np.asarray(decode(blob))
  if decoded.dtype != np.uint8 or decoded.shape != image.shape:
    raise ValueError(f"{codec} decoded {decoded.dtype} {decoded.shape}, expected "
                     f"uint8 {image.shape}")
  return blob, decoded


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


def sweep(codec, images, settings, log=print):
  """Points of one anchor: list of {"codec", "setting", "model_dir", "images",
  "mean"}, one per setting; `images` is a list of (name, uint8 [H, W, 3]). Each
  point's "seconds" is the time of its encodes and decodes (metrics excluded)."""
  points = []
  wall = time.perf_counter()
  for setting in settings:
    rows, seconds = [], 0.
    for name, image in images:
      start = time.perf_counter()
      blob, decoded = encode_anchor(codec, image, setting)
      seconds += time.perf_counter() - start
      rows.append(_image_row(name, image, blob, decoded))
    point = _point(codec, setting_label(codec, setting), rows)
    point["seconds"] = seconds
    points.append(point)
  total = sum(p["seconds"] for p in points)
  wall = time.perf_counter() - wall
  log(f"{codec}: {len(settings)} settings x {len(images)} images, encode + decode "
      f"{total:.1f} s ({total / max(1, len(images)):.2f} s per image), "
      f"{wall:.1f} s with PSNR and MS-SSIM")
  return points


def read_anchor_points(path, images, anchors=None):
  """Anchor points of an earlier comparison's rd.csv, for `images`.

  Args:
    path: rd.csv written by `compare`.
    images: list of (name, uint8 [H, W, 3]) of this run.
    anchors: anchor names to take (None or empty: every anchor in the file).

  Returns:
    ({anchor: [points, one per setting, as `sweep` returns them, "seconds" 0]},
     {anchor: [setting labels]}), anchors in `ANCHORS` order.

  Raises:
    data.DataError (one line): the file is unreadable or not an rd.csv, a named
      anchor has no rows, or an anchor's setting lacks an image of this run or has
      it at another size.
  """
  try:
    with open(path, newline="") as f:
      rows = list(csv.DictReader(f))
  except (OSError, UnicodeDecodeError, csv.Error) as error:
    raise data.DataError(f"--anchor_points {path}: cannot read ({error})") from None
  if not rows or any(field not in rows[0] for field in CSV_FIELDS):
    raise data.DataError(f"--anchor_points {path}: not an rd.csv of compare "
                         f"(columns {', '.join(CSV_FIELDS)})")
  by_setting = {}
  for row in rows:
    if row["codec"] in ANCHORS and row["image"] != MEAN_ROW:
      by_setting.setdefault((row["codec"], row["setting"]), {})[row["image"]] = row
  available = [a for a in ANCHORS if any(c == a for c, _ in by_setting)]
  wanted = [a for a in ANCHORS if a in anchors] if anchors else available
  missing = [a for a in wanted if a not in available]
  if missing:
    raise data.DataError(f"--anchor_points {path} has no rows of anchor(s) "
                         f"{', '.join(missing)}")
  points, settings = {}, {}
  for (codec, setting), found in by_setting.items():
    if codec not in wanted:
      continue
    chosen = []
    for name, image in images:
      row = found.get(name)
      if row is None:
        raise data.DataError(f"--anchor_points {path}: {codec} {setting} has no "
                             f"row for image {name}")
      size = (int(row["height"]), int(row["width"]))
      if size != image.shape[:2]:
        raise data.DataError(
            f"--anchor_points {path}: {codec} {setting} image {name} is "
            f"{size[1]}x{size[0]} there, {image.shape[1]}x{image.shape[0]} here")
      chosen.append({"name": name, "height": size[0], "width": size[1],
                     "bytes": int(row["bytes"]), "bpp": float(row["bpp"]),
                     "psnr": float(row["psnr"]), "ms_ssim": float(row["ms_ssim"])})
    point = _point(codec, setting, chosen)
    point["seconds"] = 0.
    points.setdefault(codec, []).append(point)
    settings.setdefault(codec, []).append(setting)
  order = [a for a in ANCHORS if a in points]
  return ({a: points[a] for a in order}, {a: settings[a] for a in order})


def _curve(points):
  return sorted(points, key=lambda p: p["mean"]["bpp"])


def _bd_entry(test, anchor, curves, key):
  """One BD-rate comparison (test against anchor at equal `key`) as a dict."""
  test_points, anchor_points = curves[test], curves[anchor]
  entry = {"test": test, "anchor": anchor, "quality": key, "bd_rate": None,
           "overlap": None, "note": "",
           "per_image": per_image_bd_rates(test_points, anchor_points, key)}
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


def _image_quality(row, key):
  if key == "ms_ssim_db":
    return metrics.ms_ssim_db(row["ms_ssim"])
  return row[key]


def _rising(pairs):
  """The (rate, quality) pairs sorted by rate whose quality exceeds every cheaper
  one's (a setting that spends more bits for no more quality is left out)."""
  out = []
  for rate, quality in sorted(pairs):
    if not out or quality > out[-1][1]:
      out.append((rate, quality))
  return out


def per_image_bd_rates(test_points, anchor_points, key):
  """{image name: BD-rate in percent} of each image the two curves share, from its
  own points (each point's "images" rows), at equal `key`; an image whose curves do
  not overlap (or have fewer than 2 rising points) is left out. The mean of these
  is the other way to summarise a set: it weighs every photograph alike, where the
  BD-rate of the mean curves favours a sweep at fixed rates (PSNR is concave in the
  rate, so averaging PSNR at equal bpp lifts that sweep's curve)."""
  def by_image(points):
    out = {}
    for point in points:
      for row in point.get("images", ()):
        out.setdefault(row["name"], []).append(
            (row["bpp"], _image_quality(row, key)))
    return out
  test, anchor = by_image(test_points), by_image(anchor_points)
  figures = {}
  for name in sorted(set(test) & set(anchor)):
    mine, theirs = _rising(test[name]), _rising(anchor[name])
    try:
      figures[name] = metrics.bd_rate(*zip(*theirs), *zip(*mine))
    except ValueError:
      continue
  return figures


def bd_rates(curves):
  """BD-rate entries for every model curve against every anchor, every
  architecture against each earlier one present (`config.ARCHITECTURES` order)
  and every refined curve (`model_curve` with effort > 0) against its
  architecture's effort-0 curve; `curves`: codec -> points sorted by bpp."""
  models = [c for c in curves if c not in ANCHORS]
  pairs = [(m, a) for m in models for a in ANCHORS if a in curves]
  present = [a for a in config_lib.ARCHITECTURES if a in curves]
  pairs += [(later, earlier) for i, later in enumerate(present)
            for earlier in present[:i]]
  pairs += [(m, base) for m in models for base in present
            if m.startswith(base + REFINED) and m != base]
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


def _summary(images, curves, entries, anchors):
  """summary.md; `anchors`: {codec: {"versions", "settings", "seconds"}} of the
  anchors run."""
  lines = ["# Rate-distortion comparison", "",
           f"Images ({len(images)}): " + ", ".join(
               f"{name} ({image.shape[1]}x{image.shape[0]})" for name, image in images)
           + ".", "",
           "Each point is the mean over these images of bits per pixel (whole file "
           "bytes * 8 / pixels), PSNR (RGB, 8 bits) and MS-SSIM (RGB, channels "
           "averaged). Anchors: whole files (headers and containers included), "
           "decoded with the library that encoded them. Models: .cim files "
           "(56-byte header and 4-byte CRC included), one point per model "
           "directory.", ""]
  if anchors:
    lines += ["## Anchors", "",
              "| anchor | label | libraries | settings | sweep | encode + decode |",
              "|---|---|---|---|---|---:|"]
    for codec, info in anchors.items():
      settings = info["settings"]
      if "source" in info:
        lines.append(f"| {codec} | {LABELS[codec]} | points read from "
                     f"{info['source']} | {DESCRIPTIONS[codec]} | "
                     f"{', '.join(settings)} | not run |")
        continue
      per_image = info["seconds"] / max(1, len(images))
      lines.append(
          f"| {codec} | {LABELS[codec]} | {info['versions']} | "
          f"{DESCRIPTIONS[codec]} | {SETTINGS[codec][0]} "
          f"{', '.join(f'{x:g}' for x in settings)} | {info['seconds']:.1f} s "
          f"({per_image:.2f} s per image for the {len(settings)} settings) |")
    lines.append("")
  lines += ["## Points", "",
            "| codec | setting | bpp | PSNR (dB) | MS-SSIM | MS-SSIM (dB) |",
            "|---|---|---:|---:|---:|---:|"]
  for codec, points in curves.items():
    for p in points:
      m = p["mean"]
      lines.append(f"| {codec} | {p['setting']} | {m['bpp']:.4f} | {m['psnr']:.2f} | "
                   f"{m['ms_ssim']:.4f} | {m['ms_ssim_db']:.2f} |")
  timed = [(codec, p) for codec, points in curves.items() for p in points
           if "encode_seconds_per_megapixel" in p["mean"]]
  if timed:
    lines += ["", "## Models' speed", "",
              "Wall seconds per megapixel of the compress and decompress calls "
              "(evaluate's timing, over all the images; the first image also "
              "warms the sessions up).", "",
              "| codec | setting | model_dir | encode s/Mpixel | decode s/Mpixel |",
              "|---|---|---|---:|---:|"]
    for codec, p in timed:
      m = p["mean"]
      lines.append(f"| {codec} | {p['setting']} | {p['model_dir']} | "
                   f"{m['encode_seconds_per_megapixel']:.2f} | "
                   f"{m['decode_seconds_per_megapixel']:.2f} |")
  lines += ["", "## BD-rate", "",
            "Bjøntegaard delta rate (log rate as a PCHIP function of quality, "
            "integrated over the quality interval both curves cover, the overlap "
            "below); negative: the test codec needs fewer bits than the anchor "
            "for the same quality. MS-SSIM in dB.", ""]
  if not entries:
    lines.append("No model curve to compare.")
  else:
    lines += ["The last column weighs every photograph alike: the mean of the "
              "BD-rates of each photograph's own points (over the photographs "
              "whose curves overlap), where the BD-rate column compares the mean "
              "curves, which favour a sweep at fixed rates, as JPEG 2000's (PSNR "
              "is concave in the rate).", "",
              "| test | anchor | at equal | BD-rate | overlap used | note | "
              "mean of per-photograph BD-rates |",
              "|---|---|---|---:|---|---|---:|"]
    labels = dict(QUALITIES)
    for e in entries:
      figure = "n/a" if e["bd_rate"] is None else f"{e['bd_rate']:+.2f}%"
      interval = ("none" if e["overlap"] is None else
                  f"{e['overlap'][0]:.2f} .. {e['overlap'][1]:.2f} dB")
      per_image = e.get("per_image") or {}
      mean = (f"{np.mean(list(per_image.values())):+.2f}% ({len(per_image)})"
              if per_image else "n/a")
      lines.append(f"| {e['test']} | {e['anchor']} | {labels[e['quality']]} | "
                   f"{figure} | {interval} | {e['note']} | {mean} |")
  return "\n".join(lines) + "\n"


def _evaluation(model_dir, paths, image_digests, effort, threads, out_dir, log):
  """`evaluate.evaluate` of one model at one effort, saved in
  `out_dir/evaluations/`; a saved result of the same weights (SHA-256), effort,
  refinement settings and images (`image_digests`: [name, SHA-256 of the file] of
  each of `paths`) is read back instead of evaluating again (see the module
  doc)."""
  key = {"weights_sha256": evaluate_lib.weights_digest(model_dir),
         "effort": effort,
         "refinement": [refine.EFFORT_STEPS[effort], refine.LEARNING_RATE,
                        refine.TAU_START, refine.TAU_END, refine.METHOD],
         "images": image_digests}
  name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
  path = os.path.join(out_dir, "evaluations", f"{name}.json")
  where = model_dir + (f" at effort {effort}" if effort else "")
  if os.path.isfile(path):
    try:
      with open(path) as f:
        saved = json.load(f)
    except (OSError, ValueError):
      saved = None
    if saved is not None and saved.get("key") == key:
      log(f"{where}: read from {path} (same weights, effort and images)")
      result = saved["result"]
      result["model_dir"] = model_dir
      return result
  log(f"evaluating {where}")
  result = evaluate_lib.evaluate(model_dir, paths, threads=threads, log=log,
                                 effort=effort)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path + ".tmp", "w") as f:
    json.dump({"key": key, "result": result}, f)
  os.replace(path + ".tmp", path)
  return result


def compare(model_dirs, paths, out_dir, anchors=None, sweeps=None, threads=0,
            log=print, jpeg_qualities=None, webp_qualities=None,
            anchor_points=None, efforts=(0,)):
  """Evaluates models and anchors on `paths`; writes the files of the module doc.

  Args:
    model_dirs: trained model directories (may be empty: anchors only).
    paths: PNG / JPEG image files.
    out_dir: output folder (created).
    anchors: anchor names (`ANCHORS`); None or empty: every anchor whose library
      is installed (`resolve_anchors`).
    sweeps: {anchor: settings} replacing `SWEEPS` for those anchors (an empty
      sweep skips the anchor); settings as `SETTINGS` says.
    threads: TensorFlow threads for the models (0: TensorFlow's default).
    log: called with progress lines.
    jpeg_qualities, webp_qualities: shorthands for sweeps["jpeg"] / ["webp"].
    anchor_points: optional rd.csv of an earlier comparison: its anchor rows
      stand in for running the anchors (`read_anchor_points`; `anchors` then
      picks among the file's, none: all of them; `sweeps` do not apply).
    efforts: the encoder-side refinement efforts each model is evaluated at
      (refine.EFFORT_STEPS), one curve per architecture and effort.

  Returns:
    {"images": [{"name", "height", "width"}], "points": [{"codec", "setting",
     "model_dir", "images": [per-image rows], "mean": {"bpp", "psnr", "ms_ssim",
     "ms_ssim_db", "bytes"}} (anchor points also "seconds")], "bd_rates":
     [{"test", "anchor", "quality", "bd_rate" (percent or None), "overlap" ((low,
     high) or None), "note"}], "anchors": {anchor: {"versions", "settings",
     "seconds" (encodes and decodes)}},
     "models": [evaluate() results], "files": {name: path}}.

  Raises:
    errors.MissingDependencyError: a named anchor's library is not installed.
    errors.InputError: an unknown anchor name.
    ValueError: a setting out of its range.
  """
  paths = list(paths)
  if not paths:
    raise data.DataError("compare: no images")
  efforts = list(efforts)
  bad = [e for e in efforts if e not in refine.EFFORT_STEPS]
  if bad or not efforts or len(set(efforts)) != len(efforts):
    raise ValueError(f"efforts must be distinct values among "
                     f"{sorted(refine.EFFORT_STEPS)}, got {efforts}")
  for model_dir in model_dirs:
    for effort in efforts:
      evaluate_lib.check_effort(model_dir, effort)
  chosen = () if anchor_points else resolve_anchors(anchors, log=log)
  sweeps = dict(sweeps or {})
  unknown = [name for name in sweeps if name not in ANCHORS]
  if unknown:
    raise errors.InputError(f"sweeps for unknown anchor(s) {unknown}; known: "
                            f"{','.join(ANCHORS)}")
  if jpeg_qualities is not None:
    sweeps["jpeg"] = jpeg_qualities
  if webp_qualities is not None:
    sweeps["webp"] = webp_qualities
  plan = [(codec, list(sweeps.get(codec, SWEEPS[codec]))) for codec in chosen]
  for codec, settings in plan:
    for setting in settings:
      check_setting(codec, setting)
  images = [(os.path.basename(p), data.read_image(p)) for p in paths]
  points, anchor_info = [], {}
  if anchor_points:
    found, settings = read_anchor_points(anchor_points, images, anchors)
    for codec, codec_points in found.items():
      points += codec_points
      anchor_info[codec] = {"source": anchor_points, "settings": settings[codec],
                            "seconds": 0.}
    log(f"anchors {', '.join(found)}: {sum(map(len, found.values()))} points "
        f"read from {anchor_points}")
  for codec, settings in plan:
    if settings:
      anchor_points = sweep(codec, images, settings, log)
      anchor_info[codec] = {"versions": versions(codec), "settings": settings,
                            "seconds": sum(p["seconds"] for p in anchor_points)}
      points += anchor_points
  models = []
  image_digests = [[os.path.basename(p), evaluate_lib.files_sha256([p])]
                   for p in paths] if model_dirs else []
  for model_dir in model_dirs:
    for effort in efforts:
      result = _evaluation(model_dir, paths, image_digests, effort, threads,
                           out_dir, log)
      models.append(result)
      point = _point(model_curve(result["architecture"], effort),
                     f"lambda={result['lambda']:g}", result["images"], model_dir)
      for side in ("encode", "decode"):
        key = f"{side}_seconds_per_megapixel"
        point["mean"][key] = result["mean"][key]
      points.append(point)
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
    f.write(_summary(images, curves, entries, anchor_info))
  for e in entries:
    figure = "n/a" if e["bd_rate"] is None else f"{e['bd_rate']:+.2f}%"
    log(f"BD-rate {e['test']} vs {e['anchor']} at equal {e['quality']}: {figure} "
        f"({e['note']})")
  log(f"wrote {', '.join(files.values())}")
  return {"images": [{"name": n, "height": i.shape[0], "width": i.shape[1]}
                     for n, i in images],
          "points": points, "bd_rates": entries, "anchors": anchor_info,
          "models": models, "files": files}
