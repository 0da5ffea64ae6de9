#!/usr/bin/env bash
# Sets up a fresh machine and builds the op library; safe to run again.
#   - Bazel 4.2.3 from Debian (bazel-bootstrap), when no bazel is on PATH;
#   - a virtual environment in .venv with requirements.txt (TensorFlow pinned);
#   - `bazel build //...` (optimised, see .bazelrc) against that TensorFlow.
# Source it (`. scripts/setup.sh`) to keep the environment it activates.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v bazel >/dev/null 2>&1; then
  echo "== installing Bazel (apt-get install bazel-bootstrap)"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q bazel-bootstrap
fi

VENV="${VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python3" ]; then
  echo "== creating the virtual environment $VENV"
  python3 -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
if ! python3 -c "import tensorflow, numpy, scipy, absl, pytest, PIL, matplotlib, tf_keras" 2>/dev/null \
    || [ requirements.txt -nt "$VENV/.requirements-installed" ]; then
  echo "== installing Python packages (requirements.txt)"
  python3 -m pip install -q --disable-pip-version-check -r requirements.txt
  # tf-keras (tests only: the 1.x scripts of tests/tfc1_scripts) without its dependency
  # `tensorflow`, the GPU build, which would overlay tensorflow-cpu (see requirements.txt).
  python3 -m pip install -q --disable-pip-version-check --no-deps "tf-keras==2.21.*"
  touch "$VENV/.requirements-installed"
fi
export PATH="$VENV/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

echo "== building the op library (bazel build //...)"
bazel build //... 2>&1 | tail -n 3
test -f bazel-bin/compression/_compression_ops.so || { echo "build failed" >&2; exit 1; }
