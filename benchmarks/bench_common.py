"""Helpers shared by the benchmark drivers: the CPU's name, the timing loop, the
median-and-spread summary of repeated measurements, and the one-case-per-process
protocol (a worker prints "<seconds per call> <calls> <peak RSS KiB>" last)."""

import statistics
import subprocess
import sys
import time


def cpu_model():
    """lscpu's model name (every benchmark prints it in its header)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def time_calls(function, sync=lambda: None):
    """Mean seconds per call: one warm-up call, then calls until 0.1 s have passed
    (at least 2). `sync` waits for asynchronous work (a GPU) after each call."""
    function()
    sync()
    calls, start = 0, time.perf_counter()
    while True:
        function()
        sync()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= 0.1 and calls >= 2:
            return elapsed / calls


def summarize(samples):
    """(median, spread) of repeated measurements; spread = (max - min) / median."""
    median = statistics.median(samples)
    return median, (max(samples) - min(samples)) / median if median else 0.0


def peak_rss_kib():
    """This process's peak resident set (VmHWM of /proc/self/status, which starts afresh at
    exec, unlike getrusage's ru_maxrss), KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def run_case(command, env):
    """Runs one case's fresh process: (seconds per call, calls, peak RSS KiB, its stdout);
    a failure ends the driver with the command and its stderr."""
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{out.stderr}")
    seconds, calls, rss = out.stdout.split()[-3:]
    return float(seconds), int(calls), int(rss), out.stdout
