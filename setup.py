"""pip packaging: the Python package plus the prebuilt op library, as a platform wheel.

  python3 -m venv env && env/bin/pip install "tensorflow-cpu==2.21.*"
  env/bin/pip install .                 # from a source checkout; Bazel on PATH

There is one build path for the C++ library: Bazel (see BUILD files and .bazelrc). This
file never compiles; it takes `_compression_ops.so` and the TensorFlow version it was
compiled against (`_compression_ops.tf_version`) from one of two places:

- `$COMPRESSION_OPS_DIR`, a directory holding both files, built beforehand. No Bazel is
  needed; `scripts/build_wheel.sh` builds the library, checks it is up to date with the
  sources and sets this.
- Otherwise, when the package is built, it runs `bazel build //compression:all` and
  takes `bazel-bin/compression`. Bazel compiles against the TensorFlow of the Python
  running this file (`sys.executable`, handed to Bazel as $PYTHON_BIN_PATH; pip runs
  it with the interpreter of the environment it installs into, activated or not),
  not the first `python3` on PATH. pip's isolated build environment is left out of
  what that interpreter sees, so plain `pip install .` works.

The wheel is tagged for this Python and platform (it holds a compiled library) and
requires TensorFlow of the minor version the library was compiled against. The
build's scratch folders (`build/`, `*.egg-info`) go to a temporary folder, not into
the source tree.
"""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

from setuptools import Distribution
from setuptools import find_packages
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "_compression_ops.so"
VERSION_FILE = "_compression_ops.tf_version"
LIBRARY_FILES = (LIBRARY, VERSION_FILE)
# The TensorFlow distribution of requirements.txt (the CPU build on PyPI).
TENSORFLOW = "tensorflow-cpu"
# What pip's isolated build environment sets to hide the target environment's
# packages from the build (a sitecustomize on PYTHONPATH).
_BUILD_ISOLATION_VARIABLES = ("PYTHONPATH", "PYTHONNOUSERSITE", "PYTHONHOME")


def _fail(message):
  raise SystemExit(f"setup.py: {message}")


def plain_environment():
  """os.environ without pip's build isolation: `sys.executable` then sees the
  packages of its own environment (TensorFlow)."""
  return {k: v for k, v in os.environ.items() if k not in _BUILD_ISOLATION_VARIABLES}


def pinned_tensorflow():
  """The TensorFlow requirement of requirements.txt ("tensorflow-cpu==2.21.*"), or
  None when there is no such file (a copy of the tree without it)."""
  try:
    with open(os.path.join(ROOT, "requirements.txt")) as f:
      for line in f:
        line = line.split("#")[0].strip()
        if line.startswith("tensorflow") and "==" in line:
          return line
  except OSError:
    pass
  return None


def installed_tensorflow(python=sys.executable):
  """The version of the TensorFlow that `python` imports; SystemExit saying
  exactly what is missing when it imports none."""
  result = subprocess.run(
      [python, "-c", "import tensorflow as tf; print(tf.__version__)"],
      env=dict(plain_environment(), TF_CPP_MIN_LOG_LEVEL="3"),
      capture_output=True, text=True, check=False)
  lines = result.stdout.strip().splitlines()
  if result.returncode or not lines:
    errors = [l for l in result.stderr.strip().splitlines() if l.strip()]
    why = errors[-1] if errors else f"exit status {result.returncode}"
    pin = pinned_tensorflow() or TENSORFLOW
    _fail(f"{python} cannot import tensorflow ({why}). The op library is compiled "
          f"against the TensorFlow of the Python that installs it: first run "
          f"`{python} -m pip install \"{pin}\"`, then install this package again.")
  return lines[-1].strip()


def library_dir():
  """Returns the directory holding the op library and its version file.

  Raises:
    SystemExit: Bazel is needed but missing or fails, or a file is missing; the
      message says what to run.
  """
  directory = os.environ.get("COMPRESSION_OPS_DIR")
  if directory:
    hint = ("COMPRESSION_OPS_DIR must hold the output of `bazel build //compression:all` "
            "(bazel-bin/compression); scripts/build_wheel.sh builds and sets it.")
  else:
    if shutil.which("bazel") is None:
      _fail("`bazel` (4.2.3; Debian's bazel-bootstrap, scripts/setup.sh installs it) "
            "is not on PATH, and COMPRESSION_OPS_DIR is not set. Either put Bazel on "
            "PATH, or build the library beforehand and point COMPRESSION_OPS_DIR at "
            "it; scripts/build_wheel.sh does both and writes a wheel that installs "
            "without Bazel.")
    installed_tensorflow()  # Says what is missing before Bazel starts.
    env = dict(plain_environment(), PYTHON_BIN_PATH=sys.executable)
    print(f"setup.py: bazel build //compression:all against the TensorFlow of "
          f"{sys.executable}", file=sys.stderr, flush=True)
    # --symlink_prefix=/: the clone's bazel-* links stay as they are (they may
    # belong to another output base, e.g. a Bazel started with another HOME).
    flags = ["--symlink_prefix=/"]
    if subprocess.call(["bazel", "build"] + flags + ["//compression:all"], cwd=ROOT,
                       env=env):
      _fail("`bazel build //compression:all` failed (its errors are above; with "
            "pip, run `pip install -v .` to see them).")
    info = subprocess.run(["bazel", "info"] + flags + ["bazel-bin"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if info.returncode:
      _fail(f"`bazel info bazel-bin` failed: {info.stderr.strip()}")
    directory = os.path.join(info.stdout.strip(), "compression")
    hint = "`bazel build //compression:all` did not write it."
  for name in LIBRARY_FILES:
    if not os.path.isfile(os.path.join(directory, name)):
      _fail(f"{os.path.join(directory, name)} is missing. {hint}")
  return directory


def tensorflow_requirement(version, where):
  """`tensorflow-cpu==X.Y.*` for the TensorFlow version `version`."""
  match = re.fullmatch(r"(\d+)\.(\d+)(\.\S*)?", version)
  if not match:
    _fail(f"{where} gives {version!r}, not a TensorFlow version X.Y.Z.")
  return f"{TENSORFLOW}=={match.group(1)}.{match.group(2)}.*"


def compiled_against():
  """The TensorFlow version the packaged library is (or will be) compiled
  against: the version file of COMPRESSION_OPS_DIR, else the TensorFlow of
  sys.executable, which Bazel compiles against (no build needed for metadata)."""
  directory = os.environ.get("COMPRESSION_OPS_DIR")
  if directory:
    path = os.path.join(directory, VERSION_FILE)
    try:
      with open(path) as f:
        return f.read().strip(), path
    except OSError as e:
      _fail(f"{path}: {e.strerror}. COMPRESSION_OPS_DIR must hold the output of "
            "`bazel build //compression:all`.")
  return installed_tensorflow(), f"the tensorflow of {sys.executable}"


class BinaryDistribution(Distribution):
  """A distribution with a compiled library: platform wheel, never `py3-none-any`."""

  def has_ext_modules(self):
    return True


class BuildPyWithLibrary(build_py):
  """Adds the op library and its version file to the package (built now, with
  Bazel, unless COMPRESSION_OPS_DIR has them)."""

  def run(self):
    super().run()
    directory = library_dir()
    with open(os.path.join(directory, VERSION_FILE)) as f:
      built = f.read().strip()
    if tensorflow_requirement(built, VERSION_FILE) != REQUIREMENT:
      _fail(f"the library was compiled against TensorFlow {built}, but the package "
            f"metadata says {REQUIREMENT} ({WHERE}).")
    target = os.path.join(self.build_lib, "compression")
    os.makedirs(target, exist_ok=True)
    for name in LIBRARY_FILES:
      shutil.copyfile(os.path.join(directory, name), os.path.join(target, name))


if __name__ == "__main__":
  VERSION, WHERE = compiled_against()
  REQUIREMENT = tensorflow_requirement(VERSION, WHERE)
  # Scratch folders outside the source tree.
  SCRATCH = tempfile.mkdtemp(prefix="learned_compression_build_")
  atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
  setup(
      name="learned-compression",
      version="0.1.0",
      description="Range coding ops and learned entropy models for TensorFlow graphs.",
      packages=find_packages(include=["compression", "compression.*"]),
      package_data={"compression": list(LIBRARY_FILES),
                    # The trained image models (compress --quality=N).
                    "compression.examples.images": ["models/*/*.json",
                                                    "models/*/*.npz",
                                                    "models/legacy/*/*.json",
                                                    "models/legacy/*/*.npz"]},
      # Python 3.14 puts a package named `compression` in the standard library
      # (PEP 784: compression.zstd and friends), which shadows this one; until a
      # second import name is decided, 3.14 and later are excluded.
      python_requires=">=3.10,<3.14",
      # Pillow: the image-compression console script reads and writes PNG/JPEG
      # with the shipped models, and the MNIST demo writes PNGs; no extra needed.
      install_requires=[REQUIREMENT, "numpy", "absl-py", "pillow"],
      # examples: everything else the example commands use (MNIST sweep figures,
      # the image example's default photographs, TensorBoard to view `train`'s
      # summaries: TensorFlow 2.21 no longer installs it).
      extras_require={"examples": ["pillow", "matplotlib", "scikit-image",
                                   "tensorboard"],
                      "beam": ["apache-beam==2.77.*", "google-crc32c==1.*"],
                      # The image example's compare anchors: JPEG XL and AVIF
                      # (imagecodecs) and HEIC (pillow-heif).
                      "anchors": ["imagecodecs>=2023.9.4", "pillow-heif>=0.16"]},
      distclass=BinaryDistribution,
      cmdclass={"build_py": BuildPyWithLibrary},
      options={"build": {"build_base": os.path.join(SCRATCH, "build")},
               "egg_info": {"egg_base": SCRATCH}},
      zip_safe=False,
      entry_points={
          "console_scripts": [
              "mnist-compression=compression.examples.mnist.commands:main",
              "image-compression=compression.examples.images.commands:main",
          ],
      },
  )
