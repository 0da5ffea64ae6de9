"""Layers of the compression library."""

from compression.python.layers.base import Layer
from compression.python.layers.entropy_models import EntropyBottleneck
