"""Initializers for the kernels of `SignalConv*` layers."""

import numpy as np
import tensorflow as tf

__all__ = ["IdentityInitializer"]


class IdentityInitializer:
  """The identity convolution kernel, times `gain`.

  For a kernel of shape `support + (C_in, C_out)` (any number of spatial axes), the
  value is zero but at the kernel's center position (`K // 2` on each axis, the
  center `SignalConv*` uses), where it is `gain * eye(C_in, C_out)`. A `SignalConv*`
  layer with this kernel, no resampling and as many filters as input channels passes
  its input through unchanged (in the `same_*` padding modes, boundaries included).
  (`tf.initializers.identity` only builds matrices, not kernels with support.)
  """

  def __init__(self, gain=1):
    """Initializer.

    Args:
      gain: finite number, the value of the center taps.
    """
    if (isinstance(gain, bool) or not isinstance(gain, (int, float, np.number))
        or not np.isfinite(gain)):
      raise ValueError(f"`gain` must be a finite number, got {gain!r}.")
    self._gain = float(gain)

  @property
  def gain(self):
    return self._gain

  def __call__(self, shape, dtype=tf.float32, partition_info=None):
    """The kernel as a constant tensor of `shape` and `dtype`.

    Args:
      shape: fully known shape `support + (C_in, C_out)` with at least one spatial
        axis.
      dtype: float dtype.
      partition_info: unused (the tf.compat.v1 initializer interface).

    Raises:
      ValueError: `shape` has fewer than 3 axes or unknown sizes.
    """
    del partition_info
    shape = tf.TensorShape(shape)
    if shape.rank is None or shape.rank < 3 or not shape.is_fully_defined():
      raise ValueError("IdentityInitializer needs a fully known kernel shape "
                       f"support + (C_in, C_out) with a spatial axis, got {shape}.")
    dims = shape.as_list()
    kernel = np.zeros(dims, np.float64)
    center = kernel[tuple(k // 2 for k in dims[:-2])]  # a view, [C_in, C_out]
    diagonal = np.arange(min(dims[-2:]))
    center[diagonal, diagonal] = self._gain
    return tf.constant(kernel, dtype=dtype)
