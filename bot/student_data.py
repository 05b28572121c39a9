"""A student's right of access and right to erasure (AVG/GDPR art. 15 and 17).

    python -m bot students export ID [--output FILE]
    python -m bot students delete ID --yes

`export_student_data` gathers everything stored about one student in the
application database and their conversation in Rasa's tracker store, as
JSON-serialisable data with English keys. `delete_student_data` removes it;
safety reports are kept (still linked to the student) for the school's duty of
care, see docs/privacy.md. One transaction per store.
"""
from __future__ import annotations

import datetime as dt
from typing import Dict, List, Optional

from sqlalchemy import delete, select

from bot import audit, tracker_data
from bot.config import get_settings
from bot.db import session_scope
from bot.models import (
    Goal,
    Internship,
    ReadReceipt,
    Reflection,
    SafetyReport,
    SupervisorComment,
    User,
    utcnow,
)
from bot.reflections import FIELDS

DELETED_NAME = "verwijderd"


class UnknownStudent(LookupError):
    pass


def _iso(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _unix_iso(timestamp) -> Optional[str]:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(float(timestamp), tz=dt.timezone.utc).isoformat()


def _student(session, external_id: str) -> User:
    user = session.execute(
        select(User).where(User.external_id == external_id, User.role == "student")
    ).scalar()
    if user is None:
        raise UnknownStudent(external_id)
    return user


def _person(user: Optional[User]) -> Optional[Dict[str, str]]:
    if user is None:
        return None
    return {"id": user.external_id, "name": user.name}


def export_student_data(external_id: str) -> Dict[str, object]:
    with session_scope() as session:
        student = _student(session, external_id)
        internship = student.internship
        reflections: List[Dict[str, object]] = []
        rows = session.execute(
            select(Reflection).where(Reflection.student_id == student.id).order_by(Reflection.iso_week)
        ).scalars()
        for row in rows:
            shared = [f for f in (row.shared_fields or "").split(",") if f]
            reflections.append(
                {
                    "week": row.iso_week,
                    "answers": {name: getattr(row, name) for name in FIELDS},
                    "shared_with_supervisor": shared,
                    "created_at": _iso(row.created_at),
                    "updated_at": _iso(row.updated_at),
                    "supervisor_comments": [
                        {
                            "supervisor": _person(comment.supervisor),
                            "text": comment.text,
                            "created_at": _iso(comment.created_at),
                            "delivered_at": _iso(comment.delivered_at),
                        }
                        for comment in sorted(row.comments, key=lambda c: (c.created_at, c.id))
                    ],
                    "read_by_supervisor": [
                        {
                            "supervisor": _person(session.get(User, receipt.supervisor_id)),
                            "read_at": _iso(receipt.read_at),
                        }
                        for receipt in sorted(row.receipts, key=lambda r: (r.read_at, r.id))
                    ],
                }
            )
        goals = [
            {
                "week": goal.iso_week,
                "text": goal.text,
                "source": goal.source,
                "outcome": goal.outcome,
                "outcome_at": _iso(goal.outcome_at),
                "created_at": _iso(goal.created_at),
            }
            for goal in session.execute(
                select(Goal).where(Goal.student_id == student.id).order_by(Goal.iso_week, Goal.id)
            ).scalars()
        ]
        safety_reports = [
            {
                "categories": [c for c in (report.categories or "").split(",") if c],
                "message": report.message,
                "details": report.details,
                "status": report.status,
                "created_at": _iso(report.created_at),
                "updated_at": _iso(report.updated_at),
            }
            for report in session.execute(
                select(SafetyReport).where(SafetyReport.student_id == student.id).order_by(SafetyReport.id)
            ).scalars()
        ]
        data: Dict[str, object] = {
            "exported_at": _iso(utcnow()),
            "profile": {
                "id": student.external_id,
                "role": student.role,
                "name": student.name,
                "email": student.email,
                "active": student.active,
                "has_portal_password": student.password_hash is not None,
                "created_at": _iso(student.created_at),
                "updated_at": _iso(student.updated_at),
            },
            "internship": None
            if internship is None
            else {
                "company": internship.company,
                "leerweg": internship.leerweg,
                "start_date": _iso(internship.start_date),
                "end_date": _iso(internship.end_date),
                "supervisor": _person(internship.supervisor),
            },
            "reflections": reflections,
            "goals": goals,
            "safety_reports": safety_reports,
        }
        student_id = student.id

    data["access_log"] = audit.export_rows(student_id)  # who read, exported or deleted what, and when

    chat = tracker_data.messages(get_settings().tracker_store_url, external_id) or []
    data["chat_messages"] = [
        {"from": m["from"], "text": m["text"], "time": _unix_iso(m["timestamp"])} for m in chat
    ]
    return data


def delete_student_data(external_id: str) -> Dict[str, int]:
    """Delete the student's data and deactivate the account. Idempotent."""
    with session_scope() as session:
        student = _student(session, external_id)
        reflection_ids = select(Reflection.id).where(Reflection.student_id == student.id)
        counts: Dict[str, int] = {}
        counts["supervisor_comments"] = session.execute(
            delete(SupervisorComment)
            .where(SupervisorComment.reflection_id.in_(reflection_ids))
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["read_receipts"] = session.execute(
            delete(ReadReceipt)
            .where(ReadReceipt.reflection_id.in_(reflection_ids))
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["reflections"] = session.execute(
            delete(Reflection)
            .where(Reflection.student_id == student.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["goals"] = session.execute(
            delete(Goal).where(Goal.student_id == student.id).execution_options(synchronize_session=False)
        ).rowcount
        counts["internships"] = session.execute(
            delete(Internship)
            .where(Internship.student_id == student.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["safety_reports_kept"] = len(
            session.execute(select(SafetyReport.id).where(SafetyReport.student_id == student.id)).all()
        )
        audit.minimise_for_student(session, student.id)  # rows stay, without weeks/ids
        student.active = False
        student.password_hash = None
        student.name = DELETED_NAME
        student.email = None
        student.updated_at = utcnow()

    deleted = tracker_data.delete_sender(get_settings().tracker_store_url, external_id)
    counts["chat_events"] = deleted or 0
    return counts
