"""Optional sampling profiles of the loaded phase with py-spy (`--py-spy PATH` or
BENCH_PYSPY). py-spy is not a project dependency; install it anywhere, e.g.
`python3 -m venv /tmp/pyspy && /tmp/pyspy/bin/pip install py-spy`.

Each process is recorded in py-spy's "raw" format (collapsed stacks, one line per
distinct stack with its sample count) under var/bench/profile/, and summarised
here: the share of busy samples in which a function is on the stack (inclusive) and
at the top of the stack (self), and the busy samples split into named buckets
(first matching rule wins). py-spy does not recognise these processes' idle threads
(the event loop waiting in uvloop/select, thread-pool workers waiting for work), so
stacks ending in those frames are counted as idle and left out.
"""
from __future__ import annotations

import re
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

IDLE_LEAVES = frozenset({
    "_worker (concurrent/futures/thread.py)",  # a thread-pool worker waiting for work
    "serve (sanic/server/runners.py)",  # the event loop waiting in uvloop
    "wait (threading.py)",
    "select (selectors.py)",
})

# (bucket, substring of a frame); the first rule matching any frame of a stack wins.
RASA_BUCKETS = (
    ("action response validation: Rasa RemoteAction._validate_action_result (cached validator, bot/rasa_speedups.py)", "jsonschema/"),
    ("tracker event encryption (bot/stores.py -> bot/crypto.py)", "bot/crypto.py"),
    ("per-message account check (bot/tokens.chat_account_is_active)", "chat_account_is_active"),
    ("tracker store load/save (Rasa SQLTrackerStore on SQLite)", "rasa/core/tracker_store.py"),
    ("NLU pipeline (Rasa parse_message)", "parse_message (rasa/core/processor.py)"),
    ("policy prediction (Rasa)", "predict_next_with_tracker_if_should (rasa/core/processor.py)"),
    ("HTTP call to the action server (aiohttp)", "aiohttp/"),
    ("rest of Rasa's message handling", "handle_message (rasa/core/processor.py)"),
    ("socket.io / engine.io / websocket I/O", "engineio/"),
    ("socket.io / engine.io / websocket I/O", "sanic/server/websockets/"),
)
ACTION_BUCKETS = (
    ("encryption (bot/crypto.py)", "bot/crypto.py"),
    ("SQLite COMMIT (sqlalchemy do_commit)", "do_commit (sqlalchemy/engine/default.py)"),
    ("opening/closing SQLite connections (sqlalchemy pool)", "sqlalchemy/pool/"),
    ("other SQLAlchemy work (queries, ORM)", "sqlalchemy/"),
    ("our actions and bot/ services (Python)", "actions/"),
    ("rasa_sdk request handling", "rasa_sdk/"),
)

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


class Recorder:
    def __init__(self, py_spy: str, pids: Dict[str, int], out_dir: Path, rate: int = 100) -> None:
        self.py_spy = py_spy
        self.pids = pids
        self.out_dir = out_dir
        self.rate = rate
        self.processes: Dict[str, subprocess.Popen] = {}

    def __enter__(self) -> "Recorder":
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            self.processes[name] = subprocess.Popen(
                [self.py_spy, "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw",
                 "--output", str(self.out_dir / f"{name}.txt"), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=open(self.out_dir / f"{name}.log", "wb"),
            )
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes.values():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()

    def summaries(self, top: int = 25) -> Dict[str, object]:
        result = {}
        for name in self.pids:
            path = self.out_dir / f"{name}.txt"
            if not path.exists():
                result[name] = None
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            result[name] = summarize_raw(text, top)
            result[name]["buckets_pct"] = buckets(text, RASA_BUCKETS if name == "rasa" else ACTION_BUCKETS)
        return result


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match.group("file")
    for marker in ("site-packages/", "/work/main/", "python3.10/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({file})"


def _stacks(text: str):
    """(frames, samples) of the busy stacks in py-spy's raw output, and the idle count."""
    busy, idle = [], 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        if frames[-1] in IDLE_LEAVES:
            idle += int(count_text)
        else:
            busy.append((frames, int(count_text)))
    return busy, idle


def buckets(text: str, rules) -> Dict[str, float]:
    """Percent of busy samples per bucket (first matching rule), plus "other"."""
    counts: Counter = Counter()
    stacks, _ = _stacks(text)
    total = sum(n for _, n in stacks)
    for frames, count in stacks:
        label = next((name for name, needle in rules if any(needle in f for f in frames)), "other")
        counts[label] += count
    order = [name for name, _ in rules] + ["other"]
    return {name: round(100.0 * counts[name] / total, 1) for name in order if counts[name]} if total else {}


def summarize_raw(text: str, top: int = 25) -> Dict[str, object]:
    """Inclusive and self shares (percent of busy samples) of the busiest functions."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    stacks, idle = _stacks(text)
    for frames, count in stacks:
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def share(counter: Counter) -> List[List[object]]:
        return [[name, round(100.0 * n / total, 1)] for name, n in counter.most_common(top)] if total else []

    return {"busy_samples": total, "idle_samples": idle, "inclusive_pct": share(inclusive), "self_pct": share(own)}


def find_py_spy(explicit: Optional[str]) -> Optional[str]:
    if not explicit:
        return None
    return explicit if Path(explicit).exists() else None
