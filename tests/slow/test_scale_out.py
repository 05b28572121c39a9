"""Scale-out as production runs it: two Rasa replicas and one action server, with
the production channel file (credentials.prod.yml: only the authenticated
socket.io chat) and endpoints.yml (tracker store bot.stores.UrlSQLTrackerStore on
PostgreSQL, lock store bot.stores.UrlLockStore on Redis), in production mode.

One student's conversation goes to the replicas in turn (every message to the
other replica), and two messages of one conversation arrive on both replicas
at the same moment: the reflection is saved once, every message is in the
conversation store once and in order, and the Redis lock makes the replicas
take turns. Skipped when PostgreSQL or Redis is not running here.
"""
from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Dict, List, Tuple

import pytest
import socketio
import yaml
from rasa.utils.endpoints import EndpointConfig

from bot import reflections
from bot.config import PROJECT_ROOT
from bot.stack import Stack, prepare_database
from bot.stores import UrlLockStore
from bot.tokens import mint_chat_token
from bot.users import import_csv_bytes
from tests.slow.conftest import (
    duplicated_events,
    environment,
    fill_reflection_form,
    postgres_database,
    reflection_answers,
    require_model,
    spare_redis_db,
    start_stack,
    students_csv,
    tracker_events,
    user_texts,
)
from tests.slow.socket_chat import SocketChat, Turn, rasa_url

pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.postgres]

REPLICAS = ("rasa-a", "rasa-b")
PROD_CREDENTIALS = PROJECT_ROOT / "credentials.prod.yml"
PROD_ENDPOINTS = PROJECT_ROOT / "endpoints.yml"


@dataclass
class Cluster:
    stack: Stack
    database_url: str
    redis_url: str

    def url(self, replica: str) -> str:
        return rasa_url(self.stack.rasa_ports[replica])


def production_secrets() -> Dict[str, str]:
    values = {
        "APP_ENV": "production",
        "CHAT_JWT_SECRET": secrets.token_urlsafe(48),
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
    }
    from cryptography.fernet import Fernet

    values["DATA_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    return values


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    require_model()
    workdir = tmp_path_factory.mktemp("scale_out")
    with postgres_database("stagecoach_scale") as database_url, spare_redis_db() as (redis_url, _number):
        production = production_secrets()
        # One PostgreSQL database holds the app tables and Rasa's `events` table.
        with environment(DATABASE_URL=database_url, TRACKER_STORE_URL=database_url, LOCK_STORE_URL=redis_url,
                         **production):
            prepare_database(database_url)
            stack = start_stack(
                workdir,
                replicas=REPLICAS,
                database_url=database_url,
                tracker_store_url=database_url,
                lock_store_url=redis_url,
                credentials=PROD_CREDENTIALS,
                endpoints=PROD_ENDPOINTS,
                extra_env=production,
            )
            print(f"scale-out stack logs: {stack.config.log_dir}")
            try:
                yield Cluster(stack, database_url, redis_url)
            finally:
                stack.stop()


def new_student() -> str:
    external_id = f"scale-{uuid.uuid4().hex[:8]}"
    import_csv_bytes(students_csv([external_id]))
    return external_id


class AlternatingChat:
    """One student in one browser tab whose every message lands on the other
    replica (a load balancer without sticky sessions, one request at a time)."""

    def __init__(self, chats: List[SocketChat]) -> None:
        self.chats = chats
        self.student = chats[0].student
        self.turns: List[Turn] = []
        self.used: List[str] = []

    async def say(self, text: str) -> Turn:
        chat = self.chats[len(self.turns) % len(self.chats)]
        turn = await chat.say(text)
        self.turns.append(turn)
        self.used.append(chat.url)
        return turn


async def full_reflection(chat, answers) -> None:
    turn = await chat.say("hoi")
    assert turn.has("staat nog open"), turn.texts
    assert (await chat.say("ja")).has("Vraag 1 van 6")
    await fill_reflection_form(chat, answers)
    turn = await chat.say("opslaan")
    assert turn.has("is opgeslagen"), turn.texts


def signature(events: List[Dict]) -> List[Tuple]:
    """What happened, without timestamps, ids or randomly chosen response texts."""
    return [
        (
            e["type_name"],
            e.get("name"),
            (e.get("parse_data") or {}).get("intent", {}).get("name") if e["type_name"] == "user" else None,
            e.get("value") if e["type_name"] == "slot" else None,
        )
        for e in events
    ]


def test_runs_the_production_configuration(cluster):
    cfg = cluster.stack.config
    assert cfg.credentials == PROD_CREDENTIALS and cfg.endpoints == PROD_ENDPOINTS
    channels = yaml.safe_load(PROD_CREDENTIALS.read_text(encoding="utf-8"))
    assert list(channels) == ["bot.channels.TokenSocketIOInput"]  # no REST channel in production
    endpoints = yaml.safe_load(PROD_ENDPOINTS.read_text(encoding="utf-8"))
    assert endpoints["tracker_store"] == {"type": "bot.stores.UrlSQLTrackerStore", "url": "${TRACKER_STORE_URL}"}
    assert endpoints["lock_store"] == {"type": "bot.stores.UrlLockStore", "url": "${LOCK_STORE_URL}"}
    environment_of_replicas = cfg.environment()
    assert environment_of_replicas["TRACKER_STORE_URL"].startswith("postgresql://")
    assert environment_of_replicas["LOCK_STORE_URL"] == cluster.redis_url
    assert environment_of_replicas["APP_ENV"] == "production"
    import urllib.error
    import urllib.request

    for replica in REPLICAS:
        request = urllib.request.Request(f"{cluster.url(replica)}/webhooks/rest/webhook",
                                         b'{"sender":"x","message":"hoi"}', {"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 404


async def test_conversation_alternating_between_replicas(cluster):
    alternating_student, single_student = new_student(), new_student()
    answers = reflection_answers(" (twee replica's)")
    chats = [await SocketChat(cluster.url(r), alternating_student).connect() for r in REPLICAS]
    single = await SocketChat(cluster.url(REPLICAS[0]), single_student).connect()
    try:
        alternating = AlternatingChat(chats)
        await full_reflection(alternating, answers)
        await full_reflection(single, answers)  # the same conversation on one replica
    finally:
        for chat in chats + [single]:
            await chat.close()
    assert len(set(alternating.used)) == 2

    for student in (alternating_student, single_student):
        records = reflections.export_records(student=student)
        assert len(records) == 1 and records[0]["went_well"] == answers[0], records
    events = tracker_events(cluster.database_url, alternating_student)
    assert user_texts(events) == [t.text for t in alternating.turns]  # each message once, in order
    assert not duplicated_events(events)
    baseline = tracker_events(cluster.database_url, single_student)
    assert signature(events) == signature(baseline)  # exactly what one replica produces


def turn_segments(events: List[Dict]) -> List[List[Dict]]:
    """The events from each user message up to (and including) the next action_listen."""
    segments: List[List[Dict]] = []
    for event in events:
        if event["type_name"] == "user":
            segments.append([event])
        elif segments:
            segments[-1].append(event)
    return segments


SIMULTANEOUS_ROUNDS = 20  # one unlocked overlap lost a message in about 1 of 6 tries


async def test_simultaneous_messages_on_both_replicas_take_turns(cluster):
    """Two messages of one conversation reach both replicas at the same moment,
    twenty times: both are kept, once each, one whole turn after the other."""
    student = new_student()
    first, second = [await SocketChat(cluster.url(r), student).connect() for r in REPLICAS]
    texts = ["hoe ga ik om met feedback van mijn begeleider", "wat wordt er van mij verwacht op mijn stage"]
    timings = []
    try:
        await first.say("hoi")
        for _ in range(SIMULTANEOUS_ROUNDS):
            before = tracker_events(cluster.database_url, student)
            turns = await asyncio.gather(first.say(texts[0]), second.say(texts[1]))
            timings.append(sorted(round(t.seconds, 2) for t in turns))
            assert all(turn.replies for turn in turns)
            new = tracker_events(cluster.database_url, student)[len(before):]
            assert sorted(user_texts(new)) == sorted(texts), new  # both kept, once each
            assert not duplicated_events(new)
            segments = turn_segments(new)
            assert len(segments) == 2, new
            for segment in segments:  # one whole turn after the other, never interleaved
                assert segment[-1]["type_name"] == "action" and segment[-1]["name"] == "action_listen", segment
                assert [e for e in segment if e["type_name"] == "user"] == segment[:1]
            stamps = [e["timestamp"] for e in new]
            assert stamps == sorted(stamps)
    finally:
        print(f"simultaneous turns on two replicas (fast, waited) in s: {timings}")
        await first.close()
        await second.close()


async def test_replica_waits_while_another_holds_the_conversation_lock(cluster):
    """The replicas really share the lock in Redis: while this test holds a ticket
    for the conversation (as a busy replica would), the other replica does not
    touch it; once released, it answers."""
    import redis

    student = new_student()
    lock_store = UrlLockStore(EndpointConfig(url=cluster.redis_url))  # what both replicas use
    chat = await SocketChat(cluster.url(REPLICAS[1]), student).connect()
    ticket = lock_store.issue_ticket(student, lock_lifetime=60)
    try:
        keys = redis.Redis.from_url(cluster.redis_url).keys("*")
        assert any(student.encode() in key for key in keys), keys
        waiting = asyncio.create_task(chat.say("hoi", timeout=120))
        await asyncio.sleep(5)
        assert not waiting.done() and chat.collected_now() == []
        assert user_texts(tracker_events(cluster.database_url, student)) == []
    finally:
        lock_store.cleanup(student, ticket)
    released = time.monotonic()
    try:
        turn = await waiting
    finally:
        await chat.close()
    print(f"answered {time.monotonic() - released:.2f} s after the lock was released")
    assert turn.has("Hoi Student1"), turn.texts
    assert user_texts(tracker_events(cluster.database_url, student)) == ["hoi"]


async def test_a_chat_token_opens_one_chat_across_replicas(cluster):
    """Both replicas record used chat tokens in the shared app database: a token
    that opened a chat on one replica opens nothing on the other, and of two
    connects with one token at the same moment, one on each replica, exactly one
    gets through."""
    student = new_student()
    token = mint_chat_token(student)
    first = await SocketChat(cluster.url(REPLICAS[0]), student).connect(token=token)
    copy = SocketChat(cluster.url(REPLICAS[1]), student)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await copy.connect(token=token)
        assert (await first.say("hoi")).replies  # the first chat is unaffected
    finally:
        await first.close()
        await copy.close()

    racing = mint_chat_token(student)
    chats = [SocketChat(cluster.url(replica), student) for replica in REPLICAS]
    results = await asyncio.gather(*(chat.connect(token=racing) for chat in chats), return_exceptions=True)
    try:
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 1, results
        assert isinstance(refused[0], socketio.exceptions.ConnectionError), refused
    finally:
        for chat in chats:
            await chat.close()
