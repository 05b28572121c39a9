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


# --- 0003: encryption of the free-text columns ---------------------------------------

PLAIN_SENTENCE = "Mijn begeleider lachte me uit bij de kassa"


def _insert_plaintext_rows(url):
    engine = build_engine(url)
    try:
        with engine.begin() as connection:
            for statement in (
                "INSERT INTO users (id, external_id, role, name, active, created_at, updated_at) "
                "VALUES (1, 's-1', 'student', 'Sanne', TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00'), "
                "(2, 'b-1', 'supervisor', 'Petra', TRUE, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
                "INSERT INTO reflections (id, student_id, iso_week, went_well, difficult, next_goal, mood, "
                f"shared_fields, created_at, updated_at) VALUES (1, 1, '2026-W10', '{PLAIN_SENTENCE}', NULL, "
                "'Eerder om hulp vragen', 2, 'mood', '2026-03-02 00:00:00', '2026-03-02 00:00:00')",
                "INSERT INTO goals (id, student_id, text, source, iso_week, outcome, created_at) "
                "VALUES (1, 1, 'Eerder om hulp vragen', 'reflection', '2026-W11', 'gelukt bij de kassa', '2026-03-02 00:00:00')",
                "INSERT INTO supervisor_comments (id, reflection_id, supervisor_id, text, created_at) "
                "VALUES (1, 1, 2, 'Sorry, dat was niet aardig van me', '2026-03-03 00:00:00')",
                "INSERT INTO safety_reports (id, student_id, conversation_id, categories, message, details, "
                "status, coordinator_note, created_at, updated_at) VALUES (1, 1, 's-1', 'bullying', "
                "'ik word uitgelachen', 'elke dag bij de kassa', 'new', 'gebeld met de stage', '2026-03-02 00:00:00', '2026-03-02 00:00:00')",
                "INSERT INTO unanswered_questions (id, text, created_at) VALUES (1, 'mag ik mijn rooster ruilen', '2026-03-02 00:00:00')",
            ):
                connection.execute(sa.text(statement))
    finally:
        engine.dispose()


PLAIN_VALUES = {
    ("reflections", "went_well"): PLAIN_SENTENCE,
    ("reflections", "next_goal"): "Eerder om hulp vragen",
    ("goals", "text"): "Eerder om hulp vragen",
    ("goals", "outcome"): "gelukt bij de kassa",
    ("supervisor_comments", "text"): "Sorry, dat was niet aardig van me",
    ("safety_reports", "message"): "ik word uitgelachen",
    ("safety_reports", "details"): "elke dag bij de kassa",
    ("safety_reports", "coordinator_note"): "gebeld met de stage",
    ("unanswered_questions", "text"): "mag ik mijn rooster ruilen",
}


def _raw_value(url, table, column):
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(f"SELECT {column} FROM {table}")).scalar()
    finally:
        engine.dispose()


def check_0003_encrypts_and_decrypts(url, file_bytes=None):
    """Shared with the PostgreSQL variant (tests/bot/test_backup.py)."""
    from bot import crypto, db, reflections, safety

    migrate.upgrade(url, "0002")
    _insert_plaintext_rows(url)
    migrate.upgrade(url)

    for (table, column), plain in PLAIN_VALUES.items():
        stored = _raw_value(url, table, column)
        assert crypto.is_encrypted(stored) and plain not in stored, (table, column, stored)
    assert _raw_value(url, "reflections", "difficult") is None  # NULL stays NULL
    assert _raw_value(url, "reflections", "mood") == 2
    if file_bytes is not None:
        data = file_bytes()
        assert not any(plain.encode() in data for plain in PLAIN_VALUES.values())

    [row] = reflections.recent_reflections("s-1")
    assert (row.went_well, row.next_goal, row.mood) == (PLAIN_SENTENCE, "Eerder om hulp vragen", 2)
    assert reflections.add_goal("s-1", "Eerder om hulp vragen", "x", week="2026-W11") == 1  # == on ciphertext
    [report] = safety.reports_for_coordinators()["reports"]
    assert report.details == "elke dag bij de kassa"
    db.reset_engine()

    migrate.upgrade(url)  # idempotent: nothing is encrypted twice
    assert reflections.recent_reflections("s-1")[0].went_well == PLAIN_SENTENCE
    db.reset_engine()

    migrate.downgrade(url, "0002")
    for (table, column), plain in PLAIN_VALUES.items():
        assert _raw_value(url, table, column) == plain
    migrate.upgrade(url)
    assert crypto.is_encrypted(_raw_value(url, "reflections", "went_well"))


def test_0003_encrypts_existing_plaintext_rows_and_downgrade_decrypts(url, monkeypatch):
    from bot import config, db

    monkeypatch.setenv("DATABASE_URL", url)
    config.reset_settings()
    db.reset_engine()

    def file_bytes():
        from pathlib import Path

        db.reset_engine()
        path = Path(sa.engine.make_url(url).database)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

    try:
        check_0003_encrypts_and_decrypts(url, file_bytes)
    finally:
        db.reset_engine()
        config.reset_settings()
