"""Element-wise bounds whose gradient can still let an optimizer move off the bound.

`tf.maximum(x, bound)` has zero gradient with respect to `x` wherever `x < bound`, so
a parameter stuck below the bound can never recover. The bounds here keep the forward
value of `tf.maximum` / `tf.minimum` and let the caller choose the gradient with
respect to the inputs (the `gradient=` argument of the 2018 API):

- `"identity_if_towards"` (default): the incoming gradient passes where the input is
  within the bound, or where following it (by gradient descent) moves the input back
  towards the allowed region; it is zero elsewhere.
- `"identity"`: the incoming gradient passes everywhere (a straight-through bound).
- `"disconnected"`: the gradient of `tf.maximum` / `tf.minimum`, zero where the input
  is clipped (it passes where the input equals the bound).

The bound itself is a constant for the gradient in every mode.
"""

import tensorflow as tf

__all__ = ["lower_bound", "upper_bound", "GRADIENTS"]

# The accepted values of the `gradient` argument.
GRADIENTS = ("identity_if_towards", "identity", "disconnected")


def _check_gradient(gradient):
  """Raises ValueError unless `gradient` is one of GRADIENTS."""
  if not isinstance(gradient, str) or gradient not in GRADIENTS:
    choices = ", ".join(repr(g) for g in GRADIENTS)
    raise ValueError(f"gradient must be one of {choices}, got {gradient!r}.")


def _reduce_to_shape(grad, shape):
  """Sums `grad` over the axes that were broadcast to reach it from `shape`."""
  axes, _ = tf.raw_ops.BroadcastGradientArgs(s0=shape, s1=tf.shape(grad))
  return tf.reshape(tf.reduce_sum(grad, axis=axes), shape)


def _bound(inputs, bound, is_lower, gradient):
  """Shared implementation of `lower_bound` and `upper_bound`."""
  clip = tf.maximum if is_lower else tf.minimum
  if gradient == "disconnected":
    return clip(inputs, tf.stop_gradient(bound))

  @tf.custom_gradient
  def bounded(x):
    y = clip(x, bound)

    def grad(dy):
      if gradient == "identity":
        dx = dy
      else:
        # Gradient descent changes x by -dy: dy < 0 pushes x up, dy > 0 pushes it down.
        if is_lower:
          pass_through = (x >= bound) | (dy < 0)
        else:
          pass_through = (x <= bound) | (dy > 0)
        dx = tf.where(pass_through, dy, tf.zeros_like(dy))
      return _reduce_to_shape(dx, tf.shape(x))

    return y, grad

  return bounded(inputs)


def lower_bound(inputs, bound, gradient="identity_if_towards", name=None):
  """`tf.maximum(inputs, bound)` with a choice of gradient that can pull inputs back up.

  With the default `gradient="identity_if_towards"`, the gradient with respect to
  `inputs` is the incoming gradient `dy` wherever `(inputs >= bound) | (dy < 0)`, i.e.
  where the input is not clipped, or where a gradient descent step (which changes the
  input by `-dy`) would increase it; it is zero elsewhere. `"identity"` passes `dy`
  everywhere; `"disconnected"` is the gradient of `tf.maximum` (zero where
  `inputs < bound`). `bound` is treated as a constant (no gradient).

  Args:
    inputs: float tensor of any shape.
    bound: scalar or tensor broadcastable with `inputs`; cast to `inputs.dtype`.
    gradient: `"identity_if_towards"` (default), `"identity"` or `"disconnected"`.
    name: optional name scope (default "lower_bound").

  Returns:
    Tensor of dtype `inputs.dtype` and shape `broadcast(inputs, bound)`.

  Raises:
    ValueError: `gradient` is not one of the three choices (the message lists them).
  """
  _check_gradient(gradient)
  with tf.name_scope(name or "lower_bound"):
    inputs = tf.convert_to_tensor(inputs)
    bound = tf.cast(bound, inputs.dtype)
    return _bound(inputs, bound, is_lower=True, gradient=gradient)


def upper_bound(inputs, bound, gradient="identity_if_towards", name=None):
  """`tf.minimum(inputs, bound)` with a choice of gradient that can push inputs back down.

  Mirror of `lower_bound`: with `"identity_if_towards"` the gradient passes where
  `(inputs <= bound) | (dy > 0)`; `"identity"` passes it everywhere; `"disconnected"`
  is the gradient of `tf.minimum` (zero where `inputs > bound`).

  Args:
    inputs: float tensor of any shape.
    bound: scalar or tensor broadcastable with `inputs`; cast to `inputs.dtype`.
    gradient: `"identity_if_towards"` (default), `"identity"` or `"disconnected"`.
    name: optional name scope (default "upper_bound").

  Returns:
    Tensor of dtype `inputs.dtype` and shape `broadcast(inputs, bound)`.

  Raises:
    ValueError: `gradient` is not one of the three choices (the message lists them).
  """
  _check_gradient(gradient)
  with tf.name_scope(name or "upper_bound"):
    inputs = tf.convert_to_tensor(inputs)
    bound = tf.cast(bound, inputs.dtype)
    return _bound(inputs, bound, is_lower=False, gradient=gradient)
