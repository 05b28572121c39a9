"""Malformed imports: the users CSV (command line and the coordinator's upload)
and advice content YAML (command line and the portal's content editor).

Property: a clear, line-numbered Dutch message or a correct import; never half
an import, never a traceback; a refused content file leaves the store unchanged.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import content, db
from bot.content_schema import ContentValidationError
from bot.models import ContentVersion, Internship, User
from bot.users import HEADER, UserImportError, import_csv_bytes
from tests.fuzz.strategies import (
    content_documents,
    csv_files,
    good_entry,
    valid_csv_files,
    yaml_bomb,
)

ROOT = Path(__file__).resolve().parents[2]
FILE_ERRORS = ("Het bestand is geen UTF-8 tekst", "Het bestand is leeg.")
LINE_ERROR = re.compile(r"^Regel \d+: \S")


def snapshot():
    with db.session_scope() as session:
        users = session.execute(
            select(User.external_id, User.role, User.name, User.email, User.active).order_by(User.external_id)
        ).all()
        internships = session.execute(
            select(User.external_id, Internship.supervisor_id, Internship.leerweg, Internship.company)
            .join(User, User.id == Internship.student_id)
            .order_by(User.external_id)
        ).all()
    return [tuple(u) for u in users], [tuple(i) for i in internships]


def users_by_id():
    with db.session_scope() as session:
        return {
            u.external_id: (u.role, u.name, u.email)
            for u in session.execute(select(User)).scalars()
        }


def assert_clear_errors(errors):
    assert errors
    for error in errors:
        assert error.startswith(FILE_ERRORS) or LINE_ERROR.match(error), error
        assert "Traceback" not in error and len(error) < 600, error


# --- users CSV, in process (the function the command and the upload both call) -------


@settings(max_examples=150)
@given(file=csv_files())
def test_users_csv_all_or_nothing(people, file):
    data, rows, clean = file
    before = snapshot()
    try:
        counts = import_csv_bytes(data)
    except UserImportError as error:
        assert_clear_errors(error.errors)
        assert snapshot() == before, "a refused file changed the database"
        return
    stored = users_by_id()
    assert counts["created"] + counts["updated"] >= 1 or not any(r for r in rows)
    if clean:  # exactly the generated rows: every one of them is in, as written
        for row in rows:
            role, external_id, name, email = (row + [""] * 7)[:4]
            assert stored[external_id.strip()][:2] == (role.strip(), name.strip()), (row, stored.get(external_id))


@settings(max_examples=80)
@given(file=valid_csv_files())
def test_valid_users_csv_always_imports_completely(people, file):
    """Commas, quotes, semicolons, any alphabet, a formula-looking name, either
    delimiter, any line end, with or without BOM: a valid file imports."""
    data, rows = file
    import_csv_bytes(data)
    stored = users_by_id()
    for row in rows:
        assert stored[row[1]][:2] == (row[0], row[2].strip()), (row, data[:300])


# --- users CSV through `python -m bot users import` ----------------------------------


def run_cli(url, *args, stdin=None):
    env = dict(os.environ, DATABASE_URL=url, PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        input=stdin,
    )


def count_users(url) -> int:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(User.__table__)).scalar()
    finally:
        engine.dispose()


HEAD = ",".join(HEADER)


def big_file(rows: int, bad_line: int = 0) -> bytes:
    lines = [HEAD, "supervisor,big-sup,Grote Begeleider,,,,"]
    for index in range(rows - 1):
        leerweg = "HBO" if index + 3 == bad_line else "BOL"
        lines.append(f"student,big-{index},Student {index},big{index}@school.nl,big-sup,{leerweg},Bakkerij")
    return ("\n".join(lines) + "\n").encode()


CLI_CASES = {
    "random_bytes": (bytes(range(256)) * 4, "UTF-8"),
    "utf16": (f"{HEAD}\ncoordinator,c-16,Els,,,,\n".encode("utf-16"), "UTF-8"),
    "latin1": (f"{HEAD}\ncoordinator,c-l1,Élise Müller,,,,\n".encode("latin-1"), "UTF-8"),
    "bom_only": (b"\xef\xbb\xbf", "leeg"),
    "nul_in_header": (b"role,external\x00_id\n", "Regel 1"),
    "missing_column": (f"{HEAD}\ncoordinator,c-mc,Els,,,\n".encode(), "Regel 2"),
    "extra_column": (f"{HEAD}\ncoordinator,c-ec,Els,,,,,extra\n".encode(), "Regel 2"),
    "unclosed_quote": (f'{HEAD}\ncoordinator,c-q,"Els,,,,\n'.encode(), "Regel 2"),
    "control_in_name": (f"{HEAD}\ncoordinator,c-cc,Els\x1bVisser,,,,\n".encode(), "onzichtbare tekens"),
    "bad_row_deep_in_10000": (big_file(10_000, bad_line=9_500), "Regel 9500"),
}


@pytest.fixture(scope="module")
def cli_database(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{base / 'cli.db'}"
    (base / "people.csv").write_text(f"{HEAD}\ncoordinator,coord-x,Els,,,,\n", encoding="utf-8")
    for args in (("init-db",), ("users", "import", str(base / "people.csv")), ("content", "seed")):
        result = run_cli(url, *args)
        assert result.returncode == 0, (args, result.stderr)
    return url


def stored_versions(url):
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(ContentVersion.__table__).order_by(ContentVersion.__table__.c.id)).all()
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_users_import_refuses_clearly_and_imports_nothing(cli_database, tmp_path, case):
    data, expected = CLI_CASES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(data)
    before = count_users(cli_database)
    result = run_cli(cli_database, "users", "import", str(path))
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("Fout: Niets geïmporteerd"), result.stderr[:300]
    assert expected in result.stderr, result.stderr[:500]
    assert count_users(cli_database) == before


def test_cli_imports_ten_thousand_rows_and_a_formula_name(cli_database, tmp_path):
    path = tmp_path / "big.csv"
    data = big_file(10_000).replace(b"Student 17,", b"\"=cmd|' /C calc'!A0\",")
    path.write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
    before = count_users(cli_database)
    result = run_cli(cli_database, "users", "import", str(path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "10000 nieuw" in result.stdout, result.stdout
    assert count_users(cli_database) == before + 10_000
    again = run_cli(cli_database, "users", "import", str(path))
    assert "0 nieuw, 10000 bijgewerkt" in again.stdout, again.stdout
    assert count_users(cli_database) == before + 10_000


# --- users CSV through the coordinator's upload (the real portal app) ---------------


@settings(max_examples=40)
@given(file=csv_files(prefix="up"))
def test_coordinator_upload_all_or_nothing(portal_client, file):
    data, _rows, _clean = file
    client = portal_client("coord-1")
    before = snapshot()
    response = client.post(
        "/coordinator/users/import",
        data={"file": (io.BytesIO(data), "personen.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 400), response.status_code
    page = response.get_data(as_text=True)
    if response.status_code == 400:
        assert "Niets geïmporteerd" in page
        assert re.search(r"Regel \d+|geen UTF-8|leeg", page), page[:2000]
        assert snapshot() == before


# --- content YAML --------------------------------------------------------------------


def version_rows():
    with db.session_scope() as session:
        return [
            (r.topic, r.phase, r.leerweg, r.version, r.status, r.body)
            for r in session.execute(select(ContentVersion).order_by(ContentVersion.id)).scalars()
        ]


def dump(document) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@settings(max_examples=120)
@given(document=content_documents())
def test_content_import_is_refused_clearly_or_complete(seeded_content, tmp_path_factory, document):
    path = tmp_path_factory.mktemp("yaml") / "inhoud.yml"
    path.write_text(dump(document), encoding="utf-8")
    before = version_rows()
    try:
        content.import_documents(content.load_yaml_documents(path), author="fuzz")
    except ContentValidationError as error:
        assert error.errors
        for message in error.errors:
            assert message.startswith("inhoud.yml") and len(message) < 800, message
        assert version_rows() == before, "a refused file changed the store"
        return
    published = {d["topic"]: d for d in content.export_documents()}[document["topic"]]
    for entry in document["entries"]:
        stored = next(e for e in published["entries"] if (e["phase"], e["leerweg"]) == (entry["phase"], entry["leerweg"]))
        for field in ("acknowledge", "tips", "why", "micro_goal"):
            assert stored[field] == entry[field]


def entry_yaml(**overrides) -> str:
    return dump({"topic": "ask_feedback", "label": "Feedback", "entries": [dict(good_entry(), **overrides)]})


YAML_CASES = {
    "tabs": ("topic: ask_feedback\nlabel: Feedback\nentries:\n\t- phase: during\n", "geen geldige YAML (regel 4)"),
    "billion_laughs": (yaml_bomb(), "verwijzingen"),
    "anchor_alias": (
        "topic: ask_feedback\nlabel: &l Feedback\nentries:\n  - phase: during\n    leerweg: any\n    why: *l\n",
        "verwijzingen",
    ),
    "duplicate_keys": (entry_yaml() + "topic: ask_mistake\n", "'topic' staat er twee keer in"),
    "duplicate_entry_keys": (
        "topic: ask_feedback\nlabel: Feedback\nentries:\n  - phase: during\n    phase: after\n", "'phase' staat er twee keer in"
    ),
    "wrong_types": (
        dump({"topic": ["ask_feedback"], "label": {"a": 1}, "entries": [{"phase": ["during"], "leerweg": {"x": 1}}]}),
        "onbekend onderwerp",
    ),
    "huge_string": (entry_yaml(why="x" * 2_000_000), "'why' is 2000000 tekens"),
    "binary": (None, "geen UTF-8"),
    "empty": ("", "het bestand moet een blok"),
    "python_tag": ("!!python/object/apply:os.system ['echo hacked']\n", "geen geldige YAML"),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_cli_content_import_refuses_malformed_yaml(cli_database, tmp_path, case):
    text, expected = YAML_CASES[case]
    path = tmp_path / "inhoud.yml"
    if text is None:
        path.write_bytes(b"\xff\xfe" + bytes(range(256)))
    else:
        path.write_text(text, encoding="utf-8")
    before = stored_versions(cli_database)
    assert before, "the seeded content is missing"
    result = run_cli(cli_database, "content", "import", str(path), "--author", "fuzz")
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Fout: Niets geïmporteerd"), result.stderr[:300]
    assert expected in result.stderr, result.stderr[:1000]
    assert len(result.stderr) < 5000, "the message must stay readable"
    assert stored_versions(cli_database) == before


# --- the portal's content editor -----------------------------------------------------

form_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["\t\t", "{voornaam}", "{naam}", "{{", "}", "x" * 400, "<script>alert(1)</script>", "\x00", "a\r\nb\rc",
         "ask_feedback", "ask_feedback\nask_mistake\nask_weather", "Goed dat je dit vraagt.\nNog een zin."]
    ),
)


@settings(max_examples=60)
@given(
    fields=st.fixed_dictionaries(
        {name: form_text for name in ("acknowledge", "tips", "why", "micro_goal", "related")}
    ),
    action=st.sampled_from(["preview", "draft", "publish", "", "delete", "\xff"]),
)
def test_content_editor_refuses_clearly_or_saves_exactly(portal_client, seeded_content, fields, action):
    client = portal_client("coord-1")
    key = ("ask_feedback", "during", "any")
    before = version_rows()
    published_before = content.get_advice(*key)
    response = client.post("/coordinator/content/" + "/".join(key), data=dict(fields, action=action))
    assert response.status_code in (200, 302, 400), (response.status_code, fields, action)
    page = response.get_data(as_text=True)
    if response.status_code == 400:
        assert version_rows() == before
        assert "<script>alert(1)</script>" not in page
    if response.status_code != 302 or action != "publish":
        assert content.get_advice(*key) == published_before
    else:
        from bot.portal.content_form import body_from_form

        body = body_from_form(fields)
        advice = content.get_advice(*key)
        assert list(advice.tips) == body["tips"] and advice.why == body["why"]
