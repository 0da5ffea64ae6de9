"""Bulk image coding on Apache Beam: `beam_compress` and `beam_decompress`.

beam_compress: image files (a glob; PNG/JPEG) -> `ImageEncoder` -> one `.cim` file per
image, `<output_dir>/<name>.cim` (the same bytes `compress` writes).
beam_decompress: `.cim` files (a glob) -> `ImageDecoder` -> `<output_dir>/<name>.png`.

Keys are file names without their extension. An input that fails (not an image,
too large, truncated or foreign `.cim`, another model's file) goes to the dead
letters, `<output_dir>/dead-letter-SSSSS-of-NNNNN.txt` (lines `key<TAB>message`);
the others are written. The model loads once per worker process
(`compression.python.beam`). Arguments that are not flags of the command are Beam
pipeline options (`--runner`, `--direct_num_workers`, ...), as for the MNIST
commands: both use compression/examples/common/beam.py.
"""

import io
import os

from compression.examples.common import beam as common_beam


class _ImageCodec:
  """Configuration of a codec.Encoder / codec.Decoder (`SESSION`) on a worker."""

  SESSION = None

  def __init__(self, model_dir, threads=0):
    self.model_dir = model_dir
    self.threads = threads

  def cache_key(self):
    return (self.SESSION, self.model_dir, self.threads)

  def load(self):
    from compression.examples.images import codec  # pylint: disable=g-import-not-at-top
    return getattr(codec, self.SESSION)(self.model_dir, threads=self.threads)

  def describe_error(self, error):
    from compression.examples import cli  # pylint: disable=g-import-not-at-top
    return cli.error_line(error)


def _read_bytes(path, limit, error):
  """The bytes of `path` (any Beam filesystem), read in chunks: more than
  `limit` bytes is `error` (a dead letter), never read to the end."""
  from compression.examples import inputs  # pylint: disable=g-import-not-at-top
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  with FileSystems.open(path) as f:
    return inputs.read_chunks(f, limit, error, path)


def _codecs():
  """The Beam codecs (classes made when Beam is imported)."""
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top

  class ImageEncoder(_ImageCodec, beam_lib.Codec):
    """Image file paths -> .cim file bytes."""

    SESSION = "Encoder"

    def prepare(self, value):
      from compression.examples.images import data  # pylint: disable=g-import-not-at-top
      return data.decode_image(
          _read_bytes(value, data.MAX_FILE_BYTES, data.DataError), value)

    def run(self, model, items):
      results = []
      for image in items:
        try:
          results.append(model.compress(image).blob)
        except Exception as error:  # pylint: disable=broad-except
          results.append(error)
      return results

    def input_bytes(self, value):
      return 0

  class ImageDecoder(_ImageCodec, beam_lib.Codec):
    """.cim file paths -> PNG bytes."""

    SESSION = "Decoder"

    def prepare(self, value):
      from compression.examples.images import container  # pylint: disable=g-import-not-at-top
      blob = _read_bytes(value, container.MAX_FILE_BYTES, container.ContainerError)
      container.unpack(blob, value)  # Header, sizes and CRC, before any model.
      return blob, value

    def run(self, model, items):
      from PIL import Image  # pylint: disable=g-import-not-at-top
      results = []
      for blob, where in items:
        try:
          image = model.decompress(blob, where).image
          buffer = io.BytesIO()
          Image.fromarray(image, "RGB").save(buffer, format="PNG")
          results.append(buffer.getvalue())
        except Exception as error:  # pylint: disable=broad-except
          results.append(error)
      return results

    def input_bytes(self, value):
      return 0

  return ImageEncoder, ImageDecoder


def file_key(path):
  """The key of a file: its name without the extension."""
  return os.path.splitext(os.path.basename(path))[0]


def _match(pattern, what):
  from compression.examples.images import data  # pylint: disable=g-import-not-at-top
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  paths = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
  if not paths:
    raise data.DataError(f"{what}={pattern} matches no file")
  keys = [file_key(p) for p in paths]
  if len(set(keys)) != len(keys):
    raise data.DataError(
        f"{what}={pattern}: two files have the same name (keys must be unique)")
  return paths


def _write_files(output_dir, extension):
  """(key, bytes) -> the file `<output_dir>/<key><extension>`."""
  beam = common_beam.beam_module()

  def write(key, blob):
    from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
    path = FileSystems.join(output_dir, key + extension)
    with FileSystems.create(path) as f:
      f.write(blob)
    return path

  return beam.MapTuple(write)


def _run(input_pattern, output_dir, beam_args, codec, extension, what, log):
  beam = common_beam.beam_module()
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=g-import-not-at-top
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  options = common_beam.pipeline_options(beam_args)
  dask = common_beam.dask_safe(options)
  paths = _match(input_pattern, what)
  common_beam.worker_import_path()
  if not FileSystems.exists(output_dir):
    FileSystems.mkdirs(output_dir)
  with beam.Pipeline(options=options) as p:
    # Each codec reads its files in `prepare` (bounded; a failure is a dead letter).
    records = (p | "Inputs" >> beam.Create([(file_key(q), q) for q in paths])
               | beam.Reshuffle())
    outputs, dead = records | "Code" >> beam_lib.ApplyCodec(
        codec, min_batch_size=1, max_batch_size=8, group_batches=dask)
    written = outputs | "Write" >> _write_files(output_dir, extension)
    dead_files = common_beam.write_dead_letters(
        dead, FileSystems.join(output_dir, "dead-letter"))
    common_beam.last_step(written, dead_files)
  return common_beam.finish(p.result, log)


def compress(model_dir, input_pattern, output_dir, beam_args, threads=0, log=print):
  """Runs beam_compress; returns Beam's counters (dict)."""
  common_beam.beam_module()
  encoder, _ = _codecs()
  return _run(input_pattern, output_dir, beam_args, encoder(model_dir, threads),
              ".cim", "--input_glob", log)


def decompress(model_dir, input_pattern, output_dir, beam_args, threads=0,
               log=print):
  """Runs beam_decompress; returns Beam's counters (dict)."""
  common_beam.beam_module()
  _, decoder = _codecs()
  return _run(input_pattern, output_dir, beam_args, decoder(model_dir, threads),
              ".png", "--input_glob", log)
