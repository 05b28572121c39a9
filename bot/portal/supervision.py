"""What a supervisor sees of their own interns: shared answers only.

Every answer goes through bot.reflections.shared_view; nothing here reads a
reflection column directly, so a private answer cannot slip into a page or export.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from sqlalchemy import select

from bot.db import session_scope
from bot.models import Internship, ReadReceipt, Reflection, SupervisorComment, User
from bot.portal.access import Intern
from bot.portal.charts import mood_chart
from bot.portal.labels import FIELD_LABELS
from bot.reflections import FIELDS, shared_view
from bot.weeks import iso_week, shift_week

CHART_WEEKS = 8


def _is_shared(view: Dict[str, object]) -> bool:
    return bool(view)


def interns_overview(supervisor_id: int, week: Optional[str] = None) -> List[Dict[str, object]]:
    week = week or iso_week()
    weeks = [shift_week(week, -i) for i in range(CHART_WEEKS - 1, -1, -1)]
    with session_scope() as db:
        interns = db.execute(
            select(User, Internship)
            .join(Internship, Internship.student_id == User.id)
            .where(Internship.supervisor_id == supervisor_id, User.role == "student", User.active.is_(True))
            .order_by(User.name)
        ).all()
        read_ids = set(
            db.execute(select(ReadReceipt.reflection_id).where(ReadReceipt.supervisor_id == supervisor_id)).scalars()
        )
        result = []
        for user, internship in interns:
            reflections = db.execute(
                select(Reflection).where(Reflection.student_id == user.id).order_by(Reflection.iso_week)
            ).scalars().all()
            views = [(r, shared_view(r)) for r in reflections]
            moods = {r.iso_week: v["mood"] for r, v in views if v.get("mood") is not None}
            last = max(moods) if moods else None
            result.append(
                {
                    "external_id": user.external_id,
                    "name": user.name,
                    "company": internship.company,
                    "leerweg": internship.leerweg,
                    "reflected": any(r.iso_week == week for r in reflections),
                    "last_mood": moods[last] if last else None,
                    "last_mood_week": last,
                    "chart": mood_chart([(w, moods.get(w)) for w in weeks]),
                    "unread": sum(1 for r, v in views if _is_shared(v) and r.id not in read_ids),
                }
            )
        return result


def intern_log(intern: Intern, supervisor_id: int) -> List[Dict[str, object]]:
    """Newest week first; each answer either its shared text or marked not shared."""
    with session_scope() as db:
        reflections = db.execute(
            select(Reflection).where(Reflection.student_id == intern.id).order_by(Reflection.iso_week.desc())
        ).scalars().all()
        ids = [r.id for r in reflections]
        read = {
            receipt.reflection_id: receipt.read_at
            for receipt in db.execute(
                select(ReadReceipt).where(
                    ReadReceipt.supervisor_id == supervisor_id, ReadReceipt.reflection_id.in_(ids)
                )
            ).scalars()
        }
        comments: Dict[int, list] = {}
        for comment in db.execute(
            select(SupervisorComment)
            .where(SupervisorComment.supervisor_id == supervisor_id, SupervisorComment.reflection_id.in_(ids))
            .order_by(SupervisorComment.created_at)
        ).scalars():
            comments.setdefault(comment.reflection_id, []).append(
                {"text": comment.text, "at": comment.created_at, "delivered": comment.delivered_at is not None}
            )
        log = []
        for r in reflections:
            view = shared_view(r)
            log.append(
                {
                    "id": r.id,
                    "week": r.iso_week,
                    "answers": [
                        {"name": name, "label": FIELD_LABELS[name], "shared": name in view, "value": view.get(name)}
                        for name in FIELDS
                    ],
                    "any_shared": _is_shared(view),
                    "read_at": read.get(r.id),
                    "comments": comments.get(r.id, []),
                }
            )
        return log


def shared_records(intern: Intern) -> List[Dict[str, object]]:
    """Oldest week first, for the CSV and PDF exports: only shared answers."""
    with session_scope() as db:
        reflections = db.execute(
            select(Reflection).where(Reflection.student_id == intern.id).order_by(Reflection.iso_week)
        ).scalars().all()
        return [{"week": r.iso_week, "answers": shared_view(r)} for r in reflections]


def mark_read(db, reflection: Reflection, supervisor_id: int) -> bool:
    """Creates the read receipt once; False when it already existed."""
    exists = db.execute(
        select(ReadReceipt.id).where(
            ReadReceipt.reflection_id == reflection.id, ReadReceipt.supervisor_id == supervisor_id
        )
    ).first()
    if exists:
        return False
    db.add(ReadReceipt(reflection_id=reflection.id, supervisor_id=supervisor_id))
    return True
