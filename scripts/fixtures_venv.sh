#!/bin/bash
# Creates .venv-fixtures: Debian's /usr/bin/python3 (which has torch and torchvision) plus
# pycocotools from PyPI, which the `masks` fixture family compares mask IoU against
# (pycocotools.mask.iou on RLE-encoded masks). Idempotent: re-running only checks.
#
#   scripts/fixtures_venv.sh
#   .venv-fixtures/bin/python tests/fixtures/generate.py --only masks
#
# --system-site-packages keeps torch/torchvision/numpy visible inside the venv; only
# pycocotools is installed into it. `.venv*` is git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-fixtures
if [ ! -x "$VENV/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
fi
if ! "$VENV/bin/python" -c "import pycocotools.mask" 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet pycocotools
fi
"$VENV/bin/python" -c "import pycocotools, torch, torchvision; print('.venv-fixtures: pycocotools', getattr(pycocotools, '__version__', '?'), 'torch', torch.__version__, 'torchvision', torchvision.__version__)"
