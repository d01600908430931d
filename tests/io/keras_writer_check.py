#!/usr/bin/env python3
"""Checks the Keras files seqnet writes with libhdf5 (through Debian's h5py),
against the layout of the real Keras files they came from.

Usage: keras_writer_check.py SEQNET_CLI MODELS_DIR WORK_DIR

For real Keras files in MODELS_DIR, `seqnet convert` writes a Keras 2
legacy .h5 and (where Keras 3 can hold the model) a Keras 3 .keras archive.
Then, reading only with h5py, zipfile and json (nothing of seqnet):
  - .h5: root attributes keras_version, backend and model_config (JSON with
    class_name and config); model_weights with layer_names; each layer's
    weight_names name datasets that exist; the weights equal the source's,
    layer by layer and in order (legacy sources: by layer_names; Keras 3
    sources: by their layers/<class>[_N] groups).
  - .keras: a zip of metadata.json (keras_version 3.x), config.json (module
    "keras", each layer with module, class_name, config, registered_name;
    functional layers with {"args", "kwargs"} inbound nodes whose tensors
    carry keras_history) and model.weights.h5. For a Keras 3 source every
    dataset under its layers/ group exists at the same path in seqnet's file
    with the same values (Keras's own layout, reproduced); for a legacy source
    the values match layer by layer.
Exits non-zero with a message on the first mismatch.
"""
import io
import json
import os
import subprocess
import sys
import zipfile

import h5py
import numpy as np

CASES = [
    # (source, whether Keras 3 can hold it: no Keras 2 hard_sigmoid)
    ("k2_emoji_bilstm.h5", True),
    ("k2_katakana_s2s.h5", False),
    ("k2_s2s_onehot_lstm.h5", False),
    ("k2_charlm_fwd_bwd.h5", True),
    ("k2_lstm_multi.h5", True),
    ("k3_spam_gru_masked.keras", True),
    ("k3_melody_lstm.keras", True),
    ("k3_bilstm.keras", True),
    ("k3h5_imdb_simplernn.h5", True),
]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def text(v):
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def legacy_weights(group):
    """[(layer, [arrays])] of a legacy weights group, layers with weights only."""
    out = []
    for name in [text(n) for n in group.attrs["layer_names"]]:
        g = group[name]
        names = [text(n) for n in g.attrs["weight_names"]]
        if names:
            out.append((name, [np.array(g[n]) for n in names]))
    return out


def keras3_datasets(h5):
    """{path: array} of every dataset under layers/."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = np.array(obj)

    h5["layers"].visititems(lambda n, o: visit("layers/" + n, o))
    return out


def keras3_weights_in_order(h5, config):
    """[[arrays]] per layer with weights, in config order, Keras 3 layout."""
    seq = config["class_name"] == "Sequential"
    counts, out = {}, []
    for layer in config["config"]["layers"]:
        cls = layer["class_name"]
        if seq and cls == "InputLayer":
            continue
        base = snake(cls)
        n = counts.get(base, 0)
        counts[base] = n + 1
        gname = base if n == 0 else f"{base}_{n}"
        g = h5["layers"].get(gname)
        arrays = []
        if g is not None:
            for sub in ordered_var_groups(g, cls):
                if sub in g:
                    vs = g[sub]
                    arrays += [np.array(vs[k]) for k in sorted(vs.keys(), key=int)]
        if arrays:
            out.append(arrays)
    return out


def ordered_var_groups(g, cls):
    if cls == "Bidirectional":
        return [p + s for p in ("forward_layer/", "backward_layer/") for s in ("cell/vars", "vars")]
    if cls == "TimeDistributed":
        return ["layer/vars"]
    return ["cell/vars", "vars"]


def snake(name):
    import re
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


def source_weights(path):
    """The source file's weights as [[arrays]] per layer with weights, in order."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04":
        z = zipfile.ZipFile(path)
        config = json.loads(z.read("config.json"))
        h5 = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        return keras3_weights_in_order(h5, config), h5
    h5 = h5py.File(path, "r")
    return [arrays for _, arrays in legacy_weights(h5["model_weights"])], None


def same(a_layers, b_layers, what):
    if len(a_layers) != len(b_layers):
        fail(f"{what}: {len(a_layers)} layers with weights, the source has {len(b_layers)}")
    for i, (a, b) in enumerate(zip(a_layers, b_layers)):
        if len(a) != len(b):
            fail(f"{what}: layer {i} has {len(a)} weights, the source {len(b)}")
        for k, (x, y) in enumerate(zip(a, b)):
            if x.dtype != np.float32 or x.shape != y.shape or not np.array_equal(x, y):
                fail(f"{what}: layer {i} weight {k}: {x.dtype} {x.shape} vs source {y.dtype} {y.shape}")


def check_h5(out, src_layers):
    with h5py.File(out, "r") as f:
        for key in ("keras_version", "backend", "model_config"):
            if key not in f.attrs:
                fail(f"{out}: no root attribute {key}")
        cfg = json.loads(text(f.attrs["model_config"]))
        if cfg.get("class_name") not in ("Sequential", "Functional") or "config" not in cfg:
            fail(f"{out}: model_config is not a Keras model config")
        if not text(f.attrs["keras_version"]).startswith("2."):
            fail(f"{out}: keras_version {text(f.attrs['keras_version'])} is not a Keras 2 version")
        mw = f["model_weights"]
        names = [text(n) for n in mw.attrs["layer_names"]]
        cfg_names = [l["config"]["name"] for l in cfg["config"]["layers"]
                     if not (cfg["class_name"] == "Sequential" and l["class_name"] == "InputLayer")]
        if names != cfg_names:
            fail(f"{out}: layer_names {names} differ from the config's layers {cfg_names}")
        same([a for _, a in legacy_weights(mw)], src_layers, out)
        print(f"ok {out}: {len(names)} layers, model_config {len(text(f.attrs['model_config']))} bytes")


def check_keras(out, src_layers, src_h5):
    z = zipfile.ZipFile(out)
    members = [i.filename for i in z.infolist()]
    if sorted(members) != ["config.json", "metadata.json", "model.weights.h5"]:
        fail(f"{out}: members {members}")
    meta = json.loads(z.read("metadata.json"))
    if not meta.get("keras_version", "").startswith("3."):
        fail(f"{out}: metadata keras_version {meta.get('keras_version')}")
    cfg = json.loads(z.read("config.json"))
    if cfg.get("module") != "keras" or cfg.get("class_name") not in ("Sequential", "Functional"):
        fail(f"{out}: config.json top level {cfg.get('module')} {cfg.get('class_name')}")
    for layer in cfg["config"]["layers"]:
        for key in ("module", "class_name", "config", "registered_name"):
            if key not in layer:
                fail(f"{out}: layer {layer.get('class_name')} lacks {key}")
        if cfg["class_name"] == "Functional":
            for node in layer["inbound_nodes"]:
                if set(node) != {"args", "kwargs"}:
                    fail(f"{out}: inbound node {node} is not {{args, kwargs}}")
                flat = json.dumps(node)
                if layer["class_name"] != "InputLayer" and "keras_history" not in flat:
                    fail(f"{out}: inbound node of {layer['config']['name']} has no keras_history")
        if layer["class_name"] == "InputLayer" and "batch_shape" not in layer["config"]:
            fail(f"{out}: InputLayer without batch_shape")
    h5 = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    same(keras3_weights_in_order(h5, cfg), src_layers, out)
    mine = keras3_datasets(h5)
    if src_h5 is not None:
        theirs = keras3_datasets(src_h5)
        for path, v in theirs.items():
            if path not in mine:
                fail(f"{out}: Keras's file has {path}, seqnet's does not")
            if mine[path].shape != v.shape or not np.array_equal(mine[path], v):
                fail(f"{out}: {path} differs from Keras's file")
        if set(mine) != set(theirs):
            fail(f"{out}: datasets only seqnet writes: {sorted(set(mine) - set(theirs))}")
    print(f"ok {out}: {len(mine)} datasets" + (", the same paths as Keras's own file" if src_h5 is not None else ""))


def main():
    cli, models, work = sys.argv[1:4]
    if not os.path.isdir(models):
        print(f"skip: no {models} (the real Keras files sit beside the checkout)")
        sys.exit(77)
    os.makedirs(work, exist_ok=True)
    for name, keras3 in CASES:
        src = os.path.join(models, name)
        src_layers, src_h5 = source_weights(src)
        stem = name.split(".")[0]
        out_h5 = os.path.join(work, stem + ".h5")
        subprocess.run([cli, "convert", src, out_h5], check=True, stdout=subprocess.DEVNULL)
        check_h5(out_h5, src_layers)
        out_k = os.path.join(work, stem + ".keras")
        r = subprocess.run([cli, "convert", src, out_k], capture_output=True, text=True)
        if keras3:
            if r.returncode != 0:
                fail(f"convert {name} -> .keras failed: {r.stderr.strip()}")
            check_keras(out_k, src_layers, src_h5)
        else:
            if r.returncode == 0 or "hard_sigmoid" not in r.stderr:
                fail(f"convert {name} -> .keras should refuse Keras 2's hard_sigmoid: {r.returncode} {r.stderr}")
            if os.path.exists(out_k):
                fail(f"a refused conversion left {out_k} behind")
            print(f"ok {name} -> .keras refused: {r.stderr.strip()[:100]}...")
    print("all Keras files seqnet wrote read back with h5py", h5py.version.hdf5_version)


if __name__ == "__main__":
    main()
