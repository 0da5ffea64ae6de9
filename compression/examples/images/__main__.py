"""`python -m compression.examples.images <command> [flags]`; see commands.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from compression.examples.images import commands  # pylint: disable=g-import-not-at-top,wrong-import-position

if __name__ == "__main__":
  commands.main()
