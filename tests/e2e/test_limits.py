"""Flooding and oversized requests against the running Rasa server (real processes).

- Sanic refuses request bodies over RASA_REQUEST_MAX_BYTES with 413 (bot.stack passes
  it on as SANIC_REQUEST_MAX_SIZE; Sanic's own default is 100 MB).
- The chat socket accepts at most 64 KB per engine.io request (MAX_SOCKET_BUFFER_BYTES).
- Each student has a token bucket: a flood gets a Dutch "Rustig aan even" answer per
  refused message, and a refused message never reaches Rasa.
"""
from __future__ import annotations

import asyncio
import json
import select
import socket
import uuid
from typing import Dict, Iterable, List

import pytest

from bot.channels import MAX_SOCKET_BUFFER_BYTES
from bot.config import get_settings
from bot.tokens import mint_chat_token
from tests.e2e.test_channel import open_client, user_texts, wait_for

pytestmark = pytest.mark.stack


def post_raw(port: int, path: str, headers: Dict[str, str], pieces: Iterable[bytes]) -> int:
    """POSTs the body piece by piece and returns the HTTP status. Stops sending as
    soon as the server has answered (a server that refuses early closes the socket)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        for piece in pieces:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(piece)
            except OSError:
                break
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def pieces(body: bytes, size: int = 64 * 1024) -> List[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def chunked(body: bytes, size: int = 64 * 1024) -> List[bytes]:
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces(body, size)] + [b"0\r\n\r\n"]


def rest_body(sender: str, text: str) -> bytes:
    return json.dumps({"sender": sender, "message": text}).encode()


def test_the_limit_is_passed_to_rasa(stack):
    limit = get_settings().rasa_request_max_bytes
    assert stack.config.environment()["SANIC_REQUEST_MAX_SIZE"] == str(limit)
    assert limit == 1024 * 1024  # the default; Sanic's own would be 100 MB


def test_body_over_the_limit_is_refused_with_413_and_a_normal_message_works(stack, chat, fresh_student):
    limit = get_settings().rasa_request_max_bytes
    marker = uuid.uuid4().hex
    body = rest_body(fresh_student, marker + " " + "x" * limit)
    status = post_raw(
        stack.config.rasa_port,
        "/webhooks/rest/webhook",
        {"Content-Type": "application/json", "Content-Length": str(len(body))},
        pieces(body),
    )
    assert status == 413
    # just under the limit is read (the REST channel answers it)
    assert len(rest_body(fresh_student, "hoi " + "x" * 1000)) < limit
    assert chat.texts(fresh_student, "hoi")
    assert "hoi" in user_texts(stack, fresh_student)
    assert not any(marker in (t or "") for t in user_texts(stack, fresh_student))


def test_chunked_body_over_the_limit_is_refused_with_413(stack, fresh_student):
    limit = get_settings().rasa_request_max_bytes
    body = rest_body(fresh_student, "y" * (limit + 1))
    status = post_raw(
        stack.config.rasa_port,
        "/webhooks/rest/webhook",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        chunked(body),
    )
    assert status == 413
    assert user_texts(stack, fresh_student) == []


def test_socket_io_endpoint_has_the_same_limit(stack):
    limit = get_settings().rasa_request_max_bytes
    body = b"4" + b"z" * limit
    status = post_raw(
        stack.config.rasa_port,
        "/socket.io/?EIO=4&transport=polling&sid=unknown",
        {"Content-Type": "text/plain;charset=UTF-8", "Content-Length": str(len(body))},
        pieces(body),
    )
    assert status == 413


def _packet(text: str) -> bytes:
    return ("42" + json.dumps(["user_uttered", {"message": text}])).encode()


async def test_socket_packet_over_64_kb_is_refused_and_closes_the_socket(stack, fresh_student):
    client, received = await open_client(stack, mint_chat_token(fresh_student))
    sid = client.eio.sid
    path = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    headers = {"Content-Type": "text/plain;charset=UTF-8"}
    try:
        # under the buffer: read, and answered by the channel's own length check
        small_marker = uuid.uuid4().hex
        small = _packet(small_marker + "a" * (MAX_SOCKET_BUFFER_BYTES - 1000))
        status = await asyncio.to_thread(
            post_raw, stack.config.rasa_port, path, dict(headers, **{"Content-Length": str(len(small))}), [small]
        )
        assert status == 200
        await wait_for(received, 1)
        assert any("erg lang" in m.get("text", "") for m in received)
        # over the buffer: refused, and the engine.io session is closed
        marker = uuid.uuid4().hex
        big = _packet(marker + "b" * MAX_SOCKET_BUFFER_BYTES)
        status = await asyncio.to_thread(
            post_raw, stack.config.rasa_port, path, dict(headers, **{"Content-Length": str(len(big))}), [big]
        )
        assert status == 400
        for _ in range(100):
            if not client.connected:
                break
            await asyncio.sleep(0.1)
        assert not client.connected
    finally:
        await client.disconnect()
    stored = user_texts(stack, fresh_student)
    assert not any(marker in (t or "") or small_marker in (t or "") for t in stored)


def _too_fast(received) -> int:
    return sum("Rustig aan even" in m.get("text", "") for m in received)


async def test_flood_is_limited_per_student_across_tabs_and_nothing_is_lost_silently(stack, fresh_student):
    """Two tabs of one student share one bucket (burst 8): 14 quick messages give
    exactly one bot answer or one "Rustig aan" notice each; refused ones never reach Rasa."""
    first, first_received = await open_client(stack, mint_chat_token(fresh_student))
    second, second_received = await open_client(stack, mint_chat_token(fresh_student))  # a token opens one tab
    sent = [f"hoi {i} {uuid.uuid4().hex[:6]}" for i in range(14)]
    try:
        for i, text in enumerate(sent):
            await (first if i % 2 else second).emit("user_uttered", {"message": text})
        stored: List[str] = []
        for _ in range(240):  # until every message is either stored by Rasa or refused
            await asyncio.sleep(0.5)
            stored = [t for t in user_texts(stack, fresh_student) if t in sent]
            # each tab receives every message of the student's room, so count one tab
            if len(stored) + _too_fast(first_received) >= len(sent):
                break
        refused = _too_fast(first_received)
        assert refused == _too_fast(second_received)
        assert len(stored) + refused == len(sent), (stored, refused)
        assert 14 - 8 - 2 <= refused <= 14 - 8  # burst 8; at most a token or two came back meanwhile
        assert len(set(stored)) == len(stored)

        await asyncio.sleep(2.5)  # one message per 2 s comes back: resending works
        again = f"nog een keer {uuid.uuid4().hex[:6]}"
        await first.emit("user_uttered", {"message": again})
        for _ in range(120):
            if again in user_texts(stack, fresh_student):
                break
            await asyncio.sleep(0.5)
        assert again in user_texts(stack, fresh_student)
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_one_students_flood_does_not_limit_another(stack, fresh_student):
    flooder, flooder_received = await open_client(stack, mint_chat_token(fresh_student))
    other, other_received = await open_client(stack, mint_chat_token("student-2"))
    try:
        for i in range(12):
            await flooder.emit("user_uttered", {"message": f"spam {i}"})
        await wait_for(flooder_received, 4)
        await other.emit("user_uttered", {"message": "wat kan je allemaal"})
        await wait_for(other_received, 1)
    finally:
        await flooder.disconnect()
        await other.disconnect()
    assert _too_fast(flooder_received) >= 2
    assert other_received and _too_fast(other_received) == 0
