#!/usr/bin/env bash
# Builds the fuzz targets (a separate CMake project, tests/fuzz: one per reader, listed
# at the end) and runs each for the given number of seconds (default 30). Exits non-zero if libFuzzer finds a crash; the reproducer is left in
# build/fuzz/artifacts/.
#   tests/fuzz/run_fuzz.sh [seconds]
# The committed seeds are copied to build/fuzz/corpus first: libFuzzer adds the inputs it
# finds to its corpus directory, and those must not land in the repository.
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${root}/build/fuzz"
compiler="${CXX_FUZZ:-clang++-14}"

if ! command -v "${compiler}" > /dev/null; then
  echo "run_fuzz.sh: ${compiler} not found (Debian: apt-get install clang-14 libclang-rt-14-dev," \
       "or set CXX_FUZZ to another clang++)" >&2
  exit 2
fi

cmake -S "${root}/tests/fuzz" -B "${build}" -DCMAKE_CXX_COMPILER="${compiler}" > /dev/null
cmake --build "${build}"

# run TARGET CORPUS MAX_LEN: one target on a copy of its committed seeds.
# -rss_limit_mb: a header may legally ask for up to 100 MB; anything near 2 GB is a bug.
run() {
  mkdir -p "${build}/corpus/$2" "${build}/artifacts"
  cp "${root}/tests/fuzz/corpus/$2/"* "${build}/corpus/$2/"
  echo "== $1"
  "${build}/$1" \
    -max_total_time="${seconds}" -max_len="$3" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="${build}/artifacts/" -print_final_stats=1 \
    "${build}/corpus/$2"
}
run fuzz_safetensors_header safetensors_header 4096
run fuzz_coco_dataset coco_dataset 8192
run fuzz_coco_results coco_results 8192
run fuzz_rle rle 1024
run fuzz_images images 65536
run fuzz_shapes_config shapes_config 8192
run fuzz_proposals proposals 8192
