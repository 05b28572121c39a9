"""Turns advice content into short chat messages. Pure, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from bot.content import Advice

MAX_MESSAGE_CHARS = 400
MIRROR_WORDS = (3, 16)
MIRROR_CHARS = 110


@dataclass
class ChatMessage:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


def fill(text: str, first_name: Optional[str], company: Optional[str]) -> str:
    return text.replace("{voornaam}", first_name or "").replace("{bedrijf}", company or "je stagebedrijf").replace(
        " ,", ","
    ).replace("  ", " ")


def _split_tips(tips: List[str]) -> List[str]:
    """Bulleted tips, packed into messages of at most MAX_MESSAGE_CHARS."""
    messages: List[str] = []
    current = ""
    for tip in tips:
        line = f"• {tip}"
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > MAX_MESSAGE_CHARS:
            messages.append(current)
            current = line
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def mirror_line(student_text: Optional[str]) -> Optional[str]:
    """Echoes a short typed question back, so the student feels heard; None for
    button payloads, one-word messages and long stories."""
    text = " ".join((student_text or "").split()).rstrip(" ?!.")
    if not text or text.startswith("/") or len(text) > MIRROR_CHARS:
        return None
    words = len(text.split())
    if not MIRROR_WORDS[0] <= words <= MIRROR_WORDS[1]:
        return None
    return f"Je vraagt: “{text}”."


def compose_advice(
    advice: Advice,
    turn: int,
    first_name: Optional[str] = None,
    company: Optional[str] = None,
    related_labels: Optional[Dict[str, str]] = None,
    student_text: Optional[str] = None,
) -> List[ChatMessage]:
    """Acknowledge, tips, why, and the micro-goal offer; varies with `turn`.

    The acknowledgement rotates and the tips rotate order, so asking the same
    question twice never gives the identical text.
    """
    acknowledge = advice.acknowledge[turn % len(advice.acknowledge)]
    shift = turn % len(advice.tips)
    tips = list(advice.tips[shift:] + advice.tips[:shift])
    opening = fill(acknowledge, first_name, company)
    mirror = mirror_line(student_text)
    messages = [ChatMessage(f"{mirror}\n{opening}" if mirror else opening)]
    intro = "Een paar tips:" if turn % 2 == 0 else "Dit kun je proberen:"
    tip_messages = _split_tips([fill(t, first_name, company) for t in tips])
    if len(intro) + 1 + len(tip_messages[0]) <= MAX_MESSAGE_CHARS:
        tip_messages[0] = f"{intro}\n{tip_messages[0]}"
    messages.extend(ChatMessage(text) for text in tip_messages)
    messages.append(ChatMessage(f"Waarom werkt dit? {fill(advice.why, first_name, company)}"))
    goal = fill(advice.micro_goal, first_name, company)
    messages.append(
        ChatMessage(
            f"Een doel voor deze week: {goal}\nWil je dit als doel voor deze week zetten?",
            buttons=[
                {"title": "Ja, zet als doel", "payload": "/affirm"},
                {"title": "Nee, dank je", "payload": "/deny"},
            ],
        )
    )
    return messages


def related_offer(related: List[str], labels: Dict[str, str]) -> Optional[ChatMessage]:
    if not related:
        return None
    return ChatMessage(
        "Wil je verder met een onderwerp dat hierbij past?",
        buttons=[{"title": labels.get(t, t), "payload": f"/{t}"} for t in related],
    )
