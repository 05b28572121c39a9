"""Dutch labels for what the portal shows (one place, B1 language)."""
from __future__ import annotations

from bot.topics import PHASE_LABELS

FIELD_LABELS = {
    "went_well": "Wat ging goed",
    "difficult": "Wat was lastig",
    "feedback": "Feedback of compliment",
    "initiative": "Uit zichzelf gedaan",
    "next_goal": "Doel voor volgende week",
    "mood": "Stemming (1 tot 5)",
}

MOOD_WORDS = {1: "heel slecht", 2: "niet zo goed", 3: "gaat wel", 4: "goed", 5: "heel goed"}

PHASE_NAMES = dict(PHASE_LABELS, any="Alle fasen")
LEERWEG_NAMES = {"BOL": "BOL", "BBL": "BBL", "any": "BOL en BBL"}

SAFETY_STATUS = {"new": "Nieuw", "acknowledged": "In behandeling", "closed": "Afgesloten"}

NOT_SHARED = "(niet gedeeld)"


def mood_text(mood) -> str:
    if mood is None:
        return "-"
    return f"{mood} ({MOOD_WORDS.get(int(mood), '')})"
