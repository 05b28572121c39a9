"""After everything this suite sent: the same processes still run and answer their
health checks, their logs got no traceback, nothing that reached Rasa was lost,
and the application database holds only well-formed rows."""
from __future__ import annotations

import re
import unicodedata

import pytest
import requests
from sqlalchemy import select

from bot.db import session_scope
from bot.models import (
    ROLES,
    Goal,
    Internship,
    Reflection,
    SafetyReport,
    TopicRequest,
    UnansweredQuestion,
    User,
)
from bot.reflections import FIELDS
from bot.safety import load_categories
from bot.topics import COACHING_TOPICS
from bot.users import EMAIL, EXTERNAL_ID
from tests.fuzz.clients import user_events

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("baseline")]

WEEK = re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")
MIN_MESSAGES = 1000


def test_at_least_a_thousand_messages_were_sent(ledger):
    print(f"\nfuzz messages sent through the stack: {ledger.total} ({ledger.sent})")
    if ledger.total == 0:
        pytest.skip("the chat fuzz modules did not run in this session")
    assert ledger.total >= MIN_MESSAGES, ledger.sent


def test_the_same_processes_are_alive_and_healthy(stack, baseline):
    for name, pid in baseline.pids.items():
        process = stack.processes.get(name)
        assert process is not None and process.pid == pid, f"{name} was restarted or stopped"
        assert process.poll() is None, f"{name} exited with {process.returncode}"
    for name, url in stack.urls().items():
        assert requests.get(url, timeout=10).status_code == 200, f"{name} is not healthy"


def test_no_traceback_in_the_logs(stack, baseline):
    found = {}
    for path in stack.config.log_dir.glob("*.log"):
        with path.open("rb") as log:
            log.seek(baseline.log_offsets.get(path.name, 0))
            text = log.read().decode("utf-8", "replace")
        if "Traceback" in text:
            start = text.index("Traceback")
            found[path.name] = text[max(0, start - 300): start + 2500]
    assert not found, "\n\n".join(f"--- {name}\n{excerpt}" for name, excerpt in found.items())


def test_nothing_that_reached_rasa_was_lost(stack, ledger):
    """Every message that got past the channel is in the tracker store, under its own sender."""
    if not ledger.senders:
        pytest.skip("the chat fuzz modules did not run in this session")
    stored = user_events(stack.config.tracker_store_url, sorted(ledger.senders))
    wrong = {s: (stored[s], ledger.reached[s]) for s in ledger.senders if stored[s] != ledger.reached[s]}
    assert not wrong, f"stored vs sent, per sender: {wrong}"


def clean_text(value, limit: int) -> bool:
    """Text as the assistant stores it: not empty, within its limit, no control
    characters other than line breaks and tabs."""
    return (
        isinstance(value, str)
        and value.strip() != ""
        and len(value) <= limit
        and not any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value)
    )


def test_the_database_holds_only_well_formed_rows(stack):
    categories = {c.name for c in load_categories()}
    problems = []
    with session_scope() as db:
        for user in db.execute(select(User)).scalars():
            if (
                user.role not in ROLES
                or not EXTERNAL_ID.match(user.external_id)
                or not clean_text(user.name, 200)
                or (user.email and not EMAIL.match(user.email))
            ):
                problems.append(("user", user.external_id, user.role, user.name, user.email))
        for internship in db.execute(select(Internship)).scalars():
            if internship.leerweg not in ("BOL", "BBL", None) or len(internship.company or "") > 200:
                problems.append(("internship", internship.id, internship.leerweg))
        for row in db.execute(select(Reflection)).scalars():
            answers = [getattr(row, name) for name in FIELDS if name != "mood"]
            shared = set(filter(None, (row.shared_fields or "").split(",")))
            if (
                not WEEK.match(row.iso_week)
                or (row.mood is not None and not 1 <= row.mood <= 5)
                or not shared <= set(FIELDS)
                or any(a is not None and (not clean_text(a, 1500) or a.startswith("/")) for a in answers)
            ):
                problems.append(("reflection", row.id, row.iso_week, row.mood, row.shared_fields, answers))
        for goal in db.execute(select(Goal)).scalars():
            if not clean_text(goal.text, 1500) or not WEEK.match(goal.iso_week) or goal.source not in (
                "reflection",
                *COACHING_TOPICS,
            ):
                problems.append(("goal", goal.id, goal.text, goal.iso_week, goal.source))
        for report in db.execute(select(SafetyReport)).scalars():
            names = set(filter(None, report.categories.split(",")))
            if (
                not names <= categories
                or report.status not in ("new", "acknowledged", "closed")
                or not clean_text(report.message, 4000)
                or (report.details is not None and not clean_text(report.details, 4000))
            ):
                problems.append(("safety_report", report.id, report.categories, report.status))
        for question in db.execute(select(UnansweredQuestion)).scalars():
            if not clean_text(question.text, 500) or len(question.predicted_intent or "") > 60:
                problems.append(("unanswered", question.id, question.text[:80]))
        for request in db.execute(select(TopicRequest)).scalars():
            if request.topic not in COACHING_TOPICS or not WEEK.match(request.iso_week):
                problems.append(("topic_request", request.id, request.topic, request.iso_week))
    assert not problems, problems[:20]
