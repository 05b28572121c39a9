"""An intern's weekly log as CSV and as PDF: shared answers only, text never markup.

CSV: cells that a spreadsheet would run as a formula (=, +, -, @ ...) get a leading
apostrophe. PDF: every text is XML-escaped before it becomes a reportlab
Paragraph, so "<b>" or "<font>" typed by a student is printed, not interpreted.
"""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Dict, List, Mapping
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from bot.portal.labels import FIELD_LABELS, NOT_SHARED, mood_text
from bot.reflections import FIELDS

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _answer(name: str, answers: Dict[str, object]) -> str:
    if name not in answers:
        return NOT_SHARED
    value = answers[name]
    if name == "mood":
        return mood_text(value) if value is not None else "-"
    return str(value) if value else "-"


def log_csv(intern_name: str, records: List[Dict[str, object]]) -> bytes:
    """UTF-8 with BOM and ';' between cells: opens correctly in Dutch Excel."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Stagiair", "Week", *[FIELD_LABELS[name] for name in FIELDS]])
    for record in records:
        writer.writerow(
            [_cell(intern_name), _cell(record["week"]), *[_cell(_answer(n, record["answers"])) for n in FIELDS]]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def pdf_safe(text: str) -> str:
    """The PDF uses the standard Helvetica font (Windows-1252 letters). A letter it
    lacks, such as the Turkish ş or ı or the Polish ł, becomes its base letter so a
    name stays readable; anything else (emoji) is left for reportlab's square."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        base = EXTRA_FOLDS.get(char, base)
        try:
            base.encode("cp1252")
            out.append(base or char)
        except UnicodeEncodeError:
            out.append(char)
    return "".join(out)


EXTRA_FOLDS = {"ı": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h"}


def _paragraph(text: str, style) -> Paragraph:
    # escape first, then turn line breaks into <br/>: the only markup reportlab sees is ours
    return Paragraph(escape(pdf_safe(text)).replace("\n", "<br/>"), style)


def log_pdf(intern_name: str, company: str, records: List[Dict[str, object]]) -> bytes:
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=f"Weeklog {intern_name}",
        author="Stagecoach",
    )
    story = [_paragraph(f"Weeklog van {intern_name}", styles["Title"])]
    if company:
        story.append(_paragraph(f"Stagebedrijf: {company}", styles["Normal"]))
    story.append(_paragraph("Alleen wat de stagiair heeft gedeeld.", styles["Italic"]))
    story.append(Spacer(1, 0.4 * cm))
    if not records:
        story.append(_paragraph("Nog geen weekreflecties.", styles["Normal"]))
    for record in records:
        story.append(_paragraph(f"Week {record['week']}", styles["Heading2"]))
        for name in FIELDS:
            story.append(_paragraph(FIELD_LABELS[name], styles["Heading4"]))
            story.append(_paragraph(_answer(name, record["answers"]), styles["BodyText"]))
    doc.build(story)
    return buffer.getvalue()


# A student's data export (bot.student_data) as a file a person can read: the data
# keeps its English keys (the same as `python -m bot students export`), and the
# "uitleg" block at the top says in Dutch what each part is.
STUDENT_DATA_EXPLANATION = {
    "over_dit_bestand": "Dit zijn alle gegevens die Stagecoach over jou bewaart. "
    "Alle tijden zijn in UTC: tel er in de winter 1 uur en in de zomer 2 uur bij voor de Nederlandse tijd.",
    "profile": "Je account: je nummer, naam, e-mail en of je een wachtwoord hebt.",
    "internship": "Je stage: het bedrijf, BOL of BBL, de data en je praktijkbegeleider.",
    "reflections": "Je weekreflecties met al je antwoorden. Bij shared_with_supervisor staat wat je "
    "praktijkbegeleider mocht lezen. Ook de reacties van je begeleider en wanneer die het las.",
    "goals": "Je doelen per week en hoe het ging.",
    "safety_reports": "Meldingen over een onveilige situatie. Alleen de coördinatoren van school lezen die.",
    "access_log": "Wie je gegevens bekeek, downloadde of verwijderde, en wanneer.",
    "chat_messages": "Je berichten in de chat en de antwoorden van de coach.",
    "antwoorden": dict(FIELD_LABELS),
}


def student_data_json(data: Mapping[str, object]) -> bytes:
    """UTF-8 JSON, indented, with the Dutch explanation first."""
    body = {"uitleg": STUDENT_DATA_EXPLANATION, **data}
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
