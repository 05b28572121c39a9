"""Short-lived, single-use signed chat tokens: the only source of a chat user's identity.

A token proves who it was minted for and until when (CHAT_TOKEN_MINUTES, 2 by
default: the chat page fetches one right before each connection attempt). Each
token carries a random id (`jti`); the chat channel redeems it with
`redeem_chat_token`, which records the id in `used_chat_tokens`, so a token
opens at most one chat: a copy leaked from a log or a screenshot after it was
used opens nothing. The channel also asks `chat_account_is_active` at connect
time (and again for every message on an open connection): a student who was
deactivated or deleted since the token was minted is refused.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from typing import Any, Dict, Optional

import jwt
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.config import get_settings
from bot.db import session_scope
from bot.models import UsedChatToken, User, utcnow

logger = logging.getLogger(__name__)

ALGORITHM = "HS256"
AUDIENCE = "stagecoach-chat"
JTI_MAX_CHARS = 64  # used_chat_tokens.jti
PRUNE_INTERVAL_SECONDS = 60  # opportunistic pruning at redeem time, per process

_prune_lock = threading.Lock()
_next_prune = float("-inf")  # time.monotonic() after which redeeming prunes again


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
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, settings.chat_jwt_secret, algorithm=ALGORITHM)


def _verified_claims(token: str, required=("sub", "exp", "aud")) -> Dict[str, Any]:
    if not token or not isinstance(token, str):
        raise InvalidToken("missing token")
    try:
        claims = jwt.decode(
            token,
            get_settings().chat_jwt_secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": list(required)},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no subject")
    return claims


def verify_chat_token(token: str) -> str:
    """Returns the external_id the token was minted for; raises InvalidToken.

    Checks signature, audience and expiry only, without the database: whether the
    token was used before is `redeem_chat_token`'s job."""
    return _verified_claims(token)["sub"]


def redeem_chat_token(token: str) -> str:
    """Verifies the token and marks it used; returns the external_id it was minted for.

    Raises InvalidToken for a bad or expired token, one without a `jti`, and for
    every use after the first ("token already used"). The id is inserted in its
    own committed transaction: the primary key decides, so two Rasa replicas
    sharing the database agree on which connection got the token. Database errors
    propagate (the caller fails closed) and leave the token unused.
    """
    claims = _verified_claims(token, required=("sub", "exp", "aud", "jti"))
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > JTI_MAX_CHARS:
        raise InvalidToken("token has no valid jti")
    expires_at = dt.datetime.fromtimestamp(claims["exp"], dt.timezone.utc).replace(tzinfo=None)
    try:
        with session_scope() as session:
            session.execute(insert(UsedChatToken).values(jti=jti, expires_at=expires_at))
    except IntegrityError:
        raise InvalidToken("token already used") from None
    _prune_now_and_then()
    return claims["sub"]


def prune_used_chat_tokens(session, now: dt.datetime) -> int:
    """Deletes the ids of tokens that expired before `now` (naive UTC); their
    tokens are refused as expired, so the rows are no longer needed."""
    return session.execute(delete(UsedChatToken).where(UsedChatToken.expires_at < now)).rowcount


def _prune_now_and_then() -> None:
    """At most once per PRUNE_INTERVAL_SECONDS per process: an indexed delete that
    keeps the table small between retention runs. A failure only logs."""
    global _next_prune
    with _prune_lock:
        now = time.monotonic()
        if now < _next_prune:
            return
        _next_prune = now + PRUNE_INTERVAL_SECONDS
    try:
        with session_scope() as session:
            prune_used_chat_tokens(session, utcnow())
    except SQLAlchemyError:
        logger.warning("could not prune used chat tokens", exc_info=True)


def chat_account_is_active(external_id: str) -> bool:
    """True when `external_id` is an active student in the app database.

    Database errors propagate: the caller decides whether to fail closed.
    """
    query = select(User.id).where(
        User.external_id == external_id, User.role == "student", User.active.is_(True)
    )
    with session_scope() as session:
        return session.execute(query).first() is not None
