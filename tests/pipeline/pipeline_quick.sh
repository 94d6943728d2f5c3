#!/usr/bin/env bash
# ctest pipeline_quick: scripts/run.sh --quick on a tiny shapes set with a build's apps,
# given in its PASCAL VOC layout (make_shapes --voc), so that --voc's conversion runs too.
#   pipeline_quick.sh APPS_DIR SCRATCH_DIR
# Checks: the VOC split converts to the same instances as the set's own COCO file, the run
# ends with the stage table, the report (Markdown and HTML) has the paper's tables, the
# HTML embeds its pictures, every evaluation file exists under both protocols, and running
# again from the run's config.json skips every stage as current.
set -euo pipefail
apps="$1"
scratch="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rm -rf "${scratch}"
mkdir -p "${scratch}"
export OMP_NUM_THREADS=2
"${apps}/make_shapes" --config shapes-v2 --count-train 32 --count-val 12 --out "${scratch}/data" --voc > /dev/null

fail() { echo "pipeline_quick: $*" >&2; exit 1; }
bash "${root}/scripts/run.sh" --quick --apps "${apps}" --voc "${scratch}/data" --out "${scratch}/run" \
  > "${scratch}/first.log" 2>&1 || { tail -40 "${scratch}/first.log"; fail "the first run failed"; }
instances() { grep -o '"segmentation"' "$1" | wc -l; }
for split in train val; do
  [[ "$(instances "${scratch}/run/data/annotations/${split}.json")" -eq \
     "$(instances "${scratch}/data/annotations/${split}.json")" ]] || fail "convert_voc's ${split} instances differ from the COCO file's"
done
grep -q "^total " "${scratch}/first.log" || fail "no stage table at the end"
for row in prm-baseline wise wise-refine supervised pseudo-masks-train wise-train; do
  for protocol in voc wise; do
    [[ -s "${scratch}/run/eval/${row}-${protocol}.json" ]] || fail "no eval/${row}-${protocol}.json"
  done
done
report="${scratch}/run/report.md"
for heading in "## Table 1" "## Table 2" "## Table 3" "## Figure 5" "## Goals" "## Stage times" "| WISE + Refine |"; do
  grep -qF "${heading}" "${report}" || fail "report.md lacks \"${heading}\""
done
html="${scratch}/run/report.html"
grep -q "^<!DOCTYPE html>" "${html}" || fail "report.html does not start as HTML"
grep -q "</html>" "${html}" || fail "report.html is cut short"
[[ "$(grep -o 'data:image/png;base64,' "${html}" | wc -l)" -ge 2 ]] || fail "report.html embeds fewer than 2 pictures"

# The second run from the first's config.json (and a --set to the value it holds).
grep -q '"preset": "quick"' "${scratch}/run/config.json" || fail "config.json does not name the preset"
cp "${scratch}/run/config.json" "${scratch}/config.json"
bash "${root}/scripts/run.sh" --config "${scratch}/config.json" --set maskrcnn_val_every=0 --apps "${apps}" \
  --voc "${scratch}/data" --out "${scratch}/run" > "${scratch}/second.log" 2>&1 || { tail -40 "${scratch}/second.log"; fail "the second run failed"; }
ran="$(grep -c -- '--- .*: done in' "${scratch}/second.log" || true)"
# The report re-runs when the commit moved; everything else must be current.
[[ "${ran}" -le 1 ]] || { grep -- '---' "${scratch}/second.log"; fail "the second run re-ran ${ran} stages"; }
echo "pipeline_quick: every stage ran, the report has its tables, a second run re-ran ${ran} stage(s)"
