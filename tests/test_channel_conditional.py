"""Tests of compression/python/layers/channel_conditional.py (graph mode).

Run with `python -m pytest tests/test_channel_conditional.py`.
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
from compression.python.layers import channel_conditional  # pylint: disable=g-import-not-at-top
from compression.python.layers import conditional_models  # pylint: disable=g-import-not-at-top

pytestmark = pytest.mark.both_tf_behaviors

v1 = tf.compat.v1
M, S = 8, 4
SHAPE = [2, 8, 8, M]
HIDDEN = (16, 8)
TABLE = conditional_models.default_scale_table()


def _layer(**kwargs):
  settings = dict(num_slices=S, latent_channels=M, hidden_channels=HIDDEN)
  settings.update(kwargs)
  return compression.ChannelConditional(**settings)


def _inputs(seed=0):
  rng = np.random.default_rng(seed)
  indexes = rng.integers(10, 40, SHAPE).astype(np.int32)
  y = np.float32(rng.normal(0, 1, SHAPE) * TABLE[indexes] * 2)
  mu = np.float32(rng.normal(0, 2, SHAPE))
  return y, mu, indexes


def _randomize(layer, sess, seed=1, spread=.05):
  """Nonzero weights everywhere (the last layers start at zero)."""
  rng = np.random.default_rng(seed)
  for variable in layer.variables:
    variable.load(np.float32(rng.normal(0, spread, variable.shape.as_list())), sess)


class _Graph:
  """A layer on placeholders: training and evaluation outputs, compress, decompress."""

  def __init__(self, randomize=True, **kwargs):
    self.graph = tf.Graph()
    with self.graph.as_default():
      self.layer = _layer(**kwargs)
      self.y = v1.placeholder(tf.float32, SHAPE)
      self.mu = v1.placeholder(tf.float32, SHAPE)
      self.indexes = v1.placeholder(tf.int32, SHAPE)
      scale = tf.gather(tf.constant(TABLE, tf.float32), self.indexes)
      self.evaluation = self.layer(self.y, self.mu, scale=scale, training=False)
      self.means = self.layer.conditional.mean
      self.training = self.layer(self.y, self.mu, scale=scale, training=True)
      self.coded = self.layer.compress(self.y, self.mu, indexes=self.indexes)
      self.strings = self.coded[0]
      self.decoded = self.layer.decompress(self.strings, self.mu,
                                           indexes=self.indexes, return_exact=True)
      self.sess = v1.Session()
      self.sess.run(v1.global_variables_initializer())
      if randomize:
        _randomize(self.layer, self.sess)

  def run(self, fetches, y, mu, indexes):
    return self.sess.run(fetches, {self.y: y, self.mu: mu, self.indexes: indexes})


@pytest.fixture(scope="module")
def graph():
  return _Graph()


def test_variables_are_named_by_slice_and_net():
  with tf.Graph().as_default():
    layer = _layer(max_previous_slices=2)
    layer(tf.zeros(SHAPE), tf.zeros(SHAPE), scale=tf.ones(SHAPE))
    names = {v.op.name: v.shape.as_list() for v in layer.variables}
  assert len(names) == S * 2 * 3 * 2
  c = M // S
  # Slice 3 sees mu and the first two slices (the cap); its LRP also its own q.
  assert names["channel_conditional/slice_3/mean/conv_0/kernel_rdft"] == [
      9, (M + 2 * c) * 16]
  assert names["channel_conditional/slice_3/lrp/conv_0/kernel_rdft"] == [
      9, (M + 3 * c) * 16]
  assert names["channel_conditional/slice_0/mean/conv_2/bias"] == [c]
  assert layer.slice_channels == c and layer.support_slices(3) == 2
  with tf.Graph().as_default():
    layer = _layer(rdft=False, name="cc")
    layer(tf.zeros(SHAPE), tf.zeros(SHAPE), scale=tf.ones(SHAPE))
    names = {v.op.name: v.shape.as_list() for v in layer.variables}
  assert names["cc/slice_1/mean/conv_0/kernel"] == [3, 3, M + c, 16]


def test_decoder_decodes_the_encoders_symbols_and_y_hat(graph):
  y, mu, indexes = _inputs()
  strings, symbols, y_hat, likelihoods = graph.run(graph.coded, y, mu, indexes)
  decoded, decoded_symbols, exact = graph.run(graph.decoded, y, mu, indexes)
  evaluation = graph.run(graph.evaluation, y, mu, indexes)
  assert exact.all() and strings.shape == (2,)
  np.testing.assert_array_equal(decoded_symbols, symbols)
  np.testing.assert_allclose(decoded, y_hat, atol=1e-5)
  # __call__(training=False) is what compress codes.
  np.testing.assert_allclose(evaluation[0], y_hat, atol=1e-5)
  np.testing.assert_array_equal(evaluation[1], likelihoods)
  # The symbols are round(y - mean); y_hat is within the LRP bound of symbols + mean.
  means = graph.run(graph.means, y, mu, indexes)
  np.testing.assert_array_equal(symbols, np.round(y - means))
  lrp = y_hat - (symbols + means)
  assert .01 < np.abs(lrp).max() <= .5 + 1e-5 and np.abs(lrp).max() < .49
  assert np.all((likelihoods > 0) & (likelihoods <= 1))


def test_training_adds_noise_and_rates_it(graph):
  y, mu, indexes = _inputs(3)
  y_hat, likelihoods = graph.run(graph.training, y, mu, indexes)
  assert np.abs(y_hat - y).max() <= 1. and np.abs(y_hat - y).mean() > .1
  assert np.all((likelihoods > 0) & (likelihoods <= 1))
  with graph.graph.as_default():
    loss = tf.reduce_sum(-tf.math.log(graph.training[1])) + tf.reduce_sum(
        tf.square(graph.training[0]))
    gradients = tf.gradients(loss, graph.layer.variables)
  assert all(g is not None for g in gradients)
  values = graph.run(gradients, y, mu, indexes)
  assert all(np.any(v != 0) for v in values)


def test_mixed_training_rounds_for_the_slices_and_rates_the_noise():
  graph = _Graph()  # its own: the mixed call adds a conditional model's variables
  y, mu, indexes = _inputs(4)
  with graph.graph.as_default():
    scale = tf.gather(tf.constant(TABLE, tf.float32), graph.indexes)
    y_hat, likelihoods = graph.layer(graph.y, graph.mu, scale=scale, training=True,
                                     quantization="mixed")
    rate = tf.reduce_sum(-tf.math.log(likelihoods))
    distortion = tf.reduce_sum(tf.square(y_hat - 1.))
    to_y = tf.gradients(distortion, graph.y)[0]
    to_nets = tf.gradients(rate + distortion, graph.layer.variables)
    graph.sess.run(v1.variables_initializer(graph.layer.conditional.variables))
  runs = [graph.run((y_hat, likelihoods, to_y, to_nets), y, mu, indexes)
          for _ in range(2)]
  evaluated_y_hat, evaluated_likelihoods = graph.run(graph.evaluation, y, mu,
                                                     indexes)
  # The slices (means, LRP, y_hat) see what compress codes, so y_hat is the
  # evaluation's, with no noise; the rate is at y plus noise, new on every run.
  for run_y_hat, run_likelihoods, run_to_y, run_to_nets in runs:
    np.testing.assert_allclose(run_y_hat, evaluated_y_hat, atol=1e-5)
    assert not np.array_equal(run_likelihoods, evaluated_likelihoods)
    assert np.all((run_likelihoods > 0) & (run_likelihoods <= 1))
    # The rounding passes y's gradient straight through: the distortion's
    # gradient reaches y (round alone would give 0), and every net learns.
    assert np.abs(run_to_y).min() > 0 and np.all(np.isfinite(run_to_y))
    assert all(np.any(v != 0) and np.all(np.isfinite(v)) for v in run_to_nets)
  assert not np.array_equal(runs[0][1], runs[1][1])
  np.testing.assert_array_equal(runs[0][0], runs[1][0])


def test_slice_k_sees_only_the_first_slices():
  g = _Graph(max_previous_slices=1)
  y, mu, indexes = _inputs(5)
  c = M // S
  base = g.run(g.means, y, mu, indexes)
  for k in range(S):
    changed = y.copy()
    changed[..., k * c:(k + 1) * c] += 7.
    means = g.run(g.means, changed, mu, indexes)
    for j in range(S):
      same = np.array_equal(means[..., j * c:(j + 1) * c],
                            base[..., j * c:(j + 1) * c])
      # Slice j's mean depends on slice 0 only (the cap), and only for j > 0.
      assert same == (k != 0 or j == 0), (k, j)


def test_at_initialisation_it_is_the_mean_scale_hyperprior():
  """Zero last layers: y_hat, likelihoods and strings are a GaussianConditional's
  with mean mu_hyper, bit for bit."""
  g = _Graph(randomize=False)
  with g.graph.as_default():
    scale = tf.gather(tf.constant(TABLE, tf.float32), g.indexes)
    gc = conditional_models.GaussianConditional(scale, mean=g.mu, name="reference")
    reference = gc(g.y, training=False)
    likelihood = gc.likelihood(g.training[0])
    strings = conditional_models.GaussianConditional(
        None, mean=g.mu, indexes=g.indexes, name="reference_indexes").compress(g.y)
    g.sess.run(v1.variables_initializer(
        [v for v in v1.global_variables() if v.op.name.startswith("reference")]))
  y, mu, indexes = _inputs(7)
  ours = g.run(g.evaluation, y, mu, indexes)
  theirs = g.run(reference, y, mu, indexes)
  np.testing.assert_array_equal(ours[0], theirs[0])
  np.testing.assert_array_equal(ours[1], theirs[1])
  np.testing.assert_array_equal(g.run(g.means, y, mu, indexes), mu)
  np.testing.assert_array_equal(*g.run([g.strings, strings], y, mu, indexes))
  # Training: no LRP yet, so y_hat is y plus the noise, rated by the same model.
  y_hat, likelihoods, expected = g.run(list(g.training) + [likelihood], y, mu, indexes)
  assert np.abs(y_hat - y).max() <= .5
  np.testing.assert_array_equal(likelihoods, expected)


_DECODER = r"""
with tf.Graph().as_default():
  strings = v1.placeholder(tf.string, [None])
  mu = v1.placeholder(tf.float32, request["shape"])
  indexes = v1.placeholder(tf.int32, request["shape"])
  layer = compression.ChannelConditional(**request["settings"])
  y_hat, symbols, exact = layer.decompress(strings, mu, indexes=indexes,
                                           return_exact=True)
  with v1.Session(config=one_thread) as sess:
    v1.train.Saver().restore(sess, request["checkpoint"])
    out = sess.run([y_hat, symbols, exact], {
        strings: [bytes.fromhex(s) for s in request["strings"]],
        mu: np.float32(request["mu"]), indexes: np.int32(request["indexes"])})
print(json.dumps({"y_hat": out[0].tolist(), "symbols": out[1].tolist(),
                  "exact": out[2].tolist()}))
"""


def test_another_process_without_onednn_decodes_the_same_symbols(graph, tmp_path):
  y, mu, indexes = _inputs(11)
  strings, symbols, y_hat, _ = graph.run(graph.coded, y, mu, indexes)
  path = str(tmp_path / "model")
  with graph.graph.as_default():
    v1.train.Saver().save(graph.sess, path)
  request = dict(settings=dict(num_slices=S, latent_channels=M,
                               hidden_channels=list(HIDDEN)),
                 shape=SHAPE, checkpoint=path, strings=[s.hex() for s in strings],
                 mu=mu.tolist(), indexes=indexes.tolist())
  decoded = process_testutil.run_json_child(
      _DECODER, request, _REPO,
      env={"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"})
  assert decoded["exact"] == [True, True]
  np.testing.assert_array_equal(np.int32(decoded["symbols"]), symbols)
  np.testing.assert_allclose(np.float32(decoded["y_hat"]), y_hat, atol=1e-4)


@pytest.mark.parametrize("kwargs,words", [
    (dict(num_slices=3), "`num_slices` (3) must divide `latent_channels` (8)"),
    (dict(num_slices=0), "`num_slices` must be an integer >= 1, got 0"),
    (dict(num_slices=True), "got True"),
    (dict(latent_channels=8.), "`latent_channels` must be an integer >= 1, got 8.0"),
    (dict(hidden_channels=(4, 0)), "`hidden_channels` must be a sequence"),
    (dict(max_previous_slices=-1), "`max_previous_slices` must be an integer >= 0"),
    (dict(kernel_size=0), "`kernel_size`"),
    (dict(conditional=int), "SymmetricConditional subclass"),
    (dict(rdft=1), "`rdft` must be a bool, got 1"),
])
def test_bad_settings_are_one_line_value_errors(kwargs, words):
  with pytest.raises(ValueError) as info:
    _layer(**kwargs)
  assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_inputs_are_one_line_value_errors():
  with tf.Graph().as_default():
    layer = _layer()
    y = tf.zeros(SHAPE)
    cases = [
        (lambda: layer(tf.zeros([2, 8, 8, 6]), y, scale=y),
         "`y` must be [B, h, w, 8]", "(2, 8, 8, 6)"),
        (lambda: layer(y, tf.zeros([2, 8, 8, 6]), scale=y), "`mu_hyper`", "6"),
        (lambda: layer(tf.zeros(SHAPE, tf.float64), y, scale=y),
         "`y` must be float32", "float64"),
        (lambda: layer(y, y, scale=tf.zeros([2, 8, 8, 4])), "`scale`", "4"),
        (lambda: layer(y, y), "got neither", ""),
        (lambda: layer(y, y, scale=y, training=None), "`training`", "None"),
        (lambda: layer(y, y, scale=y, quantization="round"), "`quantization`",
         "'round'"),
        (lambda: layer.compress(y, y, indexes=tf.zeros(SHAPE)), "`indexes`",
         "float32"),
        (lambda: layer.reconstruct(tf.zeros([2, 8, 8]), y), "`symbols`", "(2, 8, 8)"),
    ]
    for make, words, value in cases:
      with pytest.raises(ValueError) as info:
        make()
      message = str(info.value)
      assert words in message and value in message and "\n" not in message, message


def test_another_graph_is_refused():
  with tf.Graph().as_default():
    layer = _layer()
    layer.reconstruct(tf.zeros(SHAPE), tf.zeros(SHAPE))
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match="built in another graph"):
      layer.reconstruct(tf.zeros(SHAPE), tf.zeros(SHAPE))


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
