"""The weekly reflection as a conversation: slot names, summary, saving from slots."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from bot import reflections
from bot.parsing import parse_mood, parse_share

SLOT_TO_FIELD = {
    "refl_went_well": "went_well",
    "refl_difficult": "difficult",
    "refl_feedback": "feedback",
    "refl_initiative": "initiative",
    "refl_next_goal": "next_goal",
    "refl_mood": "mood",
}
FORM_SLOTS = list(SLOT_TO_FIELD) + ["refl_share", "refl_confirm"]
SUMMARY_LABELS = {
    "refl_went_well": "Goed gegaan",
    "refl_difficult": "Lastig",
    "refl_feedback": "Feedback",
    "refl_initiative": "Initiatief",
    "refl_next_goal": "Doel",
    "refl_mood": "Stemming",
}
SHARE_LABELS = {
    "all": "alles delen met je praktijkbegeleider",
    "goal_mood": "alleen je doel en stemming delen",
    "none": "alles privé (alleen jij ziet het)",
}


def share_choice(value: Any) -> str:
    """The validated choice ('all', 'goal_mood', 'none'); private when unclear."""
    text = str(value or "")
    if text in reflections.SHARE_PRESETS:
        return text
    return parse_share(text) or "none"


def answers_from_slots(slots: Mapping[str, Any]) -> Dict[str, Any]:
    answers = {field: slots.get(slot) for slot, field in SLOT_TO_FIELD.items()}
    answers["mood"] = parse_mood(str(slots.get("refl_mood") or "")) if slots.get("refl_mood") else None
    return answers


def shared_fields(slots: Mapping[str, Any]) -> List[str]:
    return list(reflections.SHARE_PRESETS[share_choice(slots.get("refl_share"))])


def short(text: Any, limit: int = 60) -> str:
    value = str(text or "-")
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def summary_messages(slots: Mapping[str, Any]) -> List[str]:
    lines = [f"{label}: {short(slots.get(slot))}" for slot, label in SUMMARY_LABELS.items()]
    choice = share_choice(slots.get("refl_share"))
    first = "Dit heb je ingevuld:\n" + "\n".join(lines)
    return [first, f"Delen: {SHARE_LABELS[choice]}."]


def save_from_slots(external_id: str, week: str, slots: Mapping[str, Any]) -> reflections.SavedReflection:
    return reflections.save_reflection(external_id, week, answers_from_slots(slots), shared_fields(slots))
