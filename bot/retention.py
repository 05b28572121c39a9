"""Retention: delete personal data once it is older than the configured periods.

    python -m bot retention run      (daily, e.g. from cron)

Periods (days, environment variables, see docs/privacy.md):
  RETENTION_REFLECTION_DAYS  reflections (by last change) with their supervisor
                             comments and read receipts; goals (by creation)
  RETENTION_CHAT_DAYS        Rasa tracker store events (chat messages, slots)
  RETENTION_ANALYTICS_DAYS   anonymous unanswered questions and topic requests
  RETENTION_SAFETY_DAYS      closed safety reports (by last change)
  RETENTION_AUDIT_DAYS       audit log rows (bot.audit; by their time)
Expired portal logins (bot.portal.sessions) and the ids of expired chat tokens
(bot.tokens, `used_chat_tokens`) are always removed.

Idempotent: a second run with the same `now` deletes nothing more. One
transaction for the application database, one for the tracker store.
"""
from __future__ import annotations

import datetime as dt
from typing import Dict, Optional

from sqlalchemy import delete, select

from bot import audit, tokens, tracker_data
from bot.portal import sessions as portal_sessions
from bot.config import get_settings
from bot.db import session_scope
from bot.models import (
    Goal,
    ReadReceipt,
    Reflection,
    SafetyReport,
    SupervisorComment,
    TopicRequest,
    UnansweredQuestion,
    utcnow,
)


def _naive_utc(now: Optional[dt.datetime]) -> dt.datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is not None:
        return now.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return now


def run_retention(now: Optional[dt.datetime] = None) -> Dict[str, object]:
    settings = get_settings()
    now = _naive_utc(now)
    reflection_cutoff = now - dt.timedelta(days=settings.retention_reflection_days)
    chat_cutoff = now - dt.timedelta(days=settings.retention_chat_days)
    analytics_cutoff = now - dt.timedelta(days=settings.retention_analytics_days)
    safety_cutoff = now - dt.timedelta(days=settings.retention_safety_days)
    audit_cutoff = now - dt.timedelta(days=settings.retention_audit_days)

    result: Dict[str, object] = {}
    with session_scope() as session:
        old_reflections = select(Reflection.id).where(Reflection.updated_at < reflection_cutoff)
        result["supervisor_comments"] = session.execute(
            delete(SupervisorComment)
            .where(SupervisorComment.reflection_id.in_(old_reflections))
            .execution_options(synchronize_session=False)
        ).rowcount
        result["read_receipts"] = session.execute(
            delete(ReadReceipt)
            .where(ReadReceipt.reflection_id.in_(old_reflections))
            .execution_options(synchronize_session=False)
        ).rowcount
        result["reflections"] = session.execute(
            delete(Reflection)
            .where(Reflection.updated_at < reflection_cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount
        result["goals"] = session.execute(
            delete(Goal).where(Goal.created_at < reflection_cutoff).execution_options(synchronize_session=False)
        ).rowcount
        result["unanswered_questions"] = session.execute(
            delete(UnansweredQuestion)
            .where(UnansweredQuestion.created_at < analytics_cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount
        result["topic_requests"] = session.execute(
            delete(TopicRequest)
            .where(TopicRequest.created_at < analytics_cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount
        result["safety_reports"] = session.execute(
            delete(SafetyReport)
            .where(SafetyReport.status == "closed", SafetyReport.updated_at < safety_cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount
        result["audit_events"] = audit.prune(session, audit_cutoff)
        result["portal_sessions"] = portal_sessions.prune_expired(session, now)
        result["used_chat_tokens"] = tokens.prune_used_chat_tokens(session, now)

    chat_cutoff_ts = chat_cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
    deleted = tracker_data.delete_before(settings.tracker_store_url, chat_cutoff_ts)
    if deleted is None:
        result["chat_events"] = 0
        result["note"] = "tracker store has no events table yet; nothing to delete there"
    else:
        result["chat_events"] = deleted
    return result
