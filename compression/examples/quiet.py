"""A command's stderr holds its own lines: TensorFlow's start-up noise kept out.

Importing TensorFlow 2.21 writes, from C++ and whatever TF_CPP_MIN_LOG_LEVEL says,
lines such as

  WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
  I0000 ... port.cc:153] oneDNN custom operations are on. ...

(twice each). `install()` puts an import hook in front of the modules that write
them (`tensorflow`, and the op library's loader): while such a module is first
imported, file descriptor 2 points to a temporary file, then back to the
terminal. Nothing else is touched: Python's own messages written during that
import are hidden with them, but if the import fails, everything it wrote is
printed before the exception. After the import no line of any kind is filtered.
The examples' `--verbose` flag skips `install()`.

While it imports TensorFlow, the hook also keeps TensorFlow from loading Keras
eagerly: TensorFlow's `__init__` imports `keras.src.optimizers` "so that
registrations happen" and ignores an ImportError there; the examples use no
Keras, and that import (Keras and matplotlib with it) costs about 1 s of CPU per
command (bench/cli_time.py). `keras` still imports normally afterwards, on first
use.

`fast_exit(status)` ends a finished command without Python's interpreter
teardown, which takes about a second once TensorFlow is loaded (module and object
destructors); atexit handlers run and the standard streams are flushed first.
"""

import atexit
import contextlib
import importlib.abc
import os
import sys
import tempfile

_QUIET_MODULES = ("tensorflow", "compression.python.ops._library")
# Imported by TensorFlow's __init__ inside `try: ... except ImportError: pass`.
_SKIPPED_BY_TENSORFLOW = "keras.src.optimizers"


@contextlib.contextmanager
def stderr_to_file():
  """File descriptor 2 into a temporary file for the block; the file's text is
  written to the real stderr if the block raises."""
  sys.stderr.flush()
  try:
    saved = os.dup(2)
  except OSError:  # No file descriptor 2 (closed): nothing to hide.
    yield
    return
  with tempfile.TemporaryFile() as capture:
    os.dup2(capture.fileno(), 2)
    try:
      yield
    except BaseException:
      sys.stderr.flush()
      os.dup2(saved, 2)
      capture.seek(0)
      text = capture.read().decode("utf-8", "replace")
      if text:
        sys.stderr.write(text)
        sys.stderr.flush()
      raise
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)


class _QuietLoader(importlib.abc.Loader):
  """Runs the real loader with stderr in a file (see `stderr_to_file`)."""

  def __init__(self, loader):
    self._loader = loader

  def create_module(self, spec):
    return self._loader.create_module(spec)

  def exec_module(self, module):
    skip_keras = (module.__name__ == "tensorflow" and
                  _SKIPPED_BY_TENSORFLOW not in sys.modules)
    if skip_keras:
      sys.modules[_SKIPPED_BY_TENSORFLOW] = None  # ImportError when imported
    try:
      with stderr_to_file():
        self._loader.exec_module(module)
    finally:
      if skip_keras and sys.modules.get(_SKIPPED_BY_TENSORFLOW, 0) is None:
        del sys.modules[_SKIPPED_BY_TENSORFLOW]
      module.__loader__ = self._loader
      if module.__spec__ is not None:
        module.__spec__.loader = self._loader


class _QuietFinder(importlib.abc.MetaPathFinder):
  """Gives the modules of `_QUIET_MODULES` a `_QuietLoader` (first import)."""

  def find_spec(self, fullname, path, target=None):
    if fullname not in _QUIET_MODULES:
      return None
    for finder in sys.meta_path:
      if finder is self or not hasattr(finder, "find_spec"):
        continue
      spec = finder.find_spec(fullname, path, target)
      if spec is not None:
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
          spec.loader = _QuietLoader(spec.loader)
        return spec
    return None


_FINDER = _QuietFinder()


def install():
  """Hides the start-up lines of modules not imported yet (idempotent)."""
  if _FINDER not in sys.meta_path:
    sys.meta_path.insert(0, _FINDER)


def uninstall():
  if _FINDER in sys.meta_path:
    sys.meta_path.remove(_FINDER)


def fast_exit(status):
  """Exits like `sys.exit(status)`, without the interpreter's teardown."""
  if status is None:
    code = 0
  elif isinstance(status, int):
    code = status
  else:
    print(status, file=sys.stderr)
    code = 1
  atexit._run_exitfuncs()  # pylint: disable=protected-access
  for stream in (sys.stdout, sys.stderr):
    try:
      stream.flush()
    except (OSError, ValueError):
      pass
  os._exit(code)  # pylint: disable=protected-access
