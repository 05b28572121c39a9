"""Signed chat tokens: the only source of a chat user's identity."""
from __future__ import annotations

import datetime as dt

import jwt
import pytest

from bot import config
from bot.tokens import (
    ALGORITHM,
    AUDIENCE,
    InvalidToken,
    chat_account_is_active,
    mint_chat_token,
    verify_chat_token,
)

SECRET = "test-secret-for-chat-tokens-0123456789abcdef"


@pytest.fixture(autouse=True)
def chat_secret(monkeypatch):
    monkeypatch.setenv("CHAT_JWT_SECRET", SECRET)
    monkeypatch.delenv("CHAT_TOKEN_MINUTES", raising=False)
    config.reset_settings()
    yield
    monkeypatch.undo()
    config.reset_settings()


def claims(**overrides):
    now = dt.datetime.now(dt.timezone.utc)
    values = {"sub": "student-1", "aud": AUDIENCE, "iat": now, "exp": now + dt.timedelta(minutes=5)}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_round_trip():
    token = mint_chat_token("student-1")
    assert verify_chat_token(token) == "student-1"


def test_token_is_signed_with_the_configured_secret_and_audience():
    token = mint_chat_token("student-1")
    decoded = jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)
    assert decoded["sub"] == "student-1"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_default_lifetime_comes_from_settings(monkeypatch):
    monkeypatch.setenv("CHAT_TOKEN_MINUTES", "10")
    config.reset_settings()
    decoded = jwt.decode(mint_chat_token("s"), SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)
    assert decoded["exp"] - decoded["iat"] == 600
    decoded = jwt.decode(mint_chat_token("s", minutes=2), SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)
    assert decoded["exp"] - decoded["iat"] == 120


def test_expired_token():
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    token = jwt.encode(claims(iat=past, exp=past + dt.timedelta(minutes=5)), SECRET, algorithm=ALGORITHM)
    with pytest.raises(InvalidToken, match="expired"):
        verify_chat_token(token)


def test_token_minted_with_negative_lifetime_is_expired():
    with pytest.raises(InvalidToken):
        verify_chat_token(mint_chat_token("student-1", minutes=-1))


def test_wrong_secret():
    token = jwt.encode(claims(), "another-secret-of-sufficient-length-000000", algorithm=ALGORITHM)
    with pytest.raises(InvalidToken, match="Signature"):
        verify_chat_token(token)


def test_secret_rotation_invalidates_old_tokens(monkeypatch):
    token = mint_chat_token("student-1")
    monkeypatch.setenv("CHAT_JWT_SECRET", SECRET + "-rotated")
    config.reset_settings()
    with pytest.raises(InvalidToken):
        verify_chat_token(token)


@pytest.mark.parametrize("audience", ["stagecoach-portal", "other"])
def test_wrong_audience(audience):
    token = jwt.encode(claims(aud=audience), SECRET, algorithm=ALGORITHM)
    with pytest.raises(InvalidToken, match="[Aa]udience"):
        verify_chat_token(token)


@pytest.mark.parametrize("missing", ["sub", "exp", "aud"])
def test_required_claims(missing):
    token = jwt.encode(claims(**{missing: None}), SECRET, algorithm=ALGORITHM)
    with pytest.raises(InvalidToken):
        verify_chat_token(token)


@pytest.mark.parametrize("subject", ["", 42])
def test_subject_must_be_a_non_empty_string(subject):
    token = jwt.encode(claims(sub=subject), SECRET, algorithm=ALGORITHM)
    with pytest.raises(InvalidToken):
        verify_chat_token(token)


def test_unsigned_token_is_refused():
    token = jwt.encode(claims(), None, algorithm="none")
    with pytest.raises(InvalidToken):
        verify_chat_token(token)


def test_other_algorithm_is_refused():
    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    with pytest.raises(InvalidToken):
        verify_chat_token(token)


def test_tampered_payload_is_refused():
    header, payload, signature = mint_chat_token("student-1").split(".")
    other_payload = jwt.encode(claims(sub="student-2"), SECRET, algorithm=ALGORITHM).split(".")[1]
    with pytest.raises(InvalidToken):
        verify_chat_token(".".join([header, other_payload, signature]))


@pytest.mark.parametrize("garbage", ["", None, "abc", "a.b.c", "Bearer x", 123, b"bytes", "ey.ey.ey"])
def test_garbage(garbage):
    with pytest.raises(InvalidToken):
        verify_chat_token(garbage)


def test_default_lifetime_is_short():
    decoded = jwt.decode(mint_chat_token("s"), SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)
    assert decoded["exp"] - decoded["iat"] == 30 * 60


def _set_active(external_id, active):
    from sqlalchemy import select

    from bot.db import session_scope
    from bot.models import User

    with session_scope() as session:
        session.execute(select(User).where(User.external_id == external_id)).scalar_one().active = active


def test_only_an_active_student_may_chat(people):
    assert chat_account_is_active("student-1")
    assert not chat_account_is_active("nobody")
    assert not chat_account_is_active("sup-1")  # a valid token for a supervisor id opens no chat
    assert not chat_account_is_active("coord-1")
    _set_active("student-1", False)
    assert not chat_account_is_active("student-1")
    assert chat_account_is_active("student-2")


def test_a_deleted_student_may_not_chat(people, tracker_store):
    from bot.student_data import delete_student_data

    token = mint_chat_token("student-1")
    delete_student_data("student-1")
    assert verify_chat_token(token) == "student-1"  # the signature alone cannot know
    assert not chat_account_is_active("student-1")  # so the channel asks the database too
