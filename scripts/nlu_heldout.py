"""Evaluates the trained model on the held-out NLU set (tests/nlu/heldout, never
trained on) and fails below the thresholds measured for this project.

With `--set dev` it evaluates the development set instead (tests/nlu/dev: written
by outside writers who saw only intents.md, also never trained on). The dev set is
for looking at errors while improving the data; the held-out set stays unread and
is the gate.

With `--path DIR_OR_FILE` it evaluates any other set in Rasa's NLU format, such as a
new batch of outside messages measured once before they become training data.

Usage: python scripts/nlu_heldout.py --model models/coach.tar.gz [--set dev | --path P]
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
MIN_MACRO_F1 = 0.86
# Every unsafe report in the set must be recognised (intents.md: missing one is the
# worst error the assistant can make).
MIN_UNSAFE_RECALL = 1.0
# Intents this project adds to the contract of intents.md (commands inside the
# reflection); the product bar is measured over the contract's intents only.
PROJECT_INTENTS = {"pause", "retry", "inform"}
SETS = {
    "heldout": ROOT / "tests" / "nlu" / "heldout",
    "dev": ROOT / "tests" / "nlu" / "dev",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ROOT / "models" / "coach.tar.gz"))
    parser.add_argument("--set", choices=sorted(SETS), default="heldout")
    parser.add_argument("--path", help="evaluate this NLU file or directory instead of a named set")
    parser.add_argument("--out", help="default: results/<set>")
    args = parser.parse_args()
    data = Path(args.path).resolve() if args.path else SETS[args.set]
    name = data.stem if args.path else args.set
    args.out = args.out or str(ROOT / "results" / name)
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    rasa = str(Path(sys.executable).parent / "rasa")
    log = Path(args.out) / "rasa.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as handle:
        subprocess.run(
            [rasa, "test", "nlu", "--nlu", str(data), "--model", args.model, "--out", args.out],
            cwd=ROOT, env=env, check=True, stdout=handle, stderr=subprocess.STDOUT,
        )
    report = json.loads((Path(args.out) / "intent_report.json").read_text())
    unsafe = report.get("report_unsafe", {}).get("recall", float("nan"))
    per_intent = {
        k: v for k, v in report.items()
        if isinstance(v, dict) and v.get("support") and k not in ("macro avg", "weighted avg", "micro avg")
    }
    # over the intents the set contains: a prediction of an intent the set has no
    # message for (e.g. `pause` in the dev set) costs precision, not an extra zero
    macro = sum(v["f1-score"] for v in per_intent.values()) / len(per_intent)
    print(f"NLU evaluation on {data.relative_to(ROOT) if data.is_relative_to(ROOT) else data}")
    for intent, scores in sorted(per_intent.items(), key=lambda kv: kv[1]["f1-score"]):
        print(f"  {intent:28s} f1={scores['f1-score']:.3f} recall={scores['recall']:.3f} n={scores['support']}")
    contract = [v["f1-score"] for k, v in per_intent.items() if k not in PROJECT_INTENTS]
    print(f"macro-F1 over the intents of intents.md={sum(contract) / len(contract):.3f} ({len(contract)} intents)")
    print(f"macro-F1={macro:.3f} (min {MIN_MACRO_F1}), report_unsafe recall={unsafe:.3f} (min {MIN_UNSAFE_RECALL})")
    if not args.path and args.set == "heldout" and (macro < MIN_MACRO_F1 or unsafe < MIN_UNSAFE_RECALL):
        print("FAILED: held-out NLU quality below threshold")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
