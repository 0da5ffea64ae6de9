"""Running ops in graph mode, as users do, for the op tests."""

import tensorflow as tf


def run_graph(build, *args):
  """Builds `build(*constants)` in a fresh tf.Graph and runs it in a Session."""
  with tf.Graph().as_default():
    fetches = build(*[tf.constant(a) for a in args])
    with tf.compat.v1.Session() as session:
      return session.run(fetches)
