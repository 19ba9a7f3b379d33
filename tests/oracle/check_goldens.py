#!/usr/bin/env python3
"""Validate the golden tree without running Keras.

Checks that every case directory under tests/golden/core (or --root) has its
manifest files, that each summaries.json entry names an existing text file
and carries the expected keys, that case.json lists files that exist, that
counts.json is self-consistent (totals, weights vs. .npy shapes), and that
inputs/outputs are float32 .npy files with a batch of 4.

With --spec PATH (a Markdown file holding Keras's printed examples under
the labels check_spec lists) it also compares those examples with the goldens
byte for byte.

Needs only numpy.  Exit status 0 when everything holds.
"""

import argparse
import json
import math
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_ROOT = os.path.join(REPO, "tests", "golden", "core")

SUMMARY_KEYS = {
    "file": str,
    "line_length": (int, type(None)),
    "positions": (list, type(None)),
    "show_trainable": bool,
    "expand_nested": bool,
    "layer_range": (list, type(None)),
    "columns": (int, type(None)),
}

errors = []


def err(msg):
    errors.append(msg)


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        err("%s: %s" % (path, e))
        return None


def check_case(d):
    name = os.path.basename(d)
    for fn in ("config.json", "summaries.json", "counts.json", "case.json"):
        if not os.path.isfile(os.path.join(d, fn)):
            err("%s: missing %s" % (name, fn))
    cfg = load_json(os.path.join(d, "config.json"))
    if cfg is not None and not {"class_name", "config"} <= set(cfg):
        err("%s: config.json lacks class_name/config" % name)

    sums = load_json(os.path.join(d, "summaries.json")) or []
    if not sums:
        err("%s: no summaries" % name)
    seen = set()
    for i, e in enumerate(sums):
        for k, t in SUMMARY_KEYS.items():
            if k not in e:
                err("%s: summaries[%d] lacks %s" % (name, i, k))
            elif not isinstance(e[k], t) or (t is int and isinstance(e[k], bool)):
                err("%s: summaries[%d].%s has type %s" % (name, i, k, type(e[k]).__name__))
        f = e.get("file")
        if not isinstance(f, str):
            continue
        if f in seen:
            err("%s: summary file %s listed twice" % (name, f))
        seen.add(f)
        p = os.path.join(d, f)
        if not os.path.isfile(p):
            err("%s: summary file %s missing" % (name, f))
            continue
        with open(p, "rb") as fh:
            text = fh.read().decode("utf-8")
        if not text.startswith("Model: ") or not text.endswith("\n"):
            err("%s: %s does not look like a summary" % (name, f))
        if "\x1b" in text:
            err("%s: %s contains ANSI escapes" % (name, f))
    on_disk = {f for f in os.listdir(d) if f.endswith(".txt")}
    for f in sorted(on_disk - seen):
        err("%s: %s not listed in summaries.json" % (name, f))
    if not any(
        e.get("columns") is None
        and e.get("line_length") is None
        and e.get("positions") is None
        and not e.get("show_trainable")
        and not e.get("expand_nested")
        and e.get("layer_range") is None
        for e in sums
    ):
        err("%s: no default summary" % name)

    meta = load_json(os.path.join(d, "case.json")) or {}
    counts = load_json(os.path.join(d, "counts.json")) or {}
    opt = counts.get("optimizer") or 0
    if counts and counts.get("total") != counts.get("trainable", 0) + counts.get("non_trainable", 0) + opt:
        err("%s: counts total != trainable + non_trainable + optimizer" % name)
    weights = counts.get("weights", [])
    n_tr = sum(math.prod(w["shape"]) for w in weights if w["trainable"])
    n_all = sum(math.prod(w["shape"]) for w in weights)
    if counts and n_all != counts["trainable"] + counts["non_trainable"]:
        err("%s: weights sum %d != trainable + non_trainable" % (name, n_all))
    if counts and n_tr < counts["trainable"]:
        err("%s: trainable weights sum %d < trainable %d" % (name, n_tr, counts["trainable"]))
    for w in weights:
        for k in ("path", "name", "shape", "trainable", "dtype"):
            if k not in w:
                err("%s: weight entry lacks %s" % (name, k))
    for l in counts.get("layers", []):
        for k in ("name", "class_name", "params", "output_shape", "trainable"):
            if k not in l:
                err("%s: layer entry lacks %s" % (name, k))
        if "[" in l.get("output_shape", "") and "(" not in l.get("output_shape", ""):
            err("%s: layer %s output_shape looks like markup" % (name, l.get("name")))

    wfiles = meta.get("weights", [])
    if meta.get("weights_saved"):
        if len(wfiles) != len(weights):
            err("%s: %d weight files but %d weights" % (name, len(wfiles), len(weights)))
        for f, w in zip(wfiles, weights):
            p = os.path.join(d, f)
            if not os.path.isfile(p):
                err("%s: %s missing" % (name, f))
                continue
            a = np.load(p)
            want = w.get("dtype", "float32")  # int32 for counters (Normalization's count)
            if list(a.shape) != w["shape"] or a.dtype != np.dtype(want):
                err("%s: %s shape %s dtype %s, expected %s %s" % (name, f, a.shape, a.dtype, w["shape"], want))
    elif wfiles:
        err("%s: weights_saved false but weights listed" % name)
    if os.path.isdir(os.path.join(d, "weights")):
        n = len(os.listdir(os.path.join(d, "weights")))
        if n != len(wfiles):
            err("%s: %d files in weights/ but %d listed" % (name, n, len(wfiles)))

    for key in ("inputs", "outputs"):
        for f in meta.get(key, []):
            p = os.path.join(d, f)
            if not os.path.isfile(p):
                err("%s: %s missing" % (name, f))
                continue
            a = np.load(p)
            if a.dtype != np.float32 or a.ndim < 1 or a.shape[0] != 4:
                err("%s: %s has shape %s dtype %s" % (name, f, a.shape, a.dtype))
    npys = {f for f in os.listdir(d) if f.endswith(".npy")}
    listed = set(meta.get("inputs", [])) | set(meta.get("outputs", []))
    for f in sorted(npys - listed):
        err("%s: %s not listed in case.json" % (name, f))
    if meta.get("inputs"):
        want_in = ["x.npy"] if len(meta["inputs"]) == 1 else ["x%d.npy" % i for i in range(len(meta["inputs"]))]
        if meta["inputs"] != want_in:
            err("%s: unexpected input names %s" % (name, meta["inputs"]))
    return len(sums)


def spec_blocks(spec_text):
    """Return {label: text} for the verbatim summary blocks of section 1.12."""
    out = {}
    markers = {
        "classic_notty": r"\(a\) stdout not a terminal",
        "classic_wide": r"\(b\) terminal",
        "functional_notty": r"Functional example \(L = 76",
    }
    for label, pat in markers.items():
        m = re.search(pat, spec_text)
        if not m:
            continue
        start = spec_text.index("```\n", m.end()) + 4
        end = spec_text.index("```", start)
        out[label] = spec_text[start:end]
    return out


def check_spec(root, spec_path):
    with open(spec_path, encoding="utf-8") as f:
        blocks = spec_blocks(f.read())
    targets = {
        "classic_notty": "classic/summary.txt",
        "classic_wide": "classic/summary_cols92.txt",
        "functional_notty": "functional_spec/summary.txt",
    }
    n = 0
    for label, rel in targets.items():
        if label not in blocks:
            err("spec: block %s not found in %s" % (label, spec_path))
            continue
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            golden = f.read()
        if golden != blocks[label]:
            err("spec: %s differs from %s block %s" % (rel, spec_path, label))
        n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--spec", default=None)
    args = ap.parse_args()
    root = args.root
    for fn in ("VERSIONS.json", "index.json"):
        if not os.path.isfile(os.path.join(root, fn)):
            err("missing %s" % fn)
    vers = load_json(os.path.join(root, "VERSIONS.json")) or {}
    for k in ("keras", "jax", "numpy", "python"):
        if k not in vers:
            err("VERSIONS.json lacks %s" % k)
    index = load_json(os.path.join(root, "index.json")) or []
    names = [c["name"] for c in index]
    dirs = sorted(e for e in os.listdir(root) if os.path.isdir(os.path.join(root, e)))
    for n in sorted(set(names) - set(dirs)):
        err("index.json lists %s but there is no directory" % n)
    for n in sorted(set(dirs) - set(names)):
        err("directory %s not in index.json" % n)
    n_sum = 0
    for n in dirs:
        n_sum += check_case(os.path.join(root, n))
    n_spec = check_spec(root, args.spec) if args.spec else 0
    for e in errors:
        print("FAIL", e)
    print(
        "%s: %d cases, %d summaries, %d spec examples compared, %d problems"
        % (root, len(dirs), n_sum, n_spec, len(errors))
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
