"""Command-line plumbing of the examples' Apache Beam pipelines.

The coding itself (`ApplyCodec`, dead letters, counters) is the library's
`compression.python.beam`; this module holds what a command adds around it:
importing Beam lazily with an error naming the extra, the pipeline options of
the command line (one machine's defaults, unknown flags refused, the runner
checked), the import path of worker processes, and writing the dead letters and
counters. Nothing here imports `apache_beam` before a pipeline is run.

Runners: any Beam runner (`--runner`), and Beam's DaskRunner on a
`dask.distributed` cluster (`--runner=DaskRunner
--dask_client_address=tcp://HOST:PORT`; docs/scaling.md, "Running on a
cluster"). That runner implements a subset of the Beam model (Beam 2.77): no
metrics, nothing a DoFn outputs in `finish_bundle` (so neither `BatchElements`
nor the file sinks `WriteToText` / `WriteToTFRecord` work there), no
multi-output ParDo, and only the last leaf of the pipeline runs. The pipelines
therefore use one output per step, write their dead letters and any fixed
number of shards with `compression.python.beam.WriteShards` (sorted records:
the same bytes on every runner) and end in one `Flatten` of all their writes
(`last_step`) on every runner; on the DaskRunner (`dask_safe`) they also batch
with a GroupByKey rather than `BatchElements`.
"""

import importlib
import logging
import os

from compression.examples.common import errors

_BEAM_ALTERNATIVE = "pip install -r requirements.txt"
DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
_DASK_NAMES = ("dask", "daskrunner", DASK_RUNNER.lower())


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

  `--runner=DaskRunner` (or Beam's dotted name of it) is Beam's DaskRunner: its
  options (`--dask_client_address`, ...) are known, the scheduler must answer
  and have a worker, and unless `--dask_npartitions` or `--dask_partition_size`
  says otherwise the inputs are cut into one partition per worker thread.

  Raises:
    errors.InputError: an argument that is neither a flag of the command
      nor a Beam pipeline option; a runner Beam does not know; a Dask
      scheduler that does not answer or has no worker.
    errors.MissingDependencyError: the DaskRunner without dask.distributed.
  """
  beam_module()
  from apache_beam.options import pipeline_options as po  # pylint: disable=g-import-not-at-top
  defaults = ["--runner=DirectRunner",
              "--default_sdk_harness_log_level=WARNING",
              "--direct_running_mode=multi_processing",
              f"--direct_num_workers={os.cpu_count() or 1}"]
  args = defaults + list(beam_args)
  runner = po.PipelineOptions(args).view_as(po.StandardOptions).runner
  if runner and runner.lower() in _DASK_NAMES:
    _import_dask_runner()  # Registers the DaskRunner's options.
    args.append(f"--runner={DASK_RUNNER}")
  options = po.PipelineOptions(args)
  unknown = sorted(set(options.get_all_options(retain_unknown_options=True))
                   - set(options.get_all_options()))
  if unknown:
    raise errors.InputError(
        f"unknown flag(s) {', '.join('--' + u for u in unknown)}: neither a "
        "flag of this command nor a Beam pipeline option")
  _check_runner(runner or "DirectRunner")
  if dask_safe(options):
    threads = _check_dask_cluster(options)
    given = options.get_all_options(drop_default=True)
    if not given.get("npartitions") and not given.get("partition_size"):
      options = po.PipelineOptions(args + [f"--dask_npartitions={threads}"])
  return options


def _import_dask_runner():
  try:
    from apache_beam.runners.dask import dask_runner  # pylint: disable=g-import-not-at-top
    import distributed  # pylint: disable=g-import-not-at-top,unused-import
  except ImportError as e:
    raise errors.MissingDependencyError(
        f"--runner=DaskRunner needs dask and distributed (module {e.name!r} "
        "not found): `pip install 'dask[distributed]>=2024.4.2'`, or `"
        f"{_BEAM_ALTERNATIVE}`") from None
  return dask_runner


def _check_runner(name):
  """InputError unless Beam can make a runner of `name` (as `create_runner`
  resolves it: a known short name, or the dotted path of a class)."""
  from apache_beam.runners import runner as runner_lib  # pylint: disable=g-import-not-at-top
  known = runner_lib._RUNNER_MAP  # pylint: disable=protected-access
  path = known.get(name.lower(), known.get(name.lower() + "runner", name))
  if name.lower() in _DASK_NAMES:
    path = DASK_RUNNER
  if "." not in path:
    names = sorted({p.rsplit(".", 1)[1] for p in known.values()} | {"DaskRunner"})
    raise errors.InputError(
        f"--runner={name} is not a Beam runner: one of {', '.join(names)}, or "
        "the dotted path of a PipelineRunner class")
  module, attribute = path.rsplit(".", 1)
  try:
    getattr(importlib.import_module(module), attribute)
  except (ImportError, AttributeError) as e:
    raise errors.InputError(f"--runner={name}: cannot import {path} "
                            f"({_one_line(e)})") from None


def _one_line(error):
  return " ".join(f"{type(error).__name__}: {error}".split())


def dask_safe(options):
  """Whether `options` run Beam's DaskRunner (the pipelines then use only the
  transforms it runs correctly: module docstring)."""
  from apache_beam.options import pipeline_options as po  # pylint: disable=g-import-not-at-top
  runner = options.view_as(po.StandardOptions).runner or ""
  return runner.lower() in _DASK_NAMES


def _check_dask_cluster(options):
  """The number of worker threads of the DaskRunner's cluster; InputError when
  its scheduler does not answer within --dask_connection_timeout (dask's
  default: 30 s) or has no worker by then. Without --dask_client_address and
  --dask_scheduler_file the runner starts a local cluster: the CPU count."""
  dask_runner = _import_dask_runner()
  import distributed  # pylint: disable=g-import-not-at-top
  import dask  # pylint: disable=g-import-not-at-top
  dask_options = options.view_as(dask_runner.DaskOptions)
  address, scheduler_file = dask_options.address, dask_options.scheduler_file
  if not address and not scheduler_file:
    return os.cpu_count() or 1
  timeout = dask_options.timeout
  if not isinstance(timeout, int):
    timeout = dask.utils.parse_timedelta(
        dask.config.get("distributed.comm.timeouts.connect"), "s")
  # The client's own complaints (connection retries) would come before the
  # one-line error.
  dask_log = logging.getLogger("distributed")
  level = dask_log.level
  dask_log.setLevel(logging.CRITICAL)
  try:
    return _cluster_threads(distributed, address, scheduler_file, timeout)
  finally:
    dask_log.setLevel(level)


def _cluster_threads(distributed, address, scheduler_file, timeout):
  where = (f"--dask_client_address={address}" if address
           else f"--dask_scheduler_file={scheduler_file}")
  try:
    client = distributed.Client(address=address, scheduler_file=scheduler_file,
                                timeout=timeout, set_as_default=False)
  except (OSError, ValueError) as e:  # TimeoutError is an OSError.
    raise errors.InputError(
        f"the Dask scheduler of {where} does not answer within {timeout:g} s "
        f"({_one_line(e)}): start it (`dask scheduler`, then `dask worker "
        "ADDRESS`) or give its address") from None
  try:
    client.wait_for_workers(1, timeout=timeout)
    return max(1, sum(client.nthreads().values()))
  except (OSError, distributed.TimeoutError):
    raise errors.InputError(
        f"the Dask scheduler of {where} has no worker after {timeout:g} s: "
        "start some (`dask worker ADDRESS`)") from None
  finally:
    client.close()


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
  """Writes a PCollection of (key, message) as text lines `key<TAB>message`,
  sorted by key, to the one file `<prefix>-00000-of-00001.txt`
  (`WriteShards`: the same bytes on every runner; Beam's `WriteToText` loses
  its output on the DaskRunner); returns the PCollection of the file's path."""
  beam = beam_module()
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  return (dead
          | "FormatDeadLetters" >> beam.Map(
              lambda e: (e[0], beam_lib.format_dead_letter(e)))
          | "WriteDeadLetters" >> beam_lib.WriteShards(
              prefix, 1, suffix=".txt", kind="text"))


def last_step(*writes):
  """One `Flatten` of the PCollections of all the pipeline's writes, applied
  last: Beam's DaskRunner computes only the pipeline's last leaf, so the
  other writes would not run there. Call it as the pipeline's last step."""
  beam = beam_module()
  return tuple(writes) | "AllWrites" >> beam.Flatten()


def print_counters(result, log):
  """Logs one line `counters: name=value, ...` of a finished pipeline's
  counters (`compression.python.beam.COUNTERS`) and returns them (dict); a
  runner that reports no metrics (the DaskRunner) logs that and returns {}."""
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  try:
    counters = beam_lib.counter_values(result)
  except NotImplementedError:
    log("counters: not reported by this runner (Beam's DaskRunner collects no "
        "metrics)")
    return {}
  log("counters: " + ", ".join(f"{k}={v}" for k, v in counters.items()))
  return counters


def finish(result, log):
  """After a pipeline: closes the DaskRunner's client (the runner leaves it
  open), then `print_counters`."""
  client = getattr(result, "client", None)
  if client is not None:
    client.close()
  return print_counters(result, log)
