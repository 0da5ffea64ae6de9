"""`python -m compression.examples.mnist <command> [flags]`; see commands.py."""

import os

# Before TensorFlow is imported anywhere: hide its C++ info/warning logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from compression.examples.mnist import commands  # pylint: disable=g-import-not-at-top,wrong-import-position

if __name__ == "__main__":
  commands.main()
