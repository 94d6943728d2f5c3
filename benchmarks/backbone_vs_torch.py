#!/usr/bin/python3
"""wise's ResNet-50 and ResNet-50-FPN backbones against torchvision's, measured in one run.

    scripts/bench.sh backbone                 # builds, then runs this
    /usr/bin/python3 benchmarks/backbone_vs_torch.py --binary build/cpu/apps/wise_bench_backbone

Every measurement is a FRESH PROCESS (wise_bench_backbone, or this script re-run as a torch
worker) so that its peak resident memory (VmHWM of /proc/self/status, which starts afresh at
exec, unlike getrusage's ru_maxrss) belongs to that one case:
the process builds the network (random torchvision initialisation, the same on both sides
in distribution), runs one warm-up call, then calls until >= 0.1 s have passed (>= 2
calls), and prints "<seconds per call> <calls> <peak RSS KiB>". The two sides alternate
repeat by repeat (the order flips every repeat); the table shows medians over the repeats
and the spread (max-min)/median of the times. Threads are set explicitly on both sides
(OMP_NUM_THREADS and torch.set_num_threads).

Cases (issue 15): ResNet-50 forward at 224x224, batch 1 and 8 (torchvision resnet50() in
eval mode under no_grad); ResNet-50-FPN (torchvision resnet_fpn_backbone('resnet50',
trainable_layers=3): FrozenBatchNorm2d, 256 channels, P2-P6) forward and forward+backward at
512x512 and 800x1067, batch 1. forward+backward: the loss is the sum of every P level's sum,
the parameters of layer2..layer4 and the FPN take gradients (trainable_layers=3), no image
gradient. Targets: forward <= 0.8x torchvision's time, forward+backward <= 0.9x, peak memory
<= torchvision's. The peak memory includes each runtime's own libraries (libtorch's are
large); the table also prints each side's baseline (a process that only loads its runtime),
so the difference attributable to the networks can be read off too.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_common import cpu_model, peak_rss_kib, run_case, summarize  # noqa: E402

# (name, network, height, width, batch, mode)
CASES = [
    ("resnet50 forward 224x224 b1", "resnet50", 224, 224, 1, "forward"),
    ("resnet50 forward 224x224 b8", "resnet50", 224, 224, 8, "forward"),
    ("resnet50_fpn forward 512x512", "resnet50_fpn", 512, 512, 1, "forward"),
    ("resnet50_fpn forward+backward 512x512", "resnet50_fpn", 512, 512, 1, "train"),
    ("resnet50_fpn forward 800x1067", "resnet50_fpn", 800, 1067, 1, "forward"),
    ("resnet50_fpn forward+backward 800x1067", "resnet50_fpn", 800, 1067, 1, "train"),
]
TARGET = {"forward": 0.8, "train": 0.9}


def torch_worker(network, height, width, batch, mode, threads):
    """Runs one case in this (fresh) process and prints seconds, calls, peak RSS KiB."""
    import torch
    import torchvision
    from torchvision.models.detection.backbone_utils import resnet_fpn_backbone

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if network == "baseline":  # torch and torchvision imported, nothing built
        print(0.0, 0, peak_rss_kib())
        return
    if network == "sgemm":  # the machine's probe
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        mode = "probe"
    elif network == "resnet50":
        model = torchvision.models.resnet50().eval()
    else:
        model = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3)
    if mode == "probe":
        def run():
            torch.mm(a, b)
    elif mode == "forward":
        images = torch.randn(batch, 3, height, width)
        model.eval()

        def run():
            with torch.no_grad():
                model(images)
    else:
        images = torch.randn(batch, 3, height, width)
        model.train()

        def run():
            model.zero_grad(set_to_none=False)
            outputs = model(images)
            loss = sum(p.sum() for p in outputs.values())
            loss.backward()
    run()  # warm-up
    calls, start = 0, time.perf_counter()
    while True:
        run()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= 0.1 and calls >= 2:
            break
    print(elapsed / calls, calls, peak_rss_kib())


def run_process(command, env):
    return run_case(command, env)[:3]


def probe(binary, threads):
    """GFLOP/s of one 1024^3 sgemm, wise (oneDNN) and torch, each in a fresh process."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    flops = 2 * 1024 ** 3 / 1e9
    wise = run_process([binary, "--network", "sgemm"], env)[0]
    torch = run_process([sys.executable, os.path.abspath(__file__), "--worker", "sgemm", "0", "0", "0", "probe",
                         str(threads)], env)[0]
    return f"sgemm 1024^3 probe: wise {flops / wise:.1f} GFLOP/s, torch {flops / torch:.1f} GFLOP/s"


def measure(binary, case, threads, repeats):
    _, network, height, width, batch, mode = case
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    wise_cmd = [binary, "--network", network, "--height", str(height), "--width", str(width),
                "--batch", str(batch), "--mode", mode]
    torch_cmd = [sys.executable, os.path.abspath(__file__), "--worker", network, str(height), str(width),
                 str(batch), mode, str(threads)]
    wise, torch = [], []
    for repeat in range(repeats):
        order = [(wise_cmd, wise), (torch_cmd, torch)]
        if repeat % 2:
            order.reverse()
        for command, samples in order:
            samples.append(run_process(command, env))
    return wise, torch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="build/cpu/apps/wise_bench_backbone")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--worker", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        network, height, width, batch, mode, threads = args.worker
        torch_worker(network, int(height), int(width), int(batch), mode, int(threads))
        return

    # torch is imported by the workers only: this process stays small.
    versions = subprocess.run([sys.executable, "-c", "import torch, torchvision; "
                               "print(torchvision.__version__, torch.__version__)"],
                              capture_output=True, text=True).stdout.split()
    print(f"# Backbones: wise vs torchvision {versions[0]} (torch {versions[1]})")
    print(f"CPU: {cpu_model()}; threads {args.threads}; {args.repeats} alternating repeats, "
          f"each a fresh process; {time.strftime('%Y-%m-%d %H:%M')}")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    wise_base = run_process([args.binary, "--network", "baseline"], env)[2]
    torch_base = run_process([sys.executable, os.path.abspath(__file__), "--worker", "baseline", "0", "0", "0",
                              "forward", "1"], env)[2]
    print(f"Baseline peak RSS (runtime only): wise {wise_base / 1024:.0f} MiB, torch {torch_base / 1024:.0f} MiB\n")
    missed = []
    for threads in [int(t) for t in args.threads.split(",")]:
        print(f"## {threads} thread(s)\n\n{probe(args.binary, threads)} (before)\n")
        print("| case | wise ms (spread) | torch ms (spread) | wise/torch time | target | "
              "wise peak MiB | torch peak MiB | wise/torch memory |")
        print("|---|---|---|---|---|---|---|---|")
        for case in CASES:
            if args.only and args.only not in case[0]:
                continue
            wise, torch_samples = measure(args.binary, case, threads, args.repeats)
            w_time, w_spread = summarize([s[0] for s in wise])
            t_time, t_spread = summarize([s[0] for s in torch_samples])
            w_rss = statistics.median(s[2] for s in wise) / 1024
            t_rss = statistics.median(s[2] for s in torch_samples) / 1024
            ratio, target = w_time / t_time, TARGET[case[5]]
            met = ratio <= target and w_rss <= t_rss
            if not met:
                missed.append(f"{case[0]} @{threads}t (time {ratio:.2f} vs {target}, memory {w_rss / t_rss:.2f})")
            print(f"| {case[0]} | {w_time * 1e3:.1f} ({w_spread:.0%}) | {t_time * 1e3:.1f} ({t_spread:.0%}) | "
                  f"{ratio:.2f} | <= {target} {'met' if ratio <= target else 'MISSED'} | {w_rss:.0f} | "
                  f"{t_rss:.0f} | {w_rss / t_rss:.2f} |", flush=True)
        print(f"\n{probe(args.binary, threads)} (after; a big drop from before means the run was disturbed)\n")
    print("## Targets (issue 15)")
    print("- forward <= 0.8x, forward+backward <= 0.9x torchvision's time, peak memory <= torchvision's: " +
          ("met everywhere" if not missed else "NOT met: " + "; ".join(missed)))


if __name__ == "__main__":
    main()
