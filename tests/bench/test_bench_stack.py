"""Smoke test of the benchmark's chat part against the real end-to-end stack, with
tiny counts. It checks that the harness works (calibration, phases, the report's
keys, RSS from /proc), never how fast anything is."""
from __future__ import annotations

import pytest

from scripts.bench.client import make_chat
from scripts.bench.processes import rss_mb, stack_rss
from scripts.bench.run import import_students, token_source, warm_up
from scripts.bench.scenario import OURS, run_phase
from tests.e2e.conftest import stack  # noqa: F401  (the session-scoped real stack)

pytestmark = pytest.mark.stack

# The first six turns (greeting, coaching with the phase button, micro-goal): under
# the channel's per-student burst limit, which the e2e stack keeps at its default.
STEPS = OURS[:6]
PHASE_KEYS = {
    "concurrency", "conversations", "turns", "wall_seconds", "throughput_msgs_per_s", "latency_ms",
    "first_reply_ms", "latency_by_kind_p50_ms", "incomplete_turns", "surplus_replies", "expectation_failures",
    "errors",
}
SUMMARY_KEYS = {"n", "p50", "p95", "p99", "mean", "max"}


async def test_latency_part_produces_the_reported_structure(stack):  # noqa: F811
    url = f"http://127.0.0.1:{stack.config.rasa_port}"
    origin = f"http://127.0.0.1:{stack.config.portal_port}"
    next_token = token_source(import_students(5, prefix="smoke"))

    def chat():
        return make_chat("websocket", url, origin)

    calibration = await warm_up(chat, next_token, STEPS)
    assert set(calibration) == {"counts", "turn_done_event", "mismatches"}
    assert len(calibration["counts"]) == len(STEPS) and all(n >= 1 for n in calibration["counts"])
    assert calibration["mismatches"] == [], calibration["mismatches"]

    single = await run_phase(chat, [next_token()], STEPS, calibration, 1)
    loaded = await run_phase(chat, [next_token(), next_token()], STEPS, calibration, 2)
    for phase, conversations in ((single, 1), (loaded, 2)):
        assert set(phase) == PHASE_KEYS
        assert set(phase["latency_ms"]) == SUMMARY_KEYS
        assert phase["errors"] == [] and phase["conversations"] == conversations
        assert phase["turns"] == conversations * len(STEPS)
        assert phase["latency_ms"]["n"] + phase["incomplete_turns"] == phase["turns"]

    memory = stack_rss(stack)
    assert set(memory) >= {"rasa", "actions"} and all(value > 0 for value in memory.values())
    assert rss_mb(stack.processes["rasa"].pid) > 0
