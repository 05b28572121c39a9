"""The processes under test: our stack and the baseline Rasa server (both through
bot.stack.Stack, unchanged), on free loopback ports, and their memory from /proc.

RSS is the sum of VmRSS over a process and everything in its process group (each
service is started in its own session by Stack, so the group is the service). Pages
shared between processes are counted in each, as `ps` does.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

from bot.stack import Stack, StackConfig

RESERVED_PORTS = {5005, 5055, 8000}  # the developer's `make run`
BENCH_ENV = {"RASA_TELEMETRY_ENABLED": "false"}
# The chat channel's per-student flood limit (bot/ratelimit.py) would answer the
# simulated students, who send their next message the moment a turn is over, with
# "Rustig aan"; it is raised so every message reaches Rasa. The check itself still runs.
UNLIMITED_CHAT = {"CHAT_RATE_BURST": "1000000", "CHAT_RATE_PER_MINUTE": "60000000"}


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def start_ours(workdir: Path, model: Path, database_url: str, tracker_store_url: str, timeout: float = 600) -> Stack:
    """Our three processes."""
    extra = dict(BENCH_ENV, **UNLIMITED_CHAT)
    config = StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),
        portal_port=free_port(),
        database_url=database_url,
        tracker_store_url=tracker_store_url,
        model=model,
        log_dir=workdir / "logs",
        with_portal=True,
        extra_env=extra,
    )
    stack = Stack(config)
    try:
        stack.start(timeout=timeout)
    except Exception:
        stack.stop()
        raise
    return stack


def start_baseline(workdir: Path, model: Path, project: Path, timeout: float = 600) -> Stack:
    """Only the Rasa server: the baseline has no custom actions and no portal."""
    config = StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),  # unused (no action endpoint in its endpoints.yml)
        model=model,
        credentials=project / "credentials.yml",
        endpoints=project / "endpoints.yml",
        log_dir=workdir / "logs" / "baseline",
        with_portal=False,
        extra_env=dict(BENCH_ENV, BENCH_BASELINE_TRACKER_DB=str(workdir / "baseline-tracker.db")),
    )
    stack = Stack(config)
    try:
        stack.start_rasa()
        stack.wait_ready(timeout, names=["rasa"])
    except Exception:
        stack.stop()
        raise
    return stack


def _group_members(pgid: int) -> List[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        # the command name (field 2) may contain spaces: split after its closing ")"
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def rss_mb(pid: int) -> float:
    """Resident memory of the process group led by `pid`, in MiB (0 when gone)."""
    total_kb = 0
    for member in _group_members(pid) or [pid]:
        try:
            with open(f"/proc/{member}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return round(total_kb / 1024, 1)


def stack_rss(stack: Stack, prefix: str = "") -> Dict[str, float]:
    return {f"{prefix}{name}": rss_mb(process.pid) for name, process in stack.processes.items()}


class RssSampler:
    """Samples RSS of the given stacks every `interval` seconds in a thread and keeps
    the maximum per process (start/stop around a load phase)."""

    def __init__(self, stacks: Dict[str, Stack], interval: float = 0.5) -> None:
        self.stacks = stacks
        self.interval = interval
        self.maximum: Dict[str, float] = {}
        self.max_total: float = 0.0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _sample(self) -> None:
        for prefix, stack in self.stacks.items():
            sample = stack_rss(stack, prefix)
            for name, value in sample.items():
                self.maximum[name] = max(value, self.maximum.get(name, 0.0))
            if prefix == "":
                self.max_total = max(self.max_total, round(sum(sample.values()), 1))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._sample()


def wait_for(condition, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
