"""The student's profile and internship phase."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot import db
from bot.models import Internship, User
from bot.profile import LAST_WEEKS_ARE_END, load_profile, phase_from_dates

START = dt.date(2026, 2, 2)
END = dt.date(2026, 6, 26)
END_PHASE_STARTS = END - dt.timedelta(weeks=LAST_WEEKS_ARE_END)  # 2026-06-05


@pytest.mark.parametrize(
    "today,phase",
    [
        (START - dt.timedelta(days=30), "before"),
        (START - dt.timedelta(days=1), "before"),
        (START, "during"),
        (START + dt.timedelta(days=1), "during"),
        (END_PHASE_STARTS - dt.timedelta(days=1), "during"),
        (END_PHASE_STARTS, "during"),
        (END_PHASE_STARTS + dt.timedelta(days=1), "after"),
        (END, "after"),
        (END + dt.timedelta(days=60), "after"),
    ],
)
def test_phase_from_dates_boundaries(today, phase):
    assert phase_from_dates(START, END, today) == phase


def test_end_phase_is_the_last_three_weeks():
    assert LAST_WEEKS_ARE_END == 3
    assert END_PHASE_STARTS == dt.date(2026, 6, 5)


@pytest.mark.parametrize(
    "start,end,today,phase",
    [
        (None, None, dt.date(2026, 3, 1), None),
        (START, None, START - dt.timedelta(days=1), "before"),
        (START, None, START + dt.timedelta(days=400), "during"),
        (None, END, END_PHASE_STARTS, None),
        (None, END, END_PHASE_STARTS + dt.timedelta(days=1), "after"),
    ],
)
def test_phase_with_missing_dates(start, end, today, phase):
    assert phase_from_dates(start, end, today) == phase


def test_short_internship_not_started_yet_is_before():
    start, end = dt.date(2026, 3, 2), dt.date(2026, 3, 20)  # shorter than the end phase
    assert phase_from_dates(start, end, dt.date(2026, 3, 1)) == "before"
    assert phase_from_dates(start, end, dt.date(2026, 3, 2)) == "after"


def set_dates(external_id, start, end):
    with db.session_scope() as session:
        internship = session.execute(
            select(Internship).join(User, User.id == Internship.student_id).where(User.external_id == external_id)
        ).scalar()
        internship.start_date, internship.end_date = start, end


def test_load_profile(people):
    set_dates("student-1", START, END)
    profile = load_profile("student-1", today=dt.date(2026, 3, 15))
    assert profile.external_id == "student-1"
    assert profile.first_name == "Sanne"
    assert (profile.leerweg, profile.company, profile.phase) == ("BOL", "Kapsalon Knip", "during")
    assert load_profile("student-1", today=dt.date(2026, 1, 1)).phase == "before"
    assert load_profile("student-1", today=dt.date(2026, 6, 20)).phase == "after"


def test_load_profile_without_dates_has_no_phase(people):
    profile = load_profile("student-2", today=dt.date(2026, 3, 15))
    assert (profile.first_name, profile.leerweg, profile.company, profile.phase) == ("Mo", "BBL", "Kinderopvang Zon", None)


@pytest.mark.parametrize("external_id", ["", None, "nobody", "sup-1", "coord-1"])
def test_no_profile_for_unknown_senders_and_staff(people, external_id):
    assert load_profile(external_id) is None


def test_no_profile_for_inactive_students(people):
    with db.session_scope() as session:
        session.execute(select(User).where(User.external_id == "student-1")).scalar().active = False
    assert load_profile("student-1") is None


def test_student_without_internship_row(people):
    with db.session_scope() as session:
        session.add(User(external_id="student-9", role="student", name="Noor"))
    profile = load_profile("student-9")
    assert (profile.first_name, profile.leerweg, profile.company, profile.phase) == ("Noor", None, None, None)
