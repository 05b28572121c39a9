"""Direct access to Rasa's SQL tracker store (table `events`) for retention,
data export and deletion.

Rasa owns the table (columns id, sender_id, type_name, timestamp, data, ...);
`timestamp` is a unix time (float); `data` is encrypted (bot.stores, bot.crypto):
read it through `event_data`. Every function here uses one transaction and
treats a missing `events` table (Rasa has not stored anything yet) as "no data".
"""
from __future__ import annotations

import json
from typing import Dict, List, Optional

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot import crypto
from bot.db import build_engine

TABLE = "events"


def event_data(raw) -> dict:
    """One stored event as a dict: decrypts `events.data` (legacy plaintext rows are
    read as they are) and parses its JSON; {} for damaged JSON. A value no key can
    decrypt raises crypto.DecryptionError, never an empty event."""
    text_value = crypto.decrypt_text(raw)
    if not text_value:
        return {}
    try:
        data = json.loads(text_value)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class TrackerStoreError(RuntimeError):
    """The tracker store database cannot be reached or changed."""


def _with_engine(url: str, work):
    engine: Optional[Engine] = None
    try:
        engine = build_engine(url)
        with engine.begin() as connection:
            if not inspect(connection).has_table(TABLE):
                return None
            return work(connection)
    except crypto.DecryptionError:
        raise  # a key problem, not a tracker-store problem: its own message names the key
    except SQLAlchemyError as error:
        raise TrackerStoreError(f"{error.__class__.__name__}: {getattr(error, 'orig', error)}") from error
    finally:
        if engine is not None:
            engine.dispose()


def delete_before(url: str, cutoff_timestamp: float) -> Optional[int]:
    """Delete all events older than the cutoff; None when the table does not exist."""
    return _with_engine(
        url,
        lambda c: c.execute(
            text(f"DELETE FROM {TABLE} WHERE timestamp < :cutoff"), {"cutoff": cutoff_timestamp}
        ).rowcount,
    )


def delete_sender(url: str, sender_id: str) -> Optional[int]:
    """Delete every event of one conversation; None when the table does not exist."""
    return _with_engine(
        url,
        lambda c: c.execute(text(f"DELETE FROM {TABLE} WHERE sender_id = :sender"), {"sender": sender_id}).rowcount,
    )


def count_sender(url: str, sender_id: str) -> int:
    result = _with_engine(
        url,
        lambda c: c.execute(
            text(f"SELECT COUNT(*) FROM {TABLE} WHERE sender_id = :sender"), {"sender": sender_id}
        ).scalar(),
    )
    return int(result or 0)


def messages(url: str, sender_id: str) -> Optional[List[Dict[str, object]]]:
    """All user and bot messages of one conversation, oldest first; None when
    the table does not exist."""

    def work(connection):
        rows = connection.execute(
            text(
                f"SELECT type_name, timestamp, data FROM {TABLE} "
                "WHERE sender_id = :sender AND type_name IN ('user', 'bot') ORDER BY timestamp, id"
            ),
            {"sender": sender_id},
        ).all()
        result = []
        for type_name, timestamp, raw in rows:
            data = event_data(raw)
            result.append(
                {
                    "from": "student" if type_name == "user" else "assistant",
                    "text": data.get("text") or "",
                    "timestamp": timestamp,
                }
            )
        return result

    return _with_engine(url, work)
