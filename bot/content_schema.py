"""Validation of advice content documents (YAML files and portal edits).

Pure functions, no I/O. Messages are Dutch: coordinators read them.
"""
from __future__ import annotations

import reprlib
import string
from typing import Any, Dict, List

from bot.topics import COACHING_TOPICS, CONTENT_LEERWEGEN, CONTENT_PHASES

ALLOWED_PLACEHOLDERS = {"voornaam", "bedrijf"}
ENTRY_KEYS = {"phase", "leerweg", "acknowledge", "tips", "why", "micro_goal", "related"}
BODY_KEYS = ("acknowledge", "tips", "why", "micro_goal", "related")
LIMITS = {"label": 30, "acknowledge": 200, "tips": 300, "why": 350, "micro_goal": 160}
COUNTS = {"acknowledge": (1, 5), "tips": (2, 4), "related": (0, 2)}


_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxlist, _SHOW.maxdict, _SHOW.maxstring, _SHOW.maxother = 2, 4, 4, 60, 60


def shown(value: Any) -> str:
    """A short, bounded rendering of any value for an error message (a YAML value can
    be a huge string or a deeply nested structure)."""
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:57] + "..."
    return _SHOW.repr(value)


class ContentValidationError(ValueError):
    def __init__(self, errors: List[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _placeholders(text: str) -> List[str]:
    """Every {field} in the text, written with its conversion/format spec (fill() only
    replaces the plain "{voornaam}" and "{bedrijf}", so "{voornaam!r}" or "{{" would
    reach the student as raw braces)."""
    try:
        fields = [
            name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            for _, name, spec, conversion in string.Formatter().parse(text)
            if name is not None
        ]
    except ValueError:
        return ["<ongeldige accolades>"]
    if "{{" in text or "}}" in text:
        fields.append("<ongeldige accolades>")
    return fields


def _check_text(errors: List[str], where: str, field: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        errors.append(f"{where}: '{field}' moet een tekst zijn en mag niet leeg zijn.")
        return
    limit = LIMITS.get(field.split(" ")[0])
    if limit and len(value) > limit:
        errors.append(f"{where}: '{field}' is {len(value)} tekens, maximaal {limit}.")
    unknown = [p for p in _placeholders(value) if p not in ALLOWED_PLACEHOLDERS]
    if unknown:
        allowed = ", ".join("{" + p + "}" for p in sorted(ALLOWED_PLACEHOLDERS))
        errors.append(
            f"{where}: '{field}' gebruikt onbekende invulplek(ken) {unknown}; toegestaan: {allowed}."
        )


def _check_list(errors: List[str], where: str, field: str, value: Any) -> None:
    low, high = COUNTS[field]
    if not isinstance(value, list):
        errors.append(f"{where}: '{field}' moet een lijst zijn.")
        return
    if not low <= len(value) <= high:
        errors.append(f"{where}: '{field}' heeft {len(value)} items, toegestaan {low} tot {high}.")
    for index, item in enumerate(value, start=1):
        if field == "related":
            if item not in COACHING_TOPICS:
                errors.append(f"{where}: 'related' noemt onbekend onderwerp '{shown(item)}'.")
        else:
            _check_text(errors, where, f"{field} nr. {index}", item)


def validate_body(body: Dict[str, Any], where: str) -> List[str]:
    """Checks one entry's texts (as edited in the portal)."""
    errors: List[str] = []
    if not isinstance(body, dict):
        return [f"{where}: moet een blok met velden zijn."]
    for field in ("acknowledge", "tips", "related"):
        _check_list(errors, where, field, body.get(field, [] if field == "related" else None))
    for field in ("why", "micro_goal"):
        _check_text(errors, where, field, body.get(field))
    return errors


def validate_entry(entry: Any, where: str) -> List[str]:
    if not isinstance(entry, dict):
        return [f"{where}: moet een blok met velden zijn."]
    errors: List[str] = []
    unknown = sorted(shown(key) for key in set(entry) - ENTRY_KEYS)
    if unknown:
        errors.append(f"{where}: onbekende velden {unknown}.")
    if entry.get("phase") not in CONTENT_PHASES:
        errors.append(f"{where}: 'phase' moet een van {list(CONTENT_PHASES)} zijn.")
    if entry.get("leerweg") not in CONTENT_LEERWEGEN:
        errors.append(f"{where}: 'leerweg' moet een van {list(CONTENT_LEERWEGEN)} zijn.")
    errors.extend(validate_body(entry, where))
    return errors


def validate_document(doc: Any, source: str) -> List[str]:
    """Checks one topic document; returns every problem found (empty when valid)."""
    if not isinstance(doc, dict):
        return [f"{source}: het bestand moet een blok met 'topic', 'label' en 'entries' zijn."]
    errors: List[str] = []
    topic = doc.get("topic")
    if topic not in COACHING_TOPICS:
        errors.append(f"{source}: onbekend onderwerp '{shown(topic)}'.")
        topic = shown(topic)
    unknown = sorted(shown(key) for key in set(doc) - {"topic", "label", "entries"})
    if unknown:
        errors.append(f"{source}: onbekende velden {unknown}.")
    _check_text(errors, f"{source} ({topic})", "label", doc.get("label"))
    entries = doc.get("entries")
    if not isinstance(entries, list) or not entries:
        errors.append(f"{source} ({topic}): 'entries' moet een niet-lege lijst zijn.")
        return errors
    seen = set()
    for number, entry in enumerate(entries, start=1):
        where = f"{source} ({topic}, blok {number})"
        errors.extend(validate_entry(entry, where))
        if isinstance(entry, dict) and all(isinstance(entry.get(k), str) for k in ("phase", "leerweg")):
            key = (entry.get("phase"), entry.get("leerweg"))
            if key in seen:
                errors.append(f"{where}: phase/leerweg {key} staat er twee keer in.")
            seen.add(key)
    return errors
