"""Safety net: keyword detection, help lines, reports for school coordinators."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import config, db, safety
from bot.models import SafetyReport, User

CASES = yaml.safe_load((Path(__file__).parent / "safety_cases.yml").read_text(encoding="utf-8"))
CATEGORY_NAMES = {c.name for c in safety.load_categories()}


def test_case_table_is_not_empty_and_uses_known_categories():
    assert len(CASES["must_match"]) >= 50
    assert len(CASES["must_not_match"]) >= 50
    assert {c["category"] for c in CASES["must_match"]} <= CATEGORY_NAMES
    assert {c["category"] for c in CASES["must_match"]} == CATEGORY_NAMES


@pytest.mark.parametrize("case", CASES["must_match"], ids=lambda c: c["text"][:50])
def test_unsafe_message_is_detected_with_its_category(case):
    assert case["category"] in safety.detect(case["text"])


@pytest.mark.parametrize("text", CASES["must_not_match"], ids=lambda t: t[:50])
def test_ordinary_message_is_not_detected(text):
    assert safety.detect(text) == []


@pytest.mark.parametrize("case", CASES["must_match"][::7], ids=lambda c: c["text"][:40])
def test_detection_ignores_case_and_extra_whitespace(case):
    shouted = "  " + "   \n".join(case["text"].upper().split(" ")) + "  "
    assert case["category"] in safety.detect(shouted)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_input(text):
    assert safety.detect(text) == []


def test_categories_come_in_urgency_order_with_self_harm_first():
    names = [c.name for c in safety.load_categories()]
    assert names[0] == "self_harm"
    assert len(names) == len(set(names))
    assert all(c.patterns and c.label for c in safety.load_categories())


# --- help lines ---------------------------------------------------------------------


def test_help_lines_for_self_harm_include_113():
    text = "\n".join(safety.help_lines(["self_harm"]))
    assert "113" in text and "0800-0113" in text
    assert "112" in text


def test_help_lines_for_an_unknown_category_include_113():
    # A confirmed suspicion or the "er gebeurt iets" button says nothing about what
    # happened: it may be self-harm, so the 113 line is given too.
    text = "\n".join(safety.help_lines([]))
    assert "0800-0113" in text and "112" in text


def test_help_lines_when_only_told_that_something_is_not_okay_include_113():
    text = "\n".join(safety.help_lines([safety.UNSPECIFIED]))
    assert "0800-0113" in text and "112" in text
    assert "0800-0113" not in "\n".join(safety.help_lines([safety.UNSPECIFIED, "injury"]))


@pytest.mark.parametrize("categories", [["bullying"], ["harassment", "threat"], ["injury"]])
def test_help_lines_without_self_harm_have_no_113_but_always_112(categories):
    lines = safety.help_lines(categories)
    text = "\n".join(lines)
    assert "113" not in text
    assert lines[-1] == "Ben je nu in gevaar? Bel 112."


def test_help_lines_name_the_configured_school_contacts(monkeypatch):
    monkeypatch.setenv("SCHOOL_CONTACT", "mevrouw Bakker (BPV-bureau, 030-1234567)")
    monkeypatch.setenv("SCHOOL_CONFIDANT", "meneer Smit, vertrouwenspersoon")
    config.reset_settings()
    try:
        text = "\n".join(safety.help_lines(["bullying"]))
    finally:
        monkeypatch.undo()
        config.reset_settings()
    assert "mevrouw Bakker (BPV-bureau, 030-1234567)" in text
    assert "meneer Smit, vertrouwenspersoon" in text


# --- reports ------------------------------------------------------------------------


def report(report_id):
    with db.session_scope() as session:
        return session.get(SafetyReport, report_id)


def test_create_report_links_the_student(people):
    report_id = safety.create_report("student-1", "conv-1", "Ik word gepest.", ["bullying"])
    row = report(report_id)
    with db.session_scope() as session:
        student_id = session.execute(select(User.id).where(User.external_id == "student-1")).scalar()
    assert row.student_id == student_id
    assert (row.conversation_id, row.categories, row.message, row.status) == (
        "conv-1",
        "bullying",
        "Ik word gepest.",
        "new",
    )
    assert row.details is None


def test_report_of_unknown_sender_or_non_student_has_no_student(people):
    assert report(safety.create_report("nobody", "c", "bericht", ["threat"])).student_id is None
    assert report(safety.create_report("sup-1", "c", "bericht", ["threat"])).student_id is None
    assert report(safety.create_report(None, "c", "bericht", ["threat"])).student_id is None


def test_report_keeps_several_categories_and_truncates_long_messages(people):
    row = report(safety.create_report("student-1", "c", "x" * 5000, ["self_harm", "bullying"]))
    assert row.categories == "self_harm,bullying"
    assert len(row.message) == safety.MAX_DETAILS


def test_add_details_only_from_the_same_conversation(people):
    report_id = safety.create_report("student-1", "conv-1", "Mijn chef raakt me aan.", ["harassment"])
    assert safety.add_details(report_id, "conv-2", "Van een ander gesprek") is False
    assert report(report_id).details is None
    assert safety.add_details(report_id, "conv-1", "  Het gebeurde in het magazijn.  ") is True
    assert safety.add_details(report_id, "conv-1", "Twee keer deze week.") is True
    assert report(report_id).details == "Het gebeurde in het magazijn.\nTwee keer deze week."
    assert safety.add_details(99999, "conv-1", "bestaat niet") is False


def test_details_are_capped(people):
    report_id = safety.create_report("student-1", "conv-1", "melding", ["threat"])
    safety.add_details(report_id, "conv-1", "a" * 3000)
    safety.add_details(report_id, "conv-1", "b" * 3000)
    assert len(report(report_id).details) == safety.MAX_DETAILS


def test_reports_for_coordinators_by_status(people):
    first = safety.create_report("student-1", "c1", "een", ["threat"])
    second = safety.create_report("student-2", "c2", "twee", ["injury"])
    with db.session_scope() as session:
        session.get(SafetyReport, first).status = "closed"
    assert {r.id for r in safety.reports_for_coordinators()["reports"]} == {first, second}
    assert [r.id for r in safety.reports_for_coordinators("new")["reports"]] == [second]
    assert [r.id for r in safety.reports_for_coordinators("closed")["reports"]] == [first]


def test_shared_fragments_are_expanded_and_an_unknown_one_is_refused(tmp_path):
    patterns = tmp_path / "patterns.yml"
    patterns.write_text(
        "version: 1\nfragments:\n  not_a_lesson: '^(?!.*\\bles over\\b)'\n"
        "categories:\n  bullying:\n    patterns:\n      - '<<not_a_lesson>>.*\\bgepest\\b'\n",
        encoding="utf-8",
    )
    (bullying,) = safety.load_categories(patterns)
    assert bullying.patterns[0].pattern == r"^(?!.*\bles over\b).*\bgepest\b"
    assert bullying.patterns[0].search("ik word gepest")
    assert not bullying.patterns[0].search("een les over gepest worden")
    with pytest.raises(ValueError, match="unknown fragment <<nope>>"):
        safety.expand_fragments("<<nope>>.*x", {})


def test_the_pattern_file_uses_only_fragments_it_defines():
    assert all("<<" not in p.pattern for category in safety.load_categories() for p in category.patterns)
