"""Detection of unsafe situations and the reports that go to the school.

A keyword/regex net (data/safety/patterns.yml) backs up the NLU classifier: an
unsafe message must never be missed. Reports are for school coordinators only and
are never sent to the workplace supervisor.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Pattern, Tuple

import yaml
from sqlalchemy import select

from bot.config import PROJECT_ROOT, get_settings
from bot.db import session_scope
from bot.models import SafetyReport, User, utcnow
from bot.spelling import correct_key_words

PATTERNS_FILE = PROJECT_ROOT / "data" / "safety" / "patterns.yml"
MAX_DETAILS = 4000
# The category of reports that say something is not okay without saying what.
UNSPECIFIED = "unspecified"


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    patterns: Tuple[Pattern, ...]
    # Signals too soft to report on their own ("sorry voor alles"): the assistant
    # asks the student first, like a suspicion of the classifier.
    confirm_first: bool = False


_FRAGMENT = re.compile(r"<<(\w+)>>")


def expand_fragments(pattern: str, fragments: Dict[str, str]) -> str:
    """`pattern` with every <<name>> replaced by the shared fragment of that name."""
    def fragment(match: "re.Match[str]") -> str:
        if match.group(1) not in fragments:
            raise ValueError(f"unknown fragment <<{match.group(1)}>> in safety pattern: {pattern[:80]}")
        return fragments[match.group(1)]

    return _FRAGMENT.sub(fragment, pattern)


@functools.lru_cache(maxsize=4)
def load_categories(path: Path = PATTERNS_FILE) -> Tuple[Category, ...]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    fragments = doc.get("fragments") or {}
    return tuple(
        Category(
            name=name,
            label=spec.get("label", name),
            patterns=tuple(re.compile(expand_fragments(p, fragments), re.IGNORECASE) for p in spec["patterns"]),
            confirm_first=bool(spec.get("confirm_first", False)),
        )
        for name, spec in doc["categories"].items()
    )


# Chat spellings rewritten to standard Dutch before matching, so that the patterns
# need only one spelling ("k wil nie meer leven" must match like "ik wil niet meer leven").
CHAT_SPELLINGS = {"nie": "niet", "ni": "niet", "nt": "niet", "k": "ik", "ff": "even", "effe": "even", "da": "dat"}
_CHAT_WORD = re.compile(r"(?<![\w'-])(" + "|".join(CHAT_SPELLINGS) + r")(?![\w'-])")


def text_for_matching(text: str) -> str:
    """Lower-cased, whitespace folded, chat spellings in standard Dutch and
    misspelled key words put right ("gepesd" reads as "gepest")."""
    lowered = re.sub(r"\s+", " ", (text or "").lower()).strip()
    return correct_key_words(_CHAT_WORD.sub(lambda match: CHAT_SPELLINGS[match.group(1)], lowered))


def detect(text: str) -> List[str]:
    """Names of the unsafe categories the text matches (empty when none)."""
    normalised = text_for_matching(text)
    return [c.name for c in load_categories() if any(p.search(normalised) for p in c.patterns)]


def split_by_certainty(categories: List[str]) -> Tuple[List[str], List[str]]:
    """(categories that make a report at once, categories to ask about first)."""
    soft = {c.name for c in load_categories() if c.confirm_first}
    return [c for c in categories if c not in soft], [c for c in categories if c in soft]


def report_categories(text: str) -> List[str]:
    """The matched categories that make a report without asking first."""
    return split_by_certainty(detect(text))[0]


def create_report(
    external_id: Optional[str], conversation_id: str, message: str, categories: List[str]
) -> int:
    with session_scope() as session:
        student = None
        if external_id:
            student = session.execute(
                select(User).where(User.external_id == external_id, User.role == "student")
            ).scalar()
        report = SafetyReport(
            student_id=student.id if student else None,
            conversation_id=conversation_id,
            categories=",".join(categories),
            message=message[:MAX_DETAILS],
        )
        session.add(report)
        session.flush()
        return report.id


def add_details(report_id: int, conversation_id: str, text: str) -> bool:
    """Appends what the student adds; only from the same conversation."""
    with session_scope() as session:
        report = session.get(SafetyReport, report_id)
        if report is None or report.conversation_id != conversation_id:
            return False
        combined = "\n".join(filter(None, [report.details, text.strip()]))
        report.details = combined[:MAX_DETAILS]
        report.updated_at = utcnow()
        return True


def help_lines(categories: List[str]) -> List[str]:
    """Concrete help now, in Dutch; 113 when self-harm or suicide is involved, or
    may be (no kind known: the student confirmed, chose a button or only said that
    something is not okay)."""
    settings = get_settings()
    lines = []
    if "self_harm" in categories or not set(categories) - {UNSPECIFIED}:
        lines.append(
            "Denk je aan zelfdoding of doe je jezelf pijn? Praat er nu over met 113 Zelfmoordpreventie: "
            "bel gratis 0800-0113 of chat via 113.nl. Dag en nacht, anoniem."
        )
    lines.append(
        f"Praat erover met {settings.school_contact} of met {settings.school_confidant}. "
        "Zij staan aan jouw kant en kunnen je helpen."
    )
    lines.append("Ben je nu in gevaar? Bel 112.")
    return lines


def reports_for_coordinators(status: Optional[str] = None) -> Dict[str, List[SafetyReport]]:
    with session_scope() as session:
        query = select(SafetyReport).order_by(SafetyReport.created_at.desc())
        if status:
            query = query.where(SafetyReport.status == status)
        return {"reports": list(session.execute(query).scalars())}
