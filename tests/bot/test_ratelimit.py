"""The chat's token bucket (bot/ratelimit.py) and its settings."""
from __future__ import annotations

import pytest

from bot import config, ratelimit
from bot.channels import chat_rate_limiter, too_fast
from bot.ratelimit import TokenBucketLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_message_per_interval():
    clock = Clock()
    limiter = TokenBucketLimiter(burst=3, rate=0.5, clock=clock)
    assert [limiter.allow("s") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("s") == pytest.approx(2.0)
    clock.now += 1.0
    assert not limiter.allow("s")  # half a token is not a message
    clock.now += 1.0
    assert limiter.allow("s") and not limiter.allow("s")


def test_a_refused_message_costs_nothing():
    clock = Clock()
    limiter = TokenBucketLimiter(burst=1, rate=0.5, clock=clock)
    assert limiter.allow("s")
    for _ in range(50):  # hammering while limited does not push the next message further away
        assert not limiter.allow("s")
    clock.now += 2.0
    assert limiter.allow("s")


def test_students_are_limited_separately():
    limiter = TokenBucketLimiter(burst=2, rate=0.5, clock=Clock())
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b") and limiter.allow("b")


def test_tokens_never_exceed_the_burst():
    clock = Clock()
    limiter = TokenBucketLimiter(burst=2, rate=1.0, clock=clock)
    limiter.allow("s")
    clock.now += 3600
    assert [limiter.allow("s") for _ in range(3)] == [True, True, False]


def test_a_clock_going_backwards_gives_no_tokens():
    clock = Clock()
    limiter = TokenBucketLimiter(burst=1, rate=1.0, clock=clock)
    assert limiter.allow("s")
    clock.now -= 100
    assert not limiter.allow("s")


def test_wait_seconds_for_a_person():
    clock = Clock()
    limiter = TokenBucketLimiter(burst=1, rate=0.5, clock=clock)
    assert limiter.wait_seconds("unknown") == 1
    limiter.allow("s")
    assert limiter.wait_seconds("s") == 2
    clock.now += 1.5
    assert limiter.wait_seconds("s") == 1


def test_memory_stays_bounded(monkeypatch):
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 100)
    clock = Clock()
    limiter = TokenBucketLimiter(burst=2, rate=0.5, clock=clock)
    for i in range(1000):
        limiter.allow(f"s{i}")
        clock.now += 0.001
    assert len(limiter) <= 100
    # the student who is being limited right now is remembered
    limiter.allow("busy"), limiter.allow("busy")
    assert not limiter.allow("busy")


@pytest.mark.parametrize("burst,rate", [(0, 1.0), (1, 0.0), (1, -1.0)])
def test_invalid_limits_are_refused(burst, rate):
    with pytest.raises(ValueError):
        TokenBucketLimiter(burst, rate)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHAT_RATE_BURST", "2")
    monkeypatch.setenv("CHAT_RATE_PER_MINUTE", "6")
    config.reset_settings()
    try:
        limiter = chat_rate_limiter()
        assert (limiter.burst, limiter.rate) == (2, pytest.approx(0.1))
    finally:
        monkeypatch.undo()
        config.reset_settings()
    defaults = chat_rate_limiter()
    assert (defaults.burst, defaults.rate) == (8, pytest.approx(0.5))  # burst 8, then 1 message per 2 s


@pytest.mark.parametrize(
    "name,value",
    [("CHAT_RATE_BURST", "0"), ("CHAT_RATE_PER_MINUTE", "veel"), ("RASA_REQUEST_MAX_BYTES", "-1"),
     ("CHAT_TOKEN_MINUTES", "0"), ("CHAT_TOKEN_MINUTES", "100000")],
)
def test_bad_limit_settings_stop_the_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    config.reset_settings()
    try:
        with pytest.raises(config.ConfigurationError, match=name):
            config.get_settings()
    finally:
        monkeypatch.undo()
        config.reset_settings()


def test_the_too_fast_message_is_dutch_and_says_what_to_do():
    assert too_fast(1).startswith("Rustig aan even")
    assert "1 seconde " in too_fast(1) and "3 seconden" in too_fast(3)
    assert "nog een keer" in too_fast(3)
