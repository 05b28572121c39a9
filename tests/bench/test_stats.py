"""The benchmark's pure helpers: percentiles, summaries, targets, report rendering,
and how a turn's replies are collected (with an in-memory chat, no server)."""
from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scripts.bench.report import evaluate_targets, render_markdown
from scripts.bench.scenario import Conversation, Step, Turn, collect, interleaved, phase_summary, split, turn_end
from scripts.bench.stats import percentile, ratio, summarize, throughput


def test_percentile_interpolates_like_numpy_linear():
    values = [10, 20, 30, 40]
    assert percentile(values, 0) == 10
    assert percentile(values, 100) == 40
    assert percentile(values, 50) == 25
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None


def test_percentile_ignores_input_order():
    values = list(range(1, 101))
    shuffled = values[:]
    random.Random(1).shuffle(shuffled)
    assert percentile(shuffled, 99) == percentile(values, 99) == pytest.approx(99.01)


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50),
       st.floats(min_value=0, max_value=100))
def test_percentile_stays_within_the_data(values, q):
    result = percentile(values, q)
    assert min(values) <= result <= max(values)


def test_percentile_rejects_out_of_range():
    with pytest.raises(ValueError):
        percentile([1, 2], 101)


def test_summarize_and_ratio():
    summary = summarize([100.0, 200.0, 300.0])
    assert summary == {"n": 3, "p50": 200.0, "p95": 290.0, "p99": 298.0, "mean": 200.0, "max": 300.0}
    assert summarize([])["p50"] is None
    assert ratio(300, 200) == 1.5
    assert ratio(1, 0) is None and ratio(None, 2) is None
    assert throughput(100, 4) == 25.0 and throughput(1, 0) is None


def _turn(step, latency, complete=True, kind="coaching", expectation_met=True, surplus=0):
    return Turn(step=step, kind=kind, latency_ms=latency, first_ms=latency / 2, replies=2, complete=complete,
                texts=["x"], expectation_met=expectation_met, surplus_before=surplus)


def test_phase_summary_leaves_incomplete_turns_out_of_latency_but_counts_them():
    conversations = [
        Conversation(turns=[_turn(0, 100), _turn(1, 300, kind="reflection")]),
        Conversation(turns=[_turn(0, 200), _turn(1, 99999, complete=False, expectation_met=False, surplus=1)],
                     error="ConnectionError: gone"),
    ]
    phase = phase_summary(conversations, concurrency=2, wall_seconds=2.0)
    assert phase["turns"] == 4 and phase["throughput_msgs_per_s"] == 2.0
    assert phase["latency_ms"]["n"] == 3 and phase["latency_ms"]["max"] == 300.0
    assert phase["incomplete_turns"] == 1 and phase["expectation_failures"] == 1 and phase["surplus_replies"] == 1
    assert phase["latency_by_kind_p50_ms"] == {"coaching": 150.0, "reflection": 300.0}
    assert phase["errors"] == ["ConnectionError: gone"]


def test_turn_end_prefers_the_done_event():
    assert turn_end(None, 0) is None
    assert turn_end({"turn_done_event": True, "counts": [3]}, 0) == "done"
    assert turn_end({"turn_done_event": False, "counts": [3, 1]}, 1) == 1


class FakeChat:
    """Replays (delay, kind, text) events into the queue like a client's reader."""

    def __init__(self, events):
        self.replies = asyncio.Queue()
        self.events = events

    async def play(self):
        loop = asyncio.get_running_loop()
        for delay, kind, text in self.events:
            await asyncio.sleep(delay)
            self.replies.put_nowait((loop.time(), kind, {"text": text}))


async def _collect(events, end, quiet=0.2, timeout=2.0):
    chat = FakeChat(events)
    player = asyncio.ensure_future(chat.play())
    try:
        return await collect(chat, end, quiet, timeout)
    finally:
        player.cancel()


async def test_collect_stops_at_the_done_event():
    replies, ended = await _collect([(0, "reply", "a"), (0.01, "reply", "b"), (0.01, "done", ""),
                                     (0.01, "reply", "next turn")], "done")
    assert [m["text"] for _, m in replies] == ["a", "b"] and ended


async def test_collect_stops_at_the_reply_count_and_reports_a_short_turn():
    replies, ended = await _collect([(0, "reply", "a"), (0.01, "reply", "b"), (0.01, "reply", "c")], 2)
    assert [m["text"] for _, m in replies] == ["a", "b"] and ended
    replies, ended = await _collect([(0, "reply", "a")], 2, timeout=0.3)
    assert len(replies) == 1 and not ended


async def test_collect_in_calibration_waits_for_quiet_and_notes_the_done_event():
    replies, saw_done = await _collect([(0, "reply", "a"), (0.05, "reply", "b"), (0.01, "done", "")], None)
    assert len(replies) == 2 and saw_done
    replies, saw_done = await _collect([(0, "reply", "a"), (0.05, "reply", "b")], None)
    assert len(replies) == 2 and not saw_done


def _result():
    latency = {"n": 80, "p50": 300.0, "p95": 600.0, "p99": 900.0}
    base = {"n": 80, "p50": 100.0, "p95": 200.0, "p99": 250.0}
    return {
        "machine": {"cores": 2, "cpu_model": "AMD EPYC", "ram_gb": 23.5, "python": "3.10.13", "rasa": "3.6.21",
                    "date": "2026-01-01T00:00:00", "git_commit": "abcdef1234567"},
        "settings": {"conversations_c1": 5, "conversations_c10": 30, "turns_per_conversation": 16,
                     "transport": "websocket"},
        "method": ["Turn complete = bot_turn_done."],
        "latency_ms": {"c1": latency, "c10": latency},
        "baseline_latency_ms": {"c1": base, "c10": base},
        "ratio": {"c1": {"p50": 3.0, "p95": 3.0}, "c10": {"p50": 1.2, "p95": 1.4}},
        "throughput_msgs_per_s": {"ours": 12.5, "baseline": 40.0},
        "train_seconds": 250.0,
        "content_live_seconds": 0.4,
        "content_live": {"samples": [{"live_seconds": 0.4}]},
        "portal_ms": {"supervisor_overview": {"p50": 50.0, "p95": 80.0},
                      "intern_weekly_log": {"p50": 40.0, "p95": 250.0}},
        "rss_mb": {"at_rest": {"rasa": 900.0, "actions": 150.0, "portal": 90.0, "total": 1140.0},
                   "under_load": {"rasa": 1000.0, "actions": 160.0, "portal": 95.0, "total": 1255.0}},
        "nlu": {"skipped": True},
        "phases": {"ours_c10": {"incomplete_turns": 2, "errors": []}},
        "errors": {"full training": "RuntimeError: exit 1\ntraceback"},
    }


def test_targets_met_missed_and_not_measured():
    result = _result()
    result.pop("train_seconds")
    rows = {t["name"]: t for t in evaluate_targets(result)}
    assert rows["p95 latency / baseline, concurrency 1"]["met"] is False
    assert rows["p95 latency / baseline, concurrency 10"]["met"] is True
    assert rows["throughput per Rasa process, concurrency 10"]["met"] is False
    assert rows["full training from scratch"]["met"] is None
    assert rows["content edit live in chat"]["met"] is True
    assert rows["portal p95: supervisor overview"]["met"] is True
    assert rows["portal p95: intern weekly log"]["met"] is False
    assert rows["whole stack RSS under load"]["met"] is True
    assert len(rows) == 8


def test_boundaries_count_as_met():
    result = _result()
    result.update(ratio={"c1": {"p95": 1.5}, "c10": {"p95": 1.5}}, throughput_msgs_per_s={"ours": 40},
                  train_seconds=180, content_live_seconds=1.0)
    rows = {t["name"]: t["met"] for t in evaluate_targets(result)}
    assert rows["p95 latency / baseline, concurrency 1"] and rows["full training from scratch"]
    assert rows["throughput per Rasa process, concurrency 10"] and rows["content edit live in chat"]


def test_markdown_shows_numbers_verdicts_flags_and_failures():
    result = _result()
    result["targets"] = evaluate_targets(result)
    text = render_markdown(result)
    assert "| 1 | 80 | 300.0 | 600.0 | 900.0 | 100.0 | 200.0 | 250.0 | 3.00 | 3.00 |" in text
    assert "**missed**" in text and "| met |" in text
    assert "ours 12.5 msgs/s, baseline 40.0 msgs/s" in text
    assert "ours_c10: incomplete_turns 2" in text
    assert "- full training: RuntimeError: exit 1" in text
    assert "Not run (BENCH_SKIP_NLU=1)." in text
    assert "make bench" in text


def test_markdown_survives_an_almost_empty_result():
    text = render_markdown({"machine": {}, "targets": evaluate_targets({})})
    assert "not measured" in text and "–" in text


def test_split_spreads_conversations_over_rounds():
    assert split(5, 3) == [2, 2, 1]
    assert split(30, 3) == [10, 10, 10]
    assert split(2, 3) == [1, 1]
    assert split(0, 3) == [0]


class EchoChat:
    """A chat that answers every message with two replies and the turn-done event,
    and logs which assistant spoke when."""

    def __init__(self, name, log):
        self.name, self.log = name, log
        self.replies = asyncio.Queue()

    async def connect(self, token):
        self.log.append((self.name, token))

    async def send(self, text):
        loop = asyncio.get_running_loop()
        for kind in ("reply", "reply", "done"):
            self.replies.put_nowait((loop.time(), kind, {"text": f"re: {text}"}))
        return loop.time()

    async def close(self):
        pass


async def test_interleaved_alternates_assistants_and_merges_their_rounds():
    log = []
    steps = [Step("hoi", "greeting", "re: hoi"), Step("doei", "goodbye")]
    calibration = {"counts": [2, 2], "turn_done_event": True, "mismatches": []}
    numbers = iter(range(100))
    sides = {
        name: {"make_chat": (lambda n=name: EchoChat(n, log)), "next_token": lambda: next(numbers),
               "steps": steps, "calibration": calibration}
        for name in ("ours", "baseline")
    }
    phases = await interleaved(sides, conversations=5, concurrency=2, rounds=3)
    assert [name for name, _ in log] == ["ours"] * 2 + ["baseline"] * 2 + ["ours"] * 2 + ["baseline"] * 2 + [
        "ours", "baseline"]
    for phase in phases.values():
        assert phase["conversations"] == 5 and phase["turns"] == 10
        assert phase["incomplete_turns"] == 0 and phase["expectation_failures"] == 0 and phase["errors"] == []
