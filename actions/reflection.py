"""The weekly reflection: start/resume, validate answers, confirm, save, pause."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import CoachAction
from actions.reflection_save import RETRY_BUTTON, reset_form_events, save_reflection_now
from bot import reflections
from bot.parsing import (
    SAVE_BUTTON_PAYLOAD,
    answer_problem,
    normalise,
    parse_confirmation,
    parse_mood,
    parse_share,
)
from bot.reflection_dialog import FORM_SLOTS, SUMMARY_LABELS, summary_messages
from bot.weeks import iso_week

MAX_TRIES = 2
# Rules start the form on this slot, so conversation tests can check the path.
READY = SlotSet("reflection_ready", True)
NOT_READY = SlotSet("reflection_ready", False)
EDIT_BUTTONS = [{"title": "✅ Opslaan", "payload": SAVE_BUTTON_PAYLOAD}] + [
    {"title": f"✏️ {label}", "payload": f"wijzig {label.lower()}"} for label in SUMMARY_LABELS.values()
] + [{"title": "✏️ Delen", "payload": "wijzig delen"}]


def _draft_in_progress(tracker: Tracker) -> bool:
    return any(tracker.get_slot(slot) for slot in FORM_SLOTS)


class ActionStartReflection(CoachAction):
    def name(self) -> Text:
        return "action_start_reflection"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        profile = self.profile(tracker)
        if profile is None:
            dispatcher.utter_message(
                text="Je weekreflectie kun je invullen als je via het schoolportaal bent ingelogd. Dan kan ik hem voor je bewaren."
            )
            return [NOT_READY]
        if tracker.get_slot("pending_save"):
            return save_reflection_now(dispatcher, tracker) + [NOT_READY]
        week = tracker.get_slot("refl_week")
        if week and _draft_in_progress(tracker):
            dispatcher.utter_message(text=f"We gaan verder met je reflectie van week {week[-2:]}, waar je gebleven was.")
            return [READY]
        if reflections.has_reflection(profile.external_id, iso_week()) and tracker.get_slot("awaiting") != "overwrite_confirmed":
            dispatcher.utter_message(
                text="Je hebt je weekreflectie van deze week al ingevuld. Wil je hem opnieuw invullen? Je nieuwe antwoorden vervangen dan de oude.",
                buttons=[
                    {"title": "Ja, opnieuw invullen", "payload": "/affirm"},
                    {"title": "Nee, laat maar", "payload": "/deny"},
                ],
            )
            return [SlotSet("awaiting", "overwrite_reflection"), NOT_READY]
        dispatcher.utter_message(
            text="Fijn dat je je weekreflectie invult! Het zijn 6 korte vragen. Typ 'pauze' als je later verder wilt."
        )
        return [
            *reset_form_events(),
            SlotSet("refl_week", iso_week()),
            SlotSet("awaiting", None),
            READY,
        ]


    def on_database_error(self, dispatcher, tracker) -> List[EventType]:
        return super().on_database_error(dispatcher, tracker) + [NOT_READY]


class ValidateReflectionForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_reflection_form"

    @staticmethod
    def _answered_now(slot: str, value: Any, tracker: Tracker) -> bool:
        """Only the question just asked is validated. Other slots show up here when
        they were reset or pre-filled (form activation, resuming a paused form)."""
        return value is not None and tracker.get_slot("requested_slot") == slot

    def _tries(self, tracker: Tracker) -> int:
        return int(tracker.get_slot("refl_invalid_count") or 0)

    def _open_answer(self, slot: str, value: Any, dispatcher, tracker) -> Dict[Text, Any]:
        if not self._answered_now(slot, value, tracker):
            return {}
        text = normalise(str(value or ""))
        problem = answer_problem(text)
        if problem is None:
            return {slot: text, "refl_invalid_count": 0.0}
        if problem == "long":
            dispatcher.utter_message(
                text="Dat is een heel lang antwoord! Kun je het korter maken (maximaal 1500 tekens)? Je tekst staat nog hierboven."
            )
            return {slot: None}
        if self._tries(tracker) < MAX_TRIES - 1:
            dispatcher.utter_message(
                text="Kun je iets meer vertellen? Een paar zinnen is genoeg, bijvoorbeeld wat je deed en hoe het ging."
            )
            return {slot: None, "refl_invalid_count": float(self._tries(tracker) + 1)}
        # after the nudges: keep what the student wrote, but never a button payload ("/affirm")
        kept = text if problem != "empty" else "(geen antwoord)"
        return {slot: kept, "refl_invalid_count": 0.0}

    def validate_refl_went_well(self, value, dispatcher, tracker, domain: DomainDict):
        return self._open_answer("refl_went_well", value, dispatcher, tracker)

    def validate_refl_difficult(self, value, dispatcher, tracker, domain: DomainDict):
        return self._open_answer("refl_difficult", value, dispatcher, tracker)

    def validate_refl_feedback(self, value, dispatcher, tracker, domain: DomainDict):
        return self._open_answer("refl_feedback", value, dispatcher, tracker)

    def validate_refl_initiative(self, value, dispatcher, tracker, domain: DomainDict):
        return self._open_answer("refl_initiative", value, dispatcher, tracker)

    def validate_refl_next_goal(self, value, dispatcher, tracker, domain: DomainDict):
        return self._open_answer("refl_next_goal", value, dispatcher, tracker)

    def validate_refl_mood(self, value, dispatcher, tracker, domain: DomainDict):
        if not self._answered_now("refl_mood", value, tracker):
            return {}
        mood = parse_mood(str(value or ""))
        if mood is not None:
            return {"refl_mood": str(mood), "refl_invalid_count": 0.0}
        if self._tries(tracker) < MAX_TRIES - 1:
            dispatcher.utter_message(text="Kies een cijfer van 1 tot 5 met de knoppen, of typ het cijfer.")
            return {"refl_mood": None, "refl_invalid_count": float(self._tries(tracker) + 1)}
        dispatcher.utter_message(text="Geen probleem, dan slaan we de stemming deze week over.")
        return {"refl_mood": "-", "refl_invalid_count": 0.0}

    def validate_refl_share(self, value, dispatcher, tracker, domain: DomainDict):
        if not self._answered_now("refl_share", value, tracker):
            return {}
        choice = parse_share(str(value or ""))
        if choice is not None:
            return {"refl_share": choice, "refl_invalid_count": 0.0}
        if self._tries(tracker) < MAX_TRIES - 1:
            dispatcher.utter_message(text="Kies een van de drie knoppen, dan weet ik wat je begeleider mag zien.")
            return {"refl_share": None, "refl_invalid_count": float(self._tries(tracker) + 1)}
        dispatcher.utter_message(text="Ik houd deze reflectie privé. Je kunt dat hieronder nog aanpassen.")
        return {"refl_share": "none", "refl_invalid_count": 0.0}

    def validate_refl_confirm(self, value, dispatcher, tracker, domain: DomainDict):
        if not self._answered_now("refl_confirm", value, tracker):
            return {}
        action, target = parse_confirmation(str(value or ""))
        if action == "save":
            return {"refl_confirm": "save"}
        if action == "edit" and target:
            dispatcher.utter_message(text="Oké, geef je nieuwe antwoord.")
            return {target: None, "refl_confirm": None}
        dispatcher.utter_message(text="Tik op 'Opslaan', of kies welk antwoord je wilt aanpassen.")
        return {"refl_confirm": None}


class ActionAskReflConfirm(Action):
    """Shows the summary before saving, with buttons to save or change an answer."""

    def name(self) -> Text:
        return "action_ask_refl_confirm"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        first, sharing = summary_messages(tracker.current_slot_values())
        dispatcher.utter_message(text=first)
        dispatcher.utter_message(text=f"{sharing} Klopt alles? Dan sla ik het op.", buttons=EDIT_BUTTONS)
        return []


class ActionSubmitReflection(Action):
    def name(self) -> Text:
        return "action_submit_reflection"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        return save_reflection_now(dispatcher, tracker)


class ActionRetrySave(Action):
    def name(self) -> Text:
        return "action_retry_save"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        if not tracker.get_slot("pending_save"):
            dispatcher.utter_message(text="Er staat niets klaar om opnieuw op te slaan. Alles is bewaard.")
            return []
        return save_reflection_now(dispatcher, tracker)


class ActionPauseForm(Action):
    def name(self) -> Text:
        return "action_pause_form"

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        loop = (tracker.active_loop or {}).get("name")
        if loop == "reflection_form":
            dispatcher.utter_message(response="utter_reflection_paused")
        else:
            dispatcher.utter_message(response="utter_goal_followup_paused")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("refl_invalid_count", 0.0)]


class ActionShowReflections(CoachAction):
    def name(self) -> Text:
        return "action_show_reflections"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        profile = self.profile(tracker)
        if profile is None:
            dispatcher.utter_message(text="Je reflecties kan ik alleen laten zien als je via het schoolportaal bent ingelogd.")
            return []
        items = reflections.recent_reflections(profile.external_id, limit=3)
        goals = reflections.recent_goals(profile.external_id, limit=3)
        if not items and not goals:
            dispatcher.utter_message(
                text="Je hebt nog geen reflecties of doelen. Zullen we je eerste weekreflectie invullen?",
                buttons=[{"title": "Weekreflectie invullen", "payload": "/start_reflection"}],
            )
            return []
        for item in items:
            mood = f", stemming {item.mood}/5" if item.mood else ""
            shared = "gedeeld" if item.shared_fields else "privé"
            dispatcher.utter_message(
                text=f"Week {item.iso_week[-2:]} ({shared}{mood})\nGoed: {_short(item.went_well)}\nLastig: {_short(item.difficult)}\nDoel: {_short(item.next_goal)}"
            )
        if goals:
            lines = [f"• {_short(g.text, 90)}" + (f" ({_short(g.outcome, 30)})" if g.outcome else "") for g in goals]
            dispatcher.utter_message(text="Je laatste doelen:\n" + "\n".join(lines))
        return []


def _short(text, limit: int = 80) -> str:
    value = text or "-"
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
