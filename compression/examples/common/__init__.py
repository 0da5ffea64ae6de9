"""Pieces shared by the worked examples (compression/examples/mnist, images)."""
