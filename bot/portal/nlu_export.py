"""Unanswered questions as Rasa NLU training data (YAML) for the developers. No I/O."""
from __future__ import annotations

import datetime as dt
import re
from typing import Dict, Iterable, List, Optional, Tuple

UNKNOWN_INTENT = "nieuw_onderwerp"
_INTENT_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def nlu_yaml(questions: Iterable[Tuple[str, Optional[str]]], exported_by: str, now: dt.datetime) -> str:
    """Rasa 3 NLU YAML; examples grouped under the intent the model guessed.

    The guess was not confident (that is why the question went unanswered), so the
    file says so at the top: a developer checks every example before it goes into
    data/nlu/. Each example sits inside a literal block, so no text can break the YAML.
    """
    groups: Dict[str, List[str]] = {}
    for text, intent in questions:
        name = intent if intent and _INTENT_NAME.match(intent) and intent != "nlu_fallback" else UNKNOWN_INTENT
        line = _one_line(text)
        if line and line not in groups.setdefault(name, []):
            groups[name].append(line)
    out = [
        "# Onbeantwoorde vragen uit Stagecoach (zonder namen van studenten).",
        f"# Geëxporteerd op {now:%d-%m-%Y %H:%M} door {_one_line(exported_by)}.",
        "# Let op: de intent is een gok van het model. Controleer elk voorbeeld voordat het in data/nlu/ komt.",
        'version: "3.1"',
        "nlu:",
    ]
    for name in sorted(groups):
        out.append(f"- intent: {name}")
        out.append("  examples: |")
        out.extend(f"    - {line}" for line in groups[name])
    return "\n".join(out) + "\n"
