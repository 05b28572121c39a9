"""What a supervisor sees of their own interns: shared answers only.

Every answer goes through bot.reflections.shared_view (texts) or shared_mood /
shared_names (the overview's plaintext columns); nothing here reads an answer column
directly, so a private answer cannot slip into a page or export.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set

from sqlalchemy import select

from bot.db import session_scope
from bot.models import Internship, ReadReceipt, Reflection, SupervisorComment, User
from bot.portal.access import Intern
from bot.portal.charts import mood_chart
from bot.portal.labels import FIELD_LABELS
from bot.reflections import FIELDS, shared_mood, shared_names, shared_view
from bot.weeks import iso_week, shift_week

CHART_WEEKS = 8


def _is_shared(view: Dict[str, object]) -> bool:
    return bool(view)


def interns_overview(supervisor_id: int, week: Optional[str] = None) -> List[Dict[str, object]]:
    """One row per active intern. Reads only the plaintext columns (week, mood,
    share choices) in two queries, so no answer is decrypted for this page."""
    week = week or iso_week()
    weeks = [shift_week(week, -i) for i in range(CHART_WEEKS - 1, -1, -1)]
    with session_scope() as db:
        interns = db.execute(
            select(User.id, User.external_id, User.name, Internship.company, Internship.leerweg)
            .join(Internship, Internship.student_id == User.id)
            .where(Internship.supervisor_id == supervisor_id, User.role == "student", User.active.is_(True))
            .order_by(User.name)
        ).all()
        read_ids = set(
            db.execute(select(ReadReceipt.reflection_id).where(ReadReceipt.supervisor_id == supervisor_id)).scalars()
        )
        weeks_of: Dict[int, List] = {intern.id: [] for intern in interns}
        for row in db.execute(
            select(Reflection.id, Reflection.student_id, Reflection.iso_week, Reflection.mood, Reflection.shared_fields)
            .where(Reflection.student_id.in_(list(weeks_of)))
        ):
            weeks_of[row.student_id].append(row)
    return [_overview_row(intern, weeks_of[intern.id], read_ids, week, weeks) for intern in interns]


def _overview_row(intern, rows, read_ids: Set[int], week: str, weeks: List[str]) -> Dict[str, object]:
    moods = {r.iso_week: mood for r in rows if (mood := shared_mood(r.shared_fields, r.mood)) is not None}
    last = max(moods) if moods else None
    return {
        "external_id": intern.external_id,
        "name": intern.name,
        "company": intern.company,
        "leerweg": intern.leerweg,
        "reflected": any(r.iso_week == week for r in rows),
        "last_mood": moods[last] if last else None,
        "last_mood_week": last,
        "chart": mood_chart([(w, moods.get(w)) for w in weeks]),
        "unread": sum(1 for r in rows if shared_names(r.shared_fields) and r.id not in read_ids),
    }


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
