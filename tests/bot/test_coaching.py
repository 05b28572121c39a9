"""Advice content turned into short chat messages."""
from __future__ import annotations

import pytest

from bot import content
from bot.coaching import MAX_MESSAGE_CHARS, ChatMessage, compose_advice, fill, related_offer
from bot.content import Advice


def all_published(seeded):
    """Every published seed entry (topic x phase x leerweg) as Advice."""
    result = []
    for document in content.export_documents():
        for entry in document["entries"]:
            key = (document["topic"], entry["phase"], entry["leerweg"])
            item = content.get_advice(*key)
            assert (item.topic, item.phase, item.leerweg) == key
            result.append(item)
    assert len(result) >= 40
    return result


def advice(acknowledge=("Goed dat je het vraagt.", "Herkenbaar."), tips=("Tip A.", "Tip B.", "Tip C."), **kw):
    values = dict(
        topic="ask_mistake",
        phase="during",
        leerweg="any",
        version=1,
        acknowledge=tuple(acknowledge),
        tips=tuple(tips),
        why="Zo leer je ervan.",
        micro_goal="Vertel het deze week aan je begeleider.",
        related=("ask_feedback",),
    )
    values.update(kw)
    return Advice(**values)


def joined(messages):
    return "\n".join(m.text for m in messages)


# --- fill -------------------------------------------------------------------------


def test_fill_replaces_both_placeholders():
    assert fill("Hoi {voornaam}, werk je bij {bedrijf}?", "Sanne", "Kapsalon Knip") == "Hoi Sanne, werk je bij Kapsalon Knip?"


def test_fill_without_name_leaves_no_stray_space_or_comma():
    assert fill("Hoi {voornaam}, hoe gaat het?", None, None) == "Hoi, hoe gaat het?"
    assert fill("Ik ben {voornaam} de stagiair.", "", None) == "Ik ben de stagiair."


def test_fill_without_company_uses_a_generic_phrase():
    assert fill("Vraag het bij {bedrijf}.", "Mo", None) == "Vraag het bij je stagebedrijf."


def test_fill_leaves_other_text_alone():
    assert fill("Geen invulplekken hier.", "Sanne", "Knip") == "Geen invulplekken hier."


# --- compose_advice on every published seed entry ---------------------------------


PEOPLE = [("Sanne", "Kapsalon Knip"), (None, None), ("Mohammed-Ali", "Kinderdagverblijf De Zonnebloem Amsterdam-Noord")]


def test_no_message_over_the_limit_for_any_seed_entry(seeded_content):
    checked = 0
    for item in all_published(seeded_content):
        for first_name, company in PEOPLE:
            for turn in range(6):
                for message in compose_advice(item, turn, first_name, company):
                    assert message.text.strip()
                    assert len(message.text) <= MAX_MESSAGE_CHARS, (item.topic, item.phase, item.leerweg, turn)
                    assert "{" not in message.text and "}" not in message.text
                    checked += 1
    assert checked > 1000


def test_consecutive_turns_give_different_text_for_every_seed_entry(seeded_content):
    for item in all_published(seeded_content):
        for turn in range(5):
            assert joined(compose_advice(item, turn)) != joined(compose_advice(item, turn + 1)), (
                item.topic,
                item.phase,
                item.leerweg,
                turn,
            )


def test_every_seed_entry_ends_with_the_goal_offer_with_buttons(seeded_content):
    for item in all_published(seeded_content):
        messages = compose_advice(item, 0, "Sanne", "Kapsalon Knip")
        last = messages[-1]
        assert fill(item.micro_goal, "Sanne", "Kapsalon Knip") in last.text
        assert "Wil je dit als doel voor deze week zetten?" in last.text
        assert [b["payload"] for b in last.buttons] == ["/affirm", "/deny"]
        assert all(b["title"] for b in last.buttons)
        assert all(not m.buttons for m in messages[:-1])


def test_every_tip_is_sent_exactly_once(seeded_content):
    for item in all_published(seeded_content):
        for turn in range(3):
            text = joined(compose_advice(item, turn))
            for tip in item.tips:
                assert text.count(fill(tip, None, None)) == 1


def test_seed_placeholders_are_filled(seeded_content):
    confidence = content.get_advice("ask_confidence", "before", "BOL")
    text = joined(compose_advice(confidence, 0, "Sanne", "Kapsalon Knip"))
    assert "ik ben Sanne, de nieuwe stagiair" in text
    job = content.get_advice("ask_job_after_internship", "during", "BOL")
    assert "bij Kapsalon Knip." in compose_advice(job, 0, "Sanne", "Kapsalon Knip")[-1].text


# --- structure --------------------------------------------------------------------


def test_message_order_acknowledge_tips_why_goal():
    messages = compose_advice(advice(), 0)
    assert messages[0].text == "Goed dat je het vraagt."
    assert messages[1].text == "Een paar tips:\n• Tip A.\n• Tip B.\n• Tip C."
    assert messages[2].text == "Waarom werkt dit? Zo leer je ervan."
    assert messages[3].text.startswith("Een doel voor deze week: Vertel het deze week aan je begeleider.")
    assert len(messages) == 4


def test_turn_rotates_acknowledgement_tips_and_intro():
    messages = compose_advice(advice(), 1)
    assert messages[0].text == "Herkenbaar."
    assert messages[1].text == "Dit kun je proberen:\n• Tip B.\n• Tip C.\n• Tip A."
    assert compose_advice(advice(), 2)[0].text == "Goed dat je het vraagt."


def test_single_acknowledgement_still_varies_between_turns():
    single = advice(acknowledge=("Alleen deze.",), tips=("Tip A.", "Tip B."))
    assert joined(compose_advice(single, 0)) != joined(compose_advice(single, 1))


def test_long_tips_are_split_over_messages_within_the_limit():
    tips = tuple(f"Tip {i}: " + "x" * 280 for i in range(4))
    messages = compose_advice(advice(tips=tips), 0)
    tip_messages = [m.text for m in messages if "• Tip" in m.text]
    assert len(tip_messages) == 4
    assert all(len(t) <= MAX_MESSAGE_CHARS for t in tip_messages)
    assert tip_messages[0].startswith("Een paar tips:\n• Tip 0")
    assert [t.count("• ") for t in tip_messages] == [1, 1, 1, 1]


def test_related_offer():
    assert related_offer([], {}) is None
    offer = related_offer(["ask_feedback", "ask_mistake"], {"ask_feedback": "Feedback krijgen"})
    assert isinstance(offer, ChatMessage)
    assert offer.buttons == [
        {"title": "Feedback krijgen", "payload": "/ask_feedback"},
        {"title": "ask_mistake", "payload": "/ask_mistake"},
    ]


@pytest.mark.parametrize("turn", [0, 1, 7, 100])
def test_any_turn_number_works(turn):
    messages = compose_advice(advice(), turn)
    assert len(messages) == 4


def test_mirror_echoes_a_short_typed_question():
    from bot.coaching import mirror_line

    assert mirror_line("hoe laat ik zien dat ik initiatief neem?") == "Je vraagt: “hoe laat ik zien dat ik initiatief neem”."
    assert mirror_line("/ask_proactive") is None
    assert mirror_line("feedback") is None
    assert mirror_line("woord " * 40) is None


def test_compose_starts_with_the_mirror_then_the_acknowledgement(seeded_content):
    from bot import content
    from bot.coaching import compose_advice

    advice = content.get_advice("ask_feedback", "during", "BOL")
    first = compose_advice(advice, 0, student_text="ik kreeg harde kritiek van mijn baas")[0].text
    assert first.startswith("Je vraagt: “ik kreeg harde kritiek van mijn baas”.\n")
    assert first.endswith(advice.acknowledge[0]) and len(first) <= 400
