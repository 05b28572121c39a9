"""Jinja filters: dates in Dutch local time."""
from __future__ import annotations

import datetime as dt
from typing import Optional

try:
    from zoneinfo import ZoneInfo

    LOCAL = ZoneInfo("Europe/Amsterdam")
except Exception:  # no time zone database on this machine: show UTC
    LOCAL = dt.timezone.utc


def local_time(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """The database keeps naive UTC; people read Dutch time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(LOCAL)


def datetime_nl(value: Optional[dt.datetime]) -> str:
    local = local_time(value)
    return local.strftime("%d-%m-%Y %H:%M") if local else "-"


def date_nl(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        value = local_time(value)
    return value.strftime("%d-%m-%Y")


def register(app) -> None:
    app.add_template_filter(datetime_nl, "datetime_nl")
    app.add_template_filter(date_nl, "date_nl")
