"""Compress-only and decompress-only graphs, each restoring a checkpoint.

`Encoder`: image -> analysis transform -> EntropyBottleneck.compress -> one
string per digit (plus the model's bit estimate and the quantized latent).

`Decoder`: strings -> EntropyBottleneck.decompress(shape=[latent_dims],
channels=latent_dims) -> synthesis transform -> image clipped to [0, 1].

Each holds its own `tf.Graph` and `Session`; the decoder never builds the
analysis transform, so it is what a receiver would run. Both read
`latent_dims` from the model directory's config.json.
"""

import os

import numpy as np
import tensorflow as tf

from compression.examples.mnist import errors
from compression.examples.mnist import model
from compression.examples.mnist import train

v1 = tf.compat.v1


def _missing(model_dir):
  return errors.CheckpointError(
      f"no trained model in {model_dir!r} (no checkpoint or config.json). "
      "Run `python -m compression.examples.mnist train "
      f"--model_dir={model_dir}` first.")


def load_latent_dims(model_dir):
  config = train.read_config(model_dir)
  if config is None:
    raise _missing(model_dir)
  return int(config["latent_dims"])


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
    self.latent_dims = load_latent_dims(model_dir)
    if v1.train.latest_checkpoint(model_dir) is None:
      raise _missing(model_dir)
    self.graph = tf.Graph()
    with self.graph.as_default():
      self._build()
      self.sess = v1.Session(graph=self.graph)
      self.checkpoint = _restore(self.sess, model_dir)
    self.graph.finalize()

  def _build(self):
    raise NotImplementedError

  def close(self):
    self.sess.close()

  def __enter__(self):
    return self

  def __exit__(self, *unused):
    self.close()


class Encoder(_Session):
  """Compresses uint8 [N, 28, 28] digits to strings."""

  def _build(self):
    self.x = v1.placeholder(tf.uint8, [None, 28, 28], name="x")
    x = tf.cast(self.x, tf.float32)[..., None] / 255.0
    eb = model.entropy_bottleneck()
    y = model.analysis_transform(x, self.latent_dims)
    # What the decoder must recover: the quantized latent of the evaluation branch.
    self.y_hat, likelihoods = eb(y, training=False)
    self.bits = model.bits_per_digit(likelihoods)
    self.strings = eb.compress(y)

  def compress(self, images, batch_size=1000):
    """Returns dict: strings (list of bytes), bits (estimated, float [N]),
    latents (the quantized latents the decoder must recover: float32 [N, D])."""
    strings, bits, latents = [], [], []
    for start in range(0, len(images), batch_size):
      s, b, y = self.sess.run(
          [self.strings, self.bits, self.y_hat],
          {self.x: images[start:start + batch_size]})
      strings.extend(bytes(v) for v in s)
      bits.append(b)
      latents.append(y)
    return {"strings": strings,
            "bits": np.concatenate(bits) if bits else np.zeros([0]),
            "latents": (np.concatenate(latents) if latents
                        else np.zeros([0, self.latent_dims], np.float32))}


class Decoder(_Session):
  """Decompresses strings to float [N, 28, 28] digits in [0, 1].

  With `check_exact` (the default), `decompress` raises
  `errors.NotExactError` when a string is not exactly the encoding of the
  latent it decodes to: a corrupted string, or one made by another model. `sample` turns this off to decode
  random bytes.
  """

  def __init__(self, model_dir, check_exact=True, latent_clip=None):
    self.check_exact = check_exact
    self.latent_clip = latent_clip
    super().__init__(model_dir)

  def _build(self):
    self.strings = v1.placeholder(tf.string, [None], name="strings")
    eb = model.entropy_bottleneck()
    self.y_hat, self.exact = eb.decompress(
        self.strings, [self.latent_dims], channels=self.latent_dims,
        return_exact=True)
    if self.latent_clip:
      self.y_hat = tf.clip_by_value(self.y_hat, -self.latent_clip,
                                    self.latent_clip)
    x_hat = model.synthesis_transform(self.y_hat)
    self.x_hat = tf.clip_by_value(x_hat[..., 0], 0.0, 1.0)

  def decompress(self, strings, batch_size=1000):
    """Returns (images float32 [N, 28, 28] in [0, 1], latents [N, D])."""
    images, latents = [], []
    for start in range(0, len(strings), batch_size):
      batch = np.array(list(strings[start:start + batch_size]), dtype=object)
      x, y, exact = self.sess.run([self.x_hat, self.y_hat, self.exact],
                                  {self.strings: batch})
      if self.check_exact and not exact.all():
        bad = [start + int(i) for i in np.flatnonzero(~exact)]
        raise errors.NotExactError(
            f"{len(bad)} string(s) (digits {bad[:10]}"
            f"{'...' if len(bad) > 10 else ''}) are not exact encodings under "
            f"the model in {self.model_dir!r}: corrupted data, or the file "
            "was compressed with a different model.")
      images.append(x)
      latents.append(y)
    if not images:
      return (np.zeros([0, 28, 28], np.float32),
              np.zeros([0, self.latent_dims], np.float32))
    return np.concatenate(images), np.concatenate(latents)


def check_model_dir(model_dir):
  """Raises errors.CheckpointError unless model_dir has config + checkpoint."""
  if not os.path.isdir(model_dir):
    raise _missing(model_dir)
  load_latent_dims(model_dir)
  if v1.train.latest_checkpoint(model_dir) is None:
    raise _missing(model_dir)
