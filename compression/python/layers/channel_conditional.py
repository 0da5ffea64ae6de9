"""`ChannelConditional`: channel-wise autoregressive means over a hyperprior.

The channel-conditional entropy model of Minnen & Singh 2020 ("Channel-wise
autoregressive entropy models for learned image compression"), for a latent `y`
`[B, h, w, M]` whose scales come from a hyperprior. The channels are cut into `S`
slices of `C = M / S` channels; slice `k` is modelled after slices `0 .. k - 1`:

  mean_k  = mu_k + g_mean_k(support_k)
  q_k     = round(y_k - mean_k) + mean_k          (coding; y_k + noise in training)
  y_hat_k = q_k + 0.5 tanh(g_lrp_k(concat(support_k, q_k)))

with `mu` `[B, h, w, M]` the hyperprior's float mean (e.g. a mean hyper-synthesis of
`z_hat`), `mu_k` its channels of slice `k`, `support_k = concat(mu, y_hat_0, ...,
y_hat_{j-1})`, `j = min(k, max_previous_slices)` (the first slices: the paper caps
the support at a few slices), and `g_mean_k`, `g_lrp_k` small stride-1 convolution
stacks ("same" padding, ReLU between layers). The second line is the latent
residual prediction (LRP): the decoder adds a bounded correction, within half a
quantization bin, to each dequantized slice. The last kernel and bias of every
stack start at zero, so a new layer computes `mean = mu` and `y_hat = q`: exactly
the mean-scale hyperprior (Minnen et al. 2018), whose weights can start a run.

Scales are NOT conditioned on the slices here: they are the hyperprior's, float
`scale` for training and, for coding, integer table `indexes` computed from `z_hat`
only (`IntegerHyperSynthesis.scale_indexes`, bit-exact on every machine). So all the
symbols `round(y - mean)` of an item are coded in one string with indexes that do
not depend on any float computation: the decoder decodes every symbol at once (the
means are not needed for that), then runs the slices in order to rebuild `y_hat`.
The float means only move the reconstruction (by float rounding, on another
machine), never the decoded symbols.

The likelihoods are those of one conditional model (`GaussianConditional` by
default) of `scale` and the concatenated means: the coding tables are the ones the
rate was trained with.

Variables (`tf.compat.v1.get_variable` under `tf.compat.v1.variable_scope(name,
reuse=AUTO_REUSE)`, default name "channel_conditional"; layers with the same name in
one graph share them), for slice `k` and net `n` in "mean", "lrp":
  `<name>/slice_<k>/<n>/conv_<i>/kernel_rdft`  float32 (with `rdft`; the kernel's
      real DFT coefficients, `RDFTParameterizer`; without it `kernel`, float32
      `[size, size, C_in, C_out]`); glorot-uniform, zeros for the last layer
  `<name>/slice_<k>/<n>/conv_<i>/bias`         float32 `[C_out]`, zeros
All are trainable; created on the first call of any method.
"""

import tensorflow as tf

from compression.python.layers import conditional_models
from compression.python.layers import entropy_model
from compression.python.layers import parameterizers

__all__ = ["ChannelConditional", "SliceLayout"]

v1 = tf.compat.v1

# LRP corrections stay within this many quantization bins: 0.5 tanh(...).
LRP_BOUND = .5
# What the slices see of y in training (`__call__(quantization=...)`).
QUANTIZATIONS = ("noise", "mixed")


def _round_straight_through(y, mean):
  """`round(y - mean) + mean`, float32, whose gradient is 1 for `y` and 0 for
  `mean` (the rounding passed straight through)."""
  return y + tf.stop_gradient(tf.round(y - mean) + mean - y)


def positive_int(value, what, minimum=1):
  """`value` as an int if it is an integer >= `minimum`; else a one-line ValueError
  naming `what` and the value."""
  if not entropy_model.is_int(value) or value < minimum:
    raise ValueError(f"`{what}` must be an integer >= {minimum}, got {value!r}.")
  return int(value)


class SliceLayout:
  """The slices of a channel-conditional layer: `y`'s M channels in S slices of C.

  The base of `ChannelConditional` and `IntegerSliceScales`: their common
  arguments, checked (one-line ValueErrors naming the value), the slice nets' sizes,
  which previous slices condition slice k, and the one-graph rule.

  Args:
    num_slices: S, an int >= 1 dividing `latent_channels`.
    latent_channels: M.
    hidden_channels: sequence of ints >= 1, the hidden layers of every slice net
      (default `(ceil(2 M / 3), ceil(M / 3))`, about the paper's 224, 128 for
      M = 320).
    kernel_size: int >= 1.
    max_previous_slices: None (all) or an int >= 0: slice k is conditioned on the
      first `min(k, max_previous_slices)` slices.
    name: the variable scope, a non-empty string.
  """

  def __init__(self, num_slices, latent_channels, hidden_channels, kernel_size,
               max_previous_slices, name):
    self._num_slices = positive_int(num_slices, "num_slices")
    self._latent_channels = positive_int(latent_channels, "latent_channels")
    if self._latent_channels % self._num_slices:
      raise ValueError(
          f"`num_slices` ({self._num_slices}) must divide `latent_channels` "
          f"({self._latent_channels}).")
    if hidden_channels is None:
      hidden_channels = (-(-2 * self._latent_channels // 3),
                         -(-self._latent_channels // 3))
    try:
      hidden = tuple(hidden_channels)
    except TypeError:
      hidden = None
    if hidden is None or not all(entropy_model.is_int(c) and c >= 1 for c in hidden):
      raise ValueError("`hidden_channels` must be a sequence of integers >= 1, got "
                       f"{hidden_channels!r}.")
    self._hidden_channels = tuple(int(c) for c in hidden)
    self._kernel_size = positive_int(kernel_size, "kernel_size")
    if max_previous_slices is None:
      max_previous_slices = self._num_slices
    self._max_previous = positive_int(max_previous_slices, "max_previous_slices", 0)
    if not isinstance(name, str) or not name:
      raise ValueError(f"`name` must be a non-empty string, got {name!r}.")
    self._name = name
    self._graph = None   # the graph of the variables, once built

  @property
  def num_slices(self):
    return self._num_slices

  @property
  def latent_channels(self):
    return self._latent_channels

  @property
  def slice_channels(self):
    """C = M / S, the channels of one slice."""
    return self._latent_channels // self._num_slices

  @property
  def hidden_channels(self):
    return self._hidden_channels

  @property
  def kernel_size(self):
    return self._kernel_size

  @property
  def max_previous_slices(self):
    """How many previous slices (the first ones) condition a slice, at most."""
    return self._max_previous

  @property
  def name(self):
    return self._name

  def support_slices(self, k):
    """The number of previous slices that condition slice `k`."""
    return min(k, self._max_previous)

  def _built_here(self):
    """True if the variables exist in the default graph, False if not built yet;
    a ValueError if they were built in another graph."""
    graph = v1.get_default_graph()
    if self._graph is None:
      self._graph = graph
      return False
    if graph is not self._graph:
      raise ValueError(f"{self._name}: this layer was built in another graph; "
                       f"create a new {type(self).__name__} for each graph.")
    return True


class ChannelConditional(SliceLayout):
  """Channel-conditional means with latent residual prediction (see the module doc).

  Shapes: `y`, `mu_hyper` and the outputs are float32 `[B, h, w, M]` (NHWC, `M` =
  `latent_channels` known when the graph is built), in quantization bins; `scale`
  float32 and `indexes` int32 of the same shape; likelihoods are probabilities in
  (0, 1] (rate in bits: `sum(-log2(likelihoods))`); strings `tf.string [B]`.

  Usage (graph mode; `hyper` an `IntegerHyperSynthesis`, `mu` a float mean path):
    cc = ChannelConditional(num_slices=4, latent_channels=M)
    # Training: noise, float scales.
    y_tilde, likelihoods = cc(y, mu(z_tilde), scale=hyper.scales(z_tilde))
    updates = [..., cc.conditional.updates[0], hyper.update_op()]
    # Encoder and decoder: integer indexes of z_hat.
    strings, symbols, y_hat, likelihoods = cc.compress(
        y, mu(z_hat), indexes=hyper.scale_indexes(z_hat))
    y_hat, symbols = cc.decompress(strings, mu(z_hat),
                                   indexes=hyper.scale_indexes(z_hat))

  Args:
    num_slices: S, an int >= 1 dividing `latent_channels`.
    latent_channels: M, the channels of `y`.
    hidden_channels: sequence of ints >= 1, the output channels of the hidden
      layers of every slice net (the last layer has C = M / S). Default
      `(ceil(2 M / 3), ceil(M / 3))` (about the paper's 224, 128 for M = 320).
    kernel_size: int >= 1, the side of every slice net's kernels (default 3).
    max_previous_slices: None (every previous slice) or an int >= 0: slice k is
      conditioned on the first `min(k, max_previous_slices)` slices.
    scale_table: the conditional model's scale table (default
      `default_scale_table()`).
    conditional: a `SymmetricConditional` subclass (default `GaussianConditional`).
    conditional_name: the name of the conditional layers built (its tables'
      variables), default the class's own.
    rdft: bool, whether the spatial kernels are stored as real DFT coefficients
      (`RDFTParameterizer`: Adam trains such kernels faster per step).
    name: the variable scope (default "channel_conditional").
  """

  def __init__(self, num_slices, latent_channels, hidden_channels=None,
               kernel_size=3, max_previous_slices=None, scale_table=None,
               conditional=None, conditional_name=None, rdft=True,
               name="channel_conditional"):
    super().__init__(num_slices, latent_channels, hidden_channels, kernel_size,
                     max_previous_slices, name)
    if conditional is None:
      conditional = conditional_models.GaussianConditional
    if not (isinstance(conditional, type)
            and issubclass(conditional, conditional_models.SymmetricConditional)):
      raise ValueError("`conditional` must be a SymmetricConditional subclass (e.g. "
                       f"GaussianConditional), got {conditional!r}.")
    if not isinstance(rdft, bool):
      raise ValueError(f"`rdft` must be a bool, got {rdft!r}.")
    self._scale_table = scale_table
    self._conditional_class = conditional
    self._conditional_name = conditional_name
    self._rdft = rdft
    self._nets = None    # per slice: {"mean": [(kernel, bias)], "lrp": [...]}
    self._conditional = None

  # -- Configuration. ---------------------------------------------------------------

  @property
  def conditional(self):
    """The conditional layer of the last call (`__call__`, `compress`,
    `decompress`), for its `updates[0]` and `fingerprint()`; None before."""
    return self._conditional

  @property
  def variables(self):
    """The slice nets' variables, slice by slice, mean then lrp (empty before the
    first call). `kernel` entries are the RDFT coefficient variables with `rdft`."""
    if self._nets is None:
      return []
    return list(self._variables)

  trainable_variables = variables

  # -- Building. ----------------------------------------------------------------------

  def _build(self):
    if self._built_here():
      return
    m, c = self._latent_channels, self.slice_channels
    variables = []
    nets = []
    with v1.variable_scope(self._name, reuse=v1.AUTO_REUSE):
      for k in range(self._num_slices):
        support = m + c * self.support_slices(k)
        slice_nets = {}
        for net, inputs in (("mean", support), ("lrp", support + c)):
          layers = []
          channels = self._hidden_channels + (c,)
          for i, out in enumerate(channels):
            last = i == len(channels) - 1
            with v1.variable_scope(f"slice_{k}/{net}/conv_{i}"):
              layers.append(self._weights(inputs, out, last, variables))
            inputs = out
          slice_nets[net] = layers
        nets.append(slice_nets)
    self._variables = variables
    self._nets = nets

  def _weights(self, inputs, outputs, zero, variables):
    shape = [self._kernel_size, self._kernel_size, inputs, outputs]
    initializer = (v1.zeros_initializer() if zero
                   else v1.glorot_uniform_initializer())
    created = []

    def getter(**kwargs):
      created.append(v1.get_variable(**kwargs))
      return created[-1]

    if self._rdft and self._kernel_size > 1:
      kernel = parameterizers.RDFTParameterizer()(getter, "kernel", shape,
                                                  tf.float32, initializer)
    else:
      kernel = getter(name="kernel", shape=shape, dtype=tf.float32,
                      initializer=initializer)
    bias = getter(name="bias", shape=[outputs], dtype=tf.float32,
                  initializer=v1.zeros_initializer())
    variables += created
    return kernel, bias

  # -- Checks. ------------------------------------------------------------------------

  def _latent(self, value, what):
    """`value` as a float32 `[B, h, w, M]` tensor; else a one-line ValueError."""
    if isinstance(value, (tf.Tensor, tf.Variable)):
      tensor = value
    else:
      tensor = tf.convert_to_tensor(value, dtype_hint=tf.float32)
    if tensor.dtype != tf.float32:
      raise ValueError(f"{self._name}: `{what}` must be float32, got dtype "
                       f"{tensor.dtype.name}.")
    shape = tensor.shape
    if shape.rank != 4 or tf.compat.dimension_value(shape[-1]) != self._latent_channels:
      raise ValueError(
          f"{self._name}: `{what}` must be [B, h, w, {self._latent_channels}] (NHWC, "
          f"latent_channels known when the graph is built), got shape {shape}.")
    return tf.convert_to_tensor(tensor)

  def _make_conditional(self, scale, indexes, mean):
    if scale is None and indexes is None:
      raise ValueError(f"{self._name}: pass `scale` (float scales), `indexes` "
                       "(integer table indexes) or both; got neither.")
    if scale is not None:
      scale = self._latent(scale, "scale")
    return self._conditional_class(
        scale, scale_table=self._scale_table, mean=mean, indexes=indexes,
        name=self._conditional_name)

  # -- The slices. --------------------------------------------------------------------

  def _net(self, layers, inputs):
    h = inputs
    for i, (kernel, bias) in enumerate(layers):
      h = tf.nn.bias_add(tf.nn.conv2d(h, kernel, 1, "SAME"), bias)
      if i + 1 < len(layers):
        h = tf.nn.relu(h)
    return h

  def _slices(self, mu_hyper, quantize):
    """Runs the slices in order.

    `quantize(k, mean_k)` gives slice k's quantized values `q_k` (symbols plus
    mean, or noisy `y_k`). Returns `(y_hat, q, means)`, float32 `[B, h, w, M]`.
    """
    self._build()
    c = self.slice_channels
    y_hats, qs, means = [], [], []
    with tf.name_scope(self._name):
      for k, nets in enumerate(self._nets):
        with tf.name_scope(f"slice_{k}"):
          support = tf.concat([mu_hyper] + y_hats[:self.support_slices(k)], -1)
          mean = mu_hyper[..., k * c:(k + 1) * c] + self._net(nets["mean"], support)
          q = quantize(k, mean)
          lrp = LRP_BOUND * tf.tanh(self._net(nets["lrp"],
                                              tf.concat([support, q], -1)))
          y_hats.append(q + lrp)
          qs.append(q)
          means.append(mean)
    return tuple(tf.concat(t, -1) for t in (y_hats, qs, means))

  def _slice(self, tensor, k):
    c = self.slice_channels
    return tensor[..., k * c:(k + 1) * c]

  # -- Training and evaluation. -------------------------------------------------------

  def __call__(self, y, mu_hyper, scale=None, indexes=None, training=True,
               quantization="noise"):
    """Quantizes `y` slice by slice; returns `(y_hat, likelihoods)`.

    Args:
      y: float32 `[B, h, w, M]`, the latent.
      mu_hyper: float32 `[B, h, w, M]`, the hyperprior's mean.
      scale: float32 `[B, h, w, M]` (positive), the scales (e.g.
        `IntegerHyperSynthesis.scales(z_tilde)`), or None with `indexes`.
      indexes: optional integer `[B, h, w, M]`, table indexes (the scales are then
        the table entries unless `scale` is given).
      training: Python bool. True: as `quantization` says. False: `q =
        round(y - mean) + mean` (what `compress` codes).
      quantization: with `training`, one of `QUANTIZATIONS`. "noise": `q = y +
        u`, `u` uniform in [-.5, .5) (the conditional models' "noise"), for the
        rate and for everything after it (the nets of the later slices, the LRP,
        `y_hat`). "mixed" (Minnen & Singh 2020): the rate is still taken at `y +
        u`, but the slices see `q = round(y - mean) + mean`, the values the coder
        will code, with the rounding's gradient passed straight through to `y`;
        so the slice nets and whatever decodes `y_hat` learn on the values they
        will get.

    Returns:
      y_hat: float32 `[B, h, w, M]`, `q` plus the LRP correction (feed it to the
        synthesis).
      likelihoods: float32 `[B, h, w, M]`, in (0, 1]: the conditional model of
        `scale` and the slices' means at `q` (`self.conditional`).
    """
    if not isinstance(training, bool):
      raise ValueError(f"{self._name}: `training` must be a Python bool, got "
                       f"{training!r}.")
    if quantization not in QUANTIZATIONS:
      raise ValueError(f"{self._name}: `quantization` must be one of "
                       f"{QUANTIZATIONS}, got {quantization!r}.")
    y = self._latent(y, "y")
    mu_hyper = self._latent(mu_hyper, "mu_hyper")
    rated = None    # the values the rate is taken at, if not the slices' q
    if not training:
      quantize = lambda k, mean: tf.round(self._slice(y, k) - mean) + mean
    else:
      noisy = y + tf.random.uniform(tf.shape(y), -.5, .5, dtype=tf.float32)
      if quantization == "noise":
        quantize = lambda k, mean: self._slice(noisy, k)
      else:
        rated = noisy
        quantize = lambda k, mean: _round_straight_through(self._slice(y, k), mean)
    y_hat, q, means = self._slices(mu_hyper, quantize)
    gc = self._make_conditional(scale, indexes, means)
    gc.build(y.shape)
    self._conditional = gc
    return y_hat, gc.likelihood(q if rated is None else rated)

  # -- Coding. ------------------------------------------------------------------------

  def compress(self, y, mu_hyper, indexes=None, scale=None):
    """Codes `y`: `(strings, symbols, y_hat, likelihoods)`.

    Args:
      y, mu_hyper: float32 `[B, h, w, M]`.
      indexes: integer `[B, h, w, M]`, the table indexes that code each element
        (from `z_hat` only, e.g. `IntegerHyperSynthesis.scale_indexes(z_hat)`: the
        portable way); or None with `scale` (the conditional model then computes
        them from the float scales, with its index check).
      scale: float32 `[B, h, w, M]` or None (with `indexes`: the table entries).

    Returns:
      strings: tf.string `[B]`, the symbols coded by `self.conditional` (whose
        mean is the slices' means).
      symbols: int32 `[B, h, w, M]`, `round(y - mean)`, the integers coded.
      y_hat: float32 `[B, h, w, M]`, what `decompress` rebuilds.
      likelihoods: float32 `[B, h, w, M]` of the coded values (the rate estimate,
        `sum(-log2)` bits).
    """
    y = self._latent(y, "y")
    mu_hyper = self._latent(mu_hyper, "mu_hyper")
    quantize = lambda k, mean: tf.round(self._slice(y, k) - mean) + mean
    y_hat, q, means = self._slices(mu_hyper, quantize)
    gc = self._make_conditional(scale, indexes, means)
    strings = gc.compress(y)
    self._conditional = gc
    return strings, gc.quantize(y, "symbols"), y_hat, gc.likelihood(q)

  def decompress(self, strings, mu_hyper, indexes=None, scale=None,
                 return_exact=False):
    """Decodes strings of `compress`: `(y_hat, symbols[, exact])`.

    All the symbols are decoded first, by one conditional model without means
    (its indexes are `indexes`, or computed from `scale`); then the slices rebuild
    `y_hat` in order (`reconstruct`).

    Args:
      strings: tf.string `[B]`.
      mu_hyper: float32 `[B, h, w, M]`.
      indexes, scale: as for `compress`, computed by the decoder (the same
        `indexes` as the encoder's; with float `scale` only, bit-identical scales).
      return_exact: bool; also return the bool `[B]` "exact" of
        `EntropyModel.decompress`.

    Returns:
      y_hat: float32 `[B, h, w, M]`; symbols: int32 `[B, h, w, M]`; exact with
      `return_exact`.
    """
    mu_hyper = self._latent(mu_hyper, "mu_hyper")
    gc = self._make_conditional(scale, indexes, None)
    values, exact = gc.decompress(strings, return_exact=True)
    self._conditional = gc
    y_hat = self.reconstruct(values, mu_hyper)
    symbols = tf.cast(values, tf.int32)
    return (y_hat, symbols, exact) if return_exact else (y_hat, symbols)

  def reconstruct(self, symbols, mu_hyper):
    """`y_hat` float32 `[B, h, w, M]` from decoded symbols (integer or float
    `[B, h, w, M]`) and `mu_hyper`: the slices in order, `symbols_k + mean_k` plus
    the LRP correction."""
    symbols = tf.convert_to_tensor(symbols)
    if symbols.dtype.is_integer:
      symbols = tf.cast(symbols, tf.float32)
    symbols = self._latent(symbols, "symbols")
    mu_hyper = self._latent(mu_hyper, "mu_hyper")
    quantize = lambda k, mean: self._slice(symbols, k) + mean
    return self._slices(mu_hyper, quantize)[0]
