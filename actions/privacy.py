"""Who can see what, and deleting the student's own reflections."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk.events import EventType, SlotSet

from actions.base import CoachAction, latest_text
from bot import reflections
from bot.parsing import deletion_requested

DELETE_BUTTONS = [
    {"title": "Laatste reflectie verwijderen", "payload": '/ask_privacy{"privacy_action":"delete_last"}'},
    {"title": "Alles verwijderen", "payload": '/ask_privacy{"privacy_action":"delete_all"}'},
]


class ActionPrivacy(CoachAction):
    show_privacy_notice = False

    def name(self) -> Text:
        return "action_privacy"

    def respond(self, dispatcher, tracker, domain) -> List[EventType]:
        requested = next(tracker.get_latest_entity_values("privacy_action"), None)
        if requested is None:
            wish = deletion_requested(latest_text(tracker))
            requested = {"all": "delete_all", "one": "delete_choice"}.get(wish)
        if requested == "delete_all":
            dispatcher.utter_message(
                text="Weet je het zeker? Dan verwijder ik al je weekreflecties en doelen, voor altijd. Ook je begeleider ziet ze dan niet meer.",
                buttons=[{"title": "Ja, alles verwijderen", "payload": "/affirm"}, {"title": "Nee", "payload": "/deny"}],
            )
            return [SlotSet("awaiting", "delete_all")]
        if requested == "delete_last":
            latest = reflections.recent_reflections(tracker.sender_id, limit=1) if self.profile(tracker) else []
            if not latest:
                dispatcher.utter_message(text="Je hebt nog geen reflecties, dus er is niets om te verwijderen.")
                return []
            dispatcher.utter_message(
                text=f"Weet je het zeker? Dan verwijder ik je reflectie van week {latest[0].iso_week[-2:]} voor altijd.",
                buttons=[{"title": "Ja, verwijderen", "payload": "/affirm"}, {"title": "Nee", "payload": "/deny"}],
            )
            return [SlotSet("awaiting", f"delete_week:{latest[0].iso_week}")]
        if requested == "delete_choice":
            dispatcher.utter_message(text="Wat wil je verwijderen?", buttons=DELETE_BUTTONS)
            return []
        dispatcher.utter_message(
            text="Wat bewaar ik? Je gesprekken met mij en je weekreflecties en doelen. Je school bepaalt hoe lang; daarna wordt het gewist."
        )
        dispatcher.utter_message(
            text="Wie ziet wat? Je praktijkbegeleider ziet alleen de delen van je reflectie die jij deelt. "
            "Meld je iets onveiligs, dan ziet alleen de stagecoördinator van school dat, nooit je stagebedrijf. "
            "Wat je mij vraagt, wordt zonder je naam gebruikt om de coach te verbeteren."
        )
        dispatcher.utter_message(
            text="Op de pagina 'Mijn gegevens' in het portaal zie je wie jouw gedeelde reflecties heeft gelezen, "
            "en kun je al je gegevens downloaden of je account laten verwijderen."
        )
        dispatcher.utter_message(
            text="Je kunt je reflecties ook hier zelf verwijderen. Wil je dat?",
            buttons=DELETE_BUTTONS,
        )
        return []
