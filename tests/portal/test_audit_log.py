"""The audit log in the portal: what is recorded (supervisor views and downloads,
coordinator reads of safety reports), what a student sees of it, and the
coordinators' "Auditlog" page (filter, pages, newest first, escaping)."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from bot import audit, reflections, safety
from bot.db import session_scope
from bot.models import AuditEvent, User
from bot.weeks import iso_week, shift_week
from tests.portal.helpers import PAYLOAD

SHARED = "Ik heb zelf een klant geholpen"
PRIVATE = "Dit is alleen voor mij"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt; {{ 7*7 }}"


def _user_id(external_id):
    with session_scope() as db:
        return db.execute(select(User.id).where(User.external_id == external_id)).scalar_one()


def _rows(action=None):
    with session_scope() as db:
        statement = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            statement = statement.where(AuditEvent.action == action)
        return db.execute(statement).scalars().all()


@pytest.fixture
def weeks(app):
    """student-1: this week shared, last week nothing shared; student-2: one shared week."""
    this, last = iso_week(), shift_week(iso_week(), -1)
    shared = reflections.save_reflection("student-1", this, {"went_well": SHARED, "difficult": PRIVATE}, ["went_well"]).id
    private = reflections.save_reflection("student-1", last, {"went_well": PRIVATE}, []).id
    reflections.save_reflection("student-2", this, {"went_well": "Mo las voor"}, ["went_well"])
    return {"this": this, "last": last, "shared": shared, "private": private}


def _table(page: str, css_class: str) -> str:
    start = page.index(f'class="{css_class}"')
    return page[start:page.index("</table>", start)]


# --- recording ------------------------------------------------------------------------


def test_one_row_per_supervisor_view_with_the_shown_weeks(portal_client, weeks):
    client = portal_client("sup-1")
    assert client.get("/supervisor/intern/student-1").status_code == 200
    [row] = _rows()
    assert row.action == "reflection.read"
    assert (row.actor_user_id, row.actor_role, row.actor_label) == (_user_id("sup-1"), "supervisor", "sup-1")
    assert row.student_user_id == _user_id("student-1")
    assert json.loads(row.detail) == {"reflections": [{"id": weeks["shared"], "week": weeks["this"]}]}
    assert SHARED not in row.detail and PRIVATE not in row.detail  # never the text
    assert row.at <= dt.datetime.utcnow() + dt.timedelta(seconds=1)

    client.get("/supervisor/intern/student-1")
    assert len(_rows("reflection.read")) == 2


def test_no_row_for_a_refused_view(portal_client, weeks):
    assert portal_client("sup-2").get("/supervisor/intern/student-1").status_code == 404
    assert portal_client("student-2").get("/supervisor/intern/student-1").status_code == 403
    assert _rows() == []


def test_supervisor_downloads_are_recorded(portal_client, weeks):
    client = portal_client("sup-1")
    client.get("/supervisor/intern/student-1/export.csv")
    client.get("/supervisor/intern/student-1/export.pdf")
    csv_row, pdf_row = _rows()
    assert (csv_row.action, pdf_row.action) == ("reflection.export_csv", "reflection.export_pdf")
    for row in (csv_row, pdf_row):
        assert row.actor_user_id == _user_id("sup-1") and row.student_user_id == _user_id("student-1")
        assert json.loads(row.detail) == {"reflections": [{"week": weeks["this"]}]}


def test_coordinator_reading_a_safety_report_is_recorded(portal_client, app):
    report = safety.create_report("student-1", "student-1", "Mijn collega pest mij", ["bullying"])
    client = portal_client("coord-1")
    assert client.get(f"/coordinator/safety/{report}").status_code == 200
    [row] = _rows()
    assert row.action == "safety_report.read"
    assert (row.actor_user_id, row.student_user_id) == (_user_id("coord-1"), _user_id("student-1"))
    assert json.loads(row.detail) == {"report_id": report}
    client.post(f"/coordinator/safety/{report}", data={"status": "acknowledged"})  # a change, no read
    assert len(_rows()) == 1
    # not on the student's own page (someone looking over their shoulder)
    page = portal_client("student-1").get("/student/data").get_data(as_text=True)
    assert "melding" not in _access_section(page).lower()


# --- what the student sees -------------------------------------------------------------


def _access_section(page: str) -> str:
    start = page.index('id="access-title"')
    return page[start:page.index("<h2>", start)]


def test_student_sees_who_read_their_log(portal_client, weeks):
    portal_client("sup-1").get("/supervisor/intern/student-1")
    portal_client("sup-1").get("/supervisor/intern/student-1/export.pdf")
    section = _access_section(portal_client("student-1").get("/student/data").get_data(as_text=True))
    table = _table(section, "access-log")
    assert table.count("Petra de Vries") == 2
    assert "praktijkbegeleider" in table
    assert "Bekeek je weeklog" in table and "Downloadde je weeklog als PDF" in table
    assert f"week {weeks['this']}" in table and weeks["last"] not in table
    assert re.search(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}", table)  # when
    assert table.index("PDF") < table.index("Bekeek")  # newest first


def test_another_student_does_not_see_that_row(portal_client, weeks):
    portal_client("sup-1").get("/supervisor/intern/student-1")
    page = portal_client("student-2").get("/student/data").get_data(as_text=True)
    section = _access_section(page)
    assert "Petra de Vries" not in page
    assert "Bekeek je weeklog" not in section
    assert "Nog niemand heeft je gedeelde antwoorden bekeken" in section


def test_student_page_escapes_names_in_the_access_list(portal_client, weeks):
    with session_scope() as db:
        db.execute(select(User).where(User.external_id == "sup-1")).scalar_one().name = PAYLOAD
    portal_client("sup-1").get("/supervisor/intern/student-1")
    section = _access_section(portal_client("student-1").get("/student/data").get_data(as_text=True))
    assert ESCAPED in section
    assert "<script>alert(1)</script>" not in section and "<b>x</b>" not in section


# --- the coordinators' page ------------------------------------------------------------


def _audit_page(client, query=""):
    response = client.get("/coordinator/audit" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_supervisors_and_students_cannot_see_the_audit_log(portal_client, weeks):
    portal_client("sup-1").get("/supervisor/intern/student-1")
    for who in ("sup-1", "student-1"):
        response = portal_client(who).get("/coordinator/audit")
        assert response.status_code == 403
        assert "Weeklog bekeken" not in response.get_data(as_text=True)


def test_coordinator_filters_by_student(portal_client, weeks):
    portal_client("sup-1").get("/supervisor/intern/student-1")
    portal_client("sup-2").get("/supervisor/intern/student-2")
    client = portal_client("coord-1")
    everything = _table(_audit_page(client), "audit-log")
    assert "Sanne Jansen (student-1)" in everything and "Mo Bakker (student-2)" in everything
    assert everything.index("Karim Amrani") < everything.index("Petra de Vries")  # newest first

    only_mo = _table(_audit_page(client, "?student=student-2"), "audit-log")
    assert "Mo Bakker (student-2)" in only_mo and "Karim Amrani" in only_mo
    assert "Sanne Jansen" not in only_mo and "Petra de Vries" not in only_mo

    only_reads = _audit_page(client, "?action=reflection.export_pdf")
    assert "Er staat nog niets in het auditlog voor deze keuze" in only_reads
    unknown = _audit_page(client, "?student=nobody")
    assert "Er is geen student met nummer nobody" in unknown and 'class="audit-log"' not in unknown


def test_coordinator_pages_through_the_log(portal_client, app):
    student = _user_id("student-1")
    start = dt.datetime(2026, 3, 1, 9, 0)
    actor = audit.Actor(_user_id("sup-1"), "supervisor", "sup-1")
    for number in range(60):
        audit.record(
            "reflection.read", actor, student_user_id=student, at=start + dt.timedelta(hours=number),
            detail={"reflections": [{"id": number, "week": f"2026-W{number % 50 + 1:02d}"}]},
        )
    client = portal_client("coord-1")
    first = _audit_page(client)
    assert "60 regels, pagina 1 van 2" in first
    assert _table(first, "audit-log").count("<tr>") == 50 + 1  # header row
    assert "Week 2026-W11" in first  # number 59 = the newest, first page
    assert 'href="/coordinator/audit?page=2"' in first and "Nieuwer" not in first
    second = _audit_page(client, "?page=2")
    assert _table(second, "audit-log").count("<tr>") == 10 + 1
    assert "Week 2026-W01" in second  # number 0 = the oldest, last page
    assert 'href="/coordinator/audit?page=1"' in second
    assert "pagina 2 van 2" in _audit_page(client, "?page=99")  # past the end: the last page


def test_audit_page_escapes_names_and_reasons(portal_client, weeks):
    with session_scope() as db:
        db.execute(select(User).where(User.external_id == "sup-1")).scalar_one().name = PAYLOAD
        db.execute(select(User).where(User.external_id == "student-1")).scalar_one().name = PAYLOAD
    portal_client("sup-1").get("/supervisor/intern/student-1")
    coordinator = portal_client("coord-1")
    coordinator.post("/coordinator/students/student-1/export", data={"request_date": "2026-01-05", "reason": PAYLOAD})
    page = _audit_page(coordinator)
    table = _table(page, "audit-log")
    assert table.count(ESCAPED) >= 4  # supervisor name, student name (twice), reason
    assert "<script>alert(1)</script>" not in page and "<b>x</b>" not in page
    filter_form = _audit_page(coordinator, "?student=student-1")
    assert f"{ESCAPED} (student-1)</option>" in filter_form
    assert "<script>alert(1)</script>" not in filter_form
