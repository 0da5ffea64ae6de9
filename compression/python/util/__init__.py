"""Utilities of the compression library (no TensorFlow ops)."""
