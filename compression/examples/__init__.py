"""Worked examples built on the compression library."""
