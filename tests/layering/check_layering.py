#!/usr/bin/env python3
"""Fails when a lower folder of the library includes a higher one.

The library's folders form layers (DESIGN.md, "Layout"); data flows one way:

    base (include/seqnet/*.hpp, src/*.cpp)  <  kernels (detail/ops, src/ops)
        <  layers (with their caches in detail/), data
        <  model, dist (src/dist: data-parallel exchanges)  <  train  <  decode  <  io
        <  seqnet.hpp (the umbrella)

A file may include files of its own folder and of lower layers only; layers
and data are peers that do not include each other, and so are model and
dist. The one written-down
exception: model/model.hpp includes the train/ headers for the argument
types of compile and fit (Keras puts them on the model); their code lives in
src/train/. Also checked: public headers (include/seqnet outside detail/)
include no detail/ header, so <seqnet/seqnet.hpp> exposes no kernel or cache.

Usage: check_layering.py REPO_ROOT   (exit 0 when clean, 1 with a list)
"""

import os
import re
import sys

RANK = {"": 0, "detail/ops": 1, "layers": 2, "data": 2, "model": 3, "dist": 3, "train": 4, "decode": 5, "io": 6}
ALLOWED = {("include/seqnet/model/model.hpp", "train")}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)


def folder_of(rel):
    """The layer folder of a path relative to include/seqnet or src. The
    kernels (include/seqnet/detail/ops, src/ops) are one folder; the other
    detail headers are the layers' internals (their caches)."""
    parts = rel.split("/")[:-1]
    if parts[:2] == ["detail", "ops"] or parts[:1] == ["ops"]:
        return "detail/ops"
    if parts[:1] == ["detail"]:
        return "layers"
    return parts[0] if parts else ""


def main(root):
    problems = []
    for base, prefix in (("include/seqnet", "seqnet/"), ("src", "")):
        top = os.path.join(root, base)
        for dirpath, _, files in os.walk(top):
            for name in files:
                if not name.endswith((".hpp", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, top).replace(os.sep, "/")
                if rel == "seqnet.hpp":
                    continue
                here = folder_of(rel)
                public = base == "include/seqnet" and not rel.startswith("detail/")
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for inc in INCLUDE.findall(text):
                    if inc.startswith("seqnet/"):
                        target = inc[len("seqnet/"):]
                    elif base == "src" and "/" in inc and inc.split("/")[0] in RANK:
                        target = inc  # a private header of src/ ("layers/param_guard.hpp")
                    else:
                        continue  # system or third-party header
                    there = folder_of(target)
                    if there not in RANK or here not in RANK:
                        problems.append(f"{base}/{rel}: unknown folder in #include \"{inc}\"")
                        continue
                    if public and target.startswith("detail/"):
                        problems.append(f"{base}/{rel}: a public header includes the detail header \"{inc}\"")
                    if (f"{base}/{rel}", there) in ALLOWED:
                        continue
                    peer = RANK[there] == RANK[here] and there != here
                    if RANK[there] > RANK[here] or peer:
                        problems.append(f"{base}/{rel} ({here or 'base'}) includes \"{inc}\" ({there or 'base'}), "
                                        f"a higher or peer layer")
    if problems:
        print("layering violations:")
        for p in problems:
            print("  " + p)
        return 1
    print("layering: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
