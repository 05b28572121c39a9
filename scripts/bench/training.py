"""Training times, and the baseline model.

* `time_full_training`: `rasa train --force` of the project as it is, into a
  temporary directory under var/bench/ (models/coach.tar.gz is never touched).
  `--force` skips every cache lookup, so this is training from scratch; its outputs
  still go into the bench's Rasa cache (var/bench/rasa-cache), which leaves that
  cache warm exactly as `make train` leaves a developer's `.rasa/cache`.
* `time_nlu_change`: the project copied into var/bench/work/, one new NLU example
  added (a new file for an existing intent, unique per run so no run finds it in
  the cache), then `rasa train --data --config --domain --out` with the warm cache:
  what a developer waits for after adding one example.
* `train_baseline`: the `rasa init`-style baseline into var/bench/baseline-model/;
  Rasa itself skips the training when the fingerprint of config, domain and data
  matches the model already there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List

from bot.config import PROJECT_ROOT

RASA = str(Path(sys.executable).parent / "rasa")


def rasa_env(cache_dir: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "RASA_CACHE_DIRECTORY": str(cache_dir),
        }
    )
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_logged(command: List[str], log: Path, env: Dict[str, str], cwd: Path = PROJECT_ROOT) -> float:
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as handle:
        handle.write("$ " + " ".join(command) + "\n\n")
        handle.flush()
        process = subprocess.run(command, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = "".join(log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-25:])
        raise RuntimeError(f"exit {process.returncode}: {' '.join(command)}\n{tail}")
    return seconds


def time_full_training(bench_dir: Path) -> Dict[str, object]:
    out = bench_dir / "train-full"
    shutil.rmtree(out, ignore_errors=True)
    command = [RASA, "train", "--force", "--out", str(out), "--fixed-model-name", "bench-full"]
    load = os.getloadavg()[0]
    try:
        seconds = run_logged(command, bench_dir / "logs" / "train-full.log", rasa_env(bench_dir / "rasa-cache"))
        size = (out / "bench-full.tar.gz").stat().st_size
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "seconds": round(seconds, 1),
        "command": " ".join(command[1:]),
        "model_mb": round(size / 2**20, 1),
        "loadavg_1min_before": round(load, 2),
    }


def copy_project(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy2(PROJECT_ROOT / name, work / name)
    shutil.copytree(PROJECT_ROOT / "data", work / "data")


NEW_EXAMPLE = """version: "3.1"
nlu:
- intent: thank
  examples: |
    - dankjewel voor het meedenken over mijn stage {token}
"""


def time_nlu_change(bench_dir: Path) -> Dict[str, object]:
    work = bench_dir / "work"
    copy_project(work)
    (work / "data" / "nlu" / "bench_extra.yml").write_text(
        NEW_EXAMPLE.format(token=uuid.uuid4().hex[:6]), encoding="utf-8"
    )
    out = bench_dir / "train-nlu-change"
    shutil.rmtree(out, ignore_errors=True)
    command = [
        RASA, "train",
        "--data", str(work / "data"),
        "--config", str(work / "config.yml"),
        "--domain", str(work / "domain.yml"),
        "--out", str(out),
        "--fixed-model-name", "bench-nlu-change",
    ]
    try:
        seconds = run_logged(command, bench_dir / "logs" / "train-nlu-change.log", rasa_env(bench_dir / "rasa-cache"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"seconds": round(seconds, 1), "command": " ".join(command[1:])}


def train_baseline(bench_dir: Path, project: Path) -> Dict[str, object]:
    out = bench_dir / "baseline-model"
    command = [
        RASA, "train",
        "--data", str(project / "data"),
        "--config", str(project / "config.yml"),
        "--domain", str(project / "domain.yml"),
        "--out", str(out),
        "--fixed-model-name", "baseline",
    ]
    seconds = run_logged(command, bench_dir / "logs" / "train-baseline.log", rasa_env(bench_dir / "baseline-cache"))
    return {"model": out / "baseline.tar.gz", "seconds": round(seconds, 1)}
