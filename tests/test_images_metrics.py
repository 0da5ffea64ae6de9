"""Image metrics (PSNR, MS-SSIM, BD-rate), evaluate() and compare() on a tiny model."""

import csv
import math
import os
import sys

import numpy as np
import pytest

import images_testutil
from compression.examples.images import codec
from compression.examples.images import compare
from compression.examples.images import config as config_lib
from compression.examples.images import evaluate
from compression.examples.images import metrics


def _image(height=64, width=64, seed=0):
  return images_testutil.synthetic_image(height, width, seed)


# -- PSNR. -------------------------------------------------------------------------


def test_psnr_known_values():
  a = _image()
  # Every pixel and channel off by exactly 1: MSE 1, PSNR 20 log10(255).
  b = np.where(a < 255, a + 1, a - 1).astype(np.uint8)
  assert metrics.mse(a, b) == 1.
  assert metrics.psnr(a, b) == pytest.approx(48.1308036, abs=1e-6)
  # Off by 16 on a quarter of the values: MSE 64.
  c = a.astype(np.int64)
  c[:32, :32] = np.where(c[:32, :32] < 128, c[:32, :32] + 16, c[:32, :32] - 16)
  assert metrics.psnr(a, c.astype(np.uint8)) == pytest.approx(
      10 * math.log10(255 ** 2 / 64), abs=1e-9)
  assert metrics.psnr(a, a) == math.inf


def test_psnr_rejects_bad_inputs():
  a = _image()
  with pytest.raises(ValueError, match="uint8"):
    metrics.psnr(a, a.astype(np.float32))
  with pytest.raises(ValueError, match="shape|\\[H, W, 3\\]"):
    metrics.psnr(a, a[:32])


# -- MS-SSIM. ----------------------------------------------------------------------


def test_ms_ssim_identical_is_one_and_falls_with_noise():
  a = _image(96, 80, seed=1)
  assert metrics.ms_ssim(a, a) == 1.
  rng = np.random.default_rng(0)
  values = []
  for sigma in (2, 8, 32):
    noisy = np.clip(a + rng.normal(0, sigma, a.shape), 0, 255).astype(np.uint8)
    values.append(metrics.ms_ssim(a, noisy))
  assert 1. > values[0] > values[1] > values[2] > 0.


def test_ms_ssim_scales_for_small_images():
  assert metrics.ms_ssim_scales(512, 768) == 5
  assert metrics.ms_ssim_scales(161, 161) == 5
  assert metrics.ms_ssim_scales(160, 400) == 4
  assert metrics.ms_ssim_scales(64, 64) == 3    # 64, 32, 16; 8 < 11
  assert metrics.ms_ssim_scales(11, 11) == 1
  with pytest.raises(ValueError, match="at least 11x11"):
    metrics.ms_ssim_scales(10, 100)
  factors = metrics.ms_ssim_power_factors(3)
  assert sum(factors) == pytest.approx(1.)
  assert factors[1] / factors[0] == pytest.approx(0.2856 / 0.0448)
  assert metrics.ms_ssim_power_factors(5) == metrics.MS_SSIM_POWER_FACTORS


# -- BD-rate. ----------------------------------------------------------------------

RATE = np.array([0.15, 0.3, 0.6, 1.2, 2.4])
QUALITY = np.array([27., 30., 33., 36., 38.5])


def test_bd_rate_scaled_rates():
  assert metrics.bd_rate(RATE, QUALITY, 0.8 * RATE, QUALITY) == pytest.approx(
      -20., abs=1e-6)
  assert metrics.bd_rate(RATE, QUALITY, 1.5 * RATE, QUALITY) == pytest.approx(
      50., abs=1e-6)
  # Order of the points does not matter.
  order = [3, 0, 4, 2, 1]
  assert metrics.bd_rate(RATE[order], QUALITY[order], 0.8 * RATE,
                         QUALITY) == pytest.approx(-20., abs=1e-6)


def test_bd_rate_sign_of_a_quality_shift():
  # Better quality at every rate: fewer bits for equal quality.
  better = metrics.bd_rate(RATE, QUALITY, RATE, QUALITY + 1.)
  worse = metrics.bd_rate(RATE, QUALITY, RATE, QUALITY - 1.)
  assert better < 0 < worse
  # BD-PSNR of a pure quality shift is the shift.
  assert metrics.bd_psnr(RATE, QUALITY, RATE, QUALITY + 1.) == pytest.approx(1.)
  assert metrics.bd_psnr(RATE, QUALITY, 0.8 * RATE, QUALITY) > 0


def test_bd_rate_errors():
  with pytest.raises(ValueError, match="at least 2 points"):
    metrics.bd_rate(RATE, QUALITY, [0.5], [31.])
  with pytest.raises(ValueError, match="at least 2 points"):
    metrics.bd_rate([1.], [30.], RATE, QUALITY)
  with pytest.raises(ValueError, match="no overlap"):
    metrics.bd_rate(RATE, QUALITY, RATE, QUALITY + 20.)
  with pytest.raises(ValueError, match="same quality"):
    metrics.bd_rate(RATE, QUALITY, [0.2, 0.4], [31., 31.])
  with pytest.raises(ValueError, match="positive"):
    metrics.bd_rate(RATE, QUALITY, [0., 0.4], [31., 32.])
  with pytest.raises(ValueError, match="finite"):
    metrics.bd_rate(RATE, QUALITY, [0.2, 0.4], [31., math.inf])


def _fake_points(codec_name, rates, qualities):
  return [{"codec": codec_name, "setting": f"s{i}", "model_dir": "",
           "mean": {"bpp": r, "psnr": q, "ms_ssim_db": q / 2}}
          for i, (r, q) in enumerate(zip(rates, qualities))]


def test_bd_rate_entries_report_overlap_and_notes():
  curves = {"jpeg": _fake_points("jpeg", RATE, QUALITY),
            "bls2017": _fake_points("bls2017", 0.8 * RATE[:3], QUALITY[:3]),
            "bmshj2018": _fake_points("bmshj2018", [0.1], [20.])}
  entries = compare.bd_rates(curves)
  pairs = {(e["test"], e["anchor"], e["quality"]): e for e in entries}
  assert set(pairs) == {(t, a, q) for t, a in [("bls2017", "jpeg"),
                                                ("bmshj2018", "jpeg"),
                                                ("bmshj2018", "bls2017")]
                        for q in ("psnr", "ms_ssim_db")}
  psnr = pairs["bls2017", "jpeg", "psnr"]
  assert psnr["bd_rate"] == pytest.approx(-20., abs=1e-6)
  assert psnr["overlap"] == pytest.approx((27., 33.))
  assert pairs["bls2017", "jpeg", "ms_ssim_db"]["overlap"] == pytest.approx(
      (13.5, 16.5))
  single = pairs["bmshj2018", "jpeg", "psnr"]
  assert single["bd_rate"] is None and "at least 2 points" in single["note"]


def _points_with_images(codec_name, per_image):
  """Points whose "images" rows are {name: (rates, psnrs)} (MS-SSIM from PSNR)."""
  count = len(next(iter(per_image.values()))[0])
  points = []
  for i in range(count):
    rows = [{"name": name, "bpp": rates[i], "psnr": psnrs[i],
             "ms_ssim": 1. - 10. ** (-psnrs[i] / 20.)}
            for name, (rates, psnrs) in per_image.items()]
    points.append({"codec": codec_name, "setting": f"s{i}", "model_dir": "",
                   "images": rows, "mean": {
                       "bpp": float(np.mean([r["bpp"] for r in rows])),
                       "psnr": float(np.mean([r["psnr"] for r in rows])),
                       "ms_ssim_db": float(np.mean([metrics.ms_ssim_db(r["ms_ssim"])
                                                    for r in rows]))}})
  return points


def test_per_image_bd_rates_weigh_each_photograph_alike():
  anchor = _points_with_images("jpeg2000", {
      "a": (RATE, QUALITY), "b": (RATE, QUALITY + 5.),
      "c": (RATE, QUALITY)})
  test = _points_with_images("bls2017", {
      "a": (0.8 * RATE, QUALITY),          # 20% fewer bits
      "b": (RATE, QUALITY - 30.),          # no overlap: left out
      "c": (0.8 * RATE, np.r_[30., 30.5, 29., 36., 38.5])})  # 29 dB: dearer, worse
  figures = compare.per_image_bd_rates(test, anchor, "psnr")
  assert set(figures) == {"a", "c"}
  assert figures["a"] == pytest.approx(-20.)
  # c's third point (more bits than the second for less PSNR) is left out.
  rising = [0, 1, 3, 4]
  assert figures["c"] == pytest.approx(metrics.bd_rate(
      RATE, QUALITY, 0.8 * RATE[rising], np.r_[30., 30.5, 36., 38.5]))
  assert figures["c"] != pytest.approx(metrics.bd_rate(
      RATE, QUALITY, 0.8 * RATE, [30., 30.5, 29., 36., 38.5]))
  entries = compare.bd_rates({"jpeg2000": anchor, "bls2017": test})
  psnr = [e for e in entries if e["quality"] == "psnr"][0]
  assert set(psnr["per_image"]) == {"a", "c"}
  ms_ssim = [e for e in entries if e["quality"] == "ms_ssim_db"][0]
  assert ms_ssim["per_image"]["a"] == pytest.approx(-20.)


def test_bd_rates_cover_every_anchor():
  curves = {a: _fake_points(a, RATE * (1 + i / 10), QUALITY)
            for i, a in enumerate(compare.ANCHORS)}
  curves["bls2017"] = _fake_points("bls2017", 0.8 * RATE, QUALITY)
  entries = compare.bd_rates(curves)
  assert [(e["anchor"], e["quality"]) for e in entries] == [
      (a, q) for a in compare.ANCHORS for q in ("psnr", "ms_ssim_db")]
  for e in entries:
    assert e["test"] == "bls2017" and e["bd_rate"] is not None


def test_refined_curves_are_compared_with_their_architecture():
  refined = compare.model_curve("bmshj2018", 2)
  assert refined == "bmshj2018 effort 2" and compare.model_curve("bmshj2018") == (
      "bmshj2018")
  curves = {"jpeg": _fake_points("jpeg", RATE, QUALITY),
            "bmshj2018": _fake_points("bmshj2018", RATE, QUALITY),
            refined: _fake_points(refined, 0.9 * RATE, QUALITY)}
  pairs = {(e["test"], e["anchor"], e["quality"]): e
           for e in compare.bd_rates(curves)}
  assert set(pairs) == {(t, a, q) for t, a in [("bmshj2018", "jpeg"),
                                                (refined, "jpeg"),
                                                (refined, "bmshj2018")]
                        for q in ("psnr", "ms_ssim_db")}
  assert pairs[refined, "bmshj2018", "psnr"]["bd_rate"] == pytest.approx(-10.)
  # Without the effort-0 curve, the refined one meets only the anchors.
  del curves["bmshj2018"]
  assert {(e["test"], e["anchor"]) for e in compare.bd_rates(curves)} == {
      (refined, "jpeg")}


# -- The anchors (standard codecs) on a tiny image. ---------------------------------

# Three settings per anchor, from the lowest quality to the highest.
TINY_SWEEPS = {"jpeg": (10, 50, 90), "webp": (10, 50, 90),
               "jpeg2000": (1.5, 3., 6.), "jpegxl": (8., 3., 1.),
               "avif": (10, 40, 80), "heic": (10, 40, 70)}
# The first bytes of each anchor's file.
MAGIC = {"jpeg": b"\xff\xd8", "webp": b"RIFF",
         "jpeg2000": b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpegxl": b"\xff\x0a",
         "avif": b"ftypavif", "heic": b"ftypheic"}


@pytest.mark.parametrize("anchor", compare.ANCHORS)
def test_anchor_files_decode_and_quality_buys_psnr(anchor):
  assert compare.missing_reason(anchor) is None  # requirements.txt installs them
  image = _image(40, 52, seed=3)  # even and odd sides: 4:2:0 padding
  rates, psnrs = [], []
  for setting in TINY_SWEEPS[anchor]:
    blob, decoded = compare.encode_anchor(anchor, image, setting)
    assert isinstance(blob, bytes) and MAGIC[anchor] in blob[:12], blob[:12]
    assert decoded.dtype == np.uint8 and decoded.shape == image.shape
    rates.append(len(blob))
    psnrs.append(metrics.psnr(image, decoded))
  assert psnrs == sorted(psnrs) and psnrs[0] < psnrs[-1] - 2, psnrs
  assert rates[0] < rates[-1], rates
  assert anchor in compare.LABELS and compare.versions(anchor)


def test_anchor_settings_are_checked():
  image = _image(16, 16)
  for anchor, bad in (("jpeg", 0), ("jpeg", 50.), ("jpegxl", 30.), ("avif", 101),
                      ("jpeg2000", 0), ("jpeg2000", 25.), ("heic", True),
                      ("jpegxl", math.nan)):
    with pytest.raises(ValueError, match=anchor):
      compare.encode_anchor(anchor, image, bad)
  with pytest.raises(ValueError, match="unknown codec"):
    compare.encode_anchor("bpg", image, 30)
  assert compare.setting_label("jpegxl", 1.5) == "distance=1.5"
  assert compare.setting_label("jpeg2000", 0.05) == "bpp=0.05"


def _hide(monkeypatch, *modules):
  """As if `modules` were not installed: find_spec finds nothing, import fails."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  real = importlib.util.find_spec
  monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: (
      None if name.split(".")[0] in modules else real(name, *a)))
  for module in modules:
    monkeypatch.setitem(sys.modules, module, None)


def test_missing_anchor_library_is_named(monkeypatch):
  _hide(monkeypatch, "pillow_heif", "imagecodecs")
  for anchor, package in (("heic", "pillow-heif"), ("avif", "imagecodecs"),
                          ("jpegxl", "imagecodecs")):
    with pytest.raises(compare.errors.MissingDependencyError) as e:
      compare.resolve_anchors(["jpeg", anchor])
    message = str(e.value)
    assert "\n" not in message and f"--anchors={anchor} needs {package} " in message
    assert "pip install learned-compression[anchors]" in message
    with pytest.raises(compare.errors.MissingDependencyError, match=package):
      compare.encode_anchor(anchor, _image(16, 16), TINY_SWEEPS[anchor][0])
  # Nothing named: the installed ones, the others named in one line.
  lines = []
  assert compare.resolve_anchors(None, log=lines.append) == (
      "jpeg", "webp", "jpeg2000")
  assert len(lines) == 1 and "jpegxl, avif, heic" in lines[0]
  with pytest.raises(compare.errors.InputError, match="'bpg'"):
    compare.resolve_anchors(["jpeg", "bpg"])


def test_a_build_without_the_codec_is_named(monkeypatch):
  import types  # pylint: disable=g-import-not-at-top
  import imagecodecs  # pylint: disable=g-import-not-at-top
  fake = types.ModuleType("imagecodecs")
  fake.__spec__ = imagecodecs.__spec__
  fake.AVIF = types.SimpleNamespace(available=False)
  monkeypatch.setitem(sys.modules, "imagecodecs", fake)
  with pytest.raises(compare.errors.MissingDependencyError) as e:
    compare.resolve_anchors(["avif"])
  assert "imagecodecs.AVIF.available" in str(e.value)
  assert "learned-compression[anchors]" in str(e.value)
  # A Pillow built without OpenJPEG.
  from PIL import features  # pylint: disable=g-import-not-at-top
  real = features.check
  monkeypatch.setattr(features, "check",
                      lambda name: name != "jpg_2000" and real(name))
  with pytest.raises(compare.errors.MissingDependencyError,
                     match=r"PIL.features.check\('jpg_2000'\)"):
    compare.resolve_anchors(["jpeg", "jpeg2000"])


def test_compare_command_names_a_missing_anchor_first(monkeypatch, capsys, tmp_path):
  """`compare --anchors=heic` without pillow-heif: one error line before any work."""
  from compression.examples.images import commands  # pylint: disable=g-import-not-at-top
  _hide(monkeypatch, "pillow_heif")
  monkeypatch.chdir(tmp_path)
  with pytest.raises(SystemExit) as e:
    commands.main(["prog", "compare", "--anchors=jpeg,heic", "--folder=",
                   f"--out_dir={tmp_path}/out"])
  _, err = capsys.readouterr()
  assert e.value.code == 1
  lines = err.strip().splitlines()
  assert len(lines) == 1, err
  assert lines[0].startswith("error: compare --anchors=heic needs pillow-heif ")
  assert "pip install learned-compression[anchors]" in lines[0]
  assert not os.listdir(tmp_path)


# -- evaluate() and compare() on a tiny trained model. ------------------------------


@pytest.fixture(scope="module")
def tiny():
  model_dir = images_testutil.trained_model("bmshj2018")
  folder = images_testutil.tmp_dir()
  paths = images_testutil.write_pngs(folder, 1, 64, 64, seed=7)
  paths += images_testutil.write_pngs(os.path.join(folder, "b"), 1, 80, 96, seed=8)
  return model_dir, paths


@pytest.fixture(scope="module")
def sessions(tiny):
  return codec.Encoder(tiny[0]), codec.Decoder(tiny[0])


def test_evaluate_tiny_model(tiny, sessions):
  model_dir, paths = tiny
  lines = []
  result = evaluate.evaluate(model_dir, paths, threads=1, log=lines.append)
  assert result["architecture"] == "bmshj2018" and result["model_dir"] == model_dir
  assert result["lambda"] > 0 and len(lines) == 2
  rows = result["images"]
  assert [(r["height"], r["width"]) for r in rows] == [(64, 64), (80, 96)]
  encoder, decoder = sessions
  for row, path, line in zip(rows, paths, lines):
    assert row["name"] == os.path.basename(path) and row["name"] in line
    pixels = row["height"] * row["width"]
    assert row["bpp"] == 8. * row["bytes"] / pixels
    assert 0 < row["bpp_estimate"] < row["bpp"]  # the file adds a header
    assert 0 < row["ms_ssim"] <= 1 and math.isfinite(row["psnr"])
    assert row["seconds"]["encode"] > 0 and row["seconds"]["decode"] > 0
    # The figures are those of a fresh round trip through the codec.
    image = images_testutil.data.read_image(path)
    encoded = encoder.compress(image)
    assert len(encoded.blob) == row["bytes"]
    decoded = decoder.decompress(encoded.blob)
    np.testing.assert_array_equal(decoded.y_hat, encoded.y_hat)
    np.testing.assert_array_equal(decoded.z_hat, encoded.z_hat)
    assert metrics.psnr(image, decoded.image) == row["psnr"]
  for key in ("bpp", "bpp_estimate", "psnr", "ms_ssim"):
    assert result["mean"][key] == pytest.approx(np.mean([r[key] for r in rows]))


def test_evaluate_detects_latent_mismatch(tiny, sessions):
  encoder, decoder = sessions
  image = images_testutil.data.read_image(tiny[1][0])

  class _Shifted:
    """An encoder whose reported latent differs from what it coded."""

    def __init__(self, latent):
      self.latent = latent

    def compress(self, image, effort=0):
      encoded = encoder.compress(image, effort=effort)
      setattr(encoded, self.latent, getattr(encoded, self.latent) + 1.)
      return encoded

  for latent in ("y_hat", "z_hat"):
    with pytest.raises(codec.DecodeError, match=f"photo.png: .*{latent}"):
      evaluate.evaluate_image(_Shifted(latent), decoder, image, "photo.png")
  assert evaluate.evaluate_image(encoder, decoder, image, "photo.png")["bytes"] > 0


def test_compare_writes_files(tiny):
  model_dir, paths = tiny
  out = os.path.join(images_testutil.tmp_dir(), "compare")
  sweeps = dict(TINY_SWEEPS, webp=(20, 80))
  result = compare.compare([model_dir], paths, out, anchors=compare.ANCHORS,
                           sweeps=sweeps, threads=1, log=lambda *a: None)
  for name in ("rd.csv", "rd_psnr.png", "rd_msssim.png", "summary.md"):
    assert os.path.getsize(os.path.join(out, name)) > 0, name
  with open(os.path.join(out, "rd_psnr.png"), "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  with open(os.path.join(out, "rd.csv")) as f:
    rows = list(csv.DictReader(f))
  # 3 settings for 5 anchors, 2 WebP, 1 model, each 2 images and a mean row.
  assert len(rows) == 18 * 3
  assert {r["codec"] for r in rows} == set(compare.ANCHORS) | {"bmshj2018"}
  means = [r for r in rows if r["image"] == compare.MEAN_ROW]
  assert len(means) == 18
  jpeg = [p for p in result["points"] if p["codec"] == "jpeg"]
  assert [p["setting"] for p in jpeg] == ["quality=10", "quality=50", "quality=90"]
  # Each anchor's sweep, lowest quality first, buys rate and PSNR.
  for anchor in compare.ANCHORS:
    points = [p for p in result["points"] if p["codec"] == anchor]
    assert len(points) == len(sweeps[anchor])
    assert points[0]["mean"]["bpp"] < points[-1]["mean"]["bpp"], anchor
    assert points[0]["mean"]["psnr"] < points[-1]["mean"]["psnr"], anchor
    assert result["anchors"][anchor]["seconds"] > 0
  assert [p["setting"] for p in result["points"] if p["codec"] == "jpegxl"] == [
      "distance=8", "distance=3", "distance=1"]
  for p, r in zip(result["points"], means):
    assert float(r["bpp"]) == pytest.approx(p["mean"]["bpp"], abs=1e-6)
    per_image = [row["bpp"] for row in p["images"]]
    assert p["mean"]["bpp"] == pytest.approx(np.mean(per_image))
  model = result["models"][0]
  assert model["model_dir"] == model_dir and len(model["images"]) == 2
  summary = open(os.path.join(out, "summary.md")).read()
  assert "synthetic_0.png (64x64)" in summary and "synthetic_0.png (96x80)" in summary
  assert summary.count("| jpeg | quality=") == 3
  for anchor in compare.ANCHORS:
    assert f"| {anchor} | {compare.LABELS[anchor]} | " in summary, anchor
  for library in ("Pillow", "OpenJPEG", "libjxl", "libavif", "libheif", "x265"):
    assert library in summary, library
  assert "| jpegxl | distance=3 |" in summary
  # One model point: every BD-rate row (the model against each anchor, at equal
  # PSNR and MS-SSIM) says why it has no figure.
  assert len(result["bd_rates"]) == 2 * len(compare.ANCHORS)
  for e in result["bd_rates"]:
    assert e["bd_rate"] is None and "at least 2 points" in e["note"]
    assert f"| {e['test']} | {e['anchor']} |" in summary


def test_evaluate_and_compare_at_an_effort(tiny):
  """effort 1: the files of a refining Encoder, one more curve in compare."""
  model_dir, paths = tiny
  result = evaluate.evaluate(model_dir, paths[:1], threads=1, log=lambda *a: None,
                             effort=1)
  assert result["effort"] == 1
  image = images_testutil.data.read_image(paths[0])
  refined = codec.Encoder(model_dir, threads=1, refinable=True).compress(
      image, effort=1)
  assert result["images"][0]["bytes"] == len(refined.blob)
  for side in ("encode", "decode"):
    assert result["mean"][f"{side}_seconds_per_megapixel"] == pytest.approx(
        result["images"][0]["seconds"][side] / (64 * 64 / 1e6))
  with pytest.raises(ValueError, match="effort must be one of"):
    evaluate.evaluate(model_dir, paths, effort=9)

  out = os.path.join(images_testutil.tmp_dir(), "compare_efforts")
  result = compare.compare([model_dir], paths, out, anchors=["jpeg"],
                           sweeps={"jpeg": (10, 90)}, threads=1,
                           log=lambda *a: None, efforts=(0, 1))
  curves = {p["codec"]: p for p in result["points"]}
  assert set(curves) == {"jpeg", "bmshj2018", "bmshj2018 effort 1"}
  assert [m["effort"] for m in result["models"]] == [0, 1]
  assert curves["bmshj2018"]["mean"]["bpp"] == pytest.approx(
      np.mean([r["bpp"] for r in result["models"][0]["images"]]))
  assert {(e["test"], e["anchor"]) for e in result["bd_rates"]} == {
      ("bmshj2018", "jpeg"), ("bmshj2018 effort 1", "jpeg"),
      ("bmshj2018 effort 1", "bmshj2018")}
  with open(os.path.join(out, "rd.csv")) as f:
    assert {r["codec"] for r in csv.DictReader(f)} == set(curves)
  summary = open(os.path.join(out, "summary.md")).read()
  assert "## Models' speed" in summary
  assert "| bmshj2018 effort 1 | lambda=" in summary
  for bad in ((), (0, 0), (0, 7)):
    with pytest.raises(ValueError, match="efforts must be"):
      compare.compare([model_dir], paths, out, anchors=["jpeg"], efforts=bad,
                      log=lambda *a: None)
  # A model that cannot refine (ms2020-cc) is refused before any work.
  cc_dir = os.path.join(images_testutil.tmp_dir(), "cc")
  config_lib.write(cc_dir, "ms2020-cc", 8, 16, 0.01)
  lines = []
  with pytest.raises(config_lib.ConfigError, match="cc: encoder-side refinement"):
    compare.compare([model_dir, cc_dir], paths, out + "_cc", anchors=["jpeg"],
                    sweeps={"jpeg": (10,)}, efforts=(0, 1), log=lines.append)
  assert not lines and not os.path.exists(out + "_cc")


def test_compare_reads_back_saved_evaluations(tiny, monkeypatch):
  """A second comparison into the same folder reads each model's saved evaluation
  back; other images or another effort are evaluated."""
  model_dir, paths = tiny
  out = os.path.join(images_testutil.tmp_dir(), "compare_saved")
  kwargs = dict(anchors=["jpeg"], sweeps={"jpeg": (10, 90)}, threads=1,
                log=lambda *a: None)
  first = compare.compare([model_dir], paths, out, **kwargs)
  saved = os.listdir(os.path.join(out, "evaluations"))
  assert len(saved) == 1 and saved[0].endswith(".json")
  with open(os.path.join(out, "rd.csv")) as f:
    rows = f.read()
  evaluated = []
  real = evaluate.evaluate
  monkeypatch.setattr(evaluate, "evaluate", lambda *a, **k: evaluated.append(
      (a, k)) or real(*a, **k))
  lines = []
  again = compare.compare([model_dir], paths, out, **dict(kwargs, log=lines.append))
  assert not evaluated
  assert any("read from" in line and "same weights" in line for line in lines)
  assert again["models"] == first["models"]
  with open(os.path.join(out, "rd.csv")) as f:
    assert f.read() == rows
  # Another image set, another effort: evaluated (and saved beside the first).
  compare.compare([model_dir], paths[:1], out, **kwargs)
  compare.compare([model_dir], paths, out, efforts=(1,), **kwargs)
  assert [k["effort"] for _, k in evaluated] == [0, 1]
  assert len(os.listdir(os.path.join(out, "evaluations"))) == 3
  # Other weights (a checkpoint changed since) are evaluated again.
  monkeypatch.setattr(evaluate, "weights_digest", lambda _: "0" * 64)
  compare.compare([model_dir], paths, out, **kwargs)
  assert len(evaluated) == 3


def test_compare_rejects_bad_quality(tiny):
  _, paths = tiny
  with pytest.raises(ValueError, match="1..100"):
    compare.compare([], paths, images_testutil.tmp_dir(), jpeg_qualities=(0,),
                    log=lambda *a: None)
  with pytest.raises(ValueError, match="distance"):
    compare.compare([], paths, images_testutil.tmp_dir(), anchors=["jpegxl"],
                    sweeps={"jpegxl": (1., 40.)}, log=lambda *a: None)
  with pytest.raises(compare.errors.InputError, match="bpg"):
    compare.compare([], paths, images_testutil.tmp_dir(), sweeps={"bpg": (1,)},
                    log=lambda *a: None)


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
