"""Details a student types straight after making an unsafe report.

After a report the assistant asks whether the student wants to add something. Many
students simply type the details instead of pressing "Ja"; the NLU may read "hij deed
het vandaag weer" as any intent. Every coaching action checks this first (through
CoachAction.run), so the text joins the report instead of getting advice or a menu.
"""
from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import safety
from bot.parsing import MIN_ANSWER_WORDS, normalise

# Intents that keep their own meaning right after a report: the yes/no answer to
# "wil je iets toevoegen?", questions about who reads the report, and commands.
KEEP_THEIR_MEANING = {
    "affirm", "deny", "ask_privacy", "start_reflection", "show_reflections",
    "greet", "goodbye", "thank", "bot_challenge", "ask_capabilities",
}


def added_to_report(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """Adds the latest message to the student's report and says so; None when this
    turn is not a typed addition to a report made in the previous turn."""
    report_id = tracker.get_slot("safety_report_id")
    if tracker.get_slot("awaiting") != "safety_details" or not report_id:
        return None
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = normalise(tracker.latest_message.get("text") or "")
    if intent in KEEP_THEIR_MEANING or text.startswith("/") or len(text.split()) < MIN_ANSWER_WORDS:
        return None
    if not _answers_the_safety_action(tracker):
        return None
    safety.add_details(int(report_id), tracker.sender_id, text)
    dispatcher.utter_message(response="utter_safety_details_saved")
    if "self_harm" in safety.report_categories(text):
        for line in safety.help_lines(["self_harm"]):
            dispatcher.utter_message(text=line)
    return [SlotSet("awaiting", None)]


def _answers_the_safety_action(tracker: Tracker) -> bool:
    """The latest user message came right after the report was made (not hours later
    in another part of the chat, where the slot may still be set)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name") == "action_safety"
    return False
