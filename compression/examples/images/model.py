"""The image codecs, bls2017, bmshj2018, mbt2018-mean and ms2020-cc, as tf.compat.v1
graphs.

Pixels are float32 in [0, 1] inside the networks (`[B, H, W, 3]`, NHWC, H and W
multiples of the architecture's `total_stride`); distortion is the MSE on the
[0, 255] scale, as in the papers. Rates are in bits.

bls2017 (Ballé, Laparra, Simoncelli, "End-to-end optimized image compression", 2017),
the paper's three stages:
  analysis   conv 9x9 /4 (N) + GDN, conv 5x5 /2 (N) + GDN, conv 5x5 /2 (M)
                                                                  -> y [B, H/16, W/16, M]
  synthesis  conv^T 5x5 x2 (N) + IGDN, conv^T 5x5 x2 (N) + IGDN, conv^T 9x9 x4 (3)
  prior      EntropyBottleneck on y.

bmshj2018 (Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with
a scale hyperprior", 2018): four stages, as published,
  analysis   3 x [conv 5x5 /2 (N) + GDN] + conv 5x5 /2 (M)        -> y [B, H/16, W/16, M]
  synthesis  3 x [conv^T 5x5 x2 (N) + IGDN] + conv^T 5x5 x2 (3)
and
  hyper-analysis   |y| -> conv 3x3 /1 (N) ReLU -> conv 5x5 /2 (N) ReLU -> conv 5x5 /2 (N)
                                                                  -> z [B, H/64, W/64, N]
  hyper-synthesis  z_hat -> conv^T 5x5 x2 (N) ReLU -> conv^T 5x5 x2 (N) ReLU
                   -> conv^T 3x3 x1 (M) = h;  scale = exp(h)
  priors           EntropyBottleneck on z; GaussianConditional on y with those scales.

mbt2018-mean (Minnen, Ballé, Toderici, "Joint autoregressive and hierarchical priors
for learned image compression", 2018, its mean-scale hyperprior without the context
model): bmshj2018's transforms and scale hyper-synthesis, plus a second float
hyper-synthesis of the same shape ("hyper_synthesis_mean", its last kernel starting
at zero) that predicts each element's mean. y is coded as `round(y - mean)` with the
table index of the integer scale path, so the decoded symbols never depend on the
float means; only the reconstruction `symbols + mean` does (by float rounding, far
below the 8-bit output step). Its scale path is bmshj2018's, variable for variable,
so a bmshj2018 checkpoint initialises it (`train --init_from`).

ms2020-cc (Minnen, Singh, "Channel-wise autoregressive entropy models for learned
image compression", 2020): mbt2018-mean plus the library's ChannelConditional on y
(channel_model.py): slice by slice along the channels, means conditioned on the
previous slices and a latent residual prediction, the scales still the integer
path's; its new nets start at zero output, so an mbt2018-mean checkpoint
initialises it exactly.

Deterministic scales (the hyperprior models). The decoder recomputes the scales from
`z_hat`; in floating point another machine (or oneDNN off, or another thread count)
may land an element on the neighbouring scale-table entry and the rest of the string
decodes to garbage. So coding never uses floating-point scales: the library's
`IntegerHyperSynthesis` (compression/python/layers/integer_hyper_synthesis.py) runs
the same three layers on integers (fixed point, exact in any summation order) and
maps `h` to table indexes, which the GaussianConditional takes through `indexes=`.
Its integer tables are written by an update op into non-trainable variables, saved
in the checkpoint; the encoder and the decoder read them from there. Training uses
the float path (the integer one is within a rounding of it).

Layers. The analysis, hyper-analysis, synthesis and mbt2018-mean's mean
hyper-synthesis (`HyperSynthesisMean`) are the library's SignalConv2D (`conv`,
`conv_up`: kernels stored as real DFT coefficients, a bias, zero padding aligned as
tf.nn's "SAME", `alignment="center"`) and GDN / IGDN layers; the scale
hyper-synthesis is the library's IntegerHyperSynthesis. Models written when the
transforms called tf.nn.conv2d / conv2d_transpose directly (the shipped ones: the
mbt2018-mean set's mean path, the legacy set's synthesis) load through `upgrade`
and compute the same values bit for bit. (One exception, without oneDNN: the mean
path's last layer, stride 1, is a tf.nn.convolution where it was a
conv2d_transpose, which TensorFlow's own kernels sum in another order; its means
move by float rounding (at most 2e-6 on the shipped models, measured), as they
do between oneDNN on and off anyway.)

Variables are named by scope: "analysis/...", "synthesis/...", "hyper_analysis/...",
"hyper_synthesis/...", "hyper_synthesis_mean/...", "channel_conditional/...",
"entropy_bottleneck/...", "gaussian_conditional/...", so a decoder graph restores
only what it builds.
"""

import math
import re

import numpy as np
import tensorflow as tf

from compression.examples.images import channel_model
from compression.examples.images import config as config_lib
from compression.python.layers import conditional_models
from compression.python.layers import entropy_bottleneck
from compression.python.layers import gdn as gdn_lib
from compression.python.layers import integer_hyper_synthesis
from compression.python.layers import parameterizers
from compression.python.layers import signal_conv

v1 = tf.compat.v1

ARCHITECTURES = config_lib.ARCHITECTURES
TOTAL_STRIDE = config_lib.TOTAL_STRIDE
KERNEL_SIZE = 5
QUANTIZATIONS = config_lib.QUANTIZATIONS
# (kernel size, stride) of each stage of the analysis; the synthesis mirrors it.
STAGES = {
    "bls2017": ((9, 4), (5, 2), (5, 2)),
    "bmshj2018": ((5, 2),) * 4,
    "mbt2018-mean": ((5, 2),) * 4,
    "ms2020-cc": ((5, 2),) * 4,
}

# Fixed point of the integer hyper-synthesis (integer_hyper_synthesis.py).
Z_FRACTION_BITS = integer_hyper_synthesis.INPUT_FRACTION_BITS
ACTIVATION_FRACTION_BITS = integer_hyper_synthesis.ACTIVATION_FRACTION_BITS
MAX_INPUT_MAGNITUDE = integer_hyper_synthesis.MAX_INPUT_MAGNITUDE
WEIGHT_MAGNITUDE_BITS = integer_hyper_synthesis.WEIGHT_MAGNITUDE_BITS


def conv(x, filters, kernel_size, stride, name, activation=None):
  """The analyses' layer: a `SignalConv2D` correlation, `stride` down, zero padding
  with tf.nn's "SAME" alignment (`alignment="center"`), bias, then `activation`.

  float32 [B, H, W, C] (H, W multiples of stride) -> [B, H/s, W/s, filters].
  Variables `<name>/kernel_rdft` ([k*k, C*filters]: the kernel [k, k, C, filters]
  as real DFT coefficients, `RDFTParameterizer`; with them Adam trains these
  transforms about twice as fast per step: bmshj2018 N=64, lambda 0.01, 4 crops of
  128x128, lr 1e-3: training loss 4.8 against 10.1 with plain kernels at step 450)
  and `<name>/bias` ([filters]); the kernel starts glorot-uniform.
  """
  return signal_conv.SignalConv2D(
      filters, kernel_size, corr=True, strides_down=stride, padding="same_zeros",
      alignment="center", use_bias=True, activation=activation,
      kernel_initializer=v1.glorot_uniform_initializer(),
      kernel_parameterizer=parameterizers.RDFTParameterizer(), name=name)(x)


def conv_up(x, filters, kernel_size, stride, name, activation=None,
            zero_kernel=False):
  """The synthesis' layer (and the mean hyper-synthesis'): a `SignalConv2D`
  convolution, `stride` up, zero padding with tf.nn's "SAME" alignment, bias, then
  `activation`; what `tf.nn.conv2d_transpose` with "SAME" (+ bias) computes with
  the kernel's channel axes swapped.

  float32 [B, H, W, C] -> [B, H*s, W*s, filters]. Variables as `conv`'s:
  `<name>/kernel_rdft` [k*k, C*filters] (the kernel [k, k, C, filters]) and
  `<name>/bias`; the kernel starts glorot-uniform, or at zero with `zero_kernel`
  (the layer then outputs its bias: zero at initialisation).
  """
  return conv_up_layer(filters, kernel_size, stride, name, activation,
                       zero_kernel)(x)


def conv_up_layer(filters, kernel_size, stride, name, activation=None,
                  zero_kernel=False):
  """`conv_up`'s layer, unapplied (to apply one layer to more than one input)."""
  initializer = (v1.zeros_initializer() if zero_kernel
                 else v1.glorot_uniform_initializer())
  return signal_conv.SignalConv2D(
      filters, kernel_size, corr=False, strides_up=stride, padding="same_zeros",
      alignment="center", use_bias=True, activation=activation,
      kernel_initializer=initializer,
      kernel_parameterizer=parameterizers.RDFTParameterizer(), name=name)


def analysis_transform(x, num_filters, latent_filters, stages=STAGES["bmshj2018"]):
  """float32 [B, H, W, 3] in [0, 1] -> y float32 [B, H/16, W/16, latent_filters].

  `stages`: (kernel size, stride) of each convolution (STAGES, `conv`, named
  "analysis/conv_<i>"); GDN ("analysis/gdn_<i>") after all but the last."""
  with v1.variable_scope("analysis"):
    for i, (size, stride) in enumerate(stages[:-1]):
      x = conv(x, num_filters, size, stride, f"conv_{i}")
      x = gdn_lib.GDN(name=f"gdn_{i}")(x)
    size, stride = stages[-1]
    return conv(x, latent_filters, size, stride, f"conv_{len(stages) - 1}")


def synthesis_transform(y, num_filters, stages=STAGES["bmshj2018"]):
  """y float32 [B, h, w, M] -> float32 [B, 16 h, 16 w, 3] (not clipped; ~[0, 1]).

  `stages`: the analysis's (kernel size, stride), mirrored (`conv_up`, named
  "synthesis/upconv_<i>"): IGDN ("synthesis/igdn_<i>") after all but the last."""
  mirrored = stages[::-1]
  with v1.variable_scope("synthesis"):
    for i, (size, stride) in enumerate(mirrored[:-1]):
      y = conv_up(y, num_filters, size, stride, f"upconv_{i}")
      y = gdn_lib.GDN(inverse=True, name=f"igdn_{i}")(y)
    size, stride = mirrored[-1]
    return conv_up(y, 3, size, stride, f"upconv_{len(stages) - 1}")


# Models written before the transforms were SignalConv2D layers (the shipped ones,
# their checkpoints) name the synthesis' layers "synthesis/conv_<i>" and
# mbt2018-mean's mean hyper-synthesis' "hyper_synthesis_mean/conv_<i>", and store
# their kernels as tf.nn.conv2d_transpose's [k, k, F, C], so "kernel_rdft" is
# [k*k, F*C]; `upgrade` maps them (and their optimizer slots) to "upconv_<i>" and
# [k*k, C*F]. The names are the only safe marker: with F = C (N = M, or a hidden
# layer) an old kernel has the new one's shape. The other variables kept their
# names and values (the integer "hyper_synthesis/conv_<i>" too).
_LEGACY = re.compile(
    r"^(synthesis|hyper_synthesis_mean)/conv_(\d+)/(kernel_rdft|bias)(/.*)?$")


def legacy_names(names):
  """The names among `names` (variable names) that `upgrade` renames."""
  return [name for name in names if _LEGACY.match(name)]


def upgraded_name(name):
  """A variable's name in this model for its name in an old one (else itself)."""
  match = _LEGACY.match(name)
  if not match:
    return name
  scope, layer, variable, slot = match.groups()
  return f"{scope}/upconv_{layer}/{variable}{slot or ''}"


def upgrade(values):
  """{name: array} of an old model -> the same values under this model's names.

  The kernel coefficients of the synthesis and of the mean hyper-synthesis (and
  same-shaped slots, e.g. Adam's) go from [k*k, F*C] to [k*k, C*F], F the layer's
  filters (its bias' size); exact (a permutation). Other entries pass unchanged;
  a model already current too.
  """
  out = {}
  for name, value in values.items():
    match = _LEGACY.match(name)
    if match and match.group(3) == "kernel_rdft":
      scope, layer = match.group(1), match.group(2)
      bias = values.get(f"{scope}/conv_{layer}/bias")
      if bias is None:
        raise ValueError(f"{name} has no bias beside it to tell its filters")
      value = np.asarray(value)
      filters = int(np.size(bias))
      if value.ndim != 2 or value.shape[1] % filters:
        raise ValueError(f"{name} has shape {list(value.shape)}, not [k*k, "
                         f"{filters} * C]")
      taps, channels = value.shape[0], value.shape[1] // filters
      value = value.reshape(taps, filters, channels).transpose(0, 2, 1).reshape(
          taps, channels * filters)
    out[upgraded_name(name)] = value
  return out


def checkpoint_restorer(checkpoint, variables):
  """Restores `variables` from `checkpoint`, old names included (`upgrade`).

  Returns `(run, missing)`: `run(sess) -> count` sets every variable of
  `variables` that the checkpoint holds with its shape, under its name or, in a
  checkpoint written before the SignalConv2D transforms, under its old name with
  its old layout; `missing` lists the others (the caller decides whether that is an
  error). Build inside the graph, before it is finalized (adds a Saver and assign
  ops).
  """
  reader = tf.train.load_checkpoint(checkpoint)
  shapes = reader.get_variable_to_shape_map()
  old = legacy_names(shapes)
  upgraded = upgrade({name: reader.get_tensor(name) for name in old})
  current, assigned, missing = {}, [], []
  for variable in variables:
    name = variable.op.name
    if name in upgraded and variable.shape.is_compatible_with(upgraded[name].shape):
      assigned.append(variable)
    elif name not in upgraded and name in shapes and (
        variable.shape.is_compatible_with(shapes[name])):
      current[name] = variable
    else:
      missing.append(variable)
  saver = v1.train.Saver(current) if current else None
  feeds, ops = {}, []
  with tf.name_scope("upgrade_checkpoint"):
    for variable in assigned:
      dtype = variable.dtype.base_dtype
      placeholder = v1.placeholder(dtype, variable.shape)
      ops.append(v1.assign(variable, placeholder))
      feeds[placeholder] = np.asarray(upgraded[variable.op.name],
                                      dtype.as_numpy_dtype)

  def run(sess):
    if saver is not None:
      saver.restore(sess, checkpoint)
    sess.run(ops, feeds)
    return len(current) + len(ops)
  return run, missing


def is_legacy_checkpoint(checkpoint):
  """Whether `checkpoint` (a prefix) names variables the old way (`upgrade`)."""
  return bool(legacy_names(dict(tf.train.list_variables(checkpoint))))


class HyperSynthesisMean:
  """mbt2018-mean's mean path, float: z_hat [B, h, w, N] -> mean [B, 4h, 4w, M].

  HyperSynthesis.LAYERS' kernel sizes, strides and ReLUs with filters (N, N, M),
  as `conv_up` layers named "hyper_synthesis_mean/upconv_<i>"; the last kernel
  starts at zero (means 0 at initialisation: a bmshj2018 model initialises
  mbt2018-mean exactly). One object applied to several inputs uses one set of
  variables (the encoder's refinement applies it to a relaxed z as well)."""

  def __init__(self, num_filters, latent_filters):
    filters = (num_filters, num_filters, latent_filters)
    self._layers = [
        conv_up_layer(out, size, stride, f"upconv_{i}",
                      activation=tf.nn.relu if relu else None,
                      zero_kernel=i == len(filters) - 1)
        for i, ((size, stride, relu), out) in enumerate(
            zip(HyperSynthesis.LAYERS, filters))]

  def __call__(self, z_hat):
    with v1.variable_scope("hyper_synthesis_mean"):
      h = z_hat
      for layer in self._layers:
        h = layer(h)
      return h


def hyper_synthesis_mean(z_hat, num_filters, latent_filters):
  """`HyperSynthesisMean(num_filters, latent_filters)(z_hat)`: one application."""
  return HyperSynthesisMean(num_filters, latent_filters)(z_hat)


def hyper_analysis_transform(y, num_filters):
  """y float32 [B, h, w, M] -> z float32 [B, h/4, w/4, num_filters] (`conv`,
  "hyper_analysis/conv_<i>")."""
  with v1.variable_scope("hyper_analysis"):
    z = conv(tf.abs(y), num_filters, 3, 1, "conv_0", activation=tf.nn.relu)
    z = conv(z, num_filters, KERNEL_SIZE, 2, "conv_1", activation=tf.nn.relu)
    return conv(z, num_filters, KERNEL_SIZE, 2, "conv_2")


class HyperSynthesis(integer_hyper_synthesis.IntegerHyperSynthesis):
  """The 2018 hyper-synthesis, float (training) and integer (coding): the library's
  IntegerHyperSynthesis with layers (kernel size, stride, ReLU after) `LAYERS` and
  filters (N, N, M); the output `h` [B, 4 h_z, 4 w_z, M] gives the scales `exp(h)`
  and, in integers, the table indexes (see integer_hyper_synthesis.py)."""

  LAYERS = ((KERNEL_SIZE, 2, True), (KERNEL_SIZE, 2, True), (3, 1, False))

  def __init__(self, num_filters, latent_filters, scale_table):
    filters = (num_filters, num_filters, latent_filters)
    super().__init__([(f, size, stride, relu) for f, (size, stride, relu)
                      in zip(filters, self.LAYERS)], scale_table)


def _soft_round(value, offset, tau, logistic):
  """SGA's relaxed rounding of `value` to the grid `offset + integers`: the lower or
  upper neighbour, the upper one with weight sigmoid((logit_up - logit_down +
  logistic) / tau), the logits being -atanh(distance) / tau (Yang, Bamler, Mandt
  2020). Differentiable in `value` (and in `offset`)."""
  centred = value - offset
  floor = tf.floor(centred)
  fraction = centred - floor
  eps = 1e-4
  logit_down = -tf.atanh(tf.clip_by_value(fraction, eps, 1. - eps)) / tau
  logit_up = -tf.atanh(tf.clip_by_value(1. - fraction, eps, 1. - eps)) / tau
  up = tf.sigmoid((logit_up - logit_down + logistic) / tau)
  return floor + up + offset


class ImageModel:
  """One architecture with its sizes; builds training, encoder and decoder graphs.

  Args:
    architecture: "bls2017", "bmshj2018", "mbt2018-mean" or "ms2020-cc".
    num_filters: N, channels of the analysis' and synthesis' hidden layers.
    latent_filters: M, channels of y (default N).
    hyper_filters: channels of the hyper-analysis, the hyper-syntheses' hidden
      layers and z (default N). The rate of z is a few percent of the file, so a
      wide model (for high rates) can keep a narrow hyperprior and stay small.
  """

  def __init__(self, architecture, num_filters, latent_filters=None,
               hyper_filters=None):
    if architecture not in ARCHITECTURES:
      raise ValueError(f"architecture must be one of {ARCHITECTURES}, got "
                       f"{architecture!r}")
    self.architecture = architecture
    self.num_filters = int(num_filters)
    self.latent_filters = int(latent_filters or num_filters)
    self.hyper_filters = int(hyper_filters or num_filters)
    self.total_stride = TOTAL_STRIDE[architecture]
    self.stages = STAGES[architecture]
    self.hyperprior = architecture in config_lib.HYPERPRIOR
    self.predicts_mean = architecture in config_lib.MEAN_ARCHITECTURES
    # ms2020-cc: y's means and reconstruction come from its slices
    # (channel_model.py); encoder-side refinement does not fit it.
    self.channel_conditional = architecture == channel_model.ARCHITECTURE
    self.refinable = not self.channel_conditional
    self.scale_table = conditional_models.default_scale_table()

  # -- Layers (fresh per graph). ---------------------------------------------------

  def _analysis(self, x):
    return analysis_transform(x, self.num_filters, self.latent_filters, self.stages)

  def _synthesis(self, y):
    return synthesis_transform(y, self.num_filters, self.stages)

  def _entropy_bottleneck(self):
    return entropy_bottleneck.EntropyBottleneck(name="entropy_bottleneck")

  def _hyper_synthesis(self):
    return HyperSynthesis(self.hyper_filters, self.latent_filters, self.scale_table)

  def _slices(self):
    """ms2020-cc's ChannelConditional (one per graph), else None."""
    if not self.channel_conditional:
      return None
    return channel_model.slices_layer(self.latent_filters, self.scale_table)

  def _mean_layer(self):
    """The mean path (HyperSynthesisMean) of the models that predict means, else
    None."""
    if not self.predicts_mean:
      return None
    return HyperSynthesisMean(self.hyper_filters, self.latent_filters)

  def _mean(self, z_hat):
    layer = self._mean_layer()
    return None if layer is None else layer(z_hat)

  def _gaussian(self, scale=None, mean=None, indexes=None):
    return conditional_models.GaussianConditional(
        scale, scale_table=self.scale_table, mean=mean, indexes=indexes,
        name="gaussian_conditional")

  # -- Training. -------------------------------------------------------------------

  def training_graph(self, x, training=True, quantization="noise"):
    """x float32 [B, H, W, 3] in [0, 1] -> dict of tensors.

    Keys: "x_hat" (float32, x's shape, not clipped), "bits" (float32 [B], the
    estimated rate), "bpp" (scalar, bits per pixel), "mse" (scalar, on [0, 255]),
    "aux_loss", "updates" (the coding-table update ops, a list), "y_tilde" (what
    the synthesis got: float32 [B, H / 16, W / 16, M]) and, for
    the models that predict means, "y_mean" (y's predicted mean, y_tilde's shape;
    ms2020-cc: the slices' means).

    quantization: what the synthesis sees of y while training. "noise": y plus
    uniform noise, as the rate term (Ballé et al.). "mixed" (models that predict
    means): the rate term keeps the noise, but the synthesis gets y rounded
    around its predicted mean, as the coder will code it, with the rounding's
    gradient passed straight through (Minnen & Singh 2020), so the decoder learns
    the values it will actually see. For ms2020-cc the slices' means are
    predicted from the rounded earlier slices, and the latent residual
    prediction and the synthesis get the rounded values too
    (`ChannelConditional(quantization="mixed")`).
    """
    if quantization not in QUANTIZATIONS:
      raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got "
                       f"{quantization!r}")
    if quantization == "mixed" and not self.predicts_mean:
      raise ValueError("quantization 'mixed' needs a model that predicts the means "
                       f"of y (mbt2018-mean, ms2020-cc), not {self.architecture}")
    num_pixels = tf.cast(tf.reduce_prod(tf.shape(x)[1:3]), tf.float32)
    y = self._analysis(x)
    eb = self._entropy_bottleneck()
    updates = []
    mean = None
    if self.hyperprior:
      z = hyper_analysis_transform(y, self.hyper_filters)
      z_tilde, z_likelihoods = eb(z, training=training)
      hyper = self._hyper_synthesis()
      scale = hyper.scales(z_tilde)
      slices = self._slices()
      if slices:
        y_tilde, y_likelihoods = slices(y, self._mean(z_tilde), scale=scale,
                                        training=training, quantization=quantization)
        gc = slices.conditional
        mean = gc.mean
      else:
        mean = self._mean(z_tilde)
        gc = self._gaussian(scale, mean=mean)
        y_tilde, y_likelihoods = gc(y, training=training)
        if training and quantization == "mixed":
          y_tilde = y + tf.stop_gradient(tf.round(y - mean) + mean - y)
      likelihoods = [y_likelihoods, z_likelihoods]
      updates = [eb.updates[0], gc.updates[0], hyper.update_op()]
    else:
      y_tilde, y_likelihoods = eb(y, training=training)
      likelihoods = [y_likelihoods]
      updates = [eb.updates[0]]
    x_hat = self._synthesis(y_tilde)
    bits = tf.add_n([
        tf.reduce_sum(-tf.math.log(l), axis=[1, 2, 3]) for l in likelihoods
    ]) / math.log(2.)
    mse = tf.reduce_mean(tf.math.squared_difference(x, x_hat)) * 255. ** 2
    out = {
        "x_hat": x_hat,
        "bits": bits,
        "bpp": tf.reduce_mean(bits) / num_pixels,
        "mse": mse,
        "aux_loss": eb.losses[0],
        "updates": updates,
        "y_tilde": y_tilde,
    }
    if mean is not None:
      out["y_mean"] = mean
    return out

  # -- Coding. ---------------------------------------------------------------------

  def _conditional(self, hyper, z_hat, indexes, mean_layer):
    """The GaussianConditional of y given z_hat: integer table indexes (bit-exact on
    any machine; `hyper.scale_indexes(z_hat)`), their table scales for the
    estimate, float means from `mean_layer` (mbt2018-mean; None: no means)."""
    scale = tf.gather(tf.constant(self.scale_table, tf.float32), indexes)
    mean = None if mean_layer is None else mean_layer(z_hat)
    return self._gaussian(scale, mean=mean, indexes=indexes)

  def _fingerprints(self, eb, gc=None, hyper=None):
    out = {"entropy_bottleneck": eb.fingerprint()}
    if gc is not None:
      out.update(gaussian_conditional=gc.fingerprint(),
                 hyper_synthesis=hyper.fingerprint())
    return out

  def encoder_graph(self, x, lmbda=None):
    """x float32 [1, H, W, 3] (H, W multiples of total_stride) -> dict of tensors.

    Keys: "y_string" (tf.string scalar), "z_string" (hyperprior models), "y_shape"
    and "z_shape" (int32 [3], h, w, c of one latent), "bits_estimate" (float32
    scalar: the model's estimate of the coded size), "y_hat" and "z_hat" (the
    quantized latents the decoder will see), "y_symbols" (int32 [1, h, w, M]: the
    integers coded in y_string), "fingerprints" (dict: layer -> int64 scalar),
    "y" and "z" (the analyses' float outputs: feeding other values codes those),
    "indexes" (hyperprior models: int32 [1, h, w, M], the scale-table indexes of
    the integer hyper-synthesis of z_hat; the codec feeds it, computed in tiles).

    lmbda: with a number (the model's lambda), also "refine": the tensors of
    `refinement` (encoder-side refinement of y for this image).
    """
    y = self._analysis(x)
    eb = self._entropy_bottleneck()
    out = {"y_shape": tf.shape(y)[1:], "y": y}
    if self.hyperprior:
      z = hyper_analysis_transform(y, self.hyper_filters)
      z_hat, z_likelihoods = eb(z, training=False)
      z_string = eb.compress(z)
      hyper = self._hyper_synthesis()
      indexes = hyper.scale_indexes(z_hat)
      slices = self._slices()
      out.update(z_string=z_string[0], z_shape=tf.shape(z)[1:], z_hat=z_hat, z=z,
                 indexes=indexes)
      if slices:
        y_strings, out["y_symbols"], y_hat, y_likelihoods = slices.compress(
            y, self._mean(z_hat), indexes=indexes)
        out["y_string"], gc = y_strings[0], slices.conditional
      else:
        mean_layer = self._mean_layer()
        gc = self._conditional(hyper, z_hat, indexes, mean_layer)
        hyperprior = (eb, hyper, mean_layer)
        y_hat, y_likelihoods = gc(y, training=False)
        out["y_string"] = gc.compress(y)[0]
        out["y_symbols"] = gc.quantize(y, "symbols")
      likelihoods = [y_likelihoods, z_likelihoods]
      out["fingerprints"] = self._fingerprints(eb, gc, hyper)
      y_coder = gc
    else:
      y_hat, y_likelihoods = eb(y, training=False)
      out["y_string"] = eb.compress(y)[0]
      out["y_symbols"] = eb.quantize(y, "symbols")
      likelihoods = [y_likelihoods]
      out["fingerprints"] = self._fingerprints(eb)
      y_coder, hyperprior = eb, None
    out["y_hat"] = y_hat
    out["bits_estimate"] = tf.add_n(
        [tf.reduce_sum(-tf.math.log(l)) for l in likelihoods]) / math.log(2.)
    if lmbda is not None:
      if not self.refinable:
        raise ValueError(f"encoder-side refinement does not fit {self.architecture}")
      out["refine"] = self.refinement(x, y, y_coder, lmbda, hyperprior)
    return out

  def refinement(self, x, y, y_coder, lmbda, hyperprior=None):
    """The loss of encoder-side refinement for one image and its gradients.

    `rate + lmbda * distortion` of a candidate y (`y_var`) and, for hyperprior
    models, a candidate z (`z_var`), with their rounding relaxed by stochastic
    Gumbel-softmax rounding between the two nearest points of the coder's grid
    (Yang, Bamler, Mandt 2020, "Improving inference for neural image
    compression": SGA), at temperature `tau`. Without `hyperprior`, the rate is
    y's under `y_coder` as it is (an EntropyBottleneck); with it, the rate is z's
    under the EntropyBottleneck plus y's under the Gaussian of the float scales
    (and means) of the hyper-synthesis of the relaxed z, so that z moves with y
    (the coder then codes the rounded z and uses its integer table scales, within
    a table step of these). The distortion is the MSE on [0, 255] of the synthesis
    over the image's `size` (the padding left out). refine.py runs the optimizer.

    Args:
      x: the encoder's image placeholder.
      y: the analysis' y (for its shape).
      y_coder: the layer coding y (GaussianConditional or EntropyBottleneck).
      lmbda: the model's lambda.
      hyperprior: None, or `(entropy_bottleneck, hyper_synthesis, mean_layer)` of
        the encoder graph (mean_layer None for models without means).

    Returns a dict: placeholders "y_var" (float32 [1, h, w, M]), "tau" (scalar
    > 0), "logistic" (float32, y_var's shape: Logistic(0, 1) noise, the difference
    of the two Gumbel samples; zeros for the noise-free relaxation) and "size"
    (int32 [2]: H, W); tensors "loss" (scalar, bits per pixel + lmbda * MSE),
    "gradient" (d loss / d y_var), "bpp" and "mse"; with `hyperprior`, also
    "z_var" and "z_logistic" (placeholders, [1, h/4, w/4, H]) and "z_gradient".
    """
    y_var = v1.placeholder(tf.float32, [1, None, None, self.latent_filters],
                           "refine_y")
    tau = v1.placeholder(tf.float32, [], "refine_tau")
    logistic = v1.placeholder(tf.float32, [1, None, None, self.latent_filters],
                              "refine_logistic")
    size = v1.placeholder(tf.int32, [2], "refine_size")
    out = {"y_var": y_var, "tau": tau, "logistic": logistic, "size": size}
    if hyperprior is None:
      # The coder's grid: offset + integers (the offset modulo 1 is enough).
      offset = y_coder.quantize(tf.zeros_like(y), "dequantize")
      y_soft = _soft_round(y_var, offset, tau, logistic)
      bits = tf.reduce_sum(-tf.math.log(y_coder.likelihood(y_soft)))
    else:
      eb, hyper, mean_layer = hyperprior
      z_var = v1.placeholder(tf.float32, [1, None, None, self.hyper_filters],
                             "refine_z")
      z_logistic = v1.placeholder(tf.float32, [1, None, None, self.hyper_filters],
                                  "refine_z_logistic")
      z_soft = _soft_round(z_var, eb.quantize(tf.zeros_like(z_var), "dequantize"),
                           tau, z_logistic)
      scale = hyper.scales(z_soft)
      mean = None if mean_layer is None else mean_layer(z_soft)
      y_soft = _soft_round(y_var, 0. if mean is None else mean, tau, logistic)
      bits = (tf.reduce_sum(-tf.math.log(eb.likelihood(z_soft))) +
              tf.reduce_sum(-tf.math.log(y_coder.likelihood(y_soft, scale, mean))))
      out.update(z_var=z_var, z_logistic=z_logistic)
    x_hat = self._synthesis(y_soft)[:, :size[0], :size[1]]
    pixels = tf.cast(size[0] * size[1], tf.float32)
    mse = tf.reduce_mean(tf.math.squared_difference(
        x[:, :size[0], :size[1]], x_hat)) * 255. ** 2
    bpp = bits / math.log(2.) / pixels
    loss = bpp + float(lmbda) * mse
    out.update(loss=loss, bpp=bpp, mse=mse)
    if hyperprior is None:
      out["gradient"] = tf.gradients(loss, y_var)[0]
    else:
      out["gradient"], out["z_gradient"] = tf.gradients(loss, [y_var, z_var])
    return out

  def decoder_graph(self, y_string, y_shape, z_string=None, z_shape=None):
    """Strings (tf.string scalars) and latent shapes (int32 [3]) -> dict of tensors.

    Keys: "x_hat" float32 [1, H, W, 3] in [0, 1] (clipped, before rounding to
    8 bits), "y_hat", "z_hat" (hyperprior models), "y_symbols" (int32: the decoded
    integers, `round(y_hat - offset)` with the layer's quantization offset: the
    median, or mbt2018-mean's float mean, which y_hat carries but the symbols do
    not), "exact" (bool scalar: every string was consumed exactly by what was
    decoded; not an integrity check, the file's CRC is), "fingerprints",
    "indexes" (hyperprior models: int32, y's scale-table indexes from z_hat,
    before the check of y_shape against them; the codec feeds it, computed in
    tiles).
    """
    eb = self._entropy_bottleneck()
    out = {}
    if self.hyperprior:
      z_shape = tf.convert_to_tensor(z_shape, tf.int32)
      z_hat, z_exact = eb.decompress(tf.reshape(z_string, [1]), z_shape,
                                     channels=self.hyper_filters, return_exact=True)
      z_hat = tf.reshape(z_hat, tf.concat([[1], z_shape], 0))
      z_hat.set_shape([1, None, None, self.hyper_filters])
      hyper = self._hyper_synthesis()
      scale_indexes = hyper.scale_indexes(z_hat)
      same = tf.debugging.assert_equal(
          tf.convert_to_tensor(y_shape, tf.int32), tf.shape(scale_indexes)[1:],
          message="the file's y shape does not match its z shape (4 z, M channels)")
      with tf.control_dependencies([same]):
        indexes = tf.identity(scale_indexes)
      slices = self._slices()
      if slices:
        y_hat, y_symbols, y_exact = slices.decompress(
            tf.reshape(y_string, [1]), self._mean(z_hat), indexes=indexes,
            return_exact=True)
        gc = slices.conditional
      else:
        gc = self._conditional(hyper, z_hat, indexes, self._mean_layer())
        y_hat, y_exact = gc.decompress(tf.reshape(y_string, [1]), return_exact=True)
        y_symbols = gc.quantize(y_hat, "symbols")
      out.update(z_hat=z_hat, exact=tf.logical_and(z_exact[0], y_exact[0]),
                 y_symbols=y_symbols, indexes=scale_indexes)
      out["fingerprints"] = self._fingerprints(eb, gc, hyper)
    else:
      y_shape = tf.convert_to_tensor(y_shape, tf.int32)
      y_hat, y_exact = eb.decompress(tf.reshape(y_string, [1]), y_shape,
                                     channels=self.latent_filters, return_exact=True)
      y_hat = tf.reshape(y_hat, tf.concat([[1], y_shape], 0))
      out.update(exact=y_exact[0], y_symbols=eb.quantize(y_hat, "symbols"))
      out["fingerprints"] = self._fingerprints(eb)
    y_hat.set_shape([1, None, None, self.latent_filters])
    out["y_hat"] = y_hat
    out["x_hat"] = tf.clip_by_value(self._synthesis(y_hat), 0., 1.)
    return out
