"""Child processes of the tests: interrupting a command as Ctrl-C would."""

import signal
import subprocess
import time


def _as_from_a_terminal():
  # A command typed at a terminal gets Ctrl-C as SIGINT with the default action, so
  # Python turns it into KeyboardInterrupt. A test runner started in the background
  # of a non-interactive shell (Bazel's test wrapper is one) ignores SIGINT, and an
  # ignored signal stays ignored across exec: restore the terminal's default.
  signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_when(command, when, cwd, env, timeout=300, sig=signal.SIGINT):
  """Runs `command`, sends `sig` (default SIGINT, Ctrl-C) once a stdout line
  satisfies `when(line)`, waits for the exit; returns (exit status, stdout lines,
  stderr). A child still running 120 s after the signal is killed, then the
  subprocess.TimeoutExpired raised."""
  child = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=_as_from_a_terminal)
  lines = []
  deadline = time.time() + timeout
  try:
    while time.time() < deadline:
      line = child.stdout.readline()
      if not line:
        break
      lines.append(line)
      if when(line):
        child.send_signal(sig)
        break
    out, err = child.communicate(timeout=120)
  finally:
    if child.poll() is None:
      child.kill()
      child.communicate()
  return child.returncode, lines + out.splitlines(), err


# The start of the programs `run_json_child` runs: the repository on the path
# (argv[1]), the request read from stdin, and a one-thread session config.
CHILD_PRELUDE = """
import json, sys
import numpy as np
import tensorflow as tf
sys.path.insert(0, sys.argv[1])
import compression
request = json.load(sys.stdin)
v1 = tf.compat.v1
one_thread = v1.ConfigProto(intra_op_parallelism_threads=1,
                            inter_op_parallelism_threads=1)
"""


def run_json_child(body, request, repo, env=None, timeout=300):
  """Runs CHILD_PRELUDE + `body` in a fresh Python with `request` (JSON-ready) on
  stdin and `env` added to the environment (e.g. TF_ENABLE_ONEDNN_OPTS="0");
  `body` prints a JSON object as its last line, which is returned. An
  AssertionError with the end of stderr if the child fails."""
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  result = subprocess.run(
      [sys.executable, "-c", CHILD_PRELUDE + body, repo], input=json.dumps(request),
      capture_output=True, text=True, env=dict(os.environ, **(env or {})),
      timeout=timeout, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])
