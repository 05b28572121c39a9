"""Pure helpers that read student answers. No I/O."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional, Tuple

from bot.topics import PHASES

MAX_ANSWER_CHARS = 1500
# The portal chat refuses longer messages (bot/channels.py); other channels (the
# development REST channel) get the same limit in the answering actions.
MAX_MESSAGE_CHARS = 5000
MIN_ANSWER_WORDS = 3

_MONTH = r"(januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)"
_NUMBER = r"(\d+|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|paar|aantal)"
_PERIOD = r"(dag|dagen|week|weken|weekjes|maand|maanden)"
# Read in order: the first phase whose pattern matches wins, so "after" (the end is
# near or past) goes before "during" (which also matches "ik zit in de laatste week").
_PHASE_WORDS = (
    ("after", r"\b(einde|eind van|laatste (dag|dagen|week|weken|stagedag|loodjes)|bijna klaar|(helemaal|al|net) klaar"
              r"|klaar met (mijn|mn|m'?n|de) (stage|bpv)|(stage|bpv) is klaar|ben klaar\b(?! met (mijn|mn|m'?n|de) (taken|werk|klus))"
              r"|afgerond|afgesloten|aan het afronden|afgelopen|voorbij|(?<!week )(?<!helft )zit(ten)? erop|er al op zitten"
              r"|na (mijn|m'?n|de) (stage|bpv)|na afloop|achteraf|erna|eindbeoordeling al|nog maar (een|één|1) week|finished|al gehad)\b"),
    ("before", r"\b(nog niet (begonnen|gestart|bij)|voor (mijn|m'?n|de) (stage|bpv)|voordat ik begin|vooraf|ervoor|binnenkort"
               r"|begin nog|moet nog (beginnen|starten|een plek)|(begint|start|begin|starten|beginnen) (pas |nog )?(na|in|over|volgende|volgend|morgen|binnenkort)\b"
               r"|(morgen|volgende (week|maand)|over " + _NUMBER + r" " + _PERIOD + r"|in " + _MONTH + r") (begin|start|ga ik beginnen)"
               r"|pas in " + _MONTH + r"|begin pas als|^over " + _NUMBER + r" " + _PERIOD + r"$|^volgende (week|maand)|op het punt te beginnen|eerste (stage)?dag is (over|morgen|maandag|volgende)|(maandag|morgen) is mijn eerste dag"
               r"|solliciteer|aan het solliciteren|zoek(en)? (nog )?(een )?(stage|leerbedrijf|stageplek|stageadres|leerwerkplek)"
               r"|heb nog geen (stage|stageplek|leerwerkplaats|leerwerkplek|leerbedrijf)|not started|voorbereid)"),
    ("during", r"\b(tijdens|middenin|midden in|in the middle|bezig|halverwege|op de helft|helft zit erop|tweede helft"
               r"|al begonnen|net (begonnen|gestart)|loop (nu |sinds \S+ |er )?(stage|bpv)|loop er|zit (nu |er )?(op|in) (mijn|mn|m'?n|de)? ?(stage|bpv)"
               r"|zit (er|al) (middenin|sinds)|zit er sinds|ben er (nu |sinds )|werk er (nu |al )|draai (nu )?mee"
               r"|(zit|ben) (nu )?in (week|periode|mijn|de) (\d+|eerste|tweede|derde|vierde|\d+e)\b|week \d+|eerste (dag|week|maand)"
               r"|nog (een )?" + _NUMBER + r" " + _PERIOD + r"( te gaan)?|loop ik (daar|er|nu)|ben er (\S+ ){0,3}(week|weken|maand|maanden)|nog een (maand|week) of|al een (tijdje|paar|jaar))"),
)
# Inside a coaching question the loose words above mislead ("na mijn stage" in a
# question about a job, "tijdens de service", "voorbereiden"), so only a plain
# statement of where the student stands counts there. Read in order: the end first.
_DAY = r"(morgen|overmorgen|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)"
_STAGE = r"(stage|bpv|stageperiode|leerwerkplek)"
_MY = r"(mijn|mn|m'?n|de|me)"
_STATED_PHASE = (
    ("after", rf"\b({_STAGE} is (bijna |al |net )?(klaar|afgelopen|voorbij|afgerond)"
              rf"|(bijna|net|al) klaar met {_MY} {_STAGE}|{_STAGE} zit (er )?(bijna )?op"
              rf"|(?<!tot de )laatste (week|weken|maand|dagen|stagedagen) van {_MY} {_STAGE}"
              rf"|(zit|ben) (nu )?in {_MY} laatste (week|weken|maand)|nog (maar )?(een|één|1|twee|2) (week|weken|dagen) (stage )?te gaan"
              rf"|nog maar (een|één|1|twee|2|drie|3) (week|weken|dagen))\b"),
    ("before", rf"\b((zoek|zoeken) (nog )?(een )?(stage|stageplek|stageadres|stageplaats|leerbedrijf|bbl-plek|leerwerkplek)"
               rf"|heb (nog )?geen (stage|stageplek|stageadres|stageplaats|leerbedrijf|leerwerkplek)"
               rf"|{_STAGE} (begint|start) (pas )?({_DAY}|volgende|over|binnenkort|in {_MONTH}|na de)"
               rf"|({_DAY}|volgende week) (is )?{_MY} eerste (stage)?dag|{_MY} eerste (stage)?dag is ({_DAY}|volgende)"
               rf"|eerste (stage)?dag (is )?{_DAY}|(ik )?(begin|start) (pas )?({_DAY}|volgende (week|maand)|binnenkort|over {_NUMBER} {_PERIOD}|in {_MONTH})"
               rf"|nog niet (begonnen|gestart)|moet nog (beginnen|starten))\b"),
    ("during", rf"\b((ben|zijn) (net|pas|sinds kort|vorige week) (begonnen|gestart)|(zit|ben) (nu )?in week \d+|week \d+ van {_MY} {_STAGE}"
               rf"|halverwege {_MY} {_STAGE}|op de helft van {_MY} {_STAGE}|(zit|ben) (nu )?in {_MY} (eerste|tweede|derde) (week|maand)"
               rf"|loop (nu |al |sinds \S+ )?({_NUMBER} {_PERIOD} )?stage|nog (\d+|vier|vijf|zes|zeven|acht|negen|tien) (weken|maanden)( stage)?( te gaan)?)\b"),
)
_LEERWEG_WORDS = (
    ("BBL", r"\b(bbl|bbl'?er|beroepsbegeleidende|(heb|mijn|mn|m'?n|via|op|in) (een |het |de )?(leerwerk\w*|leerbaan)"
            r"|^(leerwerk\w*|leerbaan)$|leerling(-| )werknemer|leerling in loondienst|ben (al )?in dienst bij"
            r"|duale? traject|werk en leer|leren en werken|(salaris|loon) en ga"
            r"|(1|een|één) (les|school)dag|(1|een|één) dag (in de week |per week )?(naar )?(school|les)"
            r"|\d dagen werken (en )?(1|een|één) dag)"),
    ("BOL", r"\b(bol|bol'?er|beroepsopleidende|^voltijd$|voltijd(se|s)? (opleiding|student|school)|dagopleiding|dagonderwijs|full-?time (school|student)"
            r"|stagiair vanuit school)\b"),
)
# Words start at a word boundary ("rot" not in "trots", "top" not in "stoppen").
_MOOD_WORDS = {
    5: r"\b(heel goed|super|top|geweldig|fantastisch)|😄|😁|🤩",
    4: r"\b(goed|prima|fijn|lekker)|🙂|😊",
    3: r"\b(gaat wel|oké|oke|ok|neutraal|matig)|😐",
    2: r"\b(niet (zo |echt |heel )?goed|slecht|zwaa?r)|🙁|😕",
    1: r"\b(heel slecht|vreselijk|verschrikkelijk|rot)|😞|😢|😭",
}
_SHARE = (
    ("none", r"(niets|niks|priv[eé]|geheim|niet delen|alleen ik|nee)"),
    ("goal_mood", r"(doel en stemming|alleen (het )?doel|alleen (de )?stemming|gedeeltelijk|een deel)"),
    ("all", r"(alles|alle|ja|delen|mag alles|prima)"),
)
EDIT_TARGETS = {
    "goed gegaan": "refl_went_well",
    "lastig": "refl_difficult",
    "feedback": "refl_feedback",
    "initiatief": "refl_initiative",
    "doel": "refl_next_goal",
    "stemming": "refl_mood",
    "delen": "refl_share",
}


def normalise(text: Optional[str]) -> str:
    """Printable, trimmed text: control characters removed, whitespace folded."""
    if not text:
        return ""
    cleaned = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text
    )
    return re.sub(r"[ \t]+", " ", cleaned).strip()


def _first_match(table: Tuple[Tuple[str, str], ...], text: str) -> Optional[str]:
    """The value of the first (value, pattern) pair whose pattern occurs in `text`."""
    lowered = normalise(text).lower()[:MAX_MESSAGE_CHARS]
    return next((value for value, pattern in table if re.search(pattern, lowered)), None)


def phase_from_text(text: str) -> Optional[str]:
    return _first_match(_PHASE_WORDS, text)


def phase_in_question(text: str) -> Optional[str]:
    """The phase a student states inside a coaching question ("ik ben net begonnen,
    hoe toon ik initiatief?"); None unless they plainly say where they stand."""
    return _first_match(_STATED_PHASE, text)


def known_phase(value: object) -> Optional[str]:
    """A phase from an entity or slot value. A "/inform{...}" payload typed by a
    student can carry any JSON value (a list, an object, markup); only a known
    phase, or text that names one, is used."""
    if not isinstance(value, str):
        return None
    return value if value in PHASES else phase_from_text(value[:200])


def known_leerweg(value: object) -> Optional[str]:
    """BOL or BBL from an entity or slot value; anything else is ignored."""
    return leerweg_from_text(value[:200]) if isinstance(value, str) else None


def leerweg_from_text(text: str) -> Optional[str]:
    return _first_match(_LEERWEG_WORDS, text)


def answer_problem(text: str) -> Optional[str]:
    """Why an open reflection answer is not usable yet: 'empty', 'short', 'long' or None."""
    cleaned = normalise(text)
    if not cleaned or cleaned.startswith("/"):
        return "empty"
    if len(cleaned) > MAX_ANSWER_CHARS:
        return "long"
    if len(re.findall(r"\w+", cleaned)) < MIN_ANSWER_WORDS:
        return "short"
    return None


def parse_mood(text: str) -> Optional[int]:
    cleaned = normalise(text).lower()
    digits = re.fullmatch(r"\s*([1-5])(?![.,]?\d)\s*(/\s*5)?\s*\S*", cleaned)  # not "10", "4,5"
    if digits:
        return int(digits.group(1))
    for score in (1, 2, 5, 4, 3):  # specific phrases ("heel slecht", "niet goed") before general ones
        if re.search(_MOOD_WORDS[score], cleaned):
            return score
    return None


def parse_share(text: str) -> Optional[str]:
    cleaned = normalise(text).lower()
    for choice, pattern in _SHARE:
        if re.search(pattern, cleaned):
            return choice
    return None


# The summary's save button sends an intent payload: Rasa reads it without the NLU,
# so the click can never be mistaken for "pause" or "goodbye" (both would pause the form).
SAVE_BUTTON_PAYLOAD = "/affirm"


def parse_confirmation(text: str) -> Tuple[Optional[str], Optional[str]]:
    """('save', None), ('edit', slot_name) or (None, None) when unclear."""
    cleaned = normalise(text).lower()
    if cleaned == SAVE_BUTTON_PAYLOAD:
        return "save", None
    if re.search(r"(wijzig|aanpass|verander|anders)", cleaned):
        for word, slot in EDIT_TARGETS.items():
            if word in cleaned:
                return "edit", slot
        return "edit", None
    if re.search(r"(opslaan|bewaar|^ja\b|klopt|is goed|prima|oke|oké|ok\b|save)", cleaned):
        return "save", None
    return None, None


def mentions_internship(text: str) -> bool:
    """Rough test for 'this was about the internship', for the unanswered list."""
    return bool(
        re.search(
            r"(stage|bpv|begeleider|werk|collega|baas|leidinggevende|school|opleiding|bedrijf|klant|rooster|contract)",
            normalise(text).lower(),
        )
    )


def deletion_requested(text: str) -> Optional[str]:
    """'all', 'one' or None for a privacy message."""
    cleaned = normalise(text).lower()
    if not re.search(r"(verwijder|wis|weg(halen|doen)|delete|vergeten)", cleaned):
        return None
    if re.search(r"\b(alles|alle|al m(ijn|'n|n))\b", cleaned):
        return "all"
    return "one"
