"""The portal chat channel takes the conversation id from the verified token only."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import jwt
import pytest
import socketio
from sqlalchemy import create_engine, text

from bot.config import get_settings
from bot.tokens import AUDIENCE, mint_chat_token

pytestmark = pytest.mark.stack


async def open_client(stack, token):
    client = socketio.AsyncClient(reconnection=False)
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
    return [json.loads(r[0]).get("text") for r in rows]


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
    expired = jwt.encode({"sub": "student-1", "aud": AUDIENCE, "exp": now - dt.timedelta(minutes=1)},
                         get_settings().chat_jwt_secret, algorithm="HS256")
    forged = jwt.encode({"sub": "student-1", "aud": AUDIENCE, "exp": now + dt.timedelta(minutes=5)},
                        "someone-elses-secret-with-enough-length!!", algorithm="HS256")
    for token in (expired, forged):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await open_client(stack, token)


async def test_malformed_and_huge_messages_get_a_dutch_answer(stack):
    client, received = await open_client(stack, mint_chat_token("student-2"))
    try:
        await client.emit("user_uttered", {"message": "x" * 20000})
        await client.emit("user_uttered", "not a dict")
        await client.emit("user_uttered", {"message": 12345})
        await wait_for(received, 3)
    finally:
        await client.disconnect()
    texts = [m.get("text", "") for m in received]
    assert any("erg lang" in t for t in texts)
    assert sum("kon je bericht niet lezen" in t for t in texts) == 2
