#!/usr/bin/python3
"""seqnet against PyTorch on the same recurrent workloads, on the same CPU.

Runs build/bench/seqnet_bench (Google Benchmark, JSON output) and
bench/torch_peer.py with the same number of threads, and prints one table per
thread count (default: 1 thread, then all cores):

  workload   seqnet   PyTorch   seqnet/PyTorch   (below 1: seqnet is faster)

Times are medians of wall-clock time per iteration over every timed run of
every round; the spread columns give (max - min) / median of those runs, a
measure of the machine's noise. With --rounds above 1 the two programs take
turns, so slow phases of a busy machine hit both sides. The last column is the
same ratio on process CPU time (all threads): with one thread it is the
steadier measure on a busy machine; with more threads it also counts threads
that spin while waiting, so read it as cost, not speed.

Threads: seqnet_bench gets --threads=N and OPENBLAS_NUM_THREADS=N; PyTorch
gets torch.set_num_threads(N), OMP_NUM_THREADS=N and OPENBLAS_NUM_THREADS=N.
PyTorch then runs an OpenMP pool and an OpenBLAS pool side by side, which
oversubscribes a machine with few cores (on 2 cores its times at N=2 can be
10-100x its 1-thread times); --torch-blas-threads 1 gives PyTorch its best
multi-thread setting. Timings on a shared, busy machine are noisy; read the
spread columns, prefer --rounds 2 or more, and compare ratios, not times.

Without PyTorch (no python3-torch), only seqnet's times are printed.

Examples:
  /usr/bin/python3 bench/compare.py                       # 1 thread, then all cores
  /usr/bin/python3 bench/compare.py --threads 1,2 --rounds 2
  /usr/bin/python3 bench/compare.py --threads 2 --torch-blas-threads 1
  /usr/bin/python3 bench/compare.py --filter 'train' --json results.json
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "seqnet_bench"),
                   help="the seqnet_bench executable (default: build/bench/seqnet_bench)")
    p.add_argument("--python", default=sys.executable or "/usr/bin/python3",
                   help="the Python that has torch (default: this one)")
    ncpu = os.cpu_count() or 1
    p.add_argument("--threads", default="1" if ncpu == 1 else "1,%d" % ncpu,
                   help="thread count(s) for both sides, comma separated; one table each (default: 1 and all cores)")
    p.add_argument("--rounds", type=int, default=1, help="alternating runs of both programs (default: 1)")
    p.add_argument("--repetitions", type=int, default=3, help="timed runs per workload and round (default: 3)")
    p.add_argument("--min-time", type=float, default=0.3, help="minimum seconds per timed run (default: 0.3)")
    p.add_argument("--torch-blas-threads", type=int, default=0,
                   help="OpenBLAS threads of the PyTorch side (default: --threads); PyTorch runs its OpenMP pool "
                        "and OpenBLAS's pool side by side, which oversubscribes small machines")
    p.add_argument("--filter", default="", help="regular expression on workload names (default: all)")
    p.add_argument("--json", default="", help="also write all measurements to this JSON file")
    p.add_argument("--no-torch", action="store_true", help="time seqnet only")
    return p.parse_args(argv)


def have_torch(python):
    r = subprocess.run([python, "-c", "import torch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode == 0


def run_seqnet(args, threads):
    """{name: [wall seconds per iteration of each run]}, the same for process
    CPU seconds, and the benchmark context."""
    cmd = [args.bench, "--threads=%d" % threads, "--benchmark_format=json",
           "--benchmark_min_time=%g" % args.min_time, "--benchmark_repetitions=%d" % args.repetitions]
    if args.filter:
        cmd.append("--benchmark_filter=%s" % args.filter)
    # OpenBLAS sizes its thread pool when it loads; give it the same count as
    # --threads (as torch_peer.py does), unless the environment says otherwise.
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", str(threads))
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, env=env).stdout
    doc = json.loads(out)
    times, cpu = {}, {}
    for b in doc["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        name = re.sub(r"/real_time$", "", name)
        times.setdefault(name, []).append(b["real_time"] * UNIT_SECONDS[b.get("time_unit", "ns")])
        if "process_cpu_s" in b:
            cpu.setdefault(name, []).append(b["process_cpu_s"])
    return times, cpu, doc.get("context", {})


def run_torch(args, threads):
    cmd = [args.python, os.path.join(HERE, "torch_peer.py"), "--threads", str(threads), "--json", "-",
           "--min-time", str(args.min_time), "--repetitions", str(args.repetitions)]
    if args.filter:
        cmd += ["--filter", args.filter]
    if args.torch_blas_threads > 0:
        cmd += ["--blas-threads", str(args.torch_blas_threads)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    doc = json.loads(out)
    times = {r["name"]: list(r["runs_s"]) for r in doc["results"]}
    cpu = {r["name"]: list(r.get("runs_cpu_s", [])) for r in doc["results"]}
    return times, cpu, doc.get("context", {})


def fmt_time(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return "%.1f us" % (s * 1e6)
    if s < 1.0:
        return "%.2f ms" % (s * 1e3)
    return "%.3f s" % s


def spread(runs):
    if not runs or len(runs) < 2:
        return "-"
    return "%.0f%%" % (100.0 * (max(runs) - min(runs)) / statistics.median(runs))


def ratio_of(a, b):
    return statistics.median(a) / statistics.median(b) if a and b else None


def print_table(threads, names, seq, tor, seq_cpu, tor_cpu, seq_ctx, tor_ctx, with_torch):
    print()
    head = "threads: seqnet %s (OpenBLAS)" % seq_ctx.get("seqnet_threads", threads)
    if with_torch:
        env = tor_ctx.get("env", {})
        head += ", PyTorch %s %s (torch.set_num_threads %s, OMP_NUM_THREADS %s, OPENBLAS_NUM_THREADS %s)" % (
            tor_ctx.get("torch_version", "?"), threads, tor_ctx.get("threads", "?"), env.get("OMP_NUM_THREADS", "-"),
            env.get("OPENBLAS_NUM_THREADS", "-"))
    print(head)
    if with_torch:
        print("%-26s %12s %7s %12s %7s %15s %10s" % ("workload", "seqnet", "spread", "PyTorch", "spread",
                                                      "seqnet/PyTorch", "cpu ratio"))
    else:
        print("%-26s %12s %7s" % ("workload", "seqnet", "spread"))
    ratios = []
    rows = []
    for name in names:
        s = statistics.median(seq[name]) if seq.get(name) else None
        t = statistics.median(tor[name]) if tor.get(name) else None
        ratio = s / t if (s is not None and t) else None
        cpu_ratio = ratio_of(seq_cpu.get(name), tor_cpu.get(name))
        if ratio is not None:
            ratios.append(ratio)
        rows.append({"workload": name, "seqnet_s": s, "torch_s": t, "ratio": ratio, "cpu_ratio": cpu_ratio,
                     "seqnet_runs_s": seq.get(name, []), "torch_runs_s": tor.get(name, []),
                     "seqnet_cpu_s": seq_cpu.get(name, []), "torch_cpu_s": tor_cpu.get(name, [])})
        if with_torch:
            print("%-26s %12s %7s %12s %7s %15s %10s" % (name, fmt_time(s), spread(seq.get(name)), fmt_time(t),
                                                          spread(tor.get(name)),
                                                          "-" if ratio is None else "%.3f" % ratio,
                                                          "-" if cpu_ratio is None else "%.3f" % cpu_ratio))
        else:
            print("%-26s %12s %7s" % (name, fmt_time(s), spread(seq.get(name))))
    if ratios:
        gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print("geometric mean of seqnet/PyTorch over %d workloads: %.3f (%d of %d faster in seqnet)" %
              (len(ratios), gm, sum(r < 1 for r in ratios), len(ratios)))
    return rows


def main(argv):
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    if not os.access(args.bench, os.X_OK):
        print("compare.py: %s not found; build the seqnet_bench target first" % args.bench, file=sys.stderr)
        return 2
    with_torch = not args.no_torch and have_torch(args.python)
    if not with_torch and not args.no_torch:
        print("compare.py: PyTorch is not importable by %s; timing seqnet only" % args.python, file=sys.stderr)
    thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    report = []
    for threads in thread_counts:
        seq, tor, seq_cpu, tor_cpu = {}, {}, {}, {}
        seq_ctx, tor_ctx = {}, {}
        for r in range(args.rounds):
            print("threads %d, round %d/%d: seqnet_bench..." % (threads, r + 1, args.rounds), file=sys.stderr)
            times, cpu, seq_ctx = run_seqnet(args, threads)
            for k, v in times.items():
                seq.setdefault(k, []).extend(v)
            for k, v in cpu.items():
                seq_cpu.setdefault(k, []).extend(v)
            if with_torch:
                print("threads %d, round %d/%d: torch_peer.py..." % (threads, r + 1, args.rounds), file=sys.stderr)
                times, cpu, tor_ctx = run_torch(args, threads)
                for k, v in times.items():
                    tor.setdefault(k, []).extend(v)
                for k, v in cpu.items():
                    tor_cpu.setdefault(k, []).extend(v)
        names = list(seq.keys()) + [k for k in tor.keys() if k not in seq]
        rows = print_table(threads, names, seq, tor, seq_cpu, tor_cpu, seq_ctx, tor_ctx, with_torch)
        report.append({"threads": threads, "seqnet_context": seq_ctx, "torch_context": tor_ctx, "rows": rows})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
