#!/usr/bin/env bash
# The main job on the embedded default: set-up, build the CPU backend, generate the
# shapes-v1 dataset (once), then train a ResNet-18 classifier on its image-level
# labels and print the validation table (apps/train_classifier.cpp).
#
# Idempotent: the dataset is generated only when data/shapes-v1 is incomplete, and a
# run directory that already holds checkpoints is resumed (a finished run trains
# nothing more and prints its validation again). Extra arguments go to
# train_classifier (e.g. --iterations 100); WISE_RUN_DIR picks the run directory.
# The runtime tour of earlier versions is still built: build/cpu/apps/wise_demo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "${root}"
bash scripts/setup.sh
configure_cpu build/cpu
cmake --build build/cpu -j "${jobs}" --target make_shapes train_classifier wise_demo

data_dir=data/shapes-v1
if [[ ! -f "${data_dir}/shapes_config.json" ]]; then  # written last: its presence marks the set complete
  build/cpu/apps/make_shapes --config shapes-v1 --out "${data_dir}"
fi

run_dir="${WISE_RUN_DIR:-runs/classifier}"
resume=()
if compgen -G "${run_dir}/checkpoint-*.safetensors" > /dev/null; then
  echo "run.sh: ${run_dir} holds checkpoints: resuming"
  resume=(--resume)
fi
build/cpu/apps/train_classifier --data "${data_dir}" --out "${run_dir}" "${resume[@]}" "$@"
echo "run.sh: dataset in ${data_dir}/, checkpoints and log.jsonl in ${run_dir}/"
