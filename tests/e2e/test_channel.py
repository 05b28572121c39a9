"""The portal chat channel takes the conversation id from the verified token only,
and a token opens one chat."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import jwt
import pytest
import socketio
from sqlalchemy import create_engine, select, text

from bot.config import get_settings
from bot.crypto import decrypt_text
from bot.tokens import AUDIENCE, mint_chat_token
from tests.socket_clients import closing_at_once

pytestmark = pytest.mark.stack


async def open_client(stack, token):
    client = closing_at_once(socketio.AsyncClient(reconnection=False))
    received = []
    client.on("bot_uttered", lambda data: received.append(data))
    await client.connect(
        f"http://127.0.0.1:{stack.config.rasa_port}",
        auth={"token": token} if token is not None else None,
        socketio_path="/socket.io",
        transports=["polling"],  # the engineio websocket client needs a newer aiohttp than Rasa pins
        wait_timeout=10,
    )
    return client, received


async def wait_for(received, count=1, timeout=30):
    deadline = asyncio.get_event_loop().time() + timeout
    while len(received) < count and asyncio.get_event_loop().time() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # collect the rest of the reply


def user_texts(stack, sender_id):
    engine = create_engine(stack.config.tracker_store_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"), {"s": sender_id}
        ).fetchall()
    engine.dispose()
    assert all(r[0].startswith("enc1:") for r in rows), "the Rasa server stores events.data encrypted"
    return [json.loads(decrypt_text(r[0])).get("text") for r in rows]


async def test_sender_comes_from_token_not_from_client(stack):
    marker = f"ik ben het echt {uuid.uuid4().hex[:6]}"
    client, received = await open_client(stack, mint_chat_token("student-1"))
    try:
        await client.emit("session_request", {"session_id": "student-2"})
        await client.emit("user_uttered", {"message": "/greet", "session_id": "student-2"})
        await wait_for(received, 2)
        await client.emit("user_uttered", {"message": marker, "session_id": "student-2"})
        await wait_for(received, len(received) + 1)
    finally:
        await client.disconnect()
    texts = " ".join(m.get("text", "") for m in received)
    assert "Hoi Sanne" in texts, texts  # student-1's own profile
    assert "Hoi Mo" not in texts
    assert marker in user_texts(stack, "student-1")
    assert marker not in user_texts(stack, "student-2")


async def test_other_student_does_not_receive_the_reply(stack):
    first, first_received = await open_client(stack, mint_chat_token("student-1"))
    second, second_received = await open_client(stack, mint_chat_token("student-2"))
    try:
        await first.emit("user_uttered", {"message": "wat kan je allemaal"})
        await wait_for(first_received, 1)
        await asyncio.sleep(1)
    finally:
        await first.disconnect()
        await second.disconnect()
    assert first_received and not second_received


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
async def test_connection_without_valid_token_is_refused(stack, token):
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_client(stack, token)


async def test_expired_or_foreign_token_is_refused(stack):
    now = dt.datetime.now(dt.timezone.utc)
    expired = jwt.encode({"sub": "student-1", "aud": AUDIENCE, "exp": now - dt.timedelta(minutes=1),
                          "jti": uuid.uuid4().hex}, get_settings().chat_jwt_secret, algorithm="HS256")
    forged = jwt.encode({"sub": "student-1", "aud": AUDIENCE, "exp": now + dt.timedelta(minutes=5),
                         "jti": uuid.uuid4().hex}, "someone-elses-secret-with-enough-length!!", algorithm="HS256")
    for token in (expired, forged):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await open_client(stack, token)


async def test_a_token_opens_one_chat_only(stack, fresh_student):
    """A copy of a used token (a proxy log, a screenshot, a second tab) opens nothing.
    (The server refuses with a generic socket.io message; the fresh token at the end
    shows that the refusals came from the token, not from the server or the account.)"""
    token = mint_chat_token(fresh_student)
    client, received = await open_client(stack, token)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await open_client(stack, token)  # while the first chat is open
        await client.emit("user_uttered", {"message": "/greet"})
        await wait_for(received, 1)
        assert received, "the first connection works normally"
    finally:
        await client.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_client(stack, token)  # and after it was closed
    client, _ = await open_client(stack, mint_chat_token(fresh_student))  # a fresh token works
    await client.disconnect()


async def test_token_without_jti_is_refused(stack, fresh_student):
    """Signed with the real secret and otherwise valid, but without the id that makes it single-use."""
    now = dt.datetime.now(dt.timezone.utc)
    no_jti = jwt.encode({"sub": fresh_student, "aud": AUDIENCE, "iat": now, "exp": now + dt.timedelta(minutes=2)},
                        get_settings().chat_jwt_secret, algorithm="HS256")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_client(stack, no_jti)
    client, _ = await open_client(stack, mint_chat_token(fresh_student))  # the same claims with a jti work
    await client.disconnect()


async def test_malformed_and_huge_messages_get_a_dutch_answer(stack):
    client, received = await open_client(stack, mint_chat_token("student-2"))
    marker = f"te lang {uuid.uuid4().hex[:8]} "
    try:
        await client.emit("user_uttered", {"message": marker + "x" * 20000})
        await client.emit("user_uttered", "not a dict")
        await client.emit("user_uttered", {"message": 12345})
        await wait_for(received, 3)
    finally:
        await client.disconnect()
    texts = [m.get("text", "") for m in received]
    assert any("erg lang" in t for t in texts)
    assert sum("kon je bericht niet lezen" in t for t in texts) == 2
    # refused by the channel itself: the oversized text never reached Rasa
    assert not any(marker in (t or "") for t in user_texts(stack, "student-2"))


def _set_active(external_id, active):
    from bot.db import session_scope
    from bot.models import User

    with session_scope() as session:
        session.execute(select(User).where(User.external_id == external_id)).scalar_one().active = active


async def test_token_of_a_deactivated_student_is_refused(stack, fresh_student):
    token = mint_chat_token(fresh_student)  # minted while the account was active (e.g. leaked)
    _set_active(fresh_student, False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_client(stack, token)
    _set_active(fresh_student, True)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_client(stack, token)  # the refused attempt spent the token
    client, _ = await open_client(stack, mint_chat_token(fresh_student))  # it was the account check
    await client.disconnect()


async def test_token_of_a_deleted_student_is_refused(stack, fresh_student, monkeypatch):
    from bot import config
    from bot.student_data import delete_student_data

    token = mint_chat_token(fresh_student)
    monkeypatch.setenv("TRACKER_STORE_URL", stack.config.tracker_store_url)
    config.reset_settings()
    try:
        delete_student_data(fresh_student)
    finally:
        monkeypatch.undo()
        config.reset_settings()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await open_client(stack, token)


async def test_valid_token_for_a_staff_member_opens_no_chat(stack):
    for staff in ("sup-1", "coord-1", "nobody-at-all"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await open_client(stack, mint_chat_token(staff))


async def test_open_chat_ends_when_the_student_is_deactivated(stack, fresh_student):
    client, received = await open_client(stack, mint_chat_token(fresh_student))
    marker = f"na deactivering {uuid.uuid4().hex[:6]}"
    try:
        await client.emit("user_uttered", {"message": "hoi"})
        await wait_for(received, 1)
        _set_active(fresh_student, False)
        await client.emit("user_uttered", {"message": marker})
        for _ in range(100):
            if not client.connected:
                break
            await asyncio.sleep(0.1)
        assert not client.connected
    finally:
        await client.disconnect()
    assert any("niet meer actief" in m.get("text", "") for m in received)
    assert marker not in user_texts(stack, fresh_student)


def test_production_has_only_the_token_channel():
    """The REST channel takes its sender id from the client: never in production."""
    import yaml

    from bot.config import PROJECT_ROOT

    production = yaml.safe_load((PROJECT_ROOT / "credentials.prod.yml").read_text(encoding="utf-8"))
    assert list(production) == ["bot.channels.TokenSocketIOInput"]


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/status"), ("GET", "/version"), ("POST", "/model/parse"),
     ("GET", "/conversations/student-1/tracker"), ("POST", "/conversations/student-1/messages")],
)
def test_rasa_http_api_is_not_exposed(stack, method, path):
    """Rasa runs without --enable-api: no one can read or write a conversation over HTTP."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.config.rasa_port}{path}",
        data=b'{"text": "hoi", "sender": "user"}' if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code in (404, 405)
