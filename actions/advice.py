"""Coaching answers for the twelve coaching topics, from the content store."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk.events import EventType, SlotSet

from actions.base import CoachAction, latest_intent, latest_text, refused_as_too_long, send
from bot import analytics, content
from bot.coaching import compose_advice
from bot.parsing import known_leerweg, known_phase, leerweg_from_text, phase_from_text, phase_in_question
from bot.topics import COACHING_TOPICS, PHASE_LABELS


def _entity(tracker, name: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(name), None)


class ActionCoach(CoachAction):
    def name(self) -> Text:
        return "action_coach"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        if refused_as_too_long(dispatcher, tracker):
            return [SlotSet("pending_topic", None)]
        intent = latest_intent(tracker).get("name")
        text = latest_text(tracker)
        topic = intent if intent in COACHING_TOPICS else tracker.get_slot("pending_topic")
        if topic not in COACHING_TOPICS:
            dispatcher.utter_message(text="Waar gaat je vraag over? Kies een onderwerp.")
            dispatcher.utter_message(response="utter_capabilities")
            return []
        profile = self.profile(tracker)
        phase = (
            known_phase(_entity(tracker, "phase"))
            or known_phase(tracker.get_slot("phase"))
            or (profile.phase if profile else None)
            or (phase_from_text(text) if intent == "inform" else phase_in_question(text))
        )
        leerweg = (
            (profile.leerweg if profile else None)
            or known_leerweg(_entity(tracker, "leerweg"))
            or known_leerweg(tracker.get_slot("leerweg"))
            or leerweg_from_text(text)
        )
        variants = content.published_variants(topic)
        if phase is None and len(variants["phases"] - {"any"}) > 1:
            return self._ask_phase(dispatcher, topic)
        if leerweg is None and variants["leerwegen"] & {"BOL", "BBL"}:
            return self._ask_leerweg(dispatcher, topic, phase)
        advice = content.get_advice(topic, phase, leerweg)
        if advice is None:
            analytics.record_unanswered(text, topic, latest_intent(tracker).get("confidence"))
            dispatcher.utter_message(
                text="Over dit onderwerp heb ik nog geen tips. Ik geef je vraag door aan de stagecoördinatoren, zodat ik het later wel weet."
            )
            return [SlotSet("pending_topic", None)]
        turn = int(tracker.get_slot("advice_turn") or 0)
        labels = {t: content.topic_label(t) for t in advice.related}
        for message in compose_advice(
            advice,
            turn,
            first_name=profile.first_name if profile else None,
            company=profile.company if profile else None,
            related_labels=labels,
            student_text=text if intent in COACHING_TOPICS else None,
        ):
            send(dispatcher, message)
        analytics.record_topic(topic)
        return [
            SlotSet("advice_turn", float(turn + 1)),
            SlotSet("pending_topic", None),
            SlotSet("phase", phase),
            SlotSet("leerweg", leerweg),
            SlotSet("awaiting", "goal"),
            SlotSet("offered_goal", advice.micro_goal),
            SlotSet("offered_goal_topic", topic),
        ]

    def _ask_phase(self, dispatcher, topic: str) -> List[EventType]:
        dispatcher.utter_message(
            text="Dan kan ik je beter helpen. Waar sta je nu?",
            buttons=[
                {"title": label, "payload": f'/inform{{"phase":"{phase}"}}'}
                for phase, label in PHASE_LABELS.items()
            ],
        )
        return [SlotSet("pending_topic", topic)]

    def _ask_leerweg(self, dispatcher, topic: str, phase: Optional[str]) -> List[EventType]:
        dispatcher.utter_message(
            text="Doe je BOL (vooral school, met stage erbij) of BBL (vooral werken, 1 of 2 dagen school)?",
            buttons=[
                {"title": "BOL", "payload": '/inform{"leerweg":"BOL"}'},
                {"title": "BBL", "payload": '/inform{"leerweg":"BBL"}'},
            ],
        )
        return [SlotSet("pending_topic", topic), SlotSet("phase", phase)]
