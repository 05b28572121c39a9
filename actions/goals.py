"""Following up last week's goal: ask how it went and record the answer."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action
from rasa_sdk.events import EventType, SlotSet

from actions.base import CoachAction
from actions.session import offer_open_reflection
from bot import reflections
from bot.parsing import normalise

OUTCOME_REPLIES = (
    ("niet", "Dat geeft niks, het is ook niet makkelijk. Wat hield je tegen? Je kunt het deze week opnieuw proberen, misschien iets kleiner."),
    ("beetje", "Een beetje is ook een stap! Wat zou helpen om het deze week helemaal te doen?"),
    ("", "Goed gedaan! 🎉 Zo laat je zien dat je wilt leren, en dat merkt je begeleider ook."),
)


class ActionAskGoalOutcome(Action):
    def name(self) -> Text:
        return "action_ask_goal_outcome"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        goal_id = tracker.get_slot("goal_followup_id")
        text = reflections.get_goal_text(tracker.sender_id, int(goal_id)) if goal_id else None
        intro = f"Je doel was: “{text}”. " if text else ""
        dispatcher.utter_message(
            text=f"{intro}Hoe ging het?",
            buttons=[
                {"title": "Gelukt 🎉", "payload": "gelukt"},
                {"title": "Een beetje", "payload": "een beetje gelukt"},
                {"title": "Niet gelukt", "payload": "niet gelukt"},
            ],
        )
        return []


class ActionRecordGoalOutcome(CoachAction):
    show_privacy_notice = False

    def name(self) -> Text:
        return "action_record_goal_outcome"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        outcome = normalise(tracker.get_slot("goal_outcome") or "")[:1000]
        goal_id = tracker.get_slot("goal_followup_id")
        if goal_id:
            reflections.record_goal_outcome(tracker.sender_id, int(goal_id), outcome)
        lowered = outcome.lower()
        reply = next(text for key, text in OUTCOME_REPLIES if key in lowered)
        dispatcher.utter_message(text=reply)
        events: List[EventType] = [SlotSet("goal_followup_id", None), SlotSet("goal_outcome", None)]
        return events + offer_open_reflection(dispatcher, tracker.sender_id)
