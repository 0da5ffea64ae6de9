"""Command-line plumbing of the examples' Apache Beam pipelines.

The coding itself (`ApplyCodec`, dead letters, counters) is the library's
`compression.python.beam`; this module holds what a command adds around it:
importing Beam lazily with an error naming the extra, the pipeline options of
the command line (one machine's defaults, unknown flags refused), the import
path of worker processes, and writing the dead letters and counters. Nothing
here imports `apache_beam` before a pipeline is run.
"""

import importlib
import logging
import os

from compression.examples.common import errors

_BEAM_ALTERNATIVE = "pip install -r requirements.txt"


def beam_module():
  """The apache_beam module, or MissingDependencyError naming the beam extra."""
  # Beam logs its optional modules at import and every worker's start and
  # stop at INFO; keep warnings only.
  logging.getLogger("apache_beam").setLevel(logging.WARNING)
  root = logging.getLogger()
  level = root.level
  root.setLevel(logging.ERROR)  # "apitools not found": Google Cloud extras.
  try:
    import apache_beam  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise errors.MissingDependencyError(
        "beam_compress and beam_decompress need Apache Beam (module "
        "'apache_beam' not found): "
        + errors.install_hint("beam", _BEAM_ALTERNATIVE)) from None
  finally:
    root.setLevel(level)
  return apache_beam


def require_tfrecord_crc():
  """MissingDependencyError naming the beam extra unless Beam can compute the
  CRC-32C of TFRecord files (google-crc32c, which the extra installs, or
  python-snappy or crcmod): without one a pipeline reading or writing TFRecord
  files fails in its workers."""
  checks = (("google_crc32c", "value"), ("crcmod", "predefined"),
            ("snappy", "_crc32c"))
  for module_name, attribute in checks:
    try:
      module = importlib.import_module(module_name)
    except ImportError:
      continue
    if hasattr(module, attribute) or module_name == "crcmod":
      return
  raise errors.MissingDependencyError(
      "beam_compress and beam_decompress write and read TFRecord files, whose "
      "CRC-32C needs google-crc32c (module 'google_crc32c' not found; crcmod or "
      "python-snappy also do): " + errors.install_hint("beam", _BEAM_ALTERNATIVE))


def pipeline_options(beam_args):
  """PipelineOptions of `beam_args` (list of str), after the defaults of one
  machine: the DirectRunner in multi-process mode, one worker per CPU.

  Raises:
    errors.InputError: an argument that is neither a flag of the command
      nor a Beam pipeline option.
  """
  beam_module()
  from apache_beam.options import pipeline_options as po  # pylint: disable=g-import-not-at-top
  defaults = ["--runner=DirectRunner",
              "--default_sdk_harness_log_level=WARNING",
              "--direct_running_mode=multi_processing",
              f"--direct_num_workers={os.cpu_count() or 1}"]
  options = po.PipelineOptions(defaults + list(beam_args))
  unknown = sorted(set(options.get_all_options(retain_unknown_options=True))
                   - set(options.get_all_options()))
  if unknown:
    raise errors.InputError(
        f"unknown flag(s) {', '.join('--' + u for u in unknown)}: neither a "
        "flag of this command nor a Beam pipeline option")
  return options


def source_root():
  """The folder holding the `compression` package (what PYTHONPATH needs)."""
  here = os.path.abspath(__file__)  # <root>/compression/examples/common/beam.py
  for _ in range(4):
    here = os.path.dirname(here)
  return here


def worker_import_path():
  """Lets worker processes started by the DirectRunner import `compression`:
  puts `source_root()` first on PYTHONPATH (once)."""
  root = source_root()
  paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
  if root not in paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([root] + paths)


def write_dead_letters(dead, prefix):
  """Writes a PCollection of (key, message) as text lines `key<TAB>message`
  to `<prefix>-SSSSS-of-NNNNN.txt`."""
  beam = beam_module()
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  return (dead | "FormatDeadLetters" >> beam.Map(beam_lib.format_dead_letter)
          | "WriteDeadLetters" >> beam.io.WriteToText(prefix,
                                                      file_name_suffix=".txt"))


def print_counters(result, log):
  """Logs one line `counters: name=value, ...` of a finished pipeline's
  counters (`compression.python.beam.COUNTERS`) and returns them (dict)."""
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  counters = beam_lib.counter_values(result)
  log("counters: " + ", ".join(f"{k}={v}" for k, v in counters.items()))
  return counters
