"""Distortion measures on 8-bit images (what the decoder actually writes).

Reconstructions are clipped to [0, 1] and rounded to 8 bits before any
measurement, so the numbers match the PNG files. Originals are uint8.
"""

import numpy as np

from compression.examples.mnist import data


def per_digit_errors(originals, reconstructions):
  """Per-digit mean absolute and mean squared error, pixels in [0, 1].

  Args:
    originals: uint8 [N, 28, 28].
    reconstructions: float [N, 28, 28] (any range; clipped and rounded to
      8 bits) or uint8 [N, 28, 28].

  Returns:
    (mae, mse): float64 [N] each.
  """
  if np.asarray(reconstructions).dtype != np.uint8:
    reconstructions = data.to_uint8(reconstructions)
  diff = (reconstructions.astype(np.float64) -
          np.asarray(originals, np.float64)) / 255.0
  axes = tuple(range(1, diff.ndim))
  return np.abs(diff).mean(axis=axes), np.square(diff).mean(axis=axes)


def psnr(mse):
  """PSNR in dB with peak 1.0; inf for a zero error."""
  mse = np.asarray(mse, np.float64)
  with np.errstate(divide="ignore"):
    return 10.0 * np.log10(1.0 / mse)


def summarize(mae, mse):
  """Set-level numbers: mean MAE, and PSNR of the mean MSE."""
  return {"mae": float(np.mean(mae)), "mse": float(np.mean(mse)),
          "psnr": float(psnr(np.mean(mse)))}
