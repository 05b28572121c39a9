"""Alembic migrations: upgrade, downgrade, and agreement with the models."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot import migrate
from bot.db import build_engine
from bot.models import Base

MODEL_TABLES = set(Base.metadata.tables)


def include_object(obj, name, type_, reflected, compare_to):
    """As in bot/migrations/env.py (importing env.py would run the migrations)."""
    return not (type_ == "table" and name == "events")


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'nested' / 'migrate.db'}"


def tables(url):
    engine = build_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def current_revision(url):
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def differences(url):
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def head():
    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


def test_models_never_use_the_tracker_store_table():
    assert "events" not in MODEL_TABLES
    assert {"users", "reflections", "goals", "content_versions", "safety_reports"} <= MODEL_TABLES


def test_one_linear_history_with_a_single_head():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None


def test_upgrade_from_empty_creates_every_table_and_no_events(url):
    assert tables(url) == set()
    migrate.upgrade(url)
    created = tables(url)
    assert created == MODEL_TABLES | {"alembic_version"}
    assert "events" not in created
    assert current_revision(url) == head()


def test_upgrade_is_idempotent(url):
    migrate.upgrade(url)
    migrate.upgrade(url)
    assert current_revision(url) == head()


def test_models_match_the_migrations(url):
    migrate.upgrade(url)
    assert differences(url) == []


def test_downgrade_to_base_and_upgrade_again(url):
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert tables(url) <= {"alembic_version"}
    assert current_revision(url) is None

    migrate.upgrade(url)
    assert tables(url) == MODEL_TABLES | {"alembic_version"}
    assert differences(url) == []
    engine = build_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (external_id, role, name, active, created_at, updated_at) "
                    "VALUES ('s-1', 'student', 'Sanne', 1, '2026-01-01', '2026-01-01')"
                )
            )
            with pytest.raises(sa.exc.IntegrityError):
                with connection.begin_nested():
                    connection.execute(
                        sa.text(
                            "INSERT INTO users (external_id, role, name, active, created_at, updated_at) "
                            "VALUES ('x-1', 'admin', 'X', 1, '2026-01-01', '2026-01-01')"
                        )
                    )
    finally:
        engine.dispose()


def test_migrations_leave_rasas_events_table_alone(url):
    engine = build_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT)"))
            connection.execute(sa.text("INSERT INTO events (sender_id) VALUES ('student-1')"))
    finally:
        engine.dispose()

    migrate.upgrade(url)
    assert differences(url) == []  # the foreign table is not reported as "to be dropped"
    migrate.downgrade(url, "base")
    migrate.upgrade(url)

    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT sender_id FROM events")).scalars().all() == ["student-1"]
    finally:
        engine.dispose()


def test_sqlite_foreign_keys_are_enforced(url):
    migrate.upgrade(url)
    engine = build_engine(url)
    try:
        with pytest.raises(sa.exc.IntegrityError):
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO goals (student_id, text, source, iso_week, created_at) "
                        "VALUES (999, 'x', 'reflection', '2026-W10', '2026-01-01')"
                    )
                )
    finally:
        engine.dispose()
