"""Server-side record of portal logins (bot.models.PortalSession).

Flask's cookie session is signed, not stored: without this record, a copied cookie
stays valid until it expires even after the user logged out. The cookie now also
carries a random token whose hash must be in `portal_sessions`; logging out (or the
row expiring) ends the session for every copy of the cookie.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Optional

from sqlalchemy import delete, select

from bot.models import PortalSession, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(db, user_id: int, lifetime: dt.timedelta) -> str:
    """A new session row; returns the token for the cookie. Drops the user's expired rows."""
    now = utcnow()
    db.execute(delete(PortalSession).where(PortalSession.user_id == user_id, PortalSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    db.add(PortalSession(token_hash=_hash(token), user_id=user_id, created_at=now, expires_at=now + lifetime))
    return token


def is_active(db, token: Optional[str], user_id: int) -> bool:
    if not isinstance(token, str) or not token:
        return False
    row = db.execute(
        select(PortalSession.expires_at).where(
            PortalSession.token_hash == _hash(token), PortalSession.user_id == user_id
        )
    ).first()
    return row is not None and row.expires_at > utcnow()


def end(db, token: Optional[str]) -> None:
    if isinstance(token, str) and token:
        db.execute(delete(PortalSession).where(PortalSession.token_hash == _hash(token)))


def prune_expired(db, now: dt.datetime) -> int:
    return db.execute(delete(PortalSession).where(PortalSession.expires_at <= now)).rowcount
