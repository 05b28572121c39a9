"""What the numbers were measured on."""
from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
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
