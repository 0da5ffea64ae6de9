"""Benchmark of the range coding ops: speed (M symbols/s) and compactness.

Run from the repository root after `bazel build //compression:all`:

  python bench/range_coder.py            # the coder figures of README.md
  python bench/range_coder.py --quick    # a smaller, faster run

Graph mode: each op runs in a `tf.compat.v1.Session`; the time is the best of 5 runs
after a warm-up, for one op at a time.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from compression.python.ops import range_coding_ops  # pylint: disable=g-import-not-at-top


def discretized_laplace(size, values, scale, rng):
  """Integers in [0, values) from a Laplacian centred in the range (clipped)."""
  x = np.round(rng.laplace(values / 2 - 0.5, scale, size=size))
  return np.clip(x, 0, values - 1).astype(np.int16)


def best_time(session, fetch, feed=None, repeats=5):
  session.run(fetch, feed)  # warm-up
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    session.run(fetch, feed)
    times.append(time.perf_counter() - start)
  return min(times)


def information_bits(data, cdf, precision):
  """Sum of -log2 of each symbol's quantized probability: the ideal code length."""
  freq = np.diff(cdf.astype(np.float64))
  return float(-np.log2(freq[data.astype(np.int64)] / 2.0**precision).sum())


def long_stream(n, precision, rng):
  values = 64
  data = discretized_laplace(n, values, 3.0, rng)
  hist = np.bincount(data, minlength=values).astype(np.float32)
  with tf.Graph().as_default(), tf.compat.v1.Session() as session:
    cdf_in = tf.compat.v1.placeholder(tf.float32, [values])
    cdf = session.run(range_coding_ops.pmf_to_quantized_cdf(cdf_in, precision),
                      {cdf_in: hist})
    # Variables, not constants: Grappler would fold a constant-input op away.
    data_t = tf.Variable(data)
    cdf_t = tf.Variable(cdf[None])
    string_t = tf.Variable("")
    session.run(tf.compat.v1.global_variables_initializer())
    encoded = range_coding_ops.range_encode(data_t, cdf_t, precision)
    encode_time = best_time(session, encoded.op)
    string = session.run(encoded)
    session.run(string_t.assign(string))
    decoded = range_coding_ops.range_decode(string_t, [n], cdf_t, precision)
    decode_time = best_time(session, decoded.op)
    assert np.array_equal(session.run(decoded), data), "round trip failed"
  bits = information_bits(data, cdf, precision)
  return dict(encode=n / encode_time / 1e6, decode=n / decode_time / 1e6,
              bytes=len(string), overhead=100 * (8 * len(string) / bits - 1))


def short_strings(count, length, precision, rng):
  values = 64
  data = discretized_laplace((count, length), values, 3.0, rng)
  hist = np.bincount(data.ravel(), minlength=values).astype(np.float32)
  with tf.Graph().as_default(), tf.compat.v1.Session() as session:
    cdf = session.run(range_coding_ops.pmf_to_quantized_cdf(hist, precision))
    cdf_t = tf.constant(cdf[None])
    row = tf.compat.v1.placeholder(tf.int16, [length])
    encoded = range_coding_ops.range_encode(row, cdf_t, precision)
    extra = []
    for item in data:
      string = session.run(encoded, {row: item})
      extra.append(len(string) - information_bits(item, cdf, precision) / 8)
  return float(np.mean(extra))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true", help="smaller inputs")
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  n = 400_000 if args.quick else 4_000_000
  count = 1000 if args.quick else 10_000
  print(f"{n:,} int16 symbols, discretized Laplacian over 64 values (scale 3), "
        "one broadcast CDF; best of 5 in a graph-mode Session")
  print(f"{'precision':>9} {'encode M/s':>11} {'decode M/s':>11} {'bytes':>10} "
        f"{'overhead %':>11}")
  for precision in (16, 12):
    r = long_stream(n, precision, rng)
    print(f"{precision:>9} {r['encode']:>11.1f} {r['decode']:>11.1f} {r['bytes']:>10,} "
          f"{r['overhead']:>11.5f}")
  extra = short_strings(count, 50, 16, rng)
  print(f"{count:,} strings of 50 symbols (precision 16): {extra:.3f} bytes per string "
        "beyond the information content")


if __name__ == "__main__":
  main()
