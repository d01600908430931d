#!/usr/bin/env python3
"""The `seqnet run seq2seq` training workload in PyTorch, for a like-for-like
time on the same machine: seed 02's encoder-decoder (LSTM(128) encoder whose
final states initialise an LSTM(128) decoder, Dense(51) softmax), teacher
forcing, Adam (lr 1e-3, eps 1e-7), batch 32, one epoch over 100,000 samples
(6 source steps, 3 target steps, 51 one-hot features). Only the training loop
is timed; data generation is not.

Run with Debian's python3-torch:  /usr/bin/python3 bench/torch_seq2seq.py --threads 1
"""
import argparse
import time

import numpy as np
import torch


def dataset(n, n_in=6, n_out=3, card=51, seed=1):
    rng = np.random.default_rng(seed)
    src = rng.integers(1, card, size=(n, n_in))
    tgt = src[:, :n_out][:, ::-1]
    tin = np.concatenate([np.zeros((n, 1), dtype=np.int64), tgt[:, :-1]], axis=1)
    eye = np.eye(card, dtype=np.float32)
    return eye[src], eye[tin], tgt.copy()


class Seq2Seq(torch.nn.Module):
    def __init__(self, card=51, units=128):
        super().__init__()
        self.enc = torch.nn.LSTM(card, units, batch_first=True)
        self.dec = torch.nn.LSTM(card, units, batch_first=True)
        self.out = torch.nn.Linear(units, card)

    def forward(self, x1, x2):
        _, state = self.enc(x1)
        y, _ = self.dec(x2, state)
        return self.out(y)  # logits; softmax + cross-entropy below


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=100000)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x1, x2, y = dataset(args.samples)
    x1, x2, y = torch.from_numpy(x1), torch.from_numpy(x2), torch.from_numpy(y)
    model = Seq2Seq()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    total, steps = 0.0, 0
    for b0 in range(0, args.samples, 32):
        xb1, xb2, yb = x1[b0:b0 + 32], x2[b0:b0 + 32], y[b0:b0 + 32]
        opt.zero_grad()
        logits = model(xb1, xb2)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        loss.backward()
        opt.step()
        total += loss.item()
        steps += 1
    secs = time.perf_counter() - t0
    print(f"pytorch {torch.__version__} threads {args.threads}: {steps} steps in {secs:.2f} s "
          f"({secs / steps * 1e3:.2f} ms/step), mean loss {total / steps:.4f}")


if __name__ == "__main__":
    main()
