#!/usr/bin/env bash
# The main job: WISE end to end (the paper's pipeline) on the embedded default,
# shapes-v2, on CPU, with the paper's tables as its report.
#
#   scripts/run.sh [--quick | --long] [--config FILE] [--set KEY=N]... [--name NAME | --out DIR]
#                  [--threads N] [--data DIR | --voc ROOT] [--weights FILE [--depth N --width M]]
#                  [--apps DIR]
#
#   1. set-up (Debian packages) and the build of the apps
#   2. the dataset (make_shapes shapes-v2, once; or --data: any folder with
#      annotations/{train,val}.json and images/{train,val}/, e.g. COCO files laid out so;
#      or --voc: a PASCAL VOC 2012 folder, converted to that layout by convert_voc)
#   3. train_prm: the PRM classifier on image-level labels only (WISE Sec. 3.1)
#   4. proposals: selective search on the train images that get pseudo masks, and on val
#   5. pseudo masks (Eq. 1), and PRM's own instances on val (the baseline row)
#   6. train_maskrcnn on the pseudo masks (WISE, Sec. 3.2), and on the ground-truth masks
#      with the same model, initialisation and schedule (the fully supervised upper bound)
#   7. segment: WISE's predictions on val, with and without --refine (Fig. 3), and on the
#      pseudo-masked train images (Table 3); the upper bound's val predictions come from
#      its training run
#   8. evaluate: every row under both protocols (voc, wise), per class, by size, by
#      objects per image
#   9. report: runs/NAME/report.md and report.html (Tables 1-3, Fig. 5, curves, pictures)
#
# Every stage's output is under runs/NAME/ (default runs/wise, runs/wise-quick,
# runs/wise-long); a stage whose inputs, options and program are unchanged is skipped
# (scripts/stages.sh keys them), so an interrupted run continues where it stopped: re-run
# the same command. At the end each stage's time is printed beside its budget.
#
# Presets: the default fits 30 minutes on 2 cores, build included; --long (<= 90 minutes)
# trains longer for better numbers; --quick (<= 5 minutes once built) is a smoke run of
# every stage on a few images (its own small copy of shapes-v2, data/shapes-v2-quick).
# The preset's settings (prm_iterations, prm_batch, pseudo_images, baseline_images,
# maskrcnn_iterations, maskrcnn_val_every) are written with the rest of the run's
# configuration to runs/NAME/config.json; --config FILE reads such a file back (its preset
# and settings) and --set KEY=N overrides one setting (after --config).
# --apps DIR: use the apps already built there (no set-up, no build: the tests' way).
# --weights FILE: the backbone both stages start from (default: the shipped shapes-v2
# ResNet-18 x0.25); an ImageNet ResNet-50 with --depth 50 --width 1 is the paper's.
# WISE_JOBS sets the build's parallelism.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "${root}/scripts/stages.sh"
cd "${root}"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

preset=default
name=""
out=""
apps=""
threads="${OMP_NUM_THREADS:-$(nproc)}"
data_dir=""
voc_root=""
weights=weights/shapes_v2_resnet18_w025_os8.safetensors
model=()
config=""
overrides=()
settings=(prm_iterations prm_batch pseudo_images baseline_images maskrcnn_iterations maskrcnn_val_every)
while (($#)); do
  case "$1" in
    --quick) preset=quick ;;
    --long) preset=long ;;
    --name) name="$2"; shift ;;
    --out) out="$2"; shift ;;
    --apps) apps="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --data) data_dir="$2"; shift ;;
    --voc) voc_root="$2"; shift ;;
    --depth) model+=(--depth "$2"); shift ;;
    --width) model+=(--width "$2"); shift ;;
    --weights) weights="$2"; shift ;;
    --config) config="$2"; shift ;;
    --set) overrides+=("$2"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
  shift
done
[[ -f "${weights}" ]] || { echo "run.sh: --weights ${weights}: no such file" >&2; exit 2; }
[[ -z "${data_dir}" || -z "${voc_root}" ]] || { echo "run.sh: give --data or --voc, not both" >&2; exit 2; }
[[ "${threads}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --threads must be a positive integer, got ${threads}" >&2; exit 2; }
export OMP_NUM_THREADS="${threads}"

# config.json as run.sh writes it: one "key": value per line; preset and settings read.
config_settings=()
if [[ -n "${config}" ]]; then
  [[ -f "${config}" ]] || { echo "run.sh: --config ${config}: no such file" >&2; exit 2; }
  while IFS= read -r line; do
    [[ "${line}" =~ ^[[:space:]]*[{}][[:space:]]*$ ]] && continue
    if [[ "${line}" =~ ^[[:space:]]*\"([a-z_]+)\":[[:space:]]*\"?([^\",]*)\"?,?[[:space:]]*$ ]]; then
      key="${BASH_REMATCH[1]}" value="${BASH_REMATCH[2]}"
      if [[ "${key}" == preset ]]; then
        [[ "${value}" =~ ^(quick|default|long)$ ]] || { echo "run.sh: ${config}: preset must be quick, default or long, got ${value}" >&2; exit 2; }
        preset="${value}"
      elif [[ " ${settings[*]} " == *" ${key} "* ]]; then
        config_settings+=("${key}=${value}")
      fi  # the other keys record the run (data, weights, threads, ...): give them as options
    else
      echo "run.sh: ${config}: cannot read the line \"${line}\" (expected \"key\": value, as run.sh writes it)" >&2
      exit 2
    fi
  done < "${config}"
fi

# The presets: what each stage does. Budgets in seconds (issue 24's per stage).
case "${preset}" in
  quick)
    prm_iterations=60; prm_batch=8; pseudo_images=24; baseline_images=6
    maskrcnn_iterations=60; maskrcnn_val_every=0
    budget_prm=60; budget_baseline=30; budget_proposals=30; budget_pseudo=30; budget_maskrcnn=60; budget_segment=30
    ;;
  default)
    prm_iterations=500; prm_batch=16; pseudo_images=300; baseline_images=40
    maskrcnn_iterations=550; maskrcnn_val_every=275
    budget_prm=320; budget_baseline=100; budget_proposals=120; budget_pseudo=60; budget_maskrcnn=420; budget_segment=45
    ;;
  long)
    prm_iterations=1000; prm_batch=16; pseudo_images=1000; baseline_images=500
    maskrcnn_iterations=3000; maskrcnn_val_every=1000
    budget_prm=600; budget_baseline=900; budget_proposals=420; budget_pseudo=180; budget_maskrcnn=1800; budget_segment=120
    ;;
esac
for assignment in "${config_settings[@]}" "${overrides[@]}"; do
  key="${assignment%%=*}" value="${assignment#*=}"
  [[ " ${settings[*]} " == *" ${key} "* ]] || { echo "run.sh: --set ${assignment}: the settings are ${settings[*]}" >&2; exit 2; }
  [[ "${value}" =~ ^[0-9]+$ ]] || { echo "run.sh: --set ${assignment}: expected a whole number" >&2; exit 2; }
  printf -v "${key}" '%s' "${value}"
done
case "${preset}" in
  default) run_dir="runs/${name:-wise}" ;;
  *) run_dir="runs/${name:-wise-${preset}}" ;;
esac
[[ -n "${out}" ]] && run_dir="${out}"
mkdir -p "${run_dir}"
echo "run.sh: preset ${preset}, ${threads} thread(s), outputs in ${run_dir}/"
{
  echo "{"
  printf '  "preset": "%s",\n' "${preset}"
  for key in "${settings[@]}"; do printf '  "%s": %s,\n' "${key}" "${!key}"; done
  printf '  "data": "%s",\n  "voc": "%s",\n  "weights": "%s",\n  "model": "%s",\n  "threads": %s\n' \
    "${data_dir}" "${voc_root}" "${weights}" "${model[*]}" "${threads}"
  echo "}"
} > "${run_dir}/config.json"

stage_start_all=${SECONDS}
if [[ -z "${apps}" ]]; then
  apps=build/cpu/apps
  bash scripts/setup.sh
  configure_cpu build/cpu
  stage build 240 build/cpu --always -- \
    cmake --build build/cpu -j "${jobs}" --target make_shapes convert_voc train_prm make_proposals train_maskrcnn segment \
      evaluate report
fi

# A folder's files as paths, sizes and modification times: a stage's key then covers a
# dataset given by the user without hashing every image.
listing() { find -L "$1" -type f -printf '%P %s %T@\n' | LC_ALL=C sort; }
mkdir -p "${run_dir}/stages"
if [[ -n "${voc_root}" ]]; then
  [[ -d "${voc_root}/ImageSets/Segmentation" ]] || { echo "run.sh: --voc ${voc_root}: no ImageSets/Segmentation" >&2; exit 2; }
  data_dir="${run_dir}/data"
  listing "${voc_root}" > "${run_dir}/stages/voc-files.txt"
  stage data 120 "${data_dir}/annotations/val.json" --inputs "${run_dir}/stages/voc-files.txt" -- \
    "${apps}/convert_voc" --voc "${voc_root}" --out "${data_dir}"
  data_stage=data
elif [[ -z "${data_dir}" ]]; then
  counts=()
  data_dir=data/shapes-v2
  if [[ "${preset}" == quick ]]; then
    data_dir=data/shapes-v2-quick
    counts=(--count-train 400 --count-val 48)
  fi
  # shapes_config.json is written last: its presence marks the set complete.
  stage data 60 "${data_dir}/shapes_config.json" --inputs data/shapes/configs/shapes-v2.json -- \
    "${apps}/make_shapes" --config shapes-v2 --out "${data_dir}" "${counts[@]}"
  data_stage=data
else
  for required in annotations/train.json annotations/val.json images/train images/val; do
    [[ -e "${data_dir}/${required}" ]] || { echo "run.sh: --data ${data_dir}: no ${required}" >&2; exit 2; }
  done
  # The "data" stage only records what the folder holds: changed files re-run what follows.
  listing "${data_dir}" > "${run_dir}/stages/data-files.txt"
  stage data 10 "${run_dir}/stages/data-files.current" --inputs "${run_dir}/stages/data-files.txt" -- \
    cp "${run_dir}/stages/data-files.txt" "${run_dir}/stages/data-files.current"
  data_stage=data
fi
train_json="${data_dir}/annotations/train.json"
val_json="${data_dir}/annotations/val.json"

# 3. PRM (the recipe of README's PRM section: output stride 8, the shipped body).
prm=(--data "${data_dir}" --out "${run_dir}/prm" "${model[@]}" --output-stride 8 --weights "${weights}" --backbone-lr 0.1
     --iterations "${prm_iterations}" --batch-size "${prm_batch}" --peak-fraction 0.5)
stage prm "${budget_prm}" "${run_dir}/prm" --after "${data_stage}" --inputs "${weights}" --resumable -- \
  "${apps}/train_prm" "${prm[@]}" --no-val

# 4. Proposals: selective search's cache, shared by the pseudo masks, the baseline and --refine.
proposals="${run_dir}/proposals"
stage proposals "${budget_proposals}" "${proposals}" --after "${data_stage}" -- bash -c "
  ${apps}/make_proposals --annotations ${train_json} --images ${data_dir}/images/train --out ${proposals} \
    --limit ${pseudo_images} &&
  ${apps}/make_proposals --annotations ${val_json} --images ${data_dir}/images/val --out ${proposals}"

# 5. Pseudo masks (the released code's best-objectness pick, weighted by the class map's
# support, NMS 0.3: README's recipe) and a Figure-1 panel; then PRM's own instances on
# the first val images (the baseline row: a backward pass per peak, the slowest per image).
stage pseudo "${budget_pseudo}" "${run_dir}/prm/pseudo_masks-best.json" --after "prm proposals" --inputs "${weights}" -- \
  "${apps}/train_prm" "${prm[@]}" --resume --no-val --pseudo-masks --pseudo-limit "${pseudo_images}" \
    --pseudo-weighting class_map --selection best --pseudo-nms 0.3 --proposal-cache "${proposals}" --figures 1
stage prm-baseline "${budget_baseline}" "${run_dir}/prm/prm_baseline-val.json" --after "prm proposals" \
  --inputs "${weights}" -- \
  "${apps}/train_prm" "${prm[@]}" --resume --prm-baseline --prm-baseline-limit "${baseline_images}" \
    --proposal-cache "${proposals}"

# 6. Mask R-CNN on the pseudo masks (WISE) and on the ground truth (the upper bound).
maskrcnn=(--data "${data_dir}" "${model[@]}" --weights "${weights}" --iterations "${maskrcnn_iterations}"
          --val-limit 100)
if ((maskrcnn_val_every > 0)); then maskrcnn+=(--val-every "${maskrcnn_val_every}"); fi
# Each ends with its val detections (detections-val.json: WISE's unrefined row, and the
# upper bound's) and both protocols' tables in its log.
stage maskrcnn-wise "${budget_maskrcnn}" "${run_dir}/maskrcnn-wise" --after pseudo --inputs "${weights}" --resumable -- \
  "${apps}/train_maskrcnn" "${maskrcnn[@]}" --out "${run_dir}/maskrcnn-wise" \
    --train-annotations "${run_dir}/prm/pseudo_masks-best.json"
stage maskrcnn-supervised "${budget_maskrcnn}" "${run_dir}/maskrcnn-supervised" --after "${data_stage}" \
  --inputs "${weights}" --resumable -- \
  "${apps}/train_maskrcnn" "${maskrcnn[@]}" --out "${run_dir}/maskrcnn-supervised"

# 7. Predictions: WISE's val detections (its training's final validation wrote them)
# refined (Fig. 3) and drawn, and WISE on the pseudo-masked train images (Table 3).
stage segment "${budget_segment}" "${run_dir}/segment-train/detections.json" \
  --after "maskrcnn-wise proposals" -- bash -c "
  ${apps}/segment --detections ${run_dir}/maskrcnn-wise/detections-val.json --out ${run_dir}/segment-val \
    --annotations ${val_json} --images ${data_dir}/images/val --refine ${proposals} &&
  ${apps}/segment --model ${run_dir}/maskrcnn-wise --out ${run_dir}/segment-train --annotations ${train_json} \
    --images ${data_dir}/images/train --limit ${pseudo_images} --no-pictures"

# 8. Every row of Tables 1 and 3 under both protocols: runs/NAME/eval/<row>-<protocol>.json.
# row: results file, ground truth, images (0: all of them)
rows=(
  "prm-baseline ${run_dir}/prm/prm_baseline-val.json ${val_json} ${baseline_images}"
  "wise ${run_dir}/segment-val/detections.json ${val_json} 0"
  "wise-refine ${run_dir}/segment-val/detections-refined.json ${val_json} 0"
  "supervised ${run_dir}/maskrcnn-supervised/detections-val.json ${val_json} 0"
  "pseudo-masks-train ${run_dir}/prm/pseudo_masks-best-results.json ${train_json} ${pseudo_images}"
  "wise-train ${run_dir}/segment-train/detections.json ${train_json} ${pseudo_images}"
)
evaluations="${apps}/evaluate --help > /dev/null"
for row in "${rows[@]}"; do
  read -r label results ground_truth images <<< "${row}"
  for protocol in voc wise; do
    evaluations+=" && ${apps}/evaluate --ground-truth ${ground_truth} --results ${results}"
    if ((images > 0)); then evaluations+=" --limit ${images}"; fi
    # The size and objects-per-image tables (Figure 5) are the val rows' under voc only.
    if [[ "${protocol}" == wise || "${ground_truth}" == "${train_json}" ]]; then evaluations+=" --no-breakdowns"; fi
    evaluations+=" --protocol ${protocol} --json ${run_dir}/eval/${label}-${protocol}.json > /dev/null"
  done
done
stage evaluate 15 "${run_dir}/eval/wise-train-wise.json" --after "pseudo prm-baseline segment maskrcnn-supervised" -- \
  bash -c "mkdir -p ${run_dir}/eval && ${evaluations}"

# 9. The report: every number from this run.
stage report 10 "${run_dir}/report.md" --after "evaluate" -- \
  "${apps}/report" --run "${run_dir}" --preset "${preset}" --commit "$(git rev-parse --short HEAD 2> /dev/null || echo unknown)"

stage_summary
echo "run.sh: $((SECONDS - stage_start_all)) s in all; the report: ${run_dir}/report.md and ${run_dir}/report.html"
