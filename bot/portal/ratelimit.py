"""Login throttling: failed attempts per account and per IP address, in memory.

The portal runs as one waitress process with threads, so one in-memory table per
process is enough. With several portal processes behind a load balancer each process
counts on its own (the real limit becomes N times higher): then move this table to
the shared database or Redis.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Deque, Dict

MAX_KEYS = 50_000  # bounded memory even under a flood of made-up account names


class FailureLimiter:
    """At most `max_failures` failures per key within `window` seconds."""

    def __init__(self, max_failures: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: Dict[str, Deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> Deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, self.clock())) >= self.max_failures

    def record_failure(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            if len(self._failures) >= MAX_KEYS:
                self._prune(now)
            stamps = self._recent(key, now)
            stamps.append(now)
            self._failures[key] = stamps

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) >= MAX_KEYS:  # still full: forget the oldest half
            oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in oldest[: MAX_KEYS // 2]:
                del self._failures[key]


class LoginThrottle:
    """Blocks a login when the account or the IP address had too many failures.

    The IP limit is higher than the account limit: a whole class logs in from one
    school network address, and one student's typos must not lock out the others.
    """

    def __init__(self, per_account: int, per_ip: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.accounts = FailureLimiter(per_account, window, clock)
        self.addresses = FailureLimiter(per_ip, window, clock)

    @staticmethod
    def account_key(login: str) -> str:
        return login.strip().lower()[:254]

    def blocked(self, login: str, ip: str) -> bool:
        return self.accounts.blocked(self.account_key(login)) or self.addresses.blocked(ip)

    def failed(self, login: str, ip: str) -> None:
        self.accounts.record_failure(self.account_key(login))
        self.addresses.record_failure(ip)

    def succeeded(self, login: str) -> None:
        self.accounts.reset(self.account_key(login))
