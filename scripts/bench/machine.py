"""What the numbers were measured on."""
from __future__ import annotations

import datetime as dt
import os
import platform
import json
import subprocess
import tarfile
from pathlib import Path
from importlib import metadata
from typing import Dict, Optional

from bot.config import PROJECT_ROOT


def _first(path: str, prefix: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _version(package: str) -> Optional[str]:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> Optional[str]:
    try:
        out = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def describe() -> Dict[str, object]:
    mem_kb = _first("/proc/meminfo", "MemTotal")
    status = _git("status", "--porcelain")
    return {
        "cores": os.cpu_count(),
        "cpu_model": _first("/proc/cpuinfo", "model name") or platform.processor() or None,
        "ram_gb": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "rasa": _version("rasa"),
        "rasa_sdk": _version("rasa-sdk"),
        "tensorflow": _version("tensorflow"),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def describe_model(model: Path) -> Dict[str, object]:
    """When the served model was trained and with which components, and whether
    config.yml changed since: training is timed on the current config.yml, while
    the chat is measured on this model."""
    info: Dict[str, object] = {"path": str(model)}
    try:
        with tarfile.open(model, "r:gz") as archive:
            member = next(m for m in archive if m.name.lstrip("/") == "metadata.json")
            metadata = json.load(archive.extractfile(member))
    except (OSError, StopIteration, tarfile.TarError, ValueError) as error:
        info["error"] = f"could not read metadata.json: {error}"
        return info
    trained_at = metadata.get("trained_at")
    uses = {node.get("uses", "") for node in (metadata.get("predict_schema") or {}).get("nodes", {}).values()}
    info["trained_at"] = trained_at
    info["rasa"] = metadata.get("rasa_open_source_version")
    info["nlu_components"] = sorted(
        u.rsplit(".", 1)[-1] for u in uses if u.startswith(("rasa.nlu.", "bot.nlu.")) and "RegexMessageHandler" not in u
    )
    config = PROJECT_ROOT / "config.yml"
    if trained_at and config.exists():
        trained = dt.datetime.fromisoformat(trained_at)
        changed = dt.datetime.fromtimestamp(config.stat().st_mtime)
        info["config_changed_since_training"] = changed > trained
    return info
