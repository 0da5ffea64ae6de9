"""A minimal graph-mode layer base class (no Keras).

`tf.keras` is Keras 3, which does not build into `tf.compat.v1` graphs, so layers of
this library derive from this small class instead. It handles the bookkeeping only:
building once, one (uniquified) name scope per layer, and lists of variables, losses
and update ops. Variables are plain `tf.Variable`s of the default graph, so they are in
the GLOBAL_VARIABLES collection and `tf.compat.v1.train.Saver()` saves them.

The constructor takes the keywords a 1.x (Keras 2 based) script passes to a layer:
`name`, `trainable`, `activity_regularizer`, and the Keras-only `dynamic` (False
only: the layers build graphs), `autocast`, `input_shape`, `batch_input_shape`,
`batch_size`, `input_dim` (accepted and ignored: they only matter to a Keras
`Sequential` model, and these layers build on their first input). Anything else is
a ValueError naming the keyword. `dtype` is handled by the subclasses.
"""

import re

import tensorflow as tf

__all__ = ["Layer"]

# Keras layer keywords that have no effect on these graph-mode layers.
_IGNORED_KERAS_KEYWORDS = ("autocast", "input_shape", "batch_input_shape", "batch_size",
                           "input_dim")


def _default_name(cls):
  """CamelCase class name -> snake_case layer name."""
  return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class Layer:
  """Graph-mode layer: subclasses implement `_build(input_shape)` and `call(...)`.

  The first `__call__` opens a name scope named after the layer (uniquified by the
  graph, e.g. "entropy_bottleneck_1"), builds the layer once with the static shape of
  the first argument, then runs `call`. Later calls re-enter the same name scope. A
  layer lives in the graph it was built in; using it in another graph is an error.
  `build(input_shape)` may also be called directly (with a tuple, list or
  `tf.TensorShape`); it creates the variables and marks the layer built.

  `trainable=False` creates every variable of the layer outside TRAINABLE_VARIABLES.

  `activity_regularizer`: a callable `f(tensor) -> scalar float tensor`; after each
  `__call__`, for every output tensor `o` (both `outputs` and `likelihoods` of an
  entropy model), `f(o) / batch size` (the size of `o`'s first axis) is added to
  `layer.losses` and to the REGULARIZATION_LOSSES collection
  (`tf.compat.v1.losses.get_regularization_loss()` sums them), as Keras 2 does.
  """

  def __init__(self, name=None, trainable=True, activity_regularizer=None, dynamic=False,
               **kwargs):
    if name is not None and (not isinstance(name, str) or not name):
      raise ValueError(f"`name` must be a non-empty string, got {name!r}.")
    if not isinstance(trainable, bool):
      raise ValueError(f"`trainable` must be a bool, got {trainable!r}.")
    if activity_regularizer is not None and not callable(activity_regularizer):
      raise ValueError("`activity_regularizer` must be None or a callable "
                       f"(tensor -> scalar loss), got {activity_regularizer!r}.")
    if dynamic is not False:
      raise ValueError(f"`dynamic` must be False (graph-mode layer), got {dynamic!r}.")
    for key in kwargs:
      if key not in _IGNORED_KERAS_KEYWORDS:
        raise ValueError(
            f"{type(self).__name__} got an unexpected keyword argument {key!r}.")
    self._activity_regularizer = activity_regularizer
    self._trainable = trainable
    self._name = name or _default_name(type(self))
    self._scope = None  # Absolute name scope, e.g. "entropy_bottleneck/".
    self._graph = None
    self._built = False
    self._variables = []
    self._losses = []
    self._updates = []

  @property
  def name(self):
    """Layer name; once built, the uniquified name of its name scope."""
    return self._name

  @property
  def built(self):
    return self._built

  @property
  def trainable(self):
    """Whether the layer's trainable variables go to TRAINABLE_VARIABLES."""
    return self._trainable

  @property
  def activity_regularizer(self):
    """The callable given to the constructor, or None."""
    return self._activity_regularizer

  @property
  def variables(self):
    """All variables created by the layer, in creation order."""
    return list(self._variables)

  @property
  def trainable_variables(self):
    return [v for v in self._variables if v.trainable]

  @property
  def non_trainable_variables(self):
    return [v for v in self._variables if not v.trainable]

  @property
  def losses(self):
    """Loss tensors registered by the layer with `add_loss`."""
    return list(self._losses)

  @property
  def updates(self):
    """Update ops registered by the layer with `add_update`."""
    return list(self._updates)

  def build(self, input_shape):
    """Creates the variables (once) in the layer's name scope and marks it built.

    Args:
      input_shape: tuple, list or `tf.TensorShape` of the inputs (batch first).
    """
    if self._built:
      return
    input_shape = tf.TensorShape(input_shape)
    with tf.init_scope(), self.name_scope():
      self._build(input_shape)
    self._built = True

  def _build(self, input_shape):
    """Subclasses create their variables here; `input_shape` is a `tf.TensorShape`."""
    del input_shape

  def call(self, inputs, *args, **kwargs):
    raise NotImplementedError

  # Graph-building Python, run as written: a tf-keras layer's `call` is converted by
  # AutoGraph, which would otherwise also convert every library function it reaches
  # (seconds per model, and Python `if`s could become graph conditionals).
  @tf.autograph.experimental.do_not_convert
  def __call__(self, inputs, *args, **kwargs):
    inputs = tf.convert_to_tensor(inputs)
    with self.name_scope():
      self.maybe_build(inputs.shape)
      outputs = self.call(inputs, *args, **kwargs)
      if self._activity_regularizer is not None:
        self._regularize_activity(outputs)
      return outputs

  def _regularize_activity(self, outputs):
    """Adds `activity_regularizer(o) / batch size` for each output tensor `o`."""
    with tf.name_scope("activity_regularizer"):
      for output in tf.nest.flatten(outputs):
        loss = tf.cast(self._activity_regularizer(output), tf.float32)
        batch = tf.cast(tf.shape(output)[0], tf.float32)
        loss /= batch
        self.add_loss(loss)
        tf.compat.v1.add_to_collection(
            tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES, loss)

  def name_scope(self):
    """Context manager for the layer's name scope (created on first use)."""
    graph = _outer_graph()
    if self._graph is not None and graph is not self._graph:
      raise ValueError(
          f"Layer {self.name!r} was built in another graph; create a new layer "
          "for each graph.")
    if self._scope is None:
      return _FirstScope(self)
    return tf.compat.v1.name_scope(self._scope)

  def maybe_build(self, input_shape):
    """Calls `build` (outside control flow and control dependencies) once."""
    self.build(input_shape)

  def add_variable(self, name, initial_value, trainable=True, dtype=None,
                   shape=None):
    """Creates a `tf.Variable` in the layer's name scope and tracks it.

    Args:
      name: variable name (relative to the layer's name scope).
      initial_value: tensor, array or zero-argument callable.
      trainable: whether the variable is in TRAINABLE_VARIABLES.
      dtype: optional dtype.
      shape: optional `tf.TensorShape`; may be less specific than the initial
        value (e.g. `[C, None]`) to allow assigning values of other shapes.

    Returns:
      The `tf.Variable`.
    """
    with tf.init_scope():
      variable = tf.Variable(
          initial_value, name=name, trainable=trainable and self._trainable,
          dtype=dtype,
          shape=shape)
    self._variables.append(variable)
    return variable

  def add_loss(self, loss):
    self._losses.append(loss)

  def add_update(self, update):
    self._updates.append(update)


def _outer_graph():
  """The graph variables go to (outside any tf.cond / tf.while_loop function graph)."""
  with tf.init_scope():
    return tf.compat.v1.get_default_graph()


class _FirstScope:
  """Opens a fresh (graph-uniquified) name scope and records it on the layer."""

  def __init__(self, layer):
    self._layer = layer
    self._context = None

  def __enter__(self):
    # pylint: disable=protected-access
    layer = self._layer
    self._context = tf.compat.v1.name_scope(layer._name)
    scope = self._context.__enter__()
    layer._scope = scope
    layer._graph = _outer_graph()
    layer._name = scope.rstrip("/").split("/")[-1]
    return scope

  def __exit__(self, *exc_info):
    return self._context.__exit__(*exc_info)
