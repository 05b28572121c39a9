"""Saving the reflection from the conversation's slots, with retry after an outage.

Kept apart from the form actions so the shared base class can retry a pending
save on the student's next message without an import cycle.
"""
from __future__ import annotations

import logging
from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot import reflections
from bot.reflection_dialog import FORM_SLOTS, save_from_slots
from bot.weeks import iso_week

logger = logging.getLogger(__name__)

RETRY_BUTTON = [{"title": "Opnieuw proberen", "payload": "/retry"}]


def reset_form_events() -> List[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS] + [
        SlotSet("refl_week", None),
        SlotSet("refl_invalid_count", 0.0),
        SlotSet("pending_save", False),
    ]


def save_reflection_now(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Saves; on a database error keeps every answer in the conversation and marks it pending."""
    slots = tracker.current_slot_values()
    week = slots.get("refl_week") or iso_week()
    try:
        saved = save_from_slots(tracker.sender_id, week, slots)
    except reflections.UnknownStudent:
        dispatcher.utter_message(
            text="Ik kan je reflectie alleen bewaren als je via het schoolportaal bent ingelogd. "
            "Je antwoorden staan nog wel hier in het gesprek."
        )
        return reset_form_events()
    except SQLAlchemyError:
        logger.exception("saving reflection failed; kept pending")
        dispatcher.utter_message(
            text="Opslaan lukt nu even niet door een storing. Je antwoorden zijn niet kwijt: ze staan veilig in dit gesprek. "
            "Ik probeer het opnieuw bij je volgende bericht, of tik op 'Opnieuw proberen'.",
            buttons=RETRY_BUTTON,
        )
        return [SlotSet("pending_save", True)]
    verb = "opgeslagen" if saved.created else "bijgewerkt"
    dispatcher.utter_message(
        text=f"Je weekreflectie is {verb}. ✅ Goed dat je even hebt teruggekeken op je week!"
    )
    if slots.get("refl_next_goal"):
        dispatcher.utter_message(text="Volgende week vraag ik je hoe het ging met je doel.")
    return reset_form_events()
