"""Users and pairings; CSV upload through the same code as `python -m bot users import`."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from bot import users as user_import
from bot.db import session_scope
from bot.models import Internship, Reflection, User
from bot.portal.access import require_role
from bot.portal.views.coordinator import bp

ROLE_NAMES = {"student": "Student", "supervisor": "Praktijkbegeleider", "coordinator": "Coördinator"}


def _users():
    supervisor = aliased(User)
    counts = (
        select(Reflection.student_id, func.count(Reflection.id).label("reflections"))
        .group_by(Reflection.student_id)
        .subquery()
    )
    with session_scope() as db:
        rows = db.execute(
            select(User, Internship, supervisor.name, counts.c.reflections)
            .outerjoin(Internship, Internship.student_id == User.id)
            .outerjoin(supervisor, supervisor.id == Internship.supervisor_id)
            .outerjoin(counts, counts.c.student_id == User.id)
            .order_by(User.role, User.name)
        ).all()
        interns = dict(
            db.execute(
                select(Internship.supervisor_id, func.count(Internship.id)).group_by(Internship.supervisor_id)
            ).all()
        )
        return [
            {
                "user": user,
                "has_password": bool(user.password_hash),
                "company": internship.company if internship else None,
                "leerweg": internship.leerweg if internship else None,
                "supervisor": supervisor_name,
                "reflections": reflections or 0,
                "interns": interns.get(user.id, 0),
            }
            for user, internship, supervisor_name, reflections in rows
        ]


def _page(errors=(), status=200):
    return render_template(
        "coordinator/users.html",
        rows=_users(),
        role_names=ROLE_NAMES,
        errors=list(errors),
        header=",".join(user_import.HEADER),
    ), status


@bp.get("/users")
@require_role("coordinator")
def users():
    return _page()


@bp.post("/users/import")
@require_role("coordinator")
def users_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(["Kies eerst een CSV-bestand."], 400)
    try:
        counts = user_import.import_csv_bytes(upload.read())
    except user_import.UserImportError as error:
        return _page(error.errors, 400)
    flash(f"Gebruikers geïmporteerd: {counts['created']} nieuw, {counts['updated']} bijgewerkt.", "success")
    return redirect(url_for("coordinator.users"))
