"""Errors the command line reports as one line (no TensorFlow import here)."""


class CheckpointError(Exception):
  """No usable checkpoint in the model directory."""


class NotExactError(ValueError):
  """Strings that are not exact encodings of what they decode to."""


class RoundTripError(AssertionError):
  """Decoded latents differ from the rounded encoder latents."""


class InputError(ValueError):
  """A request that cannot be met: index range, counts, lambda list."""


class MissingDependencyError(ImportError):
  """An optional package (pillow, matplotlib) needed only for images/plots."""


def require(module_name, package, purpose):
  """Imports `module_name` (from pip `package`) or raises
  MissingDependencyError naming the extra to install."""
  import importlib  # pylint: disable=g-import-not-at-top
  try:
    return importlib.import_module(module_name)
  except ImportError:
    raise MissingDependencyError(
        f"{purpose} needs {package} (module {module_name!r} not found): "
        "install "
        "the examples extra (`pip install learned-compression[examples]`, or "
        "`pip install pillow matplotlib`)") from None
