"""Pure helpers that read student answers."""
from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot import parsing
from bot.parsing import (
    MAX_ANSWER_CHARS,
    answer_problem,
    deletion_requested,
    leerweg_from_text,
    mentions_internship,
    normalise,
    parse_confirmation,
    parse_mood,
    parse_share,
    phase_from_text,
    phase_in_question,
)
from bot.topics import PHASE_LABELS

ROOT = Path(__file__).resolve().parents[2]

# --- normalise ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        (None, ""),
        ("", ""),
        ("  hoi  ", "hoi"),
        ("hoi\x00daar", "hoi daar"),
        ("a\x07\x1bb", "a b"),
        ("zero\u200bwidth", "zero width"),
        ("rechts\u202eom", "rechts om"),
        ("regel 1\nregel 2", "regel 1\nregel 2"),
        ("veel    spaties\t\t en tabs", "veel spaties en tabs"),
        ("\x7fdelete", "delete"),
        ("één café", "één café"),
        ("emoji 😄 blijft", "emoji 😄 blijft"),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_normalise_leaves_no_control_characters_except_newline_and_tab():
    raw = "".join(chr(c) for c in range(0, 0x2000)) + "\u200b\u200e\u2028\ufeff"
    cleaned = normalise(raw)
    assert all(ch in "\n\t" or unicodedata.category(ch)[0] != "C" for ch in cleaned)


# --- mood ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,score",
    [
        ("1", 1),
        ("5", 5),
        (" 3 ", 3),
        ("4/5", 4),
        ("4 / 5", 4),
        ("3.", 3),
        ("2 🙁", 2),
        ("1 😞", 1),
        ("heel goed", 5),
        ("super", 5),
        ("Topweek!", 5),
        ("geweldig", 5),
        ("goed", 4),
        ("Goed!", 4),
        ("het ging goed", 4),
        ("best goed eigenlijk", 4),
        ("prima", 4),
        ("fijn", 4),
        ("gaat wel", 3),
        ("oké", 3),
        ("ok", 3),
        ("neutraal", 3),
        ("niet zo goed", 2),
        ("niet goed", 2),
        ("niet heel goed", 2),
        ("slecht", 2),
        ("zware week", 2),
        ("heel slecht", 1),
        ("vreselijk", 1),
        ("rot", 1),
        ("😄", 5),
        ("😢", 1),
    ],
)
def test_parse_mood(text, score):
    assert parse_mood(text) == score


@pytest.mark.parametrize(
    "text",
    ["", "0", "6", "10", "10/10", "4,5", "weet ik niet", "ik ben trots op mezelf", "ik wil stoppen", "boek"],
)
def test_parse_mood_unclear(text):
    assert parse_mood(text) is None


def test_every_mood_button_payload_parses_to_its_number():
    for number in range(1, 6):
        assert parse_mood(str(number)) == number


# --- share --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,choice",
    [
        # the button payloads of utter_ask_refl_share
        ("alles delen", "all"),
        ("alleen doel en stemming", "goal_mood"),
        ("prive houden", "none"),
        # typed answers
        ("Alles mag hij zien", "all"),
        ("ja hoor", "all"),
        ("privé", "none"),
        ("niks", "none"),
        ("nee, niet delen", "none"),
        ("alleen het doel", "goal_mood"),
        ("alleen de stemming", "goal_mood"),
    ],
)
def test_parse_share(text, choice):
    assert parse_share(text) == choice


@pytest.mark.parametrize("text", ["", "hmm", "weet ik nog niet"])
def test_parse_share_unclear(text):
    assert parse_share(text) is None


# --- confirmation -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["ja", "Ja, opslaan", "opslaan", "klopt", "is goed", "oké", "ok", "bewaar maar"])
def test_confirmation_save(text):
    assert parse_confirmation(text) == ("save", None)


@pytest.mark.parametrize(
    "text,slot",
    [
        ("ik wil het doel aanpassen", "refl_next_goal"),
        ("stemming wijzigen", "refl_mood"),
        ("wat goed gegaan is wil ik veranderen", "refl_went_well"),
        ("feedback anders", "refl_feedback"),
        ("lastig aanpassen", "refl_difficult"),
        ("initiatief wijzigen", "refl_initiative"),
        ("delen wijzigen", "refl_share"),
        ("ja maar ik wil iets wijzigen", None),
    ],
)
def test_confirmation_edit(text, slot):
    assert parse_confirmation(text) == ("edit", slot)


@pytest.mark.parametrize("text", ["", "nee", "hmm", "wat bedoel je"])
def test_confirmation_unclear(text):
    assert parse_confirmation(text) == (None, None)


# --- phase and leerweg --------------------------------------------------------------


@pytest.mark.parametrize("phase,label", sorted(PHASE_LABELS.items()))
def test_phase_button_labels_parse_to_their_phase(phase, label):
    assert phase_from_text(label) == phase


@pytest.mark.parametrize(
    "text,phase",
    [
        ("ik ben nog niet begonnen", "before"),
        ("ik zoek een stage", "before"),
        ("ik moet nog beginnen", "before"),
        ("ik zit nu op stage", "during"),
        ("ik loop stage bij een kapper", "during"),
        ("ben al begonnen", "during"),
        ("ik zit in mijn laatste week", "after"),
        ("mijn stage is bijna klaar", "after"),
        ("het einde van mijn stage", "after"),
    ],
)
def test_phase_from_text(text, phase):
    assert phase_from_text(text) == phase


@pytest.mark.parametrize(
    "text,phase",
    [
        ("over twee weken begin ik bij de garage", "before"),
        ("ik start in augustus", "before"),
        ("ik heb nog geen leerbedrijf", "before"),
        ("ik zit in week 9", "during"),
        ("ik heb nog een paar weken te gaan", "during"),
        ("de eerste week zit erop", "during"),
        ("de helft zit erop", "during"),
        ("mijn bpv zit erop", "after"),
        ("ik ben net klaar met mn stage", "after"),
        ("nog maar een week", "after"),
    ],
)
def test_phase_from_text_other_wordings(text, phase):
    assert phase_from_text(text) == phase


@pytest.mark.parametrize("text", ["", "hoi", "ik heb morgen een eindgesprek", "ik ben klaar met mijn taken, wat nu"])
def test_phase_from_text_unclear(text):
    assert phase_from_text(text) is None


@pytest.mark.parametrize(
    "text,phase",
    [
        ("ik ben net begonnen bij de kapper, hoe laat ik zien dat ik wil?", "during"),
        ("Ik loop nu drie weken stage in de zorg, wat verwachten ze van me?", "during"),
        ("halverwege mn stage en ik heb geen zin meer", "during"),
        ("hoe hou ik het vol, nog 8 weken", "during"),
        ("morgen is mijn eerste stagedag, waar let ik op", "before"),
        ("ik begin volgende maand, moet ik al leerdoelen hebben", "before"),
        ("ik heb nog geen stageplek, hoe vind ik er een", "before"),
        ("mijn stage is bijna klaar, hoe vraag ik om een contract", "after"),
        ("hoe kom ik de laatste weken van mijn bpv door", "after"),
    ],
)
def test_phase_stated_in_a_coaching_question(text, phase):
    assert phase_in_question(text) == phase


@pytest.mark.parametrize(
    "text",
    [
        "kan ik na mijn stage blijven werken",  # about later, not where they stand
        "wat doe ik als mijn taken erna klaar zijn",
        "wat als ik blokkeer tijdens de service",
        "hoe bereid ik mijn voortgangsgesprek voor",
        "ik ben bezig met een klus en weet niet hoe verder",
        "hoe blijf ik tot de laatste week van mijn stage initiatief tonen",
        "wat doe je als je in je eerste week al een fout maakt",
    ],
)
def test_loose_phase_words_in_a_coaching_question_are_not_a_phase(text):
    assert phase_in_question(text) is None


@pytest.mark.parametrize(
    "text,leerweg",
    [("BOL", "BOL"), ("ik doe bbl", "BBL"), ("ik zit op de Bol", "BOL"), ("symbool", None), ("bolletje", None), ("", None)],
)
def test_leerweg_from_text(text, leerweg):
    assert leerweg_from_text(text) == leerweg


@pytest.mark.parametrize(
    "text,leerweg",
    [
        ("ik werk 4 dagen en heb 1 schooldag", "BBL"),
        ("ik heb een leerwerkplek bij een installateur", "BBL"),
        ("ik ben leerling-werknemer", "BBL"),
        ("voltijdse opleiding", "BOL"),
        ("ik ben een bol'er", "BOL"),
        ("ze bieden me na de stage een leerwerkplek aan", None),
        ("kan ik daarna voltijd werken bij jullie", None),
        ("ik wil later in dienst bij de gemeente", None),
    ],
)
def test_leerweg_from_text_other_wordings(text, leerweg):
    assert leerweg_from_text(text) == leerweg


def _annotated_training_examples():
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    return [
        (entity["entity"], entity["value"], message.get("text"))
        for message in data.intent_examples
        for entity in message.get("entities") or []
        if entity["entity"] in ("phase", "leerweg")
    ]


def test_phase_and_leerweg_readers_agree_with_the_training_annotations():
    """The rule readers replace an entity extractor: they must find the value the
    training data annotates in nearly every annotated example (README, NLU pipeline)."""
    examples = _annotated_training_examples()
    readers = {"phase": phase_from_text, "leerweg": leerweg_from_text}
    for entity in readers:
        annotated = [(value, text) for name, value, text in examples if name == entity]
        correct = sum(readers[entity](text) == value for value, text in annotated)
        assert len(annotated) >= 50
        assert correct / len(annotated) >= 0.9, (entity, correct, len(annotated))


# --- open answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,problem",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\x00\x01", "empty"),
        ("/affirm", "empty"),
        ("ok", "short"),
        ("ging goed", "short"),
        ("Ik heb gewerkt", None),
        ("Ik heb vandaag zelf een klant geholpen.", None),
        ("a " * (MAX_ANSWER_CHARS // 2) + "abc", "long"),
    ],
)
def test_answer_problem(text, problem):
    assert answer_problem(text) == problem


def test_answer_length_boundary():
    exactly = ("woord " * 300)[:MAX_ANSWER_CHARS]
    assert len(normalise(exactly)) <= MAX_ANSWER_CHARS
    assert answer_problem(exactly) is None
    assert answer_problem(exactly + "xx") == "long"


# --- privacy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,wish",
    [
        ("verwijder alles", "all"),
        ("kun je al mijn gegevens verwijderen", "all"),
        ("wis alle reflecties", "all"),
        ("ik wil dat je al m'n data wist", "all"),
        ("verwijder mijn laatste reflectie", "one"),
        ("kan ik iets weghalen", "one"),
        ("wie kan mijn reflecties lezen", None),
        ("wordt mijn chat opgeslagen?", None),
        ("", None),
    ],
)
def test_deletion_requested(text, wish):
    assert deletion_requested(text) == wish


@pytest.mark.parametrize(
    "text,expected",
    [("mijn begeleider reageert niet", True), ("ik kom te laat op stage", True), ("wat is de hoofdstad van Peru", False)],
)
def test_mentions_internship(text, expected):
    assert mentions_internship(text) is expected


def test_module_has_no_io_imports():
    source = open(parsing.__file__, encoding="utf-8").read()
    for forbidden in ("sqlalchemy", "bot.db", "requests", "open("):
        assert forbidden not in source
