"""Helpers shared by the portal tests (imported by conftest.py and the tests)."""
from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Dict

from bot import passwords

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"
PAYLOAD = "<script>alert(1)</script> <b>x</b> {{ 7*7 }}"
EVERYONE = ("student-1", "student-2", "sup-1", "sup-2", "coord-1")
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "portal-test-secret"}


def set_passwords(ids=EVERYONE) -> None:
    for external_id in ids:
        passwords.set_password(external_id, PASSWORD)


def make_tracker_store(path: Path) -> str:
    """A SQLite file with Rasa's `events` table (the columns the portal reads)."""
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id VARCHAR(255) NOT NULL, "
        "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def add_event(url: str, sender: str, type_name: str, data: Dict) -> None:
    connection = sqlite3.connect(url[len("sqlite:///"):])
    connection.execute(
        "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
        (sender, type_name, time.time(), json.dumps(dict(data, event=type_name))),
    )
    connection.commit()
    connection.close()


def login(client, external_id: str, password: str = PASSWORD):
    return client.post("/login", data={"login": external_id, "password": password})


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def pdf_text(pdf: bytes) -> str:
    """The text shown by a reportlab PDF: every (string) Tj, decoded, unescaped and
    joined without separators (reportlab writes "<", "b", ">" as separate pieces).

    Enough for checks on our own exports; not a general PDF parser.
    """
    import base64
    import zlib

    assert pdf.startswith(b"%PDF-")
    lines = []
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        header, raw = match.group(1), match.group(2).strip()
        if b"/ASCII85Decode" in header:
            raw = base64.a85decode(raw[:-2] if raw.endswith(b"~>") else raw)
        if b"/FlateDecode" in header:
            raw = zlib.decompress(raw)
        content = raw.decode("latin-1")
        for string in re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", content):
            lines.append(_unescape_pdf_string(string))
    return "".join(lines)


def _unescape_pdf_string(value: str) -> str:
    def replace(match):
        escaped = match.group(1)
        if escaped[0] in "01234567":
            return bytes([int(escaped, 8)]).decode("cp1252", "replace")
        return {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}.get(escaped, escaped)

    return re.sub(r"\\([0-7]{1,3}|.)", replace, value)
