"""The chat channel's connect handler without a Rasa server: a token is redeemed
off the event loop, and without the database the connection is refused as
"unavailable" (fail closed) while the token stays unused."""
from __future__ import annotations

import time

import pytest

from bot import channels, config, db
from bot.tokens import mint_chat_token


@pytest.fixture
def connect(monkeypatch):
    """The channel's registered `connect` handler; what it saves lands in `opened`."""
    channel = channels.TokenSocketIOInput()
    channel.blueprint(lambda message: None)
    sio = channel.sio
    opened = {}

    async def save_session(sid, session):
        opened[sid] = session

    async def enter_room(sid, room):
        opened[f"{sid}:room"] = room

    monkeypatch.setattr(sio, "save_session", save_session)
    monkeypatch.setattr(sio, "enter_room", enter_room)
    handler = sio.handlers["/"]["connect"]

    async def call(token, sid="sid-1"):
        await handler(sid, {}, {"token": token})
        return opened.get(sid)

    return call


async def refusal(connect, token) -> str:
    with pytest.raises(ConnectionRefusedError) as refused:
        await connect(token)
    return refused.value.args[0]


async def test_a_token_opens_one_connection(people, connect):
    token = mint_chat_token("student-1")
    assert await connect(token) == {"sender_id": "student-1"}
    assert await refusal(connect, token) == "unauthorized"


async def test_database_unavailable_refuses_and_the_token_stays_unused(people, connect, tmp_path, monkeypatch):
    token = mint_chat_token("student-1")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    working = config.get_settings().database_url
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{blocker / 'app.db'}")  # cannot be opened
    config.reset_settings()
    db.reset_engine()
    assert await refusal(connect, token) == "unavailable"

    monkeypatch.setenv("DATABASE_URL", working)  # back: the same token still works, once
    config.reset_settings()
    db.reset_engine()
    assert await connect(token) == {"sender_id": "student-1"}
    assert await refusal(connect, token) == "unauthorized"


async def test_a_hanging_database_refuses_in_time(people, connect, monkeypatch):
    def hang(token):
        time.sleep(2)
        return "student-1"

    monkeypatch.setattr(channels, "ACCOUNT_CHECK_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(channels, "redeem_chat_token", hang)
    started = time.monotonic()
    assert await refusal(connect, mint_chat_token("student-1")) == "unavailable"
    assert time.monotonic() - started < 1.5


async def test_garbage_is_refused_without_asking_the_database(connect, monkeypatch):
    def must_not_be_called(token):
        raise AssertionError("the database was asked about an unsigned token")

    monkeypatch.setattr(channels, "redeem_chat_token", must_not_be_called)
    for token in (None, "", "not-a-token", "a.b.c"):
        assert await refusal(connect, token) == "unauthorized"
