#!/usr/bin/env python3
"""Writes the crafted inputs of the hostile-input checks into a directory.

Each input is small on disk but was built to cost far more than its size:
  dir/                a directory where a file is expected
  fifo                a FIFO (reading it would wait forever)
  lying.npz           one deflated member that inflates to INFLATE bytes but
                      whose headers declare 100 bytes
  bomb.npz            one valid deflated member of BOMB bytes of zeros
  repeat_arch.json    Input(64) -> RepeatVector(2^24) -> LSTM(1): 2 KB of
                      weights, gigabytes of activations for one sample
  repeat_sd.npz       the LSTM(1)'s PyTorch state dict (import-torch turns the
                      two into a model file)
  x64.npy             one sample for it, shape (1, 64)
  lstm4096_arch.json  Input(None, 4096) -> LSTM(4096) named "rnn": an
                      orthogonal initializer of 4096 x 16384
  tiny_sd.npz         a state dict that maps nowhere
  bomb.keras          a Keras archive whose model.weights.h5 is BOMB bytes
                      of deflated zeros
  lying.keras         a Keras archive whose model.weights.h5 inflates to
                      INFLATE bytes but declares 100
  traversal.keras     a Keras archive with a member named ../../config.json
  tfjs_huge/          a TF.js model.json whose manifest declares a
                      65536 x 65536 weight (16 GiB) beside a 16-byte shard

Sizes: the default ones keep the tests fast (the checks must refuse the
inputs before inflating them, so the sizes only change the generation
time); --full writes the sizes of the issue that reported them (a 4.0 GB
lying member, a 3.9 GB bomb; about 4 MB each on disk, ten seconds to write).

Standard library only. Usage: make_inputs.py OUT_DIR [--full]
"""
import json
import os
import struct
import sys
import zipfile
import zlib


def npy_header(descr, shape):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    total = 10 + len(d) + 1
    pad = (64 - total % 64) % 64
    d = d + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode("latin1")


def npy_f32(shape, values):
    return npy_header("<f4", shape) + struct.pack("<%df" % len(values), *values)


def write_npz(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name + ".npy", data)


def write_zero_member_npz(path, name, n_floats):
    """A deflated member '<name>.npy' holding n_floats float32 zeros, streamed
    (never all in memory)."""
    header = npy_header("<f4", [n_floats])
    big = len(header) + 4 * n_floats > (1 << 31) - 1  # zipfile's limit without zip64 fields
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=big) as z:
        with z.open(name + ".npy", "w", force_zip64=big) as f:
            f.write(header)
            chunk = bytes(1 << 24)
            left = 4 * n_floats
            while left > 0:
                k = min(left, len(chunk))
                f.write(chunk[:k])
                left -= k


def declare_size(path, size):
    """Rewrites every member's uncompressed size, local and central headers
    alike (a consistent lie)."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    i = 0
    while True:
        j = data.find(b"PK\x03\x04", i)
        if j < 0:
            break
        struct.pack_into("<I", data, j + 22, size)
        i = j + 4
    i = 0
    while True:
        j = data.find(b"PK\x01\x02", i)
        if j < 0:
            break
        struct.pack_into("<I", data, j + 24, size)
        i = j + 4
    with open(path, "wb") as f:
        f.write(data)


def sequential(layers):
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def layer(cls, **config):
    return {"class_name": cls, "config": config}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    full = "--full" in sys.argv[2:]
    os.makedirs(os.path.join(out, "dir"), exist_ok=True)
    fifo = os.path.join(out, "fifo")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)

    # Item 2: decompression bombs.
    # The lie is told in the 32-bit size fields, so the lying member stays
    # below 2 GiB (no zip64 fields); the bomb has zip64 fields at full size.
    lying_floats = (2_000_000_000 if full else 64 << 20) // 4
    bomb_floats = (3_900_000_000 if full else 256 << 20) // 4
    write_zero_member_npz(os.path.join(out, "lying.npz"), "x", lying_floats)
    declare_size(os.path.join(out, "lying.npz"), 100)
    write_zero_member_npz(os.path.join(out, "bomb.npz"), "x", bomb_floats)

    # Keras archives: the same bombs inside a .keras zip, and a member name
    # that climbs out of the archive.
    config = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [
        layer("InputLayer", batch_input_shape=[None, 3, 2], name="x"), layer("GRU", units=2, name="g")]}})
    for name, n_bytes, lie in (("bomb.keras", 4 * bomb_floats, False), ("lying.keras", 4 * lying_floats, True)):
        path = os.path.join(out, name)
        big = n_bytes > (1 << 31) - 1
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=big) as z:
            z.writestr("config.json", config)
            with z.open("model.weights.h5", "w", force_zip64=big) as f:
                chunk = bytes(1 << 24)
                left = n_bytes
                while left > 0:
                    f.write(chunk[:min(left, len(chunk))])
                    left -= len(chunk)
        if lie:
            declare_size(path, 100)
    with zipfile.ZipFile(os.path.join(out, "traversal.keras"), "w") as z:
        z.writestr("../../config.json", config)
    # TF.js: a manifest whose byte counts disagree with its shard.
    os.makedirs(os.path.join(out, "tfjs_huge"), exist_ok=True)
    with open(os.path.join(out, "tfjs_huge", "group1-shard1of1.bin"), "wb") as f:
        f.write(bytes(16))
    with open(os.path.join(out, "tfjs_huge", "model.json"), "w") as f:
        json.dump({"format": "layers-model", "modelTopology": {"model_config": sequential([
            layer("InputLayer", batch_input_shape=[None, 65536], name="x"),
            layer("Dense", units=65536, use_bias=False, name="d")])},
            "weightsManifest": [{"paths": ["group1-shard1of1.bin"],
                                 "weights": [{"name": "d/kernel", "shape": [65536, 65536], "dtype": "float32"}]}]}, f)

    # Item 3: a tiny model with huge activations.
    arch = sequential([
        layer("InputLayer", batch_input_shape=[None, 64], name="input"),
        layer("RepeatVector", n=1 << 24, name="repeat_vector"),
        layer("LSTM", units=1, name="lstm"),
    ])
    with open(os.path.join(out, "repeat_arch.json"), "w") as f:
        json.dump(arch, f)
    write_npz(os.path.join(out, "repeat_sd.npz"), [
        ("rnn.weight_ih_l0", npy_f32([4, 64], [0.01] * 256)),
        ("rnn.weight_hh_l0", npy_f32([4, 1], [0.5] * 4)),
        ("rnn.bias_ih_l0", npy_f32([4], [0.0] * 4)),
        ("rnn.bias_hh_l0", npy_f32([4], [0.0] * 4)),
    ])
    with open(os.path.join(out, "x64.npy"), "wb") as f:
        f.write(npy_f32([1, 64], [0.5] * 64))

    # Item 4: an expensive architecture and a mapping that names no layer.
    arch = sequential([
        layer("InputLayer", batch_input_shape=[None, None, 4096], name="input"),
        layer("LSTM", units=4096, name="rnn"),
    ])
    with open(os.path.join(out, "lstm4096_arch.json"), "w") as f:
        json.dump(arch, f)
    write_npz(os.path.join(out, "tiny_sd.npz"), [("fc.weight", npy_f32([1, 1], [1.0]))])


if __name__ == "__main__":
    main()
