"""A supervisor never learns of a safety report, even when the report is about them.

The workplace supervisor may be the very subject of the report (harassment at the
internship). So: every safety route refuses supervisors (and the reporting student),
the supervisor's view of their intern (weekly log, CSV and PDF exports, overview,
guidance) never mentions the report, and there is no notification path at all from
Stagecoach to a supervisor (no e-mail, messaging or webhook code; a supervisor cannot
even open a chat socket: tests/e2e/test_channel.py).
"""
from __future__ import annotations

import ast
import re

import pytest

from bot import reflections, safety
from bot.weeks import iso_week
from tests.conftest import ROOT
from tests.portal.helpers import pdf_text

MESSAGE = "Mijn begeleider Petra scheldt mij uit MARKER-REPORT-7f3a"
DETAILS = "Het gebeurde in de kantine MARKER-DETAILS-91bc"


@pytest.fixture
def reported(database, people, tracker_store, app):
    reflections.save_reflection(
        "student-1", iso_week(), {"went_well": "Klant geholpen", "difficult": "Drukke dag", "mood": 2},
        ["went_well", "difficult", "mood"],
    )
    report_id = safety.create_report("student-1", "student-1", MESSAGE, ["bullying"])
    assert safety.add_details(report_id, "student-1", DETAILS)
    return report_id


def _safety_requests(app, report_id):
    """Every safety route of the app, found from the URL map (new routes are covered too)."""
    found = []
    for rule in app.url_map.iter_rules():
        if "safety" not in rule.rule and "safety" not in rule.endpoint:
            continue
        url = re.sub(r"<(?:int:)?[a-z_]+>", str(report_id), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


@pytest.mark.parametrize("who", ["sup-1", "sup-2", "student-1", "student-2"])
def test_every_safety_route_is_403_for_supervisors_and_students(app, portal_client, reported, who):
    requests = _safety_requests(app, reported)
    assert ("GET", "/coordinator/safety") in requests and ("POST", f"/coordinator/safety/{reported}") in requests
    client = portal_client(who)
    for method, url in requests:
        response = client.open(url, method=method, data={"status": "closed", "note": "x"} if method == "POST" else None)
        assert response.status_code == 403, (who, method, url)
        body = response.get_data(as_text=True)
        assert "MARKER" not in body
    # and nothing was changed by those attempts
    from bot.db import session_scope
    from bot.models import SafetyReport

    with session_scope() as session:
        report = session.get(SafetyReport, reported)
        assert report.status == "new" and not report.coordinator_note


def test_the_coordinator_does_see_it(portal_client, reported):
    body = portal_client("coord-1").get(f"/coordinator/safety/{reported}").get_data(as_text=True)
    assert "MARKER-REPORT-7f3a" in body and "MARKER-DETAILS-91bc" in body  # the markers are findable


def test_the_supervisors_view_of_the_intern_never_mentions_it(portal_client, reported):
    client = portal_client("sup-1")
    pages = {
        "overview": client.get("/supervisor"),
        "weekly log": client.get("/supervisor/intern/student-1"),
        "guidance": client.get("/supervisor/guidance"),
        "csv": client.get("/supervisor/intern/student-1/export.csv"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
    texts = {name: response.get_data(as_text=True) for name, response in pages.items()}
    texts["pdf"] = pdf_text(client.get("/supervisor/intern/student-1/export.pdf").data)
    assert "Klant geholpen" in texts["weekly log"] and "Klant geholpen" in texts["pdf"]  # the log itself is there
    for name, text in texts.items():
        assert "MARKER" not in text, name
        assert "Meldingen" not in text, name  # not even the menu item
        if name != "guidance":  # the guidance page explains in general words when school must hear of something
            assert "melding" not in text.lower(), name


NOTIFYING_MODULES = {
    "smtplib", "email", "twilio", "slack_sdk", "webexteamssdk", "fbmessenger", "rocketchat_API",
    "aiogram", "mattermostwrapper", "requests", "httpx", "aiohttp", "http.client", "urllib.request",
}
# bot/stack.py polls its own processes' health URLs on the loopback address
ALLOWED = {("bot/stack.py", "urllib.request")}


def test_no_code_can_notify_anyone_outside_the_portal():
    """A tripwire: Stagecoach sends no e-mail, message or webhook, so nothing can tell a
    supervisor about a report. Whoever adds a notification must extend this test (and
    docs/security.md) with a check that safety reports never go to a supervisor."""
    offenders = []
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "actions").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                hit = next((m for m in NOTIFYING_MODULES if name == m or name.startswith(m + ".")), None)
                if hit and (relative, hit) not in ALLOWED:
                    offenders.append(f"{relative}: {name}")
    assert offenders == []
