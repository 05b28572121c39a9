"""The same flows against the real PostgreSQL server (production's database).

Each test gets its own freshly created database on 127.0.0.1:5432 (user postgres,
trust auth), migrated with Alembic and dropped afterwards.
"""
from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot import config, content, db, migrate, reflections, safety
from bot.content_schema import ContentValidationError
from bot.models import Base, Goal, ReadReceipt, Reflection, SupervisorComment, User
from bot.users import UserImportError, import_csv_bytes

pytestmark = pytest.mark.postgres

HOST, PORT = "127.0.0.1", 5432
ADMIN_URL = f"postgresql://postgres@{HOST}:{PORT}/postgres"
SEED_DIR = Path(__file__).resolve().parents[2] / "data" / "content"

STUDENTS_CSV = (
    "role,external_id,name,email,supervisor_external_id,leerweg,company\n"
    "supervisor,sup-1,Petra de Vries,petra@kapsalon.nl,,,\n"
    "student,student-1,Sanne Jansen,sanne@student.nl,sup-1,BOL,Kapsalon Knip\n"
    "student,student-2,Mo Bakker,mo@student.nl,sup-1,BBL,Kinderopvang Zon\n"
)


def _server_reachable() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_url(monkeypatch):
    if not _server_reachable():
        pytest.skip(f"PostgreSQL is not reachable on {HOST}:{PORT}")
    name = f"stagecoach_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"cannot create a PostgreSQL test database as user postgres: {error.orig}")
    url = f"postgresql://postgres@{HOST}:{PORT}/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    config.reset_settings()
    db.reset_engine()
    try:
        yield url
    finally:
        db.reset_engine()
        config.reset_settings()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg(pg_url):
    migrate.upgrade(pg_url)
    return pg_url


@pytest.fixture
def pg_people(pg):
    import_csv_bytes(STUDENTS_CSV.encode())
    return pg


def table_names(url):
    engine = sa.create_engine(url, future=True)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def count(model):
    with db.session_scope() as session:
        return session.execute(sa.select(sa.func.count()).select_from(model)).scalar()


def seed_documents():
    documents = []
    for path in sorted(SEED_DIR.glob("ask_*.yml")):
        documents.extend(content.load_yaml_documents(path))
    return documents


# --- schema -----------------------------------------------------------------------


def test_migrations_on_postgres(pg_url):
    migrate.upgrade(pg_url)
    assert table_names(pg_url) == set(Base.metadata.tables) | {"alembic_version"}
    assert "events" not in table_names(pg_url)

    engine = sa.create_engine(pg_url, future=True)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()

    migrate.downgrade(pg_url, "base")
    assert table_names(pg_url) <= {"alembic_version"}
    migrate.upgrade(pg_url)
    assert table_names(pg_url) == set(Base.metadata.tables) | {"alembic_version"}


# --- users ------------------------------------------------------------------------


def test_users_import_on_postgres(pg):
    assert import_csv_bytes(STUDENTS_CSV.encode()) == {"created": 3, "updated": 0}
    changed = STUDENTS_CSV.replace("Mo Bakker", "Mohammed Bakker")
    assert import_csv_bytes(changed.encode()) == {"created": 0, "updated": 3}
    assert count(User) == 3
    assert reflections.find_student("student-2").name == "Mohammed Bakker"

    bad = STUDENTS_CSV + "student,student-3,Fleur,,sup-1,BOL," + "b" * 201 + "\n"
    with pytest.raises(UserImportError) as error:
        import_csv_bytes(bad.encode())
    assert "Regel 5" in str(error.value)
    with pytest.raises(UserImportError):
        import_csv_bytes((STUDENTS_CSV + "supervisor,student-1,Sanne,,,,\n").encode())
    assert count(User) == 3
    assert reflections.find_student("student-3") is None


# --- reflections ------------------------------------------------------------------


def test_reflection_save_update_delete_on_postgres(pg_people):
    answers = {
        "went_well": "Klant geholpen",
        "difficult": "Telefoon",
        "feedback": "Meer vragen",
        "initiative": "Vakken bijgevuld",
        "next_goal": "Elke dag één vraag",
        "mood": 4,
    }
    first = reflections.save_reflection("student-1", "2026-W10", answers, ["next_goal", "mood"])
    again = reflections.save_reflection("student-1", "2026-W10", dict(answers, mood=3, next_goal="Op tijd"), ["mood"])
    assert first.created and not again.created and first.id == again.id
    assert count(Reflection) == 1
    [row] = reflections.recent_reflections("student-1")
    assert (row.mood, row.next_goal, row.shared_fields) == (3, "Op tijd", "mood")
    assert reflections.shared_view(row) == {"mood": 3}
    assert [g.text for g in reflections.recent_goals("student-1")] == ["Op tijd"]

    # a coaching goal with the same text in the goal's week must not break saving
    reflections.add_goal("student-1", "Elke dag één vraag", "ask_proactive", week="2026-W11")
    reflections.save_reflection("student-1", "2026-W10", answers, [])
    assert sorted(g.text for g in reflections.recent_goals("student-1")) == ["Elke dag één vraag"]

    second = reflections.save_reflection("student-1", "2026-W11", answers, list(reflections.FIELDS))
    reflections.save_reflection("student-2", "2026-W10", answers, [])
    with db.session_scope() as session:
        sup = session.execute(sa.select(User.id).where(User.external_id == "sup-1")).scalar()
        for reflection_id in (first.id, second.id):
            session.add(SupervisorComment(reflection_id=reflection_id, supervisor_id=sup, text="Top"))
            session.add(ReadReceipt(reflection_id=reflection_id, supervisor_id=sup))

    assert reflections.pending_replies("student-1") == ["Top", "Top"]
    assert reflections.pending_replies("student-1") == []

    assert reflections.delete_reflection("student-1", "2026-W11") is True
    assert count(SupervisorComment) == 1 and count(ReadReceipt) == 1

    assert reflections.delete_all_reflections("student-1") == 1
    assert reflections.recent_reflections("student-1") == []
    assert reflections.recent_goals("student-1") == []
    assert count(SupervisorComment) == 0 and count(ReadReceipt) == 0
    assert count(Reflection) == 1  # student-2's
    assert count(Goal) == 1


def test_goal_follow_up_and_outcome_on_postgres(pg_people):
    old = reflections.add_goal("student-1", "Vraag om feedback", "ask_feedback", week="2026-W08")
    reflections.add_goal("student-1", "Te oud", "ask_feedback", week="2026-W07")
    assert reflections.goal_to_follow_up("student-1", week="2026-W10").id == old
    assert reflections.record_goal_outcome("student-2", old, "gelukt") is False
    assert reflections.record_goal_outcome("student-1", old, "gelukt") is True
    assert reflections.goal_to_follow_up("student-1", week="2026-W10") is None


def test_export_records_on_postgres(pg_people):
    answers = {"went_well": "Privé", "next_goal": "Doel", "mood": 5}
    reflections.save_reflection("student-1", "2026-W10", answers, ["next_goal"])
    [record] = reflections.export_records(student="student-1", week="2026-W10", shared_only=True)
    assert record["next_goal"] == "Doel" and record["went_well"] is None and record["mood"] is None


# --- content ----------------------------------------------------------------------


def test_content_import_publish_rollback_on_postgres(pg, tmp_path):
    documents = seed_documents()
    total = sum(len(doc["entries"]) for _, doc in documents)
    assert content.import_documents(documents, author="seed") == {"published": total, "unchanged": 0}
    assert content.get_advice("ask_expectations", "before", "BBL").leerweg == "BBL"

    path = tmp_path / "export.yml"
    path.write_text(content.dump_yaml(content.export_documents()), encoding="utf-8")
    assert content.import_documents(content.load_yaml_documents(path), author="x") == {
        "published": 0,
        "unchanged": total,
    }

    key = ("ask_mistake", "during", "any")
    old = content.get_advice(*key)
    body = {
        "acknowledge": list(old.acknowledge),
        "tips": list(old.tips),
        "why": old.why,
        "micro_goal": "Nieuw doel op PostgreSQL.",
        "related": list(old.related),
    }
    content.publish(content.save_draft(key, body, author="els"))
    assert content.get_advice(*key).micro_goal == "Nieuw doel op PostgreSQL."
    content.rollback(key, old.version, author="els")
    restored = content.get_advice(*key)
    assert restored.micro_goal == old.micro_goal and restored.version == old.version + 2
    assert [v.status for v in content.history(key)] == ["published", "archived", "archived"]

    bad = tmp_path / "bad.yml"
    bad.write_text("topic: ask_weather\nlabel: Weer\nentries: []\n", encoding="utf-8")
    before = content.dump_yaml(content.export_documents())
    with pytest.raises(ContentValidationError):
        content.import_documents(content.load_yaml_documents(bad), author="x")
    assert content.dump_yaml(content.export_documents()) == before


def test_safety_report_on_postgres(pg_people):
    report_id = safety.create_report("student-1", "conv-1", "Ik word gepest", ["bullying"])
    assert safety.add_details(report_id, "conv-2", "ander gesprek") is False
    assert safety.add_details(report_id, "conv-1", "elke dag") is True
    [report] = safety.reports_for_coordinators("new")["reports"]
    assert (report.id, report.details, report.categories) == (report_id, "elke dag", "bullying")
