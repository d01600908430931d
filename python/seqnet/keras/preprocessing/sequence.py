"""keras.preprocessing.sequence.pad_sequences."""

import numpy as np


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (or truncates) each sequence to `maxlen`, as Keras does."""
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding must be "pre" or "post", got {padding!r}')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating must be "pre" or "post", got {truncating!r}')
    seqs = [np.asarray(s) for s in sequences]
    lengths = [len(s) for s in seqs]
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0, got {maxlen}")
    sample_shape = ()
    for s in seqs:
        if len(s):
            sample_shape = s.shape[1:]
            break
    out = np.full((len(seqs), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(seqs):
        if not len(s) or maxlen == 0:
            continue
        t = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if t.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: sequence {i} has elements of shape {t.shape[1:]}, expected {sample_shape}")
        if padding == "post":
            out[i, :len(t)] = t
        else:
            out[i, -len(t):] = t
    return out


__all__ = ["pad_sequences"]
