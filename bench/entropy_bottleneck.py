"""Benchmark of EntropyBottleneck compress / decompress after fitting the layer.

Run from the repository root after `bazel build //compression:all`:

  python bench/entropy_bottleneck.py          # the figures of README.md
  python bench/entropy_bottleneck.py --quick  # fewer fitting steps

1. A float latent of shape (16, 32, 32, 192) whose channels follow Laplacians of
   scales from 0.3 to 10: the layer is fitted to such data (rate loss and aux loss,
   Adam), its tables updated, then compress and decompress are timed (best of 5 after
   a warm-up, graph-mode Session, inputs in variables). The coded size is compared
   with the layer's estimate, the sum of -log2 likelihoods of the rounded values.
2. 10,000 strings of 50 elements (the MNIST case): time per string of one batched
   compress and decompress call.
3. Coded size against the estimate when the aux loss has NOT converged (issue 7): the
   layer is fitted to one (16, 32, 32, 192) tensor of such latents for 300 steps
   (Adam 1e-2 on the rate, minibatches of 2; the aux loss on its own Adam 1e-2), plus
   300 steps of the aux loss alone. The tables are built twice: as the update op did
   before, on the range between the tail quantiles, and by the update op, which finds
   the range on the density. Printed: coded bytes vs. estimate, escape-coded share.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # pylint: disable=g-import-not-at-top
import tensorflow as tf  # pylint: disable=g-import-not-at-top

from compression.python.layers.entropy_bottleneck import EntropyBottleneck  # pylint: disable=g-import-not-at-top


def best_time(session, fetch, repeats=5):
  session.run(fetch)  # warm-up
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    session.run(fetch)
    times.append(time.perf_counter() - start)
  return min(times)


def laplace_latents(shape, rng):
  """Channels-last latents; channel c has Laplace scale log-spaced in [0.3, 10]."""
  scales = np.geomspace(0.3, 10, shape[-1]).astype(np.float32)
  return (rng.laplace(size=shape) * scales).astype(np.float32)


def fitted_layer_benchmark(shape, fit_steps, fit_batch, rng):
  data = laplace_latents(shape, rng)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    layer = EntropyBottleneck()
    sample = tf.compat.v1.placeholder(tf.float32, (fit_batch,) + shape[1:])
    _, likelihoods = layer(sample, training=True)
    rate = tf.reduce_sum(-tf.math.log(likelihoods)) / np.log(2.0) / fit_batch
    fit = tf.group(
        tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
            rate, var_list=layer.density_variables),
        tf.compat.v1.train.AdamOptimizer(0.5).minimize(
            layer.losses[0], var_list=layer.quantile_variables))
    latents = tf.Variable(data, trainable=False)
    strings_var = tf.Variable(tf.zeros([shape[0]], tf.string), trainable=False)
    rounded, eval_likelihoods = layer(latents, training=False)
    estimate_bits = tf.reduce_sum(-tf.math.log(eval_likelihoods)) / np.log(2.0)
    strings = layer.compress(latents)
    decoded = layer.decompress(strings_var, shape[1:])
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      for step in range(fit_steps):
        batch = laplace_latents((fit_batch,) + shape[1:], rng)
        session.run(fit, {sample: batch})
      session.run(layer.updates[0])
      compress_time = best_time(session, strings.op)
      coded = session.run(strings)
      session.run(strings_var.assign(coded))
      decompress_time = best_time(session, decoded.op)
      out, expected, bits = session.run([decoded, rounded, estimate_bits])
  assert np.array_equal(out, expected), "round trip failed"
  elements = data.size
  coded_bits = 8 * sum(len(s) for s in coded)
  return dict(compress=elements / compress_time / 1e6,
              decompress=elements / decompress_time / 1e6,
              coded_bytes=coded_bits / 8, estimate_bytes=bits / 8,
              excess=100 * (coded_bits / bits - 1))


def short_aux_benchmark(shape, fit_steps, aux_steps, rng):
  """Issue 7: tables after a short aux training, quantile range vs. the update op."""
  data = laplace_latents(shape, rng)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    layer = EntropyBottleneck()
    sample = tf.compat.v1.placeholder(tf.float32, (2,) + shape[1:])
    _, likelihoods = layer(sample, training=True)
    rate = tf.reduce_sum(-tf.math.log(likelihoods)) / np.log(2.0) / 2
    aux = tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
        layer.losses[0], var_list=layer.quantile_variables)
    fit = tf.group(tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
        rate, var_list=layer.density_variables), aux)
    latents = tf.Variable(data, trainable=False)
    rounded, eval_likelihoods = layer(latents, training=False)
    estimate_bits = tf.reduce_sum(-tf.math.log(eval_likelihoods)) / np.log(2.0)
    strings = layer.compress(latents)
    # The update op as it was: the coded range between the tail quantiles.
    # pylint: disable=protected-access
    quantiles, offset = layer.quantile_variables[0], layer._median_offset()
    quantile_update = layer._assign_tables(layer._tables_for_range(
        tf.cast(tf.floor(quantiles[:, 0, 0] - offset), tf.int64),
        tf.cast(tf.math.ceil(quantiles[:, 0, 2] - offset), tf.int64), offset))
    # pylint: enable=protected-access
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      for step in range(fit_steps):
        start = 2 * step % shape[0]
        session.run(fit, {sample: data[start:start + 2]})
      for _ in range(aux_steps):
        session.run(aux)
      values, bits = session.run([rounded, estimate_bits])
      results = {}
      for name, update in [("quantiles", quantile_update),
                           ("update op", layer.updates[0])]:
        start = time.perf_counter()
        session.run(update)
        seconds = time.perf_counter() - start
        coded_bits = 8 * sum(len(s) for s in session.run(strings))
        _, length, lower, quantization = session.run(layer.non_trainable_variables[:4])
        symbols = np.round(values - quantization / 256.)
        escaped = np.mean((symbols < lower) | (symbols > lower + length - 3))
        results[name] = dict(coded_bytes=coded_bits / 8, estimate_bytes=bits / 8,
                             excess=100 * (coded_bits / bits - 1),
                             escaped=100 * escaped, seconds=seconds)
  return results


def short_strings_benchmark(count, length, rng):
  data = laplace_latents((count, length), rng)
  with tf.Graph().as_default():
    layer = EntropyBottleneck()
    latents = tf.Variable(data, trainable=False)
    strings_var = tf.Variable(tf.zeros([count], tf.string), trainable=False)
    _, likelihoods = layer(latents, training=True)
    rate = tf.reduce_sum(-tf.math.log(likelihoods))
    fit = tf.group(
        tf.compat.v1.train.AdamOptimizer(1e-2).minimize(
            rate, var_list=layer.density_variables),
        tf.compat.v1.train.AdamOptimizer(0.5).minimize(
            layer.losses[0], var_list=layer.quantile_variables))
    strings = layer.compress(latents)
    decoded = layer.decompress(strings_var, [length])
    with tf.compat.v1.Session() as session:
      session.run(tf.compat.v1.global_variables_initializer())
      for _ in range(200):
        session.run(fit)
      session.run(layer.updates[0])
      encode_time = best_time(session, strings.op)
      session.run(strings_var.assign(session.run(strings)))
      decode_time = best_time(session, decoded.op)
  return dict(encode_us=encode_time / count * 1e6, decode_us=decode_time / count * 1e6)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--quick", action="store_true", help="fewer fitting steps")
  parser.add_argument("--skip_aux", action="store_true",
                      help="skip the short-aux-training comparison (part 3)")
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  shape = (16, 32, 32, 192)
  r = fitted_layer_benchmark(shape, 100 if args.quick else 400, 2, rng)
  print(f"EntropyBottleneck on a {shape} float latent (Laplacian channels, fitted), "
        "graph-mode Session, best of 5:")
  print(f"  compress   {r['compress']:7.1f} M elements/s")
  print(f"  decompress {r['decompress']:7.1f} M elements/s")
  print(f"  coded {r['coded_bytes']:,.0f} bytes vs. estimate {r['estimate_bytes']:,.0f} "
        f"bytes: {r['excess']:+.4f}%")
  s = short_strings_benchmark(10_000, 50, rng)
  print("10,000 strings of 50 elements, one batched call: "
        f"{s['encode_us']:.3f} us to encode, {s['decode_us']:.3f} us to decode a string")
  if args.skip_aux:
    return
  a = short_aux_benchmark(shape, 300, 300, rng)
  print(f"Short aux training ({shape}, 300 steps Adam 1e-2, aux Adam 1e-2, 300 extra "
        "aux steps), coded size vs. estimate with the coded range:")
  for name, r in a.items():
    print(f"  from the {name:9s}: coded {r['coded_bytes']:,.0f} bytes vs. estimate "
          f"{r['estimate_bytes']:,.0f} bytes: {r['excess']:+.4f}%, "
          f"{r['escaped']:.3f}% of the values escape coded (update {r['seconds']:.2f} s)")


if __name__ == "__main__":
  main()
