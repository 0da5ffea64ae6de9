"""Many files per process and size / PSNR targets of the image example (issue 23).

`compress --out_dir=FOLDER INPUT...` and `decompress --out_dir=FOLDER INPUT...`
(folders, quoted globs, files; a bad file is named and the rest go on, exit
status 1 at the end), and `compress --max_bytes / --target_bpp / --target_psnr`,
which choose among the shipped qualities. The shipped models code small synthetic
images (64x96) in fresh processes, started together (`Job`); this process codes
the same images at every quality (codec.Encoder / Decoder) to check the choices:
the file fits and the next quality up does not; the PSNR is reached and the
next quality down falls short. Argument errors are checked in this process.
"""

import os
import re
import shutil
import sys

import pytest

import images_testutil
from test_images_cli import Job, assert_one_error
from compression.examples.images import batch
from compression.examples.images import codec
from compression.examples.images import commands
from compression.examples.images import data
from compression.examples.images import metrics
from compression.examples.images import shipped

HEIGHT, WIDTH = 64, 96
QUALITIES = shipped.qualities()
_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (\d+) bytes, ([\d.]+) bpp, "
                   r"([\d.]+) s(.*)$")
_FAILED = re.compile(r"^\[\d+/\d+\] failed: ")
_CHOSEN = re.compile(r"quality (\d+), PSNR ([\d.]+|inf) dB")

pytestmark = pytest.mark.skipif(len(QUALITIES) < 3,
                                reason="needs three shipped qualities")


def _read(path):
  with open(path, "rb") as f:
    return f.read()


def _progress(stdout):
  """{input path: (bytes, chosen quality or None)} of the progress lines."""
  lines = {}
  for line in stdout.splitlines():
    match = _LINE.match(line)
    if match:
      chosen = _CHOSEN.search(match.group(7))
      lines[match.group(3)] = (int(match.group(4)),
                               int(chosen.group(1)) if chosen else None)
  return lines


class Reference:
  """Every shipped quality in this process: the files and their decoded PSNR."""

  def __init__(self):
    self.encoders = {q: codec.Encoder(shipped.model_dir(q), threads=1)
                     for q in QUALITIES}
    self.decoders = {q: codec.Decoder(shipped.model_dir(q), threads=1)
                     for q in QUALITIES}
    self._cache = {}

  def blob(self, path, quality):
    key = (path, quality)
    if key not in self._cache:
      image = data.read_image(path)
      blob = self.encoders[quality].compress(image).blob
      decoded = self.decoders[quality].decompress(blob).image
      self._cache[key] = (blob, metrics.psnr(image, decoded))
    return self._cache[key][0]

  def size(self, path, quality):
    return len(self.blob(path, quality))

  def psnr(self, path, quality):
    self.blob(path, quality)
    return self._cache[(path, quality)][1]

  def decode(self, blob):
    return self.decoders[shipped.default_quality()].decompress(blob).image


@pytest.fixture(scope="module")
def work():
  """Input folders, the reference codings and the CLI runs (started together)."""
  root = images_testutil.tmp_dir()
  folder = os.path.join(root, "folder")
  images_testutil.write_pngs(folder, 3, HEIGHT, WIDTH, seed=20)
  with open(os.path.join(folder, "notes.txt"), "w") as f:
    f.write("not an input: the folder gives its PNG/JPEG files only\n")
  globbed = os.path.join(root, "globbed")
  os.makedirs(globbed)
  for i in range(2):
    data.write_png(os.path.join(globbed, f"g{i}.png"),
                   images_testutil.synthetic_image(HEIGHT, WIDTH, 30 + i))
  bad = os.path.join(globbed, "bad.png")
  with open(bad, "w") as f:
    f.write("hello, world: a text file named .png\n")
  single = os.path.join(root, "single.png")
  data.write_png(single, images_testutil.synthetic_image(HEIGHT, WIDTH, 40))
  inputs = [folder, os.path.join(globbed, "*.png"), single]
  good = (sorted(os.path.join(folder, n) for n in os.listdir(folder)
                 if n.endswith(".png")) +
          [os.path.join(globbed, f"g{i}.png") for i in range(2)] + [single])

  ref = Reference()
  first = good[0]
  # A budget between quality 1 and the top for the first image: exactly the
  # size of its second quality.
  max_bytes = ref.size(first, QUALITIES[1])
  # A PSNR between the first image's second and third qualities.
  target_psnr = round((ref.psnr(first, QUALITIES[1]) +
                       ref.psnr(first, QUALITIES[2])) / 2, 3)
  out = {name: os.path.join(root, name) for name in
         ("cim", "one", "max", "psnr", "png", "one_png", "small", "unmet")}
  os.makedirs(out["one"])
  os.makedirs(out["one_png"])
  one_file = good[:1] + good[-1:]
  jobs = {
      "many": Job("compress", "--threads=1", f"--out_dir={out['cim']}", *inputs),
      "max": Job("compress", "--threads=1", f"--max_bytes={max_bytes}",
                 f"--out_dir={out['max']}", folder),
      "psnr": Job("compress", "--threads=1", f"--target_psnr={target_psnr}",
                  f"--out_dir={out['psnr']}", folder),
      "small": Job("compress", "--threads=1",
                   f"--max_bytes={ref.size(first, QUALITIES[0]) - 1}", first,
                   f"{out['small']}.cim"),
      "unmet": Job("compress", "--threads=1", "--target_psnr=99", first,
                   f"{out['unmet']}.cim"),
  }
  for path in one_file:
    name = os.path.splitext(os.path.basename(path))[0]
    jobs["one:" + path] = Job("compress", "--threads=1", path,
                              os.path.join(out["one"], name + ".cim"))
  # Decompression needs the files: started once their compressions are done.
  proc = jobs["many"].result()
  truncated = os.path.join(out["cim"], "truncated.cim")
  if os.path.isfile(os.path.join(out["cim"], "g0.cim")):
    with open(truncated, "wb") as f:
      f.write(_read(os.path.join(out["cim"], "g0.cim"))[:-9])
  jobs["unpack"] = Job("decompress", "--threads=1", f"--out_dir={out['png']}",
                       out["cim"])
  for path in one_file:
    name = os.path.splitext(os.path.basename(path))[0]
    jobs["one:" + path].result()
    jobs["unpack:" + path] = Job(
        "decompress", "--threads=1", os.path.join(out["cim"], name + ".cim"),
        os.path.join(out["one_png"], name + ".png"))
  return {"root": root, "folder": folder, "bad": bad, "good": good,
          "one_file": one_file, "truncated": truncated, "ref": ref,
          "max_bytes": max_bytes, "target_psnr": target_psnr, "out": out,
          "jobs": jobs, "many": proc}


def _out(work, key, path, extension):
  name = os.path.splitext(os.path.basename(path))[0]
  return os.path.join(work["out"][key], name + extension)


def test_many_inputs_with_a_bad_file(work):
  proc = work["many"]
  assert proc.returncode == 1, proc.stderr
  assert "Traceback" not in proc.stderr, proc.stderr
  # The folder's PNGs, the glob's (bad.png among them), the file: 7 inputs.
  lines = _progress(proc.stdout)
  assert sorted(lines) == sorted(work["good"]), proc.stdout
  failed = [l for l in proc.stderr.splitlines() if _FAILED.match(l)]
  assert len(failed) == 1 and work["bad"] in failed[0], proc.stderr
  assert re.match(r"^\[\d/7\] failed: ", failed[0]) and (
      "not a readable image" in failed[0]), failed[0]
  error = assert_one_error(proc, "1 of 7 files failed", work["bad"])
  assert error.endswith(work["bad"])
  summary = [l for l in proc.stdout.splitlines() if l.startswith("done: ")]
  assert len(summary) == 1, proc.stdout
  bytes_in = sum(os.path.getsize(p) for p in work["good"])
  bytes_out = sum(size for size, _ in lines.values())
  assert summary[0].startswith("done: 6 of 7 files (1 failed); "
                               f"{bytes_in} bytes in, {bytes_out} bytes out, "
                               "mean "), summary[0]
  assert "photos/s" in summary[0]
  written = sorted(os.listdir(work["out"]["cim"]))
  names = sorted(os.path.splitext(os.path.basename(p))[0] + ".cim"
                 for p in work["good"])
  assert [n for n in written if n != "truncated.cim"] == names
  for path, (size, quality) in lines.items():
    blob = _read(_out(work, "cim", path, ".cim"))
    assert len(blob) == size and quality is None
    # The default quality's bytes, as this process codes them.
    assert blob == work["ref"].blob(path, shipped.default_quality())


def test_many_files_equal_one_file_runs_byte_for_byte(work):
  jobs = work["jobs"]
  jobs["unpack"].result()  # the many-files decompress writes out["png"]
  for path in work["one_file"]:
    proc = jobs["one:" + path].result()
    assert proc.returncode == 0, proc.stderr
    assert _read(_out(work, "one", path, ".cim")) == _read(
        _out(work, "cim", path, ".cim"))
    proc = jobs["unpack:" + path].result()
    assert proc.returncode == 0, proc.stderr
    assert _read(_out(work, "one_png", path, ".png")) == _read(
        _out(work, "png", path, ".png"))


def test_decompress_many_with_a_truncated_file(work):
  proc = work["jobs"]["unpack"].result()
  assert "Traceback" not in proc.stderr, proc.stderr
  assert_one_error(proc, "1 of 7 files failed", work["truncated"])
  failed = [l for l in proc.stderr.splitlines() if _FAILED.match(l)]
  assert len(failed) == 1 and work["truncated"] in failed[0], proc.stderr
  assert "truncated" in failed[0].split(work["truncated"], 1)[1], failed[0]
  assert any(l.startswith("done: 6 of 7 files (1 failed)")
             for l in proc.stdout.splitlines()), proc.stdout
  assert sorted(os.listdir(work["out"]["png"])) == sorted(
      os.path.splitext(os.path.basename(p))[0] + ".png" for p in work["good"])
  for path in work["good"]:
    decoded = data.read_image(_out(work, "png", path, ".png"))
    assert decoded.shape == (HEIGHT, WIDTH, 3)
    blob = _read(_out(work, "cim", path, ".cim"))
    assert (decoded == work["ref"].decode(blob)).all()
    # The round trip is lossy but close.
    assert metrics.psnr(data.read_image(path), decoded) > 20


def test_max_bytes_chooses_the_highest_quality_that_fits(work):
  proc = work["jobs"]["max"].result()
  ref, limit = work["ref"], work["max_bytes"]
  paths = [p for p in work["good"] if p.startswith(work["folder"])]
  unreachable = [p for p in paths if ref.size(p, QUALITIES[0]) > limit]
  assert proc.returncode == (1 if unreachable else 0), proc.stderr
  lines = _progress(proc.stdout)
  assert sorted(lines) == sorted(set(paths) - set(unreachable)), proc.stdout
  interior = 0
  for path, (size, quality) in lines.items():
    blob = _read(_out(work, "max", path, ".cim"))
    assert len(blob) == size <= limit
    assert blob == ref.blob(path, quality)
    assert f"the highest within --max_bytes={limit}" in proc.stdout or (
        quality == QUALITIES[-1])
    rank = QUALITIES.index(quality)
    if rank + 1 < len(QUALITIES):
      assert ref.size(path, QUALITIES[rank + 1]) > limit, (path, quality)
      interior += rank > 0
  assert interior, "no image chose a quality between the lowest and the highest"
  assert lines[paths[0]][1] == QUALITIES[1]
  for path in unreachable:
    assert not os.path.exists(_out(work, "max", path, ".cim"))


def test_too_small_a_budget_is_refused(work):
  proc = work["jobs"]["small"].result()
  smallest = work["ref"].size(work["good"][0], QUALITIES[0])
  line = assert_one_error(proc, f"--max_bytes={smallest - 1}",
                          f"takes {smallest} bytes", "nothing written")
  assert f"lowest quality ({QUALITIES[0]})" in line
  assert not os.path.exists(f"{work['out']['small']}.cim")
  assert proc.stdout == ""


def test_target_psnr_chooses_the_lowest_quality_that_reaches_it(work):
  proc = work["jobs"]["psnr"].result()
  assert proc.returncode == 0, proc.stderr
  ref, target = work["ref"], work["target_psnr"]
  paths = [p for p in work["good"] if p.startswith(work["folder"])]
  lines = _progress(proc.stdout)
  assert sorted(lines) == sorted(paths), proc.stdout
  for path, (_, quality) in lines.items():
    blob = _read(_out(work, "psnr", path, ".cim"))
    assert blob == ref.blob(path, quality)
    # The PSNR of the decoded file, measured here.
    decoded = ref.decoders[quality].decompress(blob).image
    reached = metrics.psnr(data.read_image(path), decoded)
    rank = QUALITIES.index(quality)
    if reached < target:  # not reachable: the highest, with a warning
      assert quality == QUALITIES[-1]
      assert f"warning: {path}: " in proc.stderr
      continue
    if rank > 0:
      assert ref.psnr(path, QUALITIES[rank - 1]) < target, (path, quality)
  assert lines[paths[0]][1] == QUALITIES[2]


def test_unreachable_psnr_writes_the_highest_quality_with_a_warning(work):
  proc = work["jobs"]["unmet"].result()
  assert proc.returncode == 0, proc.stderr
  path = work["good"][0]
  best = work["ref"].psnr(path, QUALITIES[-1])
  warnings = [l for l in proc.stderr.splitlines() if l.startswith("warning:")]
  assert len(warnings) == 1 and proc.stderr.strip() == warnings[0], proc.stderr
  assert f"reaches only {best:.2f} dB" in warnings[0]
  assert "--target_psnr=99" in warnings[0]
  assert _read(f"{work['out']['unmet']}.cim") == work["ref"].blob(
      path, QUALITIES[-1])
  assert f"quality {QUALITIES[-1]}, PSNR {best:.2f} dB" in proc.stdout


# -- Argument errors, in this process (before anything loads). -----------------

def _error(capsys, *args):
  with pytest.raises(SystemExit) as e:
    commands.main(["prog"] + list(args))
  err = capsys.readouterr().err.strip()
  assert e.value.code == 1, err
  lines = [l for l in err.splitlines() if l.startswith("error: ")]
  assert len(lines) == 1 and err.startswith("error: "), err
  return lines[0]


def _images(folder, *names):
  os.makedirs(folder, exist_ok=True)
  paths = []
  for i, name in enumerate(names):
    path = os.path.join(folder, name)
    data.write_png(path, images_testutil.synthetic_image(8, 8, i))
    paths.append(path)
  return paths


def test_inputs_of_one_name_are_refused_before_any_work(capsys, tmp_path):
  a = _images(str(tmp_path / "a"), "x.png")[0]
  b = _images(str(tmp_path / "b"), "x.jpg")[0]
  line = _error(capsys, "compress", f"--out_dir={tmp_path}/out", a,
                str(tmp_path / "b"))
  assert a in line and b in line and "same name 'x'" in line
  assert not os.path.exists(tmp_path / "out")


def test_an_output_that_is_an_input_is_refused(capsys, tmp_path):
  png = _images(str(tmp_path), "x.png")[0]
  line = _error(capsys, "decompress", f"--out_dir={tmp_path}", png)
  assert "would overwrite the input" in line and png in line
  shutil.copy(png, tmp_path / "y.cim")
  line = _error(capsys, "compress", f"--out_dir={tmp_path}",
                str(tmp_path / "y.cim"))
  assert "would overwrite the input" in line


@pytest.mark.parametrize("args,words", [
    (["a.png", "b.png", "c"], "unexpected arguments ['c']"),
    (["--out_dir={tmp}/o"], "--out_dir needs one or more inputs"),
    (["--out_dir={tmp}/o", "--output=x.cim", "a.png"], "not both"),
    (["--out_dir={tmp}/o", "{tmp}/none_*.png"], "no file matches"),
    (["--out_dir={tmp}/o", "{tmp}/missing.png"], "no such file or folder"),
    (["--out_dir={tmp}/o", "{tmp}"], "has no PNG/JPG/JPEG file"),
    (["{tmp}", "{tmp}/x.cim"], "is a folder; for many files"),
    (["--max_bytes=100", "--target_psnr=30", "a.png", "b.cim"], "give one target"),
    (["--max_bytes=100", "--quality=2", "a.png", "b.cim"],
     "chooses among the shipped qualities"),
    (["--max_bytes=-1", "a.png", "b.cim"], "--max_bytes must be in 0.."),
    (["--target_bpp=nan", "a.png", "b.cim"], "--target_bpp must be in"),
    (["--target_psnr=-3", "a.png", "b.cim"], "--target_psnr must be in"),
])
def test_compress_argument_errors(capsys, tmp_path, args, words):
  args = [a.format(tmp=tmp_path) for a in args]
  assert words in _error(capsys, "compress", *args)
  assert not os.path.exists(tmp_path / "o")


def test_decompress_folder_without_cim_files(capsys, tmp_path):
  _images(str(tmp_path), "x.png")
  line = _error(capsys, "decompress", f"--out_dir={tmp_path}/o", str(tmp_path))
  assert "has no CIM file" in line


def test_help_shows_both_forms():
  for name in ("compress", "decompress"):
    text = commands.COMMANDS[name].help("p")
    assert text.splitlines()[1] == (f"   or: p {name} --out_dir=FOLDER "
                                    "[--flag=value ...] INPUT...")
  text = commands.COMMANDS["compress"].help("p")
  for flag in ("max_bytes", "target_bpp", "target_psnr", "out_dir"):
    assert f"--{flag}=" in text


# -- The pieces, without TensorFlow. --------------------------------------------

@pytest.mark.parametrize("count", range(1, 7))
def test_binary_searches_find_the_boundary(count):
  for boundary in range(count + 1):
    probed = []

    def fits(i, boundary=boundary, probed=probed):
      probed.append(i)
      return i < boundary
    best = batch._last_true(count, fits)  # pylint: disable=protected-access
    assert best == (boundary - 1 if boundary else None)
    assert len(probed) <= count.bit_length()
    if best is not None and best + 1 < count:
      assert best + 1 in probed  # the next one up was tried
    assert batch._first_true(  # pylint: disable=protected-access
        count, lambda i, b=boundary: i >= b) == (boundary if boundary < count
                                                  else None)


def test_target_budgets():
  assert batch.Target("max_bytes", 500.).byte_limit(64, 96) == 500
  assert batch.Target("target_bpp", .5).byte_limit(64, 96) == 384
  assert batch.Target("target_bpp", .3).byte_limit(10, 10) == 3
  assert batch.Target("target_psnr", 30.).byte_limit(64, 96) is None
  assert str(batch.Target("max_bytes", 500.)) == "--max_bytes=500"
  assert str(batch.Target("target_psnr", 31.5)) == "--target_psnr=31.5"


def test_expand_keeps_order_and_counts_a_file_once(tmp_path):
  b = _images(str(tmp_path / "d"), "b.png", "a.JPG", "c.jpeg")
  (tmp_path / "d" / "notes.txt").write_text("x")
  single = _images(str(tmp_path), "z.png")[0]
  found = batch.expand([single, str(tmp_path / "d"),
                        str(tmp_path / "d" / "*.png")], batch.IMAGE_EXTENSIONS)
  assert found == [single, b[1], b[0], b[2]]


if __name__ == "__main__":
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
