"""Generated student messages through the running stack: the development REST
channel and the portal's authenticated socket.io channel.

Properties, per message: at least one bot reply, or a clear Dutch refusal; on the
socket channel an oversized message gets the friendly "erg lang" answer and
Rasa's control commands (/restart, /session_start, /back) are refused. Per
conversation: every message that reached Rasa is in the tracker store (nothing
lost). Forged "/intent{entities}" payloads cannot write for another student.
The checks that the processes survived, the logs hold no traceback and the
database holds only well-formed rows are in test_5_survival.py (they run after
every module of this suite that uses the stack).

The numbered module names fix the order: chat fuzz, raw input, imports,
escaping of what the fuzz run stored, survival.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db import session_scope
from bot.models import Reflection, User
from bot.weeks import iso_week
from tests.fuzz.clients import (
    REFLECTION_ANSWERS,
    SocketChat,
    drive_reflection,
    is_control_command,
    new_student,
    rest_say,
    texts,
)
from tests.fuzz.strategies import HTML_JS, HUGE_MESSAGE, RASA_PAYLOADS, messages

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("baseline")]

SOCKET_LIMIT = 5000
TOO_LONG_SOCKET = "Je bericht is erg lang"
CONTROL_REFUSED = "Dat commando werkt hier niet"
UNREADABLE = "Ik kon je bericht niet lezen"
TOO_FAST = "Rustig aan even"
conversations = st.lists(messages(), min_size=1, max_size=8)
# credentials.yml names bot.channels.CheckedRestInput instead of Rasa's own `rest`
CHECKED_REST = "bot.channels.CheckedRestInput" in (Path(__file__).resolve().parents[2] / "credentials.yml").read_text()


def check_replies(message: str, replies, channel: str) -> None:
    assert isinstance(replies, list)
    for reply in replies:
        assert isinstance(reply, dict), reply
        assert (reply.get("text") or "").strip() or reply.get("buttons"), reply
        assert "Traceback" not in (reply.get("text") or "")
    if channel == "rest" and is_control_command(message):
        # Development channel: Rasa's own /restart, /session_start and /back are kept
        # for developers there and answer with nothing. The portal chat refuses them.
        return
    assert replies, f"no answer on {channel} to {message[:120]!r}"


def hostile_name(index: int) -> str:
    return ["Fuzz Student", HTML_JS[index % len(HTML_JS)], "Zeynep Yılmaz", "عائشة"][index % 4]


@settings(max_examples=100)
@given(conversation=conversations, known=st.integers(0, 9))
def test_rest_conversations(stack, ledger, conversation, known):
    """~470 messages over the REST channel, by known students and unknown senders."""
    port = stack.config.rasa_port
    sender = new_student(hostile_name(known)) if known else f"anon-{known}-{len(ledger.senders)}"
    rest_say(port, sender, "/greet")
    ledger.count("rest", sender, reached=True)
    for message in conversation:
        replies = rest_say(port, sender, message)
        oversized = len(message) > SOCKET_LIMIT
        ledger.count("rest", sender, reached=not (oversized and CHECKED_REST))
        check_replies(message, replies, "rest")
        if oversized:
            check_oversized_rest(texts(replies))


def check_oversized_rest(said) -> None:
    """The checked REST channel answers like the portal chat. Rasa's own channel
    passes the text on: an answering action asks to shorten it (never "I don't
    understand", never stored as a question); a fixed response answers as usual."""
    if CHECKED_REST:
        assert len(said) == 1 and TOO_LONG_SOCKET in said[0], said
    assert not any("begrijp ik nog niet" in t for t in said), said


@settings(max_examples=60)
@given(conversation=st.lists(messages(), min_size=1, max_size=7), name=st.integers(0, 3))
def test_socket_conversations(stack, ledger, conversation, name):
    """~300 messages through the portal's chat channel, each conversation a fresh student."""
    student = new_student(hostile_name(name))
    with SocketChat(stack.config.rasa_port, student) as chat:
        assert chat.say("/greet"), "no greeting"
        ledger.count("socket", student, reached=True)
        for message in conversation:
            replies = chat.say(message)
            said = texts(replies)
            check_replies(message, replies, "socket")
            if any(TOO_FAST in t for t in said):
                ledger.count("socket", student, reached=False)
                continue
            if len(message) > SOCKET_LIMIT:
                assert said == [said[0]] and TOO_LONG_SOCKET in said[0], said
                ledger.count("socket", student, reached=False)
            elif is_control_command(message):
                assert said == [said[0]] and CONTROL_REFUSED in said[0], said
                ledger.count("socket", student, reached=False)
            else:
                assert not any(CONTROL_REFUSED in t or TOO_LONG_SOCKET in t for t in said), said
                ledger.count("socket", student, reached=True)


@pytest.mark.parametrize("channel", ["rest", "socket"])
def test_twenty_thousand_characters_get_a_friendly_dutch_answer(stack, ledger, channel):
    student = new_student()
    if channel == "rest":
        rest_say(stack.config.rasa_port, student, "/greet")
        first = texts(rest_say(stack.config.rasa_port, student, HUGE_MESSAGE))
        second = texts(rest_say(stack.config.rasa_port, student, "stage " * 3400))  # many words, not one
        ledger.count("rest", student, reached=True)
        ledger.count("rest", student, reached=not CHECKED_REST, number=2)
        assert first and second, (first, second)
        check_oversized_rest(first)
        check_oversized_rest(second)
        said = first + second
    else:
        with SocketChat(stack.config.rasa_port, student) as chat:
            said = texts(chat.say(HUGE_MESSAGE)) + texts(chat.say("stage " * 3400))
            ledger.count("socket", student, reached=False, number=2)
        assert said == [said[0], said[0]] and TOO_LONG_SOCKET in said[0], said
    assert all("5000" in t for t in said if TOO_LONG_SOCKET in t)


@pytest.mark.parametrize("payload", RASA_PAYLOADS)
def test_forged_payloads_cannot_write_for_another_student(stack, ledger, payload):
    """Every "/intent{...}" a student can type, through the portal chat: an answer,
    never a reflection for another student or another week."""
    victim, attacker = new_student("Slachtoffer Student"), new_student("Aanvaller Student")
    with session_scope() as db:
        before = db.execute(select(func.count(Reflection.id))).scalar()
    with SocketChat(stack.config.rasa_port, attacker) as chat:
        forged = payload.replace("student-2", victim)
        for message in ("/greet", "/start_reflection", forged, forged, "/affirm", forged):
            said = texts(chat.say(message))
            assert said, f"no answer to {message!r}"
            reached = not is_control_command(message) and not any(TOO_FAST in t for t in said)
            ledger.count("socket", attacker, reached=reached)
    with session_scope() as db:
        rows = db.execute(select(User.external_id, Reflection.iso_week).join(User, User.id == Reflection.student_id)).all()
        after = db.execute(select(func.count(Reflection.id))).scalar()
    assert all(week == iso_week() or not owner.startswith("fz-") for owner, week in rows), rows
    assert victim not in {owner for owner, _ in rows}
    assert after - before <= 1  # at most the attacker's own reflection of this week


def test_forged_entity_values_are_ignored(stack, ledger):
    """A phase or leerweg that is a list, an object or markup must not break the
    coaching answer (it used to crash action_coach and stick in the slot)."""
    student = new_student()
    with SocketChat(stack.config.rasa_port, student) as chat:
        chat.say("/greet")
        ledger.count("socket", student, reached=True)
        for forged in (
            '/inform{"phase": {"a": 1}}',
            '/inform{"phase": "<script>alert(1)</script>"}',
            '/inform{"leerweg": 123, "phase": 5}',
            '/inform{"phase": [[1]]}',
        ):
            asked = texts(chat.say("/ask_feedback"))
            answered = texts(chat.say(forged))
            again = texts(chat.say("/ask_feedback"))
            ledger.count("socket", student, reached=True, number=3)
            assert asked and answered and again, (forged, asked, answered, again)
            assert not any("<script>" in t for t in answered + again)


@settings(max_examples=12)
@given(hostile=st.lists(messages().filter(lambda m: len(m) <= SOCKET_LIMIT), min_size=1, max_size=3))
def test_reflection_form_keeps_its_state(stack, ledger, hostile):
    """Hostile messages in the middle of the weekly reflection: the answer given
    before them is kept, the form can be finished and saves exactly one row."""
    student = new_student()
    first_answer = "Ik heb een klant zelf geholpen met het vinden van een product."
    with SocketChat(stack.config.rasa_port, student) as chat:
        chat.say("/greet")
        ledger.count("socket", student, reached=True)
        opened = " ".join(texts(chat.say("/start_reflection")))
        ledger.count("socket", student, reached=True)
        assert "Vraag 1 van 6" in opened, opened
        assert "Vraag 2 van 6" in " ".join(texts(chat.say(first_answer)))
        ledger.count("socket", student, reached=True)
        for message in hostile:
            said = texts(chat.say(message))
            assert said, f"no answer inside the form to {message!r}"
            ledger.count("socket", student, reached=not is_control_command(message))
        assert texts(chat.say("/pause"))  # pause, then resume where it stopped
        ledger.count("socket", student, reached=True)
        drive_reflection(chat, ledger, [first_answer] + REFLECTION_ANSWERS[1:])
    with session_scope() as db:
        rows = db.execute(
            select(Reflection).join(User, User.id == Reflection.student_id).where(User.external_id == student)
        ).scalars().all()
        assert len(rows) == 1
        assert rows[0].iso_week == iso_week()
        assert rows[0].went_well == first_answer


def test_an_answer_with_verder_is_not_taken_as_a_pause(stack, ledger):
    """Found by this suite with the model of 24 Nov morning: inside the weekly
    reflection, "... daar ga ik mee verder." was classified as `pause` (the training
    data has "ik ga later verder"), so the form paused on every attempt at that
    answer. The retrained model answers it; this keeps it that way."""
    student = new_student()
    with SocketChat(stack.config.rasa_port, student) as chat:
        # the sequence hypothesis found
        first = "Ik heb een klant zelf geholpen met het vinden van een product."
        for message in ("/greet", "/start_reflection", first, "<script>alert('xss')</script>"):
            chat.say(message)
        said = " ".join(texts(chat.say("Mijn begeleider zei dat ik goed luister, daar ga ik mee verder.")))
        ledger.count("socket", student, reached=True, number=5)
    assert "Vraag 4 van 6" in said, said
