"""A student's recent chat messages, read from Rasa's SQL tracker store.

Rasa owns the `events` table (columns sender_id, type_name, timestamp, data). The
portal only reads it, always filtered on the logged-in student's own sender id.
"""
from __future__ import annotations

import logging
import threading
from typing import Dict, List, Optional

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigurationError
from bot.crypto import DecryptionError
from bot.db import build_engine
from bot.tracker_data import event_data

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_engines: Dict[str, Engine] = {}

# The chat page opens a new session with this payload; it is not the student's words.
AUTOMATIC_OPENER = "/greet"

crypto_errors = (DecryptionError, ConfigurationError)

QUERY = text(
    "SELECT type_name, data FROM events "
    "WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
    "ORDER BY timestamp DESC, id DESC LIMIT :rows"
)


def _engine(url: str) -> Engine:
    with _lock:
        if url not in _engines:
            _engines[url] = build_engine(url)
        return _engines[url]


def reset_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _buttons(data: dict) -> List[Dict[str, str]]:
    inner = data.get("data") or {}
    buttons = inner.get("buttons") if isinstance(inner, dict) else None
    result = []
    for button in buttons or []:
        if isinstance(button, dict) and button.get("title"):
            result.append({"title": str(button["title"]), "payload": str(button.get("payload") or "")})
    return result


def to_messages(rows) -> List[Dict[str, object]]:
    """Oldest first; rows are (type_name, event dict). A button click is stored as its
    payload ("/affirm", "4"); it is shown as the title of the button the student clicked."""
    messages: List[Dict[str, object]] = []
    last_buttons: List[Dict[str, str]] = []
    for type_name, data in rows:
        if not data:
            continue
        text_value = data.get("text") or ""
        timestamp = data.get("timestamp")
        if type_name == "bot":
            buttons = _buttons(data)
            if text_value or buttons:
                messages.append({"from": "bot", "text": text_value, "buttons": buttons, "ts": timestamp})
                last_buttons = buttons
            continue
        if text_value == AUTOMATIC_OPENER:
            continue
        titles = [b["title"] for b in last_buttons if b["payload"] and b["payload"] == text_value]
        if titles:
            text_value = titles[0]
        if text_value:
            messages.append({"from": "student", "text": text_value, "buttons": [], "ts": timestamp})
    return messages


def recent_messages(tracker_store_url: str, sender_id: str, limit: int = 50) -> Optional[List[Dict[str, object]]]:
    """The last `limit` messages; [] when there are none; None when the store cannot be read."""
    try:
        with _engine(tracker_store_url).connect() as connection:
            rows = connection.execute(QUERY, {"sender": sender_id, "rows": limit * 3}).all()
        events = [(type_name, event_data(raw)) for type_name, raw in rows]  # decrypts
    except crypto_errors as error:
        logger.error("chat history not readable: %s", error)
        return None
    except SQLAlchemyError as error:
        message = str(error).lower()
        if "events" in message and ("no such table" in message or "does not exist" in message):
            return []  # Rasa has not stored any conversation yet
        logger.warning("tracker store not readable: %s", error.__class__.__name__)
        return None
    return to_messages(reversed(events))[-limit:]
