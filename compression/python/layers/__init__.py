"""Layers of the compression library."""

from compression.python.layers.base import Layer
from compression.python.layers.conditional_models import GaussianConditional
from compression.python.layers.conditional_models import LaplacianConditional
from compression.python.layers.conditional_models import LogisticConditional
from compression.python.layers.conditional_models import SymmetricConditional
from compression.python.layers.entropy_model import EntropyModel
from compression.python.layers.entropy_bottleneck import EntropyBottleneck
from compression.python.layers.gdn import GDN
