"""Short-lived signed chat tokens: the only source of a chat user's identity.

A token proves who it was minted for and until when (CHAT_TOKEN_MINUTES, 30 by
default). Because a leaked token stays valid until it expires, the chat channel
also asks `chat_account_is_active` at connect time (and again now and then on an
open connection): a student who was deactivated or deleted since the token was
minted is refused.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

import jwt
from sqlalchemy import select

from bot.config import get_settings
from bot.db import session_scope
from bot.models import User

ALGORITHM = "HS256"
AUDIENCE = "stagecoach-chat"


class InvalidToken(Exception):
    pass


def mint_chat_token(external_id: str, minutes: Optional[int] = None) -> str:
    settings = get_settings()
    now = dt.datetime.now(dt.timezone.utc)
    claims = {
        "sub": external_id,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + dt.timedelta(minutes=minutes or settings.chat_token_minutes),
    }
    return jwt.encode(claims, settings.chat_jwt_secret, algorithm=ALGORITHM)


def verify_chat_token(token: str) -> str:
    """Returns the external_id the token was minted for; raises InvalidToken."""
    if not token or not isinstance(token, str):
        raise InvalidToken("missing token")
    try:
        claims = jwt.decode(
            token,
            get_settings().chat_jwt_secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "exp", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no subject")
    return subject


def chat_account_is_active(external_id: str) -> bool:
    """True when `external_id` is an active student in the app database.

    Database errors propagate: the caller decides whether to fail closed.
    """
    query = select(User.id).where(
        User.external_id == external_id, User.role == "student", User.active.is_(True)
    )
    with session_scope() as session:
        return session.execute(query).first() is not None
