"""Advice content store: import, lookup with fallbacks, versions, cache, export."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot import config, content, db, migrate
from bot.content_schema import ContentValidationError
from bot.models import ContentTopic, ContentVersion
from bot.topics import COACHING_TOPICS

SEED_DIR = Path(__file__).resolve().parents[2] / "data" / "content"


def entry(phase="during", leerweg="any", tag="", **overrides):
    body = {
        "phase": phase,
        "leerweg": leerweg,
        "acknowledge": [f"Erkenning {phase}/{leerweg}{tag}."],
        "tips": [f"Tip een {phase}/{leerweg}{tag}.", f"Tip twee {phase}/{leerweg}{tag}."],
        "why": f"Waarom {phase}/{leerweg}{tag}.",
        "micro_goal": f"Doel {phase}/{leerweg}{tag}.",
        "related": ["ask_feedback"],
    }
    body.update(overrides)
    return body


def doc(topic="ask_mistake", *entries, label="Fouten maken"):
    return {"topic": topic, "label": label, "entries": list(entries) or [entry()]}


def import_docs(*docs, author="test"):
    return content.import_documents([(f"doc{i}", d) for i, d in enumerate(docs)], author=author)


def version_rows():
    with db.session_scope() as session:
        return [
            (r.topic, r.phase, r.leerweg, r.version, r.status, r.body)
            for r in session.execute(select(ContentVersion).order_by(ContentVersion.id)).scalars()
        ]


def seed_entry_count():
    return sum(
        len(yaml.safe_load(p.read_text(encoding="utf-8"))["entries"]) for p in SEED_DIR.glob("ask_*.yml")
    )


# --- import of the seed files ------------------------------------------------------


def test_seed_import_publishes_every_entry_of_every_file(database):
    assert content.is_empty()
    docs = []
    for path in sorted(SEED_DIR.glob("ask_*.yml")):
        docs.extend(content.load_yaml_documents(path))
    counts = content.import_documents(docs, author="seed")
    assert counts == {"published": seed_entry_count(), "unchanged": 0}
    assert not content.is_empty()
    rows = version_rows()
    assert len(rows) == seed_entry_count()
    assert {r[4] for r in rows} == {"published"}
    assert {r[3] for r in rows} == {1}
    with db.session_scope() as session:
        labels = {t.topic: t.label for t in session.execute(select(ContentTopic)).scalars()}
    assert set(labels) == set(COACHING_TOPICS)
    assert labels["ask_proactive"] == "Initiatief tonen"


def test_every_topic_phase_and_leerweg_gets_advice_after_seeding(seeded_content):
    for topic in COACHING_TOPICS:
        for phase in ("before", "during", "after", None):
            for leerweg in ("BOL", "BBL", None):
                advice = content.get_advice(topic, phase, leerweg)
                assert advice is not None, (topic, phase, leerweg)
                assert advice.topic == topic
                assert advice.tips and advice.acknowledge and advice.why and advice.micro_goal


def test_seeded_text_matches_the_file(seeded_content):
    source = yaml.safe_load((SEED_DIR / "ask_proactive.yml").read_text(encoding="utf-8"))
    during = next(e for e in source["entries"] if e["phase"] == "during" and e["leerweg"] == "any")
    advice = content.get_advice("ask_proactive", "during", "BOL")
    assert advice.tips == tuple(during["tips"])
    assert advice.micro_goal == during["micro_goal"]
    assert advice.related == tuple(during["related"])
    assert content.topic_label("ask_proactive") == "Initiatief tonen"


def test_seeding_twice_publishes_nothing_new(seeded_content):
    before = version_rows()
    docs = []
    for path in sorted(SEED_DIR.glob("ask_*.yml")):
        docs.extend(content.load_yaml_documents(path))
    counts = content.import_documents(docs, author="seed")
    assert counts == {"published": 0, "unchanged": seed_entry_count()}
    assert version_rows() == before


# --- lookup and fallbacks ----------------------------------------------------------


def test_seeded_lookup_prefers_the_students_leerweg(seeded_content):
    assert content.get_advice("ask_expectations", "before", "BOL").leerweg == "BOL"
    assert content.get_advice("ask_expectations", "before", "BBL").leerweg == "BBL"
    general = content.get_advice("ask_expectations", "during", "BBL")
    assert (general.phase, general.leerweg) == ("during", "any")
    # only a BBL variant exists for during: a BOL student gets the general one
    assert content.get_advice("ask_learning_goals", "during", "BOL").leerweg == "any"
    assert content.get_advice("ask_learning_goals", "during", "BBL").leerweg == "BBL"


def test_fallback_order_from_specific_to_general(database):
    import_docs(
        doc(
            "ask_mistake",
            entry("during", "BBL"),
            entry("during", "any"),
            entry("any", "BBL"),
            entry("any", "any"),
        )
    )
    key = lambda a: (a.phase, a.leerweg)  # noqa: E731
    assert key(content.get_advice("ask_mistake", "during", "BBL")) == ("during", "BBL")
    assert key(content.get_advice("ask_mistake", "during", "BOL")) == ("during", "any")
    assert key(content.get_advice("ask_mistake", "before", "BBL")) == ("any", "BBL")
    assert key(content.get_advice("ask_mistake", "before", "BOL")) == ("any", "any")
    assert key(content.get_advice("ask_mistake", None, None)) == ("any", "any")


def test_fallback_keys_without_duplicates():
    assert content.fallback_keys("t", None, None) == [("t", "any", "any")]
    assert content.fallback_keys("t", "before", None) == [("t", "before", "any"), ("t", "any", "any")]
    assert content.fallback_keys("t", "before", "BOL") == [
        ("t", "before", "BOL"),
        ("t", "before", "any"),
        ("t", "any", "BOL"),
        ("t", "any", "any"),
    ]


def test_missing_phase_falls_back_to_any_published_phase(database):
    import_docs(doc("ask_mistake", entry("during", "any")))
    advice = content.get_advice("ask_mistake", "before", "BOL")
    assert advice is not None
    assert (advice.topic, advice.phase) == ("ask_mistake", "during")
    assert content.get_advice("ask_mistake", "after", None).phase == "during"


def test_phase_fallback_never_uses_the_other_leerweg(database):
    import_docs(doc("ask_mistake", entry("during", "BOL")))
    assert content.get_advice("ask_mistake", "before", "BOL").leerweg == "BOL"
    assert content.get_advice("ask_mistake", "before", "BBL") is None
    assert content.get_advice("ask_mistake", "during", "BBL") is None


def test_unknown_or_empty_topic_gives_none(seeded_content):
    assert content.get_advice("ask_weather", "during", "BOL") is None


def test_no_content_at_all_gives_none(database):
    assert content.get_advice("ask_mistake", "during", "BOL") is None
    assert content.topic_label("ask_job_after_internship") == "job after internship"


def test_published_variants(seeded_content):
    variants = content.published_variants("ask_expectations")
    assert variants["phases"] == {"before", "during", "after"}
    assert variants["leerwegen"] == {"any", "BOL", "BBL"}
    assert content.published_variants("ask_weather") == {"phases": set(), "leerwegen": set()}


# --- versions, publish, rollback ---------------------------------------------------


KEY = ("ask_mistake", "during", "any")


def body_with_goal(goal):
    return {k: v for k, v in entry(micro_goal=goal).items() if k not in ("phase", "leerweg")}


def test_save_draft_is_not_live_until_published(database):
    import_docs(doc("ask_mistake", entry(micro_goal="Eerste doel.")))
    draft_id = content.save_draft(KEY, body_with_goal("Tweede doel."), author="els")
    assert content.get_advice(*KEY).micro_goal == "Eerste doel."
    statuses = [(v.version, v.status) for v in content.history(KEY)]
    assert statuses == [(2, "draft"), (1, "published")]
    content.publish(draft_id)
    assert content.get_advice(*KEY).micro_goal == "Tweede doel."
    assert [(v.version, v.status) for v in content.history(KEY)] == [(2, "published"), (1, "archived")]


def test_publish_archives_the_previous_version_and_keeps_one_published(database):
    import_docs(doc("ask_mistake", entry(micro_goal="Versie een.")))
    for text in ("Versie twee.", "Versie drie."):
        content.publish(content.save_draft(KEY, body_with_goal(text), author="els"))
    history = content.history(KEY)
    assert [v.version for v in history] == [3, 2, 1]
    assert [v.status for v in history] == ["published", "archived", "archived"]
    assert history[0].author == "els" and history[0].published_at is not None


def test_import_of_changed_text_adds_a_version(database):
    import_docs(doc("ask_mistake", entry(micro_goal="Oud doel.")))
    counts = import_docs(doc("ask_mistake", entry(micro_goal="Nieuw doel.")), author="coord")
    assert counts == {"published": 1, "unchanged": 0}
    history = content.history(KEY)
    assert [(v.version, v.status, v.author) for v in history] == [
        (2, "published", "coord"),
        (1, "archived", "test"),
    ]
    assert content.get_advice(*KEY).version == 2


def test_rollback_republishes_old_text_as_new_version(database):
    import_docs(doc("ask_mistake", entry(micro_goal="Versie een.")))
    content.publish(content.save_draft(KEY, body_with_goal("Versie twee."), author="els"))
    assert content.get_advice(*KEY).micro_goal == "Versie twee."

    new_id = content.rollback(KEY, 1, author="els")

    advice = content.get_advice(*KEY)
    assert advice.micro_goal == "Versie een."
    assert advice.version == 3
    history = content.history(KEY)
    assert [(v.version, v.status) for v in history] == [(3, "published"), (2, "archived"), (1, "archived")]
    assert history[0].id == new_id
    assert history[0].body == history[2].body


def test_rollback_to_unknown_version_raises_and_changes_nothing(database):
    import_docs(doc("ask_mistake", entry()))
    before = version_rows()
    with pytest.raises(LookupError):
        content.rollback(KEY, 7, author="els")
    with pytest.raises(LookupError):
        content.publish(9999)
    assert version_rows() == before


def test_save_draft_validates_and_needs_a_known_topic(database):
    with pytest.raises(ContentValidationError) as error:
        content.save_draft(KEY, body_with_goal(""), author="els")
    assert "micro_goal" in str(error.value)
    with pytest.raises(ContentValidationError) as error:
        content.save_draft(KEY, body_with_goal("Goed doel."), author="els")  # topic not imported yet
    assert "Onbekend onderwerp 'ask_mistake'" in str(error.value)
    assert version_rows() == []


# --- cache invalidation ------------------------------------------------------------


def test_publish_is_live_in_the_very_next_lookup(database):
    import_docs(doc("ask_mistake", entry(micro_goal="Oud.")))
    assert content.get_advice(*KEY).micro_goal == "Oud."  # cache warmed
    draft = content.save_draft(KEY, body_with_goal("Nieuw."), author="els")
    assert content.get_advice(*KEY).micro_goal == "Oud."  # a draft is not live
    content.publish(draft)
    assert content.get_advice(*KEY).micro_goal == "Nieuw."
    content.rollback(KEY, 1, author="els")
    assert content.get_advice(*KEY).micro_goal == "Oud."
    import_docs(doc("ask_mistake", entry(micro_goal="Geïmporteerd.")))
    assert content.get_advice(*KEY).micro_goal == "Geïmporteerd."


def test_label_change_is_live(database):
    import_docs(doc("ask_mistake", entry(), label="Fouten"))
    assert content.topic_label("ask_mistake") == "Fouten"
    import_docs(doc("ask_mistake", entry(micro_goal="Ander doel."), label="Fout gemaakt"))
    assert content.topic_label("ask_mistake") == "Fout gemaakt"


def test_switching_databases_never_serves_the_other_databases_content(tmp_path, monkeypatch, database):
    """Two databases at the same content revision must not share the cache."""
    import_docs(doc("ask_mistake", entry(micro_goal="Uit database A.")))
    assert content.get_advice(*KEY).micro_goal == "Uit database A."

    other = f"sqlite:///{tmp_path / 'other.db'}"
    migrate.upgrade(other)
    monkeypatch.setenv("DATABASE_URL", other)
    config.reset_settings()
    db.reset_engine()
    import_docs(doc("ask_mistake", entry(micro_goal="Uit database B.")))
    assert content.get_advice(*KEY).micro_goal == "Uit database B."


# --- export and round trip ---------------------------------------------------------


def test_export_contains_every_published_entry_in_topic_order(seeded_content):
    documents = content.export_documents()
    assert [d["topic"] for d in documents] == list(COACHING_TOPICS)
    assert sum(len(d["entries"]) for d in documents) == seed_entry_count()
    first = documents[0]["entries"][0]
    assert set(first) == {"phase", "leerweg", "acknowledge", "tips", "why", "micro_goal", "related"}


def test_export_round_trip_changes_nothing(seeded_content, tmp_path):
    before = version_rows()
    path = tmp_path / "export.yml"
    path.write_text(content.dump_yaml(content.export_documents()), encoding="utf-8")
    documents = content.load_yaml_documents(path)
    assert len(documents) == len(COACHING_TOPICS)
    counts = content.import_documents(documents, author="roundtrip")
    assert counts == {"published": 0, "unchanged": seed_entry_count()}
    assert version_rows() == before


def test_export_only_contains_published_text(database):
    import_docs(doc("ask_mistake", entry(micro_goal="Live.")))
    content.save_draft(KEY, body_with_goal("Concept."), author="els")
    exported = content.dump_yaml(content.export_documents())
    assert "Live." in exported and "Concept." not in exported


def test_export_imported_into_an_empty_database_reproduces_it(seeded_content, tmp_path, monkeypatch):
    exported = content.dump_yaml(content.export_documents())
    path = tmp_path / "export.yml"
    path.write_text(exported, encoding="utf-8")

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(fresh)
    monkeypatch.setenv("DATABASE_URL", fresh)
    config.reset_settings()
    db.reset_engine()
    assert content.is_empty()
    counts = content.import_documents(content.load_yaml_documents(path), author="restore")
    assert counts["published"] == seed_entry_count()
    assert content.dump_yaml(content.export_documents()) == exported


# --- bad files: Dutch message naming the entry, nothing changed --------------------


def write_yaml(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def bad_doc(case):
    good = entry("during", "any")
    if case == "unknown_topic":
        return doc("ask_weather", good), ["bad.yml: onbekend onderwerp 'ask_weather'"]
    if case == "too_long":
        return (
            doc("ask_mistake", good, entry("after", "any", tips=["Kort.", "x" * 301])),
            ["bad.yml (ask_mistake, blok 2): 'tips nr. 2' is 301 tekens, maximaal 300"],
        )
    if case == "unknown_placeholder":
        return (
            doc("ask_mistake", good, entry("after", "any", why="Hoi {naam}, zo werkt het.")),
            ["bad.yml (ask_mistake, blok 2): 'why' gebruikt onbekende invulplek", "'naam'"],
        )
    if case == "missing_why":
        broken = entry("after", "any")
        del broken["why"]
        return doc("ask_mistake", good, broken), ["bad.yml (ask_mistake, blok 2): 'why' moet een tekst zijn"]
    if case == "missing_phase":
        broken = entry()
        del broken["phase"]
        return doc("ask_mistake", broken), ["bad.yml (ask_mistake, blok 1): 'phase' moet een van"]
    if case == "missing_entries":
        return {"topic": "ask_mistake", "label": "Fouten"}, ["bad.yml (ask_mistake): 'entries' moet een niet-lege lijst"]
    if case == "missing_label":
        return {"topic": "ask_mistake", "entries": [good]}, ["bad.yml (ask_mistake): 'label' moet een tekst zijn"]
    raise AssertionError(case)


BAD_CASES = [
    "unknown_topic",
    "too_long",
    "unknown_placeholder",
    "missing_why",
    "missing_phase",
    "missing_entries",
    "missing_label",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_file_is_refused_with_dutch_message_and_changes_nothing(seeded_content, tmp_path, case):
    before = version_rows()
    advice_before = content.get_advice(*KEY)
    data, expected = bad_doc(case)
    path = write_yaml(tmp_path, "bad.yml", data)

    with pytest.raises(ContentValidationError) as error:
        content.import_documents(content.load_yaml_documents(path), author="coord")

    message = str(error.value)
    for fragment in expected:
        assert fragment in message
    assert version_rows() == before
    assert content.get_advice(*KEY) == advice_before


def test_malformed_yaml_names_file_and_line(seeded_content, tmp_path):
    before = version_rows()
    path = tmp_path / "kapot.yml"
    path.write_text("topic: ask_mistake\nlabel: Fouten\nentries:\n  - phase: [during\n    leerweg: any\n", encoding="utf-8")
    with pytest.raises(ContentValidationError) as error:
        content.load_yaml_documents(path)
    [message] = error.value.errors
    match = re.fullmatch(r"kapot\.yml: geen geldige YAML \(regel (\d+)\)\.", message)
    assert match, message
    assert 4 <= int(match.group(1)) <= 6
    assert version_rows() == before


def test_non_utf8_file_is_refused(seeded_content, tmp_path):
    before = version_rows()
    path = tmp_path / "latin1.yml"
    path.write_bytes("topic: ask_mistake\nlabel: Fouten met één\n".encode("latin-1"))
    with pytest.raises(ContentValidationError) as error:
        content.load_yaml_documents(path)
    assert str(error.value).startswith("latin1.yml: het bestand is geen UTF-8 tekst")
    assert version_rows() == before


def test_bundle_with_one_bad_document_imports_nothing(database, tmp_path):
    bundle = {
        "version": 1,
        "topics": [doc("ask_mistake", entry()), doc("ask_feedback", entry(why=""), label="Feedback")],
    }
    path = write_yaml(tmp_path, "bundle.yml", bundle)
    documents = content.load_yaml_documents(path)
    assert [source for source, _ in documents] == ["bundle.yml #1", "bundle.yml #2"]
    with pytest.raises(ContentValidationError) as error:
        content.import_documents(documents, author="coord")
    assert error.value.errors == [
        "bundle.yml #2 (ask_feedback, blok 1): 'why' moet een tekst zijn en mag niet leeg zijn."
    ]
    assert version_rows() == []
    assert content.is_empty()
    with db.session_scope() as session:
        assert session.execute(select(func.count()).select_from(ContentTopic)).scalar() == 0


def test_every_error_of_a_file_is_reported(database, tmp_path):
    data = doc("ask_mistake", entry(why=""), entry("after", "HBO", micro_goal="m" * 200))
    path = write_yaml(tmp_path, "veel.yml", data)
    with pytest.raises(ContentValidationError) as error:
        content.import_documents(content.load_yaml_documents(path), author="coord")
    assert len(error.value.errors) == 3
    assert any("blok 1" in e and "'why'" in e for e in error.value.errors)
    assert any("blok 2" in e and "'leerweg'" in e for e in error.value.errors)
    assert any("blok 2" in e and "'micro_goal' is 200 tekens" in e for e in error.value.errors)


def test_stored_body_is_json_with_the_body_fields_only(database):
    import_docs(doc("ask_mistake", entry()))
    body = json.loads(version_rows()[0][5])
    assert set(body) == {"acknowledge", "tips", "why", "micro_goal", "related"}
