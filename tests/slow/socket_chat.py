"""A student's chat over the real authenticated socket.io channel (bot/channels.py),
as the portal's chat page does it: connect with a fresh signed chat token (a
token opens one connection only, so every connection attempt mints a new one),
emit `user_uttered`, receive `bot_uttered`. A turn is over when the channel emits
`bot_turn_done` (bot/channel_guard.py), so no quiet-period guessing is needed.

python-socketio's client uses the polling transport: its websocket transport
needs a newer aiohttp than Rasa 3.6 pins (see tests/e2e/test_channel.py).
Set SOCKET_CHAT_TRACE=1 to print every turn with its timing.
"""
from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import socketio

from bot.channel_guard import TURN_DONE_EVENT
from bot.tokens import mint_chat_token
from tests.socket_clients import closing_at_once


REQUEST_TIMEOUT = 120


class TurnTimeout(AssertionError):
    pass


@dataclass
class Turn:
    text: str
    replies: List[Dict]
    seconds: float  # from sending until the turn was over
    first_reply_seconds: Optional[float]

    @property
    def texts(self) -> List[str]:
        return [r.get("text") or "" for r in self.replies]

    def has(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts)


@dataclass
class SocketChat:
    url: str
    student: str
    turns: List[Turn] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client: Optional[socketio.AsyncClient] = None
        self._replies: List[Dict] = []
        self._done = asyncio.Event()
        self._first_reply_at: Optional[float] = None

    async def connect(self, timeout: float = 20, token: Optional[str] = None) -> "SocketChat":
        """`token`: a given chat token instead of a freshly minted one (tests of reuse)."""
        # python-engineio gives up a polling request after 5 s by default and then
        # silently stops sending; a browser's socket.io client has no such limit.
        # Under load a busy server may take longer to answer a request.
        client = closing_at_once(socketio.AsyncClient(reconnection=False, request_timeout=REQUEST_TIMEOUT))
        client.on("bot_uttered", self._on_reply)
        client.on(TURN_DONE_EVENT, self._on_done)
        await client.connect(
            self.url,
            auth={"token": token or mint_chat_token(self.student)},  # single use: fresh per attempt
            socketio_path="/socket.io",
            transports=["polling"],
            wait_timeout=timeout,
        )
        self.client = client
        return self

    async def reconnect(self, url: Optional[str] = None, attempts: int = 60) -> None:
        """A new connection with a fresh token for each attempt, as the chat page does after a drop."""
        await self.close()
        self.url = url or self.url
        last_error: Optional[Exception] = None
        for _ in range(attempts):
            try:
                await self.connect()
                return
            except socketio.exceptions.ConnectionError as error:
                last_error = error
                await asyncio.sleep(1)
        raise AssertionError(f"could not reconnect to {self.url}: {last_error}")

    async def close(self) -> None:
        """Closes the connection like a browser tab that goes away: the server is
        told at once (engine.io CLOSE), without waiting up to a ping interval
        (25 s) for the pending long-poll request to return."""
        if self.client is not None:
            client, self.client = self.client, None
            try:
                await asyncio.wait_for(client.eio.disconnect(abort=True), 10)
            except Exception:
                pass
            for task in (client.eio.read_loop_task, client.eio.write_loop_task):
                if task is not None and not task.done():
                    task.cancel()

    def _on_reply(self, data) -> None:
        if self._first_reply_at is None:
            self._first_reply_at = time.monotonic()
        self._replies.append(data)

    def _on_done(self, data=None) -> None:
        self._done.set()

    async def say(self, text: str, timeout: float = 120) -> Turn:
        """Sends one message and waits until the channel says the turn is over."""
        assert self.client is not None, "connect first"
        self._replies = []
        self._done = asyncio.Event()
        self._first_reply_at = None
        started = time.monotonic()
        await self.client.emit("user_uttered", {"message": text})
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except asyncio.TimeoutError:
            raise TurnTimeout(f"{self.student}: no end of turn within {timeout}s after {text!r}; got {self._replies}")
        finished = time.monotonic()
        turn = Turn(
            text=text,
            replies=list(self._replies),
            seconds=finished - started,
            first_reply_seconds=None if self._first_reply_at is None else self._first_reply_at - started,
        )
        self.turns.append(turn)
        if os.environ.get("SOCKET_CHAT_TRACE"):
            print(f"[{time.strftime('%H:%M:%S')}] {self.student} via {self.url}: {text[:30]!r} "
                  f"first reply {turn.first_reply_seconds}, done {turn.seconds:.2f}s", flush=True)
        return turn

    def collected_now(self) -> List[Dict]:
        """The replies of the turn in progress so far."""
        return list(self._replies)


def rasa_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"
