"""The advice edit form: form text <-> content body, Dutch errors, chat preview. No I/O."""
from __future__ import annotations

import json
import re
from typing import Dict, List, Mapping, Optional

from bot.coaching import ChatMessage, compose_advice, related_offer
from bot.content import Advice
from bot.content_schema import COUNTS, LIMITS, validate_body

FIELD_NAMES = {
    "acknowledge": "Erkennen",
    "tips": "Tips",
    "why": "Waarom",
    "micro_goal": "Doel voor de week",
    "related": "Past ook bij",
}
LIST_FIELDS = ("acknowledge", "tips", "related")
PREVIEW_NAME = "Sam"
PREVIEW_COMPANY = "Bakkerij De Korenaar"
STATUS_NAMES = {"draft": "Concept", "published": "Gepubliceerd", "archived": "Oud"}


def _lines(value: Optional[str]) -> List[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def body_from_form(form: Mapping[str, str]) -> Dict[str, object]:
    """One item per line for the lists; empty lines are ignored."""
    return {
        "acknowledge": _lines(form.get("acknowledge")),
        "tips": _lines(form.get("tips")),
        "why": (form.get("why") or "").strip(),
        "micro_goal": (form.get("micro_goal") or "").strip(),
        "related": _lines(form.get("related")),
    }


def form_from_body(body_json: Optional[str]) -> Dict[str, str]:
    body = json.loads(body_json) if body_json else {}
    return {
        name: "\n".join(body.get(name) or []) if name in LIST_FIELDS else (body.get(name) or "")
        for name in FIELD_NAMES
    }


def typed_form(form: Mapping[str, str]) -> Dict[str, str]:
    """What the coordinator typed, exactly, to show again after an error."""
    return {name: form.get(name) or "" for name in FIELD_NAMES}


_FIELD_IN_MESSAGE = re.compile(r"'(" + "|".join(FIELD_NAMES) + r")\b")


def dutch_errors(body: Mapping[str, object]) -> List[str]:
    """validate_body's messages, with the form's Dutch field names."""
    errors = validate_body(dict(body), "Dit blok")
    return [_FIELD_IN_MESSAGE.sub(lambda m: "'" + FIELD_NAMES[m.group(1)], error) for error in errors]


def hints() -> Dict[str, str]:
    def count(name: str) -> str:
        low, high = COUNTS[name]
        return f"{low} tot {high} regels" if low else f"hoogstens {high} regels"

    return {
        "acknowledge": f"Een zin per regel, {count('acknowledge')}; de coach kiest er steeds een andere. Maximaal {LIMITS['acknowledge']} tekens per regel.",
        "tips": f"Een tip per regel, {count('tips')}. Maximaal {LIMITS['tips']} tekens per tip.",
        "why": f"Waarom helpen de tips? Maximaal {LIMITS['why']} tekens.",
        "micro_goal": f"Een klein doel voor deze week. Maximaal {LIMITS['micro_goal']} tekens.",
        "related": f"Namen van onderwerpen (zoals ask_feedback), een per regel, {count('related')}.",
    }


def preview(topic: str, phase: str, leerweg: str, body: Mapping[str, object], labels: Mapping[str, str]) -> List[ChatMessage]:
    """The messages as the chat would show them (first turn), with example names filled in."""
    advice = Advice(
        topic=topic,
        phase=phase,
        leerweg=leerweg,
        version=0,
        acknowledge=tuple(body["acknowledge"]),
        tips=tuple(body["tips"]),
        why=str(body["why"]),
        micro_goal=str(body["micro_goal"]),
        related=tuple(body["related"]),
    )
    messages = compose_advice(advice, 0, PREVIEW_NAME, PREVIEW_COMPANY, dict(labels))
    offer = related_offer(list(advice.related), dict(labels))
    if offer is not None:
        messages.append(offer)
    return messages
