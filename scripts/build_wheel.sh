#!/usr/bin/env bash
# Builds a wheel of the package with the op library inside, tagged for this Python and
# platform (e.g. learned_compression-0.1.0-cp311-cp311-linux_x86_64.whl). It installs
# with `pip install <wheel>` alone: TensorFlow comes from PyPI, pinned to the minor
# version the library was compiled against.
#
#   scripts/build_wheel.sh [OUTPUT_DIR]     (default: dist/; prints the wheel's path last)
#
# Needs `bazel` on PATH and a Python with the TensorFlow to compile against (plus
# setuptools and wheel): $PYTHON_BIN_PATH, else the python3 on PATH when it has
# TensorFlow, else the clone's .venv (scripts/setup.sh makes both); no activated
# environment needed. Says which is missing; a failed Bazel build shows its errors.
# Builds in a temporary copy, so it leaves no build/ or *.egg-info in the source tree.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

has_tensorflow() { "$1" -c "import tensorflow" >/dev/null 2>&1; }
PYTHON="${PYTHON_BIN_PATH:-}"
if [ -z "$PYTHON" ]; then
  if command -v python3 >/dev/null 2>&1 && has_tensorflow python3; then
    PYTHON="$(command -v python3)"
  elif [ -x "$ROOT/.venv/bin/python3" ] && has_tensorflow "$ROOT/.venv/bin/python3"; then
    PYTHON="$ROOT/.venv/bin/python3"
  else
    echo "build_wheel.sh: no Python with TensorFlow: neither the python3 on PATH nor" \
         "$ROOT/.venv has it. Run scripts/setup.sh (creates .venv), or set" \
         "PYTHON_BIN_PATH to a python that has tensorflow-cpu." >&2
    exit 1
  fi
elif ! has_tensorflow "$PYTHON"; then
  echo "build_wheel.sh: PYTHON_BIN_PATH=$PYTHON cannot import tensorflow." >&2
  exit 1
fi
export PYTHON_BIN_PATH="$PYTHON"
if ! command -v bazel >/dev/null 2>&1; then
  echo "build_wheel.sh: bazel is not on PATH; scripts/setup.sh installs Bazel 4.2.3" \
       "(Debian's bazel-bootstrap)." >&2
  exit 1
fi
OUT="${1:-$ROOT/dist}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"

# Everything Bazel reads to build //compression:all.
sources_digest() {
  find cc third_party WORKSPACE BUILD .bazelrc compression/BUILD -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum
}

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

before="$(sources_digest)"
echo "== bazel build //compression:all (TensorFlow of $PYTHON)" >&2
if ! bazel build //compression:all >"$STAGE/bazel.log" 2>&1; then
  cat "$STAGE/bazel.log" >&2   # Bazel's own error lines, not only its last line
  echo "build_wheel.sh: bazel build //compression:all failed (above)." >&2
  exit 1
fi
tail -n 1 "$STAGE/bazel.log" >&2
mkdir "$STAGE/ops" "$STAGE/src" "$STAGE/wheel"
cp bazel-bin/compression/_compression_ops.so bazel-bin/compression/_compression_ops.tf_version \
  "$STAGE/ops/"
if [ "$(sources_digest)" != "$before" ]; then
  echo "build_wheel.sh: the C++ sources or BUILD files changed during the build, so the" \
       "library may not match them; run it again." >&2
  exit 1
fi

tar -c --exclude=__pycache__ --exclude='*.pyc' --exclude='*.so' setup.py README.md compression \
  | tar -x -C "$STAGE/src"
echo "== pip wheel (library compiled against TensorFlow $(cat "$STAGE/ops/_compression_ops.tf_version"))" >&2
COMPRESSION_OPS_DIR="$STAGE/ops" "$PYTHON" -m pip wheel -q --no-deps --no-build-isolation \
  --disable-pip-version-check -w "$STAGE/wheel" "$STAGE/src" >&2
wheels=("$STAGE"/wheel/*.whl)
case "${wheels[0]}" in
  *-any.whl) echo "build_wheel.sh: ${wheels[0]##*/} is not platform-tagged" >&2; exit 1 ;;
esac
mv "${wheels[0]}" "$OUT/"
echo "$OUT/${wheels[0]##*/}"
