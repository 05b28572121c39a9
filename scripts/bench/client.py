"""Chat clients for the benchmark: the socket.io protocol as a browser speaks it.

Two transports, same interface (`connect`, `send`, `next_reply`, `close`):

* `WebSocketChat` (default): a small raw socket.io v5 / engine.io v4 client over one
  websocket (the `websockets` package Sanic already installs). This is what the
  portal's chat page uses after its first request: socket.io-client starts with
  long polling and upgrades to a websocket, so steady-state messages travel over
  the websocket.
* `PollingChat`: python-socketio's AsyncClient forced to HTTP long polling (its
  websocket transport needs a newer aiohttp than Rasa pins), as
  tests/e2e/test_channel.py does. Every bot message is fetched by a pending GET;
  the benchmark measures both and reports the difference (`transport_check`).

Each event is queued as (arrival time, kind, payload) with the `time.perf_counter()`
of its arrival, so a turn's latency is measured when the message reaches the
client, not when it is read. Kinds: "reply" (`bot_uttered`) and "done"
(`bot_turn_done`, which our channel sends after the last message of a turn; Rasa's
stock channel has no such event).
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

Event = Tuple[float, str, Dict[str, Any]]
EVENTS = {"bot_uttered": "reply", "bot_turn_done": "done"}


class ChatRefused(Exception):
    pass


class WebSocketChat:
    transport = "websocket"

    def __init__(self, base_url: str, origin: Optional[str] = None, path: str = "/socket.io") -> None:
        parts = urlsplit(base_url)
        self.url = f"ws://{parts.netloc}{path.rstrip('/')}/?EIO=4&transport=websocket"
        self.origin = origin
        self.replies: "asyncio.Queue[Event]" = asyncio.Queue()
        self._ws = None
        self._reader: Optional[asyncio.Task] = None

    async def connect(self, token: Optional[str] = None, timeout: float = 15) -> None:
        import websockets

        self._ws = await asyncio.wait_for(
            websockets.connect(self.url, origin=self.origin, ping_interval=None, max_size=None, compression=None),
            timeout,
        )
        opening = await asyncio.wait_for(self._ws.recv(), timeout)
        if not str(opening).startswith("0"):
            raise ChatRefused(f"unexpected engine.io open packet: {opening!r}")
        await self._ws.send("40" + (json.dumps({"token": token}) if token is not None else ""))
        while True:
            packet = str(await asyncio.wait_for(self._ws.recv(), timeout))
            if packet == "2":
                await self._ws.send("3")
            elif packet.startswith("40"):
                break
            elif packet.startswith("44"):
                await self._ws.close()
                raise ChatRefused(packet[2:])
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for packet in self._ws:
                if packet == "2":  # engine.io ping from the server
                    await self._ws.send("3")
                elif isinstance(packet, str) and packet.startswith("42"):
                    arrived = time.perf_counter()
                    event, *args = json.loads(packet[2:])
                    if event in EVENTS:
                        self.replies.put_nowait((arrived, EVENTS[event], args[0] if args else {}))
        except Exception:  # connection closed: the collector notices by timeout
            return

    async def send(self, text: str) -> float:
        sent = time.perf_counter()
        await self._ws.send("42" + json.dumps(["user_uttered", {"message": text}], ensure_ascii=False))
        return sent

    async def close(self) -> None:
        if self._ws is not None:
            try:
                await self._ws.send("41")
                await self._ws.close()
            except Exception:
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except BaseException:
                pass


class PollingChat:
    transport = "polling"

    def __init__(self, base_url: str, origin: Optional[str] = None, path: str = "/socket.io") -> None:
        self.base_url = base_url
        self.origin = origin
        self.path = path
        self.replies: "asyncio.Queue[Event]" = asyncio.Queue()
        self._client = None

    async def connect(self, token: Optional[str] = None, timeout: float = 15) -> None:
        import socketio

        self._client = socketio.AsyncClient(reconnection=False)
        for event, kind in EVENTS.items():
            self._client.on(event, self._queue(kind))
        try:
            await self._client.connect(
                self.base_url,
                auth={"token": token} if token is not None else None,
                headers={"Origin": self.origin} if self.origin else {},
                socketio_path=self.path,
                transports=["polling"],
                wait_timeout=timeout,
            )
        except socketio.exceptions.ConnectionError as error:
            raise ChatRefused(str(error)) from None

    def _queue(self, kind: str):
        return lambda data=None: self.replies.put_nowait((time.perf_counter(), kind, data or {}))

    async def send(self, text: str) -> float:
        sent = time.perf_counter()
        await self._client.emit("user_uttered", {"message": text})
        return sent

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.disconnect()
            except Exception:
                pass


TRANSPORTS = {"websocket": WebSocketChat, "polling": PollingChat}


def make_chat(transport: str, base_url: str, origin: Optional[str] = None):
    try:
        return TRANSPORTS[transport](base_url, origin)
    except KeyError:
        raise ValueError(f"unknown transport {transport!r}; choose from {sorted(TRANSPORTS)}") from None
