"""The student's area: home, the chat page (+ token and history for its script), own data."""
from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, jsonify, render_template
from sqlalchemy import select

from bot.config import get_settings
from bot.db import session_scope
from bot.models import Goal, Internship, ReadReceipt, Reflection, SupervisorComment, User
from bot.portal import chat_history
from bot.portal.access import current_user, require_role
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
    return render_template("student/chat.html")


@bp.get("/chat/token")
@require_role("student", api=True)
def chat_token():
    settings = get_settings()
    return jsonify(token=mint_chat_token(current_user().external_id), rasa_url=settings.rasa_url)


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
    return render_template("student/data.html", **_own_data(current_user().id))
