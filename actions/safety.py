"""Unsafe situations: empathy, help now, and a report for the school only."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action
from rasa_sdk.events import ActiveLoop, EventType, SlotSet

from actions.base import CoachAction, latest_text
from bot import safety
from bot.parsing import normalise


# Answers inside a form are short stories, which the classifier easily mistakes
# for unsafe reports; and a message the NLU only suspects (safety_suspected: the
# classifier gave report_unsafe some weight, no pattern matched) may be harmless.
# Without a keyword match it then asks the student first; their answer is kept
# either way, and a "yes" makes the report.
CLOSE_FORM = [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionSafety(CoachAction):
    show_privacy_notice = False

    def name(self) -> Text:
        return "action_safety"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        confirmed = tracker.get_slot("awaiting") == "safety_confirmed"
        text = normalise(tracker.get_slot("safety_candidate") if confirmed else latest_text(tracker))
        chose_button = text.startswith("/") or not text
        categories = tracker.latest_message.get("safety_categories") or ([] if chose_button else safety.report_categories(text))
        loop = (tracker.active_loop or {}).get("name")
        suspected = bool(tracker.latest_message.get("safety_suspected"))
        if (loop or suspected) and not categories and not confirmed:
            return self._confirm_first(dispatcher, tracker, text)
        dispatcher.utter_message(
            text="Wat vervelend dat je dit meemaakt. Goed dat je het vertelt: dit is niet oké, en het ligt niet aan jou."
        )
        for line in safety.help_lines(categories):
            dispatcher.utter_message(text=line)
        message = "(de student koos: er gebeurt iets wat niet oké is)" if chose_button else text
        report_id = safety.create_report(tracker.sender_id, tracker.sender_id, message, categories)
        dispatcher.utter_message(
            text="Ik heb dit doorgegeven aan de stagecoördinator van school. Alleen die leest het; je praktijkbegeleider en je stagebedrijf krijgen het niet te zien. "
            "Wil je er nog iets aan toevoegen, bijvoorbeeld wat er gebeurde en wanneer?",
            buttons=[{"title": "Ja, ik wil iets toevoegen", "payload": "/affirm"}, {"title": "Nee, nu niet", "payload": "/deny"}],
        )
        # Always closes any open form (the rules expect it): safety comes first.
        return CLOSE_FORM + [
            SlotSet("safety_candidate", None),
            SlotSet("safety_report_id", float(report_id)),
            SlotSet("awaiting", "safety_details"),
        ]

    def _confirm_first(self, dispatcher, tracker, text: str) -> List[EventType]:
        dispatcher.utter_message(
            text="Ik wil zeker weten dat het goed met je gaat. Gebeurt er iets waardoor je je niet veilig of niet prettig voelt, op je stage of daarbuiten?",
            buttons=[
                {"title": "Ja, er is iets niet oké", "payload": "/affirm"},
                {"title": "Nee, ga verder", "payload": "/deny"},
            ],
        )
        return CLOSE_FORM + [
            SlotSet("awaiting", "safety_confirm"),
            SlotSet("safety_candidate", text),
            SlotSet("safety_candidate_slot", tracker.get_slot("requested_slot")),
        ]

    def on_database_error(self, dispatcher, tracker) -> List[EventType]:
        # The help lines were already sent; make sure the student knows to contact school directly.
        dispatcher.utter_message(
            text="Het lukte me niet om je melding op te slaan. Neem alsjeblieft zelf contact op met school; zij willen je helpen."
        )
        return list(CLOSE_FORM)


class ActionSaveSafetyDetails(Action):
    def name(self) -> Text:
        return "action_save_safety_details"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        report_id = tracker.get_slot("safety_report_id")
        details = normalise(tracker.get_slot("safety_details") or "")
        if report_id and details:
            safety.add_details(int(report_id), tracker.sender_id, details)
        dispatcher.utter_message(response="utter_safety_details_saved")
        return [SlotSet("safety_details", None)]
