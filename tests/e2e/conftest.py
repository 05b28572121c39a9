"""The real stack for end-to-end tests: Rasa server and action server as separate
processes on free loopback ports, with their own SQLite files."""
from __future__ import annotations

import json
import socket
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List

import pytest

from bot import config, db
from bot.stack import Stack, StackConfig, prepare_database
from tests.conftest import STUDENTS_CSV

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "coach.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Chat:
    """Talks to the running Rasa server over the REST channel (development channel)."""

    def __init__(self, rasa_port: int):
        self.url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"

    def say(self, sender: str, text: str) -> List[Dict]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def texts(self, sender: str, text: str) -> List[str]:
        return [m.get("text", "") for m in self.say(sender, text)]

    def press(self, sender: str, messages: List[Dict], title: str) -> List[Dict]:
        """Sends the payload of the button titled `title` in `messages`, like a click."""
        payloads = [b["payload"] for m in messages for b in m.get("buttons", []) if b["title"] == title]
        assert payloads, f"no button {title!r} in {messages}"
        return self.say(sender, payloads[-1])

    def conversation(self, sender: str) -> str:
        return f"{sender}"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` first (make test does)")
    workdir = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{workdir / 'coach.db'}"
    previous = {k: v for k, v in __import__("os").environ.items() if k == "DATABASE_URL"}
    import os

    os.environ["DATABASE_URL"] = database_url
    config.reset_settings()
    db.reset_engine()
    prepare_database(database_url)
    from bot.users import import_csv_bytes

    import_csv_bytes(STUDENTS_CSV.encode())
    cfg = StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),
        portal_port=free_port(),
        database_url=database_url,
        tracker_store_url=f"sqlite:///{workdir / 'tracker.db'}",
        log_dir=workdir / "logs",
        with_portal=True,
    )
    running = Stack(cfg)
    try:
        running.start(timeout=300)
    except Exception:
        running.stop()
        for log in (workdir / "logs").glob("*.log"):
            print(log.name, log.read_text()[-3000:])
        raise
    yield running
    running.stop()
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(previous)
    config.reset_settings()
    db.reset_engine()


@pytest.fixture
def chat(stack) -> Chat:
    return Chat(stack.config.rasa_port)


@pytest.fixture
def fresh_student(stack) -> str:
    """A new student (own conversation, own data) for each test."""
    from bot.users import import_csv_bytes

    external_id = f"st-{uuid.uuid4().hex[:8]}"
    import_csv_bytes(
        (
            "role,external_id,name,email,supervisor_external_id,leerweg,company\n"
            f"student,{external_id},Lisa Test,,sup-1,BOL,Kapsalon Knip\n"
        ).encode()
    )
    return external_id
