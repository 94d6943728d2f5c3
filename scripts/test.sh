#!/usr/bin/env bash
# The test command: everything a fresh machine needs, then every test.
#
#   1. set-up (idempotent Debian packages)
#   2. CPU backend: build (warnings are errors), ctest (with the pipeline's end-to-end run)
#   3. CUDA backend: build for sm_90 (warnings are errors), ctest but the pipeline — CUDA rows
#      are skipped with a message where there is no GPU, CPU rows run again
#   4. CPU backend again under AddressSanitizer + UndefinedBehaviorSanitizer
#      (WISE_SANITIZE: any report fails its test; the third-party exceptions are named
#      checks in one file each, in kernels/ and data/CMakeLists.txt; docs/reliability.md)
#   5. libFuzzer on every reader (tests/fuzz: seven targets, WISE_FUZZ_SECONDS
#      each, default 30)
# Prints each phase's time and ends with one summary line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "${root}"

passed=0
failed=0
phase_start=0
phase() { phase_start=${SECONDS}; echo; echo "=== $1"; }
phase_done() { echo "=== $1: $((SECONDS - phase_start)) s"; }

# run_ctest DIR LABEL [CTEST ARGS]: runs ctest and adds its counts to the totals.
run_ctest() {
  local log="$1/ctest.log" status=0
  ctest --test-dir "$1" --output-on-failure "${@:3}" 2>&1 | tee "${log}" || status=$?
  local total failures
  total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "${log}" | tail -n 1)
  failures=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed.*/\1/p' "${log}" | tail -n 1)
  total=${total:-0}
  failures=${failures:-1}
  ((status != 0 && failures == 0)) && failures=1
  passed=$((passed + total - failures))
  failed=$((failed + failures))
  echo "$2: $((total - failures)) of ${total} test binaries passed"
}

phase "set-up"
bash scripts/setup.sh
phase_done "set-up"

phase "CPU backend: build"
configure_cpu build/cpu
cmake --build build/cpu -j "${jobs}"
phase_done "CPU backend: build"
phase "CPU backend: ctest"
run_ctest build/cpu "CPU backend"
phase_done "CPU backend: ctest"

if have_nvcc; then
  phase "CUDA backend: build (sm_${WISE_CUDA_ARCHITECTURES:-90})"
  bash scripts/fetch_nccl.sh  # NCCL, linked by the CUDA build's data-parallel path
  configure_cuda build/cuda
  cmake --build build/cuda -j "${jobs}"
  phase_done "CUDA backend: build"
  phase "CUDA backend: ctest"
  # The pipeline's end-to-end run (label pipeline: minutes, CPU only) ran in the CPU phase.
  run_ctest build/cuda "CUDA backend" -LE pipeline
  phase_done "CUDA backend: ctest"
elif [[ "${CI:-}" == "true" ]]; then
  echo "CI: no nvcc found (expected /usr/local/cuda/bin/nvcc): the CUDA backend must build in CI" >&2
  failed=$((failed + 1))
else
  echo "no nvcc: CUDA backend not built"
fi

phase "CPU backend under ASan + UBSan: build"
configure_sanitize build/asan
cmake --build build/asan -j "${jobs}"
phase_done "CPU backend under ASan + UBSan: build"
phase "CPU backend under ASan + UBSan: ctest"
# Every app the pipeline runs has its own app tests here; its end-to-end run (label
# pipeline) would take several times its CPU-phase minutes under the sanitizers.
run_ctest build/asan "CPU backend under ASan + UBSan" -LE pipeline
phase_done "CPU backend under ASan + UBSan: ctest"

phase "fuzz: every reader's target (tests/fuzz/run_fuzz.sh)"
if bash tests/fuzz/run_fuzz.sh "${WISE_FUZZ_SECONDS:-30}" > build/fuzz.log 2>&1; then
  passed=$((passed + 1))
  grep -E "^(stat::number_of_executed_units|Done)" build/fuzz.log || true
else
  failed=$((failed + 1))
  tail -n 40 build/fuzz.log
fi
phase_done "fuzz"

echo
echo "total time: ${SECONDS} s"
echo "wise: ${passed} passed, ${failed} failed"
((failed == 0))
