#!/usr/bin/env bash
# Data-parallel training on one machine (issue 25, item 5): the same global batch as
# 1 process x T threads and as T processes x 1 thread under mpirun, for the default
# Mask R-CNN and PRM of scripts/run.sh; the all-reduce of their gradient sizes
# (wise_bench_allreduce); and the all-reduce's share of a step.
#
#   benchmarks/data_parallel_scaling.sh APPS_DIR DATA_DIR [ITERATIONS] [THREADS]
#
# images/s = global batch x (steps 11..N) / their wall time, read from the JSONL log's
# "time" of steps 10 and N (start-up, weight loading and the first steps' allocations
# left out). The sgemm probe (wise_bench_backbone --network sgemm) is printed before and
# after: a drop means the machine was disturbed. Run on an idle machine.
set -euo pipefail
apps="$1"
data="$2"
iterations="${3:-60}"
threads="${4:-2}"
weights="$(dirname "${BASH_SOURCE[0]}")/../weights/shapes_v2_resnet18_w025_os8.safetensors"
scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
mpirun=(mpirun --oversubscribe --bind-to none --allow-run-as-root)

probe() {
  local line
  line=$(OMP_NUM_THREADS=1 "${apps}/wise_bench_backbone" --network sgemm)
  awk -v s="${line%% *}" 'BEGIN { printf "sgemm probe (1024^3, 1 thread): %.1f GFLOP/s\n", 2 * 1024^3 / s / 1e9 }'
}

# steps_per_second LOG: from the "time" of steps 10 and N.
steps_per_second() {
  awk -F'"time":' -v last="${iterations}" '
    /"step":10,/ { split($2, a, "}"); t10 = a[1] }
    $0 ~ "\"step\":" last "," && !/event/ { split($2, a, "}"); tn = a[1] }
    END { printf "%.4f", (last - 10) / (tn - t10) }' "$1"
}

# run NAME PROCESSES THREADS BATCH APP ARGS...: prints images/s.
run() {
  local name="$1" processes="$2" per_thread="$3" batch="$4" app="$5"
  shift 5
  local out="${scratch}/${name}"
  local command=("${apps}/${app}" --data "${data}" --out "${out}" --weights "${weights}" --iterations "${iterations}"
                 --batch-size "${batch}" --log-every 10 --checkpoint-every 100000 --no-val "$@")
  if ((processes == 1)); then
    OMP_NUM_THREADS=${per_thread} "${command[@]}" > "${out}.txt" 2>&1
  else
    OMP_NUM_THREADS=${per_thread} "${mpirun[@]}" -np "${processes}" "${command[@]}" > "${out}.txt" 2>&1
  fi
  awk -v s="$(steps_per_second "${out}/log.jsonl")" -v b="${batch}" 'BEGIN { printf "%.2f", s * b }'
}

probe
echo
echo "| model (global batch) | 1 process x ${threads} threads, images/s | ${threads} processes x 1 thread, images/s | processes / threads |"
echo "|---|---|---|---|"
for model in maskrcnn prm; do
  if [[ "${model}" == maskrcnn ]]; then
    app=train_maskrcnn; batch=4; extra=()
  else
    app=train_prm; batch=16; extra=(--output-stride 8 --backbone-lr 0.1 --peak-fraction 0.5)
  fi
  threaded=$(run "${model}-threads" 1 "${threads}" "${batch}" "${app}" "${extra[@]}")
  ranked=$(run "${model}-ranks" "${threads}" 1 "${batch}" "${app}" "${extra[@]}")
  awk -v m="${app}" -v b="${batch}" -v t="${threaded}" -v r="${ranked}" \
    'BEGIN { printf "| %s (%d) | %s | %s | %.2f |\n", m, b, t, r, r / t }'
done
echo
OMP_NUM_THREADS=1 "${mpirun[@]}" -np "${threads}" "${apps}/wise_bench_allreduce"
echo
probe
