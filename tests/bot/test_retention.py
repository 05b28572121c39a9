"""Retention: old data disappears from the app database and the tracker store,
recent data stays, a second run deletes nothing more."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot import audit, cli, config, reflections
from bot.db import session_scope
from bot.models import (
    AuditEvent,
    Goal,
    PortalSession,
    ReadReceipt,
    Reflection,
    SafetyReport,
    SupervisorComment,
    TopicRequest,
    UnansweredQuestion,
    UsedChatToken,
    User,
)
from bot.retention import run_retention

NOW = dt.datetime(2027, 6, 1, 12, 0)
OLD_REFLECTION = NOW - dt.timedelta(days=401)
RECENT_REFLECTION = NOW - dt.timedelta(days=399)


def _user_id(session, external_id):
    return session.execute(select(User.id).where(User.external_id == external_id)).scalar_one()


def _count(model):
    with session_scope() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def data(people, tracker_store):
    old_id = reflections.save_reflection(
        "student-1", "2026-W10", {"went_well": "oud", "next_goal": "oud doel", "mood": 3}, ["mood"]
    ).id
    new_id = reflections.save_reflection(
        "student-1", "2027-W10", {"went_well": "nieuw", "next_goal": "nieuw doel", "mood": 4}, ["mood"]
    ).id
    with session_scope() as session:
        sup = _user_id(session, "sup-1")
        student = _user_id(session, "student-1")
        session.get(Reflection, old_id).updated_at = OLD_REFLECTION
        session.get(Reflection, new_id).updated_at = RECENT_REFLECTION
        for goal in session.execute(select(Goal)).scalars():
            goal.created_at = OLD_REFLECTION if goal.text == "oud doel" else RECENT_REFLECTION
        for reflection_id, when in ((old_id, OLD_REFLECTION), (new_id, RECENT_REFLECTION)):
            session.add(SupervisorComment(reflection_id=reflection_id, supervisor_id=sup, text="top", created_at=when))
            session.add(ReadReceipt(reflection_id=reflection_id, supervisor_id=sup, read_at=when))
        session.add_all(
            [
                UnansweredQuestion(text="oud", created_at=NOW - dt.timedelta(days=366)),
                UnansweredQuestion(text="nieuw", created_at=NOW - dt.timedelta(days=364)),
                TopicRequest(topic="ask_pay", iso_week="2026-W20", created_at=NOW - dt.timedelta(days=366)),
                TopicRequest(topic="ask_pay", iso_week="2027-W20", created_at=NOW - dt.timedelta(days=1)),
                SafetyReport(student_id=student, message="oud gesloten", status="closed",
                             updated_at=NOW - dt.timedelta(days=731)),
                SafetyReport(student_id=student, message="oud open", status="acknowledged",
                             updated_at=NOW - dt.timedelta(days=900)),
                SafetyReport(student_id=student, message="recent gesloten", status="closed",
                             updated_at=NOW - dt.timedelta(days=729)),
                PortalSession(token_hash="a" * 64, user_id=student, expires_at=NOW - dt.timedelta(minutes=1)),
                PortalSession(token_hash="b" * 64, user_id=student, expires_at=NOW + dt.timedelta(hours=7)),
                UsedChatToken(jti="expired-chat-token", expires_at=NOW - dt.timedelta(seconds=1)),
                UsedChatToken(jti="live-chat-token", expires_at=NOW + dt.timedelta(minutes=1)),
            ]
        )
    tracker_store.save(
        "student-1",
        [
            ("user", "oude vraag", NOW - dt.timedelta(days=31)),
            ("bot", "oud antwoord", NOW - dt.timedelta(days=31)),
            ("user", "nieuwe vraag", NOW - dt.timedelta(days=29)),
            ("bot", "nieuw antwoord", NOW - dt.timedelta(days=29)),
        ],
    )
    tracker_store.save("student-2", [("user", "heel oud", NOW - dt.timedelta(days=100))])
    with session_scope() as session:
        student = _user_id(session, "student-1")
    for days in (731, 729):  # RETENTION_AUDIT_DAYS defaults to 730
        audit.record(
            "reflection.read", audit.Actor(None, "operator", f"{days} dagen"), student_user_id=student,
            at=NOW - dt.timedelta(days=days),
        )
    return {"old": old_id, "new": new_id}


EXPECTED_FIRST_RUN = {
    "reflections": 1,
    "supervisor_comments": 1,
    "read_receipts": 1,
    "goals": 1,
    "unanswered_questions": 1,
    "topic_requests": 1,
    "safety_reports": 1,
    "audit_events": 1,
    "portal_sessions": 1,
    "used_chat_tokens": 1,
    "chat_events": 3,
}


def test_old_data_disappears_recent_data_stays(data, tracker_store):
    result = run_retention(now=NOW)
    assert result == EXPECTED_FIRST_RUN

    with session_scope() as session:
        assert [r.id for r in session.execute(select(Reflection)).scalars()] == [data["new"]]
        assert [g.text for g in session.execute(select(Goal)).scalars()] == ["nieuw doel"]
        assert [c.reflection_id for c in session.execute(select(SupervisorComment)).scalars()] == [data["new"]]
        assert [r.reflection_id for r in session.execute(select(ReadReceipt)).scalars()] == [data["new"]]
        assert [q.text for q in session.execute(select(UnansweredQuestion)).scalars()] == ["nieuw"]
        assert [t.iso_week for t in session.execute(select(TopicRequest)).scalars()] == ["2027-W20"]
        assert sorted(r.message for r in session.execute(select(SafetyReport)).scalars()) == [
            "oud open",
            "recent gesloten",
        ]
        assert [e.actor_label for e in session.execute(select(AuditEvent)).scalars()] == ["729 dagen"]
        assert [p.token_hash for p in session.execute(select(PortalSession)).scalars()] == ["b" * 64]
        assert [t.jti for t in session.execute(select(UsedChatToken)).scalars()] == ["live-chat-token"]
    remaining = tracker_store.rows()
    assert [(r.sender_id, r.type_name) for r in remaining] == [("student-1", "user"), ("student-1", "bot")]
    assert all("nieuw" in r.data for r in remaining)


def test_second_run_deletes_nothing_more(data, tracker_store):
    run_retention(now=NOW)
    second = run_retention(now=NOW)
    assert second == {key: 0 for key in EXPECTED_FIRST_RUN}
    assert _count(Reflection) == 1
    assert len(tracker_store.rows()) == 2


def test_periods_come_from_the_environment(data, tracker_store, monkeypatch):
    monkeypatch.setenv("RETENTION_CHAT_DAYS", "50")
    monkeypatch.setenv("RETENTION_REFLECTION_DAYS", "1000")
    monkeypatch.setenv("RETENTION_ANALYTICS_DAYS", "1")
    monkeypatch.setenv("RETENTION_SAFETY_DAYS", "10000")
    config.reset_settings()
    result = run_retention(now=NOW)
    assert result["chat_events"] == 1  # only student-2's 100-day-old message
    assert result["reflections"] == result["goals"] == 0
    assert result["unanswered_questions"] == 2  # 366 and 364 days old
    assert result["topic_requests"] == 1  # the one of exactly 1 day old is not older than 1 day
    assert result["safety_reports"] == 0
    assert [r.sender_id for r in tracker_store.rows()] == ["student-1"] * 4


def test_defaults():
    settings = config.Settings.__dataclass_fields__
    assert settings["retention_reflection_days"].default == 400
    assert settings["retention_chat_days"].default == 30
    assert settings["retention_analytics_days"].default == 365
    assert settings["retention_safety_days"].default == 730
    assert settings["retention_audit_days"].default == 730


def test_audit_period_comes_from_the_environment(data, monkeypatch):
    monkeypatch.setenv("RETENTION_AUDIT_DAYS", "3000")
    config.reset_settings()
    assert run_retention(now=NOW)["audit_events"] == 0
    assert _count(AuditEvent) == 2
    monkeypatch.setenv("RETENTION_AUDIT_DAYS", "100")
    config.reset_settings()
    assert run_retention(now=NOW)["audit_events"] == 2
    assert _count(AuditEvent) == 0


@pytest.mark.parametrize(
    "name",
    [
        "RETENTION_REFLECTION_DAYS",
        "RETENTION_CHAT_DAYS",
        "RETENTION_ANALYTICS_DAYS",
        "RETENTION_SAFETY_DAYS",
        "RETENTION_AUDIT_DAYS",
    ],
)
@pytest.mark.parametrize("value", ["0", "-5", "dertig", "1.5"])
def test_invalid_periods_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    config.reset_settings()
    try:
        with pytest.raises(config.ConfigurationError, match=name):
            config.get_settings()
    finally:
        monkeypatch.delenv(name)
        config.reset_settings()


def test_missing_events_table_is_skipped_with_a_note(people, tracker_store):
    result = run_retention(now=NOW)
    assert result["chat_events"] == 0
    assert "events" in result["note"]


def test_cli_retention_run_prints_dutch_counts(data, capsys):
    assert cli.main(["retention", "run"]) == 0
    out = capsys.readouterr().out
    assert "Bewaartermijnen toegepast" in out
    assert "reflecties:" in out and "chatgebeurtenissen" in out
    assert "regels uit het auditlog:" in out


def test_cli_retention_run_with_a_bad_setting_exits_2(people, tracker_store, monkeypatch, capsys):
    monkeypatch.setenv("RETENTION_CHAT_DAYS", "0")
    config.reset_settings()
    assert cli.main(["retention", "run"]) == 2
    assert "RETENTION_CHAT_DAYS" in capsys.readouterr().err
