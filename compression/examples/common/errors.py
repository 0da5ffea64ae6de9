"""Error types both examples raise, reported by the command line as one line.

No TensorFlow import here: `cli.main` treats these as expected failures
(`error: ...`, exit status 1) in every example program.
"""

import importlib
import importlib.util


class InputError(ValueError):
  """A request that cannot be met: an index range, a count, a list of values,
  an unknown option or a path that matches nothing."""


class MissingDependencyError(ImportError):
  """An optional package (pillow, matplotlib, Apache Beam) a command needs."""


def install_hint(extra, alternative=""):
  """The advice of a MissingDependencyError: "install the <extra> extra (`pip
  install learned-compression[<extra>]`[, or `<alternative>`])"."""
  also = f", or `{alternative}`" if alternative else ""
  return (f"install the {extra} extra "
          f"(`pip install learned-compression[{extra}]`{also})")


def missing(purpose, package, module, extra="examples", alternative=""):
  """The MissingDependencyError of `purpose` needing pip `package` (`module`)."""
  return MissingDependencyError(
      f"{purpose} needs {package} (module {module!r} not found): "
      f"{install_hint(extra, alternative)}")


def require(module_name, package, purpose):
  """Imports `module_name` (from pip `package`) and returns it, or raises
  MissingDependencyError naming the examples extra."""
  try:
    return importlib.import_module(module_name)
  except ImportError:
    raise missing(purpose, package, module_name,
                  alternative="pip install pillow matplotlib") from None


def require_installed(purpose, *modules):
  """MissingDependencyError naming the examples extra unless every (module, pip
  package) of `modules` is installed. Looked up without importing, so that a
  command checks before any long work; a module blocked in sys.modules (None)
  counts as missing."""
  for module, package in modules:
    try:
      found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # e.g. sys.modules[module] is None
      found = False
    if not found:
      raise missing(purpose, package, module)
