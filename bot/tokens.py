"""Short-lived signed chat tokens: the only source of a chat user's identity."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import jwt

from bot.config import get_settings

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
