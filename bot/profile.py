"""What the assistant may know about the person in the chat."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select

from bot.db import session_scope
from bot.models import Internship, User

LAST_WEEKS_ARE_END = 3


@dataclass(frozen=True)
class StudentProfile:
    external_id: str
    first_name: str
    leerweg: Optional[str]
    company: Optional[str]
    phase: Optional[str]


def phase_from_dates(start: Optional[dt.date], end: Optional[dt.date], today: dt.date) -> Optional[str]:
    if start and today < start:
        return "before"
    if end and today > end - dt.timedelta(weeks=LAST_WEEKS_ARE_END):
        return "after"
    if start and today >= start:
        return "during"
    return None


def load_profile(external_id: str, today: Optional[dt.date] = None) -> Optional[StudentProfile]:
    """The student's profile, or None for an unknown sender (generic content only)."""
    if not external_id:
        return None
    with session_scope() as session:
        row = session.execute(
            select(User, Internship)
            .outerjoin(Internship, Internship.student_id == User.id)
            .where(User.external_id == external_id, User.role == "student", User.active.is_(True))
        ).first()
        if row is None:
            return None
        user, internship = row
        return StudentProfile(
            external_id=user.external_id,
            first_name=user.first_name,
            leerweg=internship.leerweg if internship else None,
            company=internship.company if internship else None,
            phase=phase_from_dates(
                internship.start_date if internship else None,
                internship.end_date if internship else None,
                today or dt.date.today(),
            ),
        )
