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

Runners. Every step has one output (a coded element is tagged `OUTPUT` or
`DEAD_LETTER` and the two PCollections are split from one stream by `Filter`),
so the transform needs no multi-output ParDo. Batches come from
`BatchElements` by default; `group_batches=True` forms them with a
`GroupByKey` instead, for runners that drop what a DoFn outputs in
`finish_bundle` (Beam 2.77's DaskRunner: `BatchElements` would lose each
bundle's last batch there). `WriteShards` writes sharded TFRecord or text files
with a `GroupByKey` and per-element writes only (no `finish_bundle` output, no
side input), every record in a shard sorted by key: the same bytes on any
runner, which Beam's `WriteToTFRecord` / `WriteToText` on the DaskRunner do not
manage (they lose their write results there).
"""

import threading
import uuid
import zlib

import apache_beam as beam
from apache_beam.metrics import Metrics
import numpy as np

NAMESPACE = "compression"
OUTPUT = "output"
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
  """(key, value) -> (OUTPUT, key, item); rejected values -> (DEAD_LETTER,
  key, message)."""

  def __init__(self, codec):
    self.codec = codec
    self.elements_in = _counter("elements_in")
    self.bytes_in = _counter("bytes_in")
    self.dead = _counter("dead_letters")

  def prepare(self, key, value):
    """One tagged element (see the class docstring)."""
    self.elements_in.inc()
    self.bytes_in.inc(self.codec.input_bytes(value))
    try:
      item = self.codec.prepare(value)
    except Exception as e:  # pylint: disable=broad-except
      self.dead.inc()
      return DEAD_LETTER, key, self.codec.describe_error(e)
    return OUTPUT, key, item

  def process(self, element):
    yield self.prepare(*element)


class RunBatchDoFn(beam.DoFn):
  """[(key, item), ...] -> (OUTPUT, key, result) each; failures ->
  (DEAD_LETTER, key, message).

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

  def run_batch(self, batch):
    """The tagged elements of a list of (key, item)."""
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
        yield DEAD_LETTER, key, self.codec.describe_error(result)
      else:
        self.elements_out.inc()
        self.bytes_out.inc(self.codec.output_bytes(result))
        yield OUTPUT, key, result

  def process(self, batch):
    yield from self.run_batch(batch)


class _BatchIds(beam.DoFn):
  """(key, value) -> ((bundle id, ordinal // size), (key, value)): batches of up
  to `size` records of one bundle, for a GroupByKey."""

  def __init__(self, size):
    self.size = size
    self.bundle = None
    self.count = 0

  def start_bundle(self):
    self.bundle = uuid.uuid4().hex
    self.count = 0

  def process(self, element):
    batch = (self.bundle, self.count // self.size)
    self.count += 1
    yield batch, element


class _PrepareAndRunDoFn(RunBatchDoFn):
  """(batch id, [(key, value), ...]) -> tagged elements: `PrepareDoFn` on each
  value, then `RunBatchDoFn` on the items it accepted."""

  def __init__(self, codec):
    super().__init__(codec)
    self.preparer = PrepareDoFn(codec)

  def process(self, element):
    _, records = element
    items = []
    for key, value in records:
      tag, key, item = self.preparer.prepare(key, value)
      if tag == DEAD_LETTER:
        yield tag, key, item
      else:
        items.append((key, item))
    if items:
      yield from self.run_batch(items)


def _untag(element):
  _, key, payload = element
  return key, payload


class ApplyCodec(beam.PTransform):
  """(key, value) -> (outputs: (key, result), dead letters: (key, message)).

  Args:
    codec: a `Codec`.
    min_batch_size, max_batch_size: bounds for `BatchElements` (elements
      per `Codec.run` call). With `group_batches`, a batch is up to
      `max_batch_size` records of one bundle and `min_batch_size` is unused.
    group_batches: form the batches with a GroupByKey (of the input records,
      before `prepare`) rather than `BatchElements`: for runners that drop
      what a DoFn outputs in `finish_bundle`, such as Beam's DaskRunner.
      The same outputs and dead letters either way.
  """

  def __init__(self, codec, min_batch_size=16, max_batch_size=1000,
               label=None, group_batches=False):
    super().__init__(label)
    self.codec = codec
    self.min_batch_size = min_batch_size
    self.max_batch_size = max_batch_size
    self.group_batches = group_batches

  def expand(self, records):
    if self.group_batches:
      coded = (records
               | "BatchIds" >> beam.ParDo(_BatchIds(self.max_batch_size))
               | "Group" >> beam.GroupByKey()
               | "PrepareAndRun" >> beam.ParDo(_PrepareAndRunDoFn(self.codec)))
      rejected = coded
    else:
      prepared = records | "Prepare" >> beam.ParDo(PrepareDoFn(self.codec))
      items = (prepared
               | "Items" >> beam.Filter(lambda e: e[0] == OUTPUT)
               | "ItemsUntag" >> beam.Map(_untag))
      coded = (items
               | "Batch" >> beam.BatchElements(
                   min_batch_size=self.min_batch_size,
                   max_batch_size=self.max_batch_size)
               | "Run" >> beam.ParDo(RunBatchDoFn(self.codec)))
      rejected = (prepared, coded) | "DeadLetters" >> beam.Flatten()
    outputs = (coded | "Outputs" >> beam.Filter(lambda e: e[0] == OUTPUT)
               | "OutputsUntag" >> beam.Map(_untag))
    dead = (rejected
            | "DeadLettersOnly" >> beam.Filter(lambda e: e[0] == DEAD_LETTER)
            | "DeadLettersUntag" >> beam.Map(_untag))
    return outputs, dead


def shard_of(key, num_shards):
  """The shard (0..num_shards-1) of a key: CRC-32 of its UTF-8 bytes, the same
  in every process and on every runner."""
  return zlib.crc32(str(key).encode("utf-8")) % num_shards


def shard_name(prefix, index, num_shards, suffix):
  """`<prefix>-SSSSS-of-NNNNN<suffix>`, Beam's default shard names."""
  return f"{prefix}-{index:05d}-of-{num_shards:05d}{suffix}"


class _WriteShardDoFn(beam.DoFn):
  """(shard, [(key, payload) or None, ...]) -> the shard's path, written as a
  temporary file then renamed."""

  def __init__(self, prefix, num_shards, suffix, kind):
    self.prefix = prefix
    self.num_shards = num_shards
    self.suffix = suffix
    self.kind = kind

  def process(self, element):
    from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
    from apache_beam.io.tfrecordio import _TFRecordUtil  # pylint: disable=g-import-not-at-top
    shard, records = element
    records = sorted((r for r in records if r is not None), key=lambda r: r[0])
    path = shard_name(self.prefix, shard, self.num_shards, self.suffix)
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(temporary) as f:
      for _, payload in records:
        if self.kind == "tfrecord":
          _TFRecordUtil.write_record(f, payload)
        else:
          f.write(payload.encode("utf-8") + b"\n")
    FileSystems.rename([temporary], [path])
    yield path


class WriteShards(beam.PTransform):
  """(key, payload) -> `num_shards` files `<prefix>-SSSSS-of-NNNNN<suffix>`;
  outputs their paths.

  `kind` "tfrecord" (payload: bytes, TFRecord framing as `WriteToTFRecord`) or
  "text" (payload: str, one line each, as `WriteToText`). A record goes to
  shard `shard_of(key)`, a shard holds its records sorted by key, and every
  shard is written, empty ones too: the same bytes on every runner and worker
  count. Runs on the primitives every runner has (GroupByKey, per-element
  writes; no side input, nothing output in `finish_bundle`), unlike Beam's
  file sinks, which lose their write results on the DaskRunner.
  """

  def __init__(self, prefix, num_shards=1, suffix="", kind="tfrecord",
               label=None):
    super().__init__(label)
    if kind not in ("tfrecord", "text"):
      raise ValueError(f"kind must be tfrecord or text, got {kind!r}")
    if num_shards < 1:
      raise ValueError(f"num_shards must be at least 1, got {num_shards}")
    self.prefix = prefix
    self.num_shards = num_shards
    self.suffix = suffix
    self.kind = kind

  def expand(self, records):
    num_shards = self.num_shards
    keyed = records | "ShardKeys" >> beam.Map(
        lambda r: (shard_of(r[0], num_shards), r))
    every = (records.pipeline
             | "EveryShard" >> beam.Create([(i, None) for i in range(num_shards)]))
    return ((keyed, every) | "WithEmptyShards" >> beam.Flatten()
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShardDoFn(
                self.prefix, num_shards, self.suffix, self.kind)))


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
