#!/usr/bin/env bash
# Builds a wheel of the package with the op library inside, tagged for this Python and
# platform (e.g. learned_compression-0.1.0-cp311-cp311-linux_x86_64.whl). It installs
# with `pip install <wheel>` alone: TensorFlow comes from PyPI, pinned to the minor
# version the library was compiled against.
#
#   scripts/build_wheel.sh [OUTPUT_DIR]     (default: dist/; prints the wheel's path last)
#
# Needs the build environment of scripts/setup.sh: `bazel`, and first on PATH the
# python3 with the TensorFlow to compile against (plus setuptools and wheel).
# Builds in a temporary copy, so it leaves no build/ or *.egg-info in the source tree.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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
echo "== bazel build //compression:all" >&2
bazel build //compression:all 2>&1 | tail -n 1 >&2
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
COMPRESSION_OPS_DIR="$STAGE/ops" python3 -m pip wheel -q --no-deps --no-build-isolation \
  --disable-pip-version-check -w "$STAGE/wheel" "$STAGE/src" >&2
wheels=("$STAGE"/wheel/*.whl)
case "${wheels[0]}" in
  *-any.whl) echo "build_wheel.sh: ${wheels[0]##*/} is not platform-tagged" >&2; exit 1 ;;
esac
mv "${wheels[0]}" "$OUT/"
echo "$OUT/${wheels[0]##*/}"
