"""Questions the assistant could not answer: grouped, newest first; export as NLU YAML."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bot.db import session_scope
from bot.models import UnansweredQuestion, utcnow
from bot.portal.access import current_user, require_role
from bot.portal.filters import local_time
from bot.portal.nlu_export import nlu_yaml
from bot.portal.views.coordinator import bp

MAX_ROWS = 500


@bp.get("/questions")
@require_role("coordinator")
def questions():
    newest = func.max(UnansweredQuestion.created_at)
    with session_scope() as db:
        groups = db.execute(
            select(
                func.max(UnansweredQuestion.id).label("id"),
                UnansweredQuestion.text,
                func.count(UnansweredQuestion.id).label("count"),
                newest.label("newest"),
                func.max(UnansweredQuestion.predicted_intent).label("intent"),
            )
            .group_by(UnansweredQuestion.text)
            .order_by(newest.desc())
            .limit(MAX_ROWS)
        ).all()
    return render_template("coordinator/questions.html", groups=groups, max_rows=MAX_ROWS)


@bp.post("/questions/export")
@require_role("coordinator")
def questions_export():
    ids = [int(value) for value in request.form.getlist("ids") if value.isdigit()]
    with session_scope() as db:
        rows = db.execute(
            select(UnansweredQuestion.text, UnansweredQuestion.predicted_intent).where(UnansweredQuestion.id.in_(ids))
        ).all() if ids else []
    if not rows:
        flash("Kies eerst een of meer vragen om te exporteren.", "error")
        return redirect(url_for("coordinator.questions"))
    text = nlu_yaml(rows, current_user().label, local_time(utcnow()))
    return Response(
        text.encode("utf-8"),
        mimetype="application/x-yaml",
        headers={"Content-Disposition": 'attachment; filename="onbeantwoorde-vragen-nlu.yml"'},
    )
