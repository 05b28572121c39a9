"""Safety reports inbox: new first, detail, status and notes."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import case, select

from bot import audit
from bot.db import session_scope
from bot.models import Internship, SafetyReport, User, utcnow
from bot.portal.access import current_user, require_role
from bot.portal.filters import datetime_nl
from bot.portal.labels import SAFETY_STATUS
from bot.portal.views.coordinator import bp
from bot.safety import load_categories

MAX_NOTE = 2000


def _category_labels() -> dict:
    try:
        return {c.name: c.label for c in load_categories()}
    except (OSError, KeyError, ValueError):
        return {}


def _labels(categories: str) -> list:
    labels = _category_labels()
    return [labels.get(name, name) for name in filter(None, (categories or "").split(","))]


@bp.get("/safety")
@require_role("coordinator")
def safety_list():
    order = case((SafetyReport.status == "new", 0), (SafetyReport.status == "acknowledged", 1), else_=2)
    with session_scope() as db:
        rows = db.execute(
            select(SafetyReport, User)
            .outerjoin(User, User.id == SafetyReport.student_id)
            .order_by(order, SafetyReport.created_at.desc())
        ).all()
        reports = [
            {"report": report, "student": student, "categories": _labels(report.categories)}
            for report, student in rows
        ]
    return render_template("coordinator/safety_list.html", reports=reports, status_names=SAFETY_STATUS)


def _detail(report_id: int):
    with session_scope() as db:
        report = db.get(SafetyReport, report_id)
        if report is None:
            abort(404)
        student = db.get(User, report.student_id) if report.student_id else None
        supervisor = None
        if student is not None:
            supervisor = db.execute(
                select(User).join(Internship, Internship.supervisor_id == User.id).where(
                    Internship.student_id == student.id
                )
            ).scalar()
        return report, student, supervisor


@bp.route("/safety/<int:report_id>", methods=["GET", "POST"])
@require_role("coordinator")
def safety_detail(report_id: int):
    report, student, supervisor = _detail(report_id)
    error, note = None, ""
    if request.method == "POST":
        status = request.form.get("status") or report.status
        note = (request.form.get("note") or "").strip()
        if status not in SAFETY_STATUS:
            error = "Kies een geldige status."
        elif len(note) > MAX_NOTE:
            error = f"De notitie is {len(note)} tekens. Maximaal {MAX_NOTE}."
        else:
            _update(report_id, status, note)
            flash("De melding is bijgewerkt.", "success")
            return redirect(url_for("coordinator.safety_detail", report_id=report_id))
    audit.record(  # the report is shown below: one row per view
        "safety_report.read",
        audit.Actor.of(current_user()),
        student_user_id=report.student_id,
        detail={"report_id": report_id},
    )
    return render_template(
        "coordinator/safety_detail.html",
        report=report,
        student=student,
        supervisor=supervisor,
        categories=_labels(report.categories),
        status_names=SAFETY_STATUS,
        error=error,
        note=note,
        max_note=MAX_NOTE,
    ), (400 if error else 200)


def _update(report_id: int, status: str, note: str) -> None:
    user = current_user()
    with session_scope() as db:
        report = db.get(SafetyReport, report_id)
        report.status = status
        report.handled_by = user.label[:200]
        if note:
            entry = f"[{datetime_nl(utcnow())}, {user.name}] {note}"
            report.coordinator_note = "\n\n".join(filter(None, [report.coordinator_note, entry]))
        report.updated_at = utcnow()
