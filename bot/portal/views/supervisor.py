"""The workplace supervisor's area: own interns only, shared answers only."""
from __future__ import annotations

import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from bot import audit
from bot.db import session_scope
from bot.models import SupervisorComment
from bot.portal import exports, supervision
from bot.portal.access import current_user, intern_reflection_or_404, require_role, supervised_student_or_404
from bot.portal.labels import NOT_SHARED, mood_text
from bot.weeks import iso_week

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")

MAX_REPLY = 2000


@bp.get("")
@require_role("supervisor")
def overview():
    interns = supervision.interns_overview(current_user().id)
    return render_template("supervisor/overview.html", interns=interns, week=iso_week(), mood_text=mood_text)


def _audit(action: str, student, shown) -> None:
    """One audit row per page view or download: which weeks' shared answers were shown."""
    audit.record(
        action, audit.Actor.of(current_user()), student_user_id=student.id, detail=audit.reflections_detail(shown)
    )


def _intern_page(student, reply_for=None, reply_text="", reply_error=""):
    log = supervision.intern_log(student, current_user().id)
    _audit("reflection.read", student, [(r["id"], r["week"]) for r in log if r["any_shared"]])
    return render_template(
        "supervisor/intern.html",
        intern=student,
        log=log,
        not_shared=NOT_SHARED,
        mood_text=mood_text,
        max_reply=MAX_REPLY,
        reply_for=reply_for,
        reply_text=reply_text,
        reply_error=reply_error,
    )


@bp.get("/intern/<external_id>")
@require_role("supervisor")
def intern(external_id: str):
    return _intern_page(supervised_student_or_404(current_user(), external_id))


def _back(external_id: str, reflection_id: int):
    return redirect(url_for("supervisor.intern", external_id=external_id) + f"#week-{reflection_id}")


@bp.post("/intern/<external_id>/reflections/<int:reflection_id>/read")
@require_role("supervisor")
def mark_read(external_id: str, reflection_id: int):
    student = supervised_student_or_404(current_user(), external_id)
    with session_scope() as db:
        reflection = intern_reflection_or_404(db, student, reflection_id)
        supervision.mark_read(db, reflection, current_user().id)
        week = reflection.iso_week
    flash(f"Week {week} staat op gelezen. {student.name} ziet dat je het gelezen hebt.", "success")
    return _back(external_id, reflection_id)


@bp.post("/intern/<external_id>/reflections/<int:reflection_id>/reply")
@require_role("supervisor")
def reply(external_id: str, reflection_id: int):
    student = supervised_student_or_404(current_user(), external_id)
    text = (request.form.get("text") or "").strip()
    with session_scope() as db:
        intern_reflection_or_404(db, student, reflection_id)  # 404 before anything else
    if not text or len(text) > MAX_REPLY:
        error = "Schrijf eerst een reactie." if not text else f"Je reactie is {len(text)} tekens. Maximaal {MAX_REPLY}."
        return _intern_page(student, reflection_id, text, error), 400
    with session_scope() as db:
        reflection = intern_reflection_or_404(db, student, reflection_id)
        db.add(SupervisorComment(reflection_id=reflection.id, supervisor_id=current_user().id, text=text))
        supervision.mark_read(db, reflection, current_user().id)  # replying means you read it
    flash(f"Je reactie is bewaard. {student.first_name} ziet hem bij het volgende gesprek met de coach.", "success")
    return _back(external_id, reflection_id)


def _filename(external_id: str, extension: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", external_id)
    return f"weeklog-{safe}.{extension}"


@bp.get("/intern/<external_id>/export.csv")
@require_role("supervisor")
def export_csv(external_id: str):
    student = supervised_student_or_404(current_user(), external_id)
    records = supervision.shared_records(student)
    body = exports.log_csv(student.name, records)
    _audit("reflection.export_csv", student, [(None, r["week"]) for r in records if r["answers"]])
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_filename(external_id, "csv")}"'},
    )


@bp.get("/intern/<external_id>/export.pdf")
@require_role("supervisor")
def export_pdf(external_id: str):
    student = supervised_student_or_404(current_user(), external_id)
    records = supervision.shared_records(student)
    body = exports.log_pdf(student.name, student.company or "", records)
    _audit("reflection.export_pdf", student, [(None, r["week"]) for r in records if r["answers"]])
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(external_id, "pdf")}"'},
    )


@bp.get("/guidance")
@require_role("supervisor")
def guidance():
    return render_template("supervisor/guidance.html")
