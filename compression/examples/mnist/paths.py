"""Checks of output paths given on the command line, before any work starts.

Each raises errors.InputError naming the flag, the path and the problem, so
that a bad path fails in one line instead of after minutes of work (or with
a traceback from deep inside a writer).
"""

import os

from compression.examples.mnist import errors


def _blocking_ancestor(path):
  """The first existing ancestor of `path` that is not a directory, or None."""
  parent = os.path.dirname(os.path.abspath(path))
  while parent and not os.path.exists(parent):
    up = os.path.dirname(parent)
    if up == parent:
      return None
    parent = up
  return None if os.path.isdir(parent) else parent


def check_output_file(flag, path, suffix=None):
  """`path` can be written as a file: not a directory, no file on the way.

  With `suffix` (e.g. ".npy"), the path must end in it.
  """
  if os.path.isdir(path):
    raise errors.InputError(f"--{flag}={path} is a directory; give a file path")
  if suffix and not path.endswith(suffix):
    raise errors.InputError(
        f"--{flag}={path} must end in {suffix} (numpy would append {suffix} "
        "and write another file)")
  blocker = _blocking_ancestor(path)
  if blocker:
    raise errors.InputError(
        f"--{flag}={path} cannot be created: {blocker} is a file, not a "
        "directory")


def check_output_dir(flag, path):
  """`path` is a directory or can be created as one."""
  if os.path.exists(path) and not os.path.isdir(path):
    raise errors.InputError(
        f"--{flag}={path} exists and is not a directory")
  blocker = _blocking_ancestor(os.path.join(path, "x"))
  if blocker:
    raise errors.InputError(
        f"--{flag}={path} cannot be created: {blocker} is a file, not a "
        "directory")
