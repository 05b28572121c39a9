"""Anonymous records for coordinators: unanswered questions and asked topics."""
from __future__ import annotations

from typing import Optional

from bot.db import session_scope
from bot.models import TopicRequest, UnansweredQuestion
from bot.parsing import normalise
from bot.weeks import iso_week

MAX_STORED_TEXT = 500


def record_unanswered(text: str, predicted_intent: Optional[str], confidence: Optional[float]) -> None:
    cleaned = normalise(text)[:MAX_STORED_TEXT]
    if not cleaned:
        return
    with session_scope() as session:
        session.add(
            UnansweredQuestion(text=cleaned, predicted_intent=predicted_intent, confidence=confidence)
        )


def record_topic(topic: str) -> None:
    with session_scope() as session:
        session.add(TopicRequest(topic=topic, iso_week=iso_week()))
