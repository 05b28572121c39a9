"""The coordinator's start page: new safety reports first."""
from __future__ import annotations

import datetime as dt

from flask import render_template
from sqlalchemy import func, select

from bot.db import session_scope
from bot.models import SafetyReport, UnansweredQuestion, User, utcnow
from bot.portal.access import require_role
from bot.portal.views.coordinator import bp


@bp.get("")
@require_role("coordinator")
def dashboard():
    with session_scope() as db:
        new_reports = db.execute(
            select(SafetyReport).where(SafetyReport.status == "new").order_by(SafetyReport.created_at.desc())
        ).scalars().all()
        open_reports = db.execute(
            select(func.count(SafetyReport.id)).where(SafetyReport.status == "acknowledged")
        ).scalar()
        week_ago = utcnow() - dt.timedelta(days=7)
        questions = db.execute(
            select(func.count(UnansweredQuestion.id)).where(UnansweredQuestion.created_at >= week_ago)
        ).scalar()
        roles = dict(
            db.execute(select(User.role, func.count(User.id)).where(User.active.is_(True)).group_by(User.role)).all()
        )
    return render_template(
        "coordinator/dashboard.html",
        new_reports=new_reports[:5],
        new_count=len(new_reports),
        open_count=open_reports,
        question_count=questions,
        roles=roles,
    )
