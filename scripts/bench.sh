#!/usr/bin/env bash
# Benchmarks with their PyTorch peers, measured in the same run.
#
#   scripts/bench.sh conv [driver options]   # conv passes on ResNet-50's layers vs PyTorch
#   scripts/bench.sh conv-backends           # oneDNN vs im2col + OpenBLAS, at 1 and 2 threads
#   scripts/bench.sh kernels [driver options] # detection kernels (issue 13) vs torchvision & co.
#   scripts/bench.sh backbone [driver options] # ResNet-50 and ResNet-50-FPN vs torchvision (issue 15)
#   scripts/bench.sh evaluate [options]      # evaluate vs pycocotools' COCOeval, time and memory (issue 22)
#   scripts/bench.sh maskrcnn [options]      # Mask R-CNN R50-FPN training and inference vs torchvision (issue 23)
#   scripts/bench.sh scaling [ITERATIONS]    # 1 process x 2 threads vs 2 MPI processes x 1 thread, the all-reduce (issue 25)
#
# Run on an idle machine: with 2 cores, anything else running (a build, a
# helper) spoils the timings; each table prints an sgemm probe before and after.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "${root}"
what="${1:-}"
shift || true
bash scripts/setup.sh --peer
configure_cpu build/cpu
case "${what}" in
  conv)
    cmake --build build/cpu -j "${jobs}" --target wise_bench_conv
    /usr/bin/python3 benchmarks/conv_vs_torch.py --binary build/cpu/apps/wise_bench_conv "$@"
    ;;
  conv-backends)
    cmake --build build/cpu -j "${jobs}" --target wise_bench_conv_backends
    for threads in 1 2; do OMP_NUM_THREADS=${threads} build/cpu/apps/wise_bench_conv_backends; echo; done
    ;;
  kernels)
    cmake --build build/cpu -j "${jobs}" --target wise_bench_kernels
    # pycocotools (mask IoU's second peer) lives in the fixtures venv when it exists.
    python=/usr/bin/python3
    [[ -x .venv-fixtures/bin/python ]] && python=.venv-fixtures/bin/python
    "${python}" benchmarks/kernels_vs_torch.py --binary build/cpu/apps/wise_bench_kernels "$@"
    ;;
  backbone)
    cmake --build build/cpu -j "${jobs}" --target wise_bench_backbone
    /usr/bin/python3 benchmarks/backbone_vs_torch.py --binary build/cpu/apps/wise_bench_backbone "$@"
    ;;
  evaluate)
    cmake --build build/cpu -j "${jobs}" --target evaluate
    # pycocotools (and numpy) from PyPI in a venv of their own; .venv* is git-ignored.
    [[ -x .venv-pycocotools/bin/python ]] || python3 -m venv .venv-pycocotools
    .venv-pycocotools/bin/python -c "import pycocotools" 2>/dev/null ||
      .venv-pycocotools/bin/python -m pip install --quiet pycocotools
    .venv-pycocotools/bin/python benchmarks/evaluate_vs_pycocotools.py --binary build/cpu/apps/evaluate "$@"
    ;;
  scaling)
    cmake --build build/cpu -j "${jobs}" --target train_maskrcnn train_prm make_shapes wise_bench_allreduce \
      wise_bench_backbone
    [[ -e data/shapes-v2/shapes_config.json ]] || build/cpu/apps/make_shapes --config shapes-v2 --out data/shapes-v2
    bash benchmarks/data_parallel_scaling.sh build/cpu/apps data/shapes-v2 "${1:-60}" 2
    ;;
  maskrcnn)
    cmake --build build/cpu -j "${jobs}" --target wise_bench_maskrcnn
    /usr/bin/python3 benchmarks/maskrcnn_vs_torchvision.py --binary build/cpu/apps/wise_bench_maskrcnn "$@"
    ;;
  *)
    echo "usage: scripts/bench.sh conv|conv-backends|kernels|backbone|evaluate|maskrcnn [options]" >&2
    exit 2
    ;;
esac
