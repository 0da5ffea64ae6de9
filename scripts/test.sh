#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test once:
#   1. bazel test //...: the C++ tests and every tests/test_*.py as a py_test of its
#      own (two at a time on 2 cores; a failing test's log is printed);
#   2. pytest for the two files Bazel cannot run (they run Bazel themselves):
#      tests/test_wheel.py and tests/test_readme.py;
#   3. pytest of the layer tests marked both_tf_behaviors again, with v2 behaviour
#      off (COMPRESSION_TF_BEHAVIOR=v1), as 1.x scripts run.
# MNIST tests use $MNIST_DIR when set, and data they write otherwise.
# `python3 -m pytest tests` runs every file in one process too (slower, no Bazel).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
start=$SECONDS
echo "== bazel test //..."
# The whole summary (one line per test target); a test whose size does not fit its
# run time is named with the timeout to set (tests/BUILD).
bazel test --test_verbose_timeout_warnings //...
echo "== pytest: the wheel and the README's code blocks (they run Bazel themselves)"
python3 -m pytest -q tests/test_wheel.py tests/test_readme.py
echo "== pytest: layer tests again with v2 behaviour off (as 1.x scripts run)"
COMPRESSION_TF_BEHAVIOR=v1 python3 -m pytest -q -m both_tf_behaviors tests
echo "== every test passed ($(( (SECONDS - start) / 60 )) min after the set-up)"
