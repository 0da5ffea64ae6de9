"""The entropy model (prior) of the latents, chosen by config.json's "prior".

  deep_factorized  `EntropyBottleneck`: a learned non-parametric density per
                   latent dimension (the default; trained by an auxiliary loss
                   on its quantiles too).
  noisy_logistic   `LogisticConditional` with mean 0 and one learned scale per
                   latent dimension (the float32 variable "noisy_logistic_scale"
                   [D], initialised to linspace(0.01, 2, D) and trained by the
                   main loss; the layer lower-bounds it by its scale_bound,
                   0.11, the smallest entry of the default scale table). The
                   scale is tiled over the batch, since the conditional layer
                   codes with the full-shape scale; each element is coded with
                   the table entry of the largest table scale not above its own.

Every graph (train, compress, decompress) builds exactly one prior, the same
way, so variable names match across graphs and checkpoints.

`create(prior, latent_dims, shape)` returns an object with:
  call(y, training)     (outputs, likelihoods), both float32 of y's shape
  compress(y)           tf.string [S] of y float32 [S, k, D]
  decompress(strings, item_shape)
                        (y_hat float32 [S, k, D], exact bool [S]); item_shape is
                        the int32 [2] tensor [k, D]
  fingerprint()         int64 scalar tensor of the coding tables
  update_op             writes the coding tables (run before saving)
  aux_loss, aux_variables
                        the auxiliary loss and the variables it trains (None and
                        [] for noisy_logistic)
`shape` is the int32 shape tensor of every `y` given to call and compress
([B, D] or [S, k, D]), or for a decoder [S, k, D] from the strings; the
factorized prior ignores it.
"""

import numpy as np
import tensorflow as tf

from compression.examples.mnist import config

v1 = tf.compat.v1

SCALE_VARIABLE = "noisy_logistic_scale"
# The tutorial's initial scales, linspace(INITIAL_SCALES) over the dimensions.
INITIAL_SCALES = (0.01, 2.0)


class DeepFactorized:
  """EntropyBottleneck over the last axis (D channels)."""

  def __init__(self, latent_dims):
    # Imported lazily: the layer needs the C++ ops.
    from compression.python.layers.entropy_bottleneck import EntropyBottleneck  # pylint: disable=g-import-not-at-top
    self.latent_dims = latent_dims
    self.layer = EntropyBottleneck()

  def call(self, y, training):
    return self.layer(y, training=training)

  def compress(self, y):
    return self.layer.compress(y)

  def decompress(self, strings, item_shape):
    return self.layer.decompress(strings, item_shape, channels=self.latent_dims,
                                 return_exact=True)

  def fingerprint(self):
    return self.layer.fingerprint()

  @property
  def update_op(self):
    return self.layer.updates[0]

  @property
  def aux_loss(self):
    return self.layer.losses[0]

  @property
  def aux_variables(self):
    return list(self.layer.quantile_variables)


class NoisyLogistic:
  """LogisticConditional, mean 0, a learned scale per latent dimension."""

  def __init__(self, latent_dims, shape):
    from compression.python.layers.conditional_models import LogisticConditional  # pylint: disable=g-import-not-at-top
    self.latent_dims = latent_dims
    self.scale = v1.get_variable(
        SCALE_VARIABLE, [latent_dims], dtype=tf.float32,
        initializer=v1.constant_initializer(
            np.linspace(*INITIAL_SCALES, latent_dims, dtype=np.float32)))
    # The scales are a checkpoint variable, the same on both sides: no index check
    # in the strings (the format stays the one of the .mnz files).
    self.layer = LogisticConditional(tf.broadcast_to(self.scale, shape),
                                     name="noisy_logistic", index_check=False)

  def call(self, y, training):
    return self.layer(y, training=training)

  def compress(self, y):
    return self.layer.compress(y)

  def decompress(self, strings, item_shape):
    del item_shape  # The layer's scale has the full shape [S, k, D].
    return self.layer.decompress(strings, return_exact=True)

  def fingerprint(self):
    return self.layer.fingerprint()

  @property
  def update_op(self):
    return self.layer.updates[0]

  aux_loss = None
  aux_variables = ()


def create(prior, latent_dims, shape):
  """The prior named `prior` (config.PRIORS) of D = latent_dims channels."""
  config.check_prior(prior, "prior")
  if prior == "noisy_logistic":
    return NoisyLogistic(latent_dims, shape)
  return DeepFactorized(latent_dims)
