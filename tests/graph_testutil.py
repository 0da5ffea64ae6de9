"""Graph-mode helpers for the tests: running ops, sessions with coding tables, and
decoding in a second process."""

import tensorflow as tf


def run_graph(build, *args):
  """Builds `build(*constants)` in a fresh tf.Graph and runs it in a Session."""
  with tf.Graph().as_default():
    fetches = build(*[tf.constant(a) for a in args])
    with tf.compat.v1.Session() as session:
      return session.run(fetches)


def session_with_tables(*layers):
  """A Session with the variables initialized and each layer's update op run."""
  session = tf.compat.v1.Session()
  session.run(tf.compat.v1.global_variables_initializer())
  for layer in layers:
    session.run(layer.updates[0])
  return session


def run_json_script(script, request, timeout=300):
  """Runs `python -c script` in a fresh process, `request` as JSON on stdin.

  Returns the JSON object on the last line of its stdout; fails with its stderr.
  """
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
  result = subprocess.run(
      [sys.executable, "-c", script], input=json.dumps(request),
      capture_output=True, text=True, env=env, timeout=timeout, check=False)
  if result.returncode != 0:
    raise AssertionError(f"decoder process failed:\n{result.stderr[-3000:]}")
  return json.loads(result.stdout.strip().splitlines()[-1])
