"""Parameterizers: how a layer stores a parameter in a variable (the 1.3 API).

A layer asks a parameterizer for each of its parameters (a convolution kernel, a bias,
GDN's beta and gamma) instead of creating a variable itself:

    value = parameterizer(getter, name="kernel", shape=(5, 5, 3, 8),
                          dtype=tf.float32, initializer=init, regularizer=None)

`getter(name=, shape=, dtype=, initializer=, regularizer=)` creates a variable (the
layers of this library pass one that makes a `tf.Variable` in their name scope, see
`layer_getter`; `tf.compat.v1.get_variable` has the same keywords). The parameterizer
may create a variable of another shape or meaning, and returns a tensor of `shape`:
the parameter's value, a function of the variable. It wraps `initializer` so that the
returned value starts at the initializer's value, and `regularizer` so that it sees the
value, not the variable.

- `StaticParameterizer(value)`: no variable; the parameter is a constant (or a tensor
  computed elsewhere).
- `RDFTParameterizer(dc=True)`: a convolution kernel stored as the coefficients of its
  real discrete Fourier transform over the spatial axes (`irdft_matrix`); gradient
  descent then moves frequencies instead of taps, which speeds up the training of
  large kernels. `dc=False` leaves out the constant (DC) component: highpass kernels.
- `NonnegativeParameterizer(minimum=0, reparam_offset=2**-18)`: a parameter kept
  `>= minimum` through a bounded square (GDN's beta and gamma):
  `value = lower_bound(p, sqrt(minimum + pedestal))**2 - pedestal` with
  `pedestal = reparam_offset**2`, stored variable `p` named `"reparam_" + name`,
  initialised to `sqrt(max(value, minimum) + pedestal)`.

Initial values: when the initializer returns a NumPy array or a constant tensor, the
stored variable's initial value is computed in float64 NumPy and then cast, so it does
not depend on the machine; otherwise (a random initializer) in TensorFlow.
"""

import numbers

import numpy as np
import tensorflow as tf

from compression.python.ops import math_ops

__all__ = [
    "Parameterizer",
    "StaticParameterizer",
    "RDFTParameterizer",
    "NonnegativeParameterizer",
    "irdft_matrix",
    "layer_getter",
    "make_parameter",
    "check_float_dtype",
]


def _is_real(value):
  return (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and np.isfinite(value))


def _shape_tuple(shape, what):
  """`shape` as a tuple of ints >= 1, or a ValueError naming `what`."""
  try:
    dims = tuple(tf.TensorShape(shape).as_list())
  except (TypeError, ValueError):
    dims = None
  if dims is None or any(d is None or d < 1 for d in dims):
    raise ValueError(f"{what} must be a fully known shape of sizes >= 1, got {shape!r}.")
  return dims


def check_float_dtype(dtype):
  """`dtype` as a floating `tf.DType`, or a ValueError naming the value."""
  try:
    as_dtype = tf.as_dtype(dtype)
  except TypeError:
    as_dtype = None
  if as_dtype is None or not as_dtype.is_floating:
    raise ValueError(f"`dtype` must be a floating point dtype, got {dtype!r}.")
  return as_dtype


def _static_array(value):
  """`value` as a float64 NumPy array when it is known without running a graph."""
  if isinstance(value, (tf.Tensor, tf.Variable)):
    value = tf.get_static_value(value)
    if value is None:
      return None
  return np.asarray(value, np.float64)


def _initial_value(initializer, shape, dtype):
  if initializer is None or not callable(initializer):
    raise ValueError(f"initializer must be a callable (shape, dtype) -> value, got "
                     f"{initializer!r}.")
  return initializer(shape, dtype=dtype)


def _wrap_initializer(initializer, shape, numpy_fn, tensor_fn):
  """An initializer of the stored variable from `initializer` of the parameter.

  The parameter (of `shape`) starts at `initializer(shape, dtype)`; `numpy_fn(float64
  array)` maps a constant initial value to the variable's, `tensor_fn(tensor)` the
  others (random initializers).
  """

  def reparam_initializer(variable_shape, dtype=tf.float32, partition_info=None):
    del variable_shape, partition_info  # the variable's; tf.compat.v1 interface
    dtype = tf.as_dtype(dtype)
    value = _initial_value(initializer, shape, dtype)
    array = _static_array(value)
    if array is not None:
      return numpy_fn(array).astype(dtype.as_numpy_dtype)
    return tf.cast(tensor_fn(tf.cast(value, dtype)), dtype)

  return reparam_initializer


def _wrap_regularizer(regularizer, value_fn):
  if regularizer is None:
    return None
  return lambda variable: regularizer(value_fn(variable))


class Parameterizer:
  """Base of the parameterizers (abstract).

  Subclasses implement `__call__(getter, name, shape, dtype, initializer,
  regularizer=None)` and return the parameter's value, a tensor of `shape` and
  `dtype`. Parameterizers hold no state besides their constructor arguments, so one
  object may serve many layers.
  """

  def __call__(self, getter, name, shape, dtype, initializer, regularizer=None):
    raise NotImplementedError(f"{type(self).__name__} does not implement __call__.")


class StaticParameterizer(Parameterizer):
  """A parameter that is no variable: a constant, or a tensor computed elsewhere.

  `getter`, `initializer` and `regularizer` are ignored (nothing is trained).
  """

  def __init__(self, value):
    """Initializer.

    Args:
      value: array-like or tensor, or a callable `value(shape, dtype)` returning one
        (an initializer, say). Its shape must be the parameter's shape.
    """
    self._value = value

  @property
  def value(self):
    return self._value

  def __call__(self, getter, name, shape, dtype, initializer, regularizer=None):
    del getter, initializer, regularizer
    value = self._value(shape, dtype) if callable(self._value) else self._value
    tensor = tf.convert_to_tensor(value, dtype=dtype, name=name)
    if not tensor.shape.is_compatible_with(shape):
      raise ValueError(f"StaticParameterizer for {name!r}: the value has shape "
                       f"{tensor.shape}, the parameter needs {tf.TensorShape(shape)}.")
    return tensor


def _irdft_basis(shape):
  """Orthonormal real Fourier basis of signals of `shape`, float64 [prod, prod].

  Column j is a basis signal flattened in C order; the columns are the real and
  imaginary parts of the frequencies of `numpy.fft.rfftn` order (the last axis
  halved), one column for a frequency that is its own conjugate (every component 0
  or half its axis), two (cosine, sine) for the others, one of each conjugate pair.
  Column 0 is the constant (DC) signal.
  """
  size = int(np.prod(shape))
  positions = np.indices(shape).reshape(len(shape), size).T  # [size, rank]
  half = tuple(shape[:-1]) + (shape[-1] // 2 + 1,)
  columns, taken = [], set()
  for frequency in np.ndindex(*half):
    conjugate = tuple((-k) % n for k, n in zip(frequency, shape))
    if conjugate in taken:
      continue
    taken.add(frequency)
    phase = 2 * np.pi * positions @ (np.array(frequency) / np.array(shape))
    if conjugate == frequency:
      columns.append(np.cos(phase) / np.sqrt(size))
    else:
      columns.append(np.cos(phase) * np.sqrt(2. / size))
      columns.append(np.sin(phase) * np.sqrt(2. / size))
  assert len(columns) == size, (shape, len(columns))
  return np.stack(columns, axis=1)


def irdft_matrix(shape, dtype=tf.float32):
  """The matrix that maps real DFT coefficients of a kernel to the kernel.

  For a kernel `k` of spatial shape `shape` (any rank), flattened in C order, and its
  coefficient vector `c`: `k = irdft_matrix(shape) @ c`. The matrix is orthogonal
  (`M.T @ M = I`), so `c = M.T @ k`; its columns are the real Fourier basis signals,
  the constant one first (see `RDFTParameterizer`). Unlike `numpy.fft.irfftn`, every
  column has unit norm, so all coefficients have the same scale.

  Args:
    shape: iterable of ints >= 1, the kernel's spatial shape.
    dtype: float dtype of the result.

  Returns:
    Constant tensor `[prod(shape), prod(shape)]` of `dtype`.
  """
  shape = _shape_tuple(shape, "irdft_matrix: shape")
  if not shape:
    raise ValueError("irdft_matrix: shape must have at least one axis, got ().")
  return tf.constant(_irdft_basis(shape), dtype=dtype)


class RDFTParameterizer(Parameterizer):
  """A convolution kernel stored as its real DFT coefficients (spatial axes).

  For a kernel of shape `support + (C_in, C_out)` the variable, named `name +
  "_rdft"`, has shape `[S, C_in * C_out]` with `S = prod(support)` (`S - 1` with
  `dc=False`), and `kernel = reshape(irdft_matrix(support) @ variable, shape)`. The map
  is orthogonal, so the initial kernel is exactly the initializer's value (its
  constant component removed with `dc=False`) and an L2 regularizer sees the same
  norm. A kernel of support 1 (a 1x1 convolution) has nothing to transform: it gets a
  plain variable named `name`.
  """

  def __init__(self, dc=True):
    """Initializer.

    Args:
      dc: bool. False leaves the constant (DC) coefficient out, so every kernel sums
        to zero over its support (a highpass filter).
    """
    if not isinstance(dc, bool):
      raise ValueError(f"`dc` must be a bool, got {dc!r}.")
    self._dc = dc

  @property
  def dc(self):
    return self._dc

  def __call__(self, getter, name, shape, dtype, initializer, regularizer=None):
    shape = _shape_tuple(shape, f"RDFTParameterizer for {name!r}: the kernel shape")
    if len(shape) < 3:
      raise ValueError(
          f"RDFTParameterizer for {name!r}: a kernel has shape support + (C_in, C_out) "
          f"with at least one spatial axis, got {shape}.")
    support, channels = shape[:-2], shape[-2] * shape[-1]
    size = int(np.prod(support))
    if size == 1:
      if not self._dc:
        raise ValueError(f"RDFTParameterizer(dc=False) for {name!r}: a kernel of "
                         f"support {support} has only the DC coefficient.")
      return getter(name=name, shape=shape, dtype=dtype, initializer=initializer,
                    regularizer=regularizer)
    matrix = _irdft_basis(support)
    if not self._dc:
      matrix = matrix[:, 1:]
    dtype = tf.as_dtype(dtype)
    constant = tf.constant(matrix, dtype=dtype)

    def to_kernel(variable):
      return tf.reshape(tf.linalg.matmul(constant, variable), shape)

    def to_coefficients(kernel):
      return tf.linalg.matmul(constant, tf.reshape(kernel, (size, channels)),
                              transpose_a=True)

    variable = getter(
        name=name + "_rdft", shape=(matrix.shape[1], channels), dtype=dtype,
        initializer=_wrap_initializer(
            initializer, shape, lambda k: matrix.T @ k.reshape(size, channels),
            to_coefficients),
        regularizer=_wrap_regularizer(regularizer, to_kernel))
    return tf.identity(to_kernel(variable), name=name)


class NonnegativeParameterizer(Parameterizer):
  """A parameter kept `>= minimum` by a bounded square (GDN's beta and gamma).

  The variable `p`, named `"reparam_" + name`, stores `sqrt(value + pedestal)` and
  the parameter is `lower_bound(p, sqrt(minimum + pedestal))**2 - pedestal`, with
  `pedestal = reparam_offset**2`. Near zero a gradient step on `p` moves the value by
  about `2 p dp`, which slows down small values (small denominators would make the
  GDN output noisy); the pedestal keeps the gradient at `p` nonzero for a value of
  exactly 0. `lower_bound`'s gradient lets a `p` below the bound come back up.
  """

  def __init__(self, minimum=0, reparam_offset=2 ** -18):
    """Initializer.

    Args:
      minimum: float >= 0, the least value of the parameter.
      reparam_offset: float > 0; its square is the pedestal.
    """
    if not _is_real(minimum) or minimum < 0:
      raise ValueError(f"`minimum` must be a finite number >= 0, got {minimum!r}.")
    if not _is_real(reparam_offset) or reparam_offset <= 0:
      raise ValueError(
          f"`reparam_offset` must be a finite number > 0, got {reparam_offset!r}.")
    self._minimum = float(minimum)
    self._reparam_offset = float(reparam_offset)

  @property
  def minimum(self):
    return self._minimum

  @property
  def reparam_offset(self):
    return self._reparam_offset

  @property
  def pedestal(self):
    """`reparam_offset**2`."""
    return self._reparam_offset ** 2

  def stored_value(self, value, dtype=np.float32):
    """The variable's value that represents parameter `value` (NumPy).

    Args:
      value: array-like of parameter values (raised to `minimum` where below).
      dtype: NumPy dtype of the result.

    Returns:
      `sqrt(max(value, minimum) + pedestal)`, computed in float64, as `dtype`.
    """
    value = np.maximum(np.asarray(value, np.float64), self._minimum)
    return np.sqrt(value + self.pedestal).astype(dtype)

  def __call__(self, getter, name, shape, dtype, initializer, regularizer=None):
    pedestal = self.pedestal
    bound = np.sqrt(self._minimum + pedestal)

    def to_value(variable):
      bounded = math_ops.lower_bound(variable, bound, name=f"{name}_bound")
      return tf.subtract(tf.square(bounded), pedestal, name=name)

    variable = getter(
        name="reparam_" + name, shape=shape, dtype=dtype,
        initializer=_wrap_initializer(
            initializer, shape, lambda v: self.stored_value(v, np.float64),
            lambda v: tf.sqrt(tf.maximum(v, self._minimum) + pedestal)),
        regularizer=_wrap_regularizer(regularizer, to_value))
    return to_value(variable)


def make_parameter(parameterizer, getter, name, shape, dtype, initializer,
                   regularizer=None):
  """`parameterizer(getter, ...)`, or with `parameterizer=None` the plain variable
  `getter(name=name, ...)` (how the layers read a `*_parameterizer` argument)."""
  if parameterizer is None:
    return getter(name=name, shape=shape, dtype=dtype, initializer=initializer,
                  regularizer=regularizer)
  return parameterizer(getter, name=name, shape=shape, dtype=dtype,
                       initializer=initializer, regularizer=regularizer)


def layer_getter(layer):
  """A `getter` for parameterizers that creates variables of `layer` (a base.Layer).

  The variable is a `tf.Variable` named `name` in the layer's name scope, with the
  initializer's value for `shape` and `dtype`. A regularizer's loss
  `regularizer(variable)` goes to `layer.losses` and to the REGULARIZATION_LOSSES
  collection (`tf.compat.v1.losses.get_regularization_loss()` sums it).

  Args:
    layer: a `compression.python.layers.base.Layer` being built.

  Returns:
    `getter(name, shape, dtype, initializer, regularizer=None)` -> `tf.Variable`.
  """

  def getter(name, shape, dtype, initializer, regularizer=None):
    shape = tuple(shape)
    dtype = tf.as_dtype(dtype)
    variable = layer.add_variable(
        name, lambda: _initial_value(initializer, shape, dtype), dtype=dtype)
    if not variable.shape.is_compatible_with(shape):
      raise ValueError(f"{layer.name}: the initializer of {name!r} gave shape "
                       f"{variable.shape}, the variable needs {tf.TensorShape(shape)}.")
    if regularizer is not None:
      if not callable(regularizer):
        raise ValueError(f"{layer.name}: the regularizer of {name!r} must be a "
                         f"callable (tensor -> scalar loss), got {regularizer!r}.")
      loss = regularizer(variable)
      layer.add_loss(loss)
      tf.compat.v1.add_to_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, loss)
    return variable

  return getter
