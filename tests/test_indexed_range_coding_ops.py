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

  def encode(self, data, index, tables, batched=False):
    return run_graph(
        lambda *a: rc.indexed_range_encode(*a, precision=PRECISION,
                                           batched_index=batched),
        np.asarray(data, np.int32), np.asarray(index, np.int32), *tables)

  def decode(self, strings, index, tables, batched=False):
    return run_graph(
        lambda *a: rc.indexed_range_decode(*a, precision=PRECISION, return_exact=True,
                                           batched_index=batched),
        np.asarray(strings, object), np.asarray(index, np.int32), *tables)

  def assert_round_trip(self, data, index, tables, batched=False):
    strings = self.encode(data, index, tables, batched)
    decoded, exact = self.decode(strings, index, tables, batched)
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
    batched = self.encode(data, [[0, 1] * 5] * 2, tables, batched=True)
    self.assertEqual([s.hex() for s in batched], GOLDEN)


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


class ZeroWidthSymbolTest(IndexedTestCase):
  """Issue 7, item 2: a value on a zero-width symbol is refused, never mis-coded."""

  def test_issue_reproduction(self):
    with self.assertRaisesRegex(
        tf.errors.InvalidArgumentError,
        r"data\[0, 1\] = 1 \(batch item 0, position \[1\]\) has zero probability in "
        r"CDF row cdf\[0, :\] \(cdf\[1\] = 100, cdf\[2\] = 100\)"):
      run_graph(lambda *a: rc.indexed_range_encode(*a, precision=8),
                np.array([[0, 1, 2, 0]], np.int32), np.zeros(4, np.int32),
                np.array([[0, 100, 100, 200, 256]], np.int32), np.array([5], np.int32),
                np.array([0], np.int32))

  def test_names_multi_dimensional_positions_and_offsets(self):
    cdf = np.array([[0, 10, 10, 12, 16], [0, 4, 8, 8, 16]], np.int32)
    tables = (cdf, np.array([5, 5], np.int32), np.array([-3, 7], np.int32))
    index = np.array([[0, 1], [1, 0], [0, 1]])
    data = np.zeros((2, 3, 2), np.int32)
    data[...] = np.where(index == 0, -3, 7)  # symbol 0 of each row: fine
    data[1, 2, 1] = 9                        # row 1, symbol 2: zero width
    with self.assertRaisesRegex(
        tf.errors.InvalidArgumentError,
        r"data\[1, 2, 1\] = 9 \(batch item 1, position \[2, 1\]\) has zero "
        r"probability in CDF row cdf\[1, :\] \(cdf\[2\] = 8, cdf\[3\] = 8\)"):
      run_graph(lambda *a: rc.indexed_range_encode(*a, precision=4),
                data, index.astype(np.int32), *tables)

  def test_threads_report_the_lowest_batch_item(self):
    # 256 items of 200 elements: the batch is split over the CPU threads.
    tables = (np.array([[0, 8, 8, 16]], np.int32), np.array([4], np.int32),
              np.array([0], np.int32))
    data = np.zeros((256, 200), np.int32)
    for b, i in [(250, 3), (130, 7), (129, 150), (200, 0)]:
      data[b, i] = 1  # symbol 1 has zero width
    for _ in range(3):
      with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                  r"data\[129, 150\] = 1 \(batch item 129, "):
        run_graph(lambda *a: rc.indexed_range_encode(*a, precision=4),
                  data, np.zeros(200, np.int32), *tables)

  def test_fuzz_random_tables_with_zero_width_bins(self):
    rng = np.random.default_rng(5)
    with tf.Graph().as_default():
      data_in = tf.compat.v1.placeholder(tf.int32, [None, None])
      index_in = tf.compat.v1.placeholder(tf.int32, [None])
      cdf_in = tf.compat.v1.placeholder(tf.int32, [None, None])
      length_in = tf.compat.v1.placeholder(tf.int32, [None])
      offset_in = tf.compat.v1.placeholder(tf.int32, [None])
      tables_in = (cdf_in, length_in, offset_in)
      encoded = rc.indexed_range_encode(data_in, index_in, *tables_in, precision=10)
      strings_in = tf.compat.v1.placeholder(tf.string, [None])
      decoded, exact = rc.indexed_range_decode(strings_in, index_in, *tables_in,
                                               precision=10, return_exact=True)
      accepted = refused = 0
      with tf.compat.v1.Session() as session:
        for trial in range(120):
          tables, zero = self.random_tables(rng)
          elements = int(rng.integers(1, 30))
          index = rng.integers(0, len(tables[1]), elements)
          offsets, lengths = tables[2][index], tables[1][index]
          # Values from a little below to a little above each element's row range.
          data = offsets + rng.integers(-2, lengths, (int(rng.integers(1, 40)), elements))
          if trial % 2:  # move values off zero-width symbols: these must be accepted
            symbol = data - offsets
            on_zero = (symbol >= 0) & (symbol < lengths - 2)
            on_zero[on_zero] = zero[index[None].repeat(len(data), 0)[on_zero],
                                    symbol[on_zero]]
            data[on_zero] = offsets[None].repeat(len(data), 0)[on_zero] - 1
          feed = {data_in: data, index_in: index, cdf_in: tables[0],
                  length_in: tables[1], offset_in: tables[2]}
          bad = self.zero_width_positions(data, index, tables, zero)
          with self.subTest(trial=trial):
            if bad:
              b, i = bad[0]  # the lowest batch item's first bad element is reported
              with self.assertRaisesRegex(
                  tf.errors.InvalidArgumentError,
                  rf"data\[{b}, {i}\] = {data[b, i]} \(batch item {b}, position "
                  rf"\[{i}\]\) has zero probability in CDF row cdf\[{index[i]}, :\]"):
                session.run(encoded, feed)
              refused += 1
            else:
              feed[strings_in] = session.run(encoded, feed)
              values, is_exact = session.run([decoded, exact], feed)
              self.assertAllEqual(values, data)
              self.assertTrue(is_exact.all())
              accepted += 1
      self.assertGreater(min(accepted, refused), 30)

  @staticmethod
  def random_tables(rng):
    """Random tables at precision 10 with many zero-width regular symbols."""
    rows = int(rng.integers(1, 5))
    lengths = rng.integers(2, 9, rows).astype(np.int32)
    cdf = np.zeros((rows, lengths.max()), np.int32)
    zero = np.zeros((rows, lengths.max()), bool)  # zero[r, s]: symbol s has no width
    for r, length in enumerate(lengths):
      widths = rng.integers(1, 100, length - 1) * (rng.random(length - 1) < 0.6)
      widths[-1] = max(widths[-1], 1)  # the escape keeps a positive width
      row = np.concatenate([[0], np.cumsum(widths)])
      cdf[r] = np.pad(row, (0, cdf.shape[1] - length), mode="edge")
      zero[r, :length - 2] = widths[:-1] == 0
    offsets = rng.integers(-5, 5, rows).astype(np.int32)
    return (cdf, lengths, offsets), zero

  @staticmethod
  def zero_width_positions(data, index, tables, zero):
    """(batch item, element) pairs whose value sits on a zero-width symbol, in order."""
    _, lengths, offsets = tables
    bad = []
    for b, item in enumerate(data):
      for i, value in enumerate(item):
        s = value - offsets[index[i]]
        if 0 <= s < lengths[index[i]] - 2 and zero[index[i], s]:
          bad.append((b, i))
    return bad

  def test_precision_must_be_an_int(self):
    tables = make_tables([[1, 1]], [0])
    for precision in (2.5, True):
      with self.subTest(precision=precision):
        with self.assertRaisesRegex(TypeError, "precision must be an int"):
          rc.indexed_range_encode([[0]], [0], *tables, precision=precision)
        with self.assertRaisesRegex(TypeError, "precision must be an int"):
          rc.indexed_range_decode([b""], [0], *tables, precision=precision)


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


class BatchedIndexTest(IndexedTestCase):
  """batched_index=True: element i of item b is coded with row index[b, i]."""

  def setUp(self):
    super().setUp()
    self.rng = np.random.default_rng(6)
    self.tables = laplace_tables(6, self.rng)

  def random_case(self, shape, outliers=0):
    """Random rows per element and Laplacian values of each row's scale."""
    index = self.rng.integers(0, 6, shape).astype(np.int32)
    data = np.round(self.rng.laplace(0, 1 + index)).astype(np.int32)
    flat = data.reshape(-1)
    where = self.rng.choice(flat.size, outliers, replace=False)
    flat[where] = self.rng.choice([-10_000, 10_000, 2**31 - 1, -2**31], outliers)
    return data, index

  def test_round_trip_with_random_rows_per_element_and_escapes(self):
    data, index = self.random_case((5, 7, 3), outliers=12)
    strings = self.assert_round_trip(data, index, self.tables, batched=True)
    self.assertEqual(strings.shape, (5,))
    _, lengths, offsets = self.tables
    symbols = data - offsets[index]
    self.assertTrue(((symbols < 0) | (symbols >= lengths[index] - 2)).any())

  def test_each_string_is_its_item_coded_alone_with_its_rows(self):
    data, index = self.random_case((8, 40), outliers=3)
    strings = self.encode(data, index, self.tables, batched=True)
    self.assertEqual(len(set(index.tobytes() for index in index)), 8)
    for b in range(8):
      alone = self.encode(data[b:b + 1], index[b], self.tables)
      self.assertEqual(strings[b], alone[0])
    decoded, exact = self.decode(strings, index, self.tables, batched=True)
    self.assertAllEqual(decoded, data)
    self.assertTrue(exact.all())

  def test_repeated_rows_give_the_bytes_of_the_shared_index(self):
    data, index = self.random_case((64, 4, 6), outliers=5)
    shared = index[0]
    repeated = np.broadcast_to(shared, data.shape)
    strings = self.encode(data, shared, self.tables)
    self.assertAllEqual(self.encode(data, repeated, self.tables, batched=True), strings)
    decoded, exact = self.decode(strings, repeated, self.tables, batched=True)
    self.assertAllEqual(decoded, data)
    self.assertTrue(exact.all())

  def test_table_search_and_binary_search_agree(self):
    # 2 items use binary search, 4000 items lookup tables: the same values.
    data, index = self.random_case((4000, 6))
    strings = self.encode(data, index, self.tables, batched=True)
    small, _ = self.decode(strings[:2], index[:2], self.tables, batched=True)
    large, exact = self.decode(strings, index, self.tables, batched=True)
    self.assertAllEqual(small, data[:2])
    self.assertAllEqual(large, data)
    self.assertTrue(exact.all())

  def test_empty_batch_and_empty_items(self):
    strings = self.assert_round_trip(np.zeros((0, 3), np.int32), np.zeros((0, 3)),
                                     self.tables, batched=True)
    self.assertEqual(strings.shape, (0,))
    strings = self.assert_round_trip(np.zeros((2, 0), np.int32), np.zeros((2, 0)),
                                     self.tables, batched=True)
    self.assertAllEqual(strings, [b"", b""])

  def test_bad_rows_are_named_by_full_position(self):
    data, index = self.random_case((3, 4, 5))
    for position, row in [((1, 2, 3), 6), ((2, 0, 4), -1), ((0, 3, 0), 2**31 - 1)]:
      bad = index.copy()
      bad[position] = row
      where = ", ".join(map(str, position))
      message = rf"index\[{where}\] = {row} is not a CDF row in \[0, 6\)"
      with self.subTest(position=position):
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
          self.encode(data, bad, self.tables, batched=True)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, message):
          self.decode([b"\x12\x34", b"", b"\xff" * 9], bad, self.tables, batched=True)

  def test_threads_report_the_lowest_bad_row(self):
    # 256 items of 300 elements: the batch is split over the CPU threads.
    index = np.zeros((256, 300), np.int32)
    for b, i in [(250, 3), (131, 7), (130, 299), (130, 200), (200, 0)]:
      index[b, i] = 6
    data = np.zeros(index.shape, np.int32)
    strings = self.encode(data, np.zeros(300), self.tables)
    for _ in range(3):
      with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                  r"index\[130, 200\] = 6 is not"):
        self.encode(data, index, self.tables, batched=True)
      with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                  r"index\[130, 200\] = 6 is not"):
        self.decode(strings, index, self.tables, batched=True)

  def test_mismatched_shapes_are_refused_statically(self):
    data, index = self.random_case((3, 4))
    with self.assertRaisesRegex(ValueError, "Dimension"):
      self.encode(data, index[:, :3], self.tables, batched=True)
    with self.assertRaisesRegex(ValueError, "rank|Shapes"):
      self.encode(data, index[0], self.tables, batched=True)
    with self.assertRaisesRegex(ValueError, "Dimension"):
      self.decode([b""] * 2, index, self.tables, batched=True)
    with self.assertRaisesRegex(ValueError, "rank"):
      self.decode([b""], 0, self.tables, batched=True)

  def run_unknown_shapes(self, build, *args):
    """Runs build(*placeholders) with unknown static shapes: the kernel checks them."""
    with tf.Graph().as_default():
      inputs = [tf.compat.v1.placeholder(tf.as_dtype(np.asarray(a).dtype)
                                         if np.asarray(a).dtype != object else tf.string)
                for a in args]
      fetch = build(*inputs)
      with tf.compat.v1.Session() as session:
        return session.run(fetch, dict(zip(inputs, args)))

  def test_mismatched_shapes_are_refused_at_run_time(self):
    data, index = self.random_case((3, 4))
    encode = lambda *a: rc.indexed_range_encode(*a, precision=PRECISION,
                                                batched_index=True)
    decode = lambda *a: rc.indexed_range_decode(*a, precision=PRECISION,
                                                batched_index=True)
    with self.assertRaisesRegex(
        tf.errors.InvalidArgumentError,
        r"with batched_index, index must have the shape of data, \[3,4\], got \[3,3\]"):
      self.run_unknown_shapes(encode, data, index[:, :3], *self.tables)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                r"must have the shape of data, \[3,4\], got \[4\]"):
      self.run_unknown_shapes(encode, data, index[0], *self.tables)
    strings = np.array([b""] * 2, object)
    with self.assertRaisesRegex(
        tf.errors.InvalidArgumentError,
        r"decoded data \[B, \.\.\.\] with B = 2 \(one item per string\), got shape "
        r"\[3,4\]"):
      self.run_unknown_shapes(decode, strings, index, *self.tables)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, r"got shape \[\]"):
      self.run_unknown_shapes(decode, strings, np.int32(0), *self.tables)

  def test_static_shapes(self):
    with tf.Graph().as_default():
      index = tf.compat.v1.placeholder(tf.int32, [None, 5, 2])
      strings = tf.compat.v1.placeholder(tf.string, [7])
      tables = [tf.constant(t) for t in self.tables]
      decoded, exact = rc.indexed_range_decode(strings, index, *tables, PRECISION,
                                               return_exact=True, batched_index=True)
      self.assertEqual(decoded.shape.as_list(), [7, 5, 2])
      self.assertEqual(exact.shape.as_list(), [7])
      data = tf.compat.v1.placeholder(tf.int32, [None, None, 2])
      encoded = rc.indexed_range_encode(data, index, *tables, PRECISION,
                                        batched_index=True)
      self.assertEqual(encoded.shape.as_list(), [None])
      index4 = tf.compat.v1.placeholder(tf.int32, [4, None, None])
      encoded = rc.indexed_range_encode(data, index4, *tables, PRECISION,
                                        batched_index=True)
      self.assertEqual(encoded.shape.as_list(), [4])

  def test_zero_width_symbols_are_refused(self):
    cdf = np.array([[0, 10, 10, 12, 16], [0, 4, 8, 8, 16]], np.int32)
    tables = (cdf, np.array([5, 5], np.int32), np.array([-3, 7], np.int32))
    index = np.array([[[0, 1], [1, 0]], [[1, 1], [0, 0]]], np.int32)
    data = np.where(index == 0, -3, 7).astype(np.int32)  # symbol 0 of each row: fine
    data[1, 0, 1] = 9                                   # row 1, symbol 2: zero width
    data[1, 1, 0] = -2                                  # row 0, symbol 1: zero width
    encode = lambda: run_graph(
        lambda *a: rc.indexed_range_encode(*a, precision=4, batched_index=True),
        data, index, *tables)
    with self.assertRaisesRegex(
        tf.errors.InvalidArgumentError,
        r"data\[1, 0, 1\] = 9 \(batch item 1, position \[0, 1\]\) has zero "
        r"probability in CDF row cdf\[1, :\] \(cdf\[2\] = 8, cdf\[3\] = 8\)"):
      encode()
    data[1, 0, 1] = 7
    with self.assertRaisesRegex(
        tf.errors.InvalidArgumentError,
        r"data\[1, 1, 0\] = -2 \(batch item 1, position \[1, 0\]\) has zero "
        r"probability in CDF row cdf\[0, :\]"):
      encode()

  def test_corrupt_strings_never_crash_and_exact_means_reencodable(self):
    data, index = self.random_case((1, 30), outliers=2)
    good = self.encode(data, index, self.tables, batched=True)[0]
    cases = [self.rng.bytes(int(n)) for n in self.rng.integers(0, 80, 300)]
    cases += [good[:n] for n in range(len(good))] + [good + b"\x00"]
    for _ in range(300):
      flipped = bytearray(good)
      flipped[self.rng.integers(len(good))] ^= 1 << int(self.rng.integers(8))
      cases.append(bytes(flipped))
    cases.append(good)
    rows = np.repeat(index, len(cases), axis=0)
    rows[:300] = self.rng.integers(0, 6, (300, 30))  # random strings, random rows
    decoded, exact = self.decode(cases, rows, self.tables, batched=True)
    self.assertEqual(decoded.shape, (len(cases), 30))
    self.assertAllEqual(decoded[-1], data[0])  # the intact string, with its own rows
    self.assertTrue(exact[-1])
    reencoded = self.encode(decoded[exact], rows[exact], self.tables, batched=True)
    self.assertAllEqual(reencoded, np.array(cases, object)[exact])
    # A string shorter or longer than `good` may be exact, but for other values.
    for b in range(300, 301 + len(good)):
      self.assertFalse(exact[b] and (decoded[b] == data[0]).all())

  def test_eager(self):
    data, index = self.random_case((3, 9), outliers=1)
    strings = rc.indexed_range_encode(data, index, *self.tables, PRECISION,
                                      batched_index=True)
    self.assertAllEqual(strings, self.encode(data, index, self.tables, batched=True))
    decoded = rc.indexed_range_decode(strings, index, *self.tables, PRECISION,
                                      batched_index=True)
    self.assertAllEqual(decoded, data)
    index[2, 8] = 9
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                r"index\[2, 8\] = 9 is not a CDF row"):
      rc.indexed_range_decode(strings, index, *self.tables, PRECISION,
                              batched_index=True)

  def test_batched_index_must_be_a_bool(self):
    with self.assertRaisesRegex(TypeError, "batched_index must be a Python bool"):
      rc.indexed_range_encode([[0]], [[0]], *self.tables, PRECISION, batched_index=1)
    with self.assertRaisesRegex(TypeError, "batched_index must be a Python bool"):
      rc.indexed_range_decode([b""], [[0]], *self.tables, PRECISION, batched_index="yes")


if __name__ == "__main__":
  tf.test.main()
