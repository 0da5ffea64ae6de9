"""Image quality and rate-distortion comparison measures.

PSNR and MS-SSIM compare two RGB 8-bit images, uint8 [H, W, 3] (what is written to
and read from disk, so the figures match the files). Rates are in bits per pixel.

PSNR    10 log10(255**2 / MSE), the MSE over all pixels and all three channels, in
        float64. Identical images have MSE 0 and PSNR `inf` (float("inf")), which
        averages and sorts as infinity; `bd_rate` refuses it (not finite).

MS-SSIM `tf.image.ssim_multiscale` (Wang, Simoncelli, Bovik 2003) on pixels 0..255
        (max_val 255, Gaussian filter 11 x 11, sigma 1.5), one value per image: the
        channels are measured separately and averaged. Five scales need the
        smallest side to be at least 161 (each scale halves it, rounding up, and the
        fifth, side/16, must still hold an 11-pixel filter). Smaller images use
        fewer scales, as many as fit (`ms_ssim_scales`), with the first power
        factors of the standard five (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
        renormalized to sum to one; the filter stays 11 x 11. A side below 11 is an
        error. Such values are comparable between codecs on the same image but not
        with published five-scale figures. `ms_ssim_db` = -10 log10(1 - MS-SSIM) is
        the usual logarithmic scale for plots and BD-rates.

BD-rate Bjøntegaard's delta rate (VCEG-M33, 2001) with the piecewise cubic Hermite
        interpolation (PCHIP, monotone, no overshoot) of later reference software,
        in place of the original cubic polynomial fit: for each curve, log(rate) as
        a function of quality, through its points sorted by quality; both integrated
        over the interval of qualities covered by both curves (`overlap`); the mean
        log-rate difference d gives (exp(d) - 1) * 100 percent. Negative: the test
        codec needs fewer bits for the same quality. `bd_psnr` swaps the roles: the
        mean quality difference (test - anchor) over the common log-rate interval.
"""

import math

import numpy as np

# The power factors of Wang et al. for five scales, finest first.
MS_SSIM_POWER_FACTORS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
MS_SSIM_FILTER_SIZE = 11
MAX_VALUE = 255.


def _pair(original, reconstruction):
  a = np.asarray(original)
  b = np.asarray(reconstruction)
  if a.dtype != np.uint8 or b.dtype != np.uint8:
    raise ValueError(f"images must be uint8, got {a.dtype} and {b.dtype}")
  if a.shape != b.shape or a.ndim != 3 or a.shape[2] != 3:
    raise ValueError(f"images must both be [H, W, 3], got {a.shape} and {b.shape}")
  return a, b


def mse(original, reconstruction):
  """Mean squared error (float) of two uint8 [H, W, 3] images, pixels 0..255."""
  a, b = _pair(original, reconstruction)
  return float(np.mean(np.square(a.astype(np.float64) - b.astype(np.float64))))


def psnr(original, reconstruction):
  """PSNR in dB (peak 255) of two uint8 [H, W, 3] images; inf if identical."""
  error = mse(original, reconstruction)
  if error == 0.:
    return math.inf
  return 10. * math.log10(MAX_VALUE ** 2 / error)


def ms_ssim_scales(height, width, filter_size=MS_SSIM_FILTER_SIZE):
  """Number of MS-SSIM scales (1..5) an H x W image allows (see the module doc)."""
  side = min(height, width)
  if side < filter_size:
    raise ValueError(f"MS-SSIM needs images of at least {filter_size}x{filter_size} "
                     f"pixels, got {width}x{height}")
  scales = 1
  while scales < len(MS_SSIM_POWER_FACTORS) and -(-side // 2 ** scales) >= filter_size:
    scales += 1
  return scales


def ms_ssim_power_factors(scales):
  """The standard power factors for 5 scales (as published, summing to 1.0001);
  for fewer, the first `scales` of them renormalized to sum to one."""
  if scales == len(MS_SSIM_POWER_FACTORS):
    return MS_SSIM_POWER_FACTORS
  factors = MS_SSIM_POWER_FACTORS[:scales]
  total = sum(factors)
  return tuple(f / total for f in factors)


class _MsSsimGraph:
  """One small graph and session per number of scales, built on first use."""

  def __init__(self):
    self._cache = {}

  def __call__(self, a, b, scales):
    if scales not in self._cache:
      import tensorflow as tf  # pylint: disable=g-import-not-at-top
      v1 = tf.compat.v1
      graph = tf.Graph()
      with graph.as_default():
        x = v1.placeholder(tf.float32, [None, None, 3])
        y = v1.placeholder(tf.float32, [None, None, 3])
        value = tf.image.ssim_multiscale(
            x, y, MAX_VALUE, power_factors=ms_ssim_power_factors(scales),
            filter_size=MS_SSIM_FILTER_SIZE)
      graph.finalize()
      self._cache[scales] = (v1.Session(graph=graph), x, y, value)
    session, x, y, value = self._cache[scales]
    return float(session.run(value, {x: a, y: b}))


_MS_SSIM = _MsSsimGraph()


def ms_ssim(original, reconstruction):
  """MS-SSIM (float, at most 1) of two uint8 [H, W, 3] images; 1 if identical.

  Computed in float32; float32 rounding can exceed 1 by an ulp, clipped to 1.
  """
  a, b = _pair(original, reconstruction)
  scales = ms_ssim_scales(*a.shape[:2])
  return min(_MS_SSIM(a.astype(np.float32), b.astype(np.float32), scales), 1.)


def ms_ssim_db(value):
  """MS-SSIM on a log scale: -10 log10(1 - value), dB; inf for 1."""
  if value >= 1.:
    return math.inf
  return -10. * math.log10(1. - value)


# -- Bjøntegaard deltas. ----------------------------------------------------------


def _curve(rate, quality, name):
  """(quality, log rate) float64 arrays sorted by quality, checked."""
  rate = np.asarray(rate, np.float64).ravel()
  quality = np.asarray(quality, np.float64).ravel()
  if rate.size != quality.size:
    raise ValueError(f"{name}: {rate.size} rates but {quality.size} qualities")
  if rate.size < 2:
    raise ValueError(f"{name}: a BD measure needs at least 2 points, got {rate.size}")
  if not (np.all(np.isfinite(rate)) and np.all(rate > 0)):
    raise ValueError(f"{name}: rates must be positive and finite, got {rate.tolist()}")
  if not np.all(np.isfinite(quality)):
    raise ValueError(f"{name}: qualities must be finite, got {quality.tolist()}")
  order = np.argsort(quality, kind="stable")
  quality = quality[order]
  if np.any(np.diff(quality) == 0):
    raise ValueError(f"{name}: two points have the same quality "
                     f"{quality[np.argmax(np.diff(quality) == 0)]:g}")
  return quality, np.log(rate[order])


def overlap(values_a, values_b):
  """(low, high) of the interval covered by both sets of values, or None."""
  low = max(np.min(values_a), np.min(values_b))
  high = min(np.max(values_a), np.max(values_b))
  if not high > low:
    return None
  return float(low), float(high)


def _mean_difference(x_anchor, y_anchor, x_test, y_test, what):
  """Mean of y_test(x) - y_anchor(x) over the common x interval (PCHIP)."""
  from scipy import interpolate  # pylint: disable=g-import-not-at-top
  interval = overlap(x_anchor, x_test)
  if interval is None:
    raise ValueError(
        f"no overlap: anchor {what} {np.min(x_anchor):.4g}..{np.max(x_anchor):.4g}, "
        f"test {np.min(x_test):.4g}..{np.max(x_test):.4g}")
  low, high = interval
  anchor = interpolate.PchipInterpolator(x_anchor, y_anchor).integrate(low, high)
  test = interpolate.PchipInterpolator(x_test, y_test).integrate(low, high)
  return float((test - anchor) / (high - low))


def bd_rate(rate_anchor, quality_anchor, rate_test, quality_test):
  """Bjøntegaard delta rate in percent (negative: the test codec saves bits).

  Args: four 1-D sequences (at least 2 points per curve, in any order): rates
  (positive, e.g. bits per pixel) and qualities (finite, higher is better, e.g.
  PSNR in dB) of the anchor and of the test codec.
  Raises ValueError for too few points, equal qualities within a curve, or quality
  ranges that do not overlap.
  """
  q_anchor, log_anchor = _curve(rate_anchor, quality_anchor, "anchor")
  q_test, log_test = _curve(rate_test, quality_test, "test")
  return 100. * math.expm1(
      _mean_difference(q_anchor, log_anchor, q_test, log_test, "quality"))


def bd_psnr(rate_anchor, quality_anchor, rate_test, quality_test):
  """Bjøntegaard delta quality (test - anchor, in the quality's unit, e.g. dB) at
  equal rate: quality as a function of log rate, over the common log-rate range."""
  q_anchor, log_anchor = _curve(rate_anchor, quality_anchor, "anchor")
  q_test, log_test = _curve(rate_test, quality_test, "test")
  # As functions of log rate: points sorted by rate (checked distinct).
  anchor = np.argsort(log_anchor, kind="stable")
  test = np.argsort(log_test, kind="stable")
  for name, logs in (("anchor", log_anchor[anchor]), ("test", log_test[test])):
    if np.any(np.diff(logs) == 0):
      raise ValueError(f"{name}: two points have the same rate")
  return _mean_difference(log_anchor[anchor], q_anchor[anchor], log_test[test],
                          q_test[test], "log rate")
