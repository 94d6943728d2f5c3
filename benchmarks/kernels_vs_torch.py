#!/usr/bin/python3
"""wise's detection kernels against torchvision / PyTorch / pycocotools, measured in one run.

    scripts/bench.sh kernels                    # builds, then runs this
    .venv-fixtures/bin/python benchmarks/kernels_vs_torch.py --binary build/cpu/apps/wise_bench_kernels

(/usr/bin/python3 works too; without pycocotools the mask IoU peer is torch's matmul alone.)

For each thread count, a wise timing server (wise_bench_kernels --serve) and the peer run
in this one process tree, alternating case by case and repeat by repeat (the order flips
every repeat), with a pause between sides. Each measurement is the mean over >= 0.1 s of
calls after a warm-up; the table shows the median of the repeats and the spread
(max-min)/median. Inputs are rebuilt here bitwise as the server builds them (splitmix64 of
seed and index, in double) and, before any timing, the peer's result is compared with the
digest the server returns (count, total, 16 sampled values).

Peers: torchvision.ops.roi_align forward, and its backward through autograd
(torch.autograd.grad on a kept graph); torchvision.ops.nms / batched_nms / box_iou; PRM's
peak stimulation in torch (max-pool index equality, median filter, mean of peaks) forward
+ autograd backward; mask IoU: the faster of pycocotools (RLE encode + iou) and a torch
matmul of the flattened masks; torchvision's paste_masks_in_image (roi_heads) + "> 0.5".
Throughput = items / time, the item named per row.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import cpu_model, summarize, time_calls  # noqa: E402

PAUSE = 0.02  # seconds between switching sides: libgomp threads stop spinning

# (request, item, items) at issue 13's sizes and, for --small, at smoke-test sizes.
FULL = [
    ("roi_align_forward 512 256 7 200 200", "K*C*P*P outputs", 512 * 256 * 49),
    ("roi_align_backward 512 256 7 200 200", "K*C*P*P outputs", 512 * 256 * 49),
    ("roi_align_forward 128 256 14 200 200", "K*C*P*P outputs", 128 * 256 * 196),
    ("roi_align_backward 128 256 14 200 200", "K*C*P*P outputs", 128 * 256 * 196),
    ("nms 1000", "N boxes", 1000), ("nms 5000", "N boxes", 5000), ("nms 20000", "N boxes", 20000),
    ("batched_nms 5000 80", "N boxes", 5000),
    ("box_iou 1000 1000", "N*M box pairs", 10 ** 6),
    ("peak_stimulation 1 20 112 112", "N*C*H*W map pixels", 20 * 112 * 112),
    ("mask_iou 100 100 512 512", "n*m*H*W pixel pairs", 100 * 100 * 512 * 512),
    ("paste_masks 100 28 800 1067", "K*H*W image pixels", 100 * 800 * 1067),
]
SMALL = [
    ("roi_align_forward 16 8 7 20 20", "K*C*P*P outputs", 16 * 8 * 49),
    ("roi_align_backward 16 8 7 20 20", "K*C*P*P outputs", 16 * 8 * 49),
    ("nms 100", "N boxes", 100), ("batched_nms 100 5", "N boxes", 100),
    ("box_iou 50 50", "N*M box pairs", 2500),
    ("peak_stimulation 2 3 16 16", "N*C*H*W map pixels", 2 * 3 * 256),
    ("mask_iou 4 4 32 32", "n*m*H*W pixel pairs", 16 * 1024),
    ("paste_masks 4 28 64 80", "K*H*W image pixels", 4 * 64 * 80),
]


# ---- Inputs: the mirror of apps/bench/kernel_benchmark.cpp's generators ----
def splitmix64(x):
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def uniform(seed, indices):
    with np.errstate(over="ignore"):
        keys = np.uint64(seed) * np.uint64(1 << 32) + np.asarray(indices, dtype=np.uint64)
    return (splitmix64(keys) >> np.uint64(40)).astype(np.float64) / 16777216.0


def make_boxes(n, width, height, seed):
    i = np.arange(n, dtype=np.uint64) * np.uint64(4)
    cx, cy = uniform(seed, i) * width, uniform(seed, i + np.uint64(1)) * height
    w = 16.0 + uniform(seed, i + np.uint64(2)) * (width / 2.0 - 16.0)
    h = 16.0 + uniform(seed, i + np.uint64(3)) * (height / 2.0 - 16.0)
    return np.stack([np.maximum(cx - w / 2.0, 0.0), np.maximum(cy - h / 2.0, 0.0),
                     np.minimum(cx + w / 2.0, width), np.minimum(cy + h / 2.0, height)], 1).astype(np.float32)


def make_uniform(n, seed, low, high):
    return (low + (high - low) * uniform(seed, np.arange(n))).astype(np.float32)


def make_blobs(n, height, width, seed):
    masks = np.zeros((n, height, width), dtype=np.uint8)
    xs, ys = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    for i in range(n):
        u = uniform(seed, np.arange(4 * i, 4 * i + 4))
        cx, cy = (0.25 + 0.5 * u[0]) * width, (0.25 + 0.5 * u[1]) * height
        rx, ry = (0.05 + 0.2 * u[2]) * width, (0.05 + 0.2 * u[3]) * height
        dx, dy = (xs - cx) / rx, (ys - cy) / ry
        masks[i] = (dx[None, :] * dx[None, :] + dy[:, None] * dy[:, None]) <= 1.0
    return masks


def digest(values):
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    samples = [values[j * len(values) // 16] for j in range(16)] if len(values) else []
    return [float(len(values)), float(values.sum())] + [float(v) for v in samples]


class WiseServer:
    def __init__(self, binary, threads, device):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        self.process = subprocess.Popen([binary, "--device", device, "--serve"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)

    def request(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().split()
        if not answer or answer[0] == "error":
            sys.exit(f"wise_bench_kernels: {' '.join(answer[1:]) or 'no answer'} (request: {line})")
        return float(answer[0]), [float(v) for v in answer[2:]]

    def close(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait()


class TorchPeer:
    """Builds each case's peer call once; `measure` times it, `result` gives its digest."""

    def __init__(self, torch, torchvision, device):
        self.torch, self.torchvision, self.device = torch, torchvision, device
        self.cache = {}
        try:
            from pycocotools import mask as coco_mask
            self.coco = coco_mask
        except ImportError:
            self.coco = None

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def time_calls(self, function):
        return time_calls(function, self.sync)

    def tensor(self, array):
        return self.torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def build(self, request):
        """(candidates: {name: function}, digest of the peer's result) for a request."""
        torch, ops = self.torch, self.torchvision.ops
        name, *a = request.split()
        a = [int(v) for v in a]
        if name.startswith("roi_align"):
            K, C, P, H, W = a
            boxes = make_boxes(K, 4.0 * W, 4.0 * H, 11)
            rois = self.tensor(np.concatenate([np.zeros((K, 1), np.float32), boxes], 1))
            x = self.tensor(make_uniform(C * H * W, 12, -1.0, 1.0).reshape(1, C, H, W))
            gy = self.tensor(make_uniform(K * C * P * P, 13, -1.0, 1.0).reshape(K, C, P, P))
            if name == "roi_align_forward":
                def forward():
                    with torch.no_grad():
                        return ops.roi_align(x, rois, (P, P), 0.25, 2, False)
                return {"torchvision": forward}, digest(forward().cpu().numpy())
            x.requires_grad_(True)
            y = ops.roi_align(x, rois, (P, P), 0.25, 2, False)
            backward = lambda: torch.autograd.grad(y, x, gy, retain_graph=True)[0]  # noqa: E731
            return {"torchvision": backward}, digest(backward().cpu().numpy())
        if name in ("nms", "batched_nms"):
            N = a[0]
            boxes = self.tensor(make_boxes(N, 1067.0, 800.0, 21))
            scores = self.tensor(make_uniform(N, 22, 0.0, 1.0))
            if name == "nms":
                function = lambda: ops.nms(boxes, scores, 0.5)  # noqa: E731
            else:
                idxs = self.tensor((uniform(23, np.arange(N)) * a[1]).astype(np.int64))
                function = lambda: ops.batched_nms(boxes, scores, idxs, 0.5)  # noqa: E731
            return {"torchvision": function}, digest(function().cpu().numpy())
        if name == "box_iou":
            b1, b2 = self.tensor(make_boxes(a[0], 1067.0, 800.0, 31)), self.tensor(make_boxes(a[1], 1067.0, 800.0, 32))
            function = lambda: ops.box_iou(b1, b2)  # noqa: E731
            return {"torchvision": function}, digest(function().cpu().numpy())
        if name == "peak_stimulation":
            N, C, H, W = a
            maps = self.tensor(make_uniform(N * C * H * W, 41, -1.0, 1.0).reshape(N, C, H, W)).requires_grad_(True)
            d_scores = self.tensor(make_uniform(N * C, 42, -1.0, 1.0).reshape(N, C))
            F = torch.nn.functional
            element_map = torch.arange((H + 2) * (W + 2), device=self.device).view(1, 1, H + 2, W + 2)[:, :, 1:-1, 1:-1]

            def prm():  # PRM's peak_stimulation (win_size 3, median filter), forward + backward
                padded = F.pad(maps, [1, 1, 1, 1], mode="constant", value=float("-inf"))
                _, indices = F.max_pool2d(padded, kernel_size=3, stride=1, return_indices=True)
                median = maps.detach().view(N, C, -1).median(dim=2)[0].view(N, C, 1, 1)
                peak_map = (indices == element_map) & (maps.detach() >= median)
                _ = torch.nonzero(peak_map)  # the peak list, as PRM returns it
                counts = peak_map.view(N, C, -1).sum(2)
                scores = (maps * peak_map).view(N, C, -1).sum(2) / counts
                maps.grad = None
                scores.backward(d_scores)
                return counts, scores
            counts, scores = prm()
            return {"torch (PRM)": prm}, digest(np.concatenate([counts.cpu().numpy().reshape(-1),
                                                                  scores.detach().cpu().numpy().reshape(-1)]))
        if name == "mask_iou":
            n, m, H, W = a
            ma, mb = make_blobs(n, H, W, 51), make_blobs(m, H, W, 52)
            ta, tb = self.tensor(ma), self.tensor(mb)

            def matmul():
                fa, fb = ta.view(n, -1).float(), tb.view(m, -1).float()
                inter = fa @ fb.t()
                union = fa.sum(1)[:, None] + fb.sum(1)[None, :] - inter
                return torch.where(union > 0, inter / union, torch.zeros_like(inter))
            candidates = {"torch matmul": matmul}
            result = matmul().cpu().numpy()
            if self.coco is not None and self.device == "cpu":
                coco = self.coco

                def rle_iou():
                    ra = coco.encode(np.asfortranarray(ma.transpose(1, 2, 0)))
                    rb = coco.encode(np.asfortranarray(mb.transpose(1, 2, 0)))
                    return coco.iou(ra, rb, [0] * m)
                if not np.allclose(np.asarray(rle_iou()).reshape(n, m), result, atol=1e-6):
                    sys.exit("mask_iou: pycocotools and torch's matmul disagree")
                candidates["pycocotools"] = rle_iou
            return candidates, digest(result)
        if name == "paste_masks":
            from torchvision.models.detection.roi_heads import paste_masks_in_image
            K, M, H, W = a
            masks = self.tensor(make_uniform(K * M * M, 62, 0.0, 1.0).reshape(K, 1, M, M))
            boxes = self.tensor(make_boxes(K, float(W), float(H), 61))
            function = lambda: paste_masks_in_image(masks, boxes, (H, W), padding=1) > 0.5  # noqa: E731
            return {"torchvision": function}, digest(function().view(K, -1).sum(1).cpu().numpy())
        sys.exit(f"unknown case {name}")

    def prepare(self, request):
        if request not in self.cache:
            self.cache[request] = self.build(request)
        return self.cache[request]

    def measure(self, request):
        """Seconds per call of the fastest candidate, and its name."""
        candidates, _ = self.prepare(request)
        times = {name: self.time_calls(function) for name, function in candidates.items()}
        best = min(times, key=times.get)
        return times[best], best


def compare(request, ours, theirs):
    """Digests agree: exact for index lists and counts, else to a tolerance."""
    name = request.split()[0]
    if name in ("nms", "batched_nms", "paste_masks"):
        # paste: a handful of pixels on the 0.5 boundary may round either way
        tolerance = 1e-3 * max(1.0, abs(theirs[1])) if name == "paste_masks" else 0.0
        return abs(ours[0] - theirs[0]) == 0 and abs(ours[1] - theirs[1]) <= tolerance
    tolerance = {"roi_align_backward": 1e-4}.get(name, 1e-5)
    if ours[0] != theirs[0]:
        return False
    scale = max(1.0, max(abs(v) for v in theirs[2:]) if len(theirs) > 2 else 1.0)
    total_ok = abs(ours[1] - theirs[1]) <= tolerance * scale * max(1.0, theirs[0]) ** 0.5 * 10
    return total_ok and all(abs(o - t) <= tolerance * scale for o, t in zip(ours[2:], theirs[2:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--binary", default=os.path.join(here, "..", "build", "cpu", "apps", "wise_bench_kernels"))
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--small", action="store_true", help="smoke-test sizes (timings meaningless)")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(max(args.threads)))
    import torch  # after OMP_NUM_THREADS
    import torchvision
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: this torch has no CUDA device")
    torch.set_flush_denormal(True)
    peer = TorchPeer(torch, torchvision, args.device)
    rows = SMALL if args.small else FULL
    threads_list = args.threads if args.device == "cpu" else [max(args.threads)]

    print(f"# kernels on {args.device}: wise vs torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"pycocotools {'yes' if peer.coco else 'not installed'}")
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; repeats {args.repeats}, alternating"
          + ("; SMALL sizes (smoke test)" if args.small else ""))
    results = {}  # (threads, request) -> ratio torch/wise time, or None when the results disagree
    for threads in threads_list:
        torch.set_num_threads(threads)
        server = WiseServer(args.binary, threads, args.device)
        a, b = torch.randn(1024, 1024, device=args.device), torch.randn(1024, 1024, device=args.device)
        gflops = 2 * 1024 ** 3 / 1e9
        print(f"\n## {threads} thread(s): sgemm 1024^3 probe before: wise "
              f"{gflops / server.request('sgemm 1024 1024 1024')[0]:.1f} GFLOP/s, "
              f"torch {gflops / peer.time_calls(lambda: torch.mm(a, b)):.1f} GFLOP/s")
        agrees = {}
        for request, _, _ in rows:  # validation: the server checks itself; here, against the peer
            _, ours = server.request(request)
            agrees[request] = compare(request, ours, peer.prepare(request)[1])
            if not agrees[request]:
                print(f"MISMATCH {request}: wise digest {ours[:4]}... vs peer {peer.prepare(request)[1][:4]}...")
        ours = {r[0]: [] for r in rows}
        theirs = {r[0]: [] for r in rows}
        names = {}
        for repeat in range(args.repeats):
            for request, _, _ in rows:
                sides = ["ours", "theirs"] if repeat % 2 == 0 else ["theirs", "ours"]
                for side in sides:
                    time.sleep(PAUSE)
                    if side == "ours":
                        ours[request].append(server.request(request)[0])
                    else:
                        seconds, names[request] = peer.measure(request)
                        theirs[request].append(seconds)
        print(f"\n### {args.device}, {threads} thread(s)")
        print("| case | items (throughput = items / time) | wise ms (spread) | peer | peer ms (spread) | wise M items/s | "
              "peer M items/s | peer/wise time |")
        print("|---|---|---|---|---|---|---|---|")
        for request, item, items in rows:
            (mine, mine_spread), (peer_t, peer_spread) = summarize(ours[request]), summarize(theirs[request])
            ratio = peer_t / mine
            results[(threads, request)] = ratio if agrees[request] else None
            print(f"| {request} | {item} | {mine * 1e3:.3f} ({mine_spread:.0%}) | {names[request]} | "
                  f"{peer_t * 1e3:.3f} ({peer_spread:.0%}) | {items / mine / 1e6:.2f} | {items / peer_t / 1e6:.2f} | "
                  f"{ratio:.2f}{'' if agrees[request] else ' MISMATCH'} |")
        print(f"\nsgemm probe after: wise {gflops / server.request('sgemm 1024 1024 1024')[0]:.1f} GFLOP/s, "
              f"torch {gflops / peer.time_calls(lambda: torch.mm(a, b)):.1f} GFLOP/s "
              f"(a big drop from before means the run was disturbed)")
        server.close()

    print("\n## Targets (issue 13)")
    everything = [(t, r, v) for (t, r), v in results.items()]
    slow = [f"{r} @{t}t ({'mismatch' if v is None else f'{v:.2f}'})" for t, r, v in everything if v is None or v < 1.0]
    print(f"- every kernel at least as fast as its peer at {' and '.join(map(str, threads_list))} thread(s): "
          + ("met" if not slow else "NOT met: " + "; ".join(slow)))
    fast = [(t, r, v) for t, r, v in everything if r.split()[0] in ("nms", "batched_nms", "roi_align_backward")]
    short = [f"{r} @{t}t ({'mismatch' if v is None else f'{v:.2f}'})" for t, r, v in fast if v is None or v < 2.0]
    print("- NMS and RoIAlign backward at least 2x faster: " + ("met" if not short else "NOT met: " + "; ".join(short)))


if __name__ == "__main__":
    main()
