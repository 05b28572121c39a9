"""Engine set-up: pooled SQLite connections keep their PRAGMAs."""
from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from bot.db import build_engine


def test_file_sqlite_reuses_connections_with_foreign_keys_on(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        assert isinstance(engine.pool, QueuePool)
        seen = set()
        for _ in range(3):
            with engine.connect() as connection:
                seen.add(id(connection.connection.dbapi_connection))
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
                assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert len(seen) == 1  # one connection, reused
    finally:
        engine.dispose()


def test_memory_sqlite_keeps_sqlalchemys_own_pool():
    engine = build_engine("sqlite://")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
