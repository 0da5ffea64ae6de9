"""Learned data compression for TensorFlow graphs: range coding ops and entropy models."""
