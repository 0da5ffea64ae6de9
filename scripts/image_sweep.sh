#!/usr/bin/env bash
# Reproduces the image example's results (compression/examples/images/README.md):
# trains bls2017 and bmshj2018 at three lambdas on the embedded photographs (two
# trainings at a time, one thread each: on 2 cores each runs at nearly full speed),
# checks cross-process decoding, and runs `compare` on the held-out photographs.
#
#   scripts/image_sweep.sh [RUNS_DIR] [OUT_DIR]     (defaults: /tmp/image_runs, docs/images)
#
# Training resumes from the last checkpoint, so an interrupted sweep continues
# where it stopped when started again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-/tmp/image_runs}"
OUT="${2:-$ROOT/docs/images}"
LAMBDAS=(0.01 0.003 0.03)
# Every run: 5000 steps of 8 crops of 64x64 (bmshj2018: the last 1000 of one
# 192x192 crop, see train.DEFAULT_FINAL); lr 1e-3, 1e-4 for the last 1000.
STEPS="${STEPS:-5000}"
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$RUNS" "$OUT"

train_all() {  # ARCH: its three lambdas, one after another
  for lmbda in "${LAMBDAS[@]}"; do
    python3 -m compression.examples.images train --architecture="$1" \
      --lambda="$lmbda" --num_steps="$STEPS" --threads=1 \
      --model_dir="$RUNS/$1_lambda_$lmbda" > "$RUNS/$1_lambda_$lmbda.log" 2>&1
  done
}
train_all bmshj2018 & first=$!
train_all bls2017 & second=$!
wait "$first" "$second"

dirs=()
for arch in bls2017 bmshj2018; do
  for lmbda in "${LAMBDAS[@]}"; do dirs+=("$RUNS/${arch}_lambda_$lmbda"); done
done
list="$(IFS=,; echo "${dirs[*]}")"
python3 -m compression.examples.images.crosscheck --model_dirs="$list" \
  --out="$OUT/crosscheck.json"
python3 -m compression.examples.images compare --model_dirs="$list" --out_dir="$OUT"
