"""Element-wise bounds whose gradients still let an optimizer move away from the bound.

`tf.maximum(x, bound)` has zero gradient with respect to `x` wherever `x < bound`, so
a parameter stuck below the bound can never recover. The bounds here keep the forward
value of `tf.maximum` / `tf.minimum` but pass the gradient through wherever following
it (by gradient descent) would move the input back towards the allowed region.
"""

import tensorflow as tf

__all__ = ["lower_bound", "upper_bound"]


def _reduce_to_shape(grad, shape):
  """Sums `grad` over the axes that were broadcast to reach it from `shape`."""
  axes, _ = tf.raw_ops.BroadcastGradientArgs(s0=shape, s1=tf.shape(grad))
  return tf.reshape(tf.reduce_sum(grad, axis=axes), shape)


def _bound(inputs, bound, is_lower):
  """Shared implementation of `lower_bound` and `upper_bound`."""

  @tf.custom_gradient
  def bounded(x):
    if is_lower:
      y = tf.maximum(x, bound)
    else:
      y = tf.minimum(x, bound)

    def grad(dy):
      # Gradient descent changes x by -dy: dy < 0 pushes x up, dy > 0 pushes it down.
      if is_lower:
        pass_through = (x >= bound) | (dy < 0)
      else:
        pass_through = (x <= bound) | (dy > 0)
      dx = tf.where(pass_through, dy, tf.zeros_like(dy))
      return _reduce_to_shape(dx, tf.shape(x))

    return y, grad

  return bounded(inputs)


def lower_bound(inputs, bound, name=None):
  """`tf.maximum(inputs, bound)` with a gradient that can pull inputs back up.

  The gradient with respect to `inputs` is the incoming gradient `dy` wherever
  `(inputs >= bound) | (dy < 0)`, i.e. where the input is not clipped, or where a
  gradient descent step (which changes the input by `-dy`) would increase it; it is
  zero elsewhere. `bound` is treated as a constant (no gradient).

  Args:
    inputs: float tensor of any shape.
    bound: scalar or tensor broadcastable with `inputs`; cast to `inputs.dtype`.
    name: optional name scope (default "lower_bound").

  Returns:
    Tensor of dtype `inputs.dtype` and shape `broadcast(inputs, bound)`.
  """
  with tf.name_scope(name or "lower_bound"):
    inputs = tf.convert_to_tensor(inputs)
    bound = tf.cast(bound, inputs.dtype)
    return _bound(inputs, bound, is_lower=True)


def upper_bound(inputs, bound, name=None):
  """`tf.minimum(inputs, bound)` with a gradient that can push inputs back down.

  Mirror of `lower_bound`: the gradient passes where `(inputs <= bound) | (dy > 0)`.

  Args:
    inputs: float tensor of any shape.
    bound: scalar or tensor broadcastable with `inputs`; cast to `inputs.dtype`.
    name: optional name scope (default "upper_bound").

  Returns:
    Tensor of dtype `inputs.dtype` and shape `broadcast(inputs, bound)`.
  """
  with tf.name_scope(name or "upper_bound"):
    inputs = tf.convert_to_tensor(inputs)
    bound = tf.cast(bound, inputs.dtype)
    return _bound(inputs, bound, is_lower=False)
