"""A whole class at once: 50 students chat over the real authenticated socket.io
channel, each fills in two weekly reflections and asks three coaching questions.
Afterwards the database holds exactly 100 reflections (one per student and
week, none lost, none twice), every turn was answered, and the Rasa and action
server logs show no error. Latency percentiles and throughput are printed (and
written to results/slow/load.json); they are measured, never asserted.

Two school weeks in one run: there is no way in the chat to fill in another
week than the current one, so the first round runs the real action server with
its calendar one week back (tests/slow/shifted_week.py), the second round after
a normal restart of the action server (as after a deploy). Between the rounds
the students' goals carry over: each accepts the micro-goal of their first
coaching answer, and round two starts with its follow-up ("Hoe ging het?"), as
it does for a real student a week later.

Bounded: 50 students, about 30 messages each, loopback only, every turn with a
timeout and the whole run under 20 minutes.
"""
from __future__ import annotations

import asyncio
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Dict, List, Sequence

import pytest

from bot import reflections
from bot.channel_guard import SOMETHING_WENT_WRONG
from bot.stack import prepare_database
from bot.users import import_csv_bytes
from bot.weeks import iso_week, shift_week
from tests.slow.conftest import (
    answer,
    duplicated_events,
    environment,
    fill_reflection_form,
    log_offsets,
    log_problems,
    reflection_answers,
    require_model,
    start_stack,
    students_csv,
    tracker_events,
    user_texts,
)
from tests.slow.socket_chat import SocketChat, Turn, rasa_url

pytestmark = [pytest.mark.slow, pytest.mark.stack]

STUDENTS = 50
RUN_TIMEOUT = 20 * 60
RESULTS = Path(__file__).resolve().parents[2] / "results" / "slow" / "load.json"
NAMED = re.compile(r"Student(\d+)\b")  # the students' first names are Student1..Student50
COACHING_QUESTIONS = [
    "hoe laat ik zien dat ik initiatief neem op mijn stage",
    "hoe ga ik om met feedback van mijn begeleider",
    "wat wordt er van mij verwacht op mijn stage",
]


def answers_for(number: int, week_label: str) -> List[str]:
    return reflection_answers(f" ({week_label}, student {number})")


async def coaching_question(chat: SocketChat, question: str, accept_goal: bool) -> None:
    turn = await chat.say(question)
    if turn.has("Waar sta je nu"):  # the phase button, as the chat page sends it
        turn = await chat.say('/inform{"phase":"during"}')
    assert turn.replies, (chat.student, question)
    if accept_goal:  # the micro-goal offered with the advice; followed up next week
        turn = await chat.say("ja")
        assert turn.has("Staat genoteerd"), (chat.student, turn.texts)


async def reflection_week(chat: SocketChat, number: int, week_label: str, goal_followup: bool) -> None:
    turn = await chat.say("hoi")
    assert turn.has(f"Hoi Student{number}"), (chat.student, turn.texts)
    if goal_followup:
        assert turn.has("Hoe ging het"), (chat.student, turn.texts)  # the goal accepted last week
        turn = await chat.say("gelukt")
        assert turn.has("Goed gedaan"), (chat.student, turn.texts)
    assert turn.has("staat nog open"), (chat.student, turn.texts)
    turn = await chat.say("ja")
    assert turn.has("Vraag 1 van 6"), (chat.student, turn.texts)
    await fill_reflection_form(chat, answers_for(number, week_label))
    turn = await chat.say("opslaan")
    assert turn.has("is opgeslagen"), (chat.student, turn.texts)


async def student_round(url: str, student: str, number: int, week_label: str, goal_followup: bool,
                        questions: Sequence[str], turns: Dict[str, List[Turn]]) -> None:
    chat = SocketChat(url, student)
    await chat.connect(timeout=60)
    try:
        await reflection_week(chat, number, week_label, goal_followup)
        for question in questions:
            await coaching_question(chat, question, accept_goal=not goal_followup)
    finally:
        turns.setdefault(student, []).extend(chat.turns)
        await chat.close()


async def run_round(url: str, students: List[str], week_label: str, goal_followup: bool,
                    questions: Sequence[str], turns: Dict[str, List[Turn]]) -> float:
    started = time.monotonic()
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *[
                student_round(url, student, number, week_label, goal_followup, questions, turns)
                for number, student in enumerate(students, start=1)
            ],
            return_exceptions=True,
        ),
        RUN_TIMEOUT,
    )
    failed = [f"{student}: {outcome!r}"[:600] for student, outcome in zip(students, outcomes) if outcome is not None]
    assert not failed, f"{len(failed)} of {len(students)} students failed in {week_label}:\n" + "\n".join(failed[:10])
    return time.monotonic() - started


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


@pytest.fixture(scope="module")
def load_stack(tmp_path_factory):
    require_model()
    workdir = tmp_path_factory.mktemp("load")
    database_url = f"sqlite:///{workdir / 'coach.db'}"
    tracker_url = f"sqlite:///{workdir / 'tracker.db'}"
    with environment(DATABASE_URL=database_url):
        prepare_database(database_url)
        stack = start_stack(
            workdir,
            database_url=database_url,
            tracker_store_url=tracker_url,
            actions_launcher=[sys.executable, "-m", "tests.slow.shifted_week", "--weeks", "-1", "--"],
        )
        print(f"load stack logs: {stack.config.log_dir}")
        try:
            yield stack, tracker_url
        finally:
            stack.stop()


async def test_fifty_students_two_weeks(load_stack):
    stack, tracker_url = load_stack
    run = uuid.uuid4().hex[:6]
    students = [f"load-{run}-{n:02d}" for n in range(1, STUDENTS + 1)]
    import_csv_bytes(students_csv(students))
    this_week = iso_week()
    last_week = shift_week(this_week, -1)
    url = rasa_url(stack.config.rasa_port)
    offsets = log_offsets(stack, ["rasa", "actions"])
    turns: Dict[str, List[Turn]] = {}

    first = await run_round(url, students, "vorige week", False, COACHING_QUESTIONS[:1], turns)
    count_first = sum(len(t) for t in turns.values())
    stack.config.actions_launcher = [sys.executable, "-m", "rasa_sdk"]  # the real calendar: this week
    stack.restart_process("actions")
    second = await run_round(url, students, "deze week", True, COACHING_QUESTIONS[1:], turns)
    count_second = sum(len(t) for t in turns.values()) - count_first

    # every turn answered, never by the "something went wrong" notice
    all_turns = [t for student_turns in turns.values() for t in student_turns]
    assert all(t.replies for t in all_turns)
    assert not [t for t in all_turns if any(SOMETHING_WENT_WRONG in x for x in t.texts)]

    # each student saw only their own conversation, each reply once
    for student, student_turns in turns.items():
        number = students.index(student) + 1
        for turn in student_turns:
            assert {int(n) for text in turn.texts for n in NAMED.findall(text)} <= {number}, (student, turn)
            assert len(turn.texts) == len(set(turn.texts)), (student, turn)

    # exactly 100 reflections: one per student and week, with that student's answers
    records = [r for r in reflections.export_records() if r["student_id"] in set(students)]
    keys = [(r["student_id"], r["week"]) for r in records]
    assert len(records) == 2 * STUDENTS and len(set(keys)) == len(keys)
    assert set(keys) == {(s, w) for s in students for w in (last_week, this_week)}
    for record in records:
        number = students.index(record["student_id"]) + 1
        label = "vorige week" if record["week"] == last_week else "deze week"
        assert record["went_well"] == answers_for(number, label)[0]
        assert record["next_goal"] == answers_for(number, label)[4]

    # the conversation store holds every message once, in order
    for student in students:
        events = tracker_events(tracker_url, student)
        assert user_texts(events) == [t.text for t in turns[student]], student
        assert not duplicated_events(events), student

    assert log_problems(stack, ["rasa", "actions"], offsets) == []

    seconds = [t.seconds for t in all_turns]
    firsts = [t.first_reply_seconds for t in all_turns if t.first_reply_seconds is not None]
    result = {
        "students": STUDENTS,
        "turns": len(all_turns),
        "turn_seconds_p50": round(statistics.median(seconds), 3),
        "turn_seconds_p95": round(percentile(seconds, 0.95), 3),
        "turn_seconds_max": round(max(seconds), 3),
        "first_reply_seconds_p50": round(statistics.median(firsts), 3),
        "first_reply_seconds_p95": round(percentile(firsts, 0.95), 3),
        "round_seconds": [round(first, 1), round(second, 1)],
        "messages_per_second": round(len(all_turns) / (first + second), 2),
        "messages_per_second_rounds": [round(count_first / first, 2), round(count_second / second, 2)],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("load test:", json.dumps(result))
