"""Parts of the stack fail in the middle of a weekly reflection. Each time the
student gets a clear Dutch message, the conversation goes on where it was, and
no completed reflection is lost or stored twice.

One stack for the module: Rasa server + action server as processes, the tracker
store in a SQLite file on disk, the app database on a PostgreSQL server of the
test's own (so it can really be stopped) or, when that cannot run here, SQLite.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
import sqlalchemy as sa

from bot.channel_guard import SOMETHING_WENT_WRONG
from bot.stack import Stack, prepare_database
from bot.users import import_csv_bytes
from tests.slow.conftest import (
    ThrowawayPostgres,
    answer,
    assert_saved_once,
    duplicated_events,
    environment,
    fill_reflection_form,
    reflection_answers,
    require_model,
    start_reflection,
    start_stack,
    students_csv,
    tracker_events,
    user_texts,
)
from tests.slow.socket_chat import SocketChat, rasa_url

pytestmark = [pytest.mark.slow, pytest.mark.stack]

START = "ik wil mijn weekreflectie invullen"


@dataclass
class FaultStack:
    stack: Stack
    workdir: Path
    database_url: str
    tracker_url: str
    postgres: Optional[ThrowawayPostgres]
    no_postgres_reason: Optional[str]


@pytest.fixture(scope="module")
def faults(tmp_path_factory):
    require_model()
    workdir = tmp_path_factory.mktemp("faults")
    postgres = None
    reason = ThrowawayPostgres.unavailable_reason()
    if reason is None:
        postgres = ThrowawayPostgres().init()
        postgres.start()
        engine = sa.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE coach"))
        engine.dispose()
        database_url = postgres.url.rsplit("/", 1)[0] + "/coach"
    else:
        database_url = f"sqlite:///{workdir / 'coach.db'}"
    tracker_url = f"sqlite:///{workdir / 'tracker.db'}"
    try:
        with environment(DATABASE_URL=database_url):
            prepare_database(database_url)
            stack = start_stack(workdir, database_url=database_url, tracker_store_url=tracker_url)
            print(f"fault stack logs: {stack.config.log_dir}")
            try:
                yield FaultStack(stack, workdir, database_url, tracker_url, postgres, reason)
            finally:
                stack.stop()
    finally:
        if postgres is not None:
            postgres.destroy()


def new_student() -> str:
    external_id = f"fault-{uuid.uuid4().hex[:8]}"
    import_csv_bytes(students_csv([external_id]))
    return external_id


async def connect(faults: FaultStack, student: str) -> SocketChat:
    return await SocketChat(rasa_url(faults.stack.config.rasa_port), student).connect()


async def test_action_server_killed_mid_form(faults):
    """Rasa 3.6 logs "Couldn't connect" and sends the student nothing when the
    action server is gone; the channel guard then sends one Dutch message."""
    stack, student, answers = faults.stack, new_student(), reflection_answers(" (actieserver weg)")
    chat = await connect(faults, student)
    try:
        await start_reflection(chat)
        assert (await answer(chat, answers[0])).has("Vraag 2 van 6")

        stack.kill_process("actions")  # SIGKILL, in the middle of the form
        offset = len(stack.log_text("rasa"))
        lost = await chat.say(answers[1])
        assert lost.texts == [SOMETHING_WENT_WRONG], lost.texts  # Rasa itself sent nothing
        rasa_log = stack.log_text("rasa")[offset:]
        assert "Couldn't connect" in rasa_log and "produced no bot message" in rasa_log

        stack.start_actions()
        stack.wait_ready(120, ["actions"])
        resent = await answer(chat, answers[1])  # the student sends it again
        assert resent.has("Vraag 3 van 6"), resent.texts  # the form goes on where it was
        await fill_reflection_form(chat, answers, first_question=3)
        assert (await chat.say("opslaan")).has("opgeslagen")
    finally:
        await chat.close()

    assert_saved_once(student, answers)
    events = tracker_events(faults.tracker_url, student)
    assert not duplicated_events(events)
    assert user_texts(events) == [t.text for t in chat.turns]  # each message once, in order


async def _wait_for_blocked_save(url: str, timeout: float = 60) -> None:
    engine = sa.create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = conn.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'coach'")
                ).scalar()
            if waiting:
                return
            await asyncio.sleep(0.2)
    finally:
        engine.dispose()
    raise AssertionError("the save never reached the database")


async def test_database_server_stops_during_save(faults):
    """The app database's server process stops while the save's transaction is
    open; the student is told, the answers stay, and after the restart
    "opnieuw proberen" saves exactly once."""
    if faults.postgres is None:
        pytest.skip(f"no throwaway PostgreSQL server: {faults.no_postgres_reason}")
    postgres, student, answers = faults.postgres, new_student(), reflection_answers(" (database weg)")
    chat = await connect(faults, student)
    blocker = sa.create_engine(faults.database_url)
    try:
        await start_reflection(chat)
        await fill_reflection_form(chat, answers)

        # Hold the reflections table so the save waits inside its transaction,
        # then stop the server under it (immediate: every backend is killed).
        holder = blocker.connect()
        holder.begin()
        holder.execute(sa.text("LOCK TABLE reflections IN ACCESS EXCLUSIVE MODE"))
        saving = asyncio.create_task(chat.say("opslaan"))
        await _wait_for_blocked_save(faults.database_url)
        postgres.stop("immediate")
        turn = await saving
        assert turn.has("niet kwijt"), turn.texts
        assert any(b.get("payload") == "/retry" for r in turn.replies for b in r.get("quick_replies") or [])
        holder.invalidate()  # its backend died with the server

        turn = await chat.say("opnieuw proberen")  # still down
        assert turn.has("niet kwijt"), turn.texts

        postgres.start()
        turn = await chat.say("opnieuw proberen")
        assert turn.has("opgeslagen"), turn.texts
        turn = await chat.say("opnieuw proberen")
        assert turn.has("niets"), turn.texts  # nothing pending: saved exactly once
    finally:
        await chat.close()
        blocker.dispose()
        if not postgres.running():
            postgres.start()

    assert_saved_once(student, answers)


async def test_rasa_server_restarts_mid_conversation(faults):
    """Rasa is killed between two answers and started again; the chat page
    reconnects (new connection, fresh token) and the form continues."""
    stack, student, answers = faults.stack, new_student(), reflection_answers(" (rasa herstart)")
    chat = await connect(faults, student)
    try:
        await start_reflection(chat)
        assert (await answer(chat, answers[0])).has("Vraag 2 van 6")
        assert (await answer(chat, answers[1])).has("Vraag 3 van 6")
        before = tracker_events(faults.tracker_url, student)

        stack.restart_process("rasa", kill=True, timeout=400)
        await chat.reconnect()
        turn = await answer(chat, answers[2])
        assert turn.has("Vraag 4 van 6"), turn.texts  # where it was
        await fill_reflection_form(chat, answers, first_question=4)
        assert (await chat.say("opslaan")).has("opgeslagen")
    finally:
        await chat.close()

    assert_saved_once(student, answers)
    events = tracker_events(faults.tracker_url, student)
    assert events[: len(before)] == before  # history kept as it was
    assert not duplicated_events(events)
    assert user_texts(events) == [t.text for t in chat.turns]
