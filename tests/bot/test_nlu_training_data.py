"""Checks on the NLU training data itself (data/nlu): the intent contract, the
minimum coverage per intent, no example taught as two intents, and no false alarm
of the safety net on examples that are not unsafe reports."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set

import pytest
import yaml

from bot import safety

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "data" / "nlu"
HELDOUT_DIR = ROOT / "tests" / "nlu" / "heldout"
ENTITY_MARKUP = re.compile(r"\[([^\]]*)\]\{[^}]*\}|\[([^\]]*)\]\([^)]*\)")
CONTRACT_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "ask_capabilities", "out_of_scope",
    "mood_good", "mood_bad", "ask_proactive", "ask_feedback", "ask_expectations", "ask_communication",
    "ask_relationship", "ask_first_impression", "ask_reliability", "ask_confidence", "ask_mistake",
    "ask_learning_goals", "ask_motivation", "ask_job_after_internship", "start_reflection",
    "show_reflections", "ask_privacy", "report_unsafe", "inform", "pause", "retry",
}


def _plain(example: str) -> str:
    return ENTITY_MARKUP.sub(lambda m: m.group(1) or m.group(2) or "", example).strip()


def _examples_by_intent(directory: Path = NLU_DIR) -> Dict[str, List[str]]:
    examples: Dict[str, List[str]] = defaultdict(list)
    for path in sorted(directory.rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples[block["intent"]].append(_plain(line[2:]))
    return examples


@pytest.fixture(scope="module")
def examples() -> Dict[str, List[str]]:
    return _examples_by_intent()


def test_every_contract_intent_has_training_data(examples):
    missing = CONTRACT_INTENTS - set(examples)
    assert not missing, f"intents from intents.md without examples: {sorted(missing)}"


@pytest.mark.parametrize("intent", sorted(CONTRACT_INTENTS))
def test_minimum_examples_per_intent(examples, intent):
    minimum = 60 if intent == "report_unsafe" else 30
    assert len(set(examples.get(intent, []))) >= minimum


def test_no_example_is_taught_as_two_intents(examples):
    owners: Dict[str, Set[str]] = defaultdict(set)
    for intent, texts in examples.items():
        for text in texts:
            owners[text.lower()].add(intent)
    clashes = {text: sorted(intents) for text, intents in owners.items() if len(intents) > 1}
    assert not clashes, f"examples in more than one intent: {clashes}"


def _comparable(text: str) -> str:
    return " ".join(re.sub(r"[^\w ]", "", text.lower()).split())


def test_training_data_holds_no_heldout_message(examples):
    """The held-out set (tests/nlu/heldout) only measures honestly if no message of it
    is trained on. Reports counts per intent only, so data writers running this test
    never see held-out text."""
    heldout = {_comparable(text) for texts in _examples_by_intent(HELDOUT_DIR).values() for text in texts}
    assert heldout, "held-out set not found"
    overlap = defaultdict(int)
    for intent, texts in examples.items():
        for text in texts:
            if _comparable(text) in heldout:
                overlap[intent] += 1
    assert not overlap, f"training examples equal to held-out messages, per intent: {dict(overlap)}"


def test_safety_net_raises_no_false_alarm_on_training_data(examples):
    false_alarms = [
        (intent, text, safety.detect(text))
        for intent, texts in examples.items()
        if intent != "report_unsafe"
        for text in texts
        if safety.detect(text)
    ]
    assert not false_alarms, f"safety net matches examples that are not unsafe reports: {false_alarms[:10]}"
