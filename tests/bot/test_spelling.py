"""Misspelled key words are put right for the safety net; Dutch words are left alone."""
import pytest

from bot.safety import detect, text_for_matching
from bot.spelling import correct_key_words, key_word_for


@pytest.mark.parametrize("written, meant", [
    ("gepesd", "gepest"), ("gerpest", "gepest"), ("aangerant", "aangerand"), ("rasisme", "racisme"),
    ("intimiedatie", "intimidatie"), ("ongelukt", "ongeluk"), ("gedischrimineert", "gediscrimineerd"),
    ("geintimideerd", "geïntimideerd"), ("zelfmoort", "zelfmoord"), ("snije", "snijden"), ("sexuele", "seksuele"),
])
def test_misspelled_key_words_are_put_right(written, meant):
    assert key_word_for(written) == meant


@pytest.mark.parametrize("word", [
    "getest", "gepost", "gepast", "gewend", "aangebrand", "besten", "verband", "belast", "opvangen",
    "vastgeplakt", "posten", "gewoon", "pest",  # Dutch words, or too short to judge
])
def test_dutch_words_and_short_words_are_left_alone(word):
    assert key_word_for(word) is None


def test_only_the_misspelled_word_changes():
    assert correct_key_words("ik word gepesd op stage, 3x per dag!") == "ik word gepest op stage, 3x per dag!"


def test_the_net_reads_misspelled_reports():
    assert text_for_matching("Word GEPESD") == "word gepest"
    assert "bullying" in detect("word gepesd")
    assert "harassment" in detect("ik ben aangerant door een colega")
    assert detect("ik heb de foto gepost en het is getest") == []
