"""Summaries of py-spy's raw (collapsed-stack) output, without py-spy."""
from __future__ import annotations

from scripts.bench.profile import RASA_BUCKETS, buckets, summarize_raw

RAW = "\n".join([
    # idle: the event loop waiting, a pool worker waiting
    "<module> (rasa:8);serve (sanic/server/runners.py:155) 700",
    "_bootstrap (threading.py:973);_worker (concurrent/futures/thread.py:81) 200",
    # busy
    "serve (sanic/server/runners.py:155);handle_message (rasa/core/processor.py:1);run (rasa/core/actions/action.py:2);"
    "_validate_action_result (rasa/core/actions/action.py:3);validate (jsonschema/validators.py:4) 50",
    "serve (sanic/server/runners.py:155);handle_message (rasa/core/processor.py:1);"
    "parse_message (rasa/core/processor.py:9);__call__ (rasa/engine/graph.py:1) 30",
    "_worker (concurrent/futures/thread.py:81);chat_account_is_active (/work/main/bot/tokens.py:5) 15",
    "serve (sanic/server/runners.py:155);somewhere (elsewhere.py:1) 5",
    "not a stack line",
])


def test_idle_stacks_are_left_out_and_shares_are_of_busy_samples():
    summary = summarize_raw(RAW)
    assert summary["busy_samples"] == 100 and summary["idle_samples"] == 900
    inclusive = dict(summary["inclusive_pct"])
    assert inclusive["handle_message (rasa/core/processor.py)"] == 80.0
    assert inclusive["chat_account_is_active (bot/tokens.py)"] == 15.0  # project path shortened
    assert dict(summary["self_pct"])["validate (jsonschema/validators.py)"] == 50.0


def test_buckets_take_the_first_matching_rule_and_sum_to_100():
    shares = buckets(RAW, RASA_BUCKETS)
    assert shares[RASA_BUCKETS[0][0]] == 50.0  # jsonschema, although also under handle_message
    assert shares["NLU pipeline (Rasa parse_message)"] == 30.0
    assert shares["per-message account check (bot/tokens.chat_account_is_active)"] == 15.0
    assert shares["other"] == 5.0
    assert round(sum(shares.values()), 6) == 100.0
    assert buckets("", RASA_BUCKETS) == {}
