"""The portal's authenticated socket.io input channel.

Rasa 3.6's stock socket.io channel checks a JWT at connect time but then uses the
`session_id` the client sends as the conversation id, so one student could read or
write another student's conversation. Here the conversation id comes only from
the verified chat token (minted by the portal for the logged-in student) and is
kept in the server-side socket session; anything the client sends is ignored.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.tokens import InvalidToken, verify_chat_token

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000
TOO_LONG = (
    "Je bericht is erg lang. Kun je het korter maken (maximaal 5000 tekens) of in een paar stukjes sturen? "
    "Je tekst staat nog in je invoerveld." 
)


def _room(external_id: str) -> str:
    return f"student:{external_id}"


class RoomSocketIOOutput(SocketIOOutput):
    """Sends to every open tab of the student (their room), never to other students."""

    async def _send_message(self, socket_id: Text, response_body: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response_body, room=_room(socket_id))


class TokenSocketIOInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "coach_socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        origins = credentials.get("cors_allowed_origins") or os.environ.get("PORTAL_ORIGINS", "")
        if isinstance(origins, str):
            origins = [o.strip() for o in origins.split(",") if o.strip()]
        return cls(
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=origins,
        )

    def __init__(self, socketio_path: Text = "/socket.io", cors_allowed_origins: Optional[List[str]] = None):
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins or []
        self.sio: Optional[AsyncServer] = None

    def get_output_channel(self) -> Optional[RoomSocketIOOutput]:
        return RoomSocketIOOutput(self.sio, "bot_uttered") if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            max_http_buffer_size=64 * 1024,
        )
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "coach_socketio_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> None:
            token = auth.get("token") if isinstance(auth, dict) else None
            try:
                external_id = verify_chat_token(token)
            except InvalidToken as error:
                logger.info("refused socket connection: %s", error)
                raise ConnectionRefusedError("unauthorized")
            await sio.save_session(sid, {"sender_id": external_id})
            await sio.enter_room(sid, _room(external_id))

        @sio.on("session_request")
        async def session_request(sid: Text, data: Any = None) -> None:
            session = await sio.get_session(sid)
            await sio.emit("session_confirm", session["sender_id"], room=sid)

        @sio.on("user_uttered")
        async def handle_message(sid: Text, data: Any = None) -> None:
            session = await sio.get_session(sid)
            sender_id = session.get("sender_id")
            if not sender_id:
                return
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str):
                await sio.emit("bot_uttered", {"text": "Ik kon je bericht niet lezen. Probeer het nog eens."}, room=sid)
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await sio.emit("bot_uttered", {"text": TOO_LONG}, room=sid)
                return
            output = RoomSocketIOOutput(sio, "bot_uttered")
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name()))

        return blueprint
