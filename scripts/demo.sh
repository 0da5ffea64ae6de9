#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs the MNIST demo end to end: trains briefly,
# compresses 16 test digits into one file, decompresses it in a separate process and
# prints bits, MAE and PSNR per digit. Extra arguments go to the demo command
# (`./scripts/demo.sh --help` lists them).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${MNIST_DIR:-}" ] && [ -d "$ROOT/../shared/data/mnist" ]; then
  export MNIST_DIR="$(cd "$ROOT/../shared/data/mnist" && pwd)"
fi
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec python3 -m compression.examples.mnist demo "$@"
