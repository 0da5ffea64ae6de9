"""Wider transforms from a trained model, computing what it computed.

`train --init_from=DIR` with a larger `--num_filters` (N, the analysis' and
synthesis' hidden channels) or `--latent_filters` (M, the channels of y) than DIR's
model starts the new run from DIR's model widened by `widen`: the old units keep
their weights, and every new unit is added so that nothing old sees it.

- A new hidden unit gets small random incoming weights (half the standard
  deviation of its layer's kernel) and zero outgoing weights; in GDN and IGDN it has
  beta 1, its own gamma 0.1 (the layer's initial values) and no coupling with the
  other channels, so the old channels' normalisation is what it was.
- A new channel of y gets zero incoming weights, so it is 0; its scale is the scale
  table's smallest (the last hyper-synthesis layer's bias log 0.11, zero weights)
  and its mean 0, so it codes for almost no bits (P(|y| < 1/2) = 1 - 6e-6), and
  nothing old sees it (zero weights from it into the synthesis' old units and
  into the hyper-analysis).

So the widened model codes an image as the narrow one did, up to float rounding
(the same integers but a rare one, files of about the same size), and training
starts from the narrow model's rate-distortion and puts the new units to use; the
random incoming weights of the new hidden units break the symmetry between them. The
hyperprior's width (`hyper_filters`, the channels of z) stays; a wide model for the
high rates can keep a narrow hyperprior (z is a few percent of the file).

Works on bmshj2018 and mbt2018-mean models (a bmshj2018 model widened into an
mbt2018-mean one has no mean path to widen: its new mean path starts at zero as
it does without widening). No TensorFlow import here: `widen` maps numpy arrays.
"""

import numpy as np

# The architectures whose models can be widened, and be widened into.
ARCHITECTURES = ("bmshj2018", "mbt2018-mean")
# GDN's reparameterisation (gdn.py: reparam_offset 2**-18): a stored p gives
# p**2 - PEDESTAL.
PEDESTAL = (2. ** -18) ** 2
# Relative size of a new hidden unit's random incoming weights.
NEW_WEIGHT_SCALE = .5
# The scale of a new y channel (the scale table's smallest).
NEW_CHANNEL_SCALE = .11
# Integer tables and derived values, rebuilt from the float weights.
DERIVED = ("kernel_int", "bias_int", "weight_bits", "scale_thresholds")
_STAGES = 4


class WidenError(ValueError):
  """A model that cannot be widened to the asked sizes (one line)."""


def sizes(values):
  """(N, M, H) of a model's named values: hidden channels of the analysis, channels
  of y, channels of z."""
  try:
    return (values["analysis/conv_0/bias"].shape[0],
            values[f"analysis/conv_{_STAGES - 1}/bias"].shape[0],
            values["hyper_synthesis/conv_0/bias"].shape[0])
  except KeyError as error:
    raise WidenError(f"the model has no {error.args[0]}: only "
                     f"{' and '.join(ARCHITECTURES)} models can be widened") from None


def _kernel(kernel, c_out_old, c_in, c_out, rng, zero_new_outputs=False):
  """A kernel [S, C_in * C_out] (inputs major, as SignalConv2D stores its
  coefficients) widened to [S, c_in * c_out]: the old block kept, new inputs -> old
  outputs zero, new outputs with random incoming weights (or zero)."""
  size = kernel.shape[0]
  c_in_old = kernel.shape[1] // c_out_old
  old = kernel.reshape(size, c_in_old, c_out_old)
  out = np.zeros([size, c_in, c_out], np.float32)
  if not zero_new_outputs and c_out > c_out_old:
    std = NEW_WEIGHT_SCALE * float(np.std(old))
    out[:, :, c_out_old:] = rng.normal(0., std, [size, c_in, c_out - c_out_old])
  out[:, :c_in_old, :c_out_old] = old
  return out.reshape(size, c_in * c_out)


def _bias(bias, channels, fill=0.):
  return np.concatenate([bias, np.full(channels - bias.shape[0], fill, np.float32)])


def _gdn(values, scope, channels, out):
  """GDN / IGDN parameters of `scope` for `channels` channels: new channels beta 1,
  gamma 0.1 on the diagonal, 0 off it (stored reparameterised)."""
  beta, gamma = values[scope + "/reparam_beta"], values[scope + "/reparam_gamma"]
  old = beta.shape[0]
  new_beta = np.full([channels], np.sqrt(1. + PEDESTAL), np.float32)
  new_beta[:old] = beta
  new_gamma = np.full([channels, channels], np.sqrt(PEDESTAL), np.float32)
  new_gamma[:old, :old] = gamma
  for i in range(old, channels):
    new_gamma[i, i] = np.sqrt(.1 + PEDESTAL)
  out[scope + "/reparam_beta"], out[scope + "/reparam_gamma"] = new_beta, new_gamma


def check_sizes(old, num_filters, latent_filters):
  """WidenError unless (num_filters, latent_filters) are at least `old` (N, M)."""
  for name, was, asked in (("num_filters", old[0], num_filters),
                           ("latent_filters", old[1], latent_filters)):
    if asked < was:
      raise WidenError(f"--{name}={asked} is below its model's {was}; a model can "
                       "be widened, not narrowed")


def widen(values, num_filters, latent_filters, seed=0):
  """The named values of `values`' model with N = num_filters, M = latent_filters.

  Args:
    values: {variable name: numpy array} of a bmshj2018 or mbt2018-mean model
      (`shipped.values`, or a checkpoint's model variables under today's names).
    num_filters, latent_filters: the new N and M, at least the model's own.
    seed: of the new hidden units' random incoming weights.

  Returns:
    {name: float32 array} of the model variables the widened model shares with the
    old one (analysis, synthesis, hyper-analysis, hyper-syntheses, entropy
    bottleneck), without the derived integer tables (`DERIVED`) and the coding
    tables of y, which the model's update ops rebuild (the entropy bottleneck's are
    kept: z does not change); optimizer slots are left out.

  Raises:
    WidenError: a smaller N or M than the model's, or not a hyperprior model.
  """
  n0, m0, _ = sizes(values)
  check_sizes((n0, m0), num_filters, latent_filters)
  n1, m1 = num_filters, latent_filters
  rng = np.random.default_rng(seed)
  out = {}
  # Analysis 3 -> N -> N -> N -> M and synthesis M -> N -> N -> N -> 3; the last
  # analysis layer's new outputs (y's new channels) get zero incoming weights.
  for scope, conv, norm, dims in (
      ("analysis", "conv", "gdn", [3, n1, n1, n1, m1]),
      ("synthesis", "upconv", "igdn", [m1, n1, n1, n1, 3])):
    for i in range(_STAGES):
      prefix = f"{scope}/{conv}_{i}"
      bias = values[prefix + "/bias"]
      out[prefix + "/kernel_rdft"] = _kernel(
          values[prefix + "/kernel_rdft"], bias.shape[0], dims[i], dims[i + 1], rng,
          zero_new_outputs=(scope == "analysis" and i == _STAGES - 1))
      out[prefix + "/bias"] = _bias(bias, dims[i + 1])
      if i < _STAGES - 1:
        _gdn(values, f"{scope}/{norm}_{i}", n1, out)
  # The hyper-analysis reads |y|: y's new channels reach nothing.
  bias = values["hyper_analysis/conv_0/bias"]
  out["hyper_analysis/conv_0/kernel_rdft"] = _kernel(
      values["hyper_analysis/conv_0/kernel_rdft"], bias.shape[0], m1, bias.shape[0],
      rng)
  # The last layers of the hyper-syntheses give y's new channels the smallest
  # scale (log: the scale is exp of the output) and mean 0, from no input.
  kernel = values["hyper_synthesis/conv_2/kernel"]  # [k, k, M, H] (tf.nn transposed)
  widened = np.zeros(kernel.shape[:2] + (m1, kernel.shape[3]), np.float32)
  widened[:, :, :m0] = kernel
  out["hyper_synthesis/conv_2/kernel"] = widened
  out["hyper_synthesis/conv_2/bias"] = _bias(values["hyper_synthesis/conv_2/bias"],
                                             m1, np.log(NEW_CHANNEL_SCALE))
  mean_last = "hyper_synthesis_mean/upconv_2"
  if mean_last + "/bias" in values:
    bias = values[mean_last + "/bias"]
    kernel = values[mean_last + "/kernel_rdft"]
    out[mean_last + "/kernel_rdft"] = _kernel(
        kernel, bias.shape[0], kernel.shape[1] // bias.shape[0], m1, rng,
        zero_new_outputs=True)
    out[mean_last + "/bias"] = _bias(bias, m1)
  # Everything else of the hyperprior is unchanged (its width stays).
  for name, value in values.items():
    if name.startswith(("hyper_analysis/", "hyper_synthesis/",
                        "hyper_synthesis_mean/", "entropy_bottleneck/")) and (
                            name not in out) and not name.endswith(DERIVED):
      out[name] = value
  for name, value in values.items():
    if (name.startswith(("analysis/", "synthesis/")) and name not in out
        and "Adam" not in name):
      raise WidenError(f"widen: {name} is not a variable of a bmshj2018 or "
                       "mbt2018-mean transform")
  return {name: value for name, value in out.items() if "Adam" not in name}
