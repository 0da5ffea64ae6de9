"""Bulk coding on Apache Beam: run a codec over a PCollection of keyed records.

Import this module only where Beam is wanted: it is the one module of the
package that imports `apache_beam` (the `beam` extra, `pip install .[beam]`).

The unit of work is the record: an input is `(key, value)`, an output
`(key, result)`, and nothing is shared between records but the read-only
model, so any runner may split the work anywhere. What a value is and what a
result is (a digit and its string, a string and its decoded image) is the
business of a `Codec`, supplied by an example:

    outputs, dead = records | ApplyCodec(MyEncoderCodec(model_dir))

- `Codec.load` runs once per worker process (a process-wide cache keyed by
  `Codec.cache_key`, shared by every DoFn instance and thread of the
  process); the `model_loads` counter counts the loads.
- `Codec.prepare` turns one value into an item (per element: a value that
  cannot be read fails alone); `BatchElements` groups items; `Codec.run`
  codes a batch with the loaded model.
- A failure never stops the pipeline. A value `prepare` rejects, a result
  `run` returns as an `Exception`, or an element that still fails when its
  failed batch is retried element by element, goes to the dead-letter output
  as `(key, one-line message)`.
- Counters (namespace `NAMESPACE`): elements_in, bytes_in, elements_out,
  bytes_out, dead_letters, batches, model_loads.
"""

import threading

import apache_beam as beam
from apache_beam.metrics import Metrics
import numpy as np

NAMESPACE = "compression"
DEAD_LETTER = "dead_letter"
COUNTERS = ("elements_in", "bytes_in", "elements_out", "bytes_out",
            "dead_letters", "batches", "model_loads")


def one_line(text):
  """`text` with runs of whitespace (newlines too) folded to single spaces."""
  return " ".join(str(text).split())


def size_in_bytes(value):
  """Bytes of a bytes/str/numpy value (0 for anything else)."""
  if isinstance(value, (bytes, bytearray, str)):
    return len(value)
  if isinstance(value, np.ndarray):
    return int(value.nbytes)
  return 0


class Codec:
  """The model-specific half of a coding step. Subclass it in an example.

  Instances are pickled and sent to the workers: hold configuration only
  (paths, flags), never a session or a graph; `load` builds those.
  """

  def cache_key(self):
    """Hashable; codecs with equal keys share one loaded model per process."""
    raise NotImplementedError

  def load(self):
    """Loads the model (graph + session from a checkpoint); returns it."""
    raise NotImplementedError

  def prepare(self, value):
    """One input value -> one item for `run`. Raise to reject the value."""
    return value

  def run(self, model, items):
    """Codes a list of items; returns one result per item, in order.

    A result may be an `Exception` instance: that element goes to the dead
    letters, the others go on. Raising fails the batch, which is then retried
    element by element.
    """
    raise NotImplementedError

  def describe_error(self, error):
    """A one-line message for an exception (the dead-letter text)."""
    return one_line(f"{type(error).__name__}: {error}")

  def input_bytes(self, value):
    """Bytes of an input value, for the bytes_in counter."""
    return size_in_bytes(value)

  def output_bytes(self, result):
    """Bytes of a result, for the bytes_out counter."""
    return size_in_bytes(result)


_MODELS = {}
_MODELS_LOCK = threading.Lock()


def shared_model(codec):
  """(model, loaded_now): the process's model for `codec`, loaded at most once."""
  key = codec.cache_key()
  with _MODELS_LOCK:
    if key in _MODELS:
      return _MODELS[key], False
    model = codec.load()
    _MODELS[key] = model
    return model, True


def _counter(name):
  return Metrics.counter(NAMESPACE, name)


class PrepareDoFn(beam.DoFn):
  """(key, value) -> (key, item); rejected values -> dead letters."""

  def __init__(self, codec):
    self.codec = codec
    self.elements_in = _counter("elements_in")
    self.bytes_in = _counter("bytes_in")
    self.dead = _counter("dead_letters")

  def process(self, element):
    key, value = element
    self.elements_in.inc()
    self.bytes_in.inc(self.codec.input_bytes(value))
    try:
      item = self.codec.prepare(value)
    except Exception as e:  # pylint: disable=broad-except
      self.dead.inc()
      yield beam.pvalue.TaggedOutput(DEAD_LETTER,
                                     (key, self.codec.describe_error(e)))
      return
    yield key, item


class RunBatchDoFn(beam.DoFn):
  """[(key, item), ...] -> (key, result) each; failures -> dead letters.

  The model comes from `shared_model` in `setup`: once per worker process.
  """

  def __init__(self, codec):
    self.codec = codec
    self.model = None
    self._loaded_here = False
    self.elements_out = _counter("elements_out")
    self.bytes_out = _counter("bytes_out")
    self.dead = _counter("dead_letters")
    self.batches = _counter("batches")
    self.loads = _counter("model_loads")

  def setup(self):
    self.model, self._loaded_here = shared_model(self.codec)

  def start_bundle(self):
    # Metrics count inside bundles only, so the load is counted here.
    if self._loaded_here:
      self.loads.inc()
      self._loaded_here = False

  def _run(self, items):
    results = self.codec.run(self.model, items)
    if len(results) != len(items):
      raise ValueError(f"codec returned {len(results)} results for "
                       f"{len(items)} items")
    return results

  def process(self, batch):
    self.batches.inc()
    keys = [key for key, _ in batch]
    items = [item for _, item in batch]
    try:
      results = self._run(items)
    except Exception:  # pylint: disable=broad-except
      results = []
      for item in items:  # Retried alone, so that one bad element fails alone.
        try:
          results.append(self._run([item])[0])
        except Exception as e:  # pylint: disable=broad-except
          results.append(e)
    for key, result in zip(keys, results):
      if isinstance(result, Exception):
        self.dead.inc()
        yield beam.pvalue.TaggedOutput(
            DEAD_LETTER, (key, self.codec.describe_error(result)))
      else:
        self.elements_out.inc()
        self.bytes_out.inc(self.codec.output_bytes(result))
        yield key, result


class ApplyCodec(beam.PTransform):
  """(key, value) -> (outputs: (key, result), dead letters: (key, message)).

  Args:
    codec: a `Codec`.
    min_batch_size, max_batch_size: bounds for `BatchElements` (elements
      per `Codec.run` call).
  """

  def __init__(self, codec, min_batch_size=16, max_batch_size=1000,
               label=None):
    super().__init__(label)
    self.codec = codec
    self.min_batch_size = min_batch_size
    self.max_batch_size = max_batch_size

  def expand(self, records):
    prepared = records | "Prepare" >> beam.ParDo(
        PrepareDoFn(self.codec)).with_outputs(DEAD_LETTER, main="items")
    coded = (prepared.items
             | "Batch" >> beam.BatchElements(
                 min_batch_size=self.min_batch_size,
                 max_batch_size=self.max_batch_size)
             | "Run" >> beam.ParDo(RunBatchDoFn(self.codec)).with_outputs(
                 DEAD_LETTER, main="results"))
    dead = ((prepared[DEAD_LETTER], coded[DEAD_LETTER])
            | "DeadLetters" >> beam.Flatten())
    return coded.results, dead


def format_dead_letter(element):
    """(key, message) -> one text line `key<TAB>message`."""
    key, message = element
    return f"{one_line(key)}\t{one_line(message)}"


def counter_values(result):
  """{counter name: committed value} of a finished pipeline's counters."""
  values = dict.fromkeys(COUNTERS, 0)
  query = result.metrics().query(
      beam.metrics.MetricsFilter().with_namespace(NAMESPACE))
  for counter in query["counters"]:
    name = counter.key.metric.name
    value = counter.committed if counter.committed is not None else (
        counter.attempted)
    values[name] = values.get(name, 0) + int(value or 0)
  return values
