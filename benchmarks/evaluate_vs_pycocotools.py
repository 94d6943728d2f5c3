#!/usr/bin/env python3
"""`evaluate` (wise's mask mAP) against pycocotools' COCOeval on a large results file:
wall time and peak memory of each, as separate processes, measured in one run.

    scripts/bench.sh evaluate                   # builds, makes a venv with pycocotools, runs this
    <python with pycocotools> benchmarks/evaluate_vs_pycocotools.py --binary build/cpu/apps/evaluate

The case is issue 22's: many predictions in one large image (default 2,000 in one 800 x 600
image, on 30 ground-truth instances of 3 classes), the case that decoded every mask at once
and took 1.09 GB before evaluation decoded in blocks. Ground truth and results are generated
here (ellipses, jittered copies of the ground truth and random ones; pycocotools encodes the
RLE) and written once; then each side runs --repeats times, alternating, and the table shows
the median wall time and peak RSS (the child's ru_maxrss from wait4, so neither side counts
the other's or this script's memory).

Both sides run the same evaluation, COCOeval's segm AP over the 10 IoU thresholds: wise with
`--protocol wise --score-threshold 0 --max-detections 100` (WISE's COCOeval keeps 100 per image
and class), pycocotools with maxDets [1, 10, 100]; the AP at 0.5 each prints is there to show
they scored the same file, not as a parity test (tests/evaluation/ has those).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    from pycocotools import mask as mask_utils
except ImportError as error:  # ctest's smoke run reports 77 as skipped
    print("skipped: %s (scripts/bench.sh evaluate makes .venv-pycocotools)" % error)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import cpu_model  # noqa: E402

PYCOCOTOOLS_RUN = r"""
import sys
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    gt = COCO(sys.argv[1])
    dt = gt.loadRes(sys.argv[2])
    e = COCOeval(gt, dt, iouType="segm")
    e.evaluate(); e.accumulate(); e.summarize()
print("AP50 %.4f" % e.stats[1])
"""


def ellipse(height, width, cy, cx, ry, rx):
    y, x = np.ogrid[:height, :width]
    return (((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1).astype(np.uint8)


def encode(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def make_files(folder, height, width, instances, predictions, seed):
    rng = np.random.default_rng(seed)
    categories = [1, 2, 3]
    shapes, annotations = [], []
    for i in range(instances):
        cy, cx = rng.uniform(0.1, 0.9) * height, rng.uniform(0.1, 0.9) * width
        ry, rx = rng.uniform(10, 80), rng.uniform(10, 80)
        category = categories[i % 3]
        mask = ellipse(height, width, cy, cx, ry, rx)
        shapes.append((cy, cx, ry, rx, category))
        encoded = mask_utils.encode(np.asfortranarray(mask))
        annotations.append({"id": i + 1, "image_id": 1, "category_id": category, "iscrowd": 0,
                            "segmentation": encode(mask), "area": float(mask.sum()),
                            "bbox": [float(v) for v in mask_utils.toBbox(encoded)]})
    gt = {"images": [{"id": 1, "file_name": "large.jpg", "height": height, "width": width}],
          "categories": [{"id": c, "name": "class%d" % c} for c in categories],
          "annotations": annotations}
    results = []
    for j in range(predictions):
        if j % 2 == 0:  # a jittered copy of a ground-truth instance
            cy, cx, ry, rx, category = shapes[j // 2 % instances]
            cy, cx = cy + rng.normal(0, 5), cx + rng.normal(0, 5)
            ry, rx = ry * rng.uniform(0.8, 1.2), rx * rng.uniform(0.8, 1.2)
        else:  # anywhere
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            ry, rx = rng.uniform(5, 60), rng.uniform(5, 60)
            category = categories[j % 3]
        results.append({"image_id": 1, "category_id": category, "score": round(float(rng.uniform(0, 1)), 4),
                        "segmentation": encode(ellipse(height, width, cy, cx, ry, rx))})
    gt_path, results_path = os.path.join(folder, "gt.json"), os.path.join(folder, "results.json")
    with open(gt_path, "w") as f:
        json.dump(gt, f)
    with open(results_path, "w") as f:
        json.dump(results, f)
    return gt_path, results_path


def measured(command):
    """Runs `command` under a tiny wrapper that forks, execs and wait4()s it, so the peak RSS
    is exactly that child's."""
    wrapper = ("import os, sys, time\n"
               "t = time.perf_counter(); pid = os.fork()\n"
               "if pid == 0:\n    os.execvp(sys.argv[1], sys.argv[1:])\n"
               "_, status, usage = os.wait4(pid, 0)\n"
               "sys.stderr.write('MEASURED %f %d %d\\n' % (time.perf_counter() - t, usage.ru_maxrss, status))\n")
    child = subprocess.run([sys.executable, "-c", wrapper] + command, capture_output=True, text=True)
    line = [l for l in child.stderr.splitlines() if l.startswith("MEASURED")]
    if not line:
        raise SystemExit("failed: %s\n%s" % (" ".join(command), child.stderr))
    _, seconds, rss_kb, status = line[-1].split()
    if int(status) != 0:
        raise SystemExit("failed (status %s): %s\n%s\n%s" % (status, " ".join(command), child.stdout, child.stderr))
    return float(seconds), int(rss_kb) / 1024.0, child.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="build/cpu/apps/evaluate")
    parser.add_argument("--height", type=int, default=600)
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--instances", type=int, default=30)
    parser.add_argument("--predictions", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS for wise (pycocotools is single-threaded)")
    args = parser.parse_args()

    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    with tempfile.TemporaryDirectory(prefix="wise_bench_evaluate_") as folder:
        gt, results = make_files(folder, args.height, args.width, args.instances, args.predictions, seed=22)
        size_mb = os.path.getsize(results) / 2**20
        wise_command = [args.binary, "--ground-truth", gt, "--results", results, "--protocol", "wise",
                        "--score-threshold", "0", "--max-detections", "100", "--no-breakdowns"]
        peer_command = [sys.executable, "-c", PYCOCOTOOLS_RUN, gt, results]
        wise_runs, peer_runs = [], []
        for repeat in range(args.repeats):
            order = [(wise_command, wise_runs), (peer_command, peer_runs)]
            for command, runs in order if repeat % 2 == 0 else order[::-1]:
                runs.append(measured(command))
    print("evaluate vs pycocotools COCOeval (segm), %s, wise at %d thread(s)" % (cpu_model(), args.threads))
    print("case: %d predictions in one %d x %d image, %d ground-truth instances, results file %.1f MB; "
          "median of %d runs" % (args.predictions, args.width, args.height, args.instances, size_mb, args.repeats))
    summary = next((l.split() for l in wise_runs[-1][2].splitlines() if l.startswith("all ")), None)
    peer_ap50 = float(peer_runs[-1][2].split()[-1]) * 100
    print("AP50 of the same file: wise %s, pycocotools %.1f" % (summary[5] if summary else "?", peer_ap50))
    print()
    print("| measure | wise | pycocotools | wise / pycocotools |")
    print("|---|---|---|---|")
    for name, index, unit in (("wall time", 0, "s"), ("peak RSS", 1, "MB")):
        w = statistics.median(r[index] for r in wise_runs)
        p = statistics.median(r[index] for r in peer_runs)
        print("| %s | %.2f %s | %.2f %s | %.2f |" % (name, w, unit, p, unit, w / p))


if __name__ == "__main__":
    main()
