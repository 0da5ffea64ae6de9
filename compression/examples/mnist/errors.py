"""Errors the command line reports as one line (no TensorFlow import here).

`InputError`, `MissingDependencyError` and `require` are the examples' shared
ones (compression/examples/common/errors.py), named here too so that
`errors.InputError` keeps working in the MNIST modules.
"""

from compression.examples.common.errors import InputError  # pylint: disable=unused-import
from compression.examples.common.errors import MissingDependencyError  # pylint: disable=unused-import
from compression.examples.common.errors import require  # pylint: disable=unused-import


class CheckpointError(Exception):
  """No usable checkpoint in the model directory."""


class NotExactError(ValueError):
  """Strings that are not exact encodings of what they decode to."""


class RoundTripError(AssertionError):
  """Decoded latents differ from the rounded encoder latents."""
