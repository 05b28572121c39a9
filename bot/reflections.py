"""Weekly reflections and goals: save, list, delete, export.

Saving is one transaction and idempotent: a reflection is unique per student and
ISO week, so a retried save updates the same row instead of adding a second one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set

from sqlalchemy import delete, select

from bot.db import session_scope
from bot.models import Goal, Reflection, User, utcnow
from bot.weeks import iso_week, shift_week

OPEN_QUESTIONS = ("went_well", "difficult", "feedback", "initiative", "next_goal")
FIELDS = OPEN_QUESTIONS + ("mood",)
SHARE_PRESETS = {
    "all": FIELDS,
    "goal_mood": ("next_goal", "mood"),
    "none": (),
}


class UnknownStudent(LookupError):
    pass


@dataclass(frozen=True)
class SavedReflection:
    id: int
    iso_week: str
    created: bool


def _student(session, external_id: str) -> User:
    user = session.execute(
        select(User).where(User.external_id == external_id, User.role == "student")
    ).scalar()
    if user is None:
        raise UnknownStudent(external_id)
    return user


def find_student(external_id: str) -> Optional[User]:
    with session_scope() as session:
        return session.execute(
            select(User).where(User.external_id == external_id, User.role == "student", User.active.is_(True))
        ).scalar()


def save_reflection(
    external_id: str, week: str, answers: Dict[str, object], shared_fields: Sequence[str]
) -> SavedReflection:
    unknown = set(shared_fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown shared fields: {sorted(unknown)}")
    with session_scope() as session:
        student = _student(session, external_id)
        row = session.execute(
            select(Reflection).where(Reflection.student_id == student.id, Reflection.iso_week == week)
        ).scalar()
        created = row is None
        if created:
            row = Reflection(student_id=student.id, iso_week=week)
            session.add(row)
        for name in OPEN_QUESTIONS:
            setattr(row, name, (answers.get(name) or None))
        mood = answers.get("mood")
        row.mood = int(mood) if mood not in (None, "") else None
        row.shared_fields = ",".join(f for f in FIELDS if f in shared_fields)
        row.updated_at = utcnow()
        session.flush()
        if row.next_goal:
            _upsert_reflection_goal(session, student.id, shift_week(week, 1), row.next_goal)
        return SavedReflection(id=row.id, iso_week=week, created=created)


def _upsert_reflection_goal(session, student_id: int, week: str, text: str) -> None:
    goal = session.execute(
        select(Goal).where(Goal.student_id == student_id, Goal.iso_week == week, Goal.source == "reflection")
    ).scalar()
    same_text = session.execute(
        select(Goal).where(Goal.student_id == student_id, Goal.iso_week == week, Goal.text == text)
    ).scalar()
    if same_text is not None:
        # That week already has this goal (e.g. an accepted coaching micro-goal): a
        # second row would break the unique constraint and lose the whole reflection.
        if goal is not None and goal.id != same_text.id:
            session.delete(goal)
        return
    if goal is None:
        session.add(Goal(student_id=student_id, iso_week=week, source="reflection", text=text))
    else:
        goal.text = text


def has_reflection(external_id: str, week: Optional[str] = None) -> bool:
    with session_scope() as session:
        student = _student(session, external_id)
        return (
            session.execute(
                select(Reflection.id).where(
                    Reflection.student_id == student.id, Reflection.iso_week == (week or iso_week())
                )
            ).first()
            is not None
        )


def recent_reflections(external_id: str, limit: int = 3) -> List[Reflection]:
    with session_scope() as session:
        student = _student(session, external_id)
        return list(
            session.execute(
                select(Reflection)
                .where(Reflection.student_id == student.id)
                .order_by(Reflection.iso_week.desc())
                .limit(limit)
            ).scalars()
        )


def add_goal(external_id: str, text: str, source: str, week: Optional[str] = None) -> int:
    week = week or iso_week()
    with session_scope() as session:
        student = _student(session, external_id)
        existing = session.execute(
            select(Goal).where(Goal.student_id == student.id, Goal.iso_week == week, Goal.text == text)
        ).scalar()
        if existing is not None:
            return existing.id
        goal = Goal(student_id=student.id, iso_week=week, text=text, source=source)
        session.add(goal)
        session.flush()
        return goal.id


def recent_goals(external_id: str, limit: int = 3) -> List[Goal]:
    with session_scope() as session:
        student = _student(session, external_id)
        return list(
            session.execute(
                select(Goal)
                .where(Goal.student_id == student.id)
                .order_by(Goal.iso_week.desc(), Goal.created_at.desc())
                .limit(limit)
            ).scalars()
        )


def goal_to_follow_up(external_id: str, week: Optional[str] = None) -> Optional[Goal]:
    """The newest goal of an earlier week (at most two weeks back) without an outcome."""
    week = week or iso_week()
    oldest = shift_week(week, -2)
    with session_scope() as session:
        student = _student(session, external_id)
        return session.execute(
            select(Goal)
            .where(
                Goal.student_id == student.id,
                Goal.outcome.is_(None),
                Goal.iso_week < week,
                Goal.iso_week >= oldest,
            )
            .order_by(Goal.iso_week.desc(), Goal.created_at.desc())
            .limit(1)
        ).scalar()


def record_goal_outcome(external_id: str, goal_id: int, outcome: str) -> bool:
    with session_scope() as session:
        student = _student(session, external_id)
        goal = session.get(Goal, goal_id)
        if goal is None or goal.student_id != student.id:
            return False
        goal.outcome = outcome
        goal.outcome_at = utcnow()
        return True


def delete_reflection(external_id: str, week: str) -> bool:
    with session_scope() as session:
        student = _student(session, external_id)
        result = session.execute(
            delete(Reflection).where(Reflection.student_id == student.id, Reflection.iso_week == week)
        )
        session.execute(
            delete(Goal).where(
                Goal.student_id == student.id, Goal.source == "reflection", Goal.iso_week == shift_week(week, 1)
            )
        )
        return result.rowcount > 0


def delete_all_reflections(external_id: str) -> int:
    """Deletes every reflection and goal of the student; returns the reflections removed."""
    with session_scope() as session:
        student = _student(session, external_id)
        ids = [r for (r,) in session.execute(select(Reflection.id).where(Reflection.student_id == student.id))]
        for reflection in session.execute(select(Reflection).where(Reflection.id.in_(ids))).scalars():
            session.delete(reflection)  # cascades to comments and read receipts
        session.execute(delete(Goal).where(Goal.student_id == student.id))
        return len(ids)


def shared_names(shared_fields: Optional[str]) -> Set[str]:
    """The answers a student chose to share, from the stored comma-separated list."""
    return {name for name in (shared_fields or "").split(",") if name in FIELDS}


def shared_view(reflection: Reflection) -> Dict[str, object]:
    """Only the answers the student chose to share."""
    shared = shared_names(reflection.shared_fields)
    return {name: getattr(reflection, name) for name in FIELDS if name in shared}


def shared_mood(shared_fields: Optional[str], mood: Optional[int]) -> Optional[int]:
    """The mood score if the student shared it: for pages that need no answer text
    and so never decrypt one."""
    return mood if "mood" in shared_names(shared_fields) else None


def export_records(
    student: Optional[str] = None, week: Optional[str] = None, shared_only: bool = False
) -> List[Dict[str, object]]:
    with session_scope() as session:
        query = select(Reflection, User).join(User, User.id == Reflection.student_id)
        if student:
            query = query.where(User.external_id == student)
        if week:
            query = query.where(Reflection.iso_week == week)
        rows = session.execute(query.order_by(User.external_id, Reflection.iso_week)).all()
        return [_record(reflection, user, shared_only) for reflection, user in rows]


def _record(reflection: Reflection, user: User, shared_only: bool) -> Dict[str, object]:
    shared = [f for f in (reflection.shared_fields or "").split(",") if f]
    answers = shared_view(reflection) if shared_only else {f: getattr(reflection, f) for f in FIELDS}
    record: Dict[str, object] = {"student_id": user.external_id, "week": reflection.iso_week}
    for name in FIELDS:
        record[name] = answers.get(name)
    record["shared_fields"] = shared
    record["updated_at"] = reflection.updated_at.isoformat(timespec="seconds")
    return record


def students_without_reflection(external_ids: Iterable[str], week: Optional[str] = None) -> List[str]:
    week = week or iso_week()
    return [e for e in external_ids if not has_reflection(e, week)]


def pending_replies(external_id: str) -> List[str]:
    """Supervisor replies the student has not seen yet; marks them delivered."""
    from bot.models import SupervisorComment

    with session_scope() as session:
        student = _student(session, external_id)
        comments = list(
            session.execute(
                select(SupervisorComment)
                .join(Reflection, Reflection.id == SupervisorComment.reflection_id)
                .where(Reflection.student_id == student.id, SupervisorComment.delivered_at.is_(None))
                .order_by(SupervisorComment.created_at)
            ).scalars()
        )
        now = utcnow()
        for comment in comments:
            comment.delivered_at = now
        return [c.text for c in comments]


def get_goal_text(external_id: str, goal_id: int) -> Optional[str]:
    with session_scope() as session:
        student = _student(session, external_id)
        goal = session.get(Goal, goal_id)
        return goal.text if goal is not None and goal.student_id == student.id else None
