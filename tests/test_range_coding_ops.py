"""Tests of RangeEncode, RangeDecode and PmfToQuantizedCdf (graph mode, as users run them)."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import tensorflow as tf

from compression.python.ops import range_coding_ops as rc
from graph_testutil import run_graph

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


# Runs the decodes of huge shapes of issue 7 in a child process, so that a crash fails
# the test instead of killing pytest. Prints one JSON line.
_HUGE_SHAPE_SCRIPT = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import tensorflow as tf
from compression.python.ops import range_coding_ops as rc

cdf = np.array([[[[0, 4, 8]]]], np.int32)
outcome = {}

def attempt(name, run):
  try:
    run()
    outcome[name] = "no error"
  except tf.errors.OpError as e:
    outcome[name] = type(e).__name__ + ": " + " ".join(e.message.split())

def graph(shape, fed):
  with tf.Graph().as_default():
    shape_in = tf.compat.v1.placeholder(tf.int32, [3]) if fed else tf.constant(shape)
    decoded = rc.range_decode(tf.constant(b""), shape_in, cdf, 4)
    with tf.compat.v1.Session() as session:
      session.run(decoded, {shape_in: shape} if fed else None)

# Memory (first, before other peaks): decoding [2**25, 1] needs its 64 MiB output
# and nothing else that scales with the data.
with tf.Graph().as_default():
  shape_in = tf.compat.v1.placeholder(tf.int32, [2])
  decoded = rc.range_decode(tf.constant(b""), shape_in, cdf[0], 4)
  with tf.compat.v1.Session() as session:
    session.run(decoded.op, {shape_in: [4, 1]})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session.run(decoded.op, {shape_in: [2**25, 1]})
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcome["peak_growth_mib"] = (after - before) / 1024

for n in (2**20, 2**31 - 1):
  shape = [n, n, 1]
  attempt(f"placeholder {n}", lambda: graph(shape, True))
  attempt(f"constant {n}", lambda: graph(shape, False))
  attempt(f"eager {n}", lambda: rc.range_decode(b"", shape, cdf, 4))
attempt("overflow", lambda: rc.range_decode(b"", [2**31 - 1] * 3, cdf, 4))
# 2**20 strings of 2**20 elements: 4 TiB of int32.
attempt("indexed", lambda: rc.indexed_range_decode(
    np.full(2**20, b"", object), np.zeros(2**20, np.int32), [[0, 8, 16]], [3], [0], 4))

print(json.dumps(outcome))
"""


class HugeShapeTest(tf.test.TestCase):
  """Issue 7, item 1: huge decode shapes are errors, never crashes."""

  def test_huge_decode_shapes_are_errors_in_every_mode(self):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", _HUGE_SHAPE_SCRIPT, _REPO],
                            capture_output=True, text=True, env=env, timeout=120,
                            check=False)
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    for n in (2**20, 2**31 - 1):
      for mode in ("placeholder", "constant", "eager"):
        with self.subTest(mode=mode, n=n):
          self.assertRegex(outcome[f"{mode} {n}"],
                           "^ResourceExhaustedError: .*output 0 of "
                           rf"shape \[{n},{n},1\] would take .*bytes of memory")
    self.assertRegex(outcome["overflow"], "^InvalidArgumentError: .*2\\*\\*63 - 1")
    self.assertRegex(outcome["indexed"], "^ResourceExhaustedError: .*bytes of memory")
    # The broadcast plan once took 8 bytes per element (256 MiB here).
    self.assertLess(outcome["peak_growth_mib"], 64 + 48)


class BroadcastPlanTest(GraphTestCase):
  """Every broadcast pattern gives the bytes of the fully materialised CDF."""

  def test_random_shapes_match_materialised_cdfs(self):
    rng = np.random.default_rng(8)
    with tf.Graph().as_default():
      data_in = tf.compat.v1.placeholder(tf.int16)
      cdf_in = tf.compat.v1.placeholder(tf.int32)
      string_in = tf.compat.v1.placeholder(tf.string, [])
      encoded = rc.range_encode(data_in, cdf_in, 10)
      decoded, exact = rc.range_decode(string_in, tf.shape(data_in), cdf_in, 10,
                                       return_exact=True)
      with tf.compat.v1.Session() as session:
        for trial in range(60):
          rank = int(rng.integers(0, 5))
          shape = tuple(int(x) for x in rng.choice([0, 1, 1, 2, 3, 5], rank,
                                                   p=[.05, .25, .1, .2, .2, .2]))
          cdf_shape = tuple(d if rng.random() < 0.5 else 1 for d in shape)
          counts = rng.integers(1, 100, cdf_shape + (6,))  # sums stay below 2**10
          cdf = np.concatenate([np.zeros(cdf_shape + (1,), np.int32),
                                np.cumsum(counts, axis=-1, dtype=np.int32)], axis=-1)
          data = rng.integers(0, 6, shape).astype(np.int16)
          full = np.ascontiguousarray(np.broadcast_to(cdf, shape + (7,)))
          with self.subTest(trial=trial, shape=shape, cdf_shape=cdf_shape):
            string = session.run(encoded, {data_in: data, cdf_in: cdf})
            self.assertEqual(string, session.run(encoded, {data_in: data, cdf_in: full}))
            values, is_exact = session.run([decoded, exact], {
                string_in: string, data_in: data, cdf_in: cdf})
            self.assertAllEqual(values, data)
            self.assertTrue(is_exact)


def random_cdf_with_zero_bins(m, precision, rng):
  """A random CDF of m symbols whose bins are often zero-width; ends above 0."""
  total = 2**precision
  cdf = np.sort(rng.integers(0, total + 1, m + 1))
  cdf[0] = 0
  for i in range(1, m + 1):
    if rng.random() < 0.3:
      cdf[i] = cdf[i - 1]
  if cdf[-1] == 0:
    cdf[-1] = total
  return cdf.astype(np.int32)


class ZeroWidthFuzzTest(tf.test.TestCase):
  """Issue 7, item 2: every accepted input round-trips; every refused one names why."""

  def test_random_tables_with_zero_width_bins(self):
    rng = np.random.default_rng(9)
    with tf.Graph().as_default():
      data_in = tf.compat.v1.placeholder(tf.int16, [None])
      cdf_in = tf.compat.v1.placeholder(tf.int32, [1, None])
      string_in = tf.compat.v1.placeholder(tf.string, [])
      precision_ops = {}
      for precision in range(1, 17):
        encoded = rc.range_encode(data_in, cdf_in, precision)
        decoded, exact = rc.range_decode(string_in, tf.shape(data_in), cdf_in,
                                         precision, return_exact=True)
        precision_ops[precision] = encoded, decoded, exact
      accepted = refused = 0
      with tf.compat.v1.Session() as session:
        for trial in range(300):
          precision = int(rng.integers(1, 17))
          cdf = random_cdf_with_zero_bins(int(rng.integers(1, 20)), precision, rng)
          width = np.diff(cdf)
          pool = np.flatnonzero(width > 0) if trial % 2 else np.arange(len(width))
          data = rng.choice(pool, int(rng.integers(1, 40))).astype(np.int16)
          bad = np.flatnonzero(width[data] == 0)
          encoded, decoded, exact = precision_ops[precision]
          feed = {data_in: data, cdf_in: cdf[None]}
          with self.subTest(trial=trial):
            if bad.size:
              i = bad[0]
              with self.assertRaisesRegex(
                  tf.errors.InvalidArgumentError,
                  rf"data\[{i}\] = {data[i]} has zero probability in CDF row "
                  rf"cdf\[0, :\] \(cdf\[{data[i]}\] = {cdf[data[i]]}, "):
                session.run(encoded, feed)
              refused += 1
            else:
              string = session.run(encoded, feed)
              feed[string_in] = string
              values, is_exact = session.run([decoded, exact], feed)
              self.assertAllEqual(values, data)
              self.assertTrue(is_exact)
              accepted += 1
      self.assertGreater(min(accepted, refused), 50)


class ArgumentCheckTest(GraphTestCase):
  """Issue 7, item 6: precision must be an int; one symbol limit for both directions."""

  def test_precision_must_be_an_int(self):
    cdf = tf.constant([[0, 8, 16]])
    for precision in (2.5, 4.0, True, False, "4", None, np.float32(4)):
      with self.subTest(precision=precision):
        for op in (lambda: rc.range_encode(tf.constant([0], tf.int16), cdf, precision),
                   lambda: rc.range_decode(b"", [1], cdf, precision),
                   lambda: rc.pmf_to_quantized_cdf([1.0, 1.0], precision)):
          with self.assertRaisesRegex(TypeError, "precision must be an int in 1..16"):
            op()
    with self.assertRaisesRegex(ValueError, "precision must be in 1..16, got 17"):
      rc.range_encode(tf.constant([0], tf.int16), cdf, 17)
    # numpy integers are ints.
    self.assertAllEqual(rc.pmf_to_quantized_cdf([1.0, 1.0], np.int64(4)), [0, 8, 16])

  def test_same_symbol_limit_for_encode_and_decode(self):
    data = np.arange(0, 32768, 7, dtype=np.int16)
    cdf = np.arange(0, 2 * 32768 + 1, 2, dtype=np.int32)  # 32768 symbols of width 2
    self.assert_round_trip(data, cdf[None], 16)
    too_many = np.append(cdf, 2 * 32768)[None]  # 32769 symbols
    pattern = r"cdf has 32769 symbols .*at most 32768"
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
      self.encode(data, too_many, 16)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, pattern):
      self.decode(b"", data.shape, too_many, 16)
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError,
                                r"cdf has 40000 symbols .*at most 32768"):
      self.encode([0], np.zeros((1, 40001), np.int32), 16)


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

  def test_negative_zero_counts_as_zero(self):
    pmf = np.array([0.5, -0.0, 0.25, 0.25], np.float32)
    cdf = self.evaluate(rc.pmf_to_quantized_cdf(pmf, 8))
    self.assertAllEqual(cdf, self.evaluate(rc.pmf_to_quantized_cdf(np.abs(pmf), 8)))
    self.assertAllEqual(cdf, [0, 128, 128, 192, 256])
    # A negative subnormal is still negative, whatever the flush-to-zero mode.
    with self.assertRaisesRegex(tf.errors.InvalidArgumentError, "entry 1 = "):
      self.evaluate(rc.pmf_to_quantized_cdf(np.array([0.5, -1e-45], np.float32), 8))

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
