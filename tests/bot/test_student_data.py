"""Right of access (export) and right to erasure (delete) of one student."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import cli, reflections, safety, tracker_data
from bot.db import session_scope
from bot.models import Goal, Internship, ReadReceipt, Reflection, SafetyReport, SupervisorComment, User
from bot.student_data import UnknownStudent, delete_student_data, export_student_data

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _user(session, external_id):
    return session.execute(select(User).where(User.external_id == external_id)).scalar_one()


def _fill(tracker_store, student, supervisor, word):
    reflection_id = reflections.save_reflection(
        student,
        "2027-W10",
        {"went_well": f"{word} één knip", "difficult": f"{word} moeilijk", "next_goal": f"{word} doel", "mood": 4},
        ["next_goal", "mood"],
    ).id
    with session_scope() as session:
        sup = _user(session, supervisor)
        session.add(SupervisorComment(reflection_id=reflection_id, supervisor_id=sup.id, text=f"{word} reactie"))
        session.add(ReadReceipt(reflection_id=reflection_id, supervisor_id=sup.id, read_at=dt.datetime(2027, 3, 10, 9)))
        _user(session, student).password_hash = "hash"
    safety.create_report(student, student, f"{word} melding", ["intimidatie"])
    tracker_store.save(
        student,
        [("user", f"{word} vraag", NOW - dt.timedelta(minutes=2)), ("bot", f"{word} antwoord", NOW - dt.timedelta(minutes=1))],
    )


@pytest.fixture
def two_students(people, tracker_store):
    _fill(tracker_store, "student-1", "sup-1", "sanne")
    _fill(tracker_store, "student-2", "sup-2", "mo")
    return tracker_store


def test_export_contains_every_piece(two_students):
    data = export_student_data("student-1")
    json.dumps(data)  # serialisable as is
    assert data["profile"]["id"] == "student-1"
    assert data["profile"]["name"] == "Sanne Jansen"
    assert data["profile"]["email"] == "sanne@student.nl"
    assert data["profile"]["has_portal_password"] is True
    assert data["internship"]["company"] == "Kapsalon Knip"
    assert data["internship"]["leerweg"] == "BOL"
    assert data["internship"]["supervisor"] == {"id": "sup-1", "name": "Petra de Vries"}
    [reflection] = data["reflections"]
    assert reflection["week"] == "2027-W10"
    assert reflection["answers"]["went_well"] == "sanne één knip"
    assert reflection["answers"]["difficult"] == "sanne moeilijk"
    assert reflection["answers"]["mood"] == 4
    assert reflection["shared_with_supervisor"] == ["next_goal", "mood"]
    assert [c["text"] for c in reflection["supervisor_comments"]] == ["sanne reactie"]
    assert reflection["supervisor_comments"][0]["supervisor"]["id"] == "sup-1"
    assert reflection["read_by_supervisor"] == [
        {"supervisor": {"id": "sup-1", "name": "Petra de Vries"}, "read_at": "2027-03-10T09:00:00"}
    ]
    assert [g["text"] for g in data["goals"]] == ["sanne doel"]
    assert [r["message"] for r in data["safety_reports"]] == ["sanne melding"]
    assert data["safety_reports"][0]["categories"] == ["intimidatie"]
    assert [(m["from"], m["text"]) for m in data["chat_messages"]] == [
        ("student", "sanne vraag"),
        ("assistant", "sanne antwoord"),
    ]
    assert all(m["time"] for m in data["chat_messages"])


def test_export_contains_only_that_students_data(two_students):
    text = json.dumps(export_student_data("student-1"), ensure_ascii=False)
    for other in ("mo ", "Mo Bakker", "mo@student.nl", "Kinderopvang", "sup-2", "Karim"):
        assert other not in text


def test_export_without_tracker_table(people, tracker_store):
    assert export_student_data("student-1")["chat_messages"] == []


@pytest.mark.parametrize("who", ["nobody", "sup-1", "coord-1"])
def test_unknown_or_staff_ids_are_refused(people, tracker_store, who):
    with pytest.raises(UnknownStudent):
        export_student_data(who)
    with pytest.raises(UnknownStudent):
        delete_student_data(who)


def _student_rows(external_id):
    with session_scope() as session:
        student_id = _user(session, external_id).id
        reflection_ids = [r.id for r in session.execute(select(Reflection).where(Reflection.student_id == student_id)).scalars()]
        return {
            "reflections": len(reflection_ids),
            "goals": len(session.execute(select(Goal.id).where(Goal.student_id == student_id)).all()),
            "comments": len(session.execute(select(SupervisorComment.id).where(SupervisorComment.reflection_id.in_(reflection_ids or [-1]))).all()),
            "receipts": len(session.execute(select(ReadReceipt.id).where(ReadReceipt.reflection_id.in_(reflection_ids or [-1]))).all()),
            "internships": len(session.execute(select(Internship.id).where(Internship.student_id == student_id)).all()),
            "safety_reports": len(session.execute(select(SafetyReport.id).where(SafetyReport.student_id == student_id)).all()),
        }


def test_delete_removes_everything_of_that_student_only(two_students):
    other_before = export_student_data("student-2")
    counts = delete_student_data("student-1")
    assert counts == {
        "supervisor_comments": 1,
        "read_receipts": 1,
        "reflections": 1,
        "goals": 1,
        "internships": 1,
        "safety_reports_kept": 1,
        "chat_events": 2,
    }
    assert _student_rows("student-1") == {
        "reflections": 0, "goals": 0, "comments": 0, "receipts": 0, "internships": 0, "safety_reports": 1,
    }
    assert two_students.rows("student-1") == []
    assert tracker_data.count_sender(two_students.url, "student-1") == 0
    with session_scope() as session:
        user = _user(session, "student-1")
        assert (user.active, user.password_hash, user.name, user.email) == (False, None, "verwijderd", None)
    assert reflections.find_student("student-1") is None

    other_after = export_student_data("student-2")
    other_before.pop("exported_at"), other_after.pop("exported_at")
    assert other_after == other_before
    assert _student_rows("student-2") == {
        "reflections": 1, "goals": 1, "comments": 1, "receipts": 1, "internships": 1, "safety_reports": 1,
    }
    assert len(two_students.rows("student-2")) == 2


def test_delete_is_idempotent(two_students):
    delete_student_data("student-1")
    again = delete_student_data("student-1")
    assert again == {
        "supervisor_comments": 0, "read_receipts": 0, "reflections": 0, "goals": 0,
        "internships": 0, "safety_reports_kept": 1, "chat_events": 0,
    }
    remaining = export_student_data("student-1")
    assert remaining["reflections"] == remaining["goals"] == remaining["chat_messages"] == []
    assert remaining["internship"] is None
    assert remaining["profile"]["name"] == "verwijderd"


# --- CLI ---------------------------------------------------------------------------


def test_cli_export_to_file(two_students, tmp_path, capsys):
    target = tmp_path / "sanne.json"
    assert cli.main(["students", "export", "student-1", "--output", str(target)]) == 0
    raw = target.read_text(encoding="utf-8")
    assert "één" in raw and '\n  "profile"' in raw  # ensure_ascii False, indent 2
    assert json.loads(raw)["profile"]["id"] == "student-1"
    assert "geëxporteerd" in capsys.readouterr().out


def test_cli_export_to_stdout(two_students, capsys):
    assert cli.main(["students", "export", "student-2"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"]["name"] == "Mo Bakker"


def test_cli_delete_refuses_without_yes(two_students, capsys):
    assert cli.main(["students", "delete", "student-1"]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and "niets verwijderd" in err
    assert _student_rows("student-1")["reflections"] == 1
    assert len(two_students.rows("student-1")) == 2


def test_cli_delete_with_yes(two_students, capsys):
    assert cli.main(["students", "delete", "student-1", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "verwijderd" in out and "gedeactiveerd" in out
    assert _student_rows("student-1")["reflections"] == 0
    assert two_students.rows("student-1") == []


@pytest.mark.parametrize("args", [["students", "export", "nobody"], ["students", "delete", "nobody", "--yes"]])
def test_cli_unknown_id_exits_2(people, tracker_store, capsys, args):
    assert cli.main(args) == 2
    assert "Geen student met id 'nobody'" in capsys.readouterr().err


def test_cli_as_a_real_process(two_students, database):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
            encoding="utf-8", timeout=120,
        )

    refused = run("students", "delete", "student-1")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    unknown = run("students", "delete", "nobody", "--yes")
    assert unknown.returncode == 2 and "Geen student" in unknown.stderr
    exported = run("students", "export", "student-1")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["chat_messages"][0]["text"] == "sanne vraag"
    deleted = run("students", "delete", "student-1", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert two_students.rows("student-1") == []
    retention = run("retention", "run")
    assert retention.returncode == 0 and "Bewaartermijnen toegepast" in retention.stdout
