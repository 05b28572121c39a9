"""The audit log for coordinators: who read, exported or deleted which student's
data, newest first, filtered by student and action, 50 rows a page."""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from bot import audit
from bot.db import session_scope
from bot.models import User
from bot.portal.access import require_role
from bot.portal.views.coordinator import bp


def _students():
    with session_scope() as db:
        return db.execute(
            select(User.id, User.external_id, User.name).where(User.role == "student").order_by(User.name, User.external_id)
        ).all()


@bp.get("/audit")
@require_role("coordinator")
def audit_log():
    students = _students()
    chosen = (request.args.get("student") or "").strip()
    action = (request.args.get("action") or "").strip()
    if action not in audit.ACTIONS:
        action = ""
    page_number = request.args.get("page", default=1, type=int) or 1
    student_user_id = None
    unknown = False
    if chosen:
        student_user_id = next((s.id for s in students if s.external_id == chosen), None)
        unknown = student_user_id is None
    page = None if unknown else audit.list_all(student_user_id, action or None, page_number)
    return render_template(
        "coordinator/audit.html",
        students=students,
        chosen=chosen,
        action=action,
        actions=audit.ACTIONS,
        page=page,
        unknown=unknown,
    )
