"""The colour photograph set: natural photographs that ship inside packages.

`fetch(data_dir)` builds it once (about 150 MB downloaded, 60 MB written):

  Debian `opencv-doc`        photographs of `examples/data` (OpenCV's sample data,
                             Apache-2.0 AND BSD-3-Clause, Debian's copyright file)
  Debian `mate-backgrounds`  the nature wallpapers (GPL-2+, Debian's copyright file)
  matplotlib                 `grace_hopper.jpg` (its sample data; already installed)
  scikit-image               astronaut, motorcycle_left/right (already installed)
  scikit-learn (wheel)       `china.jpg`, `flower.jpg` (`pip download`, not
                             installed; skipped with a note when pip cannot reach PyPI)

The Debian packages are fetched with `apt-get download` and unpacked with
`dpkg -x` into a temporary folder: nothing is installed on the system. Every image
is written as an RGB PNG under `DATA_DIR/train/` or `DATA_DIR/held_out/`; those
whose shorter side is at least `DOWNSAMPLE_FROM` pixels are first downsampled 2x
(Lanczos, antialiased), which removes most of their JPEG artefacts. The copyright
files go to `DATA_DIR/licenses/`.

The split is fixed and never changes: no training crop comes from a HELD_OUT
photograph (nor from scikit-image's old held-out four: chelsea, coffee, ihc,
rocket, which stay out of every split here). Stereo and near-duplicate pairs stay
on one side (aloeL, leuvenA are taken without their partners; both motorcycles
train).
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

DEFAULT_DATA_DIR = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
    "compression", "photos")
DOWNSAMPLE_FROM = 1000

_OPENCV = "usr/share/doc/opencv-doc/examples/data"
_MATE = "usr/share/backgrounds/mate/nature"

# (name written, source, path inside the source)
TRAIN = (
    ("aero1", "opencv-doc", f"{_OPENCV}/aero1.jpg"),
    ("aero3", "opencv-doc", f"{_OPENCV}/aero3.jpg"),
    ("aloe", "opencv-doc", f"{_OPENCV}/aloeL.jpg"),
    ("apple", "opencv-doc", f"{_OPENCV}/apple.jpg"),
    ("board", "opencv-doc", f"{_OPENCV}/board.jpg"),
    ("notebook", "opencv-doc", f"{_OPENCV}/ela_original.jpg"),
    ("graffiti", "opencv-doc", f"{_OPENCV}/graf1.png"),
    ("leuven", "opencv-doc", f"{_OPENCV}/leuvenA.jpg"),
    ("football", "opencv-doc", f"{_OPENCV}/messi5.jpg"),
    ("orange", "opencv-doc", f"{_OPENCV}/orange.jpg"),
    ("rubberwhale", "opencv-doc", f"{_OPENCV}/rubberwhale1.png"),
    ("smarties", "opencv-doc", f"{_OPENCV}/smarties.png"),
    ("stuff", "opencv-doc", f"{_OPENCV}/stuff.jpg"),
    ("books", "opencv-doc", f"{_OPENCV}/left.jpg"),
    ("dog", "opencv-doc", f"{_OPENCV}/chicky_512.png"),
    ("aqua", "mate-backgrounds", f"{_MATE}/Aqua.jpg"),
    ("blinds", "mate-backgrounds", f"{_MATE}/Blinds.jpg"),
    ("dune", "mate-backgrounds", f"{_MATE}/Dune.jpg"),
    ("freshflower", "mate-backgrounds", f"{_MATE}/FreshFlower.jpg"),
    ("garden", "mate-backgrounds", f"{_MATE}/Garden.jpg"),
    ("greenmeadow", "mate-backgrounds", f"{_MATE}/GreenMeadow.jpg"),
    ("raindrops", "mate-backgrounds", f"{_MATE}/RainDrops.jpg"),
    ("storm", "mate-backgrounds", f"{_MATE}/Storm.jpg"),
    ("twowings", "mate-backgrounds", f"{_MATE}/TwoWings.jpg"),
    ("wood", "mate-backgrounds", f"{_MATE}/Wood.jpg"),
    ("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    ("astronaut", "scikit-image", "data/astronaut.png"),
    ("motorcycle_left", "scikit-image", "data/motorcycle_left.png"),
    ("motorcycle_right", "scikit-image", "data/motorcycle_right.png"),
    ("china", "scikit-learn", "sklearn/datasets/images/china.jpg"),
    ("flower", "scikit-learn", "sklearn/datasets/images/flower.jpg"),
)
HELD_OUT = (
    ("baboon", "opencv-doc", f"{_OPENCV}/baboon.jpg"),
    ("building", "opencv-doc", f"{_OPENCV}/building.jpg"),
    ("butterfly", "opencv-doc", f"{_OPENCV}/butterfly.jpg"),
    ("fruits", "opencv-doc", f"{_OPENCV}/fruits.jpg"),
    ("home", "opencv-doc", f"{_OPENCV}/home.jpg"),
    ("squirrel", "opencv-doc", f"{_OPENCV}/squirrel_cls.jpg"),
    ("ladybird", "mate-backgrounds", f"{_MATE}/LadyBird.jpg"),
    ("yellowflower", "mate-backgrounds", f"{_MATE}/YellowFlower.jpg"),
)
SPLITS = {"train": TRAIN, "held_out": HELD_OUT}
_DEBIAN = ("opencv-doc", "mate-backgrounds")
_COPYRIGHT = {"opencv-doc": "usr/share/doc/opencv-doc/copyright",
              "mate-backgrounds": "usr/share/doc/mate-backgrounds/copyright"}


class FetchError(RuntimeError):
  """The photograph set cannot be built here (one line)."""


def split_dir(data_dir, split):
  return os.path.join(data_dir, split)


def paths(split, data_dir=DEFAULT_DATA_DIR):
  """PNG paths of `split` ("train" or "held_out") in a fetched `data_dir`."""
  folder = split_dir(data_dir, split)
  found = sorted(glob.glob(os.path.join(folder, "*.png")))
  if not found:
    raise FetchError(f"{folder} holds no photographs; run `fetch_photos "
                     f"--data_dir={data_dir}` first")
  return found


def prepare(image):
  """PIL image -> uint8 [H, W, 3]: RGB, and 2x smaller (Lanczos) when its shorter
  side is at least DOWNSAMPLE_FROM."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  image = image.convert("RGB")
  if min(image.size) >= DOWNSAMPLE_FROM:
    image = image.resize((image.size[0] // 2, image.size[1] // 2),
                         Image.Resampling.LANCZOS, reducing_gap=None)
  return np.asarray(image, np.uint8)


def _run(command, where, log):
  log("  $ " + " ".join(command))
  try:
    subprocess.run(command, cwd=where, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, text=True)
  except FileNotFoundError:
    raise FetchError(f"{command[0]} not found: the photograph set needs Debian's "
                     "apt-get and dpkg-deb") from None
  except subprocess.CalledProcessError as error:
    lines = (error.stderr or "").strip().splitlines()
    raise FetchError(f"{' '.join(command)} failed: "
                     f"{lines[-1] if lines else error}") from None


def _source_roots(work, log):
  """Folder of each source: unpacked Debian packages, installed Python packages."""
  roots = {}
  debs = os.path.join(work, "debs")
  os.makedirs(debs)
  _run(["apt-get", "download", *_DEBIAN], debs, log)
  for package in _DEBIAN:
    deb = glob.glob(os.path.join(debs, f"{package}_*.deb"))
    if not deb:
      raise FetchError(f"apt-get download left no {package}_*.deb")
    root = os.path.join(work, package)
    _run(["dpkg-deb", "-x", deb[0], root], work, log)
    roots[package] = root
  import matplotlib  # pylint: disable=g-import-not-at-top
  roots["matplotlib"] = os.path.dirname(matplotlib.__file__)
  try:
    import skimage  # pylint: disable=g-import-not-at-top
    roots["scikit-image"] = os.path.dirname(skimage.__file__)
  except ImportError:
    log("  note: scikit-image is not installed; its three photographs are skipped")
  wheels = os.path.join(work, "wheels")
  try:
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
          "-q", "-d", wheels, "scikit-learn"], work, log)
    wheel = glob.glob(os.path.join(wheels, "scikit_learn-*.whl"))[0]
    root = os.path.join(work, "scikit-learn")
    with zipfile.ZipFile(wheel) as archive:
      for member in archive.namelist():
        if member.startswith("sklearn/datasets/images/"):
          archive.extract(member, root)
    roots["scikit-learn"] = root
  except (FetchError, IndexError) as error:
    log(f"  note: scikit-learn's two photographs are skipped ({error})")
  return roots


def fetch(data_dir=DEFAULT_DATA_DIR, log=print):
  """Builds the photograph set in `data_dir`; returns {split: [paths]}."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory(prefix="photos-") as work:
    roots = _source_roots(work, log)
    written = {}
    for split, entries in SPLITS.items():
      folder = split_dir(data_dir, split)
      os.makedirs(folder, exist_ok=True)
      written[split] = []
      for name, source, inner in entries:
        if source not in roots:
          continue
        path = os.path.join(roots[source], inner)
        if not os.path.isfile(path):
          log(f"  note: {source} has no {inner}; skipped")
          continue
        with Image.open(path) as image:
          array = prepare(image)
        out = os.path.join(folder, name + ".png")
        Image.fromarray(array, "RGB").save(out, format="PNG")
        written[split].append(out)
      log(f"{split}: {len(written[split])} photographs in {folder}")
    licenses = os.path.join(data_dir, "licenses")
    os.makedirs(licenses, exist_ok=True)
    for package, inner in _COPYRIGHT.items():
      shutil.copy(os.path.join(roots[package], inner),
                  os.path.join(licenses, f"{package}.copyright"))
  return written
