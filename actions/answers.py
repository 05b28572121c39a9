"""Yes/no answers, routed by what the assistant asked last (the `awaiting` slot)."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk.events import EventType, FollowupAction, SlotSet

from actions.base import CoachAction, send
from actions.reflection_save import reset_form_events
from bot import content, reflections
from bot.coaching import related_offer


def _related(dispatcher, topic: Optional[str]) -> None:
    if not topic:
        return
    advice = content.get_advice(topic)
    related = list(advice.related) if advice else []
    offer = related_offer(related, {t: content.topic_label(t) for t in related})
    if offer:
        send(dispatcher, offer)


class ActionHandleAffirm(CoachAction):
    def name(self) -> Text:
        return "action_handle_affirm"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting") or ""
        cleared = [SlotSet("awaiting", None)]
        if awaiting == "goal":
            goal, topic = tracker.get_slot("offered_goal"), tracker.get_slot("offered_goal_topic")
            if self.profile(tracker) and goal:
                reflections.add_goal(tracker.sender_id, goal, source=topic or "coach")
                dispatcher.utter_message(text="Staat genoteerd als je doel voor deze week! Volgende week vraag ik hoe het ging.")
            else:
                dispatcher.utter_message(text="Goed plan! Schrijf het doel ergens op, dan vergeet je het niet.")
            _related(dispatcher, topic)
            return cleared + [SlotSet("offered_goal", None)]
        if awaiting in ("reflection_offer",):
            return cleared + [FollowupAction("action_start_reflection")]
        if awaiting == "overwrite_reflection":
            return cleared + reset_form_events() + [SlotSet("awaiting", "overwrite_confirmed"), FollowupAction("action_start_reflection")]
        if awaiting == "delete_all":
            count = reflections.delete_all_reflections(tracker.sender_id)
            dispatcher.utter_message(text=f"Klaar: {count} reflectie(s) en al je doelen zijn verwijderd.")
            return cleared
        if awaiting.startswith("delete_week:"):
            week = awaiting.split(":", 1)[1]
            deleted = reflections.delete_reflection(tracker.sender_id, week)
            dispatcher.utter_message(
                text=f"Je reflectie van week {week[-2:]} is verwijderd." if deleted else "Die reflectie was al verwijderd."
            )
            return cleared
        if awaiting == "safety_details":
            return cleared + [SlotSet("safety_details", None), FollowupAction("safety_details_form")]
        if awaiting == "safety_confirm":
            return [SlotSet("awaiting", "safety_confirmed"), FollowupAction("action_safety")]
        dispatcher.utter_message(text="Fijn! Waar kan ik je mee helpen?")
        dispatcher.utter_message(response="utter_capabilities")
        return cleared


class ActionHandleDeny(CoachAction):
    def name(self) -> Text:
        return "action_handle_deny"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        awaiting = tracker.get_slot("awaiting") or ""
        cleared = [SlotSet("awaiting", None)]
        if awaiting == "goal":
            dispatcher.utter_message(text="Prima, je hoeft niets vast te leggen.")
            _related(dispatcher, tracker.get_slot("offered_goal_topic"))
            return cleared + [SlotSet("offered_goal", None)]
        replies = {
            "reflection_offer": "Oké, dan doe je het later. Typ 'weekreflectie' wanneer je wilt.",
            "overwrite_reflection": "Oké, je reflectie van deze week blijft zoals hij was.",
            "delete_all": "Er is niets verwijderd.",
            "safety_details": "Oké. Je kunt later altijd nog iets toevoegen, of zelf contact opnemen met school.",
        }
        if awaiting == "safety_confirm":
            return cleared + self._resume_after_safety_check(dispatcher, tracker)
        if awaiting.startswith("delete_week:"):
            awaiting = "delete_all"
        dispatcher.utter_message(text=replies.get(awaiting, "Oké! Laat het weten als ik je ergens mee kan helpen."))
        return cleared

    @staticmethod
    def _resume_after_safety_check(dispatcher, tracker) -> List[EventType]:
        """The student said nothing unsafe is going on: their text is the answer."""
        slot, text = tracker.get_slot("safety_candidate_slot"), tracker.get_slot("safety_candidate")
        events: List[EventType] = [SlotSet("safety_candidate", None), SlotSet("safety_candidate_slot", None)]
        if not slot:
            dispatcher.utter_message(text="Fijn om te horen.")
            dispatcher.utter_message(response="utter_capabilities")
            return events
        dispatcher.utter_message(text="Fijn om te horen! Ik heb je antwoord genoteerd. We gaan verder.")
        form = "goal_followup_form" if slot == "goal_outcome" else "reflection_form"
        return events + [SlotSet(slot, text), FollowupAction(form)]
