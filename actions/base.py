"""Shared behaviour of the assistant's actions (abstract: rasa_sdk registers only
concrete Action subclasses)."""
from __future__ import annotations

import abc
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from actions.report_details import added_to_report
from bot.parsing import MAX_MESSAGE_CHARS
from bot.profile import StudentProfile, load_profile

logger = logging.getLogger(__name__)

DATABASE_DOWN = (
    "Het lukt me nu even niet om bij mijn gegevens te komen. Er gaat niets verloren: "
    "probeer het over een paar minuten opnieuw."
)


def send(dispatcher: CollectingDispatcher, message) -> None:
    """Sends a bot.coaching.ChatMessage."""
    dispatcher.utter_message(text=message.text, buttons=message.buttons or None)


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> Dict[str, Any]:
    return tracker.latest_message.get("intent") or {}


TOO_LONG = (
    "Je bericht is erg lang. Kun je het korter maken (maximaal %d tekens) of in een paar stukjes sturen?"
    % MAX_MESSAGE_CHARS
)


def refused_as_too_long(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answers an oversized message with a friendly Dutch request to shorten it
    (never used by the safety action: an unsafe report is always taken)."""
    if len(latest_text(tracker)) <= MAX_MESSAGE_CHARS:
        return False
    dispatcher.utter_message(text=TOO_LONG)
    return True


class CoachAction(Action, abc.ABC):
    """Runs `respond`, shows the privacy notice at first contact, adds details typed
    straight after an unsafe report to that report (whatever the NLU made of them),
    and turns a database outage into a friendly Dutch message instead of an error."""

    show_privacy_notice = True

    @abc.abstractmethod
    def name(self) -> Text:
        ...

    @abc.abstractmethod
    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        ...

    def profile(self, tracker: Tracker) -> Optional[StudentProfile]:
        return load_profile(tracker.sender_id)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        events: List[EventType] = []
        if self.show_privacy_notice and not tracker.get_slot("privacy_notice_shown"):
            dispatcher.utter_message(response="utter_privacy_notice")
            events.append(SlotSet("privacy_notice_shown", True))
        try:
            added = added_to_report(dispatcher, tracker)
            events.extend(added if added is not None else self.respond(dispatcher, tracker, domain))
        except (OperationalError, SQLAlchemyError):
            logger.exception("database error in %s", self.name())
            events.extend(self.on_database_error(dispatcher, tracker))
        return events

    def on_database_error(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        dispatcher.utter_message(text=DATABASE_DOWN)
        return []
