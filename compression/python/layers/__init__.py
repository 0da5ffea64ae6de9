"""Layers of the compression library."""

from compression.python.layers.base import Layer
from compression.python.layers.channel_conditional import ChannelConditional
from compression.python.layers.conditional_models import GaussianConditional
from compression.python.layers.conditional_models import LaplacianConditional
from compression.python.layers.conditional_models import LogisticConditional
from compression.python.layers.conditional_models import SymmetricConditional
from compression.python.layers.entropy_model import EntropyModel
from compression.python.layers.entropy_bottleneck import EntropyBottleneck
from compression.python.layers.gdn import GDN
from compression.python.layers.integer_hyper_synthesis import IntegerHyperSynthesis
from compression.python.layers.integer_slice_scales import IntegerSliceScales
from compression.python.layers.initializers import IdentityInitializer
from compression.python.layers.parameterizers import irdft_matrix
from compression.python.layers.parameterizers import NonnegativeParameterizer
from compression.python.layers.parameterizers import Parameterizer
from compression.python.layers.parameterizers import RDFTParameterizer
from compression.python.layers.parameterizers import StaticParameterizer
from compression.python.layers.signal_conv import SignalConv1D
from compression.python.layers.signal_conv import SignalConv2D
from compression.python.layers.signal_conv import SignalConv3D
