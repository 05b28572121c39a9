"""Pure number helpers for the benchmark: percentiles, summaries, ratios. No I/O."""
from __future__ import annotations

import math
from typing import Dict, Iterable, List, Optional, Sequence


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """The q-th percentile (0..100) with linear interpolation between the closest
    ranks (numpy's default "linear" method); None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(float(v) for v in values)
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: Iterable[float], digits: int = 1) -> Dict[str, Optional[float]]:
    """n, p50, p95, p99, mean and max of a list of milliseconds (rounded)."""
    data: List[float] = [float(v) for v in values]

    def rounded(value: Optional[float]) -> Optional[float]:
        return None if value is None else round(value, digits)

    return {
        "n": len(data),
        "p50": rounded(percentile(data, 50)),
        "p95": rounded(percentile(data, 95)),
        "p99": rounded(percentile(data, 99)),
        "mean": rounded(sum(data) / len(data)) if data else None,
        "max": rounded(max(data)) if data else None,
    }


def ratio(ours: Optional[float], baseline: Optional[float], digits: int = 2) -> Optional[float]:
    """ours / baseline, None when either is missing or the baseline is zero."""
    if ours is None or baseline is None or baseline == 0:
        return None
    return round(ours / baseline, digits)


def throughput(messages: int, seconds: float, digits: int = 1) -> Optional[float]:
    if seconds <= 0:
        return None
    return round(messages / seconds, digits)
