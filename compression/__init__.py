"""Learned data compression for TensorFlow graphs: range coding ops and entropy models.

  from compression import EntropyBottleneck, range_encode, range_decode
"""

from compression.python.layers.entropy_models import EntropyBottleneck
from compression.python.ops.math_ops import lower_bound
from compression.python.ops.math_ops import upper_bound
from compression.python.ops.range_coding_ops import indexed_range_decode
from compression.python.ops.range_coding_ops import indexed_range_encode
from compression.python.ops.range_coding_ops import pmf_to_quantized_cdf
from compression.python.ops.range_coding_ops import range_decode
from compression.python.ops.range_coding_ops import range_encode
