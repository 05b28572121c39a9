"""Mood check-ins, the fallback and out-of-scope answers: never a dead end."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk.events import EventType

from actions.base import CoachAction, latest_intent, latest_text, refused_as_too_long
from bot import analytics
from bot.parsing import mentions_internship

TOPIC_BUTTONS = [
    {"title": "Initiatief tonen", "payload": "/ask_proactive"},
    {"title": "Omgaan met feedback", "payload": "/ask_feedback"},
    {"title": "Wat verwachten ze van mij?", "payload": "/ask_expectations"},
    {"title": "Weekreflectie", "payload": "/start_reflection"},
]


class ActionMood(CoachAction):
    def name(self) -> Text:
        return "action_mood"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        if refused_as_too_long(dispatcher, tracker):
            return []
        if latest_intent(tracker).get("name") == "mood_good":
            dispatcher.utter_message(response="utter_mood_good")
            return []
        dispatcher.utter_message(
            text="Balen dat het niet zo lekker gaat. Wil je vertellen wat er speelt? Dan denk ik met je mee."
        )
        dispatcher.utter_message(
            text="Gaat het om je stage? Kies wat past, of typ het gewoon.",
            buttons=[
                {"title": "Ik heb geen zin in mijn stage", "payload": "/ask_motivation"},
                {"title": "Ik voel me onzeker", "payload": "/ask_confidence"},
                {"title": "Er gebeurt iets wat niet oké is", "payload": "/report_unsafe"},
            ],
        )
        return []


class ActionFallback(CoachAction):
    def name(self) -> Text:
        return "action_fallback"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        if refused_as_too_long(dispatcher, tracker):
            return []
        text = latest_text(tracker)
        ranking = tracker.latest_message.get("intent_ranking") or []
        best = next((r for r in ranking if r.get("name") != "nlu_fallback"), {})
        if text.strip():
            analytics.record_unanswered(text, best.get("name"), best.get("confidence"))
            dispatcher.utter_message(
                text="Sorry, dat begrijp ik nog niet goed. Ik heb je vraag genoteerd zodat ik het later beter kan. "
                "Kun je het anders zeggen, of kies je een onderwerp?",
                buttons=TOPIC_BUTTONS,
            )
        else:
            dispatcher.utter_message(
                text="Ik kreeg een leeg bericht. Typ je vraag, of kies een onderwerp.", buttons=TOPIC_BUTTONS
            )
        return []


class ActionOutOfScope(CoachAction):
    def name(self) -> Text:
        return "action_out_of_scope"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        if refused_as_too_long(dispatcher, tracker):
            return []
        text = latest_text(tracker)
        if mentions_internship(text):
            intent = latest_intent(tracker)
            analytics.record_unanswered(text, intent.get("name"), intent.get("confidence"))
        dispatcher.utter_message(
            text="Daar kan ik je helaas niet mee helpen: ik ben er voor vragen over je stage. "
            "Waar kan ik je daarbij mee helpen?",
            buttons=TOPIC_BUTTONS,
        )
        return []
