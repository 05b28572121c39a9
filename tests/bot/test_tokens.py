"""Signed chat tokens: the only source of a chat user's identity; each opens one chat."""
from __future__ import annotations

import datetime as dt
import threading

import jwt
import pytest
from sqlalchemy import select

from bot import config, db, tokens
from bot.db import session_scope
from bot.models import UsedChatToken, utcnow
from bot.tokens import (
    ALGORITHM,
    AUDIENCE,
    InvalidToken,
    chat_account_is_active,
    mint_chat_token,
    redeem_chat_token,
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
    """The page fetches a token right before each connection attempt: 2 minutes is plenty."""
    decoded = jwt.decode(mint_chat_token("s"), SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)
    assert decoded["exp"] - decoded["iat"] == 2 * 60
    assert config.get_settings().chat_token_minutes == 2


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


# --- single use: redeem_chat_token ----------------------------------------------------


def _used_jtis():
    with session_scope() as session:
        return set(session.execute(select(UsedChatToken.jti)).scalars())


def _jti(token):
    return jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)["jti"]


def test_every_token_has_its_own_random_jti():
    jtis = {_jti(mint_chat_token("student-1")) for _ in range(50)}
    assert len(jtis) == 50
    assert all(isinstance(j, str) and 16 <= len(j) <= tokens.JTI_MAX_CHARS for j in jtis)


def test_a_token_works_once(database):
    token = mint_chat_token("student-1")
    assert redeem_chat_token(token) == "student-1"
    with pytest.raises(InvalidToken, match="already used"):
        redeem_chat_token(token)
    assert _used_jtis() == {_jti(token)}
    assert redeem_chat_token(mint_chat_token("student-1")) == "student-1"  # a new token works


def test_used_token_row_expires_with_the_token(database):
    token = mint_chat_token("student-1")
    redeem_chat_token(token)
    exp = jwt.decode(token, SECRET, algorithms=[ALGORITHM], audience=AUDIENCE)["exp"]
    with session_scope() as session:
        row = session.get(UsedChatToken, _jti(token))
    assert row.expires_at == dt.datetime.fromtimestamp(exp, dt.timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize("jti", [None, "", 42, "x" * 65])
def test_a_token_without_a_valid_jti_is_refused(database, jti):
    token = jwt.encode(claims(jti=jti), SECRET, algorithm=ALGORITHM)
    if jti is None:
        assert verify_chat_token(token) == "student-1"  # signed by us, but not redeemable
    with pytest.raises(InvalidToken):
        redeem_chat_token(token)
    assert _used_jtis() == set()


def test_redeem_checks_the_token_first(database):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    expired_claims = claims(iat=past, exp=past + dt.timedelta(minutes=5), jti="a" * 22)
    expired = jwt.encode(expired_claims, SECRET, algorithm=ALGORITHM)
    forged = jwt.encode(claims(jti="b" * 22), "another-secret-of-sufficient-length-000000", algorithm=ALGORITHM)
    for token in (expired, forged, "garbage", None):
        with pytest.raises(InvalidToken):
            redeem_chat_token(token)
    assert _used_jtis() == set()  # a refused token never spends a jti


def test_database_unavailable_refuses_and_leaves_the_token_unused(database, tmp_path, monkeypatch):
    token = mint_chat_token("student-1")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker / 'app.db'}")  # cannot be opened
    config.reset_settings()
    db.reset_engine()
    with pytest.raises(Exception) as failed:
        redeem_chat_token(token)
    assert not isinstance(failed.value, InvalidToken)  # the channel answers "unavailable", not "unauthorized"

    monkeypatch.setenv("DATABASE_URL", database)  # the database is back
    config.reset_settings()
    db.reset_engine()
    assert _used_jtis() == set()
    assert redeem_chat_token(token) == "student-1"  # the token was not spent
    with pytest.raises(InvalidToken, match="already used"):
        redeem_chat_token(token)


def test_concurrent_redeems_of_one_token_let_exactly_one_through(database):
    """Like two Rasa replicas sharing the database: the primary key decides."""
    token = mint_chat_token("student-1")
    outcomes = []
    start = threading.Barrier(6)

    def redeem():
        start.wait()
        try:
            outcomes.append(redeem_chat_token(token))
        except InvalidToken as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=redeem) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["student-1"] + ["token already used"] * 5


def _add_used(jti, expires_at):
    with session_scope() as session:
        session.add(UsedChatToken(jti=jti, expires_at=expires_at))


def test_prune_deletes_only_expired_rows(database):
    now = utcnow()
    _add_used("expired", now - dt.timedelta(seconds=1))
    _add_used("long-expired", now - dt.timedelta(days=3))
    _add_used("still-valid", now + dt.timedelta(minutes=1))
    with session_scope() as session:
        assert tokens.prune_used_chat_tokens(session, now) == 2
    assert _used_jtis() == {"still-valid"}
    with session_scope() as session:
        assert tokens.prune_used_chat_tokens(session, now) == 0


def test_redeem_prunes_expired_rows_at_most_once_a_minute(database, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(tokens.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(tokens, "_next_prune", float("-inf"))
    _add_used("expired-1", utcnow() - dt.timedelta(minutes=1))
    first = mint_chat_token("student-1")
    redeem_chat_token(first)
    assert _used_jtis() == {_jti(first)}

    _add_used("expired-2", utcnow() - dt.timedelta(minutes=1))
    clock[0] += 30
    second = mint_chat_token("student-1")
    redeem_chat_token(second)
    assert _used_jtis() == {_jti(first), _jti(second), "expired-2"}  # not yet: once a minute

    clock[0] += 31
    third = mint_chat_token("student-1")
    redeem_chat_token(third)
    assert _used_jtis() == {_jti(first), _jti(second), _jti(third)}  # unexpired ids stay


def test_a_failed_prune_does_not_refuse_the_token(database, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(session, now):
        raise OperationalError("DELETE", {}, Exception("database is locked"))

    monkeypatch.setattr(tokens, "_next_prune", float("-inf"))
    monkeypatch.setattr(tokens, "prune_used_chat_tokens", broken)
    token = mint_chat_token("student-1")
    assert redeem_chat_token(token) == "student-1"
    assert _used_jtis() == {_jti(token)}
