"""The supervisor's area: shared answers only, read receipts, replies, exports."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot import reflections
from bot.db import session_scope
from bot.models import ReadReceipt, SupervisorComment
from bot.weeks import iso_week, shift_week
from tests.portal.helpers import pdf_text

SHARED = "Ik heb zelf een klant geholpen"
PRIVATE = "Mijn begeleider is nooit op tijd PRIVE"


def _reflect(week=None, share=("went_well", "mood"), mood=4):
    answers = {"went_well": SHARED, "difficult": PRIVATE, "mood": mood, "next_goal": "Vaker vragen"}
    return reflections.save_reflection("student-1", week or iso_week(), answers, list(share)).id


def test_supervisor_sees_shared_answer_but_not_private_one(portal_client):
    _reflect()
    client = portal_client("sup-1")
    page = client.get("/supervisor/intern/student-1").get_data(as_text=True)
    assert SHARED in page
    assert PRIVATE not in page and "Vaker vragen" not in page
    assert "(niet gedeeld)" in page
    overview = client.get("/supervisor").get_data(as_text=True)
    assert "Sanne Jansen" in overview and "Mo Bakker" not in overview
    assert PRIVATE not in overview


def test_exports_hold_shared_answers_only(portal_client):
    _reflect()
    client = portal_client("sup-1")
    response = client.get("/supervisor/intern/student-1/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Stagiair", "Week", "Wat ging goed"]
    assert rows[1][2] == SHARED and rows[1][3] == "(niet gedeeld)"
    assert PRIVATE not in text

    pdf = client.get("/supervisor/intern/student-1/export.pdf")
    assert pdf.mimetype == "application/pdf"
    shown = pdf_text(pdf.get_data())
    assert SHARED in shown and "(niet gedeeld)" in shown
    assert PRIVATE not in shown and "Vaker vragen" not in shown


def test_csv_cells_cannot_become_formulas(portal_client):
    reflections.save_reflection("student-1", iso_week(), {"went_well": "=HYPERLINK(\"http://x\")"}, ["went_well"])
    text = portal_client("sup-1").get("/supervisor/intern/student-1/export.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_overview_shows_week_status_mood_chart_and_unread(portal_client):
    _reflect(shift_week(iso_week(), -2), mood=2)
    _reflect(shift_week(iso_week(), -1), mood=5)
    client = portal_client("sup-1")
    page = client.get("/supervisor").get_data(as_text=True)
    assert "Nog geen weekreflectie deze week" in page
    assert "5 (heel goed)" in page
    assert "<svg" in page and "<polyline" in page
    assert "2 ongelezen" in page
    _reflect(mood=3)
    page = client.get("/supervisor").get_data(as_text=True)
    assert "Weekreflectie ingevuld" in page and "3 ongelezen" in page


def test_private_mood_is_not_in_the_chart(portal_client):
    _reflect(share=("went_well",), mood=1)
    page = portal_client("sup-1").get("/supervisor").get_data(as_text=True)
    assert "nog geen gedeelde stemming" in page
    assert "1 (heel slecht)" not in page


def test_read_receipt(portal_client):
    reflection_id = _reflect()
    client = portal_client("sup-1")
    assert "1 ongelezen" in client.get("/supervisor").get_data(as_text=True)
    response = client.post(f"/supervisor/intern/student-1/reflections/{reflection_id}/read")
    assert response.status_code == 302
    client.post(f"/supervisor/intern/student-1/reflections/{reflection_id}/read")  # twice: still one receipt
    with session_scope() as db:
        assert len(db.execute(select(ReadReceipt)).scalars().all()) == 1
    assert "Alles gelezen" in client.get("/supervisor").get_data(as_text=True)
    student_page = portal_client("student-1").get("/student/data").get_data(as_text=True)
    assert "Gelezen door Petra de Vries" in student_page


def test_reply_creates_comment_delivered_in_the_chat(portal_client):
    reflection_id = _reflect()
    client = portal_client("sup-1")
    response = client.post(
        f"/supervisor/intern/student-1/reflections/{reflection_id}/reply", data={"text": "  Goed gedaan!  "}
    )
    assert response.status_code == 302
    with session_scope() as db:
        comment = db.execute(select(SupervisorComment)).scalar()
        assert comment.text == "Goed gedaan!" and comment.reflection_id == reflection_id
    assert "Goed gedaan!" in client.get("/supervisor/intern/student-1").get_data(as_text=True)
    assert reflections.pending_replies("student-1") == ["Goed gedaan!"]


def test_empty_or_too_long_reply_is_refused_and_kept(portal_client):
    reflection_id = _reflect()
    client = portal_client("sup-1")
    url = f"/supervisor/intern/student-1/reflections/{reflection_id}/reply"
    assert client.post(url, data={"text": "   "}).status_code == 400
    response = client.post(url, data={"text": "x" * 2001})
    assert response.status_code == 400
    assert "Maximaal 2000" in response.get_data(as_text=True)
    assert "x" * 2001 in response.get_data(as_text=True)  # what was typed is kept
    with session_scope() as db:
        assert db.execute(select(SupervisorComment)).first() is None


def test_guidance_page(portal_client):
    page = portal_client("sup-2").get("/supervisor/guidance").get_data(as_text=True)
    for words in ("compliment", "waarom", "hoe het met je stagiair gaat", "verantwoordelijkheid", "school"):
        assert words in page.lower()


def test_overview_decrypts_no_answer_text(portal_client, monkeypatch):
    """The overview needs weeks, moods and share choices only (plaintext columns)."""
    from bot import crypto

    _reflect(shift_week(iso_week(), -1), mood=5)
    _reflect(share=(), mood=1)
    client = portal_client("sup-1")

    def tripwire(self, value):
        if value is not None:
            raise AssertionError("the overview decrypted an answer")

    monkeypatch.setattr(crypto.Keyring, "decrypt", tripwire)
    page = client.get("/supervisor").get_data(as_text=True)
    assert "5 (heel goed)" in page and "1 (heel slecht)" not in page
    assert "1 ongelezen" in page  # the unshared reflection is not counted
    assert "Weekreflectie ingevuld" in page  # but it does count as done this week
