"""ISO week helpers."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.weeks import iso_week, parse_iso_week, shift_week


@pytest.mark.parametrize(
    "day,week",
    [
        (dt.date(2026, 3, 2), "2026-W10"),  # Monday
        (dt.date(2026, 3, 8), "2026-W10"),  # Sunday, same week
        (dt.date(2026, 3, 9), "2026-W11"),
        (dt.date(2027, 1, 1), "2026-W53"),  # 2026 has 53 ISO weeks
        (dt.date(2024, 12, 30), "2025-W01"),  # belongs to the next ISO year
        (dt.date(2026, 1, 5), "2026-W02"),
    ],
)
def test_iso_week(day, week):
    assert iso_week(day) == week


def test_iso_week_defaults_to_today():
    assert iso_week() == iso_week(dt.date.today())


@pytest.mark.parametrize(
    "text,monday",
    [("2026-W10", dt.date(2026, 3, 2)), (" 2025-W01 ", dt.date(2024, 12, 30)), ("2026-W53", dt.date(2026, 12, 28))],
)
def test_parse_iso_week_gives_the_monday(text, monday):
    assert parse_iso_week(text) == monday
    assert monday.weekday() == 0


@pytest.mark.parametrize("text", ["2026-10", "2026W10", "26-W10", "2026-W1", "2026-w10", "", "volgende week"])
def test_parse_iso_week_refuses_malformed_text(text):
    with pytest.raises(ValueError) as error:
        parse_iso_week(text)
    assert "geen week in de vorm JJJJ-Www" in str(error.value)


@pytest.mark.parametrize("text", ["2026-W00", "2026-W60", "2025-W53"])
def test_parse_iso_week_refuses_weeks_that_do_not_exist(text):
    with pytest.raises(ValueError) as error:
        parse_iso_week(text)
    assert "bestaat niet in" in str(error.value)


@pytest.mark.parametrize(
    "week,shift,expected",
    [
        ("2026-W10", 1, "2026-W11"),
        ("2026-W10", -2, "2026-W08"),
        ("2026-W53", 1, "2027-W01"),
        ("2026-W01", -1, "2025-W52"),
        ("2026-W10", 0, "2026-W10"),
    ],
)
def test_shift_week(week, shift, expected):
    assert shift_week(week, shift) == expected
