"""Tests of RangeEncode, RangeDecode and PmfToQuantizedCdf (graph mode, as users run them)."""

import threading

import numpy as np
import tensorflow as tf

from compression.python.ops import range_coding_ops as rc
from graph_testutil import run_graph


def quantized_cdf(pmf, precision):
  """A valid CDF row from a pmf, computed by the op under test's eager path."""
  return rc.pmf_to_quantized_cdf(np.asarray(pmf, np.float32), precision).numpy()


class GraphTestCase(tf.test.TestCase):
  """Runs each op in its own tf.Graph and tf.compat.v1.Session."""

  def encode(self, data, cdf, precision):
    return run_graph(lambda d, c: rc.range_encode(d, c, precision),
                          np.asarray(data, np.int16), np.asarray(cdf, np.int32))

  def decode(self, string, shape, cdf, precision):
    return run_graph(
        lambda s, sh, c: rc.range_decode(s, sh, c, precision, return_exact=True),
        np.asarray(string, object), np.asarray(shape, np.int32), np.asarray(cdf, np.int32))

  def assert_round_trip(self, data, cdf, precision):
    data = np.asarray(data, np.int16)
    string = self.encode(data, cdf, precision)
    decoded, exact = self.decode(string, data.shape, cdf, precision)
    self.assertAllEqual(decoded, data)
    self.assertTrue(exact)
    return string


class ReadmeExampleTest(GraphTestCase):

  def test_uniform_histogram_example(self):
    # The worked example of the original coder README, in tf.compat.v1 graph mode.
    with tf.Graph().as_default():
      data = tf.random.uniform((128, 128), 0, 10, dtype=tf.int32, seed=1)
      histogram = tf.math.bincount(data, minlength=10, maxlength=10)
      pmf = tf.cast(histogram, tf.float32) / tf.cast(tf.size(data), tf.float32)
      cdf = rc.pmf_to_quantized_cdf(pmf, precision=14)
      data16 = tf.cast(data, tf.int16)
      encoded = rc.range_encode(data16, tf.reshape(cdf, [1, 1, 11]), precision=14)
      decoded = rc.range_decode(encoded, tf.shape(data), tf.reshape(cdf, [1, 1, 11]),
                                precision=14)
      self.assertEqual(decoded.shape.as_list(), [128, 128])  # static shape from `shape`
      with tf.compat.v1.Session() as session:
        data_v, decoded_v, encoded_v = session.run([data16, decoded, encoded])
    self.assertAllEqual(decoded_v, data_v)
    # Close to the 128 * 128 * log2(10) bits of information.
    self.assertLess(len(encoded_v), 128 * 128 * np.log2(10) / 8 * 1.001 + 8)


class RoundTripTest(GraphTestCase):

  def test_all_precisions_random_cdfs(self):
    rng = np.random.default_rng(0)
    for precision in range(1, 17):
      for m in sorted({1, 2, min(5, 2**precision), min(64, 2**precision)}):
        pmf = rng.random(m) ** 4 + 1e-6
        cdf = quantized_cdf(pmf, precision)
        p = np.diff(cdf) / cdf[-1]
        data = rng.choice(m, size=(300,), p=p)
        with self.subTest(precision=precision, m=m):
          self.assert_round_trip(data, cdf[None], precision)

  def test_skewed_cdf_with_minimum_width_bins(self):
    m = 300
    cdf = np.arange(m + 1, dtype=np.int32)  # bins 0 .. m-2 have width 1
    cdf[-1] = 2**16                          # the last bin holds nearly everything
    rng = np.random.default_rng(1)
    data = np.full(5000, m - 1)
    data[rng.choice(5000, 500, replace=False)] = rng.integers(0, m - 1, 500)
    self.assert_round_trip(data, cdf[None], 16)

  def test_cdf_total_below_two_to_precision(self):
    cdf = np.array([0, 3, 5, 9], np.int32)  # ends at 9 < 16
    self.assert_round_trip([0, 1, 2, 2, 1, 0, 2], cdf[None], 4)

  def test_zero_width_bins_that_are_never_coded(self):
    cdf = np.array([0, 0, 100, 100, 256], np.int32)
    self.assert_round_trip([1, 3, 3, 1], cdf[None], 8)

  def test_empty_data(self):
    cdf = quantized_cdf([1, 1], 8)
    string = self.assert_round_trip(np.zeros((0, 4)), cdf[None, None], 8)
    self.assertEqual(string, b"")

  def test_single_element(self):
    cdf = quantized_cdf([1, 2, 3], 10)
    for v in range(3):
      string = self.assert_round_trip([v], cdf[None], 10)
      self.assertLessEqual(len(string), 2)

  def test_scalar_data(self):
    cdf = quantized_cdf([1, 2, 3], 10)
    self.assert_round_trip(np.int16(2), cdf, 10)

  def test_sixteen_million_symbols_in_one_string(self):
    n = 16 * 2**20 + 3
    rng = np.random.default_rng(2)
    pmf = np.exp(-np.abs(np.arange(32) - 16) / 2.0)
    cdf = quantized_cdf(pmf, 16)
    data = rng.choice(32, size=n, p=np.diff(cdf) / 2**16).astype(np.int16)
    string = self.assert_round_trip(data, cdf[None], 16)
    bits = -np.log2(np.diff(cdf)[data] / 2**16).sum()
    self.assertLess(len(string) * 8, bits * 1.0001 + 64)


class GoldenBytesTest(GraphTestCase):
  """The bitstream is a format: these bytes must never change silently."""

  def test_single_cdf_precision_16(self):
    cdf = np.array([0, 1000, 30000, 60000, 65000, 65536], np.int32)
    data = np.array([1, 2, 1, 0, 4, 3, 2, 2, 1, 1, 2, 3, 0, 4, 1, 2] * 4, np.int16)
    string = self.encode(data, cdf[None], 16)
    self.assertEqual(string.hex(), "38e7526014de85e666b4a4356b5cb6d231dbfa4cfbdcd3")

  def test_broadcast_cdfs_precision_3(self):
    cdf = np.array([[0, 3, 7, 8], [0, 1, 2, 8]], np.int32)
    data = np.array([[0, 1, 2, 1, 0], [2, 2, 2, 1, 0]], np.int16)
    self.assertEqual(self.encode(data, cdf[:, None, :], 3).hex(), "50f6")

  def test_pmf_quantization_rule(self):
    pmf = [0.5, 0.25, 1e-8, 0.0, 0.2499999, 1e-3]
    self.assertAllEqual(quantized_cdf(pmf, 10), [0, 510, 766, 767, 767, 1023, 1024])


class BroadcastTest(GraphTestCase):

  def test_valid_forms(self):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 64, (10, 10))
    for shape in [(10, 10), (1, 10), (10, 1), (1, 1)]:
      pmf = rng.random(shape + (64,)) + 0.01
      cdf = rc.pmf_to_quantized_cdf(pmf.astype(np.float32), 16).numpy()
      with self.subTest(shape=shape):
        self.assert_round_trip(data, cdf, 16)

  def test_broadcast_uses_the_right_rows(self):
    # Row 0 allows only symbol 0 and row 1 only symbol 1: the wrong row would fail.
    cdf = np.array([[[0, 16, 16]], [[0, 0, 16]]], np.int32)  # [2, 1, 3]
    data = np.array([[0, 0, 0], [1, 1, 1]])
    self.assert_round_trip(data, cdf, 4)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "zero probability"):
      self.encode(data[::-1], cdf, 4)

  def test_invalid_forms(self):
    data = np.zeros((10, 10), np.int16)
    for shape in [(2, 10), (10, 2), (5, 1), (10, 10, 1), (10,), (11, 10)]:
      cdf = np.tile(np.array([0, 8, 16], np.int32), shape + (1,))
      with self.subTest(shape=shape):
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                    "does not broadcast|must have rank"):
          self.encode(data, cdf, 4)
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                    "does not broadcast|must have rank"):
          self.decode(b"", data.shape, cdf, 4)


class BadInputTest(GraphTestCase):

  cdf = np.array([[0, 10, 10, 30, 32]], np.int32)  # symbol 1 has zero width

  def assert_encode_error(self, data, cdf, precision, pattern):
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
      self.encode(data, cdf, precision)

  def test_data_outside_range(self):
    self.assert_encode_error([0, 4], self.cdf, 5, r"data\[1\] = 4 is outside \[0, 4\)")
    self.assert_encode_error([-1], self.cdf, 5, r"data\[0\] = -1 is outside \[0, 4\)")

  def test_zero_width_interval(self):
    self.assert_encode_error([0, 2, 1], self.cdf, 5,
                             r"data\[2\] = 1 has zero probability")

  def test_non_monotone(self):
    self.assert_encode_error([0], [[0, 10, 9, 32]], 5,
                             r"cdf\[0, :\] is not non-decreasing: entry 2 = 9")
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "not non-decreasing"):
      self.decode(b"\x00", [1], [[0, 10, 9, 32]], 5)

  def test_first_entry_not_zero(self):
    self.assert_encode_error([0], [[1, 10, 32]], 5, r"must start at 0.* is 1")

  def test_last_entry_above_total(self):
    self.assert_encode_error([0], [[0, 10, 33]], 5,
                             r"ends at 33, above 2\^precision = 32")

  def test_names_the_bad_row(self):
    cdf = np.array([[[0, 1, 2]], [[0, 3, 2]]], np.int32)
    self.assert_encode_error([[0], [0]], cdf, 2, r"cdf\[1, 0, :\]")

  def test_precision_outside_1_to_16(self):
    for precision in (0, 17, 40):
      with self.subTest(precision=precision):
        with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                    "precision"):
          self.encode([0], [[0, 1]], precision)

  def test_wrong_ranks(self):
    self.assert_encode_error(np.zeros((2, 2)), np.zeros((2, 3), np.int32), 4,
                             "must have rank data.rank \\+ 1 = 3")
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                "rank|scalar"):
      self.decode([b"", b""], [1], [[0, 1]], 4)

  def test_decode_shape_negative_or_not_vector(self):
    # A constant shape is checked when the graph is built, a fed one when it runs.
    with self.assertRaisesRegex(ValueError, "-2"):
      self.decode(b"", [3, -2], [[[0, 1]]], 4)
    with tf.Graph().as_default():
      shape = tf.compat.v1.placeholder(tf.int32, [None])
      decoded = rc.range_decode(tf.constant(b""), shape, [[[0, 1]]], 4)
      with tf.compat.v1.Session() as session:
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                    r"shape\[1\] = -2 is negative"):
          session.run(decoded, {shape: [3, -2]})
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError),
                                "rank|vector"):
      self.decode(b"", [[3]], [[[0, 1]]], 4)

  def test_decode_cdf_without_positive_width(self):
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "no symbol of positive"):
      self.decode(b"\x00", [2], [[0, 0, 0]], 4)

  def test_wrong_dtype(self):
    with tf.Graph().as_default():
      with self.assertRaisesRegex(TypeError, "int16"):
        rc.range_encode(tf.constant([0.5]), tf.constant([[0, 1]]), 4)
      with self.assertRaisesRegex(TypeError, "int32"):
        rc.range_encode(tf.constant([0], tf.int16), tf.constant([[0.0, 1.0]]), 4)


class CorruptStringTest(tf.test.TestCase):
  """Any string decodes without a crash; `exact` holds only for a true encoding."""

  def test_sweep(self):
    rng = np.random.default_rng(4)
    pmf = np.exp(-np.abs(np.arange(40) - 20) / 3.0)
    cdf = quantized_cdf(pmf, 16)[None]
    data = rng.choice(40, size=200, p=np.diff(cdf[0]) / 2**16).astype(np.int16)
    with tf.Graph().as_default():
      string_in = tf.compat.v1.placeholder(tf.string, [])
      data_in = tf.compat.v1.placeholder(tf.int16, [200])
      encoded = rc.range_encode(data_in, cdf, 16)
      decoded, exact = rc.range_decode(string_in, [200], cdf, 16, return_exact=True)
      with tf.compat.v1.Session() as session:
        good = session.run(encoded, {data_in: data})
        cases = [rng.bytes(int(n)) for n in rng.integers(0, 300, 1500)]
        cases += [good[:n] for n in range(len(good))]
        cases += [good + b"\x00", good + b"\x01", b"\xff" * len(good)]
        for _ in range(1500):
          flipped = bytearray(good)
          flipped[rng.integers(len(good))] ^= 1 << int(rng.integers(8))
          cases.append(bytes(flipped))
        self.assertTrue(session.run(exact, {string_in: good}))
        exact_count = 0
        for case in cases:
          values, is_exact = session.run([decoded, exact], {string_in: case})
          self.assertEqual(values.shape, (200,))
          self.assertTrue(((values >= 0) & (values < 40)).all())
          if is_exact:  # then the string must be exactly the encoding of the values
            exact_count += 1
            self.assertEqual(session.run(encoded, {data_in: values}), case)
        # The code has almost no redundancy, so some corrupt strings are valid
        # encodings of other values (above: then re-encoding reproduces them). But
        # extra or missing bytes are caught, and random strings rarely pass.
        for case in [good + b"\x00", good + b"\x01"] + [good[:n] for n in range(90)]:
          self.assertFalse(session.run(exact, {string_in: case}))
        self.assertLess(exact_count, len(cases) // 4)


class ThreadSafetyTest(tf.test.TestCase):

  def test_two_threads_encode_at_once(self):
    rng = np.random.default_rng(5)
    cdf = quantized_cdf(np.arange(1, 21), 14)[None]
    inputs = [rng.integers(0, 20, 200_000).astype(np.int16) for _ in range(2)]
    with tf.Graph().as_default():
      data_in = tf.compat.v1.placeholder(tf.int16, [None])
      encoded = rc.range_encode(data_in, cdf, 14)
      with tf.compat.v1.Session() as session:
        alone = [session.run(encoded, {data_in: d}) for d in inputs]
        together = [None, None]

        def work(i):
          for _ in range(5):
            together[i] = session.run(encoded, {data_in: inputs[i]})
            self.assertEqual(together[i], alone[i])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
          t.start()
        for t in threads:
          t.join()
    self.assertEqual(together, alone)


class PmfToQuantizedCdfTest(tf.test.TestCase):

  def check_rows(self, pmf, cdf, precision):
    pmf = np.asarray(pmf).reshape(-1, pmf.shape[-1])
    cdf = cdf.reshape(-1, cdf.shape[-1])
    self.assertAllEqual(cdf[:, 0], np.zeros(len(cdf)))
    self.assertAllEqual(cdf[:, -1], np.full(len(cdf), 2**precision))
    counts = np.diff(cdf, axis=-1)
    self.assertTrue((counts[pmf > 0] >= 1).all())
    self.assertTrue((counts[pmf == 0] == 0).all())

  def test_sums_and_minimum_bins(self):
    rng = np.random.default_rng(6)
    for precision in (1, 4, 8, 12, 16):
      m = min(2**precision, 50)
      pmf = (rng.random((7, m)) ** 8).astype(np.float32)
      pmf[:, 0] += 1e-30
      cdf = self.evaluate(rc.pmf_to_quantized_cdf(pmf, precision))
      self.assertEqual(cdf.shape, (7, m + 1))
      self.check_rows(pmf, cdf, precision)

  def test_zeros_denormals_and_single_bin(self):
    pmf = np.array([[0, 1e-45, 0.5, 0, 0.5], [1e-40, 0, 0, 0, 0]], np.float32)
    cdf = self.evaluate(rc.pmf_to_quantized_cdf(pmf, 16))
    self.check_rows(pmf, cdf, 16)
    single = self.evaluate(rc.pmf_to_quantized_cdf(np.array([0.3], np.float32), 5))
    self.assertAllEqual(single, [0, 32])

  def test_many_tiny_bins_take_counts_from_the_largest(self):
    pmf = np.full(100, 1e-9, np.float32)
    pmf[7] = 1
    cdf = self.evaluate(rc.pmf_to_quantized_cdf(pmf, 8))
    self.check_rows(pmf, cdf, 8)
    self.assertEqual(np.diff(cdf)[7], 256 - 99)

  def test_graph_shape_inference(self):
    with tf.Graph().as_default():
      pmf = tf.compat.v1.placeholder(tf.float32, [3, None, 9])
      self.assertEqual(rc.pmf_to_quantized_cdf(pmf, 8).shape.as_list(), [3, None, 10])

  def test_deterministic(self):
    rng = np.random.default_rng(7)
    pmf = rng.random((50, 33)).astype(np.float32)
    first = self.evaluate(rc.pmf_to_quantized_cdf(pmf, 16))
    for _ in range(3):
      self.assertAllEqual(self.evaluate(rc.pmf_to_quantized_cdf(pmf, 16)), first)

  def test_bad_pmfs(self):
    cases = [([0.5, np.nan], "entry 1 = nan"), ([0.5, -0.1], "entry 1 = -0.1"),
             ([np.inf, 1], "entry 0 = inf"), ([0, 0], "no positive entry")]
    for pmf, pattern in cases:
      with self.subTest(pmf=pmf):
        with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
          self.evaluate(rc.pmf_to_quantized_cdf(np.array(pmf, np.float32), 8))
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "more than 2\\^precision"):
      self.evaluate(rc.pmf_to_quantized_cdf(np.ones(5, np.float32), 2))
    with self.assertRaisesRegex((ValueError, tf.errors.InvalidArgumentError), "rank"):
      self.evaluate(rc.pmf_to_quantized_cdf(np.float32(1), 8))


if __name__ == "__main__":
  tf.test.main()
