#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: pytest, then the same files as
# Bazel py_tests (but test_wheel.py and test_readme.py, which run Bazel themselves).
# MNIST tests use $MNIST_DIR when set, and data they write otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
echo "== pytest tests"
python3 -m pytest -q tests
echo "== pytest tests, layer tests again with v2 behaviour off (as 1.x scripts run)"
COMPRESSION_TF_BEHAVIOR=v1 python3 -m pytest -q -m both_tf_behaviors tests
echo "== bazel test //..."
# The whole summary (one line per test target); a test whose size does not fit its
# run time is named with the timeout to set (tests/BUILD).
bazel test --test_verbose_timeout_warnings //...
