"""The audit log: who read, exported or deleted which student's data, and when.

    record(action, actor, student_user_id=..., detail=...)   one row
    list_for_student(student_user_id)                         the student's "Mijn gegevens" page
    list_all(student_user_id=None, action=None, page=1)       the coordinators' "Auditlog" page

A row holds the time, who did it (a portal account, or "cli" for an operator on
the server), the action, the student it was about and a small JSON detail with
ids and weeks. Never the text of a reflection, a comment or a safety report:
`detail` only accepts the keys in DETAIL_KEYS, checked here.

After a student's data is erased, `minimise_for_student` strips the reflection
ids and weeks from their rows (the count stays); the rows themselves stay until
RETENTION_AUDIT_DAYS, see docs/privacy.md. `prune` is called by bot.retention.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from bot.db import session_scope
from bot.models import AuditEvent, User, utcnow

# action -> short Dutch label (coordinators' table)
ACTIONS: Dict[str, str] = {
    "reflection.read": "Weeklog bekeken",
    "reflection.export_csv": "Weeklog gedownload (CSV)",
    "reflection.export_pdf": "Weeklog gedownload (PDF)",
    "student.export": "Alle gegevens gedownload",
    "student.delete": "Gegevens verwijderd",
    "safety_report.read": "Veiligheidsmelding gelezen",
}
# what a student sees on their own page (a safety report stays off that page:
# someone looking over their shoulder should not learn that a report exists)
STUDENT_VISIBLE = ("reflection.read", "reflection.export_csv", "reflection.export_pdf", "student.export")

ROLE_LABELS = {
    "student": "student",
    "supervisor": "praktijkbegeleider",
    "coordinator": "coördinator",
    "operator": "beheerder op de server",
}
DETAIL_KEYS = {"reflections", "count", "report_id", "request_date", "reason", "complete"}
MAX_REASON = 200
PER_PAGE = 50
WEEK = re.compile(r"^\d{4}-W\d{2}$")


@dataclass(frozen=True)
class Actor:
    """Who did it: a portal account, or an operator on the server (user_id None)."""

    user_id: Optional[int]
    role: str
    label: str

    @classmethod
    def of(cls, user) -> "Actor":
        """From a portal user (bot.portal.access.CurrentUser or a models.User)."""
        return cls(user.id, user.role, user.external_id)

    @classmethod
    def cli(cls) -> "Actor":
        try:
            who = getpass.getuser()
        except Exception:  # no user name in this environment (container without passwd entry)
            who = ""
        return cls(None, "operator", f"cli ({who})" if who else "cli")


def reflections_detail(items: Iterable[tuple]) -> Dict[str, object]:
    """detail for reflection.* actions from (reflection id or None, ISO week) pairs."""
    return {"reflections": [{"id": rid, "week": week} for rid, week in items]}


def _clean_detail(detail: Optional[Dict[str, object]]) -> Optional[Dict[str, object]]:
    if not detail:
        return None
    unknown = set(detail) - DETAIL_KEYS
    if unknown:
        raise ValueError(f"audit detail may not contain {sorted(unknown)}")
    clean: Dict[str, object] = {}
    if "reflections" in detail:
        items = []
        for item in detail["reflections"]:  # type: ignore[union-attr]
            week = str(item["week"])
            if not WEEK.match(week):
                raise ValueError(f"not an ISO week: {week!r}")
            items.append({"week": week} if item.get("id") is None else {"id": int(item["id"]), "week": week})
        clean["reflections"] = items
    for key in ("count", "report_id"):
        if detail.get(key) is not None:
            clean[key] = int(detail[key])  # type: ignore[arg-type]
    if detail.get("request_date"):
        clean["request_date"] = dt.date.fromisoformat(str(detail["request_date"])).isoformat()
    if detail.get("reason"):
        clean["reason"] = " ".join(str(detail["reason"]).split())[:MAX_REASON]
    if "complete" in detail:
        clean["complete"] = bool(detail["complete"])
    return clean or None


def record(
    action: str,
    actor: Actor,
    *,
    student_user_id: Optional[int] = None,
    student_external_id: Optional[str] = None,
    detail: Optional[Dict[str, object]] = None,
    session=None,
    at: Optional[dt.datetime] = None,
) -> None:
    """Write one audit row (in the caller's session when given, else its own transaction).

    The student is given by user id, or by external id (the CLI knows only that)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor.role not in ROLE_LABELS:
        raise ValueError(f"unknown actor role {actor.role!r}")
    clean = _clean_detail(detail)
    row = AuditEvent(
        at=at or utcnow(),
        actor_user_id=actor.user_id,
        actor_label=(actor.label or "onbekend")[:200],
        actor_role=actor.role,
        action=action,
        student_user_id=student_user_id,
        detail=json.dumps(clean, ensure_ascii=False, sort_keys=True) if clean else None,
    )
    if session is not None:
        _add(session, row, student_external_id)
        return
    with session_scope() as db:
        _add(db, row, student_external_id)


def _add(session, row: AuditEvent, student_external_id: Optional[str]) -> None:
    if student_external_id is not None and row.student_user_id is None:
        row.student_user_id = session.execute(
            select(User.id).where(User.external_id == student_external_id)
        ).scalar()
    session.add(row)


@dataclass(frozen=True)
class Entry:
    """One audit row, ready to show (names resolved, detail parsed)."""

    id: int
    at: dt.datetime
    action: str
    actor_user_id: Optional[int]
    actor_name: str
    actor_role: str
    student_user_id: Optional[int]
    student_name: Optional[str]
    student_external_id: Optional[str]
    detail: Dict[str, object] = field(default_factory=dict)

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def actor_role_label(self) -> str:
        return ROLE_LABELS.get(self.actor_role, self.actor_role)

    @property
    def weeks(self) -> List[str]:
        return sorted({str(item["week"]) for item in self.detail.get("reflections", [])})  # type: ignore[union-attr]

    @property
    def reflection_count(self) -> Optional[int]:
        if "reflections" in self.detail:
            return len(self.detail["reflections"])  # type: ignore[arg-type]
        return self.detail.get("count")  # type: ignore[return-value]


def _parse(raw: Optional[str]) -> Dict[str, object]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _query():
    actor = aliased(User)
    student = aliased(User)
    statement = (
        select(AuditEvent, actor.name, student.name, student.external_id)
        .outerjoin(actor, actor.id == AuditEvent.actor_user_id)
        .outerjoin(student, student.id == AuditEvent.student_user_id)
    )
    return statement


def _entries(rows) -> List[Entry]:
    return [
        Entry(
            id=event.id,
            at=event.at,
            action=event.action,
            actor_user_id=event.actor_user_id,
            actor_name=actor_name or event.actor_label,
            actor_role=event.actor_role,
            student_user_id=event.student_user_id,
            student_name=student_name,
            student_external_id=student_external_id,
            detail=_parse(event.detail),
        )
        for event, actor_name, student_name, student_external_id in rows
    ]


def _newest_first(statement):
    return statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def list_for_student(
    student_user_id: int, actions: Optional[Sequence[str]] = STUDENT_VISIBLE, limit: Optional[int] = 200
) -> List[Entry]:
    """Rows about this student, newest first (actions=None: every action)."""
    statement = _query().where(AuditEvent.student_user_id == student_user_id)
    if actions is not None:
        statement = statement.where(AuditEvent.action.in_(list(actions)))
    statement = _newest_first(statement)
    if limit is not None:
        statement = statement.limit(limit)
    with session_scope() as db:
        return _entries(db.execute(statement).all())


@dataclass(frozen=True)
class Page:
    entries: List[Entry]
    total: int
    page: int
    pages: int
    per_page: int


def list_all(
    student_user_id: Optional[int] = None,
    action: Optional[str] = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page:
    """Every row, newest first, optionally for one student and/or one action; one page."""
    conditions = []
    if student_user_id is not None:
        conditions.append(AuditEvent.student_user_id == student_user_id)
    if action:
        conditions.append(AuditEvent.action == action)
    with session_scope() as db:
        total = db.execute(select(func.count(AuditEvent.id)).where(*conditions)).scalar() or 0
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        rows = db.execute(
            _newest_first(_query().where(*conditions)).limit(per_page).offset((page - 1) * per_page)
        ).all()
        return Page(_entries(rows), total, page, pages, per_page)


def export_rows(student_user_id: int) -> List[Dict[str, object]]:
    """Every row about the student, for their data export (right of access)."""
    return [
        {
            "at": entry.at.isoformat(),
            "action": entry.action,
            "by": {"name": entry.actor_name, "role": entry.actor_role},
            "weeks": entry.weeks,
            **{k: entry.detail[k] for k in ("count", "request_date", "reason") if k in entry.detail},
        }
        for entry in list_for_student(student_user_id, actions=None, limit=None)
    ]


def minimise_for_student(session, student_user_id: int) -> int:
    """After erasure: keep the rows, drop which reflections (ids, weeks) they were about."""
    changed = 0
    rows = session.execute(
        select(AuditEvent).where(AuditEvent.student_user_id == student_user_id, AuditEvent.detail.isnot(None))
    ).scalars()
    for event in rows:
        detail = _parse(event.detail)
        if "reflections" not in detail:
            continue
        detail["count"] = len(detail.pop("reflections") or [])  # type: ignore[arg-type]
        event.detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        changed += 1
    return changed


def prune(session, cutoff: dt.datetime) -> int:
    """Delete rows older than the cutoff (naive UTC); bot.retention calls this."""
    return session.execute(
        delete(AuditEvent).where(AuditEvent.at < cutoff).execution_options(synchronize_session=False)
    ).rowcount
