#!/usr/bin/env bash
# Sets up (scripts/setup.sh: the environment with pdoc, the op library), then builds
# the API reference from the docstrings into site/ (git-ignored), or into the folder
# given as the one argument, and checks the documentation (scripts/build_docs.py):
# a pdoc warning, an exported name without a docstring or a broken relative link in
# README.md or docs/*.md fails the build. Open site/compression.html.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
. "$ROOT/scripts/setup.sh"
cd "$ROOT"
python3 scripts/build_docs.py "$@"
