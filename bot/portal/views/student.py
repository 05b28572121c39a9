"""The student's area: home, the chat page (+ token and history for its script), own data,
and the student's rights: download everything, delete everything (bot.student_data)."""
from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, Response, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bot import audit, student_data, tracker_data
from bot.config import get_settings
from bot.db import session_scope
from bot.models import Goal, Internship, ReadReceipt, Reflection, SupervisorComment, User, utcnow
from bot.passwords import verify_password
from bot.portal import chat_history, exports
from bot.portal.access import current_user, logout_user, require_role
from bot.portal.labels import FIELD_LABELS, mood_text
from bot.reflections import FIELDS
from bot.tokens import mint_chat_token

bp = Blueprint("student", __name__, url_prefix="/student")


@bp.get("")
@require_role("student")
def home():
    return render_template("student/home.html")


@bp.get("/chat")
@require_role("student")
def chat():
    return render_template("student/chat.html", rasa_url=get_settings().rasa_url)


@bp.get("/chat/token")
@require_role("student", api=True)
def chat_token():
    """A fresh single-use token; the chat page asks for one before every connection attempt."""
    return jsonify(token=mint_chat_token(current_user().external_id))


@bp.get("/chat/history")
@require_role("student", api=True)
def chat_messages():
    messages = chat_history.recent_messages(get_settings().tracker_store_url, current_user().external_id)
    if messages is None:
        return jsonify(error="history_unavailable", message="Je eerdere berichten zijn nu niet te laden."), 503
    return jsonify(messages)


def _own_data(student_id: int) -> dict:
    with session_scope() as db:
        reflections = db.execute(
            select(Reflection).where(Reflection.student_id == student_id).order_by(Reflection.iso_week.desc())
        ).scalars().all()
        ids = [r.id for r in reflections]
        receipts = defaultdict(list)
        for receipt, name in db.execute(
            select(ReadReceipt, User.name)
            .join(User, User.id == ReadReceipt.supervisor_id)
            .where(ReadReceipt.reflection_id.in_(ids))
            .order_by(ReadReceipt.read_at)
        ):
            receipts[receipt.reflection_id].append({"name": name, "at": receipt.read_at})
        comments = defaultdict(list)
        for comment, name in db.execute(
            select(SupervisorComment, User.name)
            .join(User, User.id == SupervisorComment.supervisor_id)
            .where(SupervisorComment.reflection_id.in_(ids))
            .order_by(SupervisorComment.created_at)
        ):
            comments[comment.reflection_id].append({"name": name, "at": comment.created_at, "text": comment.text})
        goals = db.execute(
            select(Goal).where(Goal.student_id == student_id).order_by(Goal.iso_week.desc(), Goal.created_at.desc())
        ).scalars().all()
        supervisor = db.execute(
            select(User.name)
            .join(Internship, Internship.supervisor_id == User.id)
            .where(Internship.student_id == student_id)
        ).scalar()
        rows = []
        for r in reflections:
            shared = set(filter(None, (r.shared_fields or "").split(",")))
            answers = [
                {
                    "label": FIELD_LABELS[name],
                    "value": mood_text(r.mood) if name == "mood" else getattr(r, name),
                    "shared": name in shared,
                }
                for name in FIELDS
            ]
            rows.append(
                {"week": r.iso_week, "answers": answers, "receipts": receipts[r.id], "comments": comments[r.id]}
            )
        return {"reflections": rows, "goals": list(goals), "supervisor": supervisor}


@bp.get("/data")
@require_role("student")
def data():
    user = current_user()
    return render_template(
        "student/data.html", **_own_data(user.id), access=audit.list_for_student(user.id), me=user.id
    )


@bp.post("/data/export")
@require_role("student")
def export_data():
    user = current_user()
    try:
        body = exports.student_data_json(student_data.export_student_data(user.external_id))
    except tracker_data.TrackerStoreError:
        current_app.logger.exception("student export: tracker store unavailable")
        flash("Je gegevens zijn nu niet te downloaden. Probeer het later nog een keer.", "error")
        return redirect(url_for("student.data"))
    audit.record("student.export", audit.Actor.of(user), student_user_id=user.id)
    filename = f"mijn-gegevens-stagecoach-{utcnow():%Y-%m-%d}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


CONFIRM_WORD = "VERWIJDER"
BLOCKED = "Te veel pogingen met een verkeerd wachtwoord. Wacht 15 minuten en probeer het dan opnieuw."


def _delete_page(errors=(), status=200):
    user = current_user()
    with session_scope() as db:
        counts = {
            "reflections": db.execute(select(func.count(Reflection.id)).where(Reflection.student_id == user.id)).scalar(),
            "goals": db.execute(select(func.count(Goal.id)).where(Goal.student_id == user.id)).scalar(),
        }
    settings = get_settings()
    return render_template(
        "student/delete.html",
        counts=counts,
        errors=list(errors),
        word=CONFIRM_WORD,
        safety_days=settings.retention_safety_days,
        audit_days=settings.retention_audit_days,
    ), status


@bp.get("/data/delete")
@require_role("student")
def delete_confirm():
    return _delete_page()


def _password_ok(user_id: int, password: str) -> bool:
    with session_scope() as db:
        return verify_password(db.get(User, user_id).password_hash, password)


@bp.post("/data/delete")
@require_role("student")
def delete_data():
    user = current_user()
    throttle = current_app.extensions["login_throttle"]  # the same limit as the login form
    ip = request.remote_addr or "unknown"
    if throttle.blocked(user.external_id, ip):
        return _delete_page([BLOCKED], 429)
    errors = []
    if (request.form.get("confirm") or "").strip().upper() != CONFIRM_WORD:
        errors.append(f"Typ {CONFIRM_WORD} in het eerste vak.")
    if not _password_ok(user.id, request.form.get("password") or ""):
        throttle.failed(user.external_id, ip)
        errors.append("Je wachtwoord klopt niet.")
    if errors:
        return _delete_page(errors, 400)

    complete = True
    try:
        student_data.delete_student_data(user.external_id)
    except tracker_data.TrackerStoreError:
        # the app database part is done (account closed); the chat is left for the school
        current_app.logger.exception("student delete: tracker store unavailable")
        complete = False
    audit.record("student.delete", audit.Actor.of(user), student_user_id=user.id, detail={"complete": complete})
    logout_user()
    g.user = None
    return render_template("student/deleted.html", complete=complete)
