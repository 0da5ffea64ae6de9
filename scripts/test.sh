#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every test: pytest, then the same files as
# Bazel py_tests. MNIST tests use $MNIST_DIR when set, and data they write otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
echo "== pytest tests"
python3 -m pytest -q tests
echo "== bazel test //..."
bazel test //... 2>&1 | tail -n 25
