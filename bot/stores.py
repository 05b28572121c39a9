"""Rasa tracker and lock stores configured by one URL each (TRACKER_STORE_URL,
LOCK_STORE_URL), so dev (SQLite, in-memory lock) and production (PostgreSQL,
Redis) differ only in environment variables."""
from __future__ import annotations

from typing import Any, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

from bot.config import get_settings


class UrlSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain=None, host: Optional[Text] = None, event_broker=None, **kwargs: Any) -> None:
        kwargs.pop("url", None)
        url = make_url(host or get_settings().tracker_store_url)
        dialect = url.get_backend_name()
        if dialect == "sqlite":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=dialect,
            host=url.host,
            port=url.port,
            db=url.database,
            username=url.username,
            password=url.password,
            query=dict(url.query) or None,
            event_broker=event_broker,
            **kwargs,
        )


class UrlLockStore(LockStore):
    """Redis lock store when LOCK_STORE_URL is set (several Rasa replicas), else in memory."""

    def __init__(self, endpoint_config=None) -> None:
        url_text = (getattr(endpoint_config, "url", None) or get_settings().lock_store_url or "").strip()
        if url_text:
            url = make_url(url_text)
            self._inner: LockStore = RedisLockStore(
                host=url.host or "localhost",
                port=url.port or 6379,
                db=int(url.database or 0),
                password=url.password,
                key_prefix="stagecoach",
            )
        else:
            self._inner = InMemoryLockStore()

    @property
    def inner(self) -> LockStore:
        return self._inner

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self._inner.get_lock(conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        self._inner.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self._inner.save_lock(lock)
