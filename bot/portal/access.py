"""Who is logged in, and who may see what: the one place for authorization.

Every view is wrapped in `require_role(...)`; views with a student in the URL
then call `supervised_student_or_404`, which only finds the supervisor's own
interns. Someone else's intern gives the same 404 as a student who does not exist,
so the portal does not reveal which students exist.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Optional

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Internship, Reflection, User
from bot.passwords import fingerprint
from bot.portal import sessions as portal_sessions

HOME_ENDPOINTS = {
    "student": "student.home",
    "supervisor": "supervisor.overview",
    "coordinator": "coordinator.dashboard",
}


@dataclass(frozen=True)
class CurrentUser:
    id: int
    external_id: str
    role: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.external_id})"


@dataclass(frozen=True)
class Intern:
    id: int
    external_id: str
    name: str
    company: Optional[str]
    leerweg: Optional[str]

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]


def login_user(db, user: User) -> None:
    """`db` is the caller's open database session (the one that checked the password
    and may have rehashed it): a second session would wait for that one's write lock
    on SQLite."""
    session.clear()  # a fresh session: no fixation of a session from before the login
    session.permanent = True
    token = portal_sessions.start(db, user.id, current_app.permanent_session_lifetime)
    session["uid"] = user.id
    session["pwv"] = fingerprint(user.password_hash)
    session["sid"] = token


def logout_user() -> None:
    """Ends the session on the server too, so a copy of the cookie no longer works."""
    with session_scope() as db:
        portal_sessions.end(db, session.get("sid"))
    session.clear()


def load_current_user() -> None:
    """before_request: g.user is the logged-in, still active user, or None."""
    g.user = None
    uid = session.get("uid")
    if uid is None or request.endpoint in ("static", "health"):
        return  # no database query for a stylesheet or the health check
    with session_scope() as db:
        user = db.get(User, uid)
        if (
            user is None
            or not user.active
            or session.get("pwv") != fingerprint(user.password_hash)
            or not portal_sessions.is_active(db, session.get("sid"), user.id)
        ):
            session.clear()  # deactivated, deleted, password changed, logged out or expired
            return
        g.user = CurrentUser(user.id, user.external_id, user.role, user.name)


def current_user() -> CurrentUser:
    user = g.get("user")
    assert user is not None, "only call current_user() inside require_role views"
    return user


def home_url(user: CurrentUser) -> str:
    return url_for(HOME_ENDPOINTS[user.role])


def require_role(*roles: str, api: bool = False) -> Callable:
    """Anonymous: to the login page (JSON endpoints: 401). Wrong role: 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = g.get("user")
            if user is None:
                if api:
                    return jsonify(error="login_required", message="Log eerst in."), 401
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # lets a test check that every view is protected
        return wrapper

    return decorator


def supervised_student_or_404(supervisor: CurrentUser, external_id: str) -> Intern:
    """The supervisor's own active intern with this id; 404 for anyone else."""
    if supervisor.role != "supervisor":
        abort(403)
    with session_scope() as db:
        row = db.execute(
            select(User, Internship)
            .join(Internship, Internship.student_id == User.id)
            .where(
                User.external_id == external_id,
                User.role == "student",
                User.active.is_(True),
                Internship.supervisor_id == supervisor.id,
            )
        ).first()
        if row is None:
            abort(404)
        user, internship = row
        return Intern(user.id, user.external_id, user.name, internship.company, internship.leerweg)


def intern_reflection_or_404(db, intern: Intern, reflection_id: int) -> Reflection:
    """A reflection of this intern (inside the caller's database session); 404 otherwise."""
    reflection = db.get(Reflection, reflection_id)
    if reflection is None or reflection.student_id != intern.id:
        abort(404)
    return reflection
