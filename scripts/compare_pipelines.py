#!/usr/bin/env python
"""Compare candidate NLU pipelines (scripts/pipelines/*.yml) on this project's data.

For every candidate pipeline:

1. 5-fold cross-validation on data/nlu
   (`rasa test nlu --nlu data/nlu --config <cfg> --cross-validation --folds 5`),
   read from the accumulated test-fold intent_report.json;
2. an NLU-only model trained on all of data/nlu
   (`rasa train nlu --nlu data/nlu --config <cfg> --out <tmp> --fixed-model-name <name>`),
   timed wall-clock, then evaluated on the held-out set tests/nlu/heldout
   (`rasa test nlu --nlu tests/nlu/heldout --model <model>`);
3. results in results/nlu_compare/summary.json and results/nlu_compare/table.md.

Metrics: macro-F1 ("macro avg" of intent_report.json: sklearn's macro average over
the intents present in the gold data), weighted F1, per-intent F1, and report_unsafe
recall (the number that matters most) plus its precision. Note that `rasa test`
undoes FallbackClassifier predictions (it scores the intent ranked below
nlu_fallback), so the FallbackClassifier threshold does not change these numbers; a
safety-net override is kept, since it replaces the intent itself.

Reproducibility / economy notes:

* Rasa's cross-validation shuffles with an unseeded StratifiedKFold, so two runs (and
  two pipelines) would get different folds. The CV command is therefore run through a
  tiny bootstrap that gives StratifiedKFold random_state=42 and writes the fold
  assignment to <cv dir>/folds.json; every pipeline is scored on the SAME folds (the
  fold hash is in summary.json).
* CV training uses a private Rasa training cache (results/nlu_compare/cache), so a
  pipeline that only adds an untrained component (the safety net) after an identical
  prefix re-uses the trained fold models instead of training them again. Timed
  training always runs with the cache disabled (RASA_MAX_CACHE_SIZE=0) in an empty
  output directory, so training seconds are honest cold-start numbers.
* Per-pipeline results are kept in results/nlu_compare/<name>/result.json; with
  --reuse a pipeline whose config and options are unchanged is not run again.

Usage:
    .venv/bin/python scripts/compare_pipelines.py [--pipelines a,b] [--folds N]
        [--skip-cv] [--reuse] [--no-cache] [--keep-models]
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
PIPELINE_DIR = ROOT / "scripts" / "pipelines"
OUT_DIR = ROOT / "results" / "nlu_compare"
LOG_DIR = OUT_DIR / "logs"
CACHE_DIR = OUT_DIR / "cache"
TRAIN_DATA = "data/nlu"
HELDOUT_DATA = "tests/nlu/heldout"
UNSAFE = "report_unsafe"
CV_SEED = 42

# Run order when no --pipelines is given: cheap ones first, the heavy default last;
# pipelines not listed here follow in alphabetical order.
PREFERRED_ORDER = [
    "spacy_lemma_logreg_safetynet",
    "charngram_diet",
    "spacy_lemma_diet",
    "spacy_lemma_diet_safetynet",
    "default",
]

# Runs `rasa <argv>` with a seeded StratifiedKFold and dumps the fold assignment.
CV_BOOTSTRAP = r"""
import json, os, sys
import sklearn.model_selection as ms

_Base = ms.StratifiedKFold
_seed = int(os.environ["NLU_COMPARE_CV_SEED"])

class SeededStratifiedKFold(_Base):
    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        if shuffle and random_state is None:
            random_state = _seed
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

ms.StratifiedKFold = SeededStratifiedKFold

import rasa.nlu.test as nlu_test

_generate_folds = nlu_test.generate_folds

def generate_folds(n, training_data):
    folds = []
    for train, test in _generate_folds(n, training_data):
        folds.append([[m.get("text"), m.get("intent")] for m in test.intent_examples])
        yield train, test
    path = os.environ.get("NLU_COMPARE_FOLDS_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(folds, f, ensure_ascii=False, indent=1)

nlu_test.generate_folds = generate_folds

from rasa.__main__ import main
sys.argv = ["rasa"] + sys.argv[1:]
main()
"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pipelines", help="comma-separated names (stems of scripts/pipelines/*.yml)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--skip-cv", action="store_true", help="only train + held-out evaluation")
    p.add_argument("--reuse", action="store_true",
                   help="re-use results/nlu_compare/<name>/result.json when config and options are unchanged")
    p.add_argument("--no-cache", action="store_true",
                   help="do not use the private Rasa training cache during cross-validation")
    p.add_argument("--keep-models", action="store_true",
                   help="keep the trained model in results/nlu_compare/<name>/model")
    return p.parse_args(argv)


def discover(selected: Optional[str]) -> List[str]:
    available = sorted(p.stem for p in PIPELINE_DIR.glob("*.yml"))
    if selected:
        names = [n.strip() for n in selected.split(",") if n.strip()]
        unknown = [n for n in names if n not in available]
        if unknown:
            sys.exit(f"unknown pipeline(s) {unknown}; available: {available}")
        return names
    ordered = [n for n in PREFERRED_ORDER if n in available]
    return ordered + [n for n in available if n not in ordered]


def base_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONHASHSEED", "0")
    env["RASA_TELEMETRY_ENABLED"] = "false"
    return env


def rasa_bin() -> str:
    exe = Path(sys.executable).parent / "rasa"
    return str(exe if exe.exists() else ROOT / ".venv" / "bin" / "rasa")


def run(cmd: List[str], log: Path, env: Dict[str, str]) -> float:
    """Run cmd from the project root, output to log; return wall-clock seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    shown = " ".join(cmd if cmd[1] != "-c" else [rasa_bin()] + cmd[3:])
    print(f"    $ {shown}  > {log.relative_to(ROOT)}", flush=True)
    start = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        fh.write(f"$ {shown}\n\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-30:])
        raise RuntimeError(f"command failed ({proc.returncode}): {shown}\n--- {log} (tail) ---\n{tail}")
    return seconds


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def data_sha(*dirs: str) -> str:
    h = hashlib.sha256()
    for d in dirs:
        for f in sorted((ROOT / d).rglob("*.yml")):
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


EPOCHS_RE = re.compile(r"Epochs: 100%\|[^|\r\n]*\| (\d+)/(\d+) \[((?:\d+:)?\d+:\d+)<")


def classifier_epoch_seconds(log: Path) -> Optional[float]:
    """Seconds of the (last) DIET epoch loop in a training log, from tqdm's summary."""
    found = EPOCHS_RE.findall(log.read_text(encoding="utf-8", errors="replace"))
    if not found:
        return None
    parts = [int(x) for x in found[-1][2].split(":")]
    secs = 0
    for x in parts:
        secs = secs * 60 + x
    return float(secs)


def read_metrics(report_dir: Path) -> Dict[str, Any]:
    report = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    errors_file = report_dir / "intent_errors.json"
    errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
    aggregate_keys = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    per_intent = {
        k: {
            "precision": round(v["precision"], 4),
            "recall": round(v["recall"], 4),
            "f1": round(v["f1-score"], 4),
            "support": int(v["support"]),
            "confused_with": v.get("confused_with", {}),
        }
        for k, v in sorted(report.items())
        if k not in aggregate_keys and isinstance(v, dict)
    }
    n = sum(v["support"] for v in per_intent.values())
    confusions = Counter(
        (e["intent"], (e.get("intent_prediction") or {}).get("name") or "None") for e in errors
    )
    unsafe = per_intent.get(UNSAFE, {})
    return {
        "n_examples": n,
        "n_errors": len(errors),
        "accuracy": round(1 - len(errors) / n, 4) if n else None,
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "report_unsafe_recall": unsafe.get("recall"),
        "report_unsafe_precision": unsafe.get("precision"),
        "report_unsafe_missed": [
            {"text": e["text"], "predicted": (e.get("intent_prediction") or {}).get("name"),
             "confidence": round((e.get("intent_prediction") or {}).get("confidence") or 0.0, 3)}
            for e in errors if e["intent"] == UNSAFE
        ],
        "report_unsafe_false_alarms": [
            {"text": e["text"], "gold": e["intent"]}
            for e in errors if (e.get("intent_prediction") or {}).get("name") == UNSAFE
        ],
        "confusions": [
            {"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common()
        ],
        "per_intent": per_intent,
    }


def inputs_key(cfg: Path, folds: Optional[int]) -> Dict[str, Any]:
    """Fingerprint of everything a result depends on (for --reuse and consistency)."""
    key = {
        "config_sha": file_sha(cfg),
        "train_data_sha": data_sha(TRAIN_DATA),
        "heldout_data_sha": data_sha(HELDOUT_DATA),
        "folds": folds,
    }
    if "SafetyNetClassifier" in cfg.read_text(encoding="utf-8"):
        key["safety_patterns_sha"] = file_sha(ROOT / "data" / "safety" / "patterns.yml")
    return key


def evaluate_pipeline(name: str, args: argparse.Namespace) -> Dict[str, Any]:
    cfg = PIPELINE_DIR / f"{name}.yml"
    cfg_rel = str(cfg.relative_to(ROOT))
    pdir = OUT_DIR / name
    key = inputs_key(cfg, None if args.skip_cv else args.folds)
    result_file = pdir / "result.json"
    if args.reuse and result_file.exists():
        old = json.loads(result_file.read_text(encoding="utf-8"))
        old_key = dict(old.get("key") or {})
        same_inputs = {k: v for k, v in old_key.items() if k != "folds"} == {
            k: v for k, v in key.items() if k != "folds"}
        if same_inputs and (args.skip_cv or old_key.get("folds") == args.folds):
            print(f"  re-using {result_file.relative_to(ROOT)}", flush=True)
            return old
    env = base_env()
    result: Dict[str, Any] = {"pipeline": name, "config": cfg_rel, "key": key}

    # 1. cross-validation
    if not args.skip_cv:
        cv_dir = pdir / "cv"
        shutil.rmtree(cv_dir, ignore_errors=True)
        cv_dir.mkdir(parents=True)
        cv_env = dict(env, NLU_COMPARE_CV_SEED=str(CV_SEED),
                      NLU_COMPARE_FOLDS_FILE=str(cv_dir / "folds.json"))
        if args.no_cache:
            cv_env["RASA_MAX_CACHE_SIZE"] = "0"
        else:
            cv_env["RASA_CACHE_DIRECTORY"] = str(CACHE_DIR)
        cmd = [sys.executable, "-c", CV_BOOTSTRAP, "test", "nlu", "--nlu", TRAIN_DATA,
               "--config", cfg_rel, "--cross-validation", "--folds", str(args.folds),
               "--out", str(cv_dir.relative_to(ROOT)), "--no-plot"]
        print(f"  [{name}] {args.folds}-fold cross-validation", flush=True)
        secs = run(cmd, LOG_DIR / f"{name}.cv.log", cv_env)
        result["cv"] = read_metrics(cv_dir)
        result["cv"]["seconds"] = round(secs, 1)
        result["cv"]["folds"] = args.folds
        result["cv"]["folds_sha"] = file_sha(cv_dir / "folds.json")
        print(f"    CV macro-F1 {result['cv']['macro_f1']:.3f}, "
              f"report_unsafe recall {result['cv']['report_unsafe_recall']:.3f} ({secs:.0f} s)", flush=True)

    # 2. timed training on all data + held-out evaluation
    tmp = Path(tempfile.mkdtemp(prefix=f"nlu-compare-{name}-"))
    try:
        train_env = dict(env, RASA_MAX_CACHE_SIZE="0")  # cold training, nothing re-used
        cmd = [rasa_bin(), "train", "nlu", "--nlu", TRAIN_DATA, "--config", cfg_rel,
               "--out", str(tmp), "--fixed-model-name", name]
        print(f"  [{name}] training on all of {TRAIN_DATA}", flush=True)
        load_before = os.getloadavg()[0]
        train_secs = run(cmd, LOG_DIR / f"{name}.train.log", train_env)
        load_after = os.getloadavg()[0]
        model = tmp / f"{name}.tar.gz"
        if not model.exists():
            raise RuntimeError(f"no model at {model}")
        result["train"] = {
            "seconds": round(train_secs, 1),
            "loadavg_1min_before": round(load_before, 2),
            "loadavg_1min_after": round(load_after, 2),
            "model_mb": round(model.stat().st_size / 2**20, 1),
            "diet_epoch_loop_seconds": classifier_epoch_seconds(LOG_DIR / f"{name}.train.log"),
        }
        print(f"    trained in {train_secs:.0f} s (load avg {load_before:.1f} -> {load_after:.1f})", flush=True)

        ho_dir = pdir / "heldout"
        shutil.rmtree(ho_dir, ignore_errors=True)
        ho_dir.mkdir(parents=True)
        cmd = [rasa_bin(), "test", "nlu", "--nlu", HELDOUT_DATA, "--model", str(model),
               "--out", str(ho_dir.relative_to(ROOT))]
        print(f"  [{name}] held-out evaluation on {HELDOUT_DATA}", flush=True)
        ho_secs = run(cmd, LOG_DIR / f"{name}.heldout.log", env)
        result["heldout"] = read_metrics(ho_dir)
        result["heldout"]["seconds"] = round(ho_secs, 1)
        print(f"    held-out macro-F1 {result['heldout']['macro_f1']:.3f}, "
              f"report_unsafe recall {result['heldout']['report_unsafe_recall']:.3f}", flush=True)
        if args.keep_models:
            (pdir / "model").mkdir(exist_ok=True)
            shutil.copy2(model, pdir / "model" / model.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if inputs_key(cfg, key["folds"]) != key:
        # data/config edited while this pipeline ran: its numbers mix two versions
        result["inputs_changed_during_run"] = True
        print(f"  WARNING: inputs of {name} changed while it ran; re-run it", file=sys.stderr, flush=True)
    result["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    result_file.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result


def fmt(x: Optional[float], digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def render_tables(results: List[Dict[str, Any]]) -> str:
    lines = ["# NLU pipeline comparison", ""]
    lines.append(
        "| pipeline | CV macro-F1 | CV weighted F1 | CV report_unsafe recall | "
        "held-out macro-F1 | held-out weighted F1 | held-out report_unsafe recall | "
        "held-out report_unsafe precision | training s |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        cv, ho, tr = r.get("cv") or {}, r.get("heldout") or {}, r.get("train") or {}
        lines.append(
            f"| {r['pipeline']} | {fmt(cv.get('macro_f1'))} | {fmt(cv.get('weighted_f1'))} | "
            f"{fmt(cv.get('report_unsafe_recall'))} | {fmt(ho.get('macro_f1'))} | "
            f"{fmt(ho.get('weighted_f1'))} | {fmt(ho.get('report_unsafe_recall'))} | "
            f"{fmt(ho.get('report_unsafe_precision'))} | {fmt(tr.get('seconds'), 0)} |"
        )
    with_ho = [r for r in results if r.get("heldout")]
    if with_ho:
        n_ho = with_ho[0]["heldout"]["n_examples"]
        cvs = [r for r in results if r.get("cv")]
        note = f"CV: {cvs[0]['cv']['folds']}-fold, {cvs[0]['cv']['n_examples']} examples, same folds for all pipelines. " if cvs else ""
        lines += ["", f"{note}Held-out: {n_ho} examples in {HELDOUT_DATA}. "
                  "Training s = wall-clock of `rasa train nlu` (cold, no cache, incl. Rasa/TF start-up). "
                  "`rasa test` undoes FallbackClassifier predictions, so all scores are for the top intent."]
        intents = sorted({i for r in with_ho for i in r["heldout"]["per_intent"]})
        lines += ["", "## Held-out F1 per intent", ""]
        lines.append("| intent | support | " + " | ".join(r["pipeline"] for r in with_ho) + " |")
        lines.append("|---|---:|" + "---:|" * len(with_ho))
        for intent in intents:
            sup = with_ho[0]["heldout"]["per_intent"].get(intent, {}).get("support", "")
            cells = [fmt(r["heldout"]["per_intent"].get(intent, {}).get("f1")) for r in with_ho]
            lines.append(f"| {intent} | {sup} | " + " | ".join(cells) + " |")
        lines += ["", "## Held-out confusions (gold → predicted, count)", ""]
        for r in with_ho:
            top = r["heldout"]["confusions"][:12]
            pairs = ", ".join(f"{c['gold']}→{c['predicted']} ({c['count']})" for c in top) or "none"
            lines.append(f"- **{r['pipeline']}** ({r['heldout']['n_errors']} errors): {pairs}")
        lines += ["", "## Held-out report_unsafe misses", ""]
        for r in with_ho:
            missed = r["heldout"]["report_unsafe_missed"]
            lines.append(f"- **{r['pipeline']}**: {len(missed)} missed"
                         + ("" if not missed else ": " + "; ".join(
                             f"\"{m['text']}\" → {m['predicted']}" for m in missed)))
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)
    names = discover(args.pipelines)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    print(f"Comparing {len(names)} pipeline(s): {', '.join(names)}", flush=True)
    results, failures = [], {}
    for name in names:
        print(f"== {name}", flush=True)
        try:
            results.append(evaluate_pipeline(name, args))
        except Exception as exc:  # keep going: one broken candidate must not lose the rest
            print(f"  FAILED: {exc}", file=sys.stderr, flush=True)
            failures[name] = str(exc)

    folds_shas = {r["cv"]["folds_sha"] for r in results if r.get("cv")}
    summary = {
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "options": {"folds": args.folds, "skip_cv": args.skip_cv, "cv_seed": CV_SEED},
        "cv_same_folds_for_all": len(folds_shas) <= 1,
        "same_data_for_all": len({(r["key"]["train_data_sha"], r["key"]["heldout_data_sha"])
                                  for r in results}) <= 1
        and not any(r.get("inputs_changed_during_run") for r in results),
        "pipelines": {r["pipeline"]: r for r in results},
        "failures": failures,
    }
    (OUT_DIR / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    table = render_tables(results)
    (OUT_DIR / "table.md").write_text(table, encoding="utf-8")
    print()
    print(table)
    print(f"written: {(OUT_DIR / 'summary.json').relative_to(ROOT)}, {(OUT_DIR / 'table.md').relative_to(ROOT)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
