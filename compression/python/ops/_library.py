"""Loads the C++ op library, checking it was built for the TensorFlow that loads it."""

import os

import tensorflow as tf

LIBRARY = "_compression_ops.so"
VERSION_FILE = "_compression_ops.tf_version"  # written by Bazel next to the library
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_REPO_DIR = os.path.dirname(_PACKAGE_DIR)
# The installed package first, then a Bazel build in the source tree.
SEARCH_PATH = (_PACKAGE_DIR, os.path.join(_REPO_DIR, "bazel-bin", "compression"))
REBUILD = ("Rebuild it against the installed TensorFlow: in the source tree run "
           "`bazel build //compression:all` (or `./scripts/setup.sh`), or build and install "
           "a wheel (`scripts/build_wheel.sh`, or `pip install --no-build-isolation .`).")


def _minor(version):
  return ".".join(version.strip().split(".")[:2])


def load(search_path=SEARCH_PATH):
  """Returns the loaded op module.

  Args:
    search_path: directories to look in, in order.

  Raises:
    ImportError: the library is missing, was compiled against another TensorFlow
      minor version, or does not load; the message says how to rebuild it.
  """
  for directory in search_path:
    path = os.path.join(directory, LIBRARY)
    if os.path.exists(path):
      break
  else:
    raise ImportError(f"The op library {LIBRARY} was not found in "
                      f"{', '.join(search_path)}. " + REBUILD)
  version_path = os.path.join(directory, VERSION_FILE)
  if not os.path.exists(version_path):
    raise ImportError(f"{version_path} is missing, so the TensorFlow version {path} was "
                      "compiled against is unknown. " + REBUILD)
  with open(version_path) as f:
    built_for = f.read().strip()
  if _minor(built_for) != _minor(tf.__version__):
    raise ImportError(
        f"{path} was compiled against TensorFlow {built_for}, but TensorFlow "
        f"{tf.__version__} is installed; custom ops must be compiled against the "
        "TensorFlow minor version that loads them. Install that version "
        f"(`pip install \"tensorflow-cpu=={_minor(built_for)}.*\"`), or: " + REBUILD)
  try:
    return tf.load_op_library(path)
  except (tf.errors.NotFoundError, OSError) as e:
    raise ImportError(f"Could not load {path}: {e}\n" + REBUILD) from e


ops = load()
