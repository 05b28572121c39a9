"""Rasa tracker and lock stores configured by one URL each (TRACKER_STORE_URL,
LOCK_STORE_URL), so dev (SQLite, in-memory lock) and production (PostgreSQL,
Redis) differ only in environment variables."""
from __future__ import annotations

import json
from typing import Any, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm.attributes import set_committed_value

from bot import crypto
from bot.config import get_settings


def _encrypt_event_data(_mapper, _connection, target) -> None:
    if target.data is not None and not crypto.is_encrypted(target.data):
        target.data = crypto.encrypt_text(target.data)


def _decrypt_event_data(target, *_args) -> None:
    raw = target.__dict__.get("data")
    if raw is not None:
        # committed value: the decrypted text never counts as a change to write back
        set_committed_value(target, "data", crypto.decrypt_text(raw))


def _decrypt_refreshed_event_data(target, _context, attrs) -> None:
    if attrs is None or "data" in attrs:
        _decrypt_event_data(target)


def install_event_encryption(event_class=SQLTrackerStore.SQLEvent) -> None:
    """Encrypt Rasa's `events.data` (each event as JSON, including the student's
    text and slot values) with the data keys: ORM hooks on Rasa's own mapped class,
    so no Rasa code is copied. Rasa writes events only through `session.add` and
    reads them only as ORM objects (`SQLTrackerStore.save` / `_retrieve`). Our raw
    readers decrypt with `bot.crypto.decrypt_text`. Idempotent."""
    hooks = (
        ("before_insert", _encrypt_event_data),
        ("before_update", _encrypt_event_data),
        ("load", _decrypt_event_data),
        ("refresh", _decrypt_refreshed_event_data),
    )
    for name, hook in hooks:
        if not event.contains(event_class, name, hook):
            event.listen(event_class, name, hook)


class UrlSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain=None, host: Optional[Text] = None, event_broker=None, **kwargs: Any) -> None:
        kwargs.pop("url", None)
        crypto.keyring()  # fail at start-up, not at the first message, when no key is usable
        install_event_encryption()
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
        self._check_key_fits()

    def _check_key_fits(self) -> None:
        """Refuse to start with keys that cannot read the newest stored event, instead
        of failing on every conversation later (crypto.DecryptionError says which
        variable to fix)."""
        table = self.SQLEvent.__table__
        newest_encrypted = (
            select(table.c.data)
            .where(table.c.data.like(crypto.RANDOM_PREFIX + "%"))
            .order_by(table.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            newest = connection.execute(newest_encrypted).scalar()
        if newest is not None:
            crypto.decrypt_text(newest)


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

    # Rasa 3.6 changes a lock as GET, then SET. Two replicas taking a ticket for one
    # conversation at the same moment can then both get ticket 0 and handle it at
    # once; one message went missing from the tracker store that way in about 1 of
    # 6 tries (tests/slow/test_scale_out.py). With Redis, each change below is one
    # transaction (WATCH/MULTI/EXEC, retried when another replica changed the lock).

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        if not isinstance(self._inner, RedisLockStore):
            return super().issue_ticket(conversation_id, lock_lifetime)

        def take(lock: Optional[TicketLock]):
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change_in_redis(conversation_id, take)
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}")

    def update_lock(self, conversation_id: Text) -> None:
        if not isinstance(self._inner, RedisLockStore):
            return super().update_lock(conversation_id)

        def drop_expired(lock: Optional[TicketLock]):
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change_in_redis(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        if not isinstance(self._inner, RedisLockStore):
            return super().finish_serving(conversation_id, ticket_number)
        self._change_in_redis(conversation_id, lambda lock: (_without(lock, ticket_number), None))

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        if not isinstance(self._inner, RedisLockStore):
            return super().cleanup(conversation_id, ticket_number)

        def release(lock: Optional[TicketLock]):
            lock = _without(lock, ticket_number)
            return (lock if lock is not None and lock.is_someone_waiting() else None), None

        self._change_in_redis(conversation_id, release, delete_when_none=True)

    def _change_in_redis(self, conversation_id: Text, change, delete_when_none: bool = False):
        import redis

        store: RedisLockStore = self._inner  # type: ignore[assignment]
        key = store.key_prefix + conversation_id
        with store.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                    lock, result = change(lock)
                    pipe.multi()
                    if lock is not None:
                        pipe.set(key, lock.dumps())
                    elif delete_when_none:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue


def _without(lock: Optional[TicketLock], ticket_number: int) -> Optional[TicketLock]:
    if lock is not None:
        lock.remove_ticket_for(ticket_number)
    return lock
