"""The portal's authenticated socket.io input channel.

Rasa 3.6's stock socket.io channel checks a JWT at connect time but then uses the
`session_id` the client sends as the conversation id, so one student could read or
write another student's conversation. Here the conversation id comes only from
the verified chat token (minted by the portal for the logged-in student) and is
kept in the server-side socket session; anything the client sends is ignored.

Hardening (docs/security.md): a chat token opens one connection only (it is
redeemed in the app database at connect time, bot.tokens.redeem_chat_token; the
chat page fetches a fresh one for every connection attempt); the account must
still be an active student at connect time (a leaked token of a deactivated or
deleted student is refused) and again for every message on an open connection
(one indexed query); each student has a token bucket (bot/ratelimit.py;
CHAT_RATE_BURST and CHAT_RATE_PER_MINUTE), and a message over the limit gets a
Dutch answer instead of going to Rasa. The limiter lives in this Rasa process:
with several replicas each counts on its own.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import rasa_speedups
from bot.channel_guard import TURN_DONE_EVENT, answer_turn
from bot.config import get_settings
from bot.ratelimit import TokenBucketLimiter
from bot.tokens import InvalidToken, chat_account_is_active, redeem_chat_token, verify_chat_token

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5000
TOO_LONG = (
    "Je bericht is erg lang. Kun je het korter maken (maximaal 5000 tekens) of in een paar stukjes sturen? "
    "Je tekst staat nog in je invoerveld."
)
# Rasa's own control commands. Sent by a student (typed, or by a modified page) they
# would wipe or rewrite the student's conversation state, such as a paused weekly
# reflection, without an answer. No button uses them; any other "/intent{...}" is a
# button payload and goes through (the actions check the entity values).
CONTROL_INTENTS = frozenset({"restart", "session_start", "back"})
CONTROL_REFUSED = "Dat commando werkt hier niet. Typ je vraag gewoon in je eigen woorden, of kies een onderwerp."


def is_control_command(text: str) -> bool:
    """Mirrors Rasa's "/intent@conf{entities}" parsing (the intent name is stripped)."""
    match = re.match(r"/([^{@]+)", text.strip())
    return bool(match) and match.group(1).strip() in CONTROL_INTENTS


ACCOUNT_CHECK_TIMEOUT_SECONDS = 5
MAX_SOCKET_BUFFER_BYTES = 64 * 1024  # one engine.io request/packet; larger ones are refused
ACCOUNT_GONE = "Je account is niet meer actief, dus de chat stopt hier. Vraag je school als dit niet klopt."


def too_fast(seconds: int) -> str:
    unit = "seconde" if seconds == 1 else "seconden"
    return (
        f"Rustig aan even, je stuurt veel berichten snel achter elkaar. Wacht {seconds} {unit} "
        "en stuur je laatste bericht dan nog een keer."
    )


def chat_rate_limiter() -> TokenBucketLimiter:
    settings = get_settings()
    return TokenBucketLimiter(settings.chat_rate_burst, settings.chat_rate_per_minute / 60.0)


async def _off_the_loop(function: Callable[..., Any], *args: Any) -> Any:
    # a short blocking database query: off the event loop, and never waiting long
    # for a database that hangs (the callers treat a timeout like any other error)
    call = asyncio.get_running_loop().run_in_executor(None, function, *args)
    return await asyncio.wait_for(call, ACCOUNT_CHECK_TIMEOUT_SECONDS)


async def _account_is_active(external_id: str) -> bool:
    return await _off_the_loop(chat_account_is_active, external_id)


async def _redeem(token: str) -> str:
    """The token's external_id, once (bot.tokens.redeem_chat_token). After a
    timeout the insert may still commit later: the token is then spent although
    the connection was refused; the chat page simply fetches a new one."""
    return await _off_the_loop(redeem_chat_token, token)


def _room(external_id: str) -> str:
    return f"student:{external_id}"


class CheckedSocketBlueprint(SocketBlueprint):
    """Refuses socket.io polling requests whose body is not UTF-8 text with a 400
    (engine.io polling payloads are always text). python-engineio itself would log
    a traceback for each such request and answer "OK"."""

    def register(self, app: Any, options: Dict[Text, Any]) -> None:
        path = self.ctx.socketio_path.rstrip("/")

        async def refuse_undecodable_body(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST" or request.path.rstrip("/") != path or not request.body:
                return None
            try:
                request.body.decode("utf-8")
            except UnicodeDecodeError:
                return response.text("Bad request: the body is not UTF-8 text.", status=400)
            return None

        app.register_middleware(refuse_undecodable_body, "request")
        super().register(app, options)


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
        self.limiter: Optional[TokenBucketLimiter] = None

    def get_output_channel(self) -> Optional[RoomSocketIOOutput]:
        return RoomSocketIOOutput(self.sio, "bot_uttered") if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rasa_speedups.install()
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            max_http_buffer_size=MAX_SOCKET_BUFFER_BYTES,
        )
        self.sio = sio
        limiter = self.limiter = chat_rate_limiter()
        blueprint = CheckedSocketBlueprint(sio, self.socketio_path, "coach_socketio_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> None:
            token = auth.get("token") if isinstance(auth, dict) else None
            try:
                verify_chat_token(token)  # cheap, on the loop: garbage costs no thread or query
                external_id = await _redeem(token)  # single use: records the token's jti
            except InvalidToken as error:
                logger.info("refused socket connection: %s", error)
                raise ConnectionRefusedError("unauthorized")
            except Exception:  # fail closed: without the database we cannot tell
                logger.exception("refused socket connection: the chat token could not be redeemed")
                raise ConnectionRefusedError("unavailable")
            try:
                active = await _account_is_active(external_id)
            except Exception:  # fail closed: without the database we cannot tell
                logger.exception("refused socket connection: account check failed")
                raise ConnectionRefusedError("unavailable")
            if not active:
                logger.info("refused socket connection: account %s is not an active student", external_id)
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
            if not limiter.allow(sender_id):
                wait = limiter.wait_seconds(sender_id)
                await sio.emit("bot_uttered", {"text": too_fast(wait)}, room=_room(sender_id))
                return
            try:
                active = await _account_is_active(sender_id)
            except Exception:  # checked at connect; a database hiccup must not end the chat
                logger.warning("account re-check failed for an open chat", exc_info=True)
                active = True
            if not active:
                logger.info("closed the chat of %s: account no longer active", sender_id)
                await sio.emit("bot_uttered", {"text": ACCOUNT_GONE}, room=_room(sender_id))
                await sio.disconnect(sid)
                return
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str):
                await sio.emit("bot_uttered", {"text": "Ik kon je bericht niet lezen. Probeer het nog eens."}, room=sid)
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await sio.emit("bot_uttered", {"text": TOO_LONG}, room=sid)
                return
            if is_control_command(text):
                await sio.emit("bot_uttered", {"text": CONTROL_REFUSED}, room=sid)
                return
            output = RoomSocketIOOutput(sio, "bot_uttered")
            await answer_turn(  # bot/channel_guard.py: never a silent turn; then "turn over"
                on_new_message,
                UserMessage(text, output, sender_id, input_channel=self.name()),
                turn_done=lambda: sio.emit(TURN_DONE_EVENT, {}, room=_room(sender_id)),
            )

        return blueprint


def rest_body_problem(body: bytes) -> Optional[str]:
    """Why a REST webhook request body is unusable (Dutch, for the developer), or None."""
    try:
        data = json.loads(body or b"")
    except (ValueError, RecursionError):  # also broken UTF-8 and absurd nesting
        return "De inhoud is geen geldige JSON (UTF-8)."
    if not isinstance(data, dict):
        return "De inhoud moet een JSON-object zijn met 'sender' en 'message'."
    if not isinstance(data.get("sender"), str) or not data["sender"].strip():
        return "'sender' ontbreekt of is geen tekst."
    if not isinstance(data.get("message"), str):
        return "'message' ontbreekt of is geen tekst."
    if not isinstance(data.get("metadata"), (dict, type(None))):
        return "'metadata' moet een JSON-object zijn."
    return None


class CheckedRestInput(RestInput):
    """Rasa's REST channel (development and tests only; production has no REST
    channel) with the request body checked first: Rasa's own channel answers a
    JSON list or an empty body with a 500 and a missing or non-text message with
    a silent 200. A message over MAX_MESSAGE_CHARS gets the same Dutch answer as
    in the portal chat. Same URL: /webhooks/rest/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rasa_speedups.install()
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_body(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            problem = rest_body_problem(request.body)
            if problem is not None:
                return response.json({"error": "bad_request", "message": problem}, status=400)
            if len(request.json["message"]) > MAX_MESSAGE_CHARS:  # answered like the portal chat does
                return response.json([{"recipient_id": request.json["sender"], "text": TOO_LONG}])
            return None

        return blueprint
