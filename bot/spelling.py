"""Misspelled key words of unsafe situations, put right before the safety net reads
a message.

Students with dyslexia, students who are learning Dutch and fast phone typists
write "gepesd", "aangerant", "rasisme" or "ongelukt"; the net's patterns know only
the standard spelling. A word is replaced by a key word when it is within a small
edit distance of it and is not itself a Dutch word (the Dutch lemma tables of
spacy-lookups-data, so "getest" never becomes "gepest").
"""
from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path
from typing import FrozenSet, Optional

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

# Standard spellings of words the net's patterns rely on. Only words of five letters
# or more: shorter ones are too close to ordinary words.
KEY_WORDS = (
    "pesten", "gepest", "pesterij", "pesterijen", "treiteren", "getreiterd", "uitgescholden", "scheldt",
    "aangerand", "aanranding", "aanranden", "verkracht", "verkrachting", "betast", "betasten", "vastgepakt",
    "intimidatie", "geïntimideerd", "intimideert", "intimideren", "seksueel", "seksuele",
    "racisme", "racistisch", "racistische", "discriminatie", "discrimineren", "gediscrimineerd", "discrimineert",
    "bedreigd", "bedreigt", "bedreiging", "bedreigingen", "geslagen", "mishandeld", "mishandeling", "geschopt",
    "zelfmoord", "zelfdoding", "zelfbeschadiging", "snijden", "gesneden", "gekrast", "ophangen", "overdosis",
    "ongeluk", "ongeval", "verbrand", "gewond", "gestalkt", "stalkt", "naaktfoto", "naaktfoto's",
    "grensoverschrijdend", "onveilig", "misbruik", "misbruikt",
)
# Whole-word chat misspellings that are too far from the standard word for the
# distance rule ("snije" is two letters short of "snijden").
KNOWN_MISSPELLINGS = {
    "snije": "snijden", "snijen": "snijden", "snij'n": "snijden", "zelfmoort": "zelfmoord",
    "zelmoord": "zelfmoord", "selfmoord": "zelfmoord", "sexueel": "seksueel", "sexuele": "seksuele",
}
# Dutch words the lemma tables lack that sit close to a key word.
ALSO_DUTCH = frozenset({
    "gepast", "gepaste", "ongepast", "ongepaste", "getest", "gewoon", "gewonnen", "geschept", "gewend", "gewende",
    "aangebrand", "aangebrande", "besten", "belast", "belaste", "gekast",
})
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
MIN_LENGTH = 5
LOOKUPS = "nl_lemma_lookup.json.gz"


@functools.lru_cache(maxsize=1)
def dutch_words() -> FrozenSet[str]:
    """Every word form of spacy-lookups-data's Dutch lemma table (read once)."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / LOOKUPS
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        table = json.load(handle)
    return frozenset(table) | frozenset(table.values()) | ALSO_DUTCH


def max_distance(word: str) -> int:
    return 1 if len(word) < 9 else 2


def key_word_for(word: str) -> Optional[str]:
    """The key word a misspelled word stands for, or None."""
    if word in KNOWN_MISSPELLINGS:
        return KNOWN_MISSPELLINGS[word]
    if len(word) < MIN_LENGTH or word in KEY_WORDS or word in dutch_words():
        return None
    match = process.extractOne(
        word, KEY_WORDS, scorer=DamerauLevenshtein.distance, score_cutoff=max_distance(word)
    )
    return match[0] if match else None


def correct_key_words(lowered: str) -> str:
    """`lowered` (already lower-case) with misspelled key words put right."""
    return _WORD.sub(lambda m: key_word_for(m.group(0)) or m.group(0), lowered)
