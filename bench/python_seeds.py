#!/usr/bin/env python3
"""The seed 02 seq2seq and seed 01 reverse listings' training through
seqnet.keras and through PyTorch on the same machine, and the Python
overhead per fit batch. Run in the environment `make python` fills (it sees
Debian's python3-torch):

    .venv/bin/python bench/python_seeds.py [--threads 1] [--samples 100000]

seq2seq: seed 02's encoder-decoder (LSTM(128) encoder whose states start an
LSTM(128) decoder, Dense(51) softmax), teacher forcing, Adam, batch 32, one
epoch over --samples samples (6 source steps, 3 target steps, 51 one-hot
features). reverse: seed 01's fourth model (LSTM(16) returning sequences and
states into a second LSTM(16), TimeDistributed Dense(10) softmax), Adam,
batch 32, 2000 samples of T = 4, 100 epochs (no early stopping, so both do
the same work). Only training is timed. Python overhead per batch: the same
fit with one Python callback that does nothing against none (what every
batch pays to cross into Python and back), and the whole fit call against
the core's own time per step (fit's conversion of the arrays included).
A benchmark, not a test: it prints ratios measured in one run.
"""

import argparse
import os
import platform
import time

import numpy as np

import seqnet.keras as keras
from seqnet.keras.layers import LSTM, Dense, Input, TimeDistributed
from seqnet.keras.models import Model


def cpu_model():
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown"
    flags = fields.get("flags", "").split()
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return (f"{fields.get('model name', 'unknown')} (family {fields.get('cpu family', '?')} model "
            f"{fields.get('model', '?')}; {', '.join(isa) or 'no AVX2'})")


def seq2seq_data(n, n_in=6, n_out=3, card=51, seed=1):
    rng = np.random.default_rng(seed)
    src = rng.integers(1, card, size=(n, n_in))
    tgt = src[:, :n_out][:, ::-1]
    tin = np.concatenate([np.zeros((n, 1), dtype=np.int64), tgt[:, :-1]], axis=1)
    eye = np.eye(card, dtype=np.float32)
    return eye[src], eye[tin], eye[tgt]


def reverse_data(n, T=4, F=10, seed=2):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, F, size=(n, T))
    eye = np.eye(F, dtype=np.float32)
    return eye[ids], eye[ids[:, ::-1]]


def seqnet_seq2seq():
    enc_in = Input(shape=(None, 51))
    _, h, c = LSTM(128, return_state=True)(enc_in)
    dec_in = Input(shape=(None, 51))
    dec, _, _ = LSTM(128, return_sequences=True, return_state=True)(dec_in, initial_state=[h, c])
    model = Model([enc_in, dec_in], Dense(51, activation="softmax")(dec))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["acc"])
    return model


def seqnet_reverse():
    inp = Input(shape=(4, 10))
    seq, h, c = LSTM(16, return_sequences=True, return_state=True)(inp)
    out = TimeDistributed(Dense(10, activation="softmax"))(LSTM(16, return_sequences=True)(seq, initial_state=[h, c]))
    model = Model(inp, out)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class Nothing(keras.callbacks.Callback):
    pass


def time_fit(make, x, y, epochs, callbacks=None):
    keras.utils.set_random_seed(1)
    model = make()
    t0 = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, shuffle=False, callbacks=callbacks)
    return time.perf_counter() - t0


def torch_train(kind, data, epochs, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)

    class Seq2Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.LSTM(51, 128, batch_first=True)
            self.dec = torch.nn.LSTM(51, 128, batch_first=True)
            self.out = torch.nn.Linear(128, 51)

        def forward(self, x1, x2):
            _, state = self.enc(x1)
            return self.out(self.dec(x2, state)[0])

    class Reverse(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.LSTM(10, 16, batch_first=True)
            self.b = torch.nn.LSTM(16, 16, batch_first=True)
            self.out = torch.nn.Linear(16, 10)

        def forward(self, x):
            seq, state = self.a(x)
            return self.out(self.b(seq, state)[0])

    model = Seq2Seq() if kind == "seq2seq" else Reverse()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs = [torch.from_numpy(a) for a in data[:-1]]
    y = torch.from_numpy(data[-1].argmax(-1))
    n = y.shape[0]
    t0 = time.perf_counter()
    for _ in range(epochs):
        for b0 in range(0, n, 32):
            opt.zero_grad()
            logits = model(*[a[b0:b0 + 32] for a in xs])
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y[b0:b0 + 32].reshape(-1))
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=100000)
    ap.add_argument("--reverse-epochs", type=int, default=100)
    args = ap.parse_args()
    keras_threads = args.threads
    from seqnet import _seqnet
    _seqnet.set_num_threads(keras_threads)
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); threads: {args.threads}")
    x1, x2, y = seq2seq_data(args.samples)
    rx, ry = reverse_data(2000)
    cases = [("seq2seq", seqnet_seq2seq, [x1, x2], y, 1, (x1, x2, y)),
             ("reverse", seqnet_reverse, rx, ry, args.reverse_epochs, (rx, ry))]
    print(f"{'workload':10} {'steps':>7} {'seqnet.keras s':>15} {'PyTorch s':>10} {'ratio':>7} "
          f"{'py overhead us/batch':>21} {'of step':>8}")
    for name, make, x, yy, epochs, torch_data in cases:
        n = yy.shape[0]
        steps = epochs * ((n + 31) // 32)
        plain_runs = [time_fit(make, x, yy, epochs) for _ in range(3)]
        cb_runs = [time_fit(make, x, yy, epochs, [Nothing()]) for _ in range(3)]
        plain, with_cb = min(plain_runs), min(cb_runs)
        noise = (max(plain_runs) - plain) / steps * 1e6
        try:
            peer = torch_train(name, torch_data, epochs, args.threads)
        except ImportError:
            peer = float("nan")
        overhead_us = (with_cb - plain) / steps * 1e6  # may come out below zero: noise
        step_us = plain / steps * 1e6
        print(f"{name:10} {steps:7d} {plain:15.2f} {peer:10.2f} {plain / peer:7.3f} {overhead_us:21.1f} "
              f"{overhead_us / step_us:8.1%}   (step {step_us:.0f} us; spread of 3 runs {noise:.1f} us/batch)")


if __name__ == "__main__":
    main()
