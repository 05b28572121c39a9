"""A student's rights in the portal: download everything, delete everything; and the
same on request through a coordinator. Deletion runs against a real SQLite tracker
store written by Rasa's own SQLTrackerStore (tests/bot/conftest.py)."""
from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from bot import config, reflections, safety, tracker_data
from bot.db import session_scope
from bot.models import AuditEvent, Goal, Reflection, SafetyReport, User
from bot.portal.app import create_app
from bot.weeks import iso_week
from tests.bot.conftest import TrackerStoreFile
from tests.portal.helpers import PASSWORD, TEST_CONFIG, csrf_from, login

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
PAST_DATE = "2026-01-05"


def _count(model, **where):
    with session_scope() as db:
        statement = select(func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return db.execute(statement).scalar_one()


def _user_id(external_id):
    with session_scope() as db:
        return db.execute(select(User.id).where(User.external_id == external_id)).scalar_one()


def _audit_rows(action=None):
    with session_scope() as db:
        statement = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            statement = statement.where(AuditEvent.action == action)
        return db.execute(statement).scalars().all()


@pytest.fixture
def rasa_store(app, tmp_path, monkeypatch):
    """Both students' conversations in a tracker store made by Rasa itself."""
    store = TrackerStoreFile(f"sqlite:///{tmp_path / 'rasa-tracker.db'}")
    monkeypatch.setenv("TRACKER_STORE_URL", store.url)
    config.reset_settings()
    store.save("student-1", [("user", "sanne vraagt iets", NOW), ("bot", "antwoord voor sanne", NOW)])
    store.save("student-2", [("user", "mo vraagt iets", NOW), ("bot", "antwoord voor mo", NOW)])
    return store


@pytest.fixture
def filled(app):
    week = iso_week()
    reflections.save_reflection(
        "student-1", week, {"went_well": "Sanne knipte zelf", "difficult": "Sanne privé lastig", "mood": 4}, ["went_well"]
    )
    reflections.save_reflection(
        "student-2", week, {"went_well": "Mo las voor", "difficult": "Mo privé lastig", "mood": 2}, ["went_well"]
    )
    reflections.add_goal("student-1", "Sanne vraagt elke dag feedback", "ask_feedback")
    reflections.add_goal("student-2", "Mo komt op tijd", "ask_reliability")
    report = safety.create_report("student-1", "student-1", "Sanne meldt iets onveiligs", ["bullying"])
    return {"week": week, "report": report}


# --- the student's download ----------------------------------------------------------


def test_student_download_is_readable_json_with_own_data_only(portal_client, filled, rasa_store):
    response = portal_client("student-1").post("/student/data/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    raw = response.get_data().decode("utf-8")  # UTF-8
    assert "\n  \"uitleg\"" in raw and "privé" in raw  # indented, not \u-escaped
    data = json.loads(raw)
    assert "gegevens" in data["uitleg"]["over_dit_bestand"]
    assert data["uitleg"]["antwoorden"]["went_well"] == "Wat ging goed"
    assert data["profile"]["id"] == "student-1"
    [reflection] = data["reflections"]
    assert reflection["answers"]["went_well"] == "Sanne knipte zelf"
    assert reflection["answers"]["difficult"] == "Sanne privé lastig"  # own private answer too
    assert [g["text"] for g in data["goals"]] == ["Sanne vraagt elke dag feedback"]
    assert [m["text"] for m in data["chat_messages"]] == ["sanne vraagt iets", "antwoord voor sanne"]
    for other in ("Mo ", "Mo Bakker", "mo@student.nl", "mo vraagt", "Kinderopvang", "Karim"):
        assert other not in raw


def test_student_download_is_recorded(portal_client, filled, rasa_store):
    portal_client("student-1").post("/student/data/export")
    [row] = _audit_rows("student.export")
    assert (row.actor_user_id, row.actor_role, row.student_user_id) == (
        _user_id("student-1"), "student", _user_id("student-1"),
    )


def test_download_needs_post(portal_client, filled):
    assert portal_client("student-1").get("/student/data/export").status_code == 405
    assert _audit_rows() == []


def test_data_page_offers_download_and_delete(portal_client, filled):
    page = portal_client("student-1").get("/student/data").get_data(as_text=True)
    assert 'action="/student/data/export"' in page and "Download al mijn gegevens" in page
    assert 'href="/student/data/delete"' in page and "Verwijder mijn gegevens" in page


# --- the student's deletion ------------------------------------------------------------


def test_confirmation_page_says_what_goes_and_what_stays(portal_client, filled):
    page = portal_client("student-1").get("/student/data/delete").get_data(as_text=True)
    assert "Dit gaat weg" in page and "Dit blijft bewaard" in page
    assert "Meldingen over een onveilige situatie" in page and "zorgplicht" in page
    assert "Je weekreflecties (1)" in page and "Je doelen (1)" in page
    assert "VERWIJDER" in page and 'type="password"' in page
    assert _count(Reflection) == 2  # looking is not deleting


@pytest.mark.parametrize(
    "form",
    [
        {"confirm": "", "password": PASSWORD},
        {"confirm": "ja", "password": PASSWORD},
        {"confirm": "VERWIJDER", "password": "fout-wachtwoord"},
        {"confirm": "VERWIJDER"},
    ],
    ids=["no word", "wrong word", "wrong password", "no password"],
)
def test_deletion_needs_the_word_and_the_password(portal_client, filled, rasa_store, form):
    client = portal_client("student-1")
    response = client.post("/student/data/delete", data=form)
    assert response.status_code == 400
    assert "Er is niets verwijderd" in response.get_data(as_text=True)
    assert _count(Reflection, student_id=_user_id("student-1")) == 1
    assert len(rasa_store.rows("student-1")) == 2
    assert client.get("/student/data").status_code == 200  # still logged in
    assert _audit_rows("student.delete") == []


def test_wrong_passwords_on_the_delete_form_are_throttled(portal_client, filled):
    client = portal_client("student-1")
    for _ in range(5):
        assert client.post("/student/data/delete", data={"confirm": "VERWIJDER", "password": "fout"}).status_code == 400
    blocked = client.post("/student/data/delete", data={"confirm": "VERWIJDER", "password": PASSWORD})
    assert blocked.status_code == 429
    assert _count(Reflection, student_id=_user_id("student-1")) == 1


def test_student_deletes_own_data(portal_client, filled, rasa_store):
    client = portal_client("student-1")
    student_id = _user_id("student-1")
    response = client.post("/student/data/delete", data={"confirm": " verwijder ", "password": PASSWORD})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Je gegevens zijn verwijderd" in page and "uitgelogd" in page
    assert "Uitloggen" not in page  # the page is already shown as logged out

    assert _count(Reflection, student_id=student_id) == 0
    assert _count(Goal, student_id=student_id) == 0
    assert rasa_store.rows("student-1") == []
    assert tracker_data.count_sender(rasa_store.url, "student-1") == 0
    assert _count(SafetyReport, student_id=student_id) == 1  # duty of care
    with session_scope() as db:
        user = db.get(User, student_id)
        assert (user.active, user.password_hash, user.name, user.email) == (False, None, "verwijderd", None)

    # the other student is untouched
    assert _count(Reflection, student_id=_user_id("student-2")) == 1
    assert _count(Goal, student_id=_user_id("student-2")) == 1
    assert len(rasa_store.rows("student-2")) == 2

    # logged out, and no way back in
    after = client.get("/student/data")
    assert after.status_code == 302 and urlsplit(after.headers["Location"]).path == "/login"
    fresh = portal_client(None)
    refused = login(fresh, "student-1")
    assert refused.status_code == 200 and "Dat klopt niet" in refused.get_data(as_text=True)
    assert fresh.get("/student/data").status_code == 302

    [row] = _audit_rows("student.delete")
    assert (row.actor_user_id, row.actor_role, row.student_user_id) == (student_id, "student", student_id)
    assert json.loads(row.detail) == {"complete": True}


def test_csrf_is_required_for_download_and_deletion(database, people, tracker_store, filled_csrf):
    app, client, token = filled_csrf
    assert client.post("/student/data/export").status_code == 400
    assert client.post("/student/data/delete", data={"confirm": "VERWIJDER", "password": PASSWORD}).status_code == 400
    assert _count(Reflection) == 1 and _audit_rows() == []
    assert client.get("/student/data").status_code == 200  # still there, still logged in

    assert client.post("/student/data/export", data={"csrf_token": token}).status_code == 200
    done = client.post("/student/data/delete", data={"confirm": "VERWIJDER", "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 200
    assert _count(Reflection) == 0


@pytest.fixture
def filled_csrf(database, people, tracker_store):
    from tests.portal.helpers import set_passwords

    set_passwords()
    reflections.save_reflection("student-1", iso_week(), {"went_well": "x"}, ["went_well"])
    app = create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"login": "student-1", "password": PASSWORD, "csrf_token": token}).status_code == 302
    token = csrf_from(client.get("/student/data").get_data(as_text=True))
    return app, client, token


# --- on request, through a coordinator ------------------------------------------------


def test_coordinator_page_for_a_student(portal_client, filled):
    page = portal_client("coord-1").get("/coordinator/students/student-1").get_data(as_text=True)
    assert "Sanne Jansen (student-1)" in page
    assert "Download alle gegevens" in page and "Verwijder de gegevens" in page
    assert "Sanne knipte zelf" not in page  # counts only, never the answers
    users = portal_client("coord-1").get("/coordinator/users").get_data(as_text=True)
    assert 'href="/coordinator/students/student-1"' in users


@pytest.mark.parametrize("who", ["sup-1", "nobody", "coord-1"])
def test_coordinator_student_pages_only_for_students(portal_client, filled, who):
    client = portal_client("coord-1")
    assert client.get(f"/coordinator/students/{who}").status_code == 404
    assert client.post(f"/coordinator/students/{who}/export", data={"request_date": PAST_DATE}).status_code == 404


def test_coordinator_export_records_request_date_and_reason(portal_client, filled, rasa_store):
    response = portal_client("coord-1").post(
        "/coordinator/students/student-1/export", data={"request_date": PAST_DATE, "reason": "Verzoek per  e-mail"}
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert 'filename="gegevens-student-1-2026-01-05.json"' in response.headers["Content-Disposition"]
    data = json.loads(response.get_data().decode("utf-8"))
    assert data["profile"]["id"] == "student-1"
    assert "Mo Bakker" not in response.get_data().decode("utf-8")
    [row] = _audit_rows("student.export")
    assert (row.actor_user_id, row.actor_role, row.student_user_id) == (
        _user_id("coord-1"), "coordinator", _user_id("student-1"),
    )
    assert json.loads(row.detail) == {"request_date": PAST_DATE, "reason": "Verzoek per e-mail"}


@pytest.mark.parametrize(
    "form,error",
    [
        ({}, "datum van het verzoek"),
        ({"request_date": "gisteren"}, "datum van het verzoek"),
        ({"request_date": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, "toekomst"),
        ({"request_date": PAST_DATE, "reason": "x" * 201}, "Maximaal 200"),
    ],
)
def test_coordinator_export_needs_a_request_date(portal_client, filled, form, error):
    response = portal_client("coord-1").post("/coordinator/students/student-1/export", data=form)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert _audit_rows() == []


def test_coordinator_delete_needs_the_student_number(portal_client, filled, rasa_store):
    client = portal_client("coord-1")
    for confirm in ("", "student-2", "ja"):
        response = client.post(
            "/coordinator/students/student-1/delete", data={"request_date": PAST_DATE, "confirm": confirm}
        )
        assert response.status_code == 400
        assert "Typ het nummer van de student" in response.get_data(as_text=True)
    assert _count(Reflection, student_id=_user_id("student-1")) == 1
    assert len(rasa_store.rows("student-1")) == 2
    assert _audit_rows("student.delete") == []


def test_coordinator_deletes_on_request(portal_client, filled, rasa_store):
    student_id = _user_id("student-1")
    client = portal_client("coord-1")
    response = client.post(
        "/coordinator/students/student-1/delete",
        data={"request_date": PAST_DATE, "reason": "Student vroeg het", "confirm": "student-1"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "zijn verwijderd" in page and "gesloten" in page
    assert _count(Reflection, student_id=student_id) == 0
    assert _count(Goal, student_id=student_id) == 0
    assert rasa_store.rows("student-1") == []
    assert len(rasa_store.rows("student-2")) == 2
    assert _count(SafetyReport, student_id=student_id) == 1
    assert login(portal_client(None), "student-1").status_code == 200  # no login any more
    [row] = _audit_rows("student.delete")
    assert (row.actor_user_id, row.actor_role, row.student_user_id) == (_user_id("coord-1"), "coordinator", student_id)
    assert json.loads(row.detail) == {"request_date": PAST_DATE, "reason": "Student vroeg het", "complete": True}
    assert "Student vroeg het" in page  # earlier requests on the student's page
