"""Validation rules for advice content documents (pure functions, no database)."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from bot.content_schema import LIMITS, validate_body, validate_document, validate_entry
from bot.topics import COACHING_TOPICS

SEED_DIR = Path(__file__).resolve().parents[2] / "data" / "content"


def valid_entry(**overrides):
    entry = {
        "phase": "during",
        "leerweg": "any",
        "acknowledge": ["Goed dat je dit vraagt."],
        "tips": ["Vraag je begeleider om uitleg.", "Schrijf je vragen op."],
        "why": "Zo leer je sneller.",
        "micro_goal": "Stel deze week één vraag.",
        "related": ["ask_feedback"],
    }
    entry.update(overrides)
    return entry


def valid_doc(**overrides):
    doc = {"topic": "ask_proactive", "label": "Initiatief tonen", "entries": [valid_entry()]}
    doc.update(overrides)
    return doc


def test_a_valid_document_has_no_errors():
    assert validate_document(valid_doc(), "x.yml") == []


@pytest.mark.parametrize("path", sorted(SEED_DIR.glob("ask_*.yml")), ids=lambda p: p.stem)
def test_every_seed_file_is_valid_and_named_after_its_topic(path):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validate_document(doc, path.name) == []
    assert doc["topic"] == path.stem


def test_seed_files_cover_every_coaching_topic_with_a_general_entry_per_phase():
    topics = {}
    for path in SEED_DIR.glob("ask_*.yml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        topics[doc["topic"]] = {(e["phase"], e["leerweg"]) for e in doc["entries"]}
    assert set(topics) == set(COACHING_TOPICS)
    for topic, keys in topics.items():
        for phase in ("before", "during", "after"):
            assert (phase, "any") in keys, f"{topic} mist {phase}/any"


@pytest.mark.parametrize(
    "field,limit",
    [("acknowledge", LIMITS["acknowledge"]), ("tips", LIMITS["tips"])],
)
def test_list_item_length_limit_is_inclusive(field, limit):
    entry = valid_entry()
    entry[field] = ["a" * limit] + entry[field][1:]
    assert validate_entry(entry, "w") == []
    entry[field] = ["a" * (limit + 1)] + entry[field][1:]
    errors = validate_entry(entry, "w")
    assert len(errors) == 1
    assert f"{limit + 1} tekens, maximaal {limit}" in errors[0]
    assert f"'{field} nr. 1'" in errors[0]


@pytest.mark.parametrize("field", ["why", "micro_goal"])
def test_text_length_limit_is_inclusive(field):
    limit = LIMITS[field]
    assert validate_entry(valid_entry(**{field: "b" * limit}), "w") == []
    errors = validate_entry(valid_entry(**{field: "b" * (limit + 1)}), "w")
    assert errors == [f"w: '{field}' is {limit + 1} tekens, maximaal {limit}."]


def test_label_longer_than_thirty_characters_is_refused():
    errors = validate_document(valid_doc(label="x" * 31), "f.yml")
    assert len(errors) == 1 and "'label' is 31 tekens, maximaal 30" in errors[0]


@pytest.mark.parametrize(
    "field,count,ok",
    [
        ("acknowledge", 0, False),
        ("acknowledge", 1, True),
        ("acknowledge", 5, True),
        ("acknowledge", 6, False),
        ("tips", 1, False),
        ("tips", 2, True),
        ("tips", 4, True),
        ("tips", 5, False),
    ],
)
def test_item_counts(field, count, ok):
    entry = valid_entry(**{field: [f"Tekst nummer {i}." for i in range(count)]})
    errors = validate_entry(entry, "w")
    if ok:
        assert errors == []
    else:
        assert any(f"'{field}' heeft {count} items" in e for e in errors)


def test_related_must_name_known_topics_and_at_most_two():
    assert validate_entry(valid_entry(related=[]), "w") == []
    errors = validate_entry(valid_entry(related=["ask_weather"]), "w")
    assert errors == ["w: 'related' noemt onbekend onderwerp 'ask_weather'."]
    errors = validate_entry(valid_entry(related=["ask_feedback", "ask_mistake", "ask_motivation"]), "w")
    assert any("'related' heeft 3 items" in e for e in errors)


def test_related_may_be_left_out():
    entry = valid_entry()
    del entry["related"]
    assert validate_entry(entry, "w") == []


@pytest.mark.parametrize("text", ["Hoi {voornaam}!", "Vraag het bij {bedrijf}.", "{voornaam} bij {bedrijf}"])
def test_allowed_placeholders(text):
    assert validate_entry(valid_entry(why=text), "w") == []


@pytest.mark.parametrize(
    "text,shown",
    [
        ("Hoi {naam}!", "naam"),
        ("Hoi {0}!", "0"),
        ("Hoi {}!", "[''"),
        ("Hoi {voornaam!r}", "voornaam"),
        ("Hoi {voornaam:>20}", "voornaam"),
        ("Een losse { accolade", "ongeldige accolades"),
        ("Dubbele {{voornaam}}", "ongeldige accolades"),
    ],
)
def test_unknown_or_malformed_placeholders_are_refused(text, shown):
    # fill() only replaces the literal "{voornaam}" and "{bedrijf}": anything else
    # would reach the student as raw braces.
    errors = validate_entry(valid_entry(why=text), "w")
    assert len(errors) == 1
    assert "onbekende invulplek" in errors[0]
    assert shown in errors[0]
    assert "{bedrijf}, {voornaam}" in errors[0]


@pytest.mark.parametrize("value", [None, "", "   ", 12, ["lijst"]])
def test_text_fields_must_be_non_empty_text(value):
    errors = validate_entry(valid_entry(micro_goal=value), "w")
    assert errors == ["w: 'micro_goal' moet een tekst zijn en mag niet leeg zijn."]


def test_lists_must_be_lists():
    errors = validate_entry(valid_entry(tips="Eén tip als tekst"), "w")
    assert errors == ["w: 'tips' moet een lijst zijn."]


def test_phase_leerweg_and_unknown_fields():
    errors = validate_entry(valid_entry(phase="tijdens", leerweg="HBO", extra="x"), "w")
    assert any("onbekende velden ['extra']" in e for e in errors)
    assert any("'phase' moet een van" in e for e in errors)
    assert any("'leerweg' moet een van" in e for e in errors)
    assert len(errors) == 3


def test_body_validation_reports_every_problem_at_once():
    body = {"acknowledge": [], "tips": ["één"], "why": "", "micro_goal": "m" * 161}
    errors = validate_body(body, "ask_mistake / during / any")
    assert len(errors) == 4
    assert all(e.startswith("ask_mistake / during / any: ") for e in errors)


def test_body_must_be_a_mapping():
    assert validate_body(["geen", "blok"], "w") == ["w: moet een blok met velden zijn."]


@pytest.mark.parametrize("doc", [None, "tekst", ["lijst"], 3])
def test_document_must_be_a_mapping(doc):
    errors = validate_document(doc, "f.yml")
    assert errors == ["f.yml: het bestand moet een blok met 'topic', 'label' en 'entries' zijn."]


@pytest.mark.parametrize("entries", [None, [], "geen lijst"])
def test_entries_must_be_a_non_empty_list(entries):
    errors = validate_document(valid_doc(entries=entries), "f.yml")
    assert errors == ["f.yml (ask_proactive): 'entries' moet een niet-lege lijst zijn."]


def test_document_errors_name_file_topic_and_block_number():
    doc = valid_doc(entries=[valid_entry(), valid_entry(phase="after", why="")])
    errors = validate_document(doc, "mijn.yml")
    assert errors == ["mijn.yml (ask_proactive, blok 2): 'why' moet een tekst zijn en mag niet leeg zijn."]


def test_duplicate_phase_and_leerweg_is_refused():
    doc = valid_doc(entries=[valid_entry(), copy.deepcopy(valid_entry())])
    errors = validate_document(doc, "f.yml")
    assert len(errors) == 1
    assert "blok 2" in errors[0] and "twee keer" in errors[0]


def test_unknown_topic_and_document_fields():
    errors = validate_document(valid_doc(topic="ask_weather", extra=1), "f.yml")
    assert "f.yml: onbekend onderwerp 'ask_weather'." in errors
    assert "f.yml: onbekende velden ['extra']." in errors


def test_entry_that_is_not_a_mapping():
    errors = validate_document(valid_doc(entries=["tekst"]), "f.yml")
    assert errors == ["f.yml (ask_proactive, blok 1): moet een blok met velden zijn."]
