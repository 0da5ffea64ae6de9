"""Tests of the conditional models' index check: a scale mismatch is never silent.

A decoder whose float scales put an element on the other side of a table boundary
than the encoder's must fail with an InvalidArgumentError before decoding, never
decode other values. Cases: scales exactly on table entries perturbed by one ulp in
the decoder (each mismatch forced), and a float conv hyper-synthesis whose scales sit
on table boundaries, decoded in child processes with oneDNN off and on and 1 and 4
threads.

Run with `python -m pytest tests/test_index_check.py`.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

import compression  # pylint: disable=g-import-not-at-top
from compression.python.layers import entropy_model  # pylint: disable=g-import-not-at-top

pytestmark = pytest.mark.both_tf_behaviors

v1 = tf.compat.v1
TABLE = np.float32(compression.default_scale_table())


def _table_index(scales):
  """The conditional models' rule: the largest table entry <= the (bounded) scale."""
  return np.clip(np.searchsorted(TABLE, scales, side="right") - 1, 0, len(TABLE) - 1)


def _on_boundaries(rng, shape):
  """float32 scales exactly equal to table entries (each on a table boundary)."""
  return TABLE[rng.integers(1, len(TABLE), shape)]


class _Coder:
  """Encoder and decoder graphs of GaussianConditional on scale placeholders."""

  def __init__(self, shape, index_check=None):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.scale = v1.placeholder(tf.float32, shape)
      self.y = v1.placeholder(tf.float32, shape)
      self.decoder_scale = v1.placeholder(tf.float32, shape)
      self.strings_in = v1.placeholder(tf.string, [shape[0]])
      kwargs = {} if index_check is None else dict(index_check=index_check)
      encoder = compression.GaussianConditional(self.scale, name="gc", **kwargs)
      self.strings = encoder.compress(self.y)
      decoder = compression.GaussianConditional(self.decoder_scale, name="gc",
                                                **kwargs)
      self.decoded, self.exact = decoder.decompress(self.strings_in,
                                                    return_exact=True)
      self.decoder = decoder
      self.sess = v1.Session()
      self.sess.run(v1.global_variables_initializer())

  def encode(self, scale, y):
    return self.sess.run(self.strings, {self.scale: scale, self.y: y})

  def decode(self, strings, scale):
    return self.sess.run([self.decoded, self.exact],
                         {self.strings_in: strings, self.decoder_scale: scale})


def test_format_version_and_hash_of_the_indexes():
  rng = np.random.default_rng(0)
  shape = [3, 5, 7]
  scale = np.float32(np.exp(rng.uniform(-3, 6, shape)))
  y = np.float32(rng.normal(0, 1, shape) * scale)
  checked, plain = _Coder(shape), _Coder(shape, index_check=False)
  assert checked.decoder.index_check and not plain.decoder.index_check
  with_check, without = checked.encode(scale, y), plain.encode(scale, y)
  indexes = _table_index(scale).astype("<i4")
  for b in range(3):
    assert len(with_check[b]) == len(without[b]) + entropy_model.INDEX_CHECK_BYTES
    assert with_check[b][4:] == without[b]         # the payload is unchanged
    assert with_check[b][0] == entropy_model.INDEX_CHECK_VERSION == 1
    # Bytes 1..3: the low bytes of farmhash64 of the item's int32 indexes (LE).
    with tf.Graph().as_default(), v1.Session() as sess:
      hashed = sess.run(tf.fingerprint(
          np.frombuffer(indexes[b].tobytes(), np.uint8)[None]))[0]
    assert with_check[b][1:4] == hashed[:3].tobytes()
  decoded, exact = checked.decode(with_check, scale)
  np.testing.assert_array_equal(decoded, np.round(y))
  assert exact.all()


def test_every_one_ulp_mismatch_across_a_boundary_is_caught():
  rng = np.random.default_rng(1)
  shape = [4, 6, 8]
  scale = _on_boundaries(rng, shape)
  y = np.float32(rng.normal(0, 1, shape) * scale)
  coder, unchecked = _Coder(shape), _Coder(shape, index_check=False)
  strings = coder.encode(scale, y)
  plain_strings = unchecked.encode(scale, y)
  silently_wrong = 0
  trials = 60
  for trial in range(trials):
    position = tuple(rng.integers(0, n) for n in shape)
    perturbed = scale.copy()
    # One ulp down: below the table entry, so the decoder picks the entry before.
    perturbed[position] = np.nextafter(perturbed[position], np.float32(0))
    assert _table_index(perturbed)[position] == _table_index(scale)[position] - 1
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
      coder.decode(strings, perturbed)
    message = str(error.value)
    assert "scale mismatch" in message and "indexes=" in message
    assert f"first at item {position[0]}" in message and "index check of 1 of 4" in message
    # Without the check the same mismatch decodes to other values.
    decoded, _ = unchecked.decode(plain_strings, perturbed)
    silently_wrong += not np.array_equal(decoded, np.round(y))
    if trial % 20 == 0:
      # One ulp up stays on the same entry: decodes exactly.
      perturbed = scale.copy()
      perturbed[position] = np.nextafter(perturbed[position], np.float32(np.inf))
      decoded, exact = coder.decode(strings, perturbed)
      np.testing.assert_array_equal(decoded, np.round(y))
      assert exact.all()
  assert silently_wrong >= trials // 2, "the unchecked decoder should go wrong"


def test_check_is_verified_before_the_decode_op_runs():
  coder = _Coder([2, 3])
  decode_ops = [op for op in coder.graph.get_operations()
                if op.type == "IndexedRangeDecode"]
  assert len(decode_ops) == 1
  # The strings reach the decoder only through the check's Assert.
  seen, stack, asserts = set(), [decode_ops[0].inputs[0].op], []
  while stack:
    op = stack.pop()
    if op.name in seen:
      continue
    seen.add(op.name)
    if op.type == "Assert" and "index_check" in op.name:
      asserts.append(op.name)
    stack += [t.op for t in op.inputs] + list(op.control_inputs)
  assert any("decompress/index_check" in name for name in asserts), asserts


def test_short_strings_other_versions_and_unchecked_strings_are_refused():
  rng = np.random.default_rng(2)
  shape = [2, 9]
  scale = np.float32(np.exp(rng.uniform(-2, 4, shape)))
  y = np.float32(rng.normal(0, 1, shape) * scale)
  coder = _Coder(shape)
  strings = coder.encode(scale, y)
  plain = _Coder(shape, index_check=False).encode(scale, y)
  for strings_in, pattern in [([strings[0], strings[1][:3]], "shorter than its 4-byte"),
                              ([strings[0], b"\x02" + strings[1][1:]],
                               "unknown index check version"),
                              (plain, "index check|shorter")]:
    with pytest.raises(tf.errors.InvalidArgumentError, match=pattern):
      coder.decode(strings_in, scale)


def test_indexes_turn_the_check_off_and_it_can_be_forced_on():
  with tf.Graph().as_default():
    indexes = tf.zeros([2, 3], tf.int32)
    assert not compression.GaussianConditional(None, indexes=indexes).index_check
    assert compression.GaussianConditional(
        None, indexes=indexes, index_check=True).index_check
    assert compression.LaplacianConditional(tf.ones([2, 3])).index_check


# -- Two processes. ------------------------------------------------------------------

_Z_SHAPE = [6, 4, 4, 24]
_FEATURES = 48


def _hyper_synthesis(z_hat):
  """A float conv hyper-synthesis whose scales sit on table boundaries.

  A ReLU transposed conv of z_hat, then a transposed conv of [f, f] with kernel
  [W, -W]: zero in exact arithmetic, a rounding residue in float32 whose size and
  sign depend on the summation order. The scales are `table[k_c] * exp(h)`: on a
  table entry when the residue is 0, across the boundary when it is negative.
  """
  rng = np.random.default_rng(3)
  w1 = v1.get_variable("w1", initializer=np.float32(
      rng.normal(0, .5, [5, 5, _FEATURES, _Z_SHAPE[-1]])))
  w2 = v1.get_variable("w2", initializer=np.float32(
      rng.normal(0, .5, [5, 5, 16, _FEATURES])))
  entries = v1.get_variable("entries", initializer=TABLE[rng.integers(1, 64, [16])])
  features = tf.nn.relu(tf.nn.conv2d_transpose(
      z_hat, w1, tf.stack([tf.shape(z_hat)[0], 8, 8, _FEATURES]), 2))
  doubled = tf.concat([features, features], axis=-1)
  kernel = tf.concat([w2, -w2], axis=-1)
  h = tf.nn.conv2d_transpose(doubled, kernel,
                             tf.stack([tf.shape(z_hat)[0], 16, 16, 16]), 2)
  return entries * tf.exp(h)


_DECODER = r"""
import json, sys
request = json.load(sys.stdin)
sys.path.insert(0, request["repo"])
import numpy as np
import tensorflow as tf
sys.path.insert(0, request["tests"])
import test_index_check as t
import compression

v1 = tf.compat.v1
with tf.Graph().as_default():
  z_hat = v1.placeholder(tf.float32, [1] + t._Z_SHAPE[1:])
  string = v1.placeholder(tf.string, [1])
  scale = t._hyper_synthesis(z_hat)
  gc = compression.GaussianConditional(scale, name="gc")
  decoded = gc.decompress(string)
  threads = request["threads"]
  config = v1.ConfigProto(intra_op_parallelism_threads=threads,
                          inter_op_parallelism_threads=threads)
  with v1.Session(config=config) as sess:
    v1.train.Saver().restore(sess, request["checkpoint"])
    results = []
    for i, (z, s) in enumerate(zip(request["z_hat"], request["strings"])):
      feed = {z_hat: np.float32(z)[None], string: [bytes.fromhex(s)]}
      scales = sess.run(scale, feed)[0]
      indexes = t._table_index(scales)
      same = bool(np.array_equal(indexes, np.int64(request["indexes"][i])))
      try:
        values = sess.run(decoded, feed)[0]
        outcome = "decoded" if np.array_equal(values, np.float32(request["y_hat"][i])) else "wrong"
      except tf.errors.InvalidArgumentError as e:
        outcome = "caught" if "scale mismatch" in str(e) else "error: " + str(e)[:200]
      results.append(dict(same_indexes=same, outcome=outcome))
print(json.dumps(results))
"""


def test_float_hyper_synthesis_decoded_in_other_processes(tmp_path):
  rng = np.random.default_rng(4)
  z_value = np.float32(np.round(rng.normal(0, 2, _Z_SHAPE)))
  path = str(tmp_path / "model")
  with tf.Graph().as_default():
    z_hat = tf.constant(z_value)
    scale = _hyper_synthesis(z_hat)
    gc = compression.GaussianConditional(scale, name="gc")
    y = v1.placeholder(tf.float32, [_Z_SHAPE[0], 16, 16, 16])
    strings = gc.compress(y)
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      scales = sess.run(scale)
      y_value = np.float32(rng.normal(0, 1, scales.shape) * scales * 2)
      strings = sess.run(strings, {y: y_value})
      v1.train.Saver().save(sess, path)
  request = dict(repo=_REPO, tests=os.path.dirname(os.path.abspath(__file__)),
                 checkpoint=path, z_hat=z_value.tolist(),
                 strings=[s.hex() for s in strings],
                 indexes=_table_index(scales).tolist(),
                 y_hat=np.round(y_value).tolist())
  report = {}
  for onednn in ("0", "1"):
    for threads in (1, 4):
      env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS=onednn,
                 COMPRESSION_TF_BEHAVIOR="v2")
      result = subprocess.run(
          [sys.executable, "-c", _DECODER], input=json.dumps(dict(request, threads=threads)),
          capture_output=True, text=True, env=env, timeout=600, check=False)
      assert result.returncode == 0, result.stderr[-3000:]
      results = json.loads(result.stdout.strip().splitlines()[-1])
      # Every mismatch is caught; every match decodes exactly; nothing else.
      for item in results:
        expected = "decoded" if item["same_indexes"] else "caught"
        assert item["outcome"] == expected, (onednn, threads, results)
      report[f"onednn={onednn} threads={threads}"] = sum(
          not item["same_indexes"] for item in results)
  print("strings with index mismatches (of", len(strings), "):", report)


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
