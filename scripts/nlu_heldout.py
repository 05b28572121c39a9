"""Evaluates the trained model on the held-out NLU set (tests/nlu/heldout, never
trained on) and fails below the thresholds measured for this project.

Usage: python scripts/nlu_heldout.py --model models/coach.tar.gz
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Set from measurements (README, "NLU quality"): a drop below these is a regression.
MIN_MACRO_F1 = 0.80
MIN_UNSAFE_RECALL = 0.95


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ROOT / "models" / "coach.tar.gz"))
    parser.add_argument("--out", default=str(ROOT / "results" / "heldout"))
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    rasa = str(Path(sys.executable).parent / "rasa")
    log = Path(args.out) / "rasa.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as handle:
        subprocess.run(
            [rasa, "test", "nlu", "--nlu", str(ROOT / "tests" / "nlu" / "heldout"), "--model", args.model, "--out", args.out],
            cwd=ROOT, env=env, check=True, stdout=handle, stderr=subprocess.STDOUT,
        )
    report = json.loads((Path(args.out) / "intent_report.json").read_text())
    macro = report["macro avg"]["f1-score"]
    unsafe = report["report_unsafe"]["recall"]
    per_intent = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg")}
    print("Held-out NLU evaluation (tests/nlu/heldout)")
    for intent, scores in sorted(per_intent.items(), key=lambda kv: kv[1]["f1-score"]):
        print(f"  {intent:28s} f1={scores['f1-score']:.3f} recall={scores['recall']:.3f} n={scores['support']}")
    print(f"macro-F1={macro:.3f} (min {MIN_MACRO_F1}), report_unsafe recall={unsafe:.3f} (min {MIN_UNSAFE_RECALL})")
    if macro < MIN_MACRO_F1 or unsafe < MIN_UNSAFE_RECALL:
        print("FAILED: held-out NLU quality below threshold")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
