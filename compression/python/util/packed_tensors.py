"""PackedTensors: several integer and string tensor values in one byte string.

The file format of TensorFlow Compression 1.2+'s example scripts: `compress` runs
its graph, packs the values of some tensors (the range-coded strings, the image and
latent shapes) and writes `packed.string` to a file; `decompress` reads it with
`PackedTensors(string)` and unpacks the values for placeholders of its own graph, in
the same order:

    packed = PackedTensors()
    packed.pack([strings, x_shape], sess.run([strings, x_shape]))
    open(path, "wb").write(packed.string)
    ...
    arrays = PackedTensors(open(path, "rb").read()).unpack([string_ph, shape_ph])
    sess.run(x_hat, feed_dict=dict(zip([string_ph, shape_ph], arrays)))

Values are matched by position, not by tensor name (the two graphs name their tensors
differently). Each value is an integer array (any NumPy integer dtype) or a string
array (bytes), of any shape (TensorFlow Compression 1.3 takes vectors only). An
optional `model` identifier (text) travels along.

Format (version 1), every count an unsigned LEB128 varint (7 bits a byte, least
significant first, at most 10 bytes):

    "PKT" 0x01                    magic and version
    model length, model bytes     UTF-8, length 0 for none
    number of values
    per value: kind (0 integers, 1 strings), rank, the sizes, then the elements:
      integers as zigzag varints (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...), any value
      in [-2**63, 2**64); strings as length and bytes
    CRC-32 (zlib) of all the bytes above, 4 bytes big-endian

A string that is truncated, damaged (CRC), foreign (magic), of another version, or
has bytes after the CRC is a ValueError that says which; parsing allocates nothing
beyond what the string's own length allows.
"""

import numbers
import struct
import zlib

import numpy as np

__all__ = ["PackedTensors"]

MAGIC = b"PKT"
VERSION = 1
_INTEGERS, _STRINGS = 0, 1
_MAX_VARINT_BYTES = 10
_MAX_RANK = 254
_UINT64_END = 1 << 64
_INT64_START = -(1 << 63)


def _varint(value):
  """Unsigned LEB128 bytes of the int `value` >= 0."""
  out = bytearray()
  while True:
    byte = value & 0x7f
    value >>= 7
    if value:
      out.append(byte | 0x80)
    else:
      out.append(byte)
      return bytes(out)


def _zigzag(value):
  return 2 * value if value >= 0 else -2 * value - 1


def _unzigzag(value):
  return value >> 1 if not value & 1 else -((value + 1) >> 1)


class _Reader:
  """Reads the fields of a packed string, with one-line errors."""

  def __init__(self, data):
    self._data = data
    self._pos = 0

  @property
  def left(self):
    return len(self._data) - self._pos

  def varint(self, what):
    value, shift = 0, 0
    for i in range(_MAX_VARINT_BYTES):
      if self._pos >= len(self._data):
        raise ValueError(f"PackedTensors: the string ends inside {what} (truncated).")
      byte = self._data[self._pos]
      self._pos += 1
      value |= (byte & 0x7f) << shift
      shift += 7
      if not byte & 0x80:
        if byte == 0 and i > 0:
          raise ValueError(f"PackedTensors: {what} is not a minimal varint (damaged).")
        return value
    raise ValueError(f"PackedTensors: {what} is a varint of more than "
                     f"{_MAX_VARINT_BYTES} bytes (damaged).")

  def count(self, what, each=1):
    """A count of items that take at least `each` bytes each, checked against the rest."""
    value = self.varint(what)
    if value * each > self.left:
      raise ValueError(f"PackedTensors: {what} is {value}, more than the {self.left} "
                       "bytes left can hold (truncated or damaged).")
    return value

  def take(self, size, what):
    if size > self.left:
      raise ValueError(f"PackedTensors: the string ends inside {what} (truncated).")
    chunk = self._data[self._pos:self._pos + size]
    self._pos += size
    return chunk


def _as_array(value):
  """`value` as a NumPy array, bytes kept as objects (NumPy's fixed-width "S" arrays
  drop trailing zero bytes)."""
  if isinstance(value, np.ndarray):
    return value
  array = np.asarray(value)
  if array.dtype.kind == "S":
    array = np.array(value, dtype=object)
  return array


class PackedTensors:
  """Values of integer and string tensors packed into one byte string.

  Attributes:
    string: bytes, the packed representation (assign bytes to parse them).
    model: str or None, a model identifier stored with the values; `del
      packed.model` removes it (as TensorFlow Compression 1.3 does), like
      assigning None.

  Methods: `pack(tensors, arrays)`, `unpack(tensors)`, and `len()`: the number of
  values.
  """

  def __init__(self, string=None):
    """Initializer.

    Args:
      string: None for an empty object, or bytes written by `string` (parsed now).

    Raises:
      ValueError: `string` is not a valid packed string (one line saying why).
    """
    self._model = None
    self._values = []
    if string is not None:
      self.string = string

  @property
  def model(self):
    """The model identifier (str), or None if there is none."""
    return self._model

  @model.setter
  def model(self, value):
    if isinstance(value, bytes):
      try:
        value = value.decode("utf-8")
      except UnicodeDecodeError as e:
        raise ValueError(f"PackedTensors: model must be UTF-8 text, got {value!r}.") from e
    if value is not None and not isinstance(value, str):
      raise ValueError(f"PackedTensors: model must be a str, bytes or None, got "
                       f"{value!r}.")
    self._model = value or None

  @model.deleter
  def model(self):
    """Removes the model identifier (`model` is None afterwards; no error if there
    is none)."""
    self._model = None

  @property
  def string(self):
    """The packed values and model identifier as bytes (see the module docstring)."""
    model = (self._model or "").encode("utf-8")
    parts = [MAGIC, bytes([VERSION]), _varint(len(model)), model,
             _varint(len(self._values))]
    for kind, shape, elements in self._values:
      parts += [bytes([kind]), _varint(len(shape))] + [_varint(d) for d in shape]
      if kind == _INTEGERS:
        parts += [_varint(_zigzag(v)) for v in elements]
      else:
        for element in elements:
          parts += [_varint(len(element)), element]
    body = b"".join(parts)
    return body + struct.pack(">I", zlib.crc32(body))

  @string.setter
  def string(self, value):
    if not isinstance(value, (bytes, bytearray, memoryview)):
      raise ValueError(f"PackedTensors: the string must be bytes, got "
                       f"{type(value).__name__}.")
    value = bytes(value)
    if len(value) < len(MAGIC) + 1 or value[:len(MAGIC)] != MAGIC:
      raise ValueError("PackedTensors: not a packed string (it does not start with "
                       f"{MAGIC!r}).")
    if value[len(MAGIC)] != VERSION:
      raise ValueError(f"PackedTensors: format version {value[len(MAGIC)]}, this "
                       f"library reads version {VERSION}.")
    if len(value) < len(MAGIC) + 5:
      raise ValueError("PackedTensors: the string is too short for its CRC "
                       "(truncated).")
    body, (crc,) = value[:-4], struct.unpack(">I", value[-4:])
    if zlib.crc32(body) != crc:
      raise ValueError("PackedTensors: CRC-32 mismatch: the string is truncated or "
                       "damaged.")
    reader = _Reader(body)
    reader.take(len(MAGIC) + 1, "the header")
    model = reader.take(reader.count("the model length"), "the model")
    values = []
    for i in range(reader.count("the number of values", each=2)):
      kind = reader.take(1, f"value {i}")[0]
      if kind not in (_INTEGERS, _STRINGS):
        raise ValueError(f"PackedTensors: value {i} has kind {kind}, neither integers "
                         "(0) nor strings (1) (damaged).")
      rank = reader.varint(f"the rank of value {i}")
      if rank > _MAX_RANK:
        raise ValueError(f"PackedTensors: value {i} has rank {rank} (damaged).")
      shape = tuple(reader.varint(f"a size of value {i}") for _ in range(rank))
      size = int(np.prod(shape, dtype=object)) if shape else 1
      if size > reader.left:  # every element takes at least one byte
        raise ValueError(f"PackedTensors: value {i} of shape {shape} has more elements "
                         f"than the {reader.left} bytes left can hold (damaged).")
      if kind == _INTEGERS:
        elements = [_unzigzag(reader.varint(f"an element of value {i}"))
                    for _ in range(size)]
      else:
        elements = [reader.take(reader.count(f"a string length of value {i}"),
                                f"a string of value {i}") for _ in range(size)]
      values.append((kind, shape, elements))
    if reader.left:
      raise ValueError(f"PackedTensors: {reader.left} bytes after the last value "
                       "(damaged).")
    try:
      self.model = model
    except ValueError as e:
      raise ValueError("PackedTensors: the model identifier is not UTF-8 "
                       "(damaged).") from e
    self._values = values

  def __len__(self):
    return len(self._values)

  def pack(self, tensors, arrays):
    """Packs `arrays`, the values of `tensors`, replacing what the object held.

    Args:
      tensors: a list of tensors (or None), one per array; a tensor's dtype must
        match its array's kind (integer or string). Only used for checking.
      arrays: a list of integer or string arrays (NumPy arrays, lists, bytes, ...),
        e.g. the result of `sess.run(tensors)`.

    Raises:
      ValueError: the lists differ in length, or an array is neither integer nor
        string, disagrees with its tensor, or has integers outside [-2**63, 2**64).
    """
    tensors, arrays = list(tensors), list(arrays)
    if len(tensors) != len(arrays):
      raise ValueError(f"PackedTensors.pack: {len(tensors)} tensors but {len(arrays)} "
                       "arrays; pass one array per tensor.")
    values = []
    for i, (tensor, array) in enumerate(zip(tensors, arrays)):
      array = _as_array(array)
      if array.dtype.kind in "iu" or (array.dtype.kind == "O" and array.size and all(
          isinstance(v, numbers.Integral) and not isinstance(v, bool)
          for v in array.ravel())):  # Python ints too large for a NumPy dtype
        kind = _INTEGERS
        elements = [int(v) for v in array.ravel()]
      elif array.dtype.kind in "SO":
        kind = _STRINGS
        elements = [bytes(v) if isinstance(v, (bytes, bytearray, np.bytes_)) else None
                    for v in array.ravel()]
        if any(e is None for e in elements):
          raise ValueError(f"PackedTensors.pack: array {i} holds objects that are not "
                           "bytes; string values must be bytes.")
      else:
        raise ValueError(f"PackedTensors.pack: array {i} has dtype {array.dtype}; only "
                         "integer and string (bytes) values can be packed.")
      tensor_dtype = getattr(tensor, "dtype", None)
      if tensor_dtype is not None:
        is_string = getattr(tensor_dtype, "name", "") == "string"
        if is_string != (kind == _STRINGS) or (
            not is_string and not getattr(tensor_dtype, "is_integer", False)):
          raise ValueError(f"PackedTensors.pack: array {i} ({array.dtype}) does not "
                           f"match its tensor's dtype {tensor_dtype.name}.")
      if kind == _INTEGERS and elements and not (
          _INT64_START <= min(elements) and max(elements) < _UINT64_END):
        raise ValueError(f"PackedTensors.pack: array {i} has integers outside "
                         "[-2**63, 2**64).")
      values.append((kind, array.shape, elements))
    self._values = values

  def unpack(self, tensors):
    """The packed values as NumPy arrays, one per tensor, in order.

    Args:
      tensors: a list of tensors (placeholders, say), as many as were packed; each
        value is returned with its tensor's dtype (bytes objects for `tf.string`)
        and checked against its tensor's static shape.

    Returns:
      A list of NumPy arrays, ready for `feed_dict=dict(zip(tensors, arrays))`.

    Raises:
      ValueError: another number of tensors than of values, a string value for an
        integer tensor (or the reverse), an integer outside the tensor dtype's range,
        or a shape the tensor cannot take.
    """
    tensors = list(tensors)
    if len(tensors) != len(self._values):
      raise ValueError(f"PackedTensors.unpack: {len(tensors)} tensors, but the string "
                       f"holds {len(self._values)} values.")
    arrays = []
    for i, (tensor, (kind, shape, elements)) in enumerate(zip(tensors, self._values)):
      dtype = tensor.dtype
      if dtype.name == "string":
        if kind != _STRINGS:
          raise ValueError(f"PackedTensors.unpack: value {i} holds integers, tensor "
                           f"{tensor.name} is a string tensor.")
        array = np.empty(len(elements), dtype=object)
        array[:] = elements
        array = array.reshape(shape)
      else:
        if kind != _INTEGERS or not dtype.is_integer:
          raise ValueError(f"PackedTensors.unpack: value {i} holds "
                           f"{'strings' if kind == _STRINGS else 'integers'}, tensor "
                           f"{tensor.name} has dtype {dtype.name}.")
        if elements and (min(elements) < dtype.min or max(elements) > dtype.max):
          raise ValueError(f"PackedTensors.unpack: value {i} has integers in "
                           f"[{min(elements)}, {max(elements)}], outside the range of "
                           f"{dtype.name} (tensor {tensor.name}).")
        array = np.array(elements, dtype=dtype.as_numpy_dtype).reshape(shape)
      if not tensor.shape.is_compatible_with(shape):
        raise ValueError(f"PackedTensors.unpack: value {i} has shape {shape}, tensor "
                         f"{tensor.name} has shape {tensor.shape}.")
      arrays.append(array)
    return arrays
