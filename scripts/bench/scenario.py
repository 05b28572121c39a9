"""The conversations the benchmark sends, and how a turn is timed.

A *turn* is one user message and every `bot_uttered` reply it causes. Latency is
the time from sending the message to the arrival of the turn's *last* reply (what
a student waits for); the first reply's time is kept too. When the turn is over:

* our channel (bot/channels.py) emits `bot_turn_done` after the last message of
  every turn, so a measured turn ends exactly at that event;
* Rasa's stock channel (the baseline) has no such event, so the turn ends after the
  number of replies that step produced in the calibration conversation.

Calibration: one conversation per assistant, alone, before the measured phases,
collects each turn's replies until nothing more arrives for `quiet` seconds (2 s,
far above the gap between replies of one turn), records the reply count per step,
whether every turn ended with `bot_turn_done`, and checks each step's `expect` text,
so a scenario that no longer matches the dialogue is reported instead of silently
timing something else. Measured turns that miss their end within the timeout count
as `incomplete`, replies left over before the next message as `surplus`, and a
missing `expect` text as an `expectation_failure`; the report shows these counts.

No quiet period is part of a measured turn: closed-loop clients send their next
message as soon as the turn is over, so the throughput at concurrency 10 is what
the server can do, not what a waiting client allows.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from scripts.bench.stats import summarize, throughput


@dataclass(frozen=True)
class Step:
    text: str
    kind: str
    expect: Optional[str] = None  # a text one reply of this turn must contain


# Our assistant: greeting, two coaching questions (the phase question is answered
# with the button payload the chat page sends), a full weekly reflection through
# the form, thanks. 16 turns.
OURS: Sequence[Step] = (
    Step("hoi", "greeting", "Hoi "),
    Step("hoe laat ik zien dat ik initiatief neem op mijn stage", "coaching", "Waar sta je nu"),
    Step('/inform{"phase":"during"}', "coaching"),
    Step("ja", "coaching", "Staat genoteerd"),
    Step("hoe ga ik om met feedback van mijn begeleider", "coaching"),
    Step("nee dankje", "coaching"),
    Step("ik wil mijn weekreflectie invullen", "reflection", "Vraag 1 van 6"),
    Step("ik heb zelf een klant geholpen met een kleur kiezen en dat ging goed", "reflection", "Vraag 2 van 6"),
    Step("het was lastig om te vragen wat ik nog kon doen als het rustig was", "reflection", "Vraag 3 van 6"),
    Step("ik kreeg een compliment over mijn fohnen en heb gevraagd wat beter kon", "reflection", "Vraag 4 van 6"),
    Step("ik heb zelf de voorraad shampoo aangevuld toen het rustig was", "reflection", "Vraag 5 van 6"),
    Step("elke ochtend vragen of ik ergens mee kan helpen", "reflection", "Hoe voelde"),
    Step("4", "reflection", "Wat mag je praktijkbegeleider"),
    Step("alles delen", "reflection", "Dit heb je ingevuld"),
    Step("opslaan", "reflection", "opgeslagen"),
    Step("dankjewel!", "thanks"),
)

# The `rasa init`-style baseline (bench/baseline): its own simple messages, the same
# number of turns.
BASELINE: Sequence[Step] = (
    Step("hoi", "greeting", "Hoi"),
    Step("heel goed", "mood", "Fijn"),
    Step("doei", "goodbye", "Doei"),
    Step("hallo", "greeting", "Hoi"),
    Step("niet zo goed", "mood", "geholpen"),
    Step("ja", "mood", "Fijn"),
    Step("ben jij een robot?", "bot_challenge", "bot"),
    Step("goedemorgen", "greeting", "Hoi"),
    Step("super", "mood", "Fijn"),
    Step("doei", "goodbye", "Doei"),
    Step("hey", "greeting", "Hoi"),
    Step("ik voel me slecht", "mood", "geholpen"),
    Step("ja", "mood", "Fijn"),
    Step("praat ik met een mens?", "bot_challenge", "bot"),
    Step("hoi", "greeting", "Hoi"),
    Step("tot ziens", "goodbye", "Doei"),
)


@dataclass
class Turn:
    step: int
    kind: str
    latency_ms: Optional[float]  # to the last reply of the turn
    first_ms: Optional[float]  # to the first reply
    replies: int
    complete: bool
    texts: List[str]
    done_event: bool = False
    surplus_before: int = 0
    expectation_met: bool = True


@dataclass
class Conversation:
    turns: List[Turn] = field(default_factory=list)
    error: Optional[str] = None
    surplus_after: int = 0


def _drain(queue: asyncio.Queue) -> int:
    count = 0
    while not queue.empty():
        _, kind, _ = queue.get_nowait()
        count += kind == "reply"
    return count


async def collect(chat, end, quiet: float, timeout: float):
    """One turn's replies as [(arrival, message)] and whether it ended properly.

    `end`: "done" = until `bot_turn_done`; an int = until that many replies; None =
    until `quiet` seconds pass without a reply (calibration; then "ended properly"
    means a `bot_turn_done` was seen)."""
    replies: List = []
    done = False
    deadline = time.perf_counter() + timeout
    while True:
        remaining = deadline - time.perf_counter()
        if end == "done" and done:
            return replies, True
        if isinstance(end, int) and len(replies) >= end:
            return replies, True
        if remaining <= 0:
            return replies, end is None and done
        wait = remaining if end is not None or not replies else min(quiet, remaining)
        try:
            arrived, kind, message = await asyncio.wait_for(chat.replies.get(), wait)
        except asyncio.TimeoutError:
            return replies, end is None and done
        if kind == "done":
            done = True
        else:
            replies.append((arrived, message))


def reply_text(message: Dict) -> str:
    text = message.get("text") or ""
    buttons = " ".join(b.get("title", "") for b in message.get("quick_replies") or message.get("buttons") or [])
    return f"{text} {buttons}".strip()


def turn_end(calibration: Optional[Dict], index: int):
    """How a measured turn ends (see the module docstring); None = calibrating."""
    if calibration is None:
        return None
    if calibration.get("turn_done_event"):
        return "done"
    return calibration["counts"][index]


async def run_conversation(
    make_chat: Callable[[], object],
    token: Optional[str],
    steps: Sequence[Step],
    calibration: Optional[Dict] = None,
    quiet: float = 2.0,
    timeout: float = 60.0,
) -> Conversation:
    """One student's conversation on its own connection; `calibration` None = calibrate."""
    result = Conversation()
    chat = make_chat()
    try:
        await chat.connect(token)
        for index, step in enumerate(steps):
            surplus = _drain(chat.replies)
            sent = await chat.send(step.text)
            got, ended = await collect(chat, turn_end(calibration, index), quiet, timeout)
            texts = [reply_text(message) for _, message in got]
            result.turns.append(
                Turn(
                    step=index,
                    kind=step.kind,
                    latency_ms=(got[-1][0] - sent) * 1000 if got else None,
                    first_ms=(got[0][0] - sent) * 1000 if got else None,
                    replies=len(got),
                    complete=bool(got) and (ended or calibration is None),
                    texts=texts,
                    done_event=ended,
                    surplus_before=surplus,
                    expectation_met=step.expect is None or any(step.expect in t for t in texts),
                )
            )
        result.surplus_after = _drain(chat.replies)
    except Exception as error:  # keep the other conversations going; reported per phase
        result.error = f"{type(error).__name__}: {error}"
    finally:
        await chat.close()
    return result


async def calibrate(make_chat, token: Optional[str], steps: Sequence[Step], quiet: float = 2.0,
                    timeout: float = 60.0) -> Dict:
    """Reply counts per step from one unhurried conversation, whether the channel
    ends every turn with `bot_turn_done`, and the steps whose expected text did not
    appear (with the replies seen)."""
    conversation = await run_conversation(make_chat, token, steps, None, quiet, timeout)
    if conversation.error:
        raise RuntimeError(f"calibration conversation failed: {conversation.error}")
    return {
        "counts": [turn.replies for turn in conversation.turns],
        "turn_done_event": all(turn.done_event for turn in conversation.turns),
        "mismatches": [
            {"step": t.step, "sent": steps[t.step].text, "expected_text": steps[t.step].expect, "replies": t.texts}
            for t in conversation.turns
            if not t.expectation_met or t.replies == 0
        ],
    }


async def run_phase(
    make_chat: Callable[[], object],
    tokens: Sequence[Optional[str]],
    steps: Sequence[Step],
    calibration: Dict,
    concurrency: int,
    timeout: float = 60.0,
) -> Dict:
    """Conversations (one per token) run by `concurrency` closed-loop clients."""
    conversations, wall = await run_conversations(make_chat, tokens, steps, calibration, concurrency, timeout)
    return phase_summary(conversations, concurrency, wall)


async def run_conversations(
    make_chat: Callable[[], object],
    tokens: Sequence[Optional[str]],
    steps: Sequence[Step],
    calibration: Dict,
    concurrency: int,
    timeout: float = 60.0,
):
    """The conversations of one phase (or round) and its wall time in seconds."""
    pending: asyncio.Queue = asyncio.Queue()
    for token in tokens:
        pending.put_nowait(token)
    conversations: List[Conversation] = []

    async def worker() -> None:
        while not pending.empty():
            token = pending.get_nowait()
            conversations.append(await run_conversation(make_chat, token, steps, calibration, timeout=timeout))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(tokens)) or 1)))
    return conversations, time.perf_counter() - started


def split(total: int, parts: int) -> List[int]:
    """`total` conversations in `parts` rounds, as even as possible (no empty round)."""
    parts = max(1, min(parts, total)) if total else 1
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def interleaved(sides: Dict[str, Dict], conversations: int, concurrency: int, rounds: int) -> Dict[str, Dict]:
    """The same phase for several assistants, alternating in `rounds` rounds (A B A B
    ...), so a change in the machine's load during the phase hits all of them alike.

    `sides`: name -> {"make_chat", "next_token", "steps", "calibration"}; returns
    name -> phase summary over all its rounds (wall time = sum of its rounds)."""
    collected = {name: ([], 0.0) for name in sides}
    for size in split(conversations, rounds):
        for name, side in sides.items():
            tokens = [side["next_token"]() for _ in range(size)]
            done, wall = await run_conversations(side["make_chat"], tokens, side["steps"], side["calibration"],
                                                 concurrency)
            previous, seconds = collected[name]
            collected[name] = (previous + done, seconds + wall)
    return {name: phase_summary(convs, concurrency, wall) for name, (convs, wall) in collected.items()}


def phase_summary(conversations: Sequence[Conversation], concurrency: int, wall_seconds: float) -> Dict:
    turns = [t for c in conversations for t in c.turns]
    complete = [t for t in turns if t.complete and t.latency_ms is not None]
    kinds: Dict[str, List[float]] = {}
    for t in complete:
        kinds.setdefault(t.kind, []).append(t.latency_ms)
    return {
        "concurrency": concurrency,
        "conversations": len(conversations),
        "turns": len(turns),
        "wall_seconds": round(wall_seconds, 2),
        "throughput_msgs_per_s": throughput(len(turns), wall_seconds),
        "latency_ms": summarize(t.latency_ms for t in complete),
        "first_reply_ms": summarize(t.first_ms for t in complete if t.first_ms is not None),
        "latency_by_kind_p50_ms": {k: summarize(v)["p50"] for k, v in sorted(kinds.items())},
        "incomplete_turns": sum(1 for t in turns if not t.complete),
        "surplus_replies": sum(t.surplus_before for t in turns) + sum(c.surplus_after for c in conversations),
        "expectation_failures": sum(1 for t in turns if not t.expectation_met),
        "errors": [c.error for c in conversations if c.error],
    }
