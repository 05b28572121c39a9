"""The database goes away in the middle of a reflection: nothing is lost."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from bot import config, db, reflections
from bot.stack import prepare_database
from tests.conftest import STUDENTS_CSV
from tests.e2e.test_conversations import REFLECTION_ANSWERS, say_answer

pytestmark = [pytest.mark.stack, pytest.mark.postgres]
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_database(stack, monkeypatch):
    try:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {error}")
    name = f"coach_outage_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    config.reset_settings()
    db.reset_engine()
    prepare_database(url)
    from bot.users import import_csv_bytes

    import_csv_bytes(STUDENTS_CSV.encode())
    original = stack.config.database_url
    stack.stop_process("actions")
    stack.config.database_url = url
    stack.start_actions()
    stack.wait_ready(120, ["actions"])

    def set_available(available: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(available).lower()}'))
            if not available:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})

    yield set_available
    set_available(True)
    stack.stop_process("actions")
    stack.config.database_url = original
    stack.start_actions()
    stack.wait_ready(120, ["actions"])
    db.reset_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_reflection_arrives_after_the_database_comes_back(chat, postgres_database):
    student = "student-2"
    replies = chat.texts(student, "ik wil mijn weekreflectie invullen")
    assert any("Vraag 1 van 6" in r for r in replies), replies
    for answer in REFLECTION_ANSWERS:
        say_answer(chat, student, answer)
    chat.texts(student, "3")
    chat.texts(student, "alles delen")
    postgres_database(False)
    replies = chat.texts(student, "opslaan")
    assert any("niet kwijt" in r for r in replies), replies
    replies = chat.texts(student, "opnieuw proberen")
    assert any("niet kwijt" in r or "niet om bij mijn gegevens" in r for r in replies), replies
    postgres_database(True)
    replies = chat.texts(student, "opnieuw proberen")
    assert any("opgeslagen" in r for r in replies), replies
    db.reset_engine()
    records = reflections.export_records(student=student)
    assert len(records) == 1
    assert records[0]["went_well"] == REFLECTION_ANSWERS[0]
    replies = chat.texts(student, "opnieuw proberen")
    assert any("niets" in r for r in replies), "saved exactly once"
    assert len(reflections.export_records(student=student)) == 1
