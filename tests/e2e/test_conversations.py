"""End-to-end conversations through the real Rasa server and action server."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from bot import content, reflections
from bot.safety import reports_for_coordinators

pytestmark = pytest.mark.stack

REFLECTION_ANSWERS = [
    "ik heb zelf een klant geholpen met een kleur kiezen en dat ging goed",
    "het was lastig om te vragen wat ik nog kon doen als het rustig was",
    "ik kreeg een compliment over mijn fohnen en heb gevraagd wat beter kon",
    "ik heb zonder dat iemand het vroeg de handdoeken gewassen en gevouwen",
    "elke ochtend vragen of ik ergens mee kan helpen",
]


def say_answer(chat, student: str, answer: str) -> list:
    """An answer the classifier takes for an unsafe report is checked with the
    student first; saying no keeps the answer and continues the form."""
    replies = chat.texts(student, answer)
    if any("zeker weten dat het goed met je gaat" in r for r in replies):
        replies = chat.texts(student, "nee")
        assert any("We gaan verder" in r for r in replies), replies
    return replies


def answer_reflection(chat, student: str, share: str = "alles delen") -> list:
    replies = chat.texts(student, "ik wil mijn weekreflectie invullen")
    assert any("Vraag 1 van 6" in r for r in replies), replies
    for number, answer in enumerate(REFLECTION_ANSWERS, start=2):
        replies = say_answer(chat, student, answer)
        expected = f"Vraag {number} van 6" if number <= 6 else "Hoe voelde"
        assert any(expected in r for r in replies), (answer, replies)
    replies = chat.texts(student, "4")
    assert any("Wat mag je praktijkbegeleider" in r for r in replies), replies
    summary = chat.say(student, share)
    assert any("Dit heb je ingevuld" in m.get("text", "") for m in summary), summary
    return [m.get("text", "") for m in chat.press(student, summary, "✅ Opslaan")]


def test_greeting_uses_first_name_and_privacy_notice(chat, fresh_student):
    replies = chat.texts(fresh_student, "hoi")
    assert any("ik bewaar dit gesprek" in r for r in replies)
    assert any("Hoi Lisa" in r for r in replies)
    assert any("weekreflectie" in r for r in replies), "open reflection is offered"


def test_unknown_sender_gets_generic_content(chat):
    replies = chat.texts("someone-unknown", "hallo")
    assert any(r.startswith("Hoi!") for r in replies)
    assert not any("Lisa" in r or "Sanne" in r for r in replies)


def test_coaching_answer_then_goal_is_saved(chat, fresh_student):
    replies = chat.texts(fresh_student, "hoe laat ik zien dat ik initiatief neem op mijn stage")
    assert any("Waar sta je nu" in r for r in replies), replies
    replies = chat.texts(fresh_student, '/inform{"phase":"during"}')
    advice = content.get_advice("ask_proactive", "during", "BOL")
    assert any(advice.why in r for r in replies)
    assert all(len(r) <= 400 for r in replies)
    replies = chat.texts(fresh_student, "ja")
    assert any("Staat genoteerd" in r for r in replies)
    goals = reflections.recent_goals(fresh_student)
    assert [g.text for g in goals] == [advice.micro_goal]


def test_same_question_twice_varies(chat, fresh_student):
    first = chat.texts(fresh_student, '/ask_feedback{"phase":"during"}')
    second = chat.texts(fresh_student, '/ask_feedback{"phase":"during"}')
    assert first and second and first != second


def test_content_change_is_live_without_restart(chat, fresh_student):
    key = ("ask_expectations", "during", "any")
    published = next(v for v in content.history(key) if v.status == "published")
    body = json.loads(published.body)
    body["why"] = f"Nieuwe uitleg van de coördinator {time.time_ns()}."
    started = time.monotonic()
    content.publish(content.save_draft(key, body, author="coordinator-test"))
    replies = chat.texts(fresh_student, '/ask_expectations{"phase":"during"}')
    elapsed = time.monotonic() - started
    assert any(body["why"] in r for r in replies), replies
    print(f"content change live after {elapsed:.3f}s")


def test_full_reflection_is_saved_and_exported(chat, fresh_student):
    replies = answer_reflection(chat, fresh_student)
    assert any("opgeslagen" in r for r in replies), replies
    out = subprocess.run(
        [sys.executable, "-m", "bot", "reflections", "export", "--student", fresh_student, "--format", "json"],
        capture_output=True, text=True, check=True,
    )
    records = json.loads(out.stdout)
    assert len(records) == 1
    assert records[0]["went_well"] == REFLECTION_ANSWERS[0]
    assert records[0]["mood"] == 4
    assert records[0]["next_goal"] == REFLECTION_ANSWERS[4]


def test_second_reflection_in_a_week_updates_after_confirmation(chat, fresh_student):
    answer_reflection(chat, fresh_student)
    replies = chat.texts(fresh_student, "weekreflectie invullen")
    assert any("al ingevuld" in r for r in replies), replies
    replies = chat.texts(fresh_student, "ja")
    assert any("Vraag 1 van 6" in r for r in replies), replies
    for answer in REFLECTION_ANSWERS:
        say_answer(chat, fresh_student, answer + " (tweede keer)")
    chat.texts(fresh_student, "5")
    chat.texts(fresh_student, "prive houden")
    replies = chat.texts(fresh_student, "opslaan")
    assert any("bijgewerkt" in r for r in replies), replies
    records = reflections.export_records(student=fresh_student)
    assert len(records) == 1
    assert records[0]["mood"] == 5 and records[0]["shared_fields"] == []


def test_pause_and_resume_keeps_answers(chat, fresh_student):
    chat.texts(fresh_student, "ik wil mijn weekreflectie invullen")
    chat.texts(fresh_student, REFLECTION_ANSWERS[0])
    replies = chat.texts(fresh_student, "pauze")
    assert any("bewaard" in r for r in replies), replies
    replies = chat.texts(fresh_student, "weekreflectie")
    assert any("verder" in r for r in replies) and any("Vraag 2 van 6" in r for r in replies), replies


def test_short_answer_gets_a_nudge_then_is_accepted(chat, fresh_student):
    chat.texts(fresh_student, "ik wil mijn weekreflectie invullen")
    replies = chat.texts(fresh_student, "niks")
    assert any("iets meer vertellen" in r for r in replies), replies
    replies = chat.texts(fresh_student, "echt niks")
    assert any("Vraag 2 van 6" in r for r in replies), replies


def test_unsafe_report_goes_to_school_only(chat, fresh_student):
    replies = chat.texts(fresh_student, "mijn begeleider stuurt me steeds berichtjes of ik naaktfoto's wil sturen")
    assert any("stagecoördinator van school" in r for r in replies)
    assert any("112" in r for r in replies)
    chat.texts(fresh_student, "ja")
    replies = chat.texts(fresh_student, "het gebeurt al twee weken, vooral in het weekend")
    assert any("toegevoegd" in r for r in replies), replies
    reports = [r for r in reports_for_coordinators()["reports"] if "naaktfoto" in r.message]
    assert len(reports) == 1
    assert "twee weken" in reports[0].details


def test_details_typed_straight_after_a_report_join_it(chat, fresh_student):
    replies = chat.texts(fresh_student, "een klant blijft me berichtjes sturen op insta en wacht me op bij de uitgang")
    assert any("stagecoördinator van school" in r for r in replies), replies
    replies = chat.texts(fresh_student, "hij deed het vandaag weer, nu bij de fietsenstalling")
    assert any("toegevoegd" in r for r in replies), replies
    reports = [r for r in reports_for_coordinators()["reports"] if "insta" in r.message]
    assert len(reports) == 1
    assert "fietsenstalling" in reports[0].details


def test_suicidal_thoughts_get_113(chat, fresh_student):
    replies = chat.texts(fresh_student, "ik wil niet meer leven")
    assert any("0800-0113" in r for r in replies)


def test_privacy_delete_all(chat, fresh_student):
    answer_reflection(chat, fresh_student)
    chat.texts(fresh_student, "wie kan lezen wat ik schrijf")
    replies = chat.texts(fresh_student, '/ask_privacy{"privacy_action":"delete_all"}')
    assert any("Weet je het zeker" in r for r in replies)
    replies = chat.texts(fresh_student, "ja")
    assert any("verwijderd" in r for r in replies)
    assert reflections.export_records(student=fresh_student) == []


def test_bad_input_gets_an_answer(chat, fresh_student):
    for text in ["", "   ", "😀😀😀", "<script>alert(1)</script>", "'; DROP TABLE users; --", "x" * 5000,
                 "How do I get a job after my internship?"]:
        replies = chat.say(fresh_student, text)
        assert replies, f"no answer for {text[:30]!r}"


def test_cli_export_edit_import_is_live(chat, fresh_student, tmp_path):
    """What a coordinator without the portal does: export, edit ask_proactive, import."""
    import yaml

    exported = tmp_path / "content.yml"
    run = [sys.executable, "-m", "bot", "content"]
    subprocess.run(run + ["export", str(exported)], check=True, capture_output=True)
    doc = yaml.safe_load(exported.read_text(encoding="utf-8"))
    marker = f"Nieuwe tip over initiatief {time.time_ns()}."
    for topic in doc["topics"]:
        if topic["topic"] == "ask_proactive":
            for entry in topic["entries"]:
                entry["tips"][0] = marker
    exported.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = subprocess.run(run + ["import", str(exported), "--author", "Els"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    replies = chat.texts(fresh_student, '/ask_proactive{"phase":"during"}')
    assert any(marker in r for r in replies), replies
