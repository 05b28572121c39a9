"""ISO week helpers (reflections are kept per ISO week, e.g. 2026-W48)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

ISO_WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


def iso_week(day: Optional[dt.date] = None) -> str:
    year, week, _ = (day or dt.date.today()).isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(text: str) -> dt.date:
    """Monday of the given week; ValueError with a clear message when malformed."""
    match = ISO_WEEK_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"'{text}' is geen week in de vorm JJJJ-Www (bijvoorbeeld 2026-W48).")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"Week {week} bestaat niet in {year}.") from None


def shift_week(week: str, weeks: int) -> str:
    return iso_week(parse_iso_week(week) + dt.timedelta(weeks=weeks))
