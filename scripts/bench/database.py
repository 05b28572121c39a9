"""The bench's own databases: fresh SQLite files (default) or fresh PostgreSQL
databases on a local server (`BENCH_DATABASE=postgres`), for the application data
and for Rasa's tracker store alike, so both set-ups of README "Scaling" are measured."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SQLITE_FILES = ("coach.db", "tracker.db", "baseline-tracker.db")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_NAMES = ("stagecoach_bench", "stagecoach_bench_tracker")


@dataclass(frozen=True)
class BenchDatabases:
    kind: str
    url: str
    tracker_url: str


def fresh_sqlite(bench_dir: Path) -> BenchDatabases:
    for name in SQLITE_FILES:
        for suffix in ("", "-journal", "-wal", "-shm"):
            (bench_dir / (name + suffix)).unlink(missing_ok=True)
    return BenchDatabases("sqlite", f"sqlite:///{bench_dir / 'coach.db'}", f"sqlite:///{bench_dir / 'tracker.db'}")


def fresh_postgres(admin_url: str, names=POSTGRES_NAMES) -> BenchDatabases:
    """Drops and creates the two bench databases; fails with a clear message when
    the server cannot be reached."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        raise SystemExit(f"BENCH_DATABASE=postgres, but PostgreSQL at {admin_url} is not usable: {error.orig}")
    finally:
        admin.dispose()
    base = make_url(admin_url)
    url, tracker = (base.set(database=name).render_as_string(hide_password=False) for name in names)
    return BenchDatabases("postgres", url, tracker)


def fresh_databases(bench_dir: Path, kind: str) -> BenchDatabases:
    if kind == "postgres":
        return fresh_postgres(os.environ.get("BENCH_POSTGRES_ADMIN_URL") or POSTGRES_ADMIN_URL)
    return fresh_sqlite(bench_dir)
