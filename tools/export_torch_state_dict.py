#!/usr/bin/env python3
"""Exports a PyTorch state_dict for `seqnet import-torch`.

Command line (Debian's python3-torch):
    python3 tools/export_torch_state_dict.py MODEL.pt OUT.npz
    python3 tools/export_torch_state_dict.py MODEL.pt OUT.safetensors
MODEL.pt holds what torch.save(model.state_dict(), "MODEL.pt") wrote (it is
loaded with weights_only=True; pass --allow-pickle for a file holding a whole
pickled module, and only for files you trust).

From Python:
    sys.path.insert(0, "tools")
    from export_torch_state_dict import export_state_dict
    export_state_dict(model.state_dict(), "weights.npz")

Floating-point tensors are written as float32, integer ones as int64, under
their PyTorch names ("rnn.weight_ih_l0", ...). The .safetensors writer needs
only NumPy (the safetensors package is not required).
"""
import argparse
import json
import struct
import sys

import numpy as np


def _to_numpy(tensor):
    t = tensor.detach().cpu().contiguous()
    if t.is_floating_point():
        return t.float().numpy().astype("<f4", copy=False)
    if t.dtype.is_complex:
        raise ValueError("complex tensors are not supported")
    return t.long().numpy().astype("<i8", copy=False)


def write_safetensors(arrays, path):
    """Writes {name: numpy array} (float32 or int64) as a .safetensors file."""
    header = {"__metadata__": {"format": "pt", "source": "export_torch_state_dict.py"}}
    offset = 0
    blobs = []
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        dtype = {"<f4": "F32", "<i8": "I64"}[a.dtype.str]
        data = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def export_state_dict(state_dict, path):
    """Writes a state_dict (name -> tensor) to `path` (.npz or .safetensors)."""
    arrays = {name: _to_numpy(t) for name, t in state_dict.items()}
    if path.endswith(".safetensors"):
        write_safetensors(arrays, path)
    elif path.endswith(".npz"):
        np.savez(path, **arrays)
    else:
        raise ValueError("the output must end in .npz or .safetensors: %s" % path)
    return list(arrays)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a file written by torch.save(model.state_dict(), ...)")
    parser.add_argument("output", help="OUT.npz or OUT.safetensors")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="load a whole pickled module (runs code from the file: trusted files only)")
    args = parser.parse_args(argv)
    import torch

    obj = torch.load(args.model, map_location="cpu", weights_only=not args.allow_pickle)
    if hasattr(obj, "state_dict"):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        sys.exit("export_torch_state_dict: %s does not hold a state_dict" % args.model)
    for name in export_state_dict(obj, args.output):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
