"""After the fuzz run: every page where student text can appear, fetched from the
running portal with logged-in sessions, shows that text as text.

Besides what the fuzz run left (students with markup in their names, reflections
filled in the middle of hostile messages), this module drives one conversation
on purpose through the portal chat, so every page has hostile text to show even
when this module runs alone: a student named like a formula and a script, a
shared reflection of markup answers, a safety report with details, an
unanswered question, and a supervisor's reply.
"""
from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import List

import pytest
from sqlalchemy import select

from bot import passwords
from bot.db import session_scope
from bot.models import Reflection, SafetyReport, UnansweredQuestion, User
from tests.fuzz.clients import Portal, SocketChat, drive_reflection, new_student, rest_say, texts
from tests.fuzz.strategies import HTML_JS
from tests.portal.helpers import PASSWORD, pdf_text

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("baseline")]

NAME = "=cmd|' /C calc'!A0 <script>alert('naam')</script>"
ANSWERS = [
    "<script>alert('xss')</script> ging goed vandaag op mijn stage",
    '<img src=x onerror="alert(1)"> was lastig deze hele week',
    '<a href="javascript:alert(document.cookie)">klik</a> feedback van mijn begeleider',
    "=HYPERLINK(\"http://evil.example\") zelf de kassa opgemaakt vandaag",
    "<svg/onload=alert(1)> mijn doel is elke dag iets vragen",
]
SAFETY = "mijn chef zat gisteren weer aan me in de opslag <script>alert('melding')</script>"
DETAILS = "<img src=x onerror=alert('details')> het gebeurde op maandag in het magazijn"
QUESTIONS = [
    "<svg/onload=alert('vraag')> qwzx plofkip vlmbrt",
    "<script>alert('vraag')</script> xqzv brrlmp",
    "<b>qqq</b> zzyx vrrk pflm",
]
REPLY = "<script>alert('reactie')</script> Goed gedaan, {{ 7*7 }}"
# markup as typed: must never reach a page unescaped ("{{ 7*7 }}" may: shown literally, it was not run)
RAW_FRAGMENTS = ["<script>alert", "<img src=x onerror", "<svg/onload", 'href="javascript:', "<b>qqq</b>"] + [
    payload for payload in HTML_JS if "<" in payload
]


class Page(HTMLParser):
    """Collects what a browser would run or follow, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: List[str] = []
        self.text: List[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name.lower() in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not (dict(attrs).get("src") or "").startswith("/static/"):
            self.problems.append("an inline or foreign <script>")

    def handle_data(self, data):
        self.text.append(data)


def check_html(html: str, where: str) -> str:
    page = Page()
    page.feed(html)
    assert not page.problems, f"{where}: {page.problems}"
    for fragment in RAW_FRAGMENTS:
        assert fragment not in html, f"{where}: unescaped {fragment!r}"
    return "".join(page.text)


@pytest.fixture(scope="module")
def hostile(stack, ledger):
    """One student's hostile week, through the real chat; staff accounts with passwords."""
    student = new_student(NAME)
    for external_id in (student, "sup-1", "coord-1"):
        passwords.set_password(external_id, PASSWORD)
    with SocketChat(stack.config.rasa_port, student) as chat:
        chat.say("/greet")
        ledger.count("socket", student, reached=True)

        drive_reflection(chat, ledger, ANSWERS)
        said = texts(chat.say(SAFETY))
        ledger.count("socket", student, reached=True)
        assert any("stagecoördinator" in t for t in said), said
        for message in ("/affirm", DETAILS):
            chat.say(message)
            ledger.count("socket", student, reached=True)
    for question in QUESTIONS:  # likely unanswered; the fuzz run before left many more
        rest_say(stack.config.rasa_port, student, question)
        ledger.count("rest", student, reached=True)
    with session_scope() as db:
        user = db.execute(select(User).where(User.external_id == student)).scalar()
        reflection = db.execute(select(Reflection).where(Reflection.student_id == user.id)).scalar()
        reports = db.execute(select(SafetyReport.id).where(SafetyReport.student_id == user.id)).scalars().all()
    assert reflection is not None and reflection.went_well == ANSWERS[0], "the reflection was not saved"
    assert reports, "the safety report was not made"
    supervisor = Portal(stack.config.portal_port).login("sup-1", PASSWORD)
    token = supervisor.csrf(f"/supervisor/intern/{student}")
    response = supervisor.post(
        f"/supervisor/intern/{student}/reflections/{reflection.id}/reply", data={"text": REPLY, "csrf_token": token}
    )
    assert response.status_code == 302, response.text[:500]
    return {"student": student, "reports": reports, "supervisor": supervisor, "port": stack.config.portal_port}


def fuzz_interns_with_reflections() -> List[str]:
    with session_scope() as db:
        return sorted(
            db.execute(
                select(User.external_id).join(Reflection, Reflection.student_id == User.id).where(User.external_id.like("fz-%"))
            ).scalars().all()
        )


def test_student_pages(hostile):
    student = Portal(hostile["port"]).login(hostile["student"], PASSWORD)
    for path in ("/student", "/student/chat"):
        check_html(student.get(path).text, path)
    text = check_html(student.get("/student/data").text, "/student/data")
    for answer in ANSWERS:
        assert answer in text, f"'Mijn gegevens' does not show {answer!r}"
    assert REPLY in text


def test_chat_history_is_json_with_literal_text(hostile, stack):
    student = Portal(hostile["port"]).login(hostile["student"], PASSWORD)
    response = student.get("/student/chat/history")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    shown = [m["text"] for m in response.json()]
    assert SAFETY in shown and ANSWERS[1] in shown
    chat_js = Portal(hostile["port"]).get("/static/chat.js").text
    assert "innerHTML" not in chat_js.replace("never innerHTML", "")


def test_supervisor_pages_and_exports(hostile):
    supervisor = hostile["supervisor"]
    check_html(supervisor.get("/supervisor").text, "/supervisor")
    text = check_html(supervisor.get(f"/supervisor/intern/{hostile['student']}").text, "intern page")
    assert all(answer in text for answer in ANSWERS), "the shared answers are not on the intern page"
    assert NAME in text
    for intern in fuzz_interns_with_reflections():
        check_html(supervisor.get(f"/supervisor/intern/{intern}").text, f"intern {intern}")

    export = supervisor.get(f"/supervisor/intern/{hostile['student']}/export.csv")
    assert export.status_code == 200
    body = export.content.decode("utf-8-sig")
    assert "&lt;" not in body
    cells = [cell for row in csv.reader(io.StringIO(body), delimiter=";") for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], "a cell would run as a formula"
    assert "'" + NAME in cells and "'" + ANSWERS[3] in cells
    assert ANSWERS[0] in cells

    pdf = supervisor.get(f"/supervisor/intern/{hostile['student']}/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    shown = pdf_text(pdf.content)
    assert ANSWERS[0] in shown and "&lt;" not in shown  # printed as text, not interpreted


def test_coordinator_pages(hostile):
    coordinator = Portal(hostile["port"]).login("coord-1", PASSWORD)
    for path in ("/coordinator", "/coordinator/users", "/coordinator/overview"):
        check_html(coordinator.get(path).text, path)
    inbox = check_html(coordinator.get("/coordinator/safety").text, "/coordinator/safety")
    assert NAME in inbox
    with session_scope() as db:
        report_ids = db.execute(select(SafetyReport.id)).scalars().all()
    for report_id in report_ids:
        text = check_html(coordinator.get(f"/coordinator/safety/{report_id}").text, f"safety report {report_id}")
        if report_id in hostile["reports"]:
            assert SAFETY in text and DETAILS in text
    questions = check_html(coordinator.get("/coordinator/questions").text, "/coordinator/questions")
    with session_scope() as db:
        stored = db.execute(select(UnansweredQuestion.text)).scalars().all()
    marked_up = [text for text in stored if "<" in text and ">" in text]
    if not marked_up:
        pytest.skip("no unanswered question with markup was stored (run the whole fuzz suite)")
    shown = [text for text in marked_up if " ".join(text.split()) in " ".join(questions.split())]
    assert shown, f"none of the {len(marked_up)} questions with markup is on the page as text"
