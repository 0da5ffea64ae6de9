#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs the MNIST demo end to end: trains briefly,
# compresses 16 test digits into one file, decompresses it in a separate process and
# prints bits, MAE and PSNR per digit. Extra arguments go to the MNIST demo command
# (`./scripts/demo.sh --help` lists them); it writes under runs/mnist_demo. Then the
# image demo: the shipped photograph models on a bundled photograph, beside JPEG at
# the same size (no data to fetch; writes under runs/image_demo).
#
# Data: --data_dir, else $MNIST_DIR, else ../shared/data/mnist when that exists, else
# ~/.cache/compression/mnist. When the four files are not there they are fetched
# first (compression/examples/mnist/fetch.py: public mirrors, SHA-256 checked), with
# the system's python3 and before the set-up, so a machine without them and without
# a network stops in seconds with one line, not after minutes of installing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${MNIST_DIR:-}" ] && [ -d "$ROOT/../shared/data/mnist" ]; then
  export MNIST_DIR="$(cd "$ROOT/../shared/data/mnist" && pwd)"
fi
DATA_DIR=""
for arg in "$@"; do
  case "$arg" in --data_dir=*) DATA_DIR="${arg#--data_dir=}" ;; esac
done
FETCH="$ROOT/compression/examples/mnist/fetch.py"
case " $* " in
  *" --help "*|*" -h "*) ;;
  *) if ! python3 "$FETCH" --check --data_dir="$DATA_DIR" 2>/dev/null; then
       python3 "$FETCH" --data_dir="$DATA_DIR"
     fi ;;
esac
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
python3 -m compression.examples.mnist demo "$@"
case " $* " in
  *" --help "*|*" -h "*) exit 0 ;;
esac
# The photograph codec: the shipped models on a bundled held-out photograph, each
# file decoded by a separate process, beside JPEG at the same size (runs/image_demo).
echo
python3 -m compression.examples.images demo
