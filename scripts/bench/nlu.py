"""Cross-validated NLU quality of the project's config.yml and of Rasa's default
pipeline (scripts/pipelines/default.yml, as `rasa init` writes it) on data/nlu.

Runs `rasa test nlu --nlu data/nlu --config <cfg> --cross-validation --folds N`
into var/bench/nlu/<name>/ through the seeded bootstrap of
scripts/compare_pipelines.py, so both pipelines are scored on the same folds, and
reads macro-F1 and report_unsafe recall with its `read_metrics`. Slow: the default
DIET (100 epochs, 2 layers) takes ~12 minutes per training on 2 shared cores.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Dict

from bot.config import PROJECT_ROOT

PIPELINES = {
    "config.yml": PROJECT_ROOT / "config.yml",
    "rasa_default": PROJECT_ROOT / "scripts" / "pipelines" / "default.yml",
}


def cross_validate(bench_dir: Path, folds: int) -> Dict[str, object]:
    from scripts import compare_pipelines as cp  # its seeded CV bootstrap and metrics reader

    out_root = bench_dir / "nlu"
    result: Dict[str, object] = {"folds": folds, "data": cp.TRAIN_DATA, "cv_seed": cp.CV_SEED}
    for name, config in PIPELINES.items():
        out = out_root / name.replace(".yml", "")
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        env = dict(
            cp.base_env(),
            NLU_COMPARE_CV_SEED=str(cp.CV_SEED),
            NLU_COMPARE_FOLDS_FILE=str(out / "folds.json"),
            RASA_CACHE_DIRECTORY=str(out_root / "cache"),
        )
        command = [
            sys.executable, "-c", cp.CV_BOOTSTRAP, "test", "nlu", "--nlu", cp.TRAIN_DATA,
            "--config", str(config), "--cross-validation", "--folds", str(folds), "--out", str(out), "--no-plot",
        ]
        started = time.perf_counter()
        try:
            from scripts.bench.training import run_logged

            run_logged(command, bench_dir / "logs" / f"nlu-{out.name}.log", env)
            metrics = cp.read_metrics(out)
            result[name] = {
                "macro_f1": metrics["macro_f1"],
                "report_unsafe_recall": metrics["report_unsafe_recall"],
                "n_examples": metrics["n_examples"],
                "seconds": round(time.perf_counter() - started, 1),
                "folds_sha": cp.file_sha(out / "folds.json"),
                "config": str(config.relative_to(PROJECT_ROOT)),
            }
        except Exception as error:  # one pipeline failing must not lose the other
            result[name] = {"error": str(error)[-2000:], "config": str(config.relative_to(PROJECT_ROOT))}
    shas = {v.get("folds_sha") for k, v in result.items() if isinstance(v, dict) and v.get("folds_sha")}
    result["same_folds"] = len(shas) == 1
    return result
