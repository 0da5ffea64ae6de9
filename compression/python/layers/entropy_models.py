"""Former name of `entropy_bottleneck.py`, kept only so that code not yet updated
still imports (the image example's model.py, until it moves to the library's
`IntegerHyperSynthesis`). Import `EntropyBottleneck` from `compression` or from
`compression.python.layers.entropy_bottleneck`; this module will be removed."""

from compression.python.layers.entropy_bottleneck import EntropyBottleneck  # pylint: disable=unused-import

__all__ = ["EntropyBottleneck"]
