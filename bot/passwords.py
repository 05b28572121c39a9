"""Password hashing (argon2id) and setting a user's password.

Used by the portal's login and by `python -m bot users set-password`.
"""
from __future__ import annotations

import hashlib
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select

from bot.db import session_scope
from bot.models import User

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 hashes anything, but a megabyte "password" is only a way to burn CPU

_hasher = PasswordHasher()
_dummy_hash: Optional[str] = None


class PasswordError(ValueError):
    """A password that may not be used; the message is Dutch."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"Het wachtwoord is te kort: gebruik minstens {MIN_LENGTH} tekens.")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"Het wachtwoord is te lang: maximaal {MAX_LENGTH} tekens.")
    if not password.strip():
        raise PasswordError("Het wachtwoord mag niet alleen uit spaties bestaan.")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _hasher.hash(password)


def rehash(password: str) -> str:
    """A new hash with the current parameters for a password that just verified."""
    return _hasher.hash(password)


def verify_password(password_hash: Optional[str], password: str) -> bool:
    """True when the password matches; always spends the time of one verification."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _dummy(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _dummy() -> str:
    """Verified when the account does not exist, so a wrong e-mail address costs as
    much time as a wrong password (no way to find out which accounts exist)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("stagecoach-dummy-password")
    return _dummy_hash


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def fingerprint(password_hash: Optional[str]) -> str:
    """Short value kept in the session: changes (and so logs out) when the password changes."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def set_password(external_id: str, password: str) -> None:
    """Sets the password of an existing account; LookupError when it does not exist."""
    new_hash = hash_password(password)
    with session_scope() as session:
        user = session.execute(select(User).where(User.external_id == external_id)).scalar()
        if user is None:
            raise LookupError(external_id)
        user.password_hash = new_hash


def user_exists(external_id: str) -> bool:
    with session_scope() as session:
        return session.execute(select(User.id).where(User.external_id == external_id)).first() is not None
