"""Encrypted backups (`python -m bot backup create|restore|encrypt|decrypt`).

A backup is a logical dump of the application database (every table of
bot.models, in foreign-key order) and of Rasa's tracker store (`events`), as gzip
compressed JSON lines, written through an encrypted stream:

    b"STAGECOACH-ENC 1\\n"  then frames: 4-byte big-endian length + Fernet token

Each token holds a 16-byte stream id, an 8-byte frame number, a final-frame flag
and up to 1 MiB of data, so a file that was cut short, reordered or spliced from
two backups is refused instead of half-restored. The same stream format wraps any
other data (`backup encrypt` / `backup decrypt`, e.g. a native `pg_dump`).

Keys: BACKUP_ENCRYPTION_KEY (comma-separated Fernet keys: the first encrypts, all
decrypt), falling back to DATA_ENCRYPTION_KEYS in development. Values in the dump
are plaintext inside the encrypted stream: restore re-encrypts them with the data
key of the server it restores to, so a backup survives a data-key rotation and a
new server with a new data key, and only the backup key is needed to restore.
Production requires a separate BACKUP_ENCRYPTION_KEY, kept by someone else than the
server (e.g. the privacy officer's password safe).

Restore goes into an empty database: it creates the schema (Alembic, the same
revision as the backup) and the tracker store's table (Rasa's own definition).
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import gzip
import io
import json
import os
import struct
from typing import BinaryIO, Dict, Iterator, List, Optional, Sequence

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot import config, crypto
from bot.db import build_engine

MAGIC = b"STAGECOACH-ENC 1\n"
CHUNK = 1024 * 1024
MAX_TOKEN = 4 * CHUNK
FORMAT = 1
EVENTS = "events"
FETCH = 1000


class BackupError(Exception):
    """A backup cannot be written or read; the message is Dutch and says what to do."""


# --- keys ----------------------------------------------------------------------------


def backup_keys() -> Sequence[str]:
    settings = config.get_settings()
    if settings.backup_encryption_keys:
        return settings.backup_encryption_keys
    if settings.is_production:
        raise BackupError(
            "zet BACKUP_ENCRYPTION_KEY (maak een sleutel met `python -m bot keys generate`). "
            "Bewaar die sleutel ergens anders dan de server en de back-ups. / "
            "BACKUP_ENCRYPTION_KEY must be set in production."
        )
    return crypto.configured_keys()


def _fernet(keys: Sequence[str]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode("ascii")) for k in keys])


# --- the encrypted stream ----------------------------------------------------------


class EncryptedWriter(io.RawIOBase):
    """Write-only file object: encrypts what is written into frames on `target`."""

    def __init__(self, target: BinaryIO, keys: Optional[Sequence[str]] = None) -> None:
        self._target = target
        self._fernet = _fernet(keys or backup_keys())
        self._stream_id = os.urandom(16)
        self._seq = 0
        self._buffer = bytearray()
        self._finished = False
        target.write(MAGIC)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self._finished:
            raise ValueError("stream already finished")
        self._buffer.extend(data)
        while len(self._buffer) >= CHUNK:
            self._frame(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _frame(self, payload: bytes, final: bool) -> None:
        header = self._stream_id + struct.pack(">QB", self._seq, 1 if final else 0)
        token = self._fernet.encrypt(header + payload)
        self._target.write(struct.pack(">I", len(token)) + token)
        self._seq += 1

    def finish(self) -> None:
        if not self._finished:
            self._frame(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._finished = True
            self._target.flush()

    def close(self) -> None:
        # closing without finish() (an error while writing) leaves no final frame:
        # the file is then refused as incomplete, never restored half.
        super().close()


def _damaged(detail: str) -> BackupError:
    return BackupError(
        f"het back-upbestand is beschadigd of onvolledig ({detail}); er is niets hersteld. / "
        f"The backup file is damaged or incomplete ({detail})."
    )


def decrypted_chunks(source: BinaryIO, keys: Optional[Sequence[str]] = None) -> Iterator[bytes]:
    """The plaintext of an encrypted stream, chunk by chunk; BackupError when the
    key does not fit or the stream is damaged, cut short or reordered."""
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError(
            "dit is geen versleuteld Stagecoach-bestand (het begint niet met 'STAGECOACH-ENC 1'). / "
            "This is not an encrypted Stagecoach file."
        )
    fernet = _fernet(keys or backup_keys())
    stream_id = None
    expected = 0
    while True:
        size_bytes = source.read(4)
        if len(size_bytes) < 4:
            raise _damaged("het laatste deel ontbreekt")
        (size,) = struct.unpack(">I", size_bytes)
        if size > MAX_TOKEN:
            raise _damaged("ongeldige lengte")
        token = source.read(size)
        if len(token) < size:
            raise _damaged("het bestand is afgekapt")
        try:
            plain = fernet.decrypt(token)
        except InvalidToken:
            if expected == 0:
                raise BackupError(
                    "de sleutel past niet bij deze back-up (BACKUP_ENCRYPTION_KEY, of in ontwikkeling "
                    "DATA_ENCRYPTION_KEYS). Zet de sleutel terug waarmee de back-up is gemaakt. / "
                    "The backup key does not fit this file."
                )
            raise _damaged(f"deel {expected} is niet te ontsleutelen")
        if len(plain) < 25:
            raise _damaged("te kort deel")
        frame_stream, (seq, final) = plain[:16], struct.unpack(">QB", plain[16:25])
        stream_id = stream_id or frame_stream
        if frame_stream != stream_id or seq != expected:
            raise _damaged("delen in de verkeerde volgorde of uit een ander bestand")
        expected += 1
        yield plain[25:]
        if final:
            if source.read(1):
                raise _damaged("gegevens na het einde")
            return


class DecryptingReader(io.RawIOBase):
    """Read-only file object over `decrypted_chunks`."""

    def __init__(self, source: BinaryIO, keys: Optional[Sequence[str]] = None) -> None:
        self._chunks = decrypted_chunks(source, keys)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def encrypt_stream(source: BinaryIO, target: BinaryIO, keys: Optional[Sequence[str]] = None) -> int:
    """Encrypts all of `source` into `target` (e.g. pg_dump | backup encrypt)."""
    writer = EncryptedWriter(target, keys)
    total = 0
    while True:
        data = source.read(CHUNK)
        if not data:
            break
        writer.write(data)
        total += len(data)
    writer.finish()
    return total


def decrypt_stream(source: BinaryIO, target: BinaryIO, keys: Optional[Sequence[str]] = None) -> int:
    total = 0
    for chunk in decrypted_chunks(source, keys):
        target.write(chunk)
        total += len(chunk)
    target.flush()
    return total


# --- values as JSON ------------------------------------------------------------------


def _encode(value):
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value):
    if isinstance(value, dict):
        if "$dt" in value:
            return dt.datetime.fromisoformat(value["$dt"])
        if "$date" in value:
            return dt.date.fromisoformat(value["$date"])
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
        if "$dec" in value:
            return decimal.Decimal(value["$dec"])
    return value


def _line(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


# --- create ------------------------------------------------------------------------


def _app_tables() -> List[sa.Table]:
    from bot.models import Base

    return list(Base.metadata.sorted_tables)


def _revision(connection) -> Optional[str]:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _dump_table(connection, table: sa.Table, store: str, out, counts: Dict[str, int], decrypt=None) -> None:
    columns = [c.name for c in table.columns]
    out.write(_line({"type": "table", "store": store, "name": table.name, "columns": columns}))
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(stream_results=True).execute(sa.select(table).order_by(*order))
    count = 0
    while True:
        rows = result.fetchmany(FETCH)
        if not rows:
            break
        for row in rows:
            values = list(row)
            if decrypt:
                values = decrypt(columns, values)
            out.write(_line([_encode(v) for v in values]))
            count += 1
    counts[f"{store}.{table.name}"] = count


@contextlib.contextmanager
def _snapshot(engine):
    """One read transaction; on PostgreSQL REPEATABLE READ, so all tables are read
    as of the same moment while the services keep running (as pg_dump does)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def _events_table(engine) -> Optional[sa.Table]:
    if not sa.inspect(engine).has_table(EVENTS):
        return None
    return sa.Table(EVENTS, sa.MetaData(), autoload_with=engine)


def _decrypt_event_values(columns: List[str], values: list) -> list:
    index = columns.index("data")
    values[index] = crypto.decrypt_text(values[index])
    return values


def create_backup(target: BinaryIO, database_url: str, tracker_store_url: Optional[str]) -> Dict[str, int]:
    """Writes the encrypted backup to `target`; returns the row count per table."""
    writer = EncryptedWriter(target)
    counts: Dict[str, int] = {}
    with gzip.GzipFile(fileobj=writer, mode="wb", mtime=0) as out:
        app = build_engine(database_url)
        try:
            with _snapshot(app) as connection:
                out.write(
                    _line(
                        {
                            "type": "header",
                            "format": FORMAT,
                            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                            "alembic_revision": _revision(connection),
                            "app_dialect": app.dialect.name,
                        }
                    )
                )
                for table in _app_tables():
                    _dump_table(connection, table, "app", out, counts)
        finally:
            app.dispose()
        if tracker_store_url:
            tracker = build_engine(tracker_store_url)
            try:
                events = _events_table(tracker)
                if events is not None:
                    with _snapshot(tracker) as connection:
                        _dump_table(connection, events, "tracker", out, counts, _decrypt_event_values)
            finally:
                tracker.dispose()
        out.write(_line({"type": "end", "counts": counts}))
    writer.finish()
    return counts


# --- restore -----------------------------------------------------------------------


def _records(source: BinaryIO) -> Iterator:
    reader = io.BufferedReader(DecryptingReader(source), buffer_size=CHUNK)
    try:
        with gzip.GzipFile(fileobj=reader, mode="rb") as lines:
            for raw in lines:
                yield json.loads(raw)
    except (OSError, EOFError, ValueError) as error:
        raise _damaged(f"inhoud onleesbaar: {error.__class__.__name__}")


def _non_empty_tables(engine, tables: Sequence[sa.Table]) -> List[str]:
    inspector = sa.inspect(engine)
    found = []
    with engine.connect() as connection:
        for table in tables:
            if inspector.has_table(table.name):
                if connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
                    found.append(table.name)
    return found


def _reset_sequences(connection, table: sa.Table) -> None:
    if connection.dialect.name != "postgresql":
        return
    for column in table.primary_key.columns:
        if isinstance(column.type, sa.Integer):
            connection.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence(:t, :c), "
                    f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                ),
                {"t": table.name, "c": column.name},
            )


def _rasa_events_table() -> sa.Table:
    """Rasa's own definition of `events` (the tracker store owns the table)."""
    import warnings

    with warnings.catch_warnings():
        # Rasa 3.6's SQLAlchemy 2.0 notices; Rasa adds its own filters while importing,
        # so the display is switched off rather than the filter
        warnings.showwarning = lambda *args, **kwargs: None
        from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.SQLEvent.__table__


class _Restorer:
    def __init__(self, database_url: str, tracker_store_url: Optional[str]) -> None:
        self.app = build_engine(database_url)
        # app and tracker store may share one database: then one connection does both
        self.shared = tracker_store_url == database_url
        self.tracker = build_engine(tracker_store_url) if tracker_store_url and not self.shared else None
        self.has_tracker = bool(tracker_store_url)
        self.app_tables = {t.name: t for t in _app_tables()}
        self.counts: Dict[str, int] = {}

    def close(self) -> None:
        self.app.dispose()
        if self.tracker is not None:
            self.tracker.dispose()


def restore_backup(source: BinaryIO, database_url: str, tracker_store_url: Optional[str]) -> Dict[str, int]:
    """Restores a backup into an empty application database (and tracker store).
    Everything is checked before the first row is written: the key, the schema
    revision, that the targets are empty. The rows of each store go in as one
    transaction; an interrupted or damaged file leaves nothing behind."""
    from alembic.util import CommandError

    from bot import migrate

    records = _records(source)
    header = next(records, None)
    if not header or header.get("type") != "header" or header.get("format") != FORMAT:
        raise _damaged("geen kop")
    state = _Restorer(database_url, tracker_store_url)
    try:
        if _non_empty_tables(state.app, list(state.app_tables.values())):
            raise BackupError(
                "de database is niet leeg. Herstel alleen in een nieuwe, lege database "
                "(DATABASE_URL); er is niets veranderd. / The target database is not empty."
            )
        if state.has_tracker and _non_empty_tables(state.tracker or state.app, [_rasa_events_table()]):
            raise BackupError(
                "de trackerstore (TRACKER_STORE_URL) is niet leeg. Herstel in een lege trackerstore; "
                "er is niets veranderd. / The target tracker store is not empty."
            )
        revision = header.get("alembic_revision")
        try:
            # the schema as it was when the backup was made; upgraded to the newest below
            migrate.upgrade(database_url, revision or "head")
        except CommandError as error:
            raise BackupError(
                f"de database kan niet op versie {revision} van de back-up worden gebracht ({error}). "
                "Herstel in een nieuwe, lege database, met (minstens) de versie van Stagecoach die de "
                "back-up maakte. / The target cannot be brought to the backup's schema revision."
            )
        if state.has_tracker:
            events = _rasa_events_table()
            events.metadata.create_all(state.tracker or state.app, tables=[events])
        _insert_all(records, state)
        migrate.upgrade(database_url, "head")  # a backup of an older version ends up current
        return state.counts
    finally:
        state.close()


def _insert_all(records: Iterator, state: _Restorer) -> None:
    app_connection = state.app.connect()
    app_tx = app_connection.begin()
    tracker_connection = state.tracker.connect() if state.tracker is not None else None
    tracker_tx = tracker_connection.begin() if tracker_connection is not None else None
    if state.shared:
        tracker_connection = app_connection
    try:
        table = None
        skipping = False
        key = ""
        columns: List[str] = []
        connection = None
        batch: List[dict] = []
        expected: Optional[Dict[str, int]] = None

        def flush():
            if batch:
                connection.execute(table.insert(), batch)
                batch.clear()

        for record in records:
            if isinstance(record, list):
                if skipping:
                    continue
                if table is None or len(record) != len(columns):
                    raise _damaged("rij zonder tabel")
                values = dict(zip(columns, (_decode(v) for v in record)))
                if key == f"tracker.{EVENTS}":
                    values["data"] = crypto.encrypt_text(values.get("data"))
                batch.append(values)
                state.counts[key] += 1
                if len(batch) >= FETCH:
                    flush()
                continue
            kind = record.get("type")
            if kind == "table":
                flush()
                if table is not None:
                    _reset_sequences(connection, table)
                key = f"{record['store']}.{record['name']}"
                state.counts[key] = 0
                skipping = False
                if record["store"] == "app":
                    table = state.app_tables.get(record["name"])
                    connection = app_connection
                    if table is None:
                        raise BackupError(
                            f"tabel {record['name']} uit de back-up bestaat niet in deze versie. / "
                            "Unknown table in the backup."
                        )
                elif record["store"] == "tracker":
                    if tracker_connection is None:
                        table = None  # no tracker store given: its rows are skipped
                        connection = None
                        skipping = True
                        state.counts.pop(key)
                        continue
                    table = _rasa_events_table()
                    connection = tracker_connection
                else:
                    raise _damaged("onbekende opslag")
                unknown = set(record["columns"]) - {c.name for c in table.columns}
                if unknown:
                    raise BackupError(f"onbekende kolommen in {record['name']}: {sorted(unknown)}")
                columns = record["columns"]
            elif kind == "end":
                flush()
                if table is not None:
                    _reset_sequences(connection, table)
                expected = record.get("counts") or {}
        if expected is None:
            raise _damaged("het einde ontbreekt")
        wanted = {k: v for k, v in expected.items() if state.has_tracker or not k.startswith("tracker.")}
        if wanted != state.counts:
            raise _damaged("aantallen rijen kloppen niet")
        app_tx.commit()
        if tracker_tx is not None:
            tracker_tx.commit()
    except BaseException:
        app_tx.rollback()
        if tracker_tx is not None:
            tracker_tx.rollback()
        raise
    finally:
        app_connection.close()
        if tracker_connection is not None:
            tracker_connection.close()
