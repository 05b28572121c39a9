"""Geometry for the small server-side SVG charts (no JavaScript).

Only numbers and labels come out of here; the templates draw them, so every
label goes through Jinja's autoescaping.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple


def week_label(week: str) -> str:
    """2026-W07 -> 'wk 7'."""
    return "wk " + str(int(week.split("-W")[1])) if "-W" in week else week


def mood_chart(series: Sequence[Tuple[str, Optional[int]]], width: int = 240, height: int = 80) -> Dict[str, object]:
    """A line per run of weeks with a shared mood (a gap where there is none)."""
    pad_left, pad_right, pad_top, pad_bottom = 18, 8, 8, 22  # room for the 1/3/5 labels on the left
    count = max(len(series), 1)
    step = (width - pad_left - pad_right) / max(count - 1, 1)
    usable = height - pad_top - pad_bottom

    def y_of(mood: int) -> float:
        return round(pad_top + usable * (5 - mood) / 4, 1)

    points, segments, current = [], [], []
    for index, (week, mood) in enumerate(series):
        x = round(pad_left + index * step, 1)
        if mood is None:
            if current:
                segments.append(current)
            current = []
            continue
        point = {"x": x, "y": y_of(mood), "week": week, "label": week_label(week), "mood": mood}
        points.append(point)
        current.append(point)
    if current:
        segments.append(current)
    lines = [" ".join(f"{p['x']},{p['y']}" for p in segment) for segment in segments if len(segment) > 1]
    axis = [
        {"x": round(pad_left + i * step, 1), "label": week_label(week)}
        for i, (week, _) in enumerate(series)
        if i == 0 or i == len(series) - 1
    ]
    return {
        "width": width,
        "height": height,
        "points": points,
        "lines": lines,
        "axis": axis,
        "grid": [{"y": y_of(m), "mood": m} for m in (1, 3, 5)],
        "left": pad_left - 4,
    }


def bar_chart(items: Sequence[Tuple[str, int]], width: int = 480, height: int = 160) -> Dict[str, object]:
    """Vertical bars with the value above and the label below each bar."""
    pad_x, pad_top, pad_bottom = 8, 18, 22
    count = max(len(items), 1)
    slot = (width - 2 * pad_x) / count
    bar_width = round(slot * 0.6, 1)
    top = max([value for _, value in items] + [1])
    usable = height - pad_top - pad_bottom
    bars: List[Dict[str, object]] = []
    for index, (label, value) in enumerate(items):
        bar_height = round(usable * value / top, 1)
        x = round(pad_x + index * slot + (slot - bar_width) / 2, 1)
        bars.append(
            {
                "x": x,
                "y": round(pad_top + usable - bar_height, 1),
                "width": bar_width,
                "height": bar_height,
                "center": round(x + bar_width / 2, 1),
                "label": label,
                "value": value,
            }
        )
    return {"width": width, "height": height, "bars": bars, "baseline": pad_top + usable}
