"""Loads the C++ op library, checking it was built for the TensorFlow that loads it."""

import os

import tensorflow as tf

_NAME = "_compression_ops.so"
_VERSION_SUFFIX = ".tf_version"
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_REPO_DIR = os.path.dirname(_PACKAGE_DIR)
_REBUILD = ("Rebuild it against the installed TensorFlow: `bazel build //compression:all` "
            "in the source tree (or `pip install .`).")


def _candidates():
  """Where the library may be: the installed package, then a Bazel build tree."""
  yield os.path.join(_PACKAGE_DIR, _NAME)
  yield os.path.join(_REPO_DIR, "bazel-bin", "compression", _NAME)


def _minor(version):
  return ".".join(version.strip().split(".")[:2])


def load():
  """Returns the loaded op module; raises ImportError saying what to rebuild."""
  for path in _candidates():
    if os.path.exists(path):
      break
  else:
    raise ImportError(
        f"The op library {_NAME} was not found (looked in {', '.join(_candidates())}). "
        + _REBUILD)
  version_file = path[:-len(".so")] + _VERSION_SUFFIX
  if os.path.exists(version_file):
    with open(version_file) as f:
      built_for = f.read().strip()
    if _minor(built_for) != _minor(tf.__version__):
      raise ImportError(
          f"{path} was compiled against TensorFlow {built_for}, but TensorFlow "
          f"{tf.__version__} is installed; the op ABI differs between minor versions. "
          + _REBUILD)
  try:
    return tf.load_op_library(path)
  except (tf.errors.NotFoundError, OSError) as e:
    raise ImportError(f"Could not load {path}: {e}\n" + _REBUILD) from e


ops = load()
