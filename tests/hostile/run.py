#!/usr/bin/env python3
"""Runs the seqnet program on the crafted inputs of make_inputs.py, each
under an address-space limit (ulimit -v 4000000 by default), and checks that
every one ends in a clear error: exit status 1 (not a signal, not success),
one line on stderr of bounded length holding the expected words, and no
hang (a 60 s guard). The wall times are reported, not asserted (they depend
on the machine); `make hostile` prints them for the full-size inputs. Prints a table of the wall time and peak memory of each.

Usage: run.py SEQNET_PROGRAM INPUT_DIR [--limit-kb N] [--timeout S]
       (N = 0: no limit; S: the hang guard, default 60)
"""
import os
import resource
import subprocess
import sys
import time

MAX_MESSAGE = 4096 + 200  # seqnet::Error's bound plus the program's prefix


def cases(d):
    m = os.path.join(d, "repeat.safetensors")
    j = lambda name: os.path.join(d, name)
    return [
        # (item, name, arguments, expected words of the message)
        (1, "summary of a directory", ["summary", j("dir")], "is a directory"),
        (1, "summary of a FIFO", ["summary", j("fifo")], "not a regular file"),
        (1, "summary of /dev/zero", ["summary", "/dev/zero"], "not a regular file"),
        (1, "predict --input /dev/zero", ["predict", m, "--input", "/dev/zero", "--output", j("y.npy")],
         "not a regular file"),
        (1, "predict --input FIFO", ["predict", m, "--input", j("fifo"), "--output", j("y.npy")],
         "not a regular file"),
        (2, "state dict: member lying about its size (JSON arch)",
         ["import-torch", "--model", j("repeat_arch.json"), "--state-dict", j("lying.npz"), "--map", "rnn=lstm",
          "--output", j("o.safetensors")], "inflates to more than the 100 bytes its header declares"),
        (2, "state dict: bomb (JSON arch)",
         ["import-torch", "--model", j("repeat_arch.json"), "--state-dict", j("bomb.npz"), "--map", "rnn=lstm",
          "--output", j("o.safetensors")], "decompression bomb"),
        (2, "state dict: bomb (model file: limit from the model)",
         ["import-torch", "--model", m, "--state-dict", j("bomb.npz"), "--map", "rnn=lstm",
          "--output", j("o.safetensors")], "NpzLimits::max_total_bytes"),
        (3, "predict: RepeatVector(2^24) -> LSTM(1)",
         ["predict", m, "--input", j("x64.npy"), "--output", j("y.npy")], "would need at least"),
        (4, "import-torch: LSTM(4096), map names no layer",
         ["import-torch", "--model", j("lstm4096_arch.json"), "--state-dict", j("tiny_sd.npz"), "--map", "fc=nope",
          "--output", j("o.safetensors")], "does not have"),
        (5, "summary: .keras archive with a deflated bomb", ["summary", j("bomb.keras")], "decompression bomb"),
        (5, "summary: .keras member lying about its size", ["summary", j("lying.keras")],
         "inflates to more than the 100 bytes its header declares"),
        (5, "summary: .keras member named ../../config.json", ["summary", j("traversal.keras")], "path traversal"),
        (5, "summary: TF.js manifest declaring 16 GiB beside 16 bytes", ["summary", j("tfjs_huge/model.json")],
         "shards hold 16"),
        (4, "import-torch: LSTM(4096), 1-value state dict",
         ["import-torch", "--model", j("lstm4096_arch.json"), "--state-dict", j("tiny_sd.npz"), "--map", "fc=rnn",
          "--output", j("o.safetensors")], "holds only 1 weight values"),
    ]


TIMEOUT = 60.0


def run(argv, limit_kb):
    def limit():
        if limit_kb > 0:
            resource.setrlimit(resource.RLIMIT_AS, (limit_kb * 1024, limit_kb * 1024))
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limit)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None, time.monotonic() - t0, 0, b"(killed after %d s)" % TIMEOUT
    wall = time.monotonic() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far
    return p.returncode, wall, peak_kb, err


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    prog, d = sys.argv[1], sys.argv[2]
    limit_kb = 4000000
    if "--limit-kb" in sys.argv:
        limit_kb = int(sys.argv[sys.argv.index("--limit-kb") + 1])
    if "--timeout" in sys.argv:
        global TIMEOUT
        TIMEOUT = float(sys.argv[sys.argv.index("--timeout") + 1])
    # The model file of item 3, made from its architecture and state dict.
    setup = [prog, "import-torch", "--model", os.path.join(d, "repeat_arch.json"), "--state-dict",
             os.path.join(d, "repeat_sd.npz"), "--map", "rnn=lstm", "--output", os.path.join(d, "repeat.safetensors")]
    subprocess.run(setup, check=True, stdout=subprocess.DEVNULL)
    failures = 0
    print(f"| item | input | exit | wall s | peak RSS MB | message |")
    print(f"|---|---|---|---|---|---|")
    for item, name, args, words in cases(d):
        # Peak RSS per case: run each in a fresh child of a fresh helper, so
        # RUSAGE_CHILDREN holds that case alone.
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            rc, wall, _, err = run([prog] + args, limit_kb)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            os.write(w, repr((rc, wall, peak, err)).encode())
            os._exit(0)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        rc, wall, peak_kb, err = eval(data.decode())
        text = err.decode("utf-8", "replace").rstrip("\n")
        problems = []
        if rc != 1:
            problems.append(f"exit status {rc}, expected 1")
        if "\n" in text:
            problems.append(f"{text.count(chr(10)) + 1} lines on stderr, expected 1")
        if len(err) > MAX_MESSAGE:
            problems.append(f"a message of {len(err)} bytes")
        if words not in text:
            problems.append(f"message lacks '{words}'")
        shown = text if len(text) <= 110 else text[:107] + "..."
        print(f"| {item} | {name} | {rc} | {wall:.2f} | {peak_kb / 1024:.0f} | {shown.replace('|', '/')} |")
        for pr in problems:
            print(f"FAIL: {name}: {pr}\n  stderr: {text[:300]}", file=sys.stderr)
        failures += bool(problems)
    if failures:
        sys.exit(f"{failures} crafted input(s) did not end in a clear error")


if __name__ == "__main__":
    main()
