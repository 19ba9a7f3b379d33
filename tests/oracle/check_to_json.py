"""Checks that real Keras 3 reads what ckeras's model.to_json() writes and
writes the same config again.  Not part of the C test suite (which never runs
Python; test_core_golden compares ckeras's to_json with Keras's config.json
value for value); run it by hand after building:

    python3 tests/oracle/check_to_json.py [build/ckeras]

For every case of tests/golden/core/, `ckeras config config.json` gives the
JSON; keras.models.model_from_json must load it, its to_json() must equal the
golden config.json (compile_config aside: ckeras does not compile from a JSON
config), and its summary() must equal the golden summary.txt.  Prints one line
per case and exits non-zero on any difference.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import keras  # noqa: E402

ROOT = os.path.join("tests", "golden", "core")


def main():
    ckeras = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "ckeras")
    cases = [c["name"] for c in json.load(open(os.path.join(ROOT, "index.json")))]
    bad = 0
    for name in cases:
        d = os.path.join(ROOT, name)
        p = subprocess.run([ckeras, "config", os.path.join(d, "config.json")], capture_output=True, text=True)
        if p.returncode:
            print("%-28s ckeras config failed: %s" % (name, p.stderr.strip()))
            bad += 1
            continue
        keras.backend.clear_session()
        try:
            model = keras.models.model_from_json(p.stdout)
        except Exception as e:  # noqa: BLE001 - report whatever Keras raised
            print("%-28s Keras refused ckeras's JSON: %s" % (name, e))
            bad += 1
            continue
        with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
            golden_text = f.read()
        want = json.loads(golden_text)
        got = json.loads(model.to_json())
        want["compile_config"] = got["compile_config"] = {}
        note = ""
        if got != want:
            # Keras's own round trip is not always the identity (a frozen model's
            # layers come back trainable); then ckeras's JSON must round-trip the same.
            keras.backend.clear_session()
            own = json.loads(keras.models.model_from_json(golden_text).to_json())
            own["compile_config"] = {}
            if got == own:
                want, note = own, " (as Keras's own round trip of config.json)"
        text, _ = oracle_util.capture_summary(model, oracle_util.norm_spec({}))
        with open(os.path.join(d, "summary.txt"), encoding="utf-8") as f:
            golden_summary = f.read()
        # A built optimizer's row is not in a config; the rest must match.
        counts = json.load(open(os.path.join(d, "counts.json")))
        if counts.get("optimizer") is not None:
            golden_summary = "\n".join(
                l for l in golden_summary.split("\n")
                if not l.startswith((" Total params", " Optimizer params")))
            text = "\n".join(l for l in text.split("\n") if not l.startswith(" Total params"))
        ok = got == want and text == golden_summary
        bad += not ok
        print("%-28s %s" % (name, "ok" + note if ok else "DIFFERS (%s)" % ("config" if got != want else "summary")))
    print("%d cases, %d differ" % (len(cases), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
