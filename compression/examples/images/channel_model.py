"""ms2020-cc: mbt2018-mean with channel-conditional means (Minnen & Singh 2020).

"Channel-wise autoregressive entropy models for learned image compression" (Minnen,
Singh 2020), named like the other architectures after its authors' initials and
year. It keeps mbt2018-mean's transforms, its integer scale hyper-synthesis and its
float mean hyper-synthesis (`model.HyperSynthesisMean`, `mu`), and adds the
library's `ChannelConditional` on y: y's M channels are cut into `num_slices(M)`
slices; slice k's mean is `mu_k` plus a small convolution stack of `mu` and the
slices before it, and its reconstruction adds a latent residual prediction within
half a bin (compression/python/layers/channel_conditional.py).

The scales stay the integer hyper-synthesis' table indexes of z_hat, so y is still
one string whose symbols `round(y - mean)` decode at once, bit-exact on every
machine; the decoder then runs the slices in order to rebuild y_hat. Everything of
mbt2018-mean keeps its variable name, and the slice nets' last layers start at
zero: `train --init_from=<an mbt2018-mean model>` starts exactly from that model
(the same likelihoods, files and images) and trains the slices from there.

Tiling (tiling.py) works as for mbt2018-mean: the slice nets run on the whole y
(at 1/16 of the image's resolution, a few hundred bytes per y position).
Encoder-side refinement (refine.py) is not available: its relaxed y would have to
move every later slice's mean; the codec refuses effort > 0 for this architecture.
"""

from compression.python.layers import channel_conditional

ARCHITECTURE = "ms2020-cc"
# Slices of y: the largest divisor of M not above this (4 for the default M of 64
# or 96, 3 for M = 6).
MAX_SLICES = 4
# The nets' kernels (3x3) and hidden layers: the library's default,
# (ceil(2 M / 3), ceil(M / 3)) channels; every previous slice conditions a slice.
KERNEL_SIZE = 3
VARIABLE_SCOPE = "channel_conditional"


def num_slices(latent_filters):
  """S for M = `latent_filters`: the largest divisor of M that is at most
  MAX_SLICES."""
  return max(s for s in range(1, MAX_SLICES + 1) if latent_filters % s == 0)


def slices_layer(latent_filters, scale_table):
  """The architecture's `ChannelConditional` (one per graph): S = num_slices(M),
  3x3 kernels, variables under "channel_conditional/", its conditional model
  named "gaussian_conditional" like mbt2018-mean's."""
  return channel_conditional.ChannelConditional(
      num_slices(latent_filters), latent_filters, kernel_size=KERNEL_SIZE,
      scale_table=scale_table, conditional_name="gaussian_conditional",
      name=VARIABLE_SCOPE)
