"""A token bucket per key (e.g. per student), in memory, bounded in size.

Each key starts with `burst` tokens; every message takes one; tokens come back at
`rate` per second up to `burst`. So a student may send `burst` messages at once
(buttons clicked quickly, a few short answers) and then about `rate` per second
for as long as they like, but a script cannot flood the assistant.

The table lives in one process. The chat channel runs inside each Rasa server
process, so with N Rasa replicas a student whose connections land on different
replicas gets up to N times the limit (socket.io's polling transport needs
sticky sessions anyway, so in practice one student talks to one replica).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict

MAX_KEYS = 50_000  # bounded memory even when every connection uses a new identity


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class TokenBucketLimiter:
    def __init__(self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        if rate <= 0:
            raise ValueError("rate must be greater than 0")
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self._buckets: Dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            return _Bucket(float(self.burst), now)
        elapsed = max(0.0, now - bucket.stamp)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.stamp = now
        return bucket

    def allow(self, key: str) -> bool:
        """Takes one token for `key`; False (and nothing taken) when none is left."""
        with self._lock:
            now = self.clock()
            if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
                self._prune(now)
            bucket = self._refilled(key, now)
            self._buckets[key] = bucket
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True
            return False

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may send one message again (0 when it may now)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                return 0.0
            now = self.clock()
            tokens = min(float(self.burst), bucket.tokens + max(0.0, now - bucket.stamp) * self.rate)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def wait_seconds(self, key: str) -> int:
        """`retry_after` rounded up to whole seconds, at least 1: for a message to a person."""
        return max(1, math.ceil(self.retry_after(key)))

    def _prune(self, now: float) -> None:
        # a bucket that is full again holds no information: forget it
        full_after = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.stamp >= full_after]:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # still full: forget the longest idle half
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].stamp)
            for key in oldest[: MAX_KEYS // 2]:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)
