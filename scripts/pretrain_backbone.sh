#!/usr/bin/env bash
# The object-centric backbone that ships as weights/shapes_v2_resnet18_w025_os8.safetensors
# (weights/README.md), regenerated: WISE starts its PRM from an ImageNet ResNet; we have
# none, so three rounds of a global-average-pooling multi-label classifier on shapes-v2's
# image-level labels (no masks, no boxes) train the ResNet-18 x0.25 body that PRM starts
# from (models/PRM.md has the measurements behind the recipe):
#   round 1  output stride 16, from scratch
#   round 2  output stride 16, from round 1's body (a fresh head and warm-up)
#   round 3  output stride 8 (layer3 and layer4 dilated, PRM's stride), from round 2's body
# then the body stored as F16 (apps/convert_weights.cpp), half the size. Each round is
# 3,000 Adam steps of 16 images, ~42 minutes in all on 2 cores.
#
#   scripts/pretrain_backbone.sh [OUT_DIR]        (default runs/pretrain)
#
# At the default settings the result must equal the shipped file bit for bit (checked at
# the end: exit 1 if not). Runs at 2 OpenMP threads, the setting it was made with. A round
# whose body exists is skipped and one with checkpoints resumes, so an interrupted run
# continues. Environment: WISE_APPS, a folder with built train_classifier, make_shapes and
# convert_weights (default: set up and build build/cpu); WISE_PRETRAIN_DATA (default
# data/shapes-v2, generated when incomplete); WISE_PRETRAIN_ITERATIONS (default 3000) and
# WISE_PRETRAIN_TRAIN_IMAGES (default: the configuration's 8,000) for a smoke run (tests/
# CMakeLists.txt runs one), which then skips the comparison.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "${root}"

out="${1:-runs/pretrain}"
data="${WISE_PRETRAIN_DATA:-data/shapes-v2}"
iterations="${WISE_PRETRAIN_ITERATIONS:-3000}"
train_images="${WISE_PRETRAIN_TRAIN_IMAGES:-}"
shipped=weights/shapes_v2_resnet18_w025_os8.safetensors

apps="${WISE_APPS:-}"
if [[ -z "${apps}" ]]; then
  bash scripts/setup.sh
  configure_cpu build/cpu
  cmake --build build/cpu -j "${jobs}" --target make_shapes train_classifier convert_weights
  apps=build/cpu/apps
fi

if [[ ! -f "${data}/shapes_config.json" ]]; then  # written last: its presence marks the set complete
  counts=()
  [[ -n "${train_images}" ]] && counts=(--count-train "${train_images}" --count-val 8)
  "${apps}/make_shapes" --config shapes-v2 --out "${data}" "${counts[@]}"
fi

mkdir -p "${out}"
# round N STRIDE [WEIGHTS]: one classifier round; its body is ${out}/roundN-body.safetensors.
round() {
  local n="$1" stride="$2" weights=("${@:3}") run="${out}/round$1"
  local body="${out}/round$1-body.safetensors"
  if [[ -f "${body}" ]]; then
    echo "pretrain_backbone: ${body} exists: round ${n} skipped"
    return
  fi
  local resume=()
  compgen -G "${run}/checkpoint-*.safetensors" > /dev/null && resume=(--resume)
  echo "pretrain_backbone: round ${n} (output stride ${stride}, ${iterations} steps) into ${run}"
  "${apps}/train_classifier" --data "${data}" --out "${run}" --output-stride "${stride}" "${weights[@]}" \
    --optimizer adam --lr 1e-3 --weight-decay 0 --iterations "${iterations}" --warmup 100 \
    --export-body "${body}" --threads 2 "${resume[@]}"
}
round 1 16
round 2 16 --weights "${out}/round1-body.safetensors"
round 3 8 --weights "${out}/round2-body.safetensors"

result="${out}/shapes_v2_resnet18_w025_os8.safetensors"
"${apps}/convert_weights" --in "${out}/round3-body.safetensors" --out "${result}" --dtype f16
sha256sum "${result}"
if [[ "${iterations}" == 3000 && -z "${train_images}" ]]; then
  if cmp -s "${result}" "${shipped}"; then
    echo "pretrain_backbone: identical to ${shipped}"
  else
    echo "pretrain_backbone: ${result} differs from ${shipped}" >&2
    exit 1
  fi
fi
