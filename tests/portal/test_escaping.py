"""Text typed by students, supervisors or anyone reaches every page, CSV and PDF as
text: never as HTML, never as a template, never as PDF markup."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot import analytics, reflections, safety
from bot.db import session_scope
from bot.models import Reflection
from bot.weeks import iso_week
from tests.portal.helpers import PAYLOAD, pdf_text

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt; {{ 7*7 }}"


def without_noise(text: str) -> str:
    """Drops what may contain "49" by chance: CSRF tokens, times, dates, weeks, ids in URLs."""
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", text)
    text = re.sub(r"\d{4}-W\d{2}|wk \d+|\d{2}-\d{2}-\d{4}|\d{2}:\d{2}|/\d+/|-\d+\"", "", text)
    return text


def assert_escaped_html(html: str) -> None:
    assert ESCAPED in html
    assert "<script>alert(1)</script>" not in html
    assert "<b>x</b>" not in html
    assert "49" not in without_noise(html)


@pytest.fixture
def hostile(portal_client):
    week = iso_week()
    reflections.save_reflection("student-1", week, {"went_well": PAYLOAD, "mood": 3}, ["went_well", "mood"])
    with session_scope() as db:
        reflection_id = db.execute(select(Reflection.id)).scalar()
    supervisor = portal_client("sup-1")
    response = supervisor.post(
        f"/supervisor/intern/student-1/reflections/{reflection_id}/reply", data={"text": PAYLOAD}
    )
    assert response.status_code == 302
    report = safety.create_report("student-1", "conv", PAYLOAD, ["bullying"])
    analytics.record_unanswered(PAYLOAD, "ask_feedback", 0.2)
    return {"supervisor": supervisor, "report": report}


def test_supervisor_pages_escape(hostile):
    page = hostile["supervisor"].get("/supervisor/intern/student-1").get_data(as_text=True)
    assert_escaped_html(page)
    assert page.count(ESCAPED) == 2  # the shared answer and the reply


def test_student_page_escapes(hostile, portal_client):
    page = portal_client("student-1").get("/student/data").get_data(as_text=True)
    assert_escaped_html(page)
    assert page.count(ESCAPED) == 2


def test_coordinator_pages_escape(hostile, portal_client):
    client = portal_client("coord-1")
    for url in ("/coordinator/safety", f"/coordinator/safety/{hostile['report']}", "/coordinator/questions"):
        assert_escaped_html(client.get(url).get_data(as_text=True))


def test_content_form_keeps_typed_markup_as_text(hostile, portal_client, seeded_content):
    client = portal_client("coord-1")
    response = client.post(
        "/coordinator/content/ask_feedback/during/any",
        data={"acknowledge": PAYLOAD, "tips": "een", "why": "w", "micro_goal": "m", "related": "", "action": "preview"},
    )
    assert response.status_code == 400  # one tip and braces: refused, but shown back as text
    assert_escaped_html(response.get_data(as_text=True))


def test_csv_holds_the_literal_text(hostile):
    text = hostile["supervisor"].get("/supervisor/intern/student-1/export.csv").get_data().decode("utf-8-sig")
    assert PAYLOAD in text
    assert "&lt;" not in text
    assert "49" not in without_noise(text)


def test_pdf_prints_the_literal_text(hostile):
    pdf = hostile["supervisor"].get("/supervisor/intern/student-1/export.pdf").get_data()
    shown = pdf_text(pdf)
    assert PAYLOAD.replace("\n", "") in shown  # "<b>" printed as text: markup not interpreted
    assert "&lt;" not in shown and "&amp;" not in shown
    assert "49" not in without_noise(shown)


def test_chat_history_json_is_plain_text(portal_client, tracker_store):
    from tests.portal.helpers import add_event

    add_event(tracker_store, "student-1", "user", {"text": PAYLOAD})
    response = portal_client("student-1").get("/student/chat/history")
    assert response.mimetype == "application/json"
    assert response.get_json()[0]["text"] == PAYLOAD  # the chat script must insert it as text
