"""Compress-only and decompress-only graphs, each restoring a checkpoint.

`Encoder`: image -> analysis transform -> latent y [N, D]; then the prior's
compress (priors.py: EntropyBottleneck or the noisy logistic) on y reshaped to
[S, k, D]: one string per k consecutive digits (k = 1: one string per digit;
k = N: one string for all).

`Decoder`: strings -> the prior's decompress (item shape [k, D]) -> latents
[k, D] -> synthesis transform (in batches) -> images clipped to [0, 1]. It streams: `iter_decode` yields batches, so memory stays bounded by
one string's latents plus one batch of images, whatever the digit count.

Both also evaluate the prior's `fingerprint()`, the int64 fingerprint of the
checkpoint's coding tables, which is the model fingerprint the container and
the Beam records store (compression/examples/common/fingerprint.py: a model of
one table carries that table's fingerprint), so that a decoder can refuse a
file made with other tables.

Each holds its own `tf.Graph` and `Session`; the decoder never builds the
analysis transform, so it is what a receiver would run. Both read
`latent_dims` and `prior` from the model directory's config.json (validated,
config.py).
"""

import os

import numpy as np
import tensorflow as tf

from compression.examples import inputs
from compression.examples.common import fingerprint as fingerprint_lib
from compression.examples.mnist import config
from compression.examples.mnist import errors
from compression.examples.mnist import model
from compression.examples.mnist import priors

v1 = tf.compat.v1


def _missing(model_dir):
  return errors.CheckpointError(
      f"no trained model in {model_dir!r} (no checkpoint or config.json). "
      "Run `python -m compression.examples.mnist train "
      f"--model_dir={model_dir}` first.")


def load_config(model_dir):
  """The model directory's validated config.json (dict, see config.read)."""
  values = config.read(model_dir)
  if values is None:
    raise _missing(model_dir)
  return values


def load_latent_dims(model_dir):
  return load_config(model_dir)["latent_dims"]


def _restore(sess, model_dir):
  path = v1.train.latest_checkpoint(model_dir)
  if path is None:
    raise _missing(model_dir)
  v1.train.Saver().restore(sess, path)
  return path


class _Session:
  """Graph + session with a restored checkpoint."""

  def __init__(self, model_dir):
    self.model_dir = model_dir
    values = load_config(model_dir)
    self.latent_dims = values["latent_dims"]
    self.prior_name = values["prior"]
    if v1.train.latest_checkpoint(model_dir) is None:
      raise _missing(model_dir)
    self.graph = tf.Graph()
    with self.graph.as_default():
      self._build()
      self.sess = v1.Session(graph=self.graph)
      self.checkpoint = _restore(self.sess, model_dir)
    self.graph.finalize()

  def _build(self):
    """Builds the graph; sets `fingerprint_tensor` (the prior's, int64 scalar)."""
    raise NotImplementedError

  def fingerprint(self):
    """The model fingerprint files carry: int (int64), the prior's one table
    under the rule of compression/examples/common/fingerprint.py."""
    return fingerprint_lib.to_int64(fingerprint_lib.model_fingerprint(
        int(self.sess.run(self.fingerprint_tensor))))

  def close(self):
    self.sess.close()

  def __enter__(self):
    return self

  def __exit__(self, *unused):
    self.close()


def format_fingerprint(value):
  """A fingerprint (int64) as 16 hex digits (`common.fingerprint`)."""
  return fingerprint_lib.format_fingerprint(value)


class Encoder(_Session):
  """Compresses uint8 [N, 28, 28] digits to strings."""

  def _build(self):
    d = self.latent_dims
    self.x = v1.placeholder(tf.uint8, [None, 28, 28], name="x")
    x = tf.cast(self.x, tf.float32)[..., None] / 255.0
    self.y = model.analysis_transform(x, d)
    # The coded latents [S, k, D]; fed by `code`, else the analysis output as
    # [B, 1, D], whose quantized value (the evaluation branch) is what the
    # decoder must recover. One tensor, so the prior sees one shape.
    self.y_in = v1.placeholder_with_default(self.y[:, None, :], [None, None, d],
                                            name="y_in")
    prior = priors.create(self.prior_name, d, tf.shape(self.y_in))
    y_hat, likelihoods = prior.call(self.y_in, training=False)
    self.y_hat = y_hat[:, 0, :]
    self.bits = model.bits_per_digit(likelihoods)
    self.strings = prior.compress(self.y_in)
    self.fingerprint_tensor = prior.fingerprint()

  def analyze(self, images, batch_size=1000):
    """Returns (y float32 [N, D], quantized y [N, D], estimated bits [N])."""
    ys, y_hats, bits = [], [], []
    for start in range(0, len(images), batch_size):
      y, y_hat, b = self.sess.run([self.y, self.y_hat, self.bits],
                                  {self.x: images[start:start + batch_size]})
      ys.append(y)
      y_hats.append(y_hat)
      bits.append(b)
    empty = np.zeros([0, self.latent_dims], np.float32)
    return (np.concatenate(ys) if ys else empty,
            np.concatenate(y_hats) if y_hats else empty,
            np.concatenate(bits) if bits else np.zeros([0], np.float32))

  def code(self, y, digits_per_string=1, batch_size=1000):
    """Range codes latents y [N, D], `digits_per_string` digits a string.

    Returns:
      list of ceil(N / digits_per_string) bytes.
    """
    strings = []
    if digits_per_string == 1:
      for start in range(0, len(y), batch_size):
        s = self.sess.run(self.strings,
                          {self.y_in: y[start:start + batch_size, None, :]})
        strings.extend(bytes(v) for v in s)
      return strings
    for start in range(0, len(y), digits_per_string):
      s = self.sess.run(
          self.strings, {self.y_in: y[None, start:start + digits_per_string]})
      strings.append(bytes(s[0]))
    return strings

  def compress(self, images, digits_per_string=1, batch_size=1000):
    """Returns dict: strings (list of bytes), bits (estimated, float [N]),
    latents (the quantized latents the decoder must recover: float32 [N, D]),
    digits_per_string, fingerprint."""
    y, y_hat, bits = self.analyze(images, batch_size)
    return {"strings": self.code(y, digits_per_string, batch_size),
            "bits": bits, "latents": y_hat,
            "digits_per_string": digits_per_string,
            "fingerprint": self.fingerprint()}


class Decoder(_Session):
  """Decompresses strings to float [N, 28, 28] digits in [0, 1].

  With `check_exact` (the default), decoding raises `errors.NotExactError`
  when a string is not exactly the encoding of the latents it decodes to: a
  corrupted string, or one made by another model. `sample` turns this off
  to decode random bytes.
  """

  def __init__(self, model_dir, check_exact=True, latent_clip=None):
    self.check_exact = check_exact
    self.latent_clip = latent_clip
    super().__init__(model_dir)
    self._digit_bits = _digit_min_bits(self.checkpoint, self.latent_dims)

  def min_string_bytes(self, digits):
    """The fewest bytes a string of `digits` digits that decodes exactly can
    have under this model's coding tables (each symbol at its row's cheapest;
    inputs.string_bytes_needed)."""
    return inputs.string_bytes_needed(digits * self._digit_bits)

  def _build(self):
    d = self.latent_dims
    self.strings = v1.placeholder(tf.string, [None], name="strings")
    self.shape = v1.placeholder(tf.int32, [2], name="shape")  # [k, D]
    prior = priors.create(
        self.prior_name, d, tf.concat([tf.size(self.strings)[None], self.shape],
                                      axis=0))
    y_hat, self.exact = prior.decompress(self.strings, self.shape)
    self.y_hat = tf.reshape(y_hat, [-1, d])
    self.y_in = v1.placeholder(tf.float32, [None, d], name="y_in")
    x_hat = model.synthesis_transform(self.y_in)
    self.x_hat = tf.clip_by_value(x_hat[..., 0], 0.0, 1.0)
    self.fingerprint_tensor = prior.fingerprint()

  def _decode(self, strings, digits, first_digit):
    """Latents [len(strings) * digits, D] of strings holding `digits` each."""
    y, exact = self.sess.run(
        [self.y_hat, self.exact],
        {self.strings: np.array(strings, dtype=object),
         self.shape: [digits, self.latent_dims]})
    if self.check_exact and not exact.all():
      bad = [int(i) for i in np.flatnonzero(~exact)]
      where = (f"digits {[first_digit + i for i in bad[:10]]}" if digits == 1
               else f"the string of digits {first_digit}.."
               f"{first_digit + digits - 1}")
      raise errors.NotExactError(
          f"{len(bad)} string(s) ({where}{'...' if len(bad) > 10 else ''}) "
          f"are not exact encodings under the model in {self.model_dir!r}: "
          "corrupted data, or the file was compressed with a different model.")
    if self.latent_clip:
      y = np.clip(y, -self.latent_clip, self.latent_clip)
    return y

  def iter_latents(self, strings, count, digits_per_string=1,
                   batch_size=1000):
    """Yields (first digit index, latents float32 [n, D]) in digit order.

    At most max(batch_size, digits_per_string) digits' latents at a time.
    """
    if digits_per_string == 1:
      for start in range(0, count, batch_size):
        yield start, self._decode(strings[start:start + batch_size], 1, start)
      return
    for i, string in enumerate(strings):
      start = i * digits_per_string
      n = min(digits_per_string, count - start)
      yield start, self._decode([string], n, start)

  def synthesize(self, latents):
    """Images float32 [N, 28, 28] in [0, 1] of latents [N, D]."""
    return self.sess.run(self.x_hat, {self.y_in: latents})

  def iter_decode(self, strings, count, digits_per_string=1, batch_size=1000):
    """Yields (first digit index, images [n, 28, 28], latents [n, D]),
    n <= batch_size, in digit order."""
    for start, latents in self.iter_latents(strings, count, digits_per_string,
                                            batch_size):
      for i in range(0, len(latents), batch_size):
        part = latents[i:i + batch_size]
        yield start + i, self.synthesize(part), part

  def decompress(self, strings, count=None, digits_per_string=1,
                 batch_size=1000):
    """All at once: (images float32 [N, 28, 28] in [0, 1], latents [N, D]).

    For per-digit strings `count` defaults to len(strings).
    """
    count = len(strings) if count is None else count
    images, latents = [], []
    for _, x, y in self.iter_decode(strings, count, digits_per_string,
                                    batch_size):
      images.append(x)
      latents.append(y)
    if not images:
      return (np.zeros([0, 28, 28], np.float32),
              np.zeros([0, self.latent_dims], np.float32))
    return np.concatenate(images), np.concatenate(latents)


def _digit_min_bits(checkpoint, latent_dims):
  """The fewest bits one digit's latents can cost under the checkpoint's coding
  tables: the sum of each channel's cheapest symbol for an EntropyBottleneck
  (one CDF row per channel), latent_dims times the cheapest row otherwise; 0
  when the checkpoint holds no tables."""
  reader = tf.train.load_checkpoint(checkpoint)
  names = reader.get_variable_to_shape_map()
  prefixes = [n[:-len("/cdf")] for n in names
              if n.endswith("/cdf") and n + "_length" in names]
  if len(prefixes) != 1:
    return 0.
  bits = inputs.min_bits_per_row(reader.get_tensor(prefixes[0] + "/cdf"),
                                 reader.get_tensor(prefixes[0] + "/cdf_length"))
  if not len(bits):
    return 0.
  if prefixes[0].endswith("entropy_bottleneck") and len(bits) == latent_dims:
    return float(bits.sum())
  return latent_dims * float(bits.min())


def check_model_dir(model_dir):
  """Raises errors.CheckpointError unless model_dir has config + checkpoint."""
  if not os.path.isdir(model_dir):
    raise _missing(model_dir)
  load_latent_dims(model_dir)
  if v1.train.latest_checkpoint(model_dir) is None:
    raise _missing(model_dir)
