"""compression/python/beam.py with a model-free codec (in-memory DirectRunner).

Checks the generic part: one model load per process, batching, dead letters
from `prepare`, from results returned as exceptions and from failed batches
retried element by element, and the counters.
"""

import sys

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that
from apache_beam.testing.util import equal_to

from compression.python import beam as beam_lib

IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


class SquareCodec(beam_lib.Codec):
  """value: int -> its square. Rejects negatives in prepare; 13 returns an
  exception; 7 makes its whole batch raise (then fails alone)."""

  def __init__(self, tag):
    self.tag = tag

  def cache_key(self):
    return ("square", self.tag)

  def load(self):
    return {"offset": 0}

  def prepare(self, value):
    if value < 0:
      raise ValueError(f"negative value\n{value}")
    return value

  def run(self, model, items):
    if 7 in items:
      raise RuntimeError("seven in the batch")
    return [ValueError("thirteen") if v == 13 else v * v + model["offset"]
            for v in items]


def _run(values, tag):
  options = beam.options.pipeline_options.PipelineOptions(IN_MEMORY)
  with beam.Pipeline(options=options) as p:
    outputs, dead = (p | beam.Create([(f"k{v}", v) for v in values])
                     | beam_lib.ApplyCodec(SquareCodec(tag), min_batch_size=4,
                                           max_batch_size=8))
    expected = [(f"k{v}", v * v) for v in values if v >= 0 and v not in
                (7, 13)]
    assert_that(outputs, equal_to(expected), label="Outputs")
    lines = dead | beam.Map(beam_lib.format_dead_letter)
    assert_that(lines, equal_to([
        "k-2\tValueError: negative value -2",
        "k7\tRuntimeError: seven in the batch",
        "k13\tValueError: thirteen"]), label="DeadLetters")
  return beam_lib.counter_values(p.result)


def test_outputs_dead_letters_and_counters():
  values = list(range(20)) + [-2]
  counters = _run(values, "a")
  assert counters["elements_in"] == 21
  assert counters["elements_out"] == 18
  assert counters["dead_letters"] == 3
  assert counters["bytes_out"] == 0 and counters["bytes_in"] == 0
  assert counters["model_loads"] == 1
  assert 3 <= counters["batches"] <= 21


def test_model_loaded_once_per_process():
  _run(list(range(20)) + [-2], "b")
  # The same model in the same process: already loaded, no second load.
  assert _run(list(range(20)) + [-2], "b")["model_loads"] == 0
  model, loaded_now = beam_lib.shared_model(SquareCodec("b"))
  assert model == {"offset": 0} and not loaded_now


def test_one_line_and_sizes():
  assert beam_lib.one_line("a\n  b\tc ") == "a b c"
  assert beam_lib.size_in_bytes(b"abc") == 3
  assert beam_lib.size_in_bytes(__import__("numpy").zeros([2, 3])) == 48
  assert beam_lib.size_in_bytes(5) == 0


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
