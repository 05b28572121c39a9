"""Data-key operations: check and rotate (`python -m bot keys check|rotate`).

Rotation: put a new key first in DATA_ENCRYPTION_KEYS (keep the old ones after
it), restart the services, run `python -m bot keys rotate`, then remove the old
keys. `rotate` re-encrypts every encrypted column of the application database
(found from the models) and Rasa's `events.data` with the first key, and
encrypts legacy plaintext it finds. It works in batches, each its own
transaction, and only touches values that are not yet under the first key, so it
can be stopped and run again at any time; a second run changes nothing. A row
changed by the application while rotation runs is left to the application (the
update only applies when the value is still the one that was read).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot import crypto
from bot.db import build_engine
from bot.tracker_data import TABLE as EVENTS_TABLE, TrackerStoreError

BATCH = 500


@dataclass
class ColumnReport:
    table: str
    column: str
    values: int = 0
    states: Dict[str, int] = field(default_factory=dict)
    rewritten: int = 0
    conflicts: int = 0  # deterministic values whose re-encryption hit a unique constraint

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def unreadable(self) -> int:
        return self.states.get(crypto.UNREADABLE, 0)


def _app_columns() -> List[Tuple[str, str, str, bool]]:
    """(table, primary key, column, deterministic) of the app's encrypted columns."""
    from bot.models import Base

    result = []
    for table_name, column, deterministic in crypto.encrypted_columns(Base.metadata):
        table = Base.metadata.tables[table_name]
        [pk] = list(table.primary_key.columns)
        result.append((table_name, pk.name, column, deterministic))
    return result


def _walk(
    engine: sa.engine.Engine,
    table_name: str,
    pk: str,
    column: str,
    deterministic: bool,
    write: bool,
    batch: int,
    progress: Optional[Callable[[str], None]] = None,
) -> ColumnReport:
    keyring = crypto.keyring()
    table = sa.table(table_name, sa.column(pk, sa.Integer), sa.column(column, sa.Text))
    key, value_column = table.c[pk], table.c[column]
    report = ColumnReport(table_name, column)
    last = None
    while True:
        with engine.begin() as connection:
            if write and connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA secure_delete = ON")  # old ciphertext is zeroed
            query = sa.select(key, value_column).where(value_column.is_not(None)).order_by(key).limit(batch)
            if last is not None:
                query = query.where(key > last)
            rows = connection.execute(query).all()
            for row_key, value in rows:
                state = keyring.state(value)
                report.values += 1
                report.states[state] = report.states.get(state, 0) + 1
                if not write or state in (crypto.PRIMARY, crypto.UNREADABLE):
                    continue
                new_value = keyring.reencrypt(value, deterministic)
                update = table.update().where(key == row_key, value_column == value).values({column: new_value})
                if deterministic:
                    try:
                        with connection.begin_nested():
                            report.rewritten += connection.execute(update).rowcount
                    except IntegrityError:
                        report.conflicts += 1
                else:
                    report.rewritten += connection.execute(update).rowcount
        if not rows:
            break
        last = rows[-1][0]
        if progress and write:
            progress(f"{report.label}: {report.values} gecontroleerd, {report.rewritten} opnieuw versleuteld")
    return report


def _run(database_url: str, tracker_store_url: Optional[str], write: bool, batch: int, progress=None):
    reports: List[ColumnReport] = []
    engine = build_engine(database_url)
    try:
        for table_name, pk, column, deterministic in _app_columns():
            reports.append(_walk(engine, table_name, pk, column, deterministic, write, batch, progress))
    finally:
        engine.dispose()
    if tracker_store_url:
        tracker = build_engine(tracker_store_url)
        try:
            if sa.inspect(tracker).has_table(EVENTS_TABLE):
                reports.append(_walk(tracker, EVENTS_TABLE, "id", "data", False, write, batch, progress))
        except SQLAlchemyError as error:
            if isinstance(error, crypto.DecryptionError):
                raise
            raise TrackerStoreError(f"{error.__class__.__name__}: {getattr(error, 'orig', error)}") from error
        finally:
            tracker.dispose()
    return reports


def check(database_url: str, tracker_store_url: Optional[str] = None, batch: int = BATCH) -> List[ColumnReport]:
    """Counts, per encrypted column, values under the first key, an older key, in
    plaintext, or readable with no configured key. Changes nothing."""
    return _run(database_url, tracker_store_url, write=False, batch=batch)


def rotate(
    database_url: str, tracker_store_url: Optional[str] = None, batch: int = BATCH, progress=None
) -> List[ColumnReport]:
    """Re-encrypts every value that is not yet under the first key (see module doc)."""
    return _run(database_url, tracker_store_url, write=True, batch=batch, progress=progress)
