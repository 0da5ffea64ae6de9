"""Tests of IndexedRangeEncode / IndexedRangeDecode: per-element CDF rows, escapes."""

import numpy as np
import tensorflow as tf

from compression.python.ops import range_coding_ops as rc
from graph_testutil import run_graph

PRECISION = 16


def make_tables(pmfs, offsets):
  """Padded CDF table [C, L], lengths and offsets from per-row pmfs (escape appended)."""
  rows = []
  for pmf in pmfs:
    with_escape = np.append(np.asarray(pmf, np.float32), np.float32(1e-3))
    rows.append(rc.pmf_to_quantized_cdf(with_escape, PRECISION).numpy())
  width = max(len(r) for r in rows)
  cdf = np.array([np.pad(r, (0, width - len(r)), mode="edge") for r in rows], np.int32)
  lengths = np.array([len(r) for r in rows], np.int32)
  return cdf, lengths, np.asarray(offsets, np.int32)


def laplace_tables(channels, rng):
  pmfs, offsets = [], []
  for c in range(channels):
    half = 3 + 4 * c
    pmfs.append(np.exp(-np.abs(np.arange(-half, half + 1)) / (1.0 + c)))
    offsets.append(-half)
  return make_tables(pmfs, offsets)


class IndexedTestCase(tf.test.TestCase):

  def encode(self, data, index, tables):
    return run_graph(
        lambda *a: rc.indexed_range_encode(*a, precision=PRECISION),
        np.asarray(data, np.int32), np.asarray(index, np.int32), *tables)

  def decode(self, strings, index, tables):
    return run_graph(
        lambda *a: rc.indexed_range_decode(*a, precision=PRECISION, return_exact=True),
        np.asarray(strings, object), np.asarray(index, np.int32), *tables)

  def assert_round_trip(self, data, index, tables):
    strings = self.encode(data, index, tables)
    decoded, exact = self.decode(strings, index, tables)
    self.assertAllEqual(decoded, data)
    self.assertTrue(exact.all())
    return strings


class RoundTripTest(IndexedTestCase):

  def test_channels_last_layout(self):
    rng = np.random.default_rng(0)
    tables = laplace_tables(4, rng)
    index = np.broadcast_to(np.arange(4), (5, 6, 4))
    data = np.round(rng.laplace(0, 1 + index, size=(3, 5, 6, 4))).astype(np.int32)
    strings = self.assert_round_trip(data, index, tables)
    self.assertEqual(strings.shape, (3,))

  def test_escapes_of_far_values_are_lossless(self):
    rng = np.random.default_rng(1)
    tables = laplace_tables(3, rng)
    index = np.array([0, 1, 2] * 20)
    data = np.zeros((4, 60), np.int32)
    data[0, ::7] = 10_000
    data[1, ::5] = -10_000
    data[2, :6] = [2**31 - 1, -2**31, 2**30, -2**30 - 7, 3, -3]
    data[3] = rng.integers(-40, 40, 60)
    self.assert_round_trip(data, index, tables)

  def test_row_at_the_edges_of_its_range_and_just_outside(self):
    tables = make_tables([[1, 2, 3, 2, 1]], [10])  # values 10..14, escape beyond
    data = np.array([[9, 10, 14, 15, 8, 16, 12]])
    self.assert_round_trip(data, np.zeros(7), tables)

  def test_escape_only_row(self):
    cdf = np.array([[0, 2**16]], np.int32)  # one symbol: the escape
    tables = (cdf, np.array([2], np.int32), np.array([0], np.int32))
    self.assert_round_trip([[5, -5, 0, 123456]], [0, 0, 0, 0], tables)

  def test_empty_batch_and_empty_items(self):
    tables = make_tables([[1, 1]], [0])
    strings = self.assert_round_trip(np.zeros((0, 3), np.int32), [0, 0, 0], tables)
    self.assertEqual(strings.shape, (0,))
    strings = self.assert_round_trip(np.zeros((2, 0), np.int32), np.zeros(0), tables)
    self.assertAllEqual(strings, [b"", b""])

  def test_many_items_match_one_at_a_time(self):
    rng = np.random.default_rng(2)
    tables = laplace_tables(5, rng)
    index = np.arange(5)
    data = np.round(rng.laplace(0, 2, size=(64, 5))).astype(np.int32)
    batch = self.encode(data, index, tables)
    single = [self.encode(row[None], index, tables)[0] for row in data[:8]]
    self.assertAllEqual(batch[:8], single)

  def test_table_search_and_binary_search_agree(self):
    # Few symbols per row use binary search, many use lookup tables: same results.
    rng = np.random.default_rng(3)
    tables = laplace_tables(6, rng)
    small = np.round(rng.laplace(0, 3, size=(1, 6))).astype(np.int32)
    large = np.concatenate([small, np.round(rng.laplace(0, 3, size=(9999, 6)))])
    large = large.astype(np.int32)
    strings = self.encode(large, np.arange(6), tables)
    decoded_small, _ = self.decode(strings[:1], np.arange(6), tables)
    decoded_large, _ = self.decode(strings, np.arange(6), tables)
    self.assertAllEqual(decoded_small, small)
    self.assertAllEqual(decoded_large, large)


class GoldenBytesTest(IndexedTestCase):

  def test_fixed_tables(self):
    cdf = np.array([[0, 10000, 50000, 65000, 65536, 65536],
                    [0, 30000, 60000, 65536, 65536, 65536]], np.int32)
    tables = (cdf, np.array([5, 4], np.int32), np.array([-1, 0], np.int32))
    data = np.array([[0, 0, 1, 2, -1, 1, 7, -3, 0, 1],
                     [1, 1, 0, 0, 0, 1, 1, 2, -9, 40000]], np.int32)
    strings = self.encode(data, [0, 1] * 5, tables)
    self.assertEqual([s.hex() for s in strings], GOLDEN)


# Encoded once and fixed here: a change means the bitstream format changed.
GOLDEN = ["6c9ef63a19c0", "e7803f1a72716ab4"]


class BadInputTest(IndexedTestCase):

  def setUp(self):
    super().setUp()
    self.tables = make_tables([[1, 2, 1], [1, 1]], [0, 5])

  def assert_error(self, pattern, data=((0, 1),), index=(0, 1), tables=None):
    with self.assertRaisesRegex((tf.errors.InvalidArgumentError, ValueError), pattern):
      self.encode(data, index, tables or self.tables)

  def test_index_outside_rows(self):
    self.assert_error(r"index\[1\] = 2 is not a CDF row in \[0, 2\)", index=(0, 2))
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "not a CDF row"):
      self.decode([b""], [0, -1], self.tables)

  def test_index_shape_must_match_items(self):
    self.assert_error("index must have the shape of one batch item", index=(0, 1, 1))

  def test_tables_never_computed(self):
    cdf, _, offset = self.tables
    self.assert_error("run the entropy model's update op",
                      tables=(cdf, np.zeros(2, np.int32), offset))

  def test_length_beyond_table(self):
    cdf, lengths, offset = self.tables
    self.assert_error(r"cdf_length\[0\] = 9 must lie in \[2, 5\]",
                      tables=(cdf, np.array([9, 2], np.int32), offset))

  def test_escape_without_width(self):
    cdf = np.array([[0, 16, 16]], np.int32)
    tables = (cdf, np.array([3], np.int32), np.array([0], np.int32))
    self.assert_error("escape symbol .* zero width", data=((0,),), index=(0,),
                      tables=tables)

  def test_non_monotone_row(self):
    cdf = np.array([[0, 9, 5, 16]], np.int32)
    tables = (cdf, np.array([4], np.int32), np.array([0], np.int32))
    self.assert_error(r"cdf\[0, :\] is not non-decreasing", data=((0,),), index=(0,),
                      tables=tables)

  def test_table_shapes(self):
    cdf, lengths, offset = self.tables
    self.assert_error("cdf_length must be a vector of 2",
                      tables=(cdf, lengths[:1], offset))
    self.assert_error("offset must be a vector of 2", tables=(cdf, lengths, offset[:1]))
    self.assert_error("rank|matrix", tables=(cdf[None], lengths, offset))

  def test_offset_overflow(self):
    cdf, lengths, _ = self.tables
    self.assert_error("overflows int32",
                      tables=(cdf, lengths, np.array([0, 2**31 - 1], np.int32)))

  def test_strings_must_be_a_vector(self):
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                "rank|vector"):
      self.decode(b"", [0, 1], self.tables)


class CorruptStringTest(IndexedTestCase):

  def test_sweep_never_crashes_and_exact_means_reencodable(self):
    rng = np.random.default_rng(4)
    tables = laplace_tables(3, rng)
    index = np.arange(3).repeat(10)
    data = np.round(rng.laplace(0, 2, size=(1, 30))).astype(np.int32)
    data[0, 3] = 5000
    good = self.encode(data, index, tables)[0]
    cases = [rng.bytes(int(n)) for n in rng.integers(0, 80, 400)]
    cases += [good[:n] for n in range(len(good))] + [good + b"\x00"]
    for _ in range(400):
      flipped = bytearray(good)
      flipped[rng.integers(len(good))] ^= 1 << int(rng.integers(8))
      cases.append(bytes(flipped))
    decoded, exact = self.decode(cases, index, tables)
    self.assertEqual(decoded.shape, (len(cases), 30))
    reencoded = self.encode(decoded[exact], index, tables)
    self.assertAllEqual(reencoded, np.array(cases, object)[exact])
    truncated = exact[400:400 + len(good) - 8]  # missing more than the final flush
    padded = exact[400 + len(good)]
    self.assertFalse(truncated.any() or padded)


if __name__ == "__main__":
  tf.test.main()
