"""The MNIST side of compression/python/beam.py: codecs and record formats.

`DigitEncoder`: value = uint8 [28, 28] digit or the path of a 28x28
grayscale PNG -> result (string bytes, fingerprint int64): one range-coded
string per digit, exactly what `compress --per_digit_strings` stores.

`DigitDecoder`: value = a serialized compressed record (below) -> result
uint8 [28, 28], the decoded digit as `decompress` writes it to PNG.

Compressed record, a `tf.train.Example` (one per digit):

    key           bytes      the digit's key (e.g. "test_00042", or a PNG's
                             path relative to the input glob, without .png)
    string        bytes      the range-coded string of that one digit
    latent_shape  int64 [1]  [latent_dims]
    fingerprint   int64 [1]  the model fingerprint, as in .mnz v2
                             (compression/examples/common/fingerprint.py)

Decoded record (`beam_decompress --output_format=tfrecord`):

    key    bytes      the key
    image  bytes      784 bytes, uint8 pixels row by row
    shape  int64 [2]  [28, 28]

TensorFlow is imported inside the functions: pickling a codec to a worker
does not need it, loading one does.
"""

import os
import tempfile

import numpy as np

from compression.examples import inputs
from compression.examples.mnist import data
from compression.examples.mnist import errors
from compression.examples.mnist import images as images_lib
from compression.python import beam as beam_lib


def _example_pb2():
  from tensorflow.core.example import example_pb2  # pylint: disable=g-import-not-at-top
  return example_pb2


def _feature_pb2():
  from tensorflow.core.example import feature_pb2  # pylint: disable=g-import-not-at-top
  return feature_pb2


def _bytes(values):
  pb = _feature_pb2()
  return pb.Feature(bytes_list=pb.BytesList(value=values))


def _ints(values):
  pb = _feature_pb2()
  return pb.Feature(int64_list=pb.Int64List(value=[int(v) for v in values]))


def _example(features):
  # Deterministic: the feature map in key order. Otherwise its order follows the
  # process's string hashing, and the same record has other bytes in another
  # worker process.
  return _example_pb2().Example(features=_feature_pb2().Features(
      feature=features)).SerializeToString(deterministic=True)


def compressed_record(key, string, latent_shape, fingerprint):
  """A compressed record, serialized (see the module docstring)."""
  return _example({"key": _bytes([key.encode()]), "string": _bytes([string]),
                   "latent_shape": _ints(latent_shape),
                   "fingerprint": _ints([fingerprint])})


def decoded_record(key, image):
  """A decoded record of uint8 [28, 28] `image`, serialized."""
  image = np.asarray(image, np.uint8)
  return _example({"key": _bytes([key.encode()]),
                   "image": _bytes([image.tobytes()]),
                   "shape": _ints(image.shape)})


class RecordError(ValueError):
  """A record that is not a compressed digit record of this model."""


def _feature(example, name, kind):
  feature = example.features.feature.get(name)
  values = getattr(feature, kind).value if feature is not None else []
  if len(values) == 0:  # pylint: disable=g-explicit-length-test
    raise RecordError(f"record has no {name!r} feature")
  return list(values)


def parse_compressed_record(serialized):
  """(key str, string bytes, latent_shape list, fingerprint int)."""
  try:
    example = _example_pb2().Example.FromString(serialized)
  except Exception as e:  # pylint: disable=broad-except
    raise RecordError(f"not a tf.train.Example ({beam_lib.one_line(e)})"
                      ) from None
  key = _feature(example, "key", "bytes_list")[0].decode("utf-8", "replace")
  string = _feature(example, "string", "bytes_list")
  shape = _feature(example, "latent_shape", "int64_list")
  fingerprint = _feature(example, "fingerprint", "int64_list")
  if len(string) != 1 or len(fingerprint) != 1:
    raise RecordError(f"record {key!r}: 'string' and 'fingerprint' must hold "
                      "one value each")
  return key, string[0], shape, fingerprint[0]


def parse_decoded_record(serialized):
  """(key str, uint8 [28, 28]) of a decoded record."""
  example = _example_pb2().Example.FromString(serialized)
  key = _feature(example, "key", "bytes_list")[0].decode()
  shape = _feature(example, "shape", "int64_list")
  image = np.frombuffer(_feature(example, "image", "bytes_list")[0], np.uint8)
  return key, image.reshape(shape)


def record_key(serialized, where):
  """The key stored in a record, or `where` plus a digest when unreadable."""
  try:
    return parse_compressed_record(serialized)[0]
  except RecordError:
    import hashlib  # pylint: disable=g-import-not-at-top
    digest = hashlib.sha1(serialized).hexdigest()[:12]
    return f"{where}#unreadable-{digest}"


def read_png(path):
  """uint8 [28, 28] of a PNG at a local path or any Beam filesystem path."""
  if os.path.exists(path):
    return images_lib.read_png(path)
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as tmp:
    local = os.path.join(tmp, "digit.png")
    with FileSystems.open(path) as src, open(local, "wb") as dst:
      # Bounded: a huge object is refused after MAX_PNG_BYTES, not copied.
      dst.write(inputs.read_chunks(src, images_lib.MAX_PNG_BYTES,
                                   images_lib.ImageError, path))
    try:
      return images_lib.read_png(local)
    except images_lib.ImageError as e:
      raise images_lib.ImageError(str(e).replace(local, path)) from None


def _describe(error):
  """One line; TensorFlow op errors in the op's own words."""
  from compression.examples import cli  # pylint: disable=g-import-not-at-top
  return cli.error_line(error)


class _Model:
  """A loaded codec session and its coding tables' fingerprint."""

  def __init__(self, session):
    self.session = session
    self.fingerprint = session.fingerprint()


class _MnistCodec(beam_lib.Codec):
  """A codec.Encoder or codec.Decoder (`SESSION`) of the model in model_dir."""

  SESSION = None

  def __init__(self, model_dir):
    self.model_dir = model_dir

  def cache_key(self):
    return (self.SESSION, self.model_dir)

  def load(self):
    from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
    return _Model(getattr(codec, self.SESSION)(self.model_dir))

  def describe_error(self, error):
    return _describe(error)


class DigitEncoder(_MnistCodec):
  """Digits (arrays or PNG paths) -> (string, fingerprint), one per digit."""

  SESSION = "Encoder"

  def prepare(self, value):
    if isinstance(value, str):
      return read_png(value)
    digit = np.asarray(value)
    if digit.dtype != np.uint8 or digit.shape != (28, 28):
      raise errors.InputError(f"a digit must be uint8 [28, 28], got "
                              f"{digit.dtype} {list(digit.shape)}")
    return digit

  def run(self, model, items):
    # Encoder.compress with one digit a string: what `compress
    # --per_digit_strings` runs (batches of up to 1000 digits).
    result = model.session.compress(np.stack(items), 1)
    return [(s, model.fingerprint) for s in result["strings"]]

  def input_bytes(self, value):
    return 0 if isinstance(value, str) else beam_lib.size_in_bytes(value)

  def output_bytes(self, result):
    return len(result[0])


class DigitDecoder(_MnistCodec):
  """Compressed records -> decoded uint8 [28, 28] digits."""

  SESSION = "Decoder"

  def __init__(self, model_dir, latent_dims):
    super().__init__(model_dir)
    self.latent_dims = latent_dims

  def prepare(self, value):
    key, string, shape, fingerprint = parse_compressed_record(value)
    if shape != [self.latent_dims]:
      raise RecordError(
          f"record {key!r}: latent shape {shape} does not match the model in "
          f"{self.model_dir!r} (latent_dims={self.latent_dims})")
    return string, fingerprint

  def run(self, model, items):
    from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
    results = [None] * len(items)
    good = []
    for i, (_, fingerprint) in enumerate(items):
      if fingerprint != model.fingerprint:
        results[i] = RecordError(
            "made with coding tables of fingerprint "
            f"{codec.format_fingerprint(fingerprint)}, but the model in "
            f"{self.model_dir!r} has "
            f"{codec.format_fingerprint(model.fingerprint)}")
      else:
        good.append(i)
    if good:
      # Raises NotExactError for the batch when a string is not exact; the
      # batch is then retried string by string (beam_lib.RunBatchDoFn).
      images, _ = model.session.decompress([items[i][0] for i in good])
      for i, image in zip(good, data.to_uint8(images)):
        results[i] = image
    return results

  def input_bytes(self, value):
    return len(value)
