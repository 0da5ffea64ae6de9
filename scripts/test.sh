#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test once:
#   1. bazel test //...: each tests/test_*.py is a py_test (tests/BUILD) that runs
#      all of its tests (a file run as a script hands itself to pytest or
#      tf.test.main), but two:
#   2. pytest of tests/test_wheel.py and tests/test_readme.py, which run Bazel
#      themselves (a build cannot run inside `bazel test`);
#   3. pytest of the layer tests again with v2 behaviour off, as 1.x scripts run.
# Every stage runs even when one before it failed; the exit status is non-zero when
# any failed, and the stages that failed are named last.
# MNIST tests use $MNIST_DIR when set, and data they write otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
failed=()

stage() {  # stage NAME COMMAND...: runs COMMAND, timed; a failure is remembered.
  local name="$1" start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    echo "== $name: passed in $((SECONDS - start)) s"
  else
    echo "== $name: FAILED (exit $?) after $((SECONDS - start)) s"
    failed+=("$name")
  fi
}

# The summary has a line per test target; a test whose size does not fit its run
# time is named with the timeout to set (tests/BUILD).
stage "bazel test //..." bazel test --test_verbose_timeout_warnings //...
stage "pytest: the wheel and the README's code blocks" \
  python3 -m pytest -q --durations=10 tests/test_wheel.py tests/test_readme.py
stage "pytest: layer tests with v2 behaviour off (COMPRESSION_TF_BEHAVIOR=v1)" \
  env COMPRESSION_TF_BEHAVIOR=v1 python3 -m pytest -q -m both_tf_behaviors tests

if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all tests passed"
