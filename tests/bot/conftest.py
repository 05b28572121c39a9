"""A real Rasa SQL tracker store (SQLite file) for retention and student-data tests."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Iterable, Tuple

import pytest

from bot import config


class TrackerStoreFile:
    def __init__(self, url: str) -> None:
        self.url = url

    def save(self, sender_id: str, messages: Iterable[Tuple[str, str, dt.datetime]]) -> None:
        """Save one conversation with Rasa's own SQLTrackerStore (via UrlSQLTrackerStore).
        messages: (\"user\" | \"bot\", text, naive UTC time)."""
        from rasa.shared.core.events import BotUttered, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        from bot.stores import UrlSQLTrackerStore

        events = []
        for kind, text, when in messages:
            ts = when.replace(tzinfo=dt.timezone.utc).timestamp()
            if kind == "user":
                events.append(UserUttered(text, intent={"name": "greet", "confidence": 1.0}, timestamp=ts))
            else:
                events.append(BotUttered(text, timestamp=ts))
        store = UrlSQLTrackerStore(host=self.url)
        try:
            asyncio.run(store.save(DialogueStateTracker.from_events(sender_id, events)))
        finally:
            store.engine.dispose()

    def raw_rows(self, sender_id: str = None):
        """The rows as stored (`data` encrypted)."""
        from sqlalchemy import text

        from bot.db import build_engine

        engine = build_engine(self.url)
        try:
            with engine.connect() as connection:
                sql = "SELECT sender_id, type_name, timestamp, data FROM events"
                if sender_id is None:
                    return connection.execute(text(sql + " ORDER BY id")).all()
                return connection.execute(
                    text(sql + " WHERE sender_id = :s ORDER BY id"), {"s": sender_id}
                ).all()
        finally:
            engine.dispose()

    def rows(self, sender_id: str = None):
        """The rows with `data` decrypted (bot.crypto.decrypt_text)."""
        from collections import namedtuple

        from bot.crypto import decrypt_text

        event_row = namedtuple("EventRow", "sender_id type_name timestamp data")
        return [
            event_row(r.sender_id, r.type_name, r.timestamp, decrypt_text(r.data)) for r in self.raw_rows(sender_id)
        ]


@pytest.fixture
def tracker_store(tmp_path, monkeypatch) -> TrackerStoreFile:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    config.reset_settings()
    yield TrackerStoreFile(url)
    config.reset_settings()
