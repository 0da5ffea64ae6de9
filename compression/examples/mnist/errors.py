"""Errors the command line reports as one line (no TensorFlow import here)."""


class CheckpointError(Exception):
  """No usable checkpoint in the model directory."""


class NotExactError(ValueError):
  """Strings that are not exact encodings of what they decode to."""


class RoundTripError(AssertionError):
  """Decoded latents differ from the rounded encoder latents."""


class InputError(ValueError):
  """A request that cannot be met: index range, counts, lambda list."""
