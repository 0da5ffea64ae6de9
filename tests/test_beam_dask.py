"""Both examples' Beam pipelines on Beam's DaskRunner, on a real cluster.

A `dask.distributed` cluster of separate processes on this machine (a scheduler
and two single-threaded worker processes, `dask scheduler` / `dask worker` on
127.0.0.1 only, with PYTHONPATH set so that they import `compression` and load
its op library) is started once per module and always stopped. The image
example's beam_compress / beam_decompress and the MNIST example's run on it
(`--runner=DaskRunner --dask_client_address=tcp://127.0.0.1:PORT`) and on the
in-memory DirectRunner, from the same inputs: every output file (.cim, PNG,
TFRecord shards with --num_shards=2, dead letters) has the same name and the same
bytes. compression/examples/common/beam.py says what the pipelines avoid on that
runner, and why.

Also: an unreachable scheduler and an unknown runner are one-line errors, and the
DaskRunner form of `ApplyCodec` (batches by GroupByKey) gives the DirectRunner
the same outputs and dead letters as the default form.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import images_testutil
import mnist_testutil
from compression.examples.common import beam as common_beam
from compression.examples.common import errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECT = ["--direct_num_workers=1", "--direct_running_mode=in_memory"]
WORKERS = 2
START_SECONDS = 120  # Scheduler up and both workers registered, at most.
STOP_SECONDS = 20  # After SIGTERM, before SIGKILL.
DIGITS = 40


def _quiet(*unused_args):
  pass


def _free_port():
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _stop(process):
  """SIGTERM to the process group (a `dask worker` and the worker processes it
  spawns), SIGKILL after STOP_SECONDS."""
  if process.poll() is not None:
    return
  try:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=STOP_SECONDS)
  except (subprocess.TimeoutExpired, ProcessLookupError):
    try:
      os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
      pass
    process.wait(timeout=STOP_SECONDS)


@pytest.fixture(scope="module")
def cluster():
  """The address of a running scheduler with WORKERS workers; stopped after the
  module, or at once when it does not come up within START_SECONDS."""
  import distributed  # pylint: disable=g-import-not-at-top
  port = _free_port()
  address = f"tcp://127.0.0.1:{port}"
  work = tempfile.mkdtemp(prefix="dask_cluster_")
  paths = [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                    if p]
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths),
             TF_CPP_MIN_LOG_LEVEL="2")
  dask = [sys.executable, "-m", "dask"]
  loopback = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
  commands = {
      # Both end by themselves should this process die without stopping them:
      # the scheduler when idle for 5 minutes, the workers 60 s after it.
      "scheduler": dask + ["scheduler", "--port", str(port),
                           "--idle-timeout", "300"] + loopback,
      "worker": dask + ["worker", address, "--nworkers", str(WORKERS),
                        "--nthreads", "1", "--local-directory", work,
                        "--death-timeout", "60"] + loopback,
  }
  processes, logs = [], []
  try:
    for name, command in commands.items():
      log = open(os.path.join(work, name + ".log"), "w")  # pylint: disable=consider-using-with
      logs.append(log)
      processes.append(subprocess.Popen(  # pylint: disable=consider-using-with
          command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
          start_new_session=True))
    deadline = time.time() + START_SECONDS
    with distributed.Client(address, timeout=START_SECONDS,
                            set_as_default=False) as client:
      client.wait_for_workers(WORKERS, timeout=max(1, deadline - time.time()))
    yield address
  except BaseException:
    for log in logs:
      log.flush()
      with open(log.name) as f:
        sys.stderr.write(f"== {log.name}\n{f.read()[-3000:]}\n")
    raise
  finally:
    for process in reversed(processes):
      _stop(process)
    for log in logs:
      log.close()
    shutil.rmtree(work, ignore_errors=True)


def _files(folder):
  """{path relative to folder: bytes} of the files under `folder`."""
  found = {}
  for path in glob.glob(os.path.join(folder, "**"), recursive=True):
    if os.path.isfile(path):
      with open(path, "rb") as f:
        found[os.path.relpath(path, folder)] = f.read()
  return found


def _copy(paths, folder):
  os.makedirs(folder, exist_ok=True)
  for path in paths:
    shutil.copy(path, folder)


@pytest.fixture(scope="module")
def runs(cluster):
  """Each pipeline on each runner, from the same inputs; {runner: folder}."""
  from apache_beam.io import tfrecordio  # pylint: disable=g-import-not-at-top
  from compression.examples.images import beam_pipeline as images_beam  # pylint: disable=g-import-not-at-top
  from compression.examples.mnist import beam_pipeline as mnist_beam  # pylint: disable=g-import-not-at-top
  image_model = images_testutil.trained_model("bmshj2018")
  mnist_model = mnist_testutil.trained_model()
  work = images_testutil.tmp_dir()
  # Shared inputs (dead-letter messages name the input paths).
  pngs = os.path.join(work, "pngs")
  images_testutil.write_pngs(pngs, 3, 40, 56, seed=11)
  with open(os.path.join(pngs, "broken.png"), "wb") as f:
    f.write(b"not a png at all")
  runners = {"direct": DIRECT,
             "dask": ["--runner=DaskRunner", f"--dask_client_address={cluster}"]}
  seconds = {}
  for name, options in runners.items():
    start = time.time()
    out = os.path.join(work, name)
    images_beam.compress(image_model, os.path.join(pngs, "*.png"),
                         os.path.join(out, "cim"), options, log=_quiet)
    mnist_beam.compress(mnist_model, os.path.join(out, "records", "digits"),
                        options, data_dir=mnist_testutil.data_dir(),
                        count=DIGITS, num_shards=2, log=_quiet)
    seconds[name] = time.time() - start
  # Decoded from the same files: the DirectRunner's outputs (the same bytes as
  # the DaskRunner's, tested below), a truncated .cim and a record that is none.
  cims = os.path.join(work, "cim_inputs")
  _copy(glob.glob(os.path.join(work, "direct", "cim", "*.cim")), cims)
  with open(os.path.join(cims, "synthetic_0.cim"), "rb") as f:
    blob = f.read()
  with open(os.path.join(cims, "truncated.cim"), "wb") as f:
    f.write(blob[:-7])
  records = os.path.join(work, "record_inputs")
  _copy(glob.glob(os.path.join(work, "direct", "records", "*.tfrecord")), records)
  with open(os.path.join(records, "bad.tfrecord"), "wb") as f:
    tfrecordio._TFRecordUtil.write_record(f, b"\x01\x02garbage")  # pylint: disable=protected-access
  for name, options in runners.items():
    start = time.time()
    out = os.path.join(work, name)
    images_beam.decompress(image_model, os.path.join(cims, "*.cim"),
                           os.path.join(out, "decoded_images"), options,
                           log=_quiet)
    mnist_beam.decompress(mnist_model, os.path.join(records, "*.tfrecord"),
                          os.path.join(out, "decoded_digits"), options,
                          log=_quiet)
    seconds[name] += time.time() - start
  sys.stderr.write(f"pipeline seconds: {seconds}\n")
  return {name: os.path.join(work, name) for name in runners}


@pytest.mark.parametrize("outputs", ["cim", "records", "decoded_images",
                                     "decoded_digits"])
def test_dask_outputs_are_the_direct_runners_bytes(runs, outputs):
  direct = _files(os.path.join(runs["direct"], outputs))
  dask = _files(os.path.join(runs["dask"], outputs))
  assert sorted(dask) == sorted(direct)
  for name, blob in direct.items():
    assert dask[name] == blob, name


def test_outputs_are_complete(runs):
  """The comparison above is of real outputs: every input coded or dead."""
  out = runs["dask"]
  assert sorted(_files(os.path.join(out, "cim"))) == [
      "dead-letter-00000-of-00001.txt", "synthetic_0.cim", "synthetic_1.cim",
      "synthetic_2.cim"]
  with open(os.path.join(out, "cim", "dead-letter-00000-of-00001.txt")) as f:
    assert f.read().startswith("broken\t")
  shards = sorted(_files(os.path.join(out, "records")))
  assert shards == ["digits-00000-of-00002.tfrecord",
                    "digits-00001-of-00002.tfrecord",
                    "digits-dead-letter-00000-of-00001.txt"]
  images = sorted(_files(os.path.join(out, "decoded_images")))
  assert images == ["dead-letter-00000-of-00001.txt", "synthetic_0.png",
                    "synthetic_1.png", "synthetic_2.png"]
  with open(os.path.join(out, "decoded_images",
                         "dead-letter-00000-of-00001.txt")) as f:
    assert f.read().startswith("truncated\t")
  digits = sorted(_files(os.path.join(out, "decoded_digits")))
  assert digits[1:] == [f"test_{i:05d}.png" for i in range(DIGITS)]
  with open(os.path.join(out, "decoded_digits",
                         "dead-letter-00000-of-00001.txt")) as f:
    letters = f.read().splitlines()
  assert len(letters) == 1 and "bad.tfrecord#unreadable-" in letters[0]


def test_models_were_loaded_by_the_dask_workers(runs, cluster):
  """The coding ran in the worker processes (each loads a model once), not in
  this one."""
  import distributed  # pylint: disable=g-import-not-at-top

  def loaded_models():
    from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top,redefined-outer-name,reimported
    return [list(key[:2]) for key in beam_lib._MODELS]  # pylint: disable=protected-access

  del runs
  with distributed.Client(cluster, timeout=30, set_as_default=False) as client:
    per_worker = client.run(loaded_models)
  assert len(per_worker) == WORKERS
  loaded = [tuple(key) for keys in per_worker.values() for key in keys]
  for model in (images_testutil.trained_model("bmshj2018"),
                mnist_testutil.trained_model()):
    for session in ("Encoder", "Decoder"):
      assert (session, model) in loaded, per_worker


def test_unreachable_scheduler_is_one_line_error():
  port = _free_port()  # Nothing listens there.
  proc = mnist_testutil.run_cli(
      "beam_compress", "--output=/tmp/never-written", "--runner=DaskRunner",
      f"--dask_client_address=tcp://127.0.0.1:{port}",
      "--dask_connection_timeout=2")
  assert proc.returncode == 1, proc.stderr
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1, proc.stderr
  assert lines[0].startswith(
      f"error: the Dask scheduler of --dask_client_address=tcp://127.0.0.1:{port}"
      " does not answer within 2 s"), lines


def test_unknown_runner_is_an_input_error():
  with pytest.raises(errors.InputError, match="--runner=NoSuchRunner is not a "
                     "Beam runner: one of .*DaskRunner"):
    common_beam.pipeline_options(["--runner=NoSuchRunner"])


def test_grouped_batches_same_results_on_the_direct_runner():
  """ApplyCodec(group_batches=True), the DaskRunner's form, on the DirectRunner:
  the outputs, dead letters and counters of tests/test_beam_library.py."""
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from apache_beam.testing.util import assert_that  # pylint: disable=g-import-not-at-top
  from apache_beam.testing.util import equal_to  # pylint: disable=g-import-not-at-top
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  import test_beam_library  # pylint: disable=g-import-not-at-top
  values = list(range(20)) + [-2]
  options = beam.options.pipeline_options.PipelineOptions(DIRECT)
  with beam.Pipeline(options=options) as p:
    outputs, dead = (p | beam.Create([(f"k{v}", v) for v in values])
                     | beam_lib.ApplyCodec(test_beam_library.SquareCodec("g"),
                                           max_batch_size=8, group_batches=True))
    assert_that(outputs, equal_to([(f"k{v}", v * v) for v in values
                                   if v >= 0 and v not in (7, 13)]),
                label="Outputs")
    assert_that(dead | beam.Map(beam_lib.format_dead_letter), equal_to([
        "k-2\tValueError: negative value -2",
        "k7\tRuntimeError: seven in the batch",
        "k13\tValueError: thirteen"]), label="DeadLetters")
  counters = beam_lib.counter_values(p.result)
  assert counters["elements_in"] == 21 and counters["elements_out"] == 18
  assert counters["dead_letters"] == 3 and counters["model_loads"] == 1
  assert 3 <= counters["batches"] <= 21


def test_write_shards_sorted_and_complete(tmp_path):
  """WriteShards: every shard written (empty ones too), records sorted by key."""
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from compression.python import beam as beam_lib  # pylint: disable=g-import-not-at-top
  keys = [f"key{i:02d}" for i in range(30)]
  prefix = str(tmp_path / "lines")
  options = beam.options.pipeline_options.PipelineOptions(DIRECT)
  with beam.Pipeline(options=options) as p:
    _ = (p | beam.Create([(k, "line " + k) for k in reversed(keys)])
         | beam_lib.WriteShards(prefix, 40, suffix=".txt", kind="text"))
  names = sorted(os.listdir(tmp_path))
  assert names == [f"lines-{i:05d}-of-00040.txt" for i in range(40)]
  lines = []
  for i in range(40):
    with open(f"{prefix}-{i:05d}-of-00040.txt") as f:
      shard = f.read().splitlines()
    assert shard == sorted(shard)
    assert all(beam_lib.shard_of(line[5:], 40) == i for line in shard)
    lines += shard
  assert sorted(lines) == ["line " + k for k in keys]


if __name__ == "__main__":
  # Run as a script (e.g. a Bazel py_test): hand this file to pytest.
  sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
