"""The `beam_compress` and `beam_decompress` pipelines (Apache Beam).

beam_compress: MNIST IDX digits (a split, or an index range of it) or a glob
of PNG files -> keyed digits -> `DigitEncoder` (beam_codecs.py) -> sharded
TFRecord files `<output>-SSSSS-of-NNNNN.tfrecord` of compressed records.

beam_decompress: TFRecord files (a glob) of compressed records ->
`DigitDecoder` -> `<output>/<key>.png` files, or sharded TFRecord files of
decoded records with --output_format=tfrecord.

Both write the records that failed (unreadable PNG, unparsable record,
foreign fingerprint, string that does not decode exactly) as lines
`key<TAB>message` to `<output>-dead-letter-SSSSS-of-NNNNN.txt` (compress) or
`<output>/dead-letter-...txt` (decompress), and print Beam's counters.

Every command line argument that is not a flag of the command is a Beam
pipeline option (`--runner`, `--direct_num_workers`, Dataflow's `--project`,
Flink's `--flink_master`, the DaskRunner's `--dask_client_address`, ...).
Without `--runner`, the DirectRunner runs in multi-process mode with one worker
per CPU. Dead letters, and TFRecords with a fixed --num_shards, are written by
`WriteShards` (records sorted by key: the same files on every runner). On Beam's
DaskRunner the batches come from a GroupByKey and --num_shards=0 means one shard
per `RECORDS_PER_SHARD` records (beam_compress) or per input file
(beam_decompress): compression/examples/common/beam.py says why.
"""

import gzip
import math
import os
import struct
import urllib.parse

from compression.examples.common import beam as common_beam
from compression.examples.mnist import data
from compression.examples.mnist import errors

KEY_DIGITS = 5  # Keys "train_00042": zero-padded to 5 digits.
CHUNK = 1000  # Digits of an IDX split read by one element of work.
RECORDS_PER_SHARD = 100_000  # DaskRunner, --num_shards=0: about 12 MB a shard.


def digit_key(split, index):
  return f"{split}_{index:0{KEY_DIGITS}d}"


def png_file_name(key):
  """File name of a decoded digit: the key, %-quoted where unsafe, + .png."""
  return urllib.parse.quote(key, safe="-_.") + ".png"


def _open(path):
  from apache_beam.io.filesystems import CompressionTypes  # pylint: disable=g-import-not-at-top
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def read_idx_images(path):
  """uint8 [N, 28, 28] of an IDX image file (gzipped or not), any filesystem."""
  with _open(path) as f:
    raw = f.read()
  if raw[:2] == b"\x1f\x8b":
    raw = gzip.decompress(raw)
  images = data.parse_idx(raw, data.IMAGE_MAGIC, path)
  if images.shape[1:] != (28, 28):
    raise data.MnistDataError(f"{path}: images are not 28x28")
  return images


def idx_count(path):
  """Number of images in an IDX image file, from its header."""
  with _open(path) as f:
    head = f.read(2)
    stream = gzip.GzipFile(fileobj=f) if head == b"\x1f\x8b" else None
    if stream is None:
      raw = head + f.read(14)
    else:
      f.seek(0)
      raw = stream.read(16)
  if len(raw) < 8 or struct.unpack(">I", raw[:4])[0] != data.IMAGE_MAGIC:
    raise data.MnistDataError(f"{path}: not an IDX image file")
  return struct.unpack(">I", raw[4:8])[0]


def _digit_chunks(split, path, start, count):
  """(path, split, first, stop) work items of CHUNK digits each."""
  total = idx_count(path)
  stop = total if count <= 0 else start + count
  if start < 0 or start >= total or stop > total:
    raise errors.InputError(
        f"--start={start} --count={count} is outside the {split} set "
        f"(0..{total - 1})")
  return [(path, split, first, min(first + CHUNK, stop))
          for first in range(start, stop, CHUNK)]


def _idx_reader():
  beam = common_beam.beam_module()

  class ReadIdxChunk(beam.DoFn):
    """(path, split, first, stop) -> (key, uint8 [28, 28]) digits.

    A worker reads each IDX file once and keeps it (47 MB for the train set).
    """

    def setup(self):
      self.files = {}

    def process(self, chunk):
      path, split, first, stop = chunk
      if path not in self.files:
        self.files[path] = read_idx_images(path)
      images = self.files[path]
      for i in range(first, stop):
        yield digit_key(split, i), images[i]

  return ReadIdxChunk()


def _png_keys(pattern):
  """[(key, path)] of the files matching `pattern`, key = relative path - .png."""
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  matches = FileSystems.match([pattern])[0].metadata_list
  if not matches:
    raise errors.InputError(f"--png={pattern} matches no file")
  wild = min([pattern.find(c) for c in "*?[" if c in pattern] or [len(pattern)])
  base = pattern[:wild].rsplit("/", 1)[0] + "/" if "/" in pattern[:wild] else ""
  records = []
  for m in sorted(matches, key=lambda m: m.path):
    key = m.path[len(base):] if m.path.startswith(base) else m.path
    records.append((key[:-4] if key.lower().endswith(".png") else key, m.path))
  return records


def compress(model_dir, output, beam_args, data_dir="", split="test",
             start=0, count=0, png="", num_shards=0, max_batch_size=1000,
             log=print):
  """Runs beam_compress; returns the counters (dict)."""
  beam = common_beam.beam_module()
  common_beam.require_tfrecord_crc()
  from compression.examples.mnist import beam_codecs  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import config  # pylint: disable=g-import-not-at-top
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  options = common_beam.pipeline_options(beam_args)
  dask = common_beam.dask_safe(options)
  values = config.read(model_dir)
  if values is None:
    raise errors.CheckpointError(
        f"no trained model in {model_dir!r} (no config.json). Run `python -m "
        f"compression.examples.mnist train --model_dir={model_dir}` first.")
  latent_shape = [values["latent_dims"]]
  common_beam.worker_import_path()
  if png:
    source = _png_keys(png)
  else:
    if split not in data.FILE_NAMES:
      raise errors.InputError(f"--split must be train or test, got {split!r}")
    directory = data_dir or os.environ.get(data.ENV_VAR, "")
    if not directory:
      # fetch_mnist's cache folder, or an error naming the four files.
      directory = data.resolve_data_dir(directory)
    source = _digit_chunks(
        split, os.path.join(directory, data.FILE_NAMES[split][0]), start,
        count)
  digits = len(source) if png else sum(c[3] - c[2] for c in source)
  with beam.Pipeline(options=options) as p:
    records = p | "Inputs" >> beam.Create(source) | beam.Reshuffle()
    if not png:
      records = records | "ReadIdx" >> beam.ParDo(_idx_reader())
    strings, dead = records | "Compress" >> beam_lib.ApplyCodec(
        beam_codecs.DigitEncoder(model_dir), max_batch_size=max_batch_size,
        group_batches=dask)
    written = _write_records(
        strings | "ToRecords" >> beam.MapTuple(
            lambda key, r: (key, beam_codecs.compressed_record(
                key, r[0], latent_shape, r[1]))),
        output, num_shards, dask,
        max(1, math.ceil(digits / RECORDS_PER_SHARD)))
    dead_files = common_beam.write_dead_letters(dead, output + "-dead-letter")
    common_beam.last_step(written, dead_files)
  return common_beam.finish(p.result, log)


def _write_records(keyed, output, num_shards, dask, dask_shards):
  """(key, serialized record) -> `<output>-SSSSS-of-NNNNN.tfrecord`; the
  PCollection of the files. A fixed `num_shards`: `WriteShards` (records
  sorted by key, the same files on every runner); 0: `WriteToTFRecord` (the
  runner decides: one file per bundle, no shuffle), or on the DaskRunner, where
  that sink loses its output, `WriteShards` of `dask_shards` shards."""
  beam = common_beam.beam_module()
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  if num_shards or dask:
    return keyed | "WriteRecords" >> beam_lib.WriteShards(
        output, num_shards or dask_shards, suffix=".tfrecord")
  return (keyed | "Records" >> beam.Values()
          | "WriteRecords" >> beam.io.WriteToTFRecord(
              output, file_name_suffix=".tfrecord", num_shards=num_shards))


def _write_png(output_dir):
  beam = common_beam.beam_module()

  def write(key, image):
    from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
    import io  # pylint: disable=g-import-not-at-top
    from compression.examples.mnist import images as images_lib  # pylint: disable=g-import-not-at-top
    pil = images_lib._pil()  # pylint: disable=protected-access
    buffer = io.BytesIO()
    pil.fromarray(image).save(buffer, format="PNG")
    path = FileSystems.join(output_dir, png_file_name(key))
    with FileSystems.create(path) as f:
      f.write(buffer.getvalue())
    return path

  return beam.MapTuple(write)


def decompress(model_dir, input_pattern, output, beam_args,
               output_format="png", num_shards=0, max_batch_size=1000,
               log=print):
  """Runs beam_decompress; returns the counters (dict)."""
  beam = common_beam.beam_module()
  common_beam.require_tfrecord_crc()
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import beam_codecs  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import codec  # pylint: disable=g-import-not-at-top
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  if output_format not in ("png", "tfrecord"):
    raise errors.InputError(
        f"--output_format must be png or tfrecord, got {output_format!r}")
  options = common_beam.pipeline_options(beam_args)
  dask = common_beam.dask_safe(options)
  latent_dims = codec.load_latent_dims(model_dir)
  common_beam.worker_import_path()
  inputs = FileSystems.match([input_pattern])[0].metadata_list
  if not inputs:
    raise errors.InputError(f"--input={input_pattern} matches no file")
  if output_format == "png":
    if not FileSystems.exists(output):
      FileSystems.mkdirs(output)
    dead_prefix = FileSystems.join(output, "dead-letter")
  else:
    dead_prefix = output + "-dead-letter"
  with beam.Pipeline(options=options) as p:
    records = (p
               | "Inputs" >> beam.Create([input_pattern])
               | "Read" >> beam.io.ReadAllFromTFRecord(with_filename=True)
               | "Key" >> beam.MapTuple(
                   lambda name, r: (beam_codecs.record_key(r, name), r))
               | beam.Reshuffle())
    images, dead = records | "Decompress" >> beam_lib.ApplyCodec(
        beam_codecs.DigitDecoder(model_dir, latent_dims),
        max_batch_size=max_batch_size, group_batches=dask)
    if output_format == "png":
      written = images | "WritePng" >> _write_png(output)
    else:
      written = _write_records(
          images | "ToRecords" >> beam.MapTuple(
              lambda key, image: (key, beam_codecs.decoded_record(key, image))),
          output, num_shards, dask, len(inputs))
    dead_files = common_beam.write_dead_letters(dead, dead_prefix)
    common_beam.last_step(written, dead_files)
  return common_beam.finish(p.result, log)
