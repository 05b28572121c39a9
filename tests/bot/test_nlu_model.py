"""The trained NLU model (models/coach.tar.gz, made by `make train`) on inputs that
carry no features: they must reach the fallback, not crash the turn."""
from __future__ import annotations

from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[2] / "models" / "coach.tar.gz"


@pytest.fixture(scope="module")
def agent():
    if not MODEL.exists():
        pytest.skip("no trained model: run `make train` first (make test does)")
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "😀😀😀", "!!!", "?"])
async def test_featureless_messages_reach_a_result(agent, text):
    parsed = await agent.parse_message(text)
    assert parsed["intent"]["name"] is not None


async def test_empty_message_becomes_fallback(agent):
    parsed = await agent.parse_message("")
    assert parsed["intent"]["name"] == "nlu_fallback"


async def test_ordinary_question_is_classified(agent):
    parsed = await agent.parse_message("hoe ga ik om met feedback van mijn begeleider")
    assert parsed["intent"]["name"] == "ask_feedback"


# At the reflection's last step students also type their confirmation (the "Opslaan"
# button sends /affirm, past the NLU). Read as `pause` or `goodbye`, a typed "opslaan"
# would pause the form instead of saving it (a regression a data round once caused).
@pytest.mark.parametrize("text", ["opslaan", "Opslaan", "opslaan graag", "ja opslaan", "sla maar op", "bewaar maar"])
async def test_save_confirmations_never_pause_the_reflection(agent, text):
    parsed = await agent.parse_message(text)
    assert parsed["intent"]["name"] not in {"pause", "goodbye", "report_unsafe"}
