"""The bench's databases: fresh every run, SQLite or PostgreSQL."""
from __future__ import annotations

import socket
import uuid

import pytest
import sqlalchemy as sa

from scripts.bench.database import POSTGRES_ADMIN_URL, fresh_databases, fresh_postgres


def test_sqlite_files_are_fresh_every_run(tmp_path):
    (tmp_path / "coach.db").write_text("old run")
    (tmp_path / "tracker.db-wal").write_text("old run")
    databases = fresh_databases(tmp_path, "sqlite")
    assert databases.kind == "sqlite"
    assert databases.url == f"sqlite:///{tmp_path / 'coach.db'}"
    assert databases.tracker_url == f"sqlite:///{tmp_path / 'tracker.db'}"
    assert not (tmp_path / "coach.db").exists() and not (tmp_path / "tracker.db-wal").exists()


def test_postgres_databases_are_created_empty_and_recreated():
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    names = tuple(f"bench_test_{uuid.uuid4().hex[:8]}_{part}" for part in ("app", "tracker"))
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        databases = fresh_postgres(POSTGRES_ADMIN_URL, names)
        assert databases.kind == "postgres" and databases.url.endswith(names[0]) and databases.tracker_url.endswith(names[1])
        app = sa.create_engine(databases.url, future=True)
        with app.begin() as conn:
            conn.execute(sa.text("CREATE TABLE leftover (id int)"))
        app.dispose()
        again = fresh_postgres(POSTGRES_ADMIN_URL, names)  # a second run starts empty
        app = sa.create_engine(again.url, future=True)
        assert sa.inspect(app).get_table_names() == []
        app.dispose()
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
