#!/usr/bin/python3
"""wise's CPU convolutions against PyTorch's, on ResNet-50's layers, measured in one run.

    scripts/bench.sh conv                      # builds, then runs this
    /usr/bin/python3 benchmarks/conv_vs_torch.py --binary build/cpu/apps/wise_bench_conv

For each thread count, a wise timing server (wise_bench_conv --serve) and PyTorch run in
this one process tree, alternating shape by shape and repeat by repeat (the order flips
every repeat), with a pause between them so neither side's spinning OpenMP threads steal
the other's cores. Each measurement is the mean over >= 0.1 s of calls after a warm-up;
the table shows the median of the repeats and their spread (max-min)/median.

Rows: forward, backward-data and backward-weights of every distinct ResNet-50 convolution
at batch 1, for 224x224 and 800x1067 inputs. PyTorch's figure is the faster of its NCHW and
channels_last layouts (a strong peer). GFLOP/s = 2*N*K*P*Q*C*R*S / time; "of peak" divides
by the sgemm rate measured in the same run. The verdict sums time over all ResNet-50
layers (weighted by how often each shape occurs), per pass and in total.
"""

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_common import cpu_model, summarize, time_calls  # noqa: E402
from resnet50_layers import conv_out, flops, resnet50_convolutions  # noqa: E402

PASSES = ["forward", "backward_data", "backward_weights"]
PAUSE = 0.02  # seconds between switching sides: libgomp threads stop spinning


class WiseServer:
    def __init__(self, binary, threads):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        self.process = subprocess.Popen([binary, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, env=env)

    def request(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().split()
        if not answer or answer[0] == "error":
            sys.exit(f"wise_bench_conv: {' '.join(answer[1:]) or 'no answer'} (request: {line})")
        return float(answer[0])

    def conv(self, pass_name, layer):
        _, n, c, h, w, k, r, stride, padding, _ = layer
        return self.request(f"conv {pass_name} {n} {c} {h} {w} {k} {r} {r} {stride} {padding} 1")

    def sgemm(self, size):
        return self.request(f"sgemm {size} {size} {size}")

    def close(self):
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        self.process.wait()


class TorchPeer:
    def __init__(self, torch):
        self.torch = torch
        self.cache = {}

    def functions(self, pass_name, layer, channels_last):
        key = (pass_name, layer, channels_last)
        if key not in self.cache:
            torch = self.torch
            _, n, c, h, w, k, r, stride, padding, _ = layer
            p, q = conv_out(h, r, stride, padding), conv_out(w, r, stride, padding)
            x, weight, gy = torch.randn(n, c, h, w), torch.randn(k, c, r, r) * 0.1, torch.randn(n, k, p, q)
            if channels_last:
                x, weight, gy = (t.contiguous(memory_format=torch.channels_last) for t in (x, weight, gy))
            mask = {"backward_data": [True, False, False], "backward_weights": [False, True, False]}
            if pass_name == "forward":
                self.cache[key] = lambda: torch.nn.functional.conv2d(x, weight, None, stride, padding)
            else:
                self.cache[key] = lambda: torch.ops.aten.convolution_backward(
                    gy, x, weight, None, [stride, stride], [padding, padding], [1, 1], False, [0, 0], 1,
                    mask[pass_name])
        return self.cache[key]

    def conv(self, pass_name, layer):
        with self.torch.no_grad():
            return min(time_calls(self.functions(pass_name, layer, cl)) for cl in (False, True))

    def sgemm(self, size):
        a, b = self.torch.randn(size, size), self.torch.randn(size, size)
        return time_calls(lambda: self.torch.mm(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(HERE, "..", "build", "cpu", "apps", "wise_bench_conv"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", nargs="+", default=["224x224", "800x1067"])
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(max(args.threads)))
    import torch  # after OMP_NUM_THREADS
    torch.set_flush_denormal(True)  # wise flushes denormals too (toolchain.md)
    peer = TorchPeer(torch)

    onednn = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libdnnl2"], capture_output=True, text=True)
    print(f"# conv: wise (oneDNN {onednn.stdout or '?'}) vs PyTorch {torch.__version__}")
    print(f"# CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; repeats {args.repeats}, alternating")
    verdicts = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        server = WiseServer(args.binary, threads)
        probe_ours, probe_torch = server.sgemm(2048), peer.sgemm(2048)
        peak = 2 * 2048 ** 3 / probe_ours / 1e9
        print(f"\n## {threads} thread(s): sgemm 2048^3 probe before: wise {peak:.1f} GFLOP/s, "
              f"torch {2 * 2048 ** 3 / probe_torch / 1e9:.1f} GFLOP/s")
        for size in args.sizes:
            height, width = (int(v) for v in size.split("x"))
            layers = resnet50_convolutions(height, width)
            rows = [(layer, p) for layer in layers for p in PASSES
                    if not (p == "backward_data" and layer[0] == "conv1")]  # the image needs no gradient
            ours = {row: [] for row in rows}
            theirs = {row: [] for row in rows}
            for repeat in range(args.repeats):
                for layer, pass_name in rows:
                    sides = [("ours", server.conv), ("theirs", peer.conv)]
                    if repeat % 2:
                        sides.reverse()
                    for side, measure in sides:
                        time.sleep(PAUSE)
                        (ours if side == "ours" else theirs)[(layer, pass_name)].append(measure(pass_name, layer))
            print(f"\n### {size}, batch 1, {threads} thread(s)")
            print(f"| layer | count | pass | wise ms (spread) | torch ms (spread) | wise GFLOP/s | of peak | "
                  f"torch GFLOP/s | torch/wise time |")
            print("|---|---|---|---|---|---|---|---|---|")
            totals = {p: [0.0, 0.0] for p in PASSES}
            for layer, pass_name in rows:
                (mine, mine_spread), (peer_t, peer_spread) = summarize(ours[(layer, pass_name)]), \
                    summarize(theirs[(layer, pass_name)])
                f = flops(layer)
                totals[pass_name][0] += layer[9] * mine
                totals[pass_name][1] += layer[9] * peer_t
                print(f"| {layer[0]} {layer[2]}x{layer[3]}x{layer[4]}->{layer[5]} {layer[6]}x{layer[6]}/{layer[7]} "
                      f"| {layer[9]} | {pass_name} | {mine * 1e3:.2f} ({mine_spread:.0%}) | "
                      f"{peer_t * 1e3:.2f} ({peer_spread:.0%}) | {f / mine / 1e9:.1f} | {f / mine / 1e9 / peak:.0%} | "
                      f"{f / peer_t / 1e9:.1f} | {peer_t / mine:.2f} |")
            all_ours = sum(t[0] for t in totals.values())
            all_theirs = sum(t[1] for t in totals.values())
            for pass_name, (mine, peer_t) in totals.items():
                print(f"| **ResNet-50 total** | | {pass_name} | {mine * 1e3:.1f} | {peer_t * 1e3:.1f} | | | | "
                      f"**{peer_t / mine:.2f}** |")
            print(f"| **ResNet-50 total** | | all passes | {all_ours * 1e3:.1f} | {all_theirs * 1e3:.1f} | | | | "
                  f"**{all_theirs / all_ours:.2f}** |")
            verdicts.append((threads, size, all_theirs / all_ours))
        probe_after = server.sgemm(2048)
        print(f"\nsgemm probe after: wise {2 * 2048 ** 3 / probe_after / 1e9:.1f} GFLOP/s "
              f"(a big drop from before means the run was disturbed)")
        server.close()
    print("\n## Target: wise's convolution throughput >= PyTorch's, summed over ResNet-50, fwd + bwd")
    for threads, size, ratio in verdicts:
        status = "met" if ratio >= 0.97 else "NOT met"
        print(f"- {threads} thread(s), {size}: torch/wise time = {ratio:.2f} -> {status}")


if __name__ == "__main__":
    main()
