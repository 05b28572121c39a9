"""The Redis lock store goes away in the middle of a weekly reflection (the
scale-out set-up: several Rasa replicas share conversation locks in Redis).

The test runs its own redis-server on a free port, so stopping it touches nobody
else. While Redis is down the student gets the Dutch "something went wrong"
message and nothing is half-processed; once Redis is back the student sends the
answer again and the form goes on where it was; the reflection is saved once.
"""
from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Optional

import pytest

from bot.channel_guard import SOMETHING_WENT_WRONG
from bot.stack import prepare_database
from bot.users import import_csv_bytes
from tests.e2e.conftest import free_port
from tests.slow.conftest import (
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


class ThrowawayRedis:
    """A redis-server process of this test only (no persistence)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> None:
        import redis

        self.process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def outage_stack(tmp_path):
    require_model()
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed on this machine")
    redis_server = ThrowawayRedis(tmp_path)
    redis_server.start()
    database_url = f"sqlite:///{tmp_path / 'coach.db'}"
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    try:
        with environment(DATABASE_URL=database_url):
            prepare_database(database_url)
            stack = start_stack(tmp_path, database_url=database_url, tracker_store_url=tracker_url,
                                lock_store_url=redis_server.url)
            try:
                yield stack, redis_server, tracker_url
            finally:
                stack.stop()
    finally:
        redis_server.stop()


async def test_lock_store_outage_mid_form(outage_stack):
    stack, redis_server, tracker_url = outage_stack
    student = f"redis-{uuid.uuid4().hex[:8]}"
    import_csv_bytes(students_csv([student]))
    answers = reflection_answers(" (redis weg)")
    chat = await SocketChat(rasa_url(stack.config.rasa_port), student).connect()
    try:
        await start_reflection(chat)
        assert (await answer(chat, answers[0])).has("Vraag 2 van 6")

        redis_server.stop()
        offset = len(stack.log_text("rasa"))
        lost = await chat.say(answers[1])
        assert lost.texts == [SOMETHING_WENT_WRONG], lost.texts
        assert "redis" in stack.log_text("rasa")[offset:].lower()  # the failure was the lock store's

        redis_server.start()
        resent = await answer(chat, answers[1])
        assert resent.has("Vraag 3 van 6"), resent.texts  # where it was
        await fill_reflection_form(chat, answers, first_question=3)
        assert (await chat.say("opslaan")).has("opgeslagen")
    finally:
        await chat.close()

    assert_saved_once(student, answers)
    events = tracker_events(tracker_url, student)
    assert not duplicated_events(events)
    processed = [t.text for t in chat.turns if t is not lost]  # the message sent during the outage never got in
    assert user_texts(events) == processed
