"""A student's rights, handled by a coordinator on the student's request: download
everything (bot.student_data export) or delete it. Every action is recorded in the
audit log with the date of the request and a short reason. Coordinators only."""
from __future__ import annotations

import datetime as dt
import re
from typing import Dict, List, Optional, Tuple

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bot import audit, student_data, tracker_data
from bot.db import session_scope
from bot.models import Goal, Reflection, SafetyReport, User
from bot.portal.access import current_user, require_role
from bot.portal.exports import student_data_json
from bot.portal.views.coordinator import bp

MAX_REASON = audit.MAX_REASON


def _student_or_404(external_id: str) -> Dict[str, object]:
    """Any student, also one whose data was deleted already (a repeat must be possible)."""
    with session_scope() as db:
        user = db.execute(select(User).where(User.external_id == external_id, User.role == "student")).scalar()
        if user is None:
            abort(404)
        count = lambda model: db.execute(  # noqa: E731
            select(func.count(model.id)).where(model.student_id == user.id)
        ).scalar()
        return {
            "id": user.id,
            "external_id": user.external_id,
            "name": user.name,
            "active": user.active,
            "reflections": count(Reflection),
            "goals": count(Goal),
            "safety_reports": count(SafetyReport),
        }


def _request_fields() -> Tuple[Dict[str, object], List[str]]:
    """The request date (not in the future) and an optional short reason."""
    raw_date = (request.form.get("request_date") or "").strip()
    reason = " ".join((request.form.get("reason") or "").split())
    errors = []
    request_date: Optional[dt.date] = None
    try:
        request_date = dt.date.fromisoformat(raw_date)
    except ValueError:
        errors.append("Vul de datum van het verzoek in (dag-maand-jaar).")
    if request_date and request_date > dt.date.today():
        errors.append("De datum van het verzoek kan niet in de toekomst liggen.")
    if len(reason) > MAX_REASON:
        errors.append(f"De reden is {len(reason)} tekens. Maximaal {MAX_REASON}.")
    detail = {"request_date": request_date.isoformat() if request_date else None, "reason": reason}
    return detail, errors


def _page(student, errors=(), form=None, status=200):
    return render_template(
        "coordinator/student_data.html",
        student=student,
        errors=list(errors),
        form=form or {},
        today=dt.date.today().isoformat(),
        max_reason=MAX_REASON,
        history=audit.list_for_student(student["id"], actions=("student.export", "student.delete"), limit=20),
    ), status


@bp.get("/students/<external_id>")
@require_role("coordinator")
def student_data_page(external_id: str):
    return _page(_student_or_404(external_id))


def _safe_filename(external_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", external_id)


@bp.post("/students/<external_id>/export")
@require_role("coordinator")
def student_export(external_id: str):
    student = _student_or_404(external_id)
    detail, errors = _request_fields()
    if errors:
        return _page(student, errors, dict(request.form.to_dict(), action="export"), 400)
    try:
        body = student_data_json(student_data.export_student_data(external_id))
    except tracker_data.TrackerStoreError:
        current_app.logger.exception("coordinator export: tracker store unavailable")
        flash("De chatberichten zijn nu niet te lezen, dus er is niets gedownload. Probeer het later opnieuw.", "error")
        return redirect(url_for("coordinator.student_data_page", external_id=external_id))
    audit.record("student.export", audit.Actor.of(current_user()), student_user_id=student["id"], detail=detail)
    filename = f"gegevens-{_safe_filename(external_id)}-{detail['request_date']}.json"
    return Response(
        body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.post("/students/<external_id>/delete")
@require_role("coordinator")
def student_delete(external_id: str):
    student = _student_or_404(external_id)
    detail, errors = _request_fields()
    if (request.form.get("confirm") or "").strip() != student["external_id"]:
        errors.append(f"Typ het nummer van de student ({student['external_id']}) om te bevestigen.")
    if errors:
        return _page(student, errors, dict(request.form.to_dict(), action="delete"), 400)
    complete = True
    try:
        counts = student_data.delete_student_data(external_id)
    except tracker_data.TrackerStoreError:
        current_app.logger.exception("coordinator delete: tracker store unavailable")
        counts, complete = None, False
    audit.record(
        "student.delete",
        audit.Actor.of(current_user()),
        student_user_id=student["id"],
        detail=dict(detail, complete=complete),
    )
    if complete:
        flash(
            f"De gegevens van {external_id} zijn verwijderd: {counts['reflections']} weekreflecties, "
            f"{counts['goals']} doelen, {counts['chat_events']} chatgebeurtenissen. Het account is gesloten. "
            f"{counts['safety_reports_kept']} veiligheidsmelding(en) blijven bewaard.",
            "success",
        )
    else:
        flash(
            "De gegevens in Stagecoach zijn verwijderd en het account is gesloten, maar de chatberichten nog niet: "
            "de chatopslag is nu niet bereikbaar. Verwijder later nog een keer (dat is veilig).",
            "error",
        )
    return redirect(url_for("coordinator.student_data_page", external_id=external_id))
