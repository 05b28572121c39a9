"""Shared fixtures: a fresh migrated database per test, and Rasa SDK test doubles
(tracker from a dict, CollectingDispatcher, the real domain)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import config, db, migrate

ROOT = Path(__file__).resolve().parent.parent


def use_database(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    config.reset_settings()
    db.reset_engine()


@pytest.fixture(scope="session", autouse=True)
def data_encryption_key():
    """One data key for the whole run (the test process and the stacks it starts,
    which inherit the environment), so tests never write a key file into var/."""
    from cryptography.fernet import Fernet

    previous = os.environ.get("DATA_ENCRYPTION_KEYS")
    if not previous:
        os.environ["DATA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode("ascii")
        config.reset_settings()
    yield os.environ["DATA_ENCRYPTION_KEYS"]
    if not previous:
        os.environ.pop("DATA_ENCRYPTION_KEYS", None)
        config.reset_settings()


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    config.reset_settings()
    db.reset_engine()
    migrate.upgrade(url)
    yield url
    db.reset_engine()
    config.reset_settings()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    sender_id: str = "student-1",
    text: str = "",
    intent: Optional[str] = None,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    extra: Optional[Dict[str, Any]] = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9} if intent else {},
        "intent_ranking": [{"name": intent, "confidence": 0.9}] if intent else [],
        "entities": entities or [],
    }
    latest.update(extra or {})
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": slots or {},
            "latest_message": latest,
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


@pytest.fixture
def tracker_factory():
    return make_tracker


def texts(dispatcher: CollectingDispatcher) -> List[str]:
    return [m.get("text") or m.get("response") or "" for m in dispatcher.messages]


STUDENTS_CSV = (
    "role,external_id,name,email,supervisor_external_id,leerweg,company\n"
    "supervisor,sup-1,Petra de Vries,petra@kapsalon.nl,,,\n"
    "supervisor,sup-2,Karim Amrani,karim@opvang.nl,,,\n"
    "student,student-1,Sanne Jansen,sanne@student.nl,sup-1,BOL,Kapsalon Knip\n"
    "student,student-2,Mo Bakker,mo@student.nl,sup-2,BBL,Kinderopvang Zon\n"
    "coordinator,coord-1,Els Visser,els@school.nl,,,\n"
)


@pytest.fixture
def people(database) -> None:
    from bot.users import import_csv_bytes

    import_csv_bytes(STUDENTS_CSV.encode())


@pytest.fixture
def seeded_content(database) -> None:
    from bot import content

    docs = []
    for path in sorted((ROOT / "data" / "content").glob("ask_*.yml")):
        docs.extend(content.load_yaml_documents(path))
    content.import_documents(docs, author="seed")
