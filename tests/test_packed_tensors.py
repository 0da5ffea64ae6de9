"""Tests of compression/python/util/packed_tensors.py.

Run with `python -m pytest -q tests/test_packed_tensors.py` (a few seconds).
"""

import numpy as np
import pytest
import tensorflow as tf

import compression
from compression.python.util import packed_tensors

# CI runs these with v2 behaviour off too (COMPRESSION_TF_BEHAVIOR=v1).
pytestmark = pytest.mark.both_tf_behaviors

PackedTensors = packed_tensors.PackedTensors


def _placeholders(*specs):
  return [tf.compat.v1.placeholder(dtype, shape) for dtype, shape in specs]


class RoundTripTest(tf.test.TestCase):

  def test_example_script_flow(self):
    # compress: run a graph, pack its values; decompress: other tensors, same order.
    with tf.Graph().as_default():
      x = tf.zeros([1, 37, 29, 3])
      strings = tf.constant([b"\x00\x01range coded\xff\x00"])
      tensors = [strings, tf.shape(x)[1:-1], tf.constant([3, 2], tf.int32)]
      with tf.compat.v1.Session() as sess:
        arrays = sess.run(tensors)
      packed = PackedTensors()
      packed.pack(tensors, arrays)
      packed.model = "bls2017-lambda0.01"
      data = packed.string
    self.assertIsInstance(data, bytes)
    with tf.Graph().as_default():
      placeholders = _placeholders((tf.string, [1]), (tf.int32, [2]), (tf.int32, [2]))
      unpacked = PackedTensors(data)
      self.assertEqual(unpacked.model, "bls2017-lambda0.01")
      self.assertLen(unpacked, 3)
      arrays = unpacked.unpack(placeholders)
      with tf.compat.v1.Session() as sess:
        fed = sess.run(placeholders, feed_dict=dict(zip(placeholders, arrays)))
    self.assertEqual(fed[0].tolist(), [b"\x00\x01range coded\xff\x00"])
    self.assertAllEqual(fed[1], [37, 29])
    self.assertAllEqual(fed[2], [3, 2])
    self.assertEqual(arrays[1].dtype, np.int32)

  def test_dtypes_shapes_and_extremes(self):
    values = [
        np.array([-2 ** 63, 2 ** 63 - 1, 0, -1], np.int64),
        np.array([2 ** 64 - 1, 0], np.uint64),
        np.array([[0, 255], [7, 8]], np.uint8),
        np.int16(-5),
        np.zeros([0, 3], np.int32),
        np.array([b"", b"a\x00\x00", bytes(range(256))], object),
        [[b"x\x00", b"y"]],  # a list: trailing zero bytes must survive
        b"\x00scalar\x00",
    ]
    dtypes = [tf.int64, tf.uint64, tf.uint8, tf.int16, tf.int32, tf.string, tf.string,
              tf.string]
    with tf.Graph().as_default():
      tensors = [tf.compat.v1.placeholder(d, None) for d in dtypes]
      packed = PackedTensors()
      packed.pack(tensors, values)
      self.assertIsNone(packed.model)
      arrays = PackedTensors(packed.string).unpack(tensors)
    for value, array, dtype in zip(values, arrays, dtypes):
      expected = np.array(value, dtype=object if dtype == tf.string else
                          dtype.as_numpy_dtype)
      self.assertEqual(array.shape, expected.shape)
      self.assertEqual(array.tolist(), expected.tolist())
      self.assertEqual(array.dtype, expected.dtype)

  def test_without_tensors_and_empty(self):
    packed = PackedTensors()
    packed.pack([None, None], [[1, 2], [b"ab"]])
    self.assertLen(PackedTensors(packed.string), 2)
    empty = PackedTensors().string
    self.assertEqual(empty[:4], b"PKT\x01")
    self.assertEqual(len(PackedTensors(empty)), 0)

  def test_golden_bytes(self):
    packed = PackedTensors()
    packed.model = "m"
    packed.pack([None, None], [np.array([1, -1, 300]), [b"hi"]])
    self.assertEqual(packed.string.hex(),
                     "504b54" "01" "01" "6d" "02" "00" "01" "03" "02" "01" "d804"
                     "01" "01" "01" "02" "6869" "303263b3")

  def test_pack_replaces_and_model_forms(self):
    packed = PackedTensors()
    packed.pack([None], [[1]])
    packed.pack([None, None], [[1], [2]])
    self.assertLen(packed, 2)
    packed.model = b"caf\xc3\xa9"
    self.assertEqual(PackedTensors(packed.string).model, "café")
    packed.model = ""
    self.assertIsNone(PackedTensors(packed.string).model)
    self.assertIs(compression.PackedTensors, PackedTensors)

  def test_model_deleter_and_the_1_3_tests(self):
    # TensorFlow Compression 1.3's packed_tensors_test.py, as written there (its
    # test_model ends with `del packed.model`), in a graph.
    with tf.Graph().as_default():
      string = np.array(["xyz".encode("ascii")], dtype=object)
      shape = np.array([1, 3], dtype=np.int32)
      tensors = [tf.zeros([1], dtype=tf.string), tf.zeros([2], dtype=tf.int32)]
      packed = PackedTensors()
      packed.pack(tensors, [string, shape])
      packed = PackedTensors(packed.string)
      string_u, shape_u = packed.unpack(tensors)
    self.assertAllEqual(string_u, string)
    self.assertAllEqual(shape_u, shape)
    packed = PackedTensors()
    packed.model = "xyz"
    packed = PackedTensors(packed.string)
    self.assertEqual(packed.model, "xyz")
    del packed.model
    # Deleted: no model, and the string is that of an object never given one.
    self.assertIsNone(packed.model)
    self.assertIsNone(PackedTensors(packed.string).model)
    self.assertEqual(packed.string, PackedTensors().string)
    del packed.model                       # Deleting again is no error.
    self.assertIsNone(packed.model)
    packed.model = "again"                 # and a model can be set again.
    self.assertEqual(PackedTensors(packed.string).model, "again")
    # 1.3's other public attributes.
    for name in ("string", "model", "pack", "unpack"):
      self.assertTrue(hasattr(PackedTensors, name), name)


class BadInputTest(tf.test.TestCase):

  def setUp(self):
    super().setUp()
    packed = PackedTensors()
    packed.model = "model"
    packed.pack([None, None], [np.arange(-40, 40), [b"payload", b""]])
    self.data = packed.string

  def test_every_truncation_and_damage_is_a_value_error(self):
    for cut in range(len(self.data)):
      with self.assertRaises(ValueError):
        PackedTensors(self.data[:cut])
    for position in range(len(self.data)):
      damaged = bytearray(self.data)
      damaged[position] ^= 0x10
      with self.assertRaisesRegex(ValueError, "PackedTensors: "):
        PackedTensors(bytes(damaged))
    with self.assertRaisesRegex(ValueError, "CRC-32 mismatch"):
      PackedTensors(self.data[:-5] + self.data[-4:])
    with self.assertRaisesRegex(ValueError, "CRC-32 mismatch"):
      PackedTensors(self.data + b"\0")

  def test_foreign_and_other_version(self):
    with self.assertRaisesRegex(ValueError, "not a packed string"):
      PackedTensors(b"\x89PNG\r\n\x1a\n")
    with self.assertRaisesRegex(ValueError, "format version 2, this library reads "
                                "version 1"):
      PackedTensors(b"PKT\x02" + self.data[4:])
    with self.assertRaisesRegex(ValueError, "must be bytes, got str"):
      PackedTensors("PKT")

  def test_consistent_but_absurd_counts(self):
    # A valid CRC over fields that claim more than the string holds.
    import struct  # pylint: disable=g-import-not-at-top
    import zlib  # pylint: disable=g-import-not-at-top

    def sealed(body):
      return body + struct.pack(">I", zlib.crc32(body))
    cases = [
        (b"PKT\x01\x00\xff\xff\xff\xff\x0f", "the number of values is 4294967295"),
        (b"PKT\x01\x00\x01\x00\x02\xff\xff\x03\xff\xff\x03", "has more elements than"),
        (b"PKT\x01\x00\x01\x07\x00", "has kind 7"),
        (b"PKT\x01\x00\x01\x01\x01\x01\x09ab",
         "a string length of value 0 is 9, more than the 2 bytes left"),
        (b"PKT\x01\x00\x01\x00\x00\x80\x00", "not a minimal varint"),
        (b"PKT\x01\x00\x01\x00\x00" + b"\xff" * 11, "more than 10 bytes"),
        (b"PKT\x01\x00\x00\x00", "1 bytes after the last value"),
        (b"PKT\x01\x02\xff\xfe\x00", "not UTF-8"),
    ]
    for body, message in cases:
      with self.subTest(message=message):
        with self.assertRaisesRegex(ValueError, message):
          PackedTensors(sealed(body))

  def test_pack_errors(self):
    cases = [
        (([None], [[1], [2]]), "1 tensors but 2 arrays"),
        (([None], [[1.5]]), "array 0 has dtype float64"),
        (([None], [["text"]]), "only integer and string"),
        (([None], [np.array([b"a", 3], object)]), "not bytes"),
        (([None], [[2 ** 64]]), r"integers outside \[-2\*\*63, 2\*\*64\)"),
    ]
    for args, message in cases:
      with self.subTest(message=message):
        with self.assertRaisesRegex(ValueError, message):
          PackedTensors().pack(*args)
    with tf.Graph().as_default():
      with self.assertRaisesRegex(ValueError, r"array 0 \(int64\) does not match its "
                                  "tensor's dtype string"):
        PackedTensors().pack([tf.constant([b"a"])], [[1]])
      with self.assertRaisesRegex(ValueError, "does not match its tensor's dtype float"):
        PackedTensors().pack([tf.constant([1.])], [[1]])
    with self.assertRaisesRegex(ValueError, "model must be a str"):
      PackedTensors().model = 3

  def test_unpack_errors(self):
    packed = PackedTensors(self.data)
    with tf.Graph().as_default():
      cases = [
          (_placeholders((tf.int32, None)), "1 tensors, but the string holds 2 values"),
          (_placeholders((tf.string, None), (tf.string, None)),
           "value 0 holds integers, tensor .* is a string tensor"),
          (_placeholders((tf.int32, None), (tf.int32, None)),
           "value 1 holds strings, tensor .* has dtype int32"),
          (_placeholders((tf.float32, None), (tf.string, None)),
           "value 0 holds integers, tensor .* has dtype float32"),
          (_placeholders((tf.uint8, None), (tf.string, None)),
           r"integers in \[-40, 39\], outside the range of uint8"),
          (_placeholders((tf.int32, [79]), (tf.string, None)),
           r"value 0 has shape \(80,\), tensor .* has shape \(79,\)"),
          (_placeholders((tf.int32, [80]), (tf.string, [1, 2])),
           r"value 1 has shape \(2,\)"),
      ]
      for tensors, message in cases:
        with self.subTest(message=message):
          with self.assertRaisesRegex(ValueError, message):
            packed.unpack(tensors)


if __name__ == "__main__":
  tf.test.main()
