"""Helpers for the slow tests: whole stacks of real processes (Rasa server(s),
action server), a throwaway PostgreSQL server, spare Redis databases, and the
weekly reflection as a student types it over the socket.io channel.

Each test module starts its own stack on free loopback ports with its own files,
so these tests can run beside the session stack of tests/e2e.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import pytest
import sqlalchemy as sa

from bot import config, db, reflections
from bot.stack import Stack, StackConfig
from tests.e2e.conftest import MODEL, free_port
from tests.e2e.test_conversations import REFLECTION_ANSWERS
from tests.slow.socket_chat import SocketChat, Turn

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CSV_HEADER = "role,external_id,name,email,supervisor_external_id,leerweg,company\n"
# Scripted students answer at once; a person needs seconds per message. The chat's
# per-student rate limit (bot/ratelimit.py) is raised so it does not pace the script.
UNPACED_CHAT = {"CHAT_RATE_BURST": "1000", "CHAT_RATE_PER_MINUTE": "6000"}
LOG_PROBLEMS = ("Traceback", " ERROR ")


def require_model() -> None:
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` first")


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Sets environment variables for this test process (settings and engine are
    re-read) and restores the previous values afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    config.reset_settings()
    db.reset_engine()
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        config.reset_settings()
        db.reset_engine()


def students_csv(external_ids: Sequence[str], leerweg: str = "BOL") -> bytes:
    rows = [CSV_HEADER, "supervisor,sup-load,Petra de Vries,,,,\n"]
    for number, external_id in enumerate(external_ids, start=1):
        rows.append(f"student,{external_id},Student{number} Test,,sup-load,{leerweg},Kapsalon Knip\n")
    return "".join(rows).encode()


def start_stack(workdir: Path, replicas: Sequence[str] = ("rasa",), **options) -> Stack:
    """Starts the action server and one Rasa server per name in `replicas` (each
    on its own free port; no portal) with the given StackConfig options; on
    failure prints the logs and stops what did start."""
    options.setdefault("with_portal", False)
    options.setdefault("log_dir", workdir / "logs")
    extra_env = {**UNPACED_CHAT, **options.pop("extra_env", {})}
    cfg = StackConfig(rasa_port=free_port(), action_port=free_port(), portal_port=free_port(),
                      extra_env=extra_env, **options)
    stack = Stack(cfg)
    try:
        stack.start_actions()
        for number, name in enumerate(replicas):
            stack.start_rasa(name, cfg.rasa_port if number == 0 else free_port())
        stack.wait_ready(400)
    except Exception:
        stop_and_print(stack)
        raise
    return stack


def stop_and_print(stack: Stack) -> None:
    stack.stop()
    for log in sorted(stack.config.log_dir.glob("*.log")):
        print(f"--- {log.name} (last 3000 characters)\n{log.read_text(errors='replace')[-3000:]}")


def log_problems(stack: Stack, names: Sequence[str], since: Optional[Dict[str, int]] = None) -> List[str]:
    """Lines with a traceback or an ERROR in the given process logs (from the offsets in `since`)."""
    found = []
    for name in names:
        text = stack.log_text(name)[(since or {}).get(name, 0):]
        found += [f"{name}: {line}" for line in text.splitlines() if any(p in line for p in LOG_PROBLEMS)]
    return found


def log_offsets(stack: Stack, names: Sequence[str]) -> Dict[str, int]:
    return {name: len(stack.log_text(name)) for name in names}


# --- the tracker store -------------------------------------------------------

def _event_data(raw) -> Dict:
    try:  # decrypts events.data when the tracker store encrypts it
        from bot.tracker_data import event_data
    except ImportError:  # pragma: no cover - plain JSON
        return json.loads(raw)
    return event_data(raw)


def tracker_events(tracker_url: str, sender: str) -> List[Dict]:
    engine = sa.create_engine(tracker_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT type_name, timestamp, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).fetchall()
    finally:
        engine.dispose()
    return [{"type_name": r[0], "timestamp": r[1], **_event_data(r[2])} for r in rows]


def user_texts(events: List[Dict]) -> List[str]:
    return [e.get("text") for e in events if e["type_name"] == "user"]


def duplicated_events(events: List[Dict]) -> List[Dict]:
    """Events stored twice (same type, timestamp and content)."""
    seen, twice = set(), []
    for event in events:
        key = json.dumps({k: v for k, v in event.items()}, sort_keys=True, default=str)
        if key in seen:
            twice.append(event)
        seen.add(key)
    return twice


# --- the weekly reflection as a student types it ----------------------------

UNSAFE_CHECK = "zeker weten dat het goed met je gaat"


async def answer(chat: SocketChat, text: str) -> Turn:
    """An answer the classifier takes for an unsafe report is checked with the
    student first; "nee" keeps the answer and continues the form."""
    turn = await chat.say(text)
    if turn.has(UNSAFE_CHECK):
        follow = await chat.say("nee")
        assert follow.has("We gaan verder"), follow.texts
        return follow
    return turn


def reflection_answers(tag: str = "") -> List[str]:
    return [f"{text}{tag}" for text in REFLECTION_ANSWERS]


async def fill_reflection_form(chat: SocketChat, answers: Sequence[str], first_question: int = 1,
                               mood: str = "4", share: str = "alles delen") -> None:
    """Answers the open questions from `first_question` on (the form is already
    asking it), then mood and sharing, up to the summary."""
    for number, text in enumerate(answers[first_question - 1:], start=first_question + 1):
        turn = await answer(chat, text)
        expected = f"Vraag {number} van 6" if number <= 6 else "Hoe voelde"
        assert turn.has(expected), (chat.student, text, turn.texts)
    turn = await chat.say(mood)
    assert turn.has("Wat mag je praktijkbegeleider"), (chat.student, turn.texts)
    turn = await chat.say(share)
    assert turn.has("Dit heb je ingevuld"), (chat.student, turn.texts)


async def start_reflection(chat: SocketChat) -> Turn:
    turn = await chat.say("ik wil mijn weekreflectie invullen")
    assert turn.has("Vraag 1 van 6"), (chat.student, turn.texts)
    return turn


# --- PostgreSQL and Redis ----------------------------------------------------

def postgres_admin_or_skip() -> sa.engine.Engine:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            pass
    except OSError:
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        admin.connect().close()
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"cannot log in to PostgreSQL as user postgres: {error.orig}")
    return admin


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A uniquely named database on the local PostgreSQL server, dropped afterwards."""
    admin = postgres_admin_or_skip()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        db.reset_engine()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def spare_redis_db() -> Iterator[Tuple[str, int]]:
    """An empty Redis database number (1..15) for this test; only it is flushed afterwards."""
    import redis

    try:
        probe = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0, socket_timeout=2)
        probe.ping()
    except Exception as error:
        pytest.skip(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT}: {error}")
    chosen = None
    for number in range(15, 0, -1):
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number, socket_timeout=2)
        if client.dbsize() == 0:
            chosen = client
            break
    if chosen is None:
        pytest.skip("no empty Redis database (1..15) to use for the test")
    number = chosen.connection_pool.connection_kwargs["db"]
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}", number
    finally:
        chosen.flushdb()
        chosen.close()


class ThrowawayPostgres:
    """A PostgreSQL server of the test's own (initdb into a temporary directory as
    the postgres user, its own free port), so it can really be stopped and started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="stagecoach-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"

    @staticmethod
    def unavailable_reason() -> Optional[str]:
        if os.geteuid() != 0:
            return "needs root to run initdb as the postgres user"
        if shutil.which("runuser") is None:
            return "runuser is not installed"
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            return f"PostgreSQL server binaries are not in {PG_BIN}"
        try:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
        except subprocess.CalledProcessError:
            return "there is no postgres system user"
        return None

    def _as_postgres(self, *command: str, timeout: float = 120) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True,
                       timeout=timeout, cwd=self.dir)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> "ThrowawayPostgres":
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                          "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                          "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        result = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data),
                                 "status"], capture_output=True)
        return result.returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def assert_saved_once(student: str, answers) -> None:
    """Exactly one reflection for the student, with these answers and mood 4 (as
    fill_reflection_form gives it)."""
    records = reflections.export_records(student=student)
    assert len(records) == 1, records
    record = records[0]
    assert [record[f] for f in ("went_well", "difficult", "feedback", "initiative", "next_goal")] == list(answers)
    assert record["mood"] == 4
