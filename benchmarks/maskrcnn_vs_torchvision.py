#!/usr/bin/python3
"""wise's Mask R-CNN (ResNet-50-FPN) against torchvision's maskrcnn_resnet50_fpn, measured in one run.

    scripts/bench.sh maskrcnn                 # builds, then runs this
    /usr/bin/python3 benchmarks/maskrcnn_vs_torchvision.py --binary build/cpu/apps/wise_bench_maskrcnn

Every measurement is a FRESH PROCESS (wise_bench_maskrcnn, or this script re-run as a torch
worker), so that its peak resident memory (VmHWM) belongs to that one case. The process
builds the network (random initialisation, each runtime its own), makes the image and
targets, runs one warm-up call, then calls until >= 0.1 s have passed (>= 2 calls), and
prints a line "stages ..." (seconds per call of each stage) and "<seconds per call> <calls>
<peak RSS KiB>". The two sides alternate repeat by repeat (the order flips every repeat);
the table shows medians and the spread (max-min)/median of the times.

The network on both sides: ResNet-50-FPN (FrozenBatchNorm2d, trainable_layers=3, 256
channels, P2-P6; torchvision's resnet_fpn_backbone), Mask R-CNN's defaults (RPN 2000/2000
proposals in training, 1000/1000 at test; 512 RoIs per image, 25 % positive; box score
0.05, NMS 0.5, 100 detections), 91 classes. The transform neither resizes (min_size and
max_size are the image's own sides) nor normalises (mean 0, std 1), so both sides see the
same padded H x W tensor of N(0, 1) pixels. Ground truth: four boxes at fixed fractions of
the image with rectangular masks, labels 1..4.

  train   one iteration: the five losses (WISE Eq. 2), backward, SGD (lr 1e-3, momentum 0.9,
          weight decay 1e-4); torch zeroes the gradients as wise does, every iteration
  infer   eval mode under no_grad; torchvision's side also pastes the masks into the image
          (its postprocess), wise's pastes outside the network (a few ms)

The split: backbone+FPN, RPN, box head (RoI sampling, box RoIAlign, the two FC, predictor,
its losses or detections), mask head (mask RoIAlign, the four convs, the deconvolution,
the predictor, its targets and loss or probabilities), backward, optimizer. torchvision's is
read with forward hooks (backbone, rpn, roi_heads, and the mask branch from
mask_roi_pool's pre-hook to roi_heads' end). Random networks detect different boxes, so
the table prints each side's detection count: the mask head's time scales with it.
Targets (issue 23): training iteration <= 0.67x torchvision's time, inference <= 0.67x,
peak memory <= 0.8x.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_common import cpu_model, peak_rss_kib, run_case, summarize, time_calls  # noqa: E402

# (name, mode, height, width)
CASES = [
    ("train 512x512", "train", 512, 512),
    ("infer 512x512", "infer", 512, 512),
    ("train 800x1067", "train", 800, 1067),
    ("infer 800x1067", "infer", 800, 1067),
]
TARGET_TIME, TARGET_MEMORY = 0.67, 0.8
STAGES = ["backbone", "rpn", "box_head", "mask_head", "backward", "optimizer"]


def targets_of(torch, height, width):
    """The four ground-truth boxes of wise_bench_maskrcnn, with their rectangular masks."""
    fractions = [(0.05, 0.1, 0.4, 0.5), (0.5, 0.2, 0.9, 0.7), (0.2, 0.55, 0.6, 0.95), (0.65, 0.6, 0.8, 0.8)]
    boxes, masks = [], torch.zeros(4, height, width, dtype=torch.uint8)
    for g, (fx1, fy1, fx2, fy2) in enumerate(fractions):
        x1, y1, x2, y2 = fx1 * width, fy1 * height, fx2 * width, fy2 * height
        boxes.append([x1, y1, x2, y2])
        masks[g, int(y1):int(y2), int(x1):int(x2)] = 1
    return {"boxes": torch.tensor(boxes), "labels": torch.tensor([1, 2, 3, 4]), "masks": masks}


class StageTimer:
    """Seconds per stage of torchvision's MaskRCNN, from forward hooks."""

    def __init__(self, model):
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.start = {}

        def begin(name):
            return lambda module, inputs: self.start.__setitem__(name, time.perf_counter())

        def end(name):
            return lambda module, inputs, outputs: self.add(name, time.perf_counter() - self.start[name])

        model.backbone.register_forward_pre_hook(begin("backbone"))
        model.backbone.register_forward_hook(end("backbone"))
        model.rpn.register_forward_pre_hook(begin("rpn"))
        model.rpn.register_forward_hook(end("rpn"))
        model.roi_heads.register_forward_pre_hook(begin("roi_heads"))
        model.roi_heads.mask_roi_pool.register_forward_pre_hook(begin("mask_head"))
        model.roi_heads.register_forward_hook(self.roi_heads_done)

    def add(self, name, seconds):
        self.seconds[name] += seconds

    def roi_heads_done(self, module, inputs, outputs):
        now = time.perf_counter()
        mask_start = self.start.pop("mask_head", now)  # no mask branch without detections
        self.add("box_head", mask_start - self.start["roi_heads"])
        self.add("mask_head", now - mask_start)


def torch_worker(mode, height, width, threads):
    """Runs one case in this (fresh) process and prints the stages and seconds, calls, peak RSS KiB."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if mode == "baseline":  # torch and torchvision imported, nothing built
        import torchvision  # noqa: F401
        print(0.0, 0, peak_rss_kib())
        return
    if mode == "sgemm":  # the machine's probe
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)

        def run():
            torch.mm(a, b)
        timer = None
    else:
        from torchvision.models.detection import MaskRCNN
        from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
        backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3)
        model = MaskRCNN(backbone, num_classes=91, min_size=min(height, width), max_size=max(height, width),
                         image_mean=[0.0, 0.0, 0.0], image_std=[1.0, 1.0, 1.0])
        timer = StageTimer(model)
        images = [torch.randn(3, height, width)]
        detections = [0]
        if mode == "infer":
            model.eval()

            def run():
                with torch.no_grad():
                    detections[0] = len(model(images)[0]["scores"])
        else:
            model.train()
            targets = [targets_of(torch, height, width)]
            parameters = [p for p in model.parameters() if p.requires_grad]
            sgd = torch.optim.SGD(parameters, lr=1e-3, momentum=0.9, weight_decay=1e-4)

            def run():
                sgd.zero_grad(set_to_none=False)
                losses = model(images, targets)
                start = time.perf_counter()
                sum(losses.values()).backward()
                middle = time.perf_counter()
                sgd.step()
                timer.add("backward", middle - start)
                timer.add("optimizer", time.perf_counter() - middle)
    counted = [0]

    def counted_run():
        run()
        counted[0] += 1

    seconds = time_calls(counted_run)  # its warm-up call is in the stage times too, as on wise's side
    if timer:
        if mode == "infer":
            print("detections", detections[0])
        print("stages", *(timer.seconds[s] / counted[0] for s in STAGES))
    print(seconds, counted[0] - 1, peak_rss_kib())


def run_process(command, env):
    """(seconds, calls, peak RSS KiB, stage seconds or None, detections or None) of one fresh process."""
    seconds, calls, rss, stdout = run_case(command, env)
    stages, detections = None, None
    for line in stdout.split("\n"):
        if line.startswith("stages "):
            stages = [float(v) for v in line.split()[1:]]
        elif line.startswith("detections "):
            detections = int(line.split()[1])
    return seconds, calls, rss, stages, detections


def commands(binary, mode, height, width, threads):
    height, width = max(height, 32), max(width, 32)  # baseline and probe: sizes unused
    wise = [binary, "--mode", mode, "--height", str(height), "--width", str(width)]
    torch = [sys.executable, os.path.abspath(__file__), "--worker", mode, str(height), str(width), str(threads)]
    return wise, torch


def probe(binary, threads):
    """GFLOP/s of one 1024^3 sgemm, wise (oneDNN) and torch, each in a fresh process."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    flops = 2 * 1024 ** 3 / 1e9
    wise_cmd, torch_cmd = commands(binary, "sgemm", 0, 0, threads)
    wise, torch = run_process(wise_cmd, env)[0], run_process(torch_cmd, env)[0]
    return f"sgemm 1024^3 probe: wise {flops / wise:.1f} GFLOP/s, torch {flops / torch:.1f} GFLOP/s"


def measure(binary, case, threads, repeats):
    _, mode, height, width = case
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    wise_cmd, torch_cmd = commands(binary, mode, height, width, threads)
    wise, torch = [], []
    for repeat in range(repeats):
        order = [(wise_cmd, wise), (torch_cmd, torch)]
        if repeat % 2:
            order.reverse()
        for command, samples in order:
            samples.append(run_process(command, env))
    return wise, torch


def median_stages(samples):
    return [statistics.median(s[3][i] for s in samples) for i in range(len(STAGES))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="build/cpu/apps/wise_bench_maskrcnn")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--size", default="", help="HxW: every case at this size instead (a smoke run)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        mode, height, width, threads = args.worker
        torch_worker(mode, int(height), int(width), int(threads))
        return

    cases = [case for case in CASES if args.only in case[0]]
    if args.size:
        height, width = (int(v) for v in args.size.lower().split("x"))
        cases = [(f"{mode} {height}x{width}", mode, height, width) for mode in ("train", "infer")
                 if args.only in mode]
    versions = subprocess.run([sys.executable, "-c", "import torch, torchvision; "
                               "print(torchvision.__version__, torch.__version__)"],
                              capture_output=True, text=True).stdout.split()
    print(f"# Mask R-CNN R50-FPN: wise vs torchvision {versions[0]} (torch {versions[1]})")
    print(f"CPU: {cpu_model()}; threads {args.threads}; {args.repeats} alternating repeats, "
          f"each a fresh process; {time.strftime('%Y-%m-%d %H:%M')}")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    wise_base = run_process(commands(args.binary, "baseline", 0, 0, 1)[0], env)[2]
    torch_base = run_process(commands(args.binary, "baseline", 0, 0, 1)[1], env)[2]
    print(f"Baseline peak RSS (runtime only): wise {wise_base / 1024:.0f} MiB, torch {torch_base / 1024:.0f} MiB\n")
    missed = []
    for threads in [int(t) for t in args.threads.split(",")]:
        print(f"## {threads} thread(s)\n\n{probe(args.binary, threads)} (before)\n")
        print("| case | wise s (spread) | torch s (spread) | wise/torch time | target | "
              "wise peak MiB | torch peak MiB | wise/torch memory | target |")
        print("|---|---|---|---|---|---|---|---|---|")
        splits = []
        for case in cases:
            wise, torch_samples = measure(args.binary, case, threads, args.repeats)
            w_time, w_spread = summarize([s[0] for s in wise])
            t_time, t_spread = summarize([s[0] for s in torch_samples])
            w_rss = statistics.median(s[2] for s in wise) / 1024
            t_rss = statistics.median(s[2] for s in torch_samples) / 1024
            ratio, memory = w_time / t_time, w_rss / t_rss
            if ratio > TARGET_TIME or memory > TARGET_MEMORY:
                missed.append(f"{case[0]} @{threads}t (time {ratio:.2f}, memory {memory:.2f})")
            print(f"| {case[0]} | {w_time:.2f} ({w_spread:.0%}) | {t_time:.2f} ({t_spread:.0%}) | {ratio:.2f} | "
                  f"<= {TARGET_TIME} {'met' if ratio <= TARGET_TIME else 'MISSED'} | {w_rss:.0f} | {t_rss:.0f} | "
                  f"{memory:.2f} | <= {TARGET_MEMORY} {'met' if memory <= TARGET_MEMORY else 'MISSED'} |", flush=True)
            splits.append((case, median_stages(wise), median_stages(torch_samples),
                           wise[0][4], torch_samples[0][4]))
        print("\nPer stage, seconds per call (wise / torch = ratio):\n")
        print("| case | " + " | ".join(STAGES) + " | detections |")
        print("|---|" + "---|" * (len(STAGES) + 1))
        for case, w_stages, t_stages, w_detections, t_detections in splits:
            cells = [f"{w:.3f} / {t:.3f} = {w / t:.2f}" if t > 0 else f"{w:.3f} / {t:.3f}"
                     for w, t in zip(w_stages, t_stages)]
            counts = f"{w_detections} / {t_detections}" if w_detections is not None else "-"
            print(f"| {case[0]} | " + " | ".join(cells) + f" | {counts} |")
        print(f"\n{probe(args.binary, threads)} (after; a big drop from before means the run was disturbed)\n")
    print("## Targets (issue 23)")
    print(f"- training iteration and inference <= {TARGET_TIME}x torchvision's time, peak memory <= "
          f"{TARGET_MEMORY}x: " + ("met everywhere" if not missed else "NOT met: " + "; ".join(missed)))


if __name__ == "__main__":
    main()
