"""Coordinator: dashboard, safety inbox, unanswered questions, users upload, overview."""
from __future__ import annotations

import io
import re

import yaml
from sqlalchemy import select

from bot import analytics, reflections, safety
from bot.db import session_scope
from bot.models import SafetyReport, UnansweredQuestion, User
from bot.weeks import iso_week
from tests.conftest import STUDENTS_CSV


def test_dashboard_counts_new_safety_reports_first(portal_client):
    safety.create_report("student-1", "c1", "Ik word gepest", ["bullying"])
    safety.create_report("student-2", "c2", "Mijn baas schreeuwt", ["threat"])
    page = portal_client("coord-1").get("/coordinator").get_data(as_text=True)
    assert "2 nieuwe meldingen" in page
    assert page.index("Meldingen over onveilige situaties") < page.index("Inhoud van de coach")


def test_safety_inbox_new_first_and_update(portal_client):
    first = safety.create_report("student-1", "c1", "Oude melding", ["bullying"])
    second = safety.create_report("student-2", "c2", "Tweede melding", ["threat"])
    client = portal_client("coord-1")
    client.post(f"/coordinator/safety/{second}", data={"status": "closed"})
    page = client.get("/coordinator/safety").get_data(as_text=True)
    assert page.index("Oude melding") < page.index("Tweede melding")  # the new one first
    assert "Sanne Jansen" in page and "<td>pesten</td>" in page  # the category's Dutch label

    detail = client.get(f"/coordinator/safety/{first}").get_data(as_text=True)
    assert "Oude melding" in detail and "Petra de Vries" in detail
    response = client.post(
        f"/coordinator/safety/{first}", data={"status": "acknowledged", "note": "Gebeld met de student."}
    )
    assert response.status_code == 302
    client.post(f"/coordinator/safety/{first}", data={"status": "acknowledged", "note": "Bedrijf bezocht."})
    with session_scope() as db:
        report = db.get(SafetyReport, first)
        assert report.status == "acknowledged"
        assert report.handled_by == "Els Visser (coord-1)"
        assert "Gebeld met de student." in report.coordinator_note
        assert "Bedrijf bezocht." in report.coordinator_note
    bad = client.post(f"/coordinator/safety/{first}", data={"status": "weg"})
    assert bad.status_code == 400
    assert client.get("/coordinator/safety/9999").status_code == 404


def test_unanswered_questions_grouped_and_exported_as_nlu_yaml(portal_client):
    for _ in range(3):
        analytics.record_unanswered("Mag ik mijn telefoon gebruiken?", "ask_expectations", 0.31)
    analytics.record_unanswered("Hoe laat begint de kantine?", None, 0.1)
    client = portal_client("coord-1")
    page = client.get("/coordinator/questions").get_data(as_text=True)
    assert page.count("Mag ik mijn telefoon gebruiken?") == 1
    assert re.search(r"Mag ik mijn telefoon gebruiken\?</label></td>\s*<td>3</td>", page)
    assert page.index("Hoe laat begint de kantine?") < page.index("Mag ik mijn telefoon")  # newest first
    ids = re.findall(r'name="ids" value="(\d+)"', page)
    response = client.post("/coordinator/questions/export", data={"ids": ids})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    doc = yaml.safe_load(response.get_data(as_text=True))
    assert doc["version"] == "3.1"
    examples = {block["intent"]: block["examples"] for block in doc["nlu"]}
    assert examples["ask_expectations"] == "- Mag ik mijn telefoon gebruiken?\n"
    assert examples["nieuw_onderwerp"] == "- Hoe laat begint de kantine?\n"
    nothing = client.post("/coordinator/questions/export", data={})
    assert nothing.status_code == 302


def test_export_yaml_survives_hostile_text(portal_client):
    analytics.record_unanswered('key: "value" # - [x](y) |\n- nog een', "ask_feedback", 0.2)
    with session_scope() as db:
        question = db.execute(select(UnansweredQuestion.id)).scalar()
    response = portal_client("coord-1").post("/coordinator/questions/export", data={"ids": [str(question)]})
    doc = yaml.safe_load(response.get_data(as_text=True))
    assert doc["nlu"][0]["examples"] == '- key: "value" # - [x](y) | - nog een\n'


def test_users_list_and_good_upload(portal_client):
    client = portal_client("coord-1")
    page = client.get("/coordinator/users").get_data(as_text=True)
    assert "Sanne Jansen" in page and "Petra de Vries" in page
    csv_text = STUDENTS_CSV + "student,student-3,Noor El Amrani,noor@student.nl,sup-1,BBL,Garage Snel\n"
    response = client.post(
        "/coordinator/users/import", data={"file": (io.BytesIO(csv_text.encode()), "leerlingen.csv")}
    )
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 nieuw, 5 bijgewerkt" in follow
    assert "Noor El Amrani" in follow


def test_bad_upload_shows_dutch_errors_with_line_numbers_and_imports_nothing(portal_client):
    client = portal_client("coord-1")
    bad = STUDENTS_CSV + "student,student-9,Kees,kees@student.nl,sup-404,XYZ,\n" + "teacher,t-1,Jan,,,,\n"
    response = client.post("/coordinator/users/import", data={"file": (io.BytesIO(bad.encode()), "fout.csv")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Regel 7: leerweg moet BOL of BBL zijn" in page
    assert "Regel 7: praktijkbegeleider &#39;sup-404&#39; bestaat niet" in page
    assert "Regel 8: rol &#39;teacher&#39; onbekend" in page
    with session_scope() as db:
        assert db.execute(select(User).where(User.external_id == "student-9")).first() is None
    empty = client.post("/coordinator/users/import", data={})
    assert empty.status_code == 400 and "Kies eerst een CSV-bestand" in empty.get_data(as_text=True)


def test_coordinator_sees_counts_not_private_answers(portal_client):
    reflections.save_reflection(
        "student-1", iso_week(), {"went_well": "GEDEELD-ANTWOORD", "difficult": "PRIVE-ANTWOORD"}, ["went_well"]
    )
    client = portal_client("coord-1")
    pages = "".join(
        client.get(url).get_data(as_text=True)
        for url in ("/coordinator", "/coordinator/users", "/coordinator/overview", "/coordinator/safety")
    )
    assert "PRIVE-ANTWOORD" not in pages and "GEDEELD-ANTWOORD" not in pages
    users = client.get("/coordinator/users").get_data(as_text=True)
    assert re.search(r"Sanne Jansen.*?<td>1</td>", users, re.S)


def test_weekly_overview_counts_topics_and_reflections(portal_client):
    for _ in range(3):
        analytics.record_topic("ask_feedback")
    analytics.record_topic("ask_proactive")
    reflections.save_reflection("student-1", iso_week(), {"went_well": "x"}, [])
    reflections.save_reflection("student-2", iso_week(), {"went_well": "y"}, [])
    page = portal_client("coord-1").get("/coordinator/overview").get_data(as_text=True)
    assert page.count("<svg") == 2 and "<rect" in page
    assert re.search(r"ask_feedback</th>(<td>0</td>){7}<td>3</td><td>3</td>", page)
    assert re.search(r"Weekreflecties</th>(<td>0</td>){7}<td>2</td>", page)
