#!/usr/bin/python3
"""The PyTorch peer of seqnet_bench: the same recurrent workloads in PyTorch.

Workloads are named like seqnet_bench's benchmarks, <cell>/<mode>/<B>x<T>x<I>x<H>:
  LSTM|GRU  nn.LSTM / nn.GRU (one layer, batch_first=True, float32; PyTorch's
            GRU is Keras's GRU with reset_after=True)
  train     one training step: forward, zero_grad, backward of the full output
            sequence with a fixed random output gradient; the input requires
            grad, so the input gradient is computed (seqnet computes it too)
  infer     forward only under torch.no_grad() (the model in eval mode)

Each workload is warmed up, then timed in `--repetitions` runs of at least
`--min-time` seconds each; the time reported is the median over the runs of the
mean wall-clock time per iteration. The CPU time of the whole process (all
threads) per iteration is recorded too (runs_cpu_s), as seqnet_bench's
process_cpu_s counter. Run with Debian's python3 (python3-torch):

  /usr/bin/python3 bench/torch_peer.py --threads 2
  /usr/bin/python3 bench/torch_peer.py --threads 2 --filter 'LSTM/train' --json out.json

Threads: --threads N sets torch.set_num_threads(N) and, before torch is
imported, OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (PyTorch's BLAS here is
OpenBLAS, which torch.set_num_threads does not control). Default: all cores.
PyTorch then runs an OpenMP pool and an OpenBLAS pool of N threads each; on a
machine with few cores they oversubscribe it (see --blas-threads).
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time

# (B, T, I, H): the training shapes (also timed as forward-only inference),
# and the single-step inference shapes. Keep in sync with recurrent_bench.cpp.
SHAPES = [(32, 4, 10, 16), (21, 5, 100, 150), (128, 500, 32, 32), (64, 100, 256, 256), (64, 50, 512, 512)]
SINGLE_STEPS = [(1, 1, 128, 128), (1, 1, 512, 512)]


def workloads():
    """All workloads as (name, cell, mode, shape), in seqnet_bench's order."""
    out = []
    for cell in ("LSTM", "GRU"):
        for shape in SHAPES:
            out.append((cell, "train", shape))
    for cell in ("LSTM", "GRU"):
        for shape in SINGLE_STEPS + SHAPES:
            out.append((cell, "infer", shape))
    return [("%s/%s/%s" % (c, m, "x".join(map(str, s))), c, m, s) for c, m, s in out]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="intra-op threads (default: all cores)")
    p.add_argument("--blas-threads", type=int, default=0,
                   help="OpenBLAS threads (default: --threads); PyTorch's OpenMP pool and OpenBLAS's pool run side "
                        "by side, so on a small machine --blas-threads 1 avoids oversubscription")
    p.add_argument("--min-time", type=float, default=0.5, help="minimum seconds per timed run (default: 0.5)")
    p.add_argument("--repetitions", type=int, default=3, help="timed runs per workload (default: 3)")
    p.add_argument("--filter", default="", help="regular expression on workload names (default: all)")
    p.add_argument("--json", default="", help="also write the results to this JSON file ('-' for stdout only)")
    p.add_argument("--list", action="store_true", help="list the workload names and exit")
    return p.parse_args(argv)


def timed_runs(step, min_time, repetitions):
    """Warms up `step`; returns `repetitions` mean wall-clock seconds per call,
    as many mean process CPU seconds per call, and the calls per run."""
    # Warm-up: at least 2 calls and about a quarter of a run.
    t0 = time.perf_counter()
    calls = 0
    while calls < 2 or time.perf_counter() - t0 < min_time / 4:
        step()
        calls += 1
    per_call = (time.perf_counter() - t0) / calls
    iters = max(1, int(min_time / max(per_call, 1e-9)))
    runs, cpu = [], []
    for _ in range(repetitions):
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        runs.append((time.perf_counter() - t0) / iters)
        cpu.append((time.process_time() - c0) / iters)
    return runs, cpu, iters


def make_step(torch, cell, mode, shape):
    B, T, I, H = shape
    torch.manual_seed(1234)
    cls = torch.nn.LSTM if cell == "LSTM" else torch.nn.GRU
    model = cls(input_size=I, hidden_size=H, num_layers=1, batch_first=True)
    x = torch.rand(B, T, I) * 2 - 1
    if mode == "infer":
        model.eval()

        def step():
            with torch.no_grad():
                out, _ = model(x)
            return out

        return step

    model.train()
    x.requires_grad_(True)
    dy = torch.rand(B, T, H) * 2 - 1

    def step():
        out, _ = model(x)
        model.zero_grad(set_to_none=True)
        x.grad = None
        out.backward(dy)
        return x.grad

    return step


def main(argv):
    args = parse_args(argv)
    todo = [w for w in workloads() if re.search(args.filter, w[0])]
    if args.list:
        for w in todo:
            print(w[0])
        return 0
    # OpenBLAS and OpenMP read these when torch loads them.
    # (Values already in the environment win, to try other settings.)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.blas_threads if args.blas_threads > 0 else args.threads))
    import torch

    torch.set_num_threads(args.threads)
    context = {
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn_enabled": bool(torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled),
        "python": platform.python_version(),
        "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY") if k in os.environ},
        "min_time_s": args.min_time,
        "repetitions": args.repetitions,
    }
    results = []
    if args.json != "-":
        print("torch %s, %d threads" % (context["torch_version"], context["threads"]), file=sys.stderr)
        print("%-34s %14s %10s" % ("workload", "median", "iterations"), file=sys.stderr)
    for name, cell, mode, shape in todo:
        step = make_step(torch, cell, mode, shape)
        runs, cpu, iters = timed_runs(step, args.min_time, args.repetitions)
        median = statistics.median(runs)
        results.append(
            {
                "name": name,
                "cell": cell,
                "mode": mode,
                "B": shape[0],
                "T": shape[1],
                "I": shape[2],
                "H": shape[3],
                "median_s": median,
                "runs_s": runs,
                "runs_cpu_s": cpu,
                "iterations": iters,
            }
        )
        if args.json != "-":
            print("%-34s %11.1f us %10d" % (name, median * 1e6, iters), file=sys.stderr)
    doc = {"context": context, "results": results}
    if args.json == "-":
        json.dump(doc, sys.stdout, indent=1)
        print()
    elif args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
