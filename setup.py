"""pip packaging: the Python package plus the prebuilt op library, as a platform wheel.

There is one build path for the C++ library: Bazel (see BUILD files and .bazelrc). This
file never compiles; it takes `_compression_ops.so` and the TensorFlow version it was
compiled against (`_compression_ops.tf_version`) from one of two places:

- `$COMPRESSION_OPS_DIR`, a directory holding both files, built beforehand. No Bazel is
  needed; `scripts/build_wheel.sh` builds the library, checks it is up to date with the
  sources and sets this.
- Otherwise it runs `bazel build //compression:all` and takes `bazel-bin/compression`
  (`pip install --no-build-isolation .`: Bazel must see the TensorFlow it compiles
  against, so no isolated build environment).

The wheel is tagged for this Python and platform (it holds a compiled library) and
requires TensorFlow of the minor version the library was compiled against.
"""

import os
import re
import shutil
import subprocess

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
      raise SystemExit(
          "setup.py: `bazel` is not on PATH, and COMPRESSION_OPS_DIR is not set. Either "
          "install Bazel (scripts/setup.sh) and put it on PATH, or build the library "
          "beforehand and point COMPRESSION_OPS_DIR at it; scripts/build_wheel.sh does "
          "both and writes a wheel that installs without Bazel.")
    if subprocess.call(["bazel", "build", "//compression:all"], cwd=ROOT) != 0:
      raise SystemExit("setup.py: `bazel build //compression:all` failed (see above).")
    directory = os.path.join(ROOT, "bazel-bin", "compression")
    hint = "`bazel build //compression:all` did not write it."
  for name in LIBRARY_FILES:
    if not os.path.isfile(os.path.join(directory, name)):
      raise SystemExit(f"setup.py: {os.path.join(directory, name)} is missing. {hint}")
  return directory


def tensorflow_requirement(directory):
  """Returns the pin `tensorflow-cpu==X.Y.*` for the version in `directory`'s version file."""
  path = os.path.join(directory, VERSION_FILE)
  with open(path) as f:
    version = f.read().strip()
  match = re.fullmatch(r"(\d+)\.(\d+)(\.\S*)?", version)
  if not match:
    raise SystemExit(f"setup.py: {path} holds {version!r}, not a TensorFlow version X.Y.Z.")
  return f"{TENSORFLOW}=={match.group(1)}.{match.group(2)}.*"


class BinaryDistribution(Distribution):
  """A distribution with a compiled library: platform wheel, never `py3-none-any`."""

  def has_ext_modules(self):
    return True


class BuildPyWithLibrary(build_py):
  """Adds the prebuilt op library and its version file to the package."""

  def run(self):
    super().run()
    target = os.path.join(self.build_lib, "compression")
    os.makedirs(target, exist_ok=True)
    for name in LIBRARY_FILES:
      shutil.copyfile(os.path.join(LIBRARY_DIR, name), os.path.join(target, name))


LIBRARY_DIR = library_dir()

setup(
    name="learned-compression",
    version="0.1.0",
    description="Range coding ops and learned entropy models for TensorFlow graphs.",
    packages=find_packages(include=["compression", "compression.*"]),
    package_data={"compression": list(LIBRARY_FILES),
                  # The trained image models (compress --quality=N).
                  "compression.examples.images": ["models/*/*.json",
                                                  "models/*/*.npz"]},
    python_requires=">=3.10",
    # Pillow: the image-compression console script reads and writes PNG/JPEG with
    # the shipped models, no extra needed.
    install_requires=[tensorflow_requirement(LIBRARY_DIR), "numpy", "absl-py",
                      "pillow"],
    extras_require={"examples": ["pillow", "matplotlib", "scikit-image"],
                    "beam": ["apache-beam==2.77.*", "google-crc32c==1.*"]},
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildPyWithLibrary},
    zip_safe=False,
    entry_points={
        "console_scripts": [
            "mnist-compression=compression.examples.mnist.commands:main",
            "image-compression=compression.examples.images.commands:main",
        ],
    },
)
