"""Tests of compression/python/layers/integer_slice_scales.py (graph mode), with the
features of IntegerHyperSynthesis.

Run with `python -m pytest tests/test_integer_slice_scales.py`.
"""

import os
import sys

import numpy as np
import pytest
import tensorflow as tf

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

import compression  # pylint: disable=g-import-not-at-top
import process_testutil  # pylint: disable=g-import-not-at-top
from compression.python.layers import conditional_models  # pylint: disable=g-import-not-at-top

pytestmark = pytest.mark.both_tf_behaviors

v1 = tf.compat.v1
N, M, S = 4, 8, 4
C = M // S
HIDDEN = (8,)
TABLE = conditional_models.default_scale_table()
LAYERS = [(N, 5, 2, True), (N, 5, 2, True), (M, 3, 1, False)]
Z_SHAPE = [2, 3, 2, N]
Y_SHAPE = [2, 12, 8, M]


def _values(seed=0):
  rng = np.random.default_rng(seed)
  z_hat = np.float32(np.round(rng.normal(0, 3, Z_SHAPE)) + rng.integers(0, 256, N) / 256)
  symbols = np.int32(np.round(rng.normal(0, 4, Y_SHAPE)))
  return z_hat, symbols


class _Graph:
  """IntegerHyperSynthesis features and IntegerSliceScales on placeholders, with
  random biases (spreading the scales over the table) and the integer tables."""

  def __init__(self, max_previous_slices=None, seed=1):
    self.graph = tf.Graph()
    with self.graph.as_default():
      v1.set_random_seed(seed)
      self.hyper = compression.IntegerHyperSynthesis(LAYERS, TABLE)
      self.layer = compression.IntegerSliceScales(
          S, M, N, hidden_channels=HIDDEN, max_previous_slices=max_previous_slices)
      self.z = v1.placeholder(tf.float32, Z_SHAPE)
      self.symbols = v1.placeholder(tf.int32, Y_SHAPE)
      self.hyper.scales(self.z)
      self.scales = self.layer.scales(self.hyper.features(self.z),
                                      tf.cast(self.symbols, tf.float32))
      self.features = self.hyper.integer_features(self.z)
      self.indexes = self.layer.scale_indexes(self.features, self.symbols)
      self.sess = v1.Session()
      self.sess.run(v1.global_variables_initializer())
      rng = np.random.default_rng(seed)
      for k in range(S):
        bias = [v for v in self.layer.trainable_variables
                if v.op.name == f"slice_scales/slice_{k}/conv_1/bias"][0]
        bias.load(np.float32(rng.normal(np.log(TABLE).mean(), 1, C)), self.sess)
      self.sess.run([self.hyper.update_op(), self.layer.update_op()])
      self.fingerprint = self.sess.run(self.layer.fingerprint())

  def run(self, fetches, z_hat, symbols):
    return self.sess.run(fetches, {self.z: z_hat, self.symbols: symbols})


@pytest.fixture(scope="module")
def graph():
  return _Graph()


def _float_index(scales):
  table = np.float32(TABLE)
  return np.clip(np.searchsorted(table, scales, side="right") - 1, 0, len(table) - 1)


def test_integer_indexes_follow_the_float_scales(graph):
  z_hat, symbols = _values()
  scales, indexes = graph.run([graph.scales, graph.indexes], z_hat, symbols)
  assert indexes.shape == tuple(Y_SHAPE) and indexes.dtype == np.int32
  assert len(np.unique(indexes)) > 10
  differ = np.abs(indexes - _float_index(scales))
  assert differ.max() <= 1 and np.mean(differ != 0) < .02, np.mean(differ != 0)
  features = graph.run(graph.features, z_hat, symbols)
  assert np.all(features == np.round(features)) and features.min() >= 0


def test_slice_k_depends_on_the_first_slices_only():
  g = _Graph(max_previous_slices=2)
  z_hat, symbols = _values(3)
  base = g.run(g.indexes, z_hat, symbols)
  for k in range(S):
    changed = symbols.copy()
    changed[..., k * C:(k + 1) * C] += 9
    indexes = g.run(g.indexes, z_hat, changed)
    for j in range(S):
      same = np.array_equal(indexes[..., j * C:(j + 1) * C],
                            base[..., j * C:(j + 1) * C])
      assert same == (j <= k or k >= 2), (k, j)
  with g.graph.as_default():
    one = g.layer.scale_indexes(g.features, g.symbols, 2)
  one = g.run(one, z_hat, symbols)
  np.testing.assert_array_equal(one, base[..., 2 * C:3 * C])


def test_slice_by_slice_coding_decodes_the_symbols(graph):
  z_hat, symbols = _values(5)
  with graph.graph.as_default():
    decoded_so_far = v1.placeholder(tf.int32, Y_SHAPE)
    strings = v1.placeholder(tf.string, [2])
    coders, decoders = [], []
    for k in range(S):
      index = graph.layer.scale_indexes(graph.features, graph.symbols, k)
      gc = conditional_models.GaussianConditional(None, indexes=index, name=f"e{k}")
      coders.append(gc.compress(tf.cast(graph.symbols[..., k * C:(k + 1) * C],
                                        tf.float32)))
      index = graph.layer.scale_indexes(graph.features, decoded_so_far, k)
      gc = conditional_models.GaussianConditional(None, indexes=index, name=f"d{k}")
      decoders.append(gc.decompress(strings))
    graph.sess.run(v1.variables_initializer(
        [v for v in v1.global_variables() if v.op.name[:2] in
         {f"{w}{k}" for w in "ed" for k in range(S)}]))
  encoded = graph.run(coders, z_hat, symbols)
  decoded = np.zeros_like(symbols)
  for k in range(S):
    values = graph.sess.run(decoders[k], {graph.z: z_hat, decoded_so_far: decoded,
                                          strings: encoded[k]})
    decoded[..., k * C:(k + 1) * C] = values
  np.testing.assert_array_equal(decoded, symbols)


_CHILD = r"""
with tf.Graph().as_default():
  hyper = compression.IntegerHyperSynthesis(request["layers"],
                                            compression.default_scale_table())
  layer = compression.IntegerSliceScales(*request["sizes"],
                                         hidden_channels=request["hidden"])
  z = tf.constant(np.float32(request["z_hat"]))
  indexes = layer.scale_indexes(hyper.integer_features(z),
                                tf.constant(np.int32(request["symbols"])))
  with v1.Session(config=one_thread) as sess:
    v1.train.Saver().restore(sess, request["checkpoint"])
    out, fingerprint = sess.run([indexes, layer.fingerprint()])
print(json.dumps({"indexes": out.tolist(), "fingerprint": int(fingerprint)}))
"""


def test_another_process_without_onednn_computes_the_same_indexes(graph, tmp_path):
  z_hat, symbols = _values(7)
  indexes = graph.run(graph.indexes, z_hat, symbols)
  path = str(tmp_path / "model")
  with graph.graph.as_default():
    v1.train.Saver(graph.hyper.variables + graph.layer.variables).save(graph.sess,
                                                                        path)
  request = dict(layers=LAYERS, sizes=[S, M, N], hidden=list(HIDDEN),
                 z_hat=z_hat.tolist(), symbols=symbols.tolist(), checkpoint=path)
  child = process_testutil.run_json_child(
      _CHILD, request, _REPO,
      env={"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"})
  np.testing.assert_array_equal(np.int32(child["indexes"]), indexes)
  assert child["fingerprint"] == graph.fingerprint


def test_update_op_refuses_sums_beyond_2_to_the_53():
  with tf.Graph().as_default():
    layer = compression.IntegerSliceScales(S, M, N, hidden_channels=HIDDEN)
    layer.scales(tf.zeros([1, 4, 4, N]), tf.zeros([1, 4, 4, M]))
    bias = [v for v in layer.trainable_variables
            if v.op.name == "slice_scales/slice_1/conv_0/bias"][0]
    with v1.Session() as sess:
      sess.run(v1.global_variables_initializer())
      bias.load(np.full(HIDDEN, 1e9, np.float32), sess)
      with pytest.raises(tf.errors.InvalidArgumentError,
                         match="slice_scales/slice_1/conv_0: integer sums"):
        sess.run(layer.update_op())


def test_bad_arguments_are_one_line_value_errors():
  cases = [
      (lambda: compression.IntegerSliceScales(3, M, N), "`num_slices` (3)", "(8)"),
      (lambda: compression.IntegerSliceScales(S, M, 0), "`feature_channels`", "0"),
      (lambda: compression.IntegerSliceScales(S, M, N, scale_table=[2, 1]),
       "`scale_table`", "[2, 1]"),
  ]
  with tf.Graph().as_default():
    layer = compression.IntegerSliceScales(S, M, N)
    features, symbols = tf.zeros([1, 4, 4, N]), tf.zeros([1, 4, 4, M], tf.int32)
    cases += [
        (lambda: layer.scales(tf.zeros([1, 4, 4, N], tf.float64),
                              tf.zeros([1, 4, 4, M])), "`features` must be float32",
         "float64"),
        (lambda: layer.scale_indexes(features, tf.zeros([1, 4, 4, 6])),
         "`symbols` must be [B, h, w, 8]", "(1, 4, 4, 6)"),
        (lambda: layer.scale_indexes(features, symbols, k=4), "`k`", "got 4"),
        (lambda: layer.update_op(), "not built", ""),
    ]
    for make, words, value in cases:
      with pytest.raises(ValueError) as info:
        make()
      message = str(info.value)
      assert words in message and value in message and "\n" not in message, message


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
