"""Session start and the greeting that opens each conversation."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CoachAction
from bot import reflections
from bot.weeks import iso_week

# Not carried into a new session: the internship phase moves on, and half-finished
# yes/no questions belong to the old conversation.
SESSION_ONLY_SLOTS = {"phase", "pending_topic", "awaiting", "offered_goal", "offered_goal_topic", "requested_slot"}


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if name not in SESSION_ONLY_SLOTS and value is not None
        ]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]


class ActionGreet(CoachAction):
    def name(self) -> Text:
        return "action_greet"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        profile = self.profile(tracker)
        if profile is None:
            dispatcher.utter_message(
                text="Hoi! Ik ben Stagecoach, je digitale coach voor je stage (BPV). Stel me gerust een vraag."
            )
            dispatcher.utter_message(response="utter_capabilities")
            return [SlotSet("goal_followup_ready", False)]
        dispatcher.utter_message(
            text=f"Hoi {profile.first_name}! Fijn dat je er bent. Ik ben Stagecoach, je digitale stagecoach."
        )
        for reply in reflections.pending_replies(profile.external_id):
            dispatcher.utter_message(text=f"Je praktijkbegeleider schreef: “{reply}”")
        goal = reflections.goal_to_follow_up(profile.external_id)
        if goal is not None:
            return [
                SlotSet("goal_followup_id", float(goal.id)),
                SlotSet("goal_outcome", None),
                SlotSet("goal_followup_ready", True),
            ]
        return offer_open_reflection(dispatcher, profile.external_id) + [SlotSet("goal_followup_ready", False)]

    def on_database_error(self, dispatcher, tracker) -> List[EventType]:
        return super().on_database_error(dispatcher, tracker) + [SlotSet("goal_followup_ready", False)]


def offer_open_reflection(dispatcher: CollectingDispatcher, external_id: str) -> List[EventType]:
    if reflections.has_reflection(external_id, iso_week()):
        dispatcher.utter_message(text="Waar kan ik je vandaag mee helpen?")
        return []
    dispatcher.utter_message(
        text="Je weekreflectie van deze week staat nog open. Wil je die nu invullen? Het duurt ongeveer 5 minuten.",
        buttons=[
            {"title": "Ja, nu invullen", "payload": "/affirm"},
            {"title": "Later", "payload": "/deny"},
        ],
    )
    return [SlotSet("awaiting", "reflection_offer")]
