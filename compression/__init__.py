"""Learned data compression for TensorFlow graphs: range coding ops and entropy models.

  from compression import EntropyBottleneck, GaussianConditional, range_encode

Entropy models: `EntropyBottleneck` (learned factorized prior) and the conditional
models `GaussianConditional`, `LogisticConditional`, `LaplacianConditional` (on
`SymmetricConditional`), all on the `EntropyModel` base; `IntegerHyperSynthesis`, a
hyperprior's hyper-synthesis whose scale indexes are bit-exact on any machine;
`ChannelConditional`, channel-wise autoregressive means over a hyperprior, and
`IntegerSliceScales`, scales of each slice from the previous ones, bit-exact.
`GDN` (and IGDN with `inverse=True`), the normalization layer of image transforms.

The names below load lazily, so that importing a submodule that needs neither
TensorFlow nor the op library (the MNIST data reader, a command's --help) stays fast.
"""

import importlib

_EXPORTS = {
    "EntropyBottleneck": "compression.python.layers.entropy_bottleneck",
    "EntropyModel": "compression.python.layers.entropy_model",
    "SymmetricConditional": "compression.python.layers.conditional_models",
    "GaussianConditional": "compression.python.layers.conditional_models",
    "LogisticConditional": "compression.python.layers.conditional_models",
    "LaplacianConditional": "compression.python.layers.conditional_models",
    "default_scale_table": "compression.python.layers.conditional_models",
    "IntegerHyperSynthesis": "compression.python.layers.integer_hyper_synthesis",
    "ChannelConditional": "compression.python.layers.channel_conditional",
    "IntegerSliceScales": "compression.python.layers.integer_slice_scales",
    "GDN": "compression.python.layers.gdn",
    "Parameterizer": "compression.python.layers.parameterizers",
    "StaticParameterizer": "compression.python.layers.parameterizers",
    "RDFTParameterizer": "compression.python.layers.parameterizers",
    "NonnegativeParameterizer": "compression.python.layers.parameterizers",
    "irdft_matrix": "compression.python.layers.parameterizers",
    "IdentityInitializer": "compression.python.layers.initializers",
    "SignalConv1D": "compression.python.layers.signal_conv",
    "SignalConv2D": "compression.python.layers.signal_conv",
    "SignalConv3D": "compression.python.layers.signal_conv",
    "same_padding_for_kernel": "compression.python.layers.signal_conv",
    "PackedTensors": "compression.python.util.packed_tensors",
    "lower_bound": "compression.python.ops.math_ops",
    "upper_bound": "compression.python.ops.math_ops",
    "range_encode": "compression.python.ops.range_coding_ops",
    "range_decode": "compression.python.ops.range_coding_ops",
    "pmf_to_quantized_cdf": "compression.python.ops.range_coding_ops",
    "indexed_range_encode": "compression.python.ops.range_coding_ops",
    "indexed_range_decode": "compression.python.ops.range_coding_ops",
    "unbounded_index_range_encode":
        "compression.python.ops.unbounded_index_range_coding_ops",
    "unbounded_index_range_decode":
        "compression.python.ops.unbounded_index_range_coding_ops",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
  if name not in _EXPORTS:
    raise AttributeError(f"module 'compression' has no attribute {name!r}")
  value = getattr(importlib.import_module(_EXPORTS[name]), name)
  globals()[name] = value
  return value


def __dir__():
  return sorted(list(globals()) + __all__)
