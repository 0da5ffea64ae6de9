"""The colour photograph set: natural photographs that ship inside packages.

`fetch(data_dir)` builds it once (about 330 MB downloaded, 200 MB written):

  Debian `opencv-doc`        photographs of `examples/data` (OpenCV's sample data,
                             Apache-2.0 AND BSD-3-Clause)
  Debian `mate-backgrounds`  the nature wallpapers (GPL-2+)
  Debian `lomiri-wallpapers-16.04`, `lomiri-wallpapers-20.04`
                             the photographic wallpapers (CC-BY-SA)
  Debian `palapeli-data`     the puzzle collection's photographs (CC-BY-SA, CC0)
  Debian `plasma-workspace-wallpapers`
                             the photographic wallpapers (LGPL / CC-BY-SA)
  Debian `libjxl-testdata`   JPEG XL's test photographs (wesaturate CC0, flower and
                             hdr_room BSD-3-Clause)
  matplotlib                 `grace_hopper.jpg` (its sample data; already installed)
  scikit-image               astronaut, motorcycle_left/right (already installed)
  scikit-learn (wheel)       `china.jpg`, `flower.jpg` (`pip download`, not
                             installed; skipped with a note when pip cannot reach PyPI)

Each Debian package's copyright file (which names every file's licence) is copied.
Only photographs are taken: the packages' drawings and renderings stay out (picked
by eye from contact sheets of every image of at least 400 pixels a side).

The Debian packages are fetched with `apt-get download` and unpacked with
`dpkg -x` into a temporary folder: nothing is installed on the system. Every image
is written as an RGB PNG under `DATA_DIR/train/` or `DATA_DIR/held_out/`; those
whose shorter side is at least `DOWNSAMPLE_FROM` pixels are first downsampled 2x
(Lanczos, antialiased), which removes most of their JPEG artefacts. The copyright
files go to `DATA_DIR/licenses/`.

The split is fixed; photographs are only ever added to it, never moved: no
training crop comes from a HELD_OUT photograph (nor from scikit-image's old held-out four: chelsea, coffee, ihc,
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
_LOMIRI16 = "usr/share/backgrounds"
_LOMIRI20 = "usr/share/backgrounds"
_PALAPELI = "usr/share/palapeli/collection"
_PLASMA = "usr/share/wallpapers"
_JXL = "usr/share/libjxl-testdata"

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
    # Added with the second round (issue 22): photographs of five more packages.
    ("skybridge", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/Bridge_by_Sander_Klootwijk.jpg"),
    ("dragonfly", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/Dragonfly_by_Bolly.jpg"),
    ("aitzgorri", "lomiri-wallpapers-16.04",
     f"{_LOMIRI16}/aitzgorri_by_Aitzol_Berasategi.jpg"),
    ("glasspattern", "lomiri-wallpapers-16.04",
     f"{_LOMIRI16}/analogpattern_by_Peter_Nerlich.jpg"),
    ("lampbird", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/free_by_Peter_Nerlich.jpg"),
    ("picos", "lomiri-wallpapers-16.04",
     f"{_LOMIRI16}/picosdeeuropa_by_Aitzol_Berasategi.jpg"),
    ("dandelions", "lomiri-wallpapers-16.04",
     f"{_LOMIRI16}/seeding_by_Clements_Engelhardt.jpg"),
    ("sunset", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/sunset_by_Aitzol_Berasategi.jpg"),
    ("nuthatch", "lomiri-wallpapers-20.04", f"{_LOMIRI20}/Kleiber_by_Lukas_Baubkus.jpg"),
    ("citrus", "palapeli-data", f"{_PALAPELI}/citrus-fruits.jpg"),
    ("chameleon", "palapeli-data", f"{_PALAPELI}/panther-chameleon-female.jpg"),
    ("pier", "plasma-workspace-wallpapers",
     f"{_PLASMA}/BytheWater/contents/images/2560x1600.jpg"),
    ("foggypier", "plasma-workspace-wallpapers",
     f"{_PLASMA}/ColdRipple/contents/images/2560x1600.jpg"),
    ("cups", "plasma-workspace-wallpapers",
     f"{_PLASMA}/ColorfulCups/contents/images/2560x1600.jpg"),
    ("mistylake", "plasma-workspace-wallpapers",
     f"{_PLASMA}/DarkestHour/contents/images/2560x1600.jpg"),
    ("fallenleaf", "plasma-workspace-wallpapers",
     f"{_PLASMA}/FallenLeaf/contents/images/2560x1600.jpg"),
    ("kite", "plasma-workspace-wallpapers", f"{_PLASMA}/Kite/contents/images/2560x1600.jpg"),
    ("seedlings", "plasma-workspace-wallpapers",
     f"{_PLASMA}/OneStandsOut/contents/images/2560x1600.jpg"),
    ("dusklake", "plasma-workspace-wallpapers",
     f"{_PLASMA}/summer_1am/contents/images/2560x1600.jpg"),
    ("shore", "libjxl-testdata",
     f"{_JXL}/external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png"),
    ("tulips", "libjxl-testdata",
     f"{_JXL}/external/wesaturate/500px/tmshre_riaphotographs_srgb8.png"),
    ("blossom", "libjxl-testdata",
     f"{_JXL}/external/wesaturate/500px/u76c0g_bliznaca_srgb8.png"),
    ("daisies", "libjxl-testdata", f"{_JXL}/jxl/flower/flower.png"),
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
    # Added with the second round (issue 22): 12 more, of other content and packages.
    ("fig", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/Picture_0B_by_freespace.jpg"),
    ("brushes", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/Picture_1A_by_freespace.jpg"),
    ("wineroom", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/Wine_by_Jakkub_Mede.jpg"),
    ("dogs", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/friends_by_Aitzol_Berasategi.jpg"),
    ("stream", "lomiri-wallpapers-16.04", f"{_LOMIRI16}/life_by_Aitzol_Berasategi.jpg"),
    ("castle", "palapeli-data", f"{_PALAPELI}/castle-maintenon.jpg"),
    ("nightbridge", "palapeli-data", f"{_PALAPELI}/cincinnati-bridge.jpg"),
    ("honeybee", "palapeli-data", f"{_PALAPELI}/european-honey-bee.jpg"),
    ("boats", "plasma-workspace-wallpapers",
     f"{_PLASMA}/EveningGlow/contents/images/2560x1600.jpg"),
    ("forestpath", "plasma-workspace-wallpapers",
     f"{_PLASMA}/Path/contents/images/2560x1600.jpg"),
    ("salon", "libjxl-testdata", f"{_JXL}/jxl/hdr_room.png"),
    ("clockface", "lomiri-wallpapers-16.04",
     f"{_LOMIRI16}/greentock_by_Peter_Nerlich.jpg"),
)
# The first round's eight held-out photographs: their rows stay reported apart, for
# continuity with the figures of before (HELD_OUT holds them and 12 more).
HELD_OUT_ROUND1 = tuple(name for name, _, _ in HELD_OUT[:8])
# The training photographs of the shipped models of round 3 (the first 31).
TRAIN_ROUND1 = tuple(name for name, _, _ in TRAIN[:31])
SPLITS = {"train": TRAIN, "held_out": HELD_OUT}
_DEBIAN = ("opencv-doc", "mate-backgrounds", "lomiri-wallpapers-16.04",
           "lomiri-wallpapers-20.04", "palapeli-data", "plasma-workspace-wallpapers",
           "libjxl-testdata")
_COPYRIGHT = {package: f"usr/share/doc/{package}/copyright" for package in _DEBIAN}


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


def pixels_sha256(array):
  """SHA-256 (hex) of uint8 [H, W, 3] RGB pixels, prefixed by the size: the same for
  any file of the same pixels (PNG encoders differ in their bytes, not pixels)."""
  import hashlib  # pylint: disable=g-import-not-at-top
  array = np.ascontiguousarray(array, np.uint8)
  digest = hashlib.sha256(f"{array.shape[0]}x{array.shape[1]}x{array.shape[2]}:"
                          .encode())
  digest.update(array.tobytes())
  return digest.hexdigest()


def manifest(paths):
  """[{"name", "width", "height", "file_sha256", "pixels_sha256"}] of image files,
  sorted by name: what a shipped model's record lists of its training set."""
  import hashlib  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  entries = []
  for path in sorted(paths):
    with open(path, "rb") as f:
      blob = f.read()
    with Image.open(path) as image:
      array = np.asarray(image.convert("RGB"), np.uint8)
    entries.append({"name": os.path.splitext(os.path.basename(path))[0],
                    "width": int(array.shape[1]), "height": int(array.shape[0]),
                    "file_sha256": hashlib.sha256(blob).hexdigest(),
                    "pixels_sha256": pixels_sha256(array)})
  return entries


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
