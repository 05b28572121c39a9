"""`python -m bot ...` run as a real subprocess against SQLite files."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import content, reflections

ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = ROOT / "data" / "content"
SECRET = "cli-test-secret-0123456789abcdef0123456789"

USERS_CSV = (
    "role,external_id,name,email,supervisor_external_id,leerweg,company\n"
    "supervisor,sup-1,Petra de Vries,petra@kapsalon.nl,,,\n"
    "student,student-1,Sanne Jansen,sanne@student.nl,sup-1,BOL,Kapsalon Knip\n"
    "coordinator,coord-1,Els Visser,els@school.nl,,,\n"
)


def run(url, *args, check=None):
    env = dict(os.environ, DATABASE_URL=url, CHAT_JWT_SECRET=SECRET, PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    if check is not None:
        assert (result.returncode == 0) is check, (result.returncode, result.stdout, result.stderr)
    return result


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def ready(url):
    """A database created with `init-db` (the command under test, not the fixture)."""
    run(url, "init-db", check=True)
    return url


def seed_count():
    return sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["entries"]) for p in SEED_DIR.glob("ask_*.yml"))


# --- help -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["init-db"],
        ["users"],
        ["users", "import"],
        ["content"],
        ["content", "import"],
        ["content", "export"],
        ["content", "seed"],
        ["reflections"],
        ["reflections", "export"],
        ["token"],
    ],
    ids=lambda c: " ".join(c) or "bot",
)
def test_every_command_has_help(url, command):
    result = run(url, *command, "--help", check=True)
    assert result.stdout.startswith("usage: python -m bot")
    assert result.stderr == ""


def test_reflections_export_help_names_the_options(url):
    text = run(url, "reflections", "export", "--help", check=True).stdout
    for option in ("--student", "--week", "--format", "{json,csv}"):
        assert option in text


@pytest.mark.parametrize("args", [[], ["nonsense"], ["users"], ["reflections", "export", "--format", "xml"]])
def test_usage_errors_exit_non_zero(url, args):
    result = run(url, *args, check=False)
    assert result.returncode == 2
    assert "usage:" in result.stderr


# --- init-db ----------------------------------------------------------------------


def test_init_db_creates_and_upgrades(url, tmp_path):
    first = run(url, "init-db", check=True)
    assert "Database is bijgewerkt" in first.stdout
    assert (tmp_path / "cli.db").is_file()
    run(url, "init-db", check=True)  # again: nothing to do, still fine


def test_commands_on_a_database_without_schema_explain_what_to_do(url, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(USERS_CSV, encoding="utf-8")
    result = run(url, "users", "import", str(path), check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "init-db" in result.stderr


# --- users import -----------------------------------------------------------------


def test_users_import_good_file_and_reimport(ready, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(USERS_CSV, encoding="utf-8")
    result = run(ready, "users", "import", str(path), check=True)
    assert "3 nieuw, 0 bijgewerkt" in result.stdout
    result = run(ready, "users", "import", str(path), check=True)
    assert "0 nieuw, 3 bijgewerkt" in result.stdout


def test_users_import_bad_file_reports_line_and_imports_nothing(ready, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(USERS_CSV + "student,student-2,Mo Bakker,,sup-404,BOL,Zon\n", encoding="utf-8")
    result = run(ready, "users", "import", str(path), check=False)
    assert result.returncode != 0
    assert "Niets geïmporteerd" in result.stderr
    assert "Regel 5" in result.stderr and "sup-404" in result.stderr
    # nothing of the file was imported: a token for its first student is refused
    assert run(ready, "token", "student-1", check=False).returncode != 0


def test_users_import_non_utf8_file(ready, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(USERS_CSV.replace("Visser", "Vissér").encode("latin-1"))
    result = run(ready, "users", "import", str(path), check=False)
    assert result.returncode != 0
    assert "UTF-8" in result.stderr


def test_users_import_missing_file(ready, tmp_path):
    result = run(ready, "users", "import", str(tmp_path / "bestaat-niet.csv"), check=False)
    assert result.returncode != 0
    assert "Bestand niet gevonden" in result.stderr


# --- content ----------------------------------------------------------------------


def test_content_seed_export_import_round_trip(ready, tmp_path):
    result = run(ready, "content", "seed", check=True)
    assert f"{seed_count()} blokken gepubliceerd, 0 ongewijzigd" in result.stdout
    assert "niets gedaan" in run(ready, "content", "seed", check=True).stdout
    forced = run(ready, "content", "seed", "--force", check=True)
    assert f"0 blokken gepubliceerd, {seed_count()} ongewijzigd" in forced.stdout

    export = tmp_path / "export.yml"
    run(ready, "content", "export", str(export), check=True)
    exported = yaml.safe_load(export.read_text(encoding="utf-8"))
    assert len(exported["topics"]) == 12
    assert sum(len(t["entries"]) for t in exported["topics"]) == seed_count()

    result = run(ready, "content", "import", str(export), check=True)
    assert f"0 blokken gepubliceerd, {seed_count()} ongewijzigd" in result.stdout

    stdout_export = run(ready, "content", "export", "-", check=True).stdout
    assert stdout_export == export.read_text(encoding="utf-8")


def test_content_import_publishes_a_change_seen_by_another_process(ready, tmp_path, monkeypatch):
    from bot import config, db

    run(ready, "content", "seed", check=True)
    monkeypatch.setenv("DATABASE_URL", ready)
    config.reset_settings()
    db.reset_engine()
    try:
        before = content.get_advice("ask_mistake", "during", "BOL")
        document = {
            "topic": "ask_mistake",
            "label": "Fouten maken",
            "entries": [
                {
                    "phase": "during",
                    "leerweg": "any",
                    "acknowledge": ["Fouten maken hoort erbij."],
                    "tips": ["Zeg het meteen.", "Vraag hoe je het kunt herstellen."],
                    "why": "Eerlijkheid wekt vertrouwen.",
                    "micro_goal": "Meld deze week een fout direct bij je begeleider.",
                    "related": [],
                }
            ],
        }
        path = tmp_path / "change.yml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        result = run(ready, "content", "import", str(path), "--author", "els", check=True)
        assert "1 blokken gepubliceerd, 0 ongewijzigd" in result.stdout

        after = content.get_advice("ask_mistake", "during", "BOL")
        assert after.micro_goal == "Meld deze week een fout direct bij je begeleider."
        assert after.version == before.version + 1
        assert content.history(("ask_mistake", "during", "any"))[0].author == "els"
    finally:
        db.reset_engine()
        config.reset_settings()


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("topic: ask_weather\nlabel: Weer\nentries: []\n", "onbekend onderwerp 'ask_weather'"),
        ("topic: ask_mistake\nlabel: [kapot\n", "geen geldige YAML"),
        (
            "topic: ask_mistake\nlabel: Fouten\nentries:\n  - phase: during\n    leerweg: any\n"
            "    acknowledge: ['Hoi {naam}']\n    tips: ['a', 'b']\n    why: w\n    micro_goal: m\n",
            "(ask_mistake, blok 1): 'acknowledge nr. 1' gebruikt onbekende invulplek",
        ),
    ],
    ids=["unknown_topic", "malformed_yaml", "unknown_placeholder"],
)
def test_content_import_bad_file_fails_and_changes_nothing(ready, tmp_path, text, fragment):
    run(ready, "content", "seed", check=True)
    before = run(ready, "content", "export", "-", check=True).stdout
    path = tmp_path / "bad.yml"
    path.write_text(text, encoding="utf-8")
    result = run(ready, "content", "import", str(path), check=False)
    assert result.returncode != 0
    assert "Niets geïmporteerd" in result.stderr
    assert "bad.yml" in result.stderr and fragment in result.stderr
    assert run(ready, "content", "export", "-", check=True).stdout == before


def test_content_import_non_utf8_and_missing_file(ready, tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes("topic: ask_mistake\nlabel: Fouten één\n".encode("latin-1"))
    result = run(ready, "content", "import", str(path), check=False)
    assert result.returncode != 0 and "geen UTF-8" in result.stderr
    result = run(ready, "content", "import", str(tmp_path / "nope.yml"), check=False)
    assert result.returncode != 0 and "Bestand niet gevonden" in result.stderr


# --- reflections export -----------------------------------------------------------


@pytest.fixture
def with_reflections(people):
    """Uses the in-process `database` (DATABASE_URL is set for the subprocess too)."""
    answers = {
        "went_well": "Klant geholpen, ook met een \"lastige\" vraag; goed!",
        "difficult": "Privé: de telefoon",
        "feedback": "Meer vragen stellen",
        "initiative": "Vakken bijgevuld",
        "next_goal": "Elke dag één vraag",
        "mood": 4,
    }
    reflections.save_reflection("student-1", "2026-W10", answers, ["next_goal", "mood"])
    reflections.save_reflection("student-1", "2026-W11", dict(answers, mood=2), [])
    reflections.save_reflection("student-2", "2026-W10", dict(answers, went_well="Mo"), list(reflections.FIELDS))
    return os.environ["DATABASE_URL"]


def test_reflections_export_json(with_reflections):
    records = json.loads(run(with_reflections, "reflections", "export", "--format", "json", check=True).stdout)
    assert [(r["student_id"], r["week"]) for r in records] == [
        ("student-1", "2026-W10"),
        ("student-1", "2026-W11"),
        ("student-2", "2026-W10"),
    ]
    assert records[0]["difficult"] == "Privé: de telefoon"
    assert records[0]["shared_fields"] == ["next_goal", "mood"]
    assert records[1]["mood"] == 2


def test_reflections_export_filters(with_reflections):
    one = json.loads(run(with_reflections, "reflections", "export", "--student", "student-1", "--week", "2026-W11", check=True).stdout)
    assert [(r["student_id"], r["week"]) for r in one] == [("student-1", "2026-W11")]
    week = json.loads(run(with_reflections, "reflections", "export", "--week", "2026-W10", check=True).stdout)
    assert [r["student_id"] for r in week] == ["student-1", "student-2"]
    student = json.loads(run(with_reflections, "reflections", "export", "--student", "student-2", check=True).stdout)
    assert [r["week"] for r in student] == ["2026-W10"]


def test_reflections_export_shared_only(with_reflections):
    records = json.loads(
        run(with_reflections, "reflections", "export", "--student", "student-1", "--shared-only", check=True).stdout
    )
    assert records[0]["next_goal"] == "Elke dag één vraag" and records[0]["mood"] == 4
    assert records[0]["difficult"] is None and records[0]["went_well"] is None
    assert all(value is None for key, value in records[1].items() if key in reflections.FIELDS)


def test_reflections_export_csv(with_reflections, tmp_path):
    output = tmp_path / "out.csv"
    result = run(with_reflections, "reflections", "export", "--format", "csv", "--week", "2026-W10", "--output", str(output), check=True)
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(output.read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["student_id", "week", *reflections.FIELDS, "shared_fields", "updated_at"]
    assert [r["student_id"] for r in rows] == ["student-1", "student-2"]
    assert rows[0]["went_well"] == 'Klant geholpen, ook met een "lastige" vraag; goed!'
    assert rows[0]["shared_fields"] == "next_goal mood"
    assert rows[0]["mood"] == "4"


def test_reflections_export_csv_to_stdout(with_reflections):
    text = run(with_reflections, "reflections", "export", "--format", "csv", "--student", "student-2", check=True).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["went_well"] == "Mo"


@pytest.mark.parametrize("week,fragment", [("2026-48", "JJJJ-Www"), ("2026-W60", "bestaat niet"), ("week 3", "JJJJ-Www")])
def test_reflections_export_bad_week(with_reflections, week, fragment):
    result = run(with_reflections, "reflections", "export", "--week", week, check=False)
    assert result.returncode != 0
    assert fragment in result.stderr
    assert result.stdout == ""


def test_reflections_export_empty_database(ready):
    assert json.loads(run(ready, "reflections", "export", check=True).stdout) == []


# --- token ------------------------------------------------------------------------


def test_token_for_a_known_student(people, monkeypatch):
    from bot import config
    from bot.tokens import verify_chat_token

    result = run(os.environ["DATABASE_URL"], "token", "student-1", check=True)
    token = result.stdout.strip()
    monkeypatch.setenv("CHAT_JWT_SECRET", SECRET)
    config.reset_settings()
    assert verify_chat_token(token) == "student-1"


@pytest.mark.parametrize("who", ["nobody", "sup-1", "coord-1"])
def test_token_for_an_unknown_student_or_staff(people, who):
    result = run(os.environ["DATABASE_URL"], "token", who, check=False)
    assert result.returncode != 0
    assert f"Geen actieve student met id '{who}'" in result.stderr
    assert result.stdout == ""
