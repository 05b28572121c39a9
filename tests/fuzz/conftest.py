"""Fixtures of the fuzz suite.

The real stack is the end-to-end suite's session fixture (imported, not copied):
Rasa server, action server and portal as processes on free ports, with their own
SQLite files. `ledger` counts every message the suite sends through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.e2e.conftest import Chat, chat, fresh_student, stack  # noqa: F401 (fixtures)
from tests.portal.conftest import app, cheap_hashing, portal_client, tracker_store  # noqa: F401 (fixtures)

# Reproducible in CI: the same examples on every run, no example database. No
# shrinking: against the running stack every shrink step is a whole conversation,
# and with derandomize the failing example is reported as generated (and repeats).
settings.register_profile(
    "fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
settings.load_profile("fuzz")


@dataclass
class Ledger:
    """What the suite sent through the running stack: per channel, and per sender
    how many messages reached Rasa (the rest were refused by the channel)."""

    sent: Dict[str, int] = field(default_factory=lambda: {"rest": 0, "socket": 0})
    reached: Dict[str, int] = field(default_factory=dict)

    def count(self, channel: str, sender: str, reached: bool, number: int = 1) -> None:
        self.sent[channel] += number
        self.reached[sender] = self.reached.get(sender, 0) + (number if reached else 0)

    @property
    def senders(self) -> List[str]:
        return list(self.reached)

    @property
    def total(self) -> int:
        return sum(self.sent.values())


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture(scope="session", autouse=True)
def fast_chat_rate():
    """The portal chat's per-student rate limit (burst 8, 30 a minute) is for
    humans; this suite types a reflection in a few seconds. Raised (not removed)
    for the stack this suite starts. When an earlier module already started the
    stack with the defaults, SocketChat waits as the limiter asks instead."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHAT_RATE_BURST", "60")
        patch.setenv("CHAT_RATE_PER_MINUTE", "1200")
        yield


@dataclass
class Baseline:
    """The stack as this suite found it: process ids and how far each log was written."""

    pids: Dict[str, int]
    log_offsets: Dict[str, int]


@pytest.fixture(scope="session")
def baseline(stack) -> Baseline:
    logs = {path.name: path.stat().st_size for path in stack.config.log_dir.glob("*.log")}
    return Baseline({name: process.pid for name, process in stack.processes.items()}, logs)
