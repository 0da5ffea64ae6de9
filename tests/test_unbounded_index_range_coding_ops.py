"""Tests of UnboundedIndexRangeEncode / -Decode (the 1.2 ops' interface).

Run with `python -m pytest -q tests/test_unbounded_index_range_coding_ops.py`.
"""

import time

import numpy as np
import tensorflow as tf

import compression
from compression.python.ops import range_coding_ops as rc
from compression.python.ops import unbounded_index_range_coding_ops as ub
from compression.python.ops._library import ops as raw_ops
from graph_testutil import run_graph

PRECISION = 16


def make_tables(pmfs, offsets, precision=PRECISION):
  """CDF table [C, L], cdf_size and offset from per-row pmfs (an overflow bin added)."""
  rows = []
  for pmf in pmfs:
    with_overflow = np.append(np.asarray(pmf, np.float32), np.float32(1e-3))
    rows.append(rc.pmf_to_quantized_cdf(with_overflow, precision).numpy())
  width = max(len(r) for r in rows)
  cdf = np.array([np.pad(r, (0, width - len(r)), mode="edge") for r in rows], np.int32)
  return cdf, np.array([len(r) for r in rows], np.int32), np.asarray(offsets, np.int32)


def laplace_tables(channels):
  pmfs, offsets = [], []
  for c in range(channels):
    half = 2 + 3 * c
    pmfs.append(np.exp(-np.abs(np.arange(-half, half + 1)) / (1. + c)))
    offsets.append(-half)
  return make_tables(pmfs, offsets)


def encode(data, index, tables, width, precision=PRECISION):
  return run_graph(
      lambda *a: ub.unbounded_index_range_encode(*a, precision, width),
      np.asarray(data, np.int32), np.asarray(index, np.int32), *tables)


def decode(string, index, tables, width, precision=PRECISION):
  return run_graph(
      lambda *a: ub.unbounded_index_range_decode(*a, precision, width,
                                                 return_exact=True),
      np.asarray(string, object), np.asarray(index, np.int32), *tables)


class RoundTripTest(tf.test.TestCase):

  def assert_round_trip(self, data, index, tables, width, precision=PRECISION):
    string = encode(data, index, tables, width, precision)
    decoded, exact = decode(string, index, tables, width, precision)
    self.assertAllEqual(decoded, data)
    self.assertTrue(exact)
    return string

  def test_exports(self):
    self.assertIs(compression.unbounded_index_range_encode,
                  ub.unbounded_index_range_encode)
    self.assertIs(compression.unbounded_index_range_decode,
                  ub.unbounded_index_range_decode)

  def test_in_range_values_every_width(self):
    rng = np.random.default_rng(0)
    tables = laplace_tables(3)
    index = rng.integers(0, 3, (6, 7))
    data = np.round(rng.laplace(0, 1 + index)).astype(np.int32)
    data = np.clip(data, -(2 + 3 * index), 2 + 3 * index)  # all in range
    for width in (1, 4, 16):
      with self.subTest(width=width):
        string = self.assert_round_trip(data, index, tables, width)
        self.assertIsInstance(string, bytes)

  def test_overflow_values_far_outside_the_tables(self):
    tables = laplace_tables(2)  # rows cover -2..2 and -5..5
    data = np.array([0, 3, -3, 6, -6, 1000, -1000, 2**31 - 1, -2**31, 2**30,
                     -2**30 - 7, 123456789, 5, -5, 2, -2], np.int32)
    index = np.arange(16) % 2
    for width in (1, 2, 3, 4, 7, 8, 15, 16):
      with self.subTest(width=width):
        self.assert_round_trip(data, index, tables, width)

  def test_random_values_and_rows_with_overflows(self):
    rng = np.random.default_rng(1)
    tables = laplace_tables(4)
    index = rng.integers(0, 4, 500)
    data = rng.integers(-40, 40, 500).astype(np.int32)
    data[::17] = rng.integers(-2**31, 2**31 - 1, data[::17].shape, dtype=np.int64)
    for width in (1, 5, 12):
      with self.subTest(width=width):
        self.assert_round_trip(data, index, tables, width)

  def test_lower_precision(self):
    tables = make_tables([[1, 4, 6, 4, 1], [1, 1]], [-2, 7], precision=8)
    data = np.array([[-2, 7], [2, 8], [3, 9], [-300, -1]], np.int32)
    index = np.array([[0, 1]] * 4)
    for width in (1, 8):
      with self.subTest(width=width):
        self.assert_round_trip(data, index, tables, width, precision=8)

  def test_overflow_only_row(self):
    cdf = np.array([[0, 4]], np.int32)  # cdf_size 2: no regular symbol
    tables = (cdf, np.array([2], np.int32), np.array([5], np.int32))
    self.assert_round_trip(np.array([5, 4, 6, -100, 0], np.int32), np.zeros(5), tables,
                           2, precision=2)

  def test_scalar_and_empty(self):
    tables = laplace_tables(1)
    self.assert_round_trip(np.int32(1), np.int32(0), tables, 4)
    self.assert_round_trip(np.int32(-70000), np.int32(0), tables, 4)
    string = self.assert_round_trip(np.zeros([0, 3], np.int32), np.zeros([0, 3]),
                                    tables, 4)
    self.assertEqual(string, b"")

  def test_width_4_gives_the_bytes_of_indexed_range_encode(self):
    # Both ops share the coder; at overflow_width = 4 the overflow code (count n - 1
    # < 15 in one field, then n nibbles) is the indexed ops' escape code.
    rng = np.random.default_rng(2)
    tables = laplace_tables(3)
    index = rng.integers(0, 3, 200)
    data = rng.integers(-20, 20, 200).astype(np.int32)
    data[:4] = [2**31 - 1, -2**31, 77777, -3]
    string = encode(data, index, tables, 4)
    indexed = run_graph(
        lambda *a: rc.indexed_range_encode(*a, precision=PRECISION),
        data[None], index.astype(np.int32), *tables)
    self.assertEqual(string, indexed[0])

  def test_golden_bytes(self):
    # The format (README "Bitstream format" plus overflow_code.h) must not change.
    tables = make_tables([[1, 2, 3, 2, 1]], [-2])
    data = np.array([0, 1, -2, 2, 9, -9, 300], np.int32)
    index = np.zeros(7)
    expected = {
        1: "904e9acb6b67b646afe382",
        3: "904e998642ff520ad87a51",
        16: "904e9947322772c5779a920aa087b32fff003e",
    }
    for width, hex_string in expected.items():
      with self.subTest(width=width):
        string = self.assert_round_trip(data, index, tables, width)
        self.assertEqual(string.hex(), hex_string)

  def test_wider_fields_cost_less_for_huge_values(self):
    tables = laplace_tables(1)
    data = np.full(50, 2**30, np.int32)
    lengths = {w: len(encode(data, np.zeros(50), tables, w)) for w in (1, 8)}
    # Besides the overflow symbol (the same for both), z = 2**31 - 6 needs 31 bits:
    # w = 1 spends 30 + 1 count bits and 31 chunk bits on it, w = 8 one count field
    # and 4 chunks, 40 bits: 22 bits less per value (within the final flush).
    self.assertIn(lengths[1] - lengths[8], (50 * 22 // 8, 50 * 22 // 8 + 1))

  def test_static_shape_of_decode(self):
    tables = laplace_tables(2)
    with tf.Graph().as_default():
      decoded, exact = ub.unbounded_index_range_decode(
          tf.constant(b""), tf.zeros([3, 4], tf.int32), *tables, PRECISION, 4,
          return_exact=True)
      self.assertEqual(decoded.shape.as_list(), [3, 4])
      self.assertEqual(exact.shape.as_list(), [])


class CorruptStringTest(tf.test.TestCase):

  def test_every_truncation_decodes_and_is_not_exact(self):
    rng = np.random.default_rng(3)
    tables = laplace_tables(2)
    index = rng.integers(0, 2, 80)
    data = rng.integers(-9, 9, 80).astype(np.int32)
    data[::9] = 50000
    string = encode(data, index, tables, 3)
    exact_prefixes = 0
    for cut in range(len(string)):
      decoded, exact = decode(string[:cut], index, tables, 3)
      self.assertEqual(decoded.shape, (80,))
      if exact:  # Then it is the encoding of other values (rare, but legal).
        exact_prefixes += 1
        self.assertNotAllEqual(decoded, data)
        self.assertEqual(encode(decoded, index, tables, 3), string[:cut])
    self.assertLess(exact_prefixes, len(string) // 4)
    _, exact = decode(string + b"\0", index, tables, 3)
    self.assertFalse(exact)

  def test_random_strings_decode_in_bounded_time(self):
    rng = np.random.default_rng(4)
    # The overflow symbol takes almost all the mass: random bits hit it nearly always
    # and then read overflow codes, whose counts must stay bounded.
    cdf = np.array([[0, 1, 2, 65536]], np.int32)
    tables = (cdf, np.array([4], np.int32), np.array([0], np.int32))
    index = np.zeros(20000, np.int32)
    for width in (1, 16):
      for fill in (b"\xff", b"\x00", None):
        string = (fill * 4000 if fill is not None
                  else rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
        with self.subTest(width=width, fill=fill):
          start = time.time()
          decoded, exact = decode(string, index, tables, width)
          self.assertLess(time.time() - start, 10.)
          self.assertEqual(decoded.shape, (20000,))
          self.assertFalse(exact)

  def test_all_ones_count_fields_are_corrupt_not_a_hang(self):
    # w = 1 with the overflow symbol everywhere and 0xff bytes: the count field reads
    # 1s forever unless the decoder stops at ceil(34 / w) chunks.
    cdf = np.array([[0, 1]], np.int32)
    tables = (cdf, np.array([2], np.int32), np.array([0], np.int32))
    decoded, exact = decode(b"\xff" * 64, np.zeros(10, np.int32), tables, 1,
                            precision=1)
    self.assertEqual(decoded.shape, (10,))
    self.assertFalse(exact)

  def test_exact_strings_reencode_to_themselves(self):
    rng = np.random.default_rng(5)
    tables = laplace_tables(2)
    index = rng.integers(0, 2, 12)
    hits = 0
    for _ in range(40):
      string = rng.integers(0, 256, rng.integers(0, 10), dtype=np.uint8).tobytes()
      decoded, exact = decode(string, index, tables, 2)
      if exact:
        hits += 1
        self.assertEqual(encode(decoded, index, tables, 2), string)
    self.assertGreater(hits, 0)


class BadInputTest(tf.test.TestCase):

  def assert_encode_error(self, pattern, data, index, tables, width=4,
                          precision=PRECISION):
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
      encode(data, index, tables, width, precision)

  def assert_decode_error(self, pattern, index, tables, width=4, string=b""):
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
      decode(string, index, tables, width)

  def test_data_and_index_shapes_differ(self):
    tables = laplace_tables(2)
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                "[Ss]hape"):
      encode(np.zeros([2, 3]), np.zeros([3, 2]), tables, 4)
    # Unknown static shapes reach the kernel.
    with tf.Graph().as_default():
      data = tf.compat.v1.placeholder(tf.int32)
      index = tf.compat.v1.placeholder(tf.int32)
      string = ub.unbounded_index_range_encode(data, index, *tables, PRECISION, 4)
      with tf.compat.v1.Session() as sess:
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                    r"index must have the shape of data, \[2,3\], "
                                    r"got \[6\]"):
          sess.run(string, {data: np.zeros([2, 3]), index: np.zeros([6])})

  def test_index_out_of_range(self):
    tables = laplace_tables(2)
    self.assert_encode_error(r"index\[1, 0\] = 2 is not a CDF row in \[0, 2\)",
                             np.zeros([2, 2]), [[0, 1], [2, 0]], tables)
    self.assert_encode_error(r"index\[3\] = -1 is not a CDF row in \[0, 2\)",
                             np.zeros(4), [0, 0, 1, -1], tables)
    self.assert_decode_error(r"index\[0\] = 7 is not a CDF row", [7], tables)

  def test_non_monotone_cdf(self):
    cdf = np.array([[0, 100, 50, 65536]], np.int32)
    tables = (cdf, np.array([4], np.int32), np.array([0], np.int32))
    pattern = (r"CDF cdf\[0, :\] is not non-decreasing: entry 2 = 50 is less than "
               r"entry 1 = 100")
    self.assert_encode_error(pattern, [0], [0], tables)
    self.assert_decode_error(pattern, [0], tables)

  def test_cdf_must_start_at_zero_and_stay_within_precision(self):
    tables = (np.array([[5, 100, 65536]], np.int32), np.array([3], np.int32),
              np.array([0], np.int32))
    self.assert_encode_error("must start at 0", [0], [0], tables)
    tables = (np.array([[0, 100, 300]], np.int32), np.array([3], np.int32),
              np.array([0], np.int32))
    self.assert_encode_error(r"ends at 300, above 2\^precision = 256", [0], [0],
                             tables, precision=8)

  def test_cdf_size_out_of_range(self):
    cdf, _, offset = laplace_tables(2)
    width = cdf.shape[1]
    for sizes in ([1, 5], [5, width + 1], [5, -3]):
      with self.subTest(sizes=sizes):
        bad = sizes[0] if sizes[0] < 2 else sizes[1]
        row = 0 if sizes[0] < 2 else 1
        self.assert_encode_error(
            rf"cdf_size\[{row}\] = {bad} must lie in \[2, {width}\]", [0], [0],
            (cdf, np.array(sizes, np.int32), offset))
    self.assert_decode_error(r"An all-zero cdf_size means the tables were never "
                             "computed", [0], (cdf, np.zeros(2, np.int32), offset))

  def test_table_shapes(self):
    cdf, sizes, offset = laplace_tables(2)
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                "rank"):
      encode([0], [0], (cdf[0], sizes, offset), 4)
    self.assert_encode_error(r"cdf_size must be a vector of 2 entries \(one per CDF "
                             r"row\), got shape \[3\]", [0], [0],
                             (cdf, np.append(sizes, 3).astype(np.int32), offset))
    self.assert_encode_error(r"offset must be a vector of 2 entries", [0], [0],
                             (cdf, sizes, offset[:1]))

  def test_zero_width_symbols(self):
    cdf = np.array([[0, 100, 100, 200, 256]], np.int32)  # value 1 has no mass
    tables = (cdf, np.array([5], np.int32), np.array([0], np.int32))
    self.assert_encode_error(
        r"data\[1, 0\] = 1 has zero probability in CDF row cdf\[0, :\] "
        r"\(cdf\[1\] = 100, cdf\[2\] = 100\)",
        [[0], [1]], [[0], [0]], tables, precision=8)
    # Values outside the range are fine, and so is a zero-width symbol never coded.
    self.assertTrue(decode(encode([0, 2, -5, 3], np.zeros(4), tables, 4, 8),
                           np.zeros(4), tables, 4, 8)[1])
    no_overflow = (np.array([[0, 128, 256, 256]], np.int32), np.array([4], np.int32),
                   np.array([0], np.int32))
    self.assert_encode_error("gives its escape symbol .* zero width", [0], [0],
                             no_overflow, precision=8)

  def test_offset_overflow(self):
    cdf, sizes, _ = laplace_tables(1)
    self.assert_encode_error("overflows int32", [0], [0],
                             (cdf, sizes, np.array([2**31 - 2], np.int32)))

  def test_precision_and_overflow_width_checked_in_python(self):
    tables = laplace_tables(1)
    cases = [
        (dict(precision=17, overflow_width=4), ValueError, "precision must be in"),
        (dict(precision=0, overflow_width=1), ValueError, "precision must be in"),
        (dict(precision=2.5, overflow_width=1), TypeError, "precision must be an int"),
        (dict(precision=8, overflow_width=9), ValueError,
         r"overflow_width must be in 1..precision = 1..8, got 9"),
        (dict(precision=8, overflow_width=0), ValueError, "overflow_width must be in"),
        (dict(precision=8, overflow_width=True), TypeError,
         "overflow_width must be an int"),
        (dict(precision=8, overflow_width=4, debug_level=2), ValueError,
         "debug_level must be 0 or 1"),
    ]
    for kwargs, error, pattern in cases:
      for function in (ub.unbounded_index_range_encode,
                       ub.unbounded_index_range_decode):
        with self.subTest(function=function.__name__, **kwargs):
          with tf.Graph().as_default():
            with self.assertRaisesRegex(error, pattern):
              function(tf.constant(0 if function is ub.unbounded_index_range_encode
                                   else b""), tf.constant(0), *tables, **kwargs)

  def test_kernels_check_attributes_too(self):
    tables = [tf.constant(t) for t in laplace_tables(1)]
    for precision, width, pattern in ((8, 9, "overflow_width must be in 1..precision"),
                                      (17, 1, "precision must be in 1..16")):
      with self.subTest(precision=precision, width=width):
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
          raw_ops.unbounded_index_range_encode(
              tf.constant([0]), tf.constant([0]), *tables, precision=precision,
              overflow_width=width)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
          raw_ops.unbounded_index_range_decode(
              tf.constant(b""), tf.constant([0]), *tables, precision=precision,
              overflow_width=width)

  def test_encoded_must_be_a_scalar(self):
    tables = [tf.constant(t) for t in laplace_tables(1)]
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                "rank 0|scalar"):
      ub.unbounded_index_range_decode(tf.constant([b"", b""]), tf.constant([0]),
                                      *tables, PRECISION, 4)


if __name__ == "__main__":
  tf.test.main()
