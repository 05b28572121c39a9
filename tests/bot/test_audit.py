"""bot.audit: what a row may hold, reading it back (per student, filtered, paged),
minimising rows after erasure, pruning; the CLI's records; migration 0002."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import select

from bot import audit, cli, migrate, reflections
from bot.db import build_engine, session_scope
from bot.models import AuditEvent, User
from bot.student_data import delete_student_data, export_student_data

T0 = dt.datetime(2027, 3, 1, 9, 0)


def _id(external_id):
    with session_scope() as db:
        return db.execute(select(User.id).where(User.external_id == external_id)).scalar_one()


def _rows():
    with session_scope() as db:
        return db.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


@pytest.fixture
def ids(people):
    return {name: _id(name) for name in ("student-1", "student-2", "sup-1", "sup-2", "coord-1")}


def _actor(ids, who, role="supervisor"):
    return audit.Actor(ids[who], role, who)


def _read(ids, student, supervisor, hours, weeks=("2027-W09",)):
    audit.record(
        "reflection.read",
        _actor(ids, supervisor),
        student_user_id=ids[student],
        at=T0 + dt.timedelta(hours=hours),
        detail=audit.reflections_detail((number, week) for number, week in enumerate(weeks, start=1)),
    )


# --- writing --------------------------------------------------------------------------


def test_record_stores_who_what_when_and_ids_only(ids):
    _read(ids, "student-1", "sup-1", 0, weeks=("2027-W08", "2027-W09"))
    [row] = _rows()
    assert (row.actor_user_id, row.actor_label, row.actor_role) == (ids["sup-1"], "sup-1", "supervisor")
    assert (row.action, row.student_user_id, row.at) == ("reflection.read", ids["student-1"], T0)
    assert json.loads(row.detail) == {"reflections": [{"id": 1, "week": "2027-W08"}, {"id": 2, "week": "2027-W09"}]}


@pytest.mark.parametrize(
    "action,detail",
    [
        ("reflection.opened", None),  # unknown action
        ("reflection.read", {"text": "Ik vond het moeilijk"}),  # content: refused
        ("reflection.read", {"went_well": "x"}),
        ("reflection.read", {"reflections": [{"id": 1, "week": "Ik vond het moeilijk"}]}),
        ("student.export", {"request_date": "gisteren"}),
    ],
)
def test_record_refuses_unknown_actions_and_content(ids, action, detail):
    with pytest.raises(ValueError):
        audit.record(action, _actor(ids, "sup-1"), student_user_id=ids["student-1"], detail=detail)
    assert _rows() == []


def test_unknown_actor_role_is_refused(ids):
    with pytest.raises(ValueError):
        audit.record("student.export", audit.Actor(None, "admin", "x"), student_user_id=ids["student-1"])


def test_reason_is_one_short_line(ids):
    audit.record(
        "student.delete",
        _actor(ids, "coord-1", "coordinator"),
        student_user_id=ids["student-1"],
        detail={"request_date": dt.date(2027, 3, 1), "reason": "per\n mail  " + "x" * 300},
    )
    detail = json.loads(_rows()[0].detail)
    assert detail["request_date"] == "2027-03-01"
    assert detail["reason"].startswith("per mail x") and len(detail["reason"]) == audit.MAX_REASON


def test_cli_actor_has_no_user(ids):
    actor = audit.Actor.cli()
    assert actor.user_id is None and actor.role == "operator" and actor.label.startswith("cli")


def test_student_by_external_id(ids):
    audit.record("student.export", audit.Actor.cli(), student_external_id="student-2")
    assert _rows()[0].student_user_id == ids["student-2"]


# --- reading --------------------------------------------------------------------------


def test_list_for_student_is_newest_first_and_only_theirs(ids):
    _read(ids, "student-1", "sup-1", 0)
    _read(ids, "student-2", "sup-2", 1)
    _read(ids, "student-1", "sup-1", 2, weeks=("2027-W10",))
    audit.record("safety_report.read", _actor(ids, "coord-1", "coordinator"), student_user_id=ids["student-1"],
                 detail={"report_id": 7}, at=T0 + dt.timedelta(hours=3))
    entries = audit.list_for_student(ids["student-1"])
    assert [e.at for e in entries] == [T0 + dt.timedelta(hours=2), T0]  # safety report reads are not shown
    assert [e.weeks for e in entries] == [["2027-W10"], ["2027-W09"]]
    assert {e.actor_name for e in entries} == {"Petra de Vries"}
    assert entries[0].actor_role_label == "praktijkbegeleider"
    everything = audit.list_for_student(ids["student-1"], actions=None)
    assert [e.action for e in everything][0] == "safety_report.read"


def test_list_all_filters_and_pages(ids):
    for hour in range(7):
        _read(ids, "student-1" if hour % 2 else "student-2", "sup-1", hour)
    audit.record("student.export", audit.Actor.cli(), student_user_id=ids["student-1"], at=T0 + dt.timedelta(hours=9))

    page = audit.list_all(per_page=3)
    assert (page.total, page.pages, page.page) == (8, 3, 1)
    assert [e.at.hour for e in page.entries] == [18, 15, 14]  # 9:00 + 9h, + 6h, + 5h
    assert page.entries[0].actor_name.startswith("cli") and page.entries[0].actor_role_label == "beheerder op de server"
    last = audit.list_all(per_page=3, page=3)
    assert [e.at.hour for e in last.entries] == [10, 9]
    assert audit.list_all(per_page=3, page=50).page == 3
    assert audit.list_all(per_page=3, page=-1).page == 1

    sanne = audit.list_all(student_user_id=ids["student-1"])
    assert sanne.total == 4 and {e.student_external_id for e in sanne.entries} == {"student-1"}
    exports = audit.list_all(action="student.export")
    assert [e.action for e in exports.entries] == ["student.export"]
    assert audit.list_all(student_user_id=ids["student-2"], action="student.export").total == 0


# --- erasure and retention ---------------------------------------------------------------


def test_erasure_keeps_rows_but_drops_the_weeks(ids, tracker_store):
    reflections.save_reflection("student-1", "2027-W09", {"went_well": "x"}, ["went_well"])
    _read(ids, "student-1", "sup-1", 0, weeks=("2027-W08", "2027-W09"))
    _read(ids, "student-2", "sup-2", 1)
    audit.record("safety_report.read", _actor(ids, "coord-1", "coordinator"), student_user_id=ids["student-1"],
                 detail={"report_id": 3}, at=T0 + dt.timedelta(hours=2))
    assert export_student_data("student-1")["access_log"][-1]["weeks"] == ["2027-W08", "2027-W09"]

    delete_student_data("student-1")
    sanne_read, mo_read, report_read = _rows()
    assert json.loads(sanne_read.detail) == {"count": 2}
    assert sanne_read.actor_user_id == ids["sup-1"] and sanne_read.student_user_id == ids["student-1"]
    assert json.loads(mo_read.detail) == {"reflections": [{"id": 1, "week": "2027-W09"}]}  # another student
    assert json.loads(report_read.detail) == {"report_id": 3}
    [entry] = audit.list_for_student(ids["student-1"])
    assert entry.weeks == [] and entry.reflection_count == 2


def test_export_lists_who_accessed_the_data(ids, tracker_store):
    _read(ids, "student-1", "sup-1", 0)
    _read(ids, "student-2", "sup-2", 1)
    [row] = export_student_data("student-1")["access_log"]
    assert row == {
        "at": T0.isoformat(),
        "action": "reflection.read",
        "by": {"name": "Petra de Vries", "role": "supervisor"},
        "weeks": ["2027-W09"],
    }


def test_prune_deletes_only_older_rows(ids):
    _read(ids, "student-1", "sup-1", 0)
    _read(ids, "student-1", "sup-1", 2)
    with session_scope() as db:
        assert audit.prune(db, T0 + dt.timedelta(hours=1)) == 1
    assert [r.at for r in _rows()] == [T0 + dt.timedelta(hours=2)]


# --- the CLI -------------------------------------------------------------------------------


def test_cli_export_and_delete_are_recorded_as_operator(ids, tracker_store, tmp_path):
    assert cli.main(["students", "export", "student-1", "--output", str(tmp_path / "s.json")]) == 0
    assert cli.main(["students", "delete", "student-1", "--yes"]) == 0
    export, delete = _rows()
    for row, action in ((export, "student.export"), (delete, "student.delete")):
        assert row.action == action
        assert row.actor_user_id is None and row.actor_role == "operator" and row.actor_label.startswith("cli")
        assert row.student_user_id == ids["student-1"]


def test_cli_records_nothing_when_refused(ids, tracker_store):
    assert cli.main(["students", "delete", "student-1"]) == 2  # no --yes
    assert cli.main(["students", "export", "nobody"]) == 2
    assert _rows() == []


# --- migration 0002 --------------------------------------------------------------------------


def test_migration_0002_creates_and_drops_the_table(tmp_path):
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    revision = script.get_revision("0002")
    assert revision.down_revision == "0001"
    url = f"sqlite:///{tmp_path / 'm.db'}"

    def tables():
        engine = build_engine(url)
        try:
            return set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()

    migrate.upgrade(url, "0001")
    assert "audit_events" not in tables()
    migrate.upgrade(url, "0002")
    assert "audit_events" in tables()
    engine = build_engine(url)
    try:
        indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("audit_events")}
        assert {"ix_audit_events_at", "ix_audit_events_student_user_id"} <= indexes
    finally:
        engine.dispose()
    migrate.downgrade(url, "0001")
    assert "audit_events" not in tables() and "users" in tables()


# --- PostgreSQL (production's database) ------------------------------------------------------

PG_HOST, PG_PORT = "127.0.0.1", 5432


@pytest.fixture
def pg_people(monkeypatch, tmp_path):
    """A fresh, migrated PostgreSQL database with the test people; skipped when absent."""
    import socket
    import uuid

    from bot import config, db
    from bot.users import import_csv_bytes
    from tests.conftest import STUDENTS_CSV

    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=1).close()
    except OSError:
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    name = f"stagecoach_audit_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"cannot create a PostgreSQL test database as user postgres: {error.orig}")
    url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    config.reset_settings()
    db.reset_engine()
    try:
        migrate.upgrade(url)
        import_csv_bytes(STUDENTS_CSV.encode())
        yield url
    finally:
        db.reset_engine()
        config.reset_settings()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_audit_on_postgresql(pg_people):
    ids = {name: _id(name) for name in ("student-1", "student-2", "sup-1", "sup-2", "coord-1")}
    for hour in range(5):
        _read(ids, "student-1", "sup-1", hour, weeks=("2027-W08", "2027-W09"))
    _read(ids, "student-2", "sup-2", 9)
    page = audit.list_all(student_user_id=ids["student-1"], per_page=2, page=2)
    assert (page.total, page.pages, [e.at.hour for e in page.entries]) == (5, 3, [11, 10])
    assert audit.list_for_student(ids["student-1"])[0].weeks == ["2027-W08", "2027-W09"]
    delete_student_data("student-1")
    assert {e.reflection_count for e in audit.list_for_student(ids["student-1"])} == {2}
    assert all(e.weeks == [] for e in audit.list_for_student(ids["student-1"]))
    assert audit.list_for_student(ids["student-2"])[0].weeks == ["2027-W09"]
    with session_scope() as db:
        assert audit.prune(db, T0 + dt.timedelta(hours=3)) == 3
    assert audit.list_all().total == 3
