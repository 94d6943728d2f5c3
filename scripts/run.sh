#!/usr/bin/env bash
# The main job on the embedded default. Until the pipeline lands this is a smoke
# demo of the runtime (apps/wise_demo.cpp): set-up, build the CPU backend, run it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "${root}"
bash scripts/setup.sh
configure_cpu build/cpu
cmake --build build/cpu -j "${jobs}" --target wise_demo
build/cpu/apps/wise_demo "$@"
