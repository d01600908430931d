#!/usr/bin/env python3
"""Data-parallel training on 2 ranks (mpirun, loopback only) against one
process, with dist_worker (tests/dist/dist_worker.cpp).

    dist_test.py CASE DIST_WORKER WORKDIR HAVE_MPI

CASE:
  equivalence  2 ranks train as one process does with the same global batch:
               the weights within 1e-6 after every epoch's steps, the History
               (loss, metrics, validation) within 1e-6 relative, the same
               EarlyStopping epoch; both ranks hold the same bits; only
               rank 0 prints and writes the CSV log.
  options      the same for bucketing, a stateful model, and each optimizer;
               with dropout the ranks still agree bit for bit.
  failures     a rank that dies, one that hangs and one whose batch throws:
               the others stop with a clear error within a bounded time, and
               every checkpoint left behind loads.
  resume       a checkpoint of 2 ranks resumed on 1 process, and one of 1
               process resumed on 2 ranks, continue the run it came from.
  cli          `mpirun -np 2 seqnet run seq2seq reverse --quick` (DIST_WORKER
               is then the seqnet program): the same figures as one process,
               world_size 2 in the records, one set of files.

Exit 77 (skipped) when the build has no MPI or mpirun is missing.
"""

import array
import glob
import json
import os
import shutil
import subprocess
import sys
import time

CASE, WORKER, WORK, HAVE_MPI = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

if HAVE_MPI != "1":
    print("skipped: this build has no MPI (scripts/install-deps installs libopenmpi-dev)")
    sys.exit(77)
if shutil.which("mpirun") is None:
    print("skipped: mpirun not found (scripts/install-deps installs openmpi-bin)")
    sys.exit(77)

ENV = dict(os.environ)
# CI runs as root; loopback only.
ENV.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_btl": "self,tcp",
            "OMPI_MCA_btl_tcp_if_include": "lo", "OMPI_MCA_oob_tcp_if_include": "lo",
            "OMPI_MCA_rmaps_base_oversubscribe": "1"})
for k in ("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"):
    ENV.pop(k, None)

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def run(scenario, out, ranks, *opts, env=None, timeout=240, expect_ok=True):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cmd = [WORKER, scenario, out, *opts]
    if ranks > 0:
        cmd = ["mpirun", "-np", str(ranks)] + cmd
    e = dict(ENV)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - t0
    if expect_ok and p.returncode != 0:
        print(p.stdout[-4000:], p.stderr[-4000:])
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}")
    return p, took


def weights(path):
    a = array.array("f")
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


def history(path):
    with open(path) as f:
        return json.load(f)["history"]


def max_diff(a, b):
    return max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) else float("inf")


def compare(name, scenario, *opts, wtol=1e-6, htol=1e-6):
    """Trains `scenario` on one process and on 2 ranks; checks they agree."""
    one, two = os.path.join(WORK, name, "one"), os.path.join(WORK, name, "two")
    run(scenario, one, 0, *opts)
    p, _ = run(scenario, two, 2, *opts)
    w1, w20, w21 = (weights(os.path.join(d, f"rank{r}.weights")) for d, r in ((one, 0), (two, 0), (two, 1)))
    check(w20.tobytes() == w21.tobytes(), f"{name}: the two ranks' weights differ")
    d = max_diff(w1, w20)
    print(f"{name}: {len(w1)} weights, max |2 ranks - 1 process| = {d:.3g}")
    check(d <= wtol, f"{name}: weights of 2 ranks differ from one process by {d:.3g} > {wtol}")
    h1, h2 = history(os.path.join(one, "rank0.history.json")), history(os.path.join(two, "rank0.history.json"))
    h21 = history(os.path.join(two, "rank1.history.json"))
    check(h2 == h21, f"{name}: the ranks' Histories differ")
    check(sorted(h1) == sorted(h2), f"{name}: History keys {sorted(h1)} vs {sorted(h2)}")
    for k in h1:
        a, b = h1[k], h2.get(k, [])
        check(len(a) == len(b), f"{name}: History '{k}' has {len(a)} epochs on one process, {len(b)} on 2 ranks")
        for e, (x, y) in enumerate(zip(a, b)):
            check(abs(x - y) <= htol * max(1.0, abs(x)), f"{name}: History '{k}' epoch {e}: {x} vs {y}")
    return p, one, two


def case_equivalence():
    p, _, two = compare("seq", "seq", "--shuffle", "--epochs", "4")
    # Only rank 0 prints the progress lines.
    check(p.stdout.count("Epoch 1/4") == 1, "seq: 'Epoch 1/4' printed other than once")
    p, one, two = compare("cls", "cls", "--shuffle", "--epochs", "30")
    epochs = len(history(os.path.join(two, "rank0.history.json"))["loss"])
    check(epochs < 30, f"cls: EarlyStopping should stop before 30 epochs (ran {epochs})")
    with open(os.path.join(two, "log.csv")) as f:
        lines = f.read().splitlines()
    check(len(lines) == epochs + 1 and lines[0].startswith("epoch"),
          f"cls: the CSV log has {len(lines)} lines for {epochs} epochs (one writer, one header expected)")


def case_options():
    compare("bucket", "seq", "--bucket", "--shuffle", "--epochs", "3")
    compare("stateful", "stateful", "--epochs", "3")
    for opt in ("sgd", "rmsprop", "adagrad", "adam"):
        compare(f"seq-{opt}", "seq", "--shuffle", "--optimizer", opt, "--epochs", "2")
    two = os.path.join(WORK, "dropout")
    run("dropout", two, 2, "--epochs", "3")
    w0, w1 = weights(os.path.join(two, "rank0.weights")), weights(os.path.join(two, "rank1.weights"))
    check(w0.tobytes() == w1.tobytes(), "dropout: the two ranks' weights differ")


def checkpoints_load(ckpt):
    files = sorted(os.listdir(ckpt))
    for f in files:
        check(f.startswith("ckpt-") and f.endswith(".seqnet"), f"a file other than a checkpoint was left: {f}")
    for f in files:
        # Loading it and training 0 epochs: the file must be whole.
        p, _ = run("cls", os.path.join(WORK, "load"), 0, "--resume", os.path.join(ckpt, f), "--epochs", "1",
                   "--initial-epoch", "1", expect_ok=False)
        check(p.returncode == 0, f"checkpoint {f} does not load: {p.stderr[-500:]}")
    return files


def case_failures():
    # Rank 1 is killed in epoch 2: the job ends, with a nonzero status, and
    # the checkpoints of epoch 1 (and of nothing later) are whole.
    ckpt = os.path.join(WORK, "die-ckpt")
    shutil.rmtree(ckpt, ignore_errors=True)
    os.makedirs(ckpt)
    p, took = run("die", os.path.join(WORK, "die"), 2, "--epochs", "5", "--checkpoint", ckpt, timeout=120,
                  expect_ok=False)
    print(f"die: exit {p.returncode} after {took:.1f} s")
    check(p.returncode != 0, "die: mpirun reported success although a rank died")
    check(took < 60, f"die: took {took:.1f} s to stop")
    text = p.stdout + p.stderr
    check("signal 9" in text or "Killed" in text or "killed" in text, f"die: no clear error: {text[-800:]}")
    files = checkpoints_load(ckpt)
    check(files == ["ckpt-01.seqnet"], f"die: checkpoints left {files}, expected ckpt-01.seqnet")

    # Rank 1 stops answering: rank 0 gives up after SEQNET_DIST_TIMEOUT.
    p, took = run("hang", os.path.join(WORK, "hang"), 2, "--epochs", "5", env={"SEQNET_DIST_TIMEOUT": "3"},
                  timeout=120, expect_ok=False)
    print(f"hang: exit {p.returncode} after {took:.1f} s")
    check(p.returncode != 0, "hang: reported success")
    check(took < 60, f"hang: took {took:.1f} s to stop")
    check("no answer from the other ranks within 3 s" in p.stderr, f"hang: no clear error: {p.stderr[-800:]}")

    # Rank 1's batch throws: rank 1 reports its own error, rank 0 names rank 1.
    p, took = run("throw", os.path.join(WORK, "throw"), 2, "--epochs", "2", timeout=120, expect_ok=False)
    print(f"throw: exit {p.returncode} after {took:.1f} s")
    check(p.returncode != 0, "throw: reported success")
    check(took < 60, f"throw: took {took:.1f} s to stop")
    check("dist_worker (rank 1)" in p.stderr and "99" in p.stderr, f"throw: rank 1's error missing: {p.stderr[-800:]}")
    check("dist_worker (rank 0)" in p.stderr and "rank 1 failed in this batch" in p.stderr,
          f"throw: rank 0 does not name rank 1: {p.stderr[-800:]}")


def case_cli():
    records = {}
    for ranks in (0, 2):
        out = os.path.join(WORK, f"run-{ranks or 1}")
        shutil.rmtree(out, ignore_errors=True)
        cmd = [WORKER, "run", "seq2seq", "reverse", "--quick", "--verbose", "0", "--out", out]
        if ranks:
            cmd = ["mpirun", "-np", str(ranks)] + cmd
        p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=240)
        if p.returncode != 0:
            print(p.stdout[-3000:], p.stderr[-3000:])
            raise SystemExit(f"FAIL: {' '.join(cmd)} exited {p.returncode}")
        if ranks:
            check(p.stdout.count("=== seq2seq") == 1, "cli: the other rank printed too")
        for name in ("seq2seq", "reverse"):
            with open(os.path.join(out, name + ".json")) as f:
                records[(ranks, name)] = json.load(f)
    for name in ("seq2seq", "reverse"):
        one, two = records[(0, name)], records[(2, name)]
        check(one["world_size"] == 1 and two["world_size"] == 2,
              f"cli: {name}: world_size {one['world_size']} / {two['world_size']}")
        for k, v in one["metrics"].items():
            w = two["metrics"][k]
            print(f"cli: {name} {k}: 1 process {v}, 2 ranks {w}")
            check(abs(v - w) <= 1e-6 * max(1.0, abs(v)), f"cli: {name}: {k} {v} on one process, {w} on 2 ranks")


def case_resume():
    for first, then in ((2, 0), (0, 2)):
        name = f"resume-{first or 1}-to-{then or 1}"
        base = os.path.join(WORK, name)
        ckpt = os.path.join(base, "ckpt")
        os.makedirs(ckpt, exist_ok=True)
        straight = os.path.join(base, "straight")
        run("seq", straight, first, "--shuffle", "--epochs", "4")
        run("seq", os.path.join(base, "part1"), first, "--shuffle", "--epochs", "2", "--checkpoint", ckpt)
        resumed = os.path.join(base, "resumed")
        run("seq", resumed, then, "--shuffle", "--epochs", "4", "--initial-epoch", "2", "--resume",
            os.path.join(ckpt, "ckpt-02.seqnet"))
        a, b = weights(os.path.join(straight, "rank0.weights")), weights(os.path.join(resumed, "rank0.weights"))
        d = max_diff(a, b)
        print(f"{name}: max |resumed - straight| = {d:.3g}")
        check(d <= 1e-6, f"{name}: the resumed run differs from the straight one by {d:.3g}")
        ha, hb = history(os.path.join(straight, "rank0.history.json")), history(os.path.join(resumed, "rank0.history.json"))
        for e in (0, 1):
            x, y = ha["loss"][2 + e], hb["loss"][e]
            check(abs(x - y) <= 1e-6 * max(1, abs(x)), f"{name}: epoch {3 + e} loss {y} vs {x} straight")


{"equivalence": case_equivalence, "options": case_options, "failures": case_failures, "resume": case_resume,
 "cli": case_cli}[CASE]()
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("ok")
