#!/usr/bin/python3
"""seqnet against PyTorch and oneDNN on the same recurrent workloads, on the same CPU.

Runs build/bench/seqnet_bench (Google Benchmark, JSON output),
bench/torch_peer.py and, where they were built, the oneDNN peer
(bench/onednn_peer.cpp) and the FMA peak probe (bench/peak_probe.cpp) with the
same number of threads, and prints one table per thread count (default:
1 thread, then all cores):

  workload   seqnet   PyTorch   seqnet/PyTorch   oneDNN   seqnet/oneDNN   %peak
  (ratios below 1: seqnet is faster)

Times are medians of wall-clock time per iteration over every timed run of
every round; the spread columns give (max - min) / median of those runs, a
measure of the machine's noise. With --rounds above 1 the two programs take
turns, so slow phases of a busy machine hit both sides. The "cpu ratio" column
is seqnet/PyTorch on process CPU time (all threads): with one thread it is the
steadier measure on a busy machine; with more threads it also counts threads
that spin while waiting, so read it as cost, not speed.

Threads: seqnet_bench gets --threads=N and OPENBLAS_NUM_THREADS=N; PyTorch
gets torch.set_num_threads(N), OMP_NUM_THREADS=N and OPENBLAS_NUM_THREADS=N.
PyTorch then runs an OpenMP pool and an OpenBLAS pool side by side, which
oversubscribes a machine with few cores (on 2 cores its times at N=2 can be
10-100x its 1-thread times); --torch-blas-threads 1 gives PyTorch its best
multi-thread setting. Timings on a shared, busy machine are noisy; read the
spread columns, prefer --rounds 2 or more, and compare ratios, not times.

oneDNN: onednn_peer (built when libdnnl-dev is installed) times the same
workloads with oneDNN's RNN primitives (lstm / lbr_gru forward_training +
backward with diff_src, or forward_inference), weights reordered once to
oneDNN's preferred layouts outside the timed loop; it gets --threads N
(omp_set_num_threads) and OMP_NUM_THREADS=N. Its time is the median over its
runs of the median time of one iteration. The columns "oneDNN",
"spread" and "seqnet/oneDNN" appear when the program exists (default: next to
seqnet_bench; --onednn PATH, --no-onednn) and its self-check passes.
--onednn-weights-reorder times the weight reorders in every iteration instead
(as a real training step needs after each weight update; it matters for the
small workloads), --onednn-layout ntc gives oneDNN batch-major data like
seqnet's and PyTorch's instead of its time-major tnc. On a busy machine
(another process on the other cores), Linux can leave two of OpenMP's
spin-waiting threads on one CPU, and every barrier then costs a time slice:
oneDNN's 2-thread times became 100-1000x its 1-thread times on a busy 2-core
VM. OMP_PROC_BIND=true in the environment (passed on; it pins OpenMP threads,
PyTorch's too) avoids that, but read such tables as noise anyway.

Peak: peak_probe (next to seqnet_bench; --peak PATH, --no-peak) measures the
f32 FMA peak of the machine for each thread count (AVX-512 when the CPU has it,
else AVX2 + FMA; on each thread's CPU time, so other processes do not lower
it; the header warns when they kept the threads from running side by side);
each table then starts with the CPU model and that peak, and
"seqnet %peak" (and "oneDNN %peak") give the GEMM FLOPs of one iteration over
(time x peak at that thread count). FLOPs counted, for a layer of G gate
blocks (LSTM G = 4, GRU G = 3; the GRU's reset_after candidate r * (U h + b)
costs the same products), batch B, T steps, input I, H units:
  forward (infer):  2 * B*T * G*H * (I + H)       x W and h U for every step
  train:            3 * 2 * B*T * G*H * (I + H)   the forward, plus the backward
                    products dX = dG W^T, dh = dG U^T, dW = x^T dG, dU = h^T dG
The elementwise work (gate activations, the cell update and their
derivatives, bias sums: some tens of flops per B*T*H element) is neglected;
it is under 2% of the count for H >= 128 but reaches some 10-20% for the
smallest workloads (32x4x10x16), whose %peak is therefore an underestimate
(and these are latency-bound anyway). seqnet built by GCC 12 uses no AVX-512
in its own code (-mno-avx512f), so on AVX-512 machines its elementwise work can
reach at most the AVX2 peak, which the header shows too. Its GEMMs (and
PyTorch's, Debian's torch uses OpenBLAS as well) run on OpenBLAS, whose
kernels the header names: Debian's OpenBLAS 0.3.21 does not recognize some
newer AVX-512 CPUs (seen: AMD family 26, Zen 5) and falls back to its AVX2
"Haswell" kernels there, half the GEMM peak on cores with full-width AVX-512
units, while oneDNN uses AVX-512. OPENBLAS_CORETYPE=SkylakeX in the
environment (passed on to seqnet_bench and PyTorch) selects the AVX-512
kernels.

Single steps (infer/1x1x...): a line each with the time the weights take
to read at the read bandwidth peak_probe measured for a buffer of their size
(L2 or L3), per thread, beside the FMA floor: a single step reads every
weight once, so it is bound by the former.

mixed_bfloat16: seqnet_bench's train_bf16 workloads (the larger shapes under
the mixed_bfloat16 policy) get a line each with their speed-up over seqnet's
float32 train.

Seed workloads: at the end, bench/python_seeds.py (run by the Python of
`make python`) trains the seed 02 seq2seq and seed 01 reverse listings end
to end through seqnet.keras and through PyTorch, 1 thread (--no-seeds).

Without PyTorch (no python3-torch), only seqnet's times are printed; without
the oneDNN peer or the peak probe, their columns are omitted.

Examples:
  /usr/bin/python3 bench/compare.py                       # 1 thread, then all cores
  /usr/bin/python3 bench/compare.py --threads 1,2 --rounds 2
  /usr/bin/python3 bench/compare.py --threads 2 --torch-blas-threads 1
  /usr/bin/python3 bench/compare.py --filter 'train' --json results.json
  /usr/bin/python3 bench/compare.py --threads 1 --no-torch --onednn build/bench/onednn_peer
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
                   help="thread count(s) for every program, comma separated; one table each (default: 1 and all cores)")
    p.add_argument("--rounds", type=int, default=1, help="alternating runs of the programs (default: 1)")
    p.add_argument("--repetitions", type=int, default=3, help="timed runs per workload and round (default: 3)")
    p.add_argument("--min-time", type=float, default=0.3, help="minimum seconds per timed run (default: 0.3)")
    p.add_argument("--torch-blas-threads", type=int, default=0,
                   help="OpenBLAS threads of the PyTorch side (default: --threads); PyTorch runs its OpenMP pool "
                        "and OpenBLAS's pool side by side, which oversubscribes small machines")
    p.add_argument("--filter", default="", help="regular expression on workload names (default: all)")
    p.add_argument("--json", default="", help="also write all measurements to this JSON file")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--onednn", default="",
                   help="the onednn_peer executable (default: onednn_peer next to the seqnet_bench executable)")
    p.add_argument("--no-onednn", action="store_true", help="leave oneDNN out")
    p.add_argument("--onednn-layout", choices=("tnc", "ntc"), default="tnc",
                   help="oneDNN's src/dst layout: tnc, its time-major layout (default), or ntc, the batch-major "
                        "layout of seqnet's and PyTorch's inputs")
    p.add_argument("--onednn-weights-reorder", action="store_true",
                   help="time oneDNN with the reorders of its weights into its layouts in every iteration (as after "
                        "a weight update); default: reordered once, untimed (the steady state)")
    p.add_argument("--peak", default="",
                   help="the peak_probe executable (default: peak_probe next to the seqnet_bench executable)")
    p.add_argument("--no-peak", action="store_true", help="do not measure the FMA peak (no %%peak columns)")
    p.add_argument("--seeds-python", default=os.path.join(ROOT, ".venv", "bin", "python"),
                   help="the Python with seqnet.keras (make python) that runs bench/python_seeds.py: the seed 02 "
                        "seq2seq and seed 01 reverse workloads end to end, seqnet against PyTorch, 1 thread "
                        "(default: .venv/bin/python)")
    p.add_argument("--seed-samples", type=int, default=100000, help="seq2seq samples of that run (default: 100000)")
    p.add_argument("--no-seeds", action="store_true", help="leave the seed workloads out")
    args = p.parse_args(argv)
    bench_dir = os.path.dirname(os.path.abspath(args.bench))
    if not args.onednn:
        args.onednn = os.path.join(bench_dir, "onednn_peer")
    if not args.peak:
        args.peak = os.path.join(bench_dir, "peak_probe")
    return args


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


def run_onednn(args, threads):
    """Like run_torch, for onednn_peer; None when it fails (its self-check
    included), with its messages on stderr."""
    cmd = [args.onednn, "--threads", str(threads), "--min-time", str(args.min_time),
           "--repetitions", str(args.repetitions), "--layout", args.onednn_layout]
    if args.onednn_weights_reorder:
        cmd.append("--weights-reorder")
    if args.filter:
        cmd += ["--filter", args.filter]
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        print("compare.py: %s failed (exit status %d); leaving oneDNN out" % (args.onednn, r.returncode),
              file=sys.stderr)
        return None
    doc = json.loads(r.stdout)
    check = doc.get("check") or {}
    print("  oneDNN self-check: %s (%d cases against a reference loop)" %
          ("ok" if check.get("ok") else "not run", len(check.get("cases", []))), file=sys.stderr)
    times = {x["name"]: list(x.get("runs_s") or [x["real_time_s"]]) for x in doc["results"]}
    cpu = {x["name"]: [x["cpu_time_s"]] for x in doc["results"] if x.get("cpu_time_s") is not None}
    context = {k: v for k, v in doc.items() if k != "results"}
    return times, cpu, context


def run_peak(args, thread_counts):
    """peak_probe's document ({"cpu", "isa", "peak_gflops": {"N": GFLOP/s},
    "by_isa", ...}), or None."""
    cmd = [args.peak, "--threads", ",".join(str(t) for t in thread_counts)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        print("compare.py: %s failed (exit status %d); no %%peak columns" % (args.peak, r.returncode),
              file=sys.stderr)
        return None
    return json.loads(r.stdout)


def openblas_core(bench):
    """The OpenBLAS kernels ("Haswell", "SkylakeX", ...) that `bench` gets on
    this machine (with this environment, OPENBLAS_CORETYPE included), or
    None. Asked in a child process that loads the same libopenblas."""
    try:
        ldd = subprocess.run(["ldd", bench], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        m = re.search(r"libopenblas\S*\s+=>\s+(\S+)", ldd)
        if not m:
            return None
        code = ("import ctypes, sys; l = ctypes.CDLL(sys.argv[1]); l.openblas_get_corename.restype = ctypes.c_char_p; "
                "print(l.openblas_get_corename().decode())")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        r = subprocess.run([sys.executable or "/usr/bin/python3", "-c", code, m.group(1)], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, env=env, timeout=30)
        return (r.stdout.strip() or None) if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


WORKLOAD_RE = re.compile(r"^(LSTM|GRU)/(train|infer|train_bf16)/(\d+)x(\d+)x(\d+)x(\d+)$")


def step_flops(name):
    """GEMM FLOPs of one iteration of a workload (see the top of the file:
    elementwise work neglected), or None for an unknown name."""
    m = WORKLOAD_RE.match(name)
    if not m:
        return None
    cell, mode = m.group(1), m.group(2)
    B, T, I, H = (int(m.group(k)) for k in range(3, 7))
    G = 4 if cell == "LSTM" else 3
    forward = 2.0 * B * T * G * H * (I + H)
    return 3.0 * forward if mode.startswith("train") else forward


def peak_at(peak, threads, isa=None):
    """(GFLOP/s at `threads` threads, how it was obtained) from peak_probe's
    document, for its best ISA or the named one; scaled from the 1-thread
    figure when that thread count was not measured."""
    if not peak:
        return None, ""
    table = peak.get("peak_gflops", {}) if isa is None else peak.get("by_isa", {}).get(isa, {})
    if str(threads) in table:
        return table[str(threads)], "measured"
    if "1" in table:
        return table["1"] * threads, "1-thread peak x %d" % threads
    return None, ""


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


def geomean_line(ratios, peer):
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    return "geometric mean of seqnet/%s over %d workloads: %.3f (%d of %d faster in seqnet)" % (
        peer, len(ratios), gm, sum(r < 1 for r in ratios), len(ratios))


def pct(x):
    return "-" if x is None else "%.1f%%" % (100.0 * x)


def print_table(threads, names, seq, tor, seq_cpu, tor_cpu, seq_ctx, tor_ctx, with_torch, dnn=None, dnn_ctx=None,
                peak=None, blas_core=None):
    """Prints one thread count's table; `dnn` ({name: [run seconds]}) and
    `peak` (peak_probe's document) are optional columns. Returns the rows."""
    with_dnn = dnn is not None
    dnn_ctx = dnn_ctx or {}
    print()
    head = "threads: seqnet %s (OpenBLAS%s)" % (seq_ctx.get("seqnet_threads", threads),
                                               " %s kernels" % blas_core if blas_core else "")
    if with_torch:
        env = tor_ctx.get("env", {})
        head += ", PyTorch %s %s (torch.set_num_threads %s, OMP_NUM_THREADS %s, OPENBLAS_NUM_THREADS %s)" % (
            tor_ctx.get("torch_version", "?"), threads, tor_ctx.get("threads", "?"), env.get("OMP_NUM_THREADS", "-"),
            env.get("OPENBLAS_NUM_THREADS", "-"))
    if with_dnn:
        head += ", %s %s (OpenMP threads %s, ISA %s, layout %s, weights reordered %s)" % (
            dnn_ctx.get("peer", "oneDNN"), threads, dnn_ctx.get("threads", "?"), dnn_ctx.get("cpu_isa", "?"),
            dnn_ctx.get("layout", "?"), "every iteration" if dnn_ctx.get("weights_reorder_timed") else "once")
    print(head)
    peak_gflops, how = peak_at(peak, threads)
    if peak_gflops:
        line = "cpu: %s (%s); f32 FMA peak at %d thread%s: %.1f GFLOP/s (%s, %s)" % (
            peak.get("cpu", "?"), peak.get("cpu_id", "?"), threads, "" if threads == 1 else "s", peak_gflops,
            peak.get("isa", "?"), how)
        for isa in peak.get("by_isa", {}):
            if isa != peak.get("isa"):
                other, _ = peak_at(peak, threads, isa)
                if other:
                    line += "; %s: %.1f" % (isa, other)
        scaling = peak.get("scaling", {}).get(str(threads))
        if scaling is not None and scaling < 0.8:
            line += ("; but on wall time %d threads got only %.0f%% of %d x the 1-thread rate: other processes "
                     "hold cores, so the timings below are no %d-thread figures" % (threads, 100 * scaling, threads,
                                                                                   threads))
        print(line)
    # (title, width) of each column after the workload's.
    cols = [("seqnet", 12), ("spread", 7)]
    if with_torch:
        cols += [("PyTorch", 12), ("spread", 7), ("seqnet/PyTorch", 15), ("cpu ratio", 10)]
    if with_dnn:
        cols += [("oneDNN", 12), ("spread", 7), ("seqnet/oneDNN", 14)]
    if peak_gflops:
        cols += [("seqnet %peak", 13)]
        if with_dnn:
            cols += [("oneDNN %peak", 13)]
    fmt = "%-26s" + "".join(" %%%ds" % w for _, w in cols)
    print(fmt % tuple(["workload"] + [c for c, _ in cols]))
    ratios, dnn_ratios = [], []
    rows = []
    for name in names:
        s = statistics.median(seq[name]) if seq.get(name) else None
        t = statistics.median(tor[name]) if tor.get(name) else None
        d = statistics.median(dnn[name]) if with_dnn and dnn.get(name) else None
        ratio = s / t if (s is not None and t) else None
        dnn_ratio = s / d if (s is not None and d) else None
        cpu_ratio = ratio_of(seq_cpu.get(name), tor_cpu.get(name))
        flops = step_flops(name)
        seq_peak = flops / s / (peak_gflops * 1e9) if (flops and s and peak_gflops) else None
        dnn_peak = flops / d / (peak_gflops * 1e9) if (flops and d and peak_gflops) else None
        if ratio is not None:
            ratios.append(ratio)
        if dnn_ratio is not None:
            dnn_ratios.append(dnn_ratio)
        row = {"workload": name, "seqnet_s": s, "torch_s": t, "ratio": ratio, "cpu_ratio": cpu_ratio,
               "seqnet_runs_s": seq.get(name, []), "torch_runs_s": tor.get(name, []),
               "seqnet_cpu_s": seq_cpu.get(name, []), "torch_cpu_s": tor_cpu.get(name, [])}
        if with_dnn:
            row.update({"onednn_s": d, "onednn_ratio": dnn_ratio, "onednn_runs_s": dnn.get(name, [])})
        if peak_gflops:
            row.update({"flops": flops, "peak_gflops": peak_gflops, "seqnet_peak_fraction": seq_peak,
                        "onednn_peak_fraction": dnn_peak})
        rows.append(row)
        cells = [fmt_time(s), spread(seq.get(name))]
        if with_torch:
            cells += [fmt_time(t), spread(tor.get(name)), "-" if ratio is None else "%.3f" % ratio,
                      "-" if cpu_ratio is None else "%.3f" % cpu_ratio]
        if with_dnn:
            cells += [fmt_time(d), spread(dnn.get(name)), "-" if dnn_ratio is None else "%.3f" % dnn_ratio]
        if peak_gflops:
            cells += [pct(seq_peak)]
            if with_dnn:
                cells += [pct(dnn_peak)]
        print(fmt % tuple([name] + cells))
    if ratios:
        print(geomean_line(ratios, "PyTorch"))
    if dnn_ratios:
        print(geomean_line(dnn_ratios, "oneDNN"))
    # mixed_bfloat16 (seqnet only): its speed-up over seqnet's float32 train.
    for name in names:
        if "/train_bf16/" in name and seq.get(name) and seq.get(name.replace("/train_bf16/", "/train/")):
            f32 = statistics.median(seq[name.replace("/train_bf16/", "/train/")])
            b16 = statistics.median(seq[name])
            print("mixed_bfloat16 %s: %.2fx seqnet float32 (%s products)" % (
                name.replace("/train_bf16/", "/train/"), f32 / b16, seq_ctx.get("seqnet_bf16", "bfloat16")))
    # Single steps read every weight once: bound by the cache bandwidth.
    read = (peak or {}).get("read_gbytes_per_s", {})
    for name in names:
        m = WORKLOAD_RE.match(name)
        if not m or m.group(2) != "infer" or m.group(3) != "1" or m.group(4) != "1" or not seq.get(name):
            continue
        I, H = int(m.group(5)), int(m.group(6))
        G = 4 if m.group(1) == "LSTM" else 3
        weight_bytes = 4 * G * H * (I + H)
        level = next((b for b in sorted(read, key=int) if int(b) >= weight_bytes), None)
        line = "single step %s: %.1f us; weights %d KB" % (name, statistics.median(seq[name]) * 1e6,
                                                           weight_bytes >> 10)
        if level:
            floor = weight_bytes / (read[level] * 1e9) / threads
            line += ("; reading them at the measured read bandwidth (%.0f GB/s per thread, %d KB buffer) "
                     "takes %.1f us on %d thread%s, the FMAs at peak %.1f us" % (
                         read[level], int(level) >> 10, floor * 1e6, threads, "" if threads == 1 else "s",
                         step_flops(name) / (peak_gflops * 1e9) * 1e6 if peak_gflops else float("nan")))
        print(line)
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
    with_dnn = not args.no_onednn and os.access(args.onednn, os.X_OK)
    if not with_dnn and not args.no_onednn:
        print("compare.py: %s not found (build the onednn_peer target; needs libdnnl-dev); leaving oneDNN out" %
              args.onednn, file=sys.stderr)
    thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    blas_core = openblas_core(args.bench)
    peak = None
    if not args.no_peak:
        if os.access(args.peak, os.X_OK):
            print("peak_probe (threads %s)..." % ",".join(map(str, thread_counts)), file=sys.stderr)
            peak = run_peak(args, thread_counts)
        else:
            print("compare.py: %s not found (build the peak_probe target); no %%peak columns" % args.peak,
                  file=sys.stderr)
    report = []
    for threads in thread_counts:
        seq, tor, seq_cpu, tor_cpu, dnn, dnn_cpu = {}, {}, {}, {}, {}, {}
        seq_ctx, tor_ctx, dnn_ctx = {}, {}, {}
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
            if with_dnn:
                print("threads %d, round %d/%d: onednn_peer..." % (threads, r + 1, args.rounds), file=sys.stderr)
                got = run_onednn(args, threads)
                if got is None:
                    with_dnn = False
                    dnn, dnn_cpu = {}, {}
                else:
                    times, cpu, dnn_ctx = got
                    for k, v in times.items():
                        dnn.setdefault(k, []).extend(v)
                    for k, v in cpu.items():
                        dnn_cpu.setdefault(k, []).extend(v)
        names = list(seq.keys())
        names += [k for k in tor.keys() if k not in names]
        names += [k for k in dnn.keys() if k not in names]
        rows = print_table(threads, names, seq, tor, seq_cpu, tor_cpu, seq_ctx, tor_ctx, with_torch,
                           dnn if with_dnn else None, dnn_ctx, peak, blas_core)
        entry = {"threads": threads, "seqnet_context": seq_ctx, "torch_context": tor_ctx, "rows": rows}
        if blas_core:
            entry["openblas_core"] = blas_core
        if with_dnn:
            entry["onednn_context"] = dnn_ctx
            entry["onednn_cpu_s"] = dnn_cpu
        if peak:
            entry["peak"] = peak
        report.append(entry)
    if not args.no_seeds:
        if os.access(args.seeds_python, os.X_OK):
            print("\nseed workloads end to end (bench/python_seeds.py, 1 thread; ratio below 1: seqnet is faster)")
            print("seqnet/PyTorch targets: seq2seq <= 0.2, reverse <= 0.04", flush=True)
            r = subprocess.run([args.seeds_python, os.path.join(HERE, "python_seeds.py"), "--threads", "1",
                                "--samples", str(args.seed_samples)], stdout=subprocess.PIPE, text=True)
            print(r.stdout, end="")
            report.append({"seed_workloads": r.stdout, "returncode": r.returncode})
        else:
            print("compare.py: %s not found (make python); no seed workloads" % args.seeds_python, file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
