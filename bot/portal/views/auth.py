"""Login and logout with e-mail address or school id and a password.

A school's single sign-on (SAML/OIDC) replaces `login` here; see README.md.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from bot.db import session_scope
from bot.models import User
from bot.passwords import needs_rehash, rehash, verify_password
from bot.portal.access import home_url, login_user, logout_user

bp = Blueprint("auth", __name__)

WRONG = "Dat klopt niet. Controleer je e-mailadres of nummer en je wachtwoord."
BLOCKED = "Te veel mislukte pogingen. Wacht 15 minuten en probeer het dan opnieuw."


def _safe_next(target: Optional[str]) -> Optional[str]:
    """Only a path on this site (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _find_account(db, login: str) -> Optional[User]:
    """By school id first; by e-mail address only when exactly one account has it."""
    user = db.execute(select(User).where(User.external_id == login, User.active.is_(True))).scalar()
    if user is not None:
        return user
    matches = db.execute(
        select(User).where(func.lower(User.email) == login.lower(), User.active.is_(True))
    ).scalars().all()
    return matches[0] if len(matches) == 1 else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(home_url(g.user))
    if request.method == "GET":
        return render_template("auth/login.html", login="", next=_safe_next(request.args.get("next")))

    login_text = (request.form.get("login") or "").strip()[:254]
    password = request.form.get("password") or ""
    next_url = _safe_next(request.form.get("next"))
    throttle = current_app.extensions["login_throttle"]
    ip = request.remote_addr or "unknown"
    if throttle.blocked(login_text, ip):
        return render_template("auth/login.html", login=login_text, next=next_url, error=BLOCKED), 429

    with session_scope() as db:
        user = _find_account(db, login_text) if login_text else None
        ok = verify_password(user.password_hash if user else None, password)
        if ok and needs_rehash(user.password_hash):
            user.password_hash = rehash(password)
        if ok:
            db.flush()
            login_user(db, user)
            role = user.role
    if not ok:
        throttle.failed(login_text, ip)
        return render_template("auth/login.html", login=login_text, next=next_url, error=WRONG), 200
    throttle.succeeded(login_text)
    home = url_for({"student": "student.home", "supervisor": "supervisor.overview"}.get(role, "coordinator.dashboard"))
    return redirect(next_url or home)


@bp.post("/logout")
def logout():
    logout_user()
    flash("Je bent uitgelogd.", "info")
    return redirect(url_for("auth.login"))
