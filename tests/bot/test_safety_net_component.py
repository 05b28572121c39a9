"""The NLU component that forces report_unsafe: by pattern, or by suspicion."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.safety_net import SafetyNetClassifier


def parsed(text: str, ranking: dict) -> Message:
    ordered = [{"name": name, "confidence": p} for name, p in sorted(ranking.items(), key=lambda kv: -kv[1])]
    return Message(data={"text": text, "intent": ordered[0], "intent_ranking": ordered})


def run(component: SafetyNetClassifier, message: Message) -> Message:
    return component.process([message])[0]


def test_a_pattern_forces_report_unsafe_with_its_categories():
    message = run(SafetyNetClassifier(), parsed("ik wil er een eind aan maken", {"mood_bad": 0.9, "report_unsafe": 0.05}))
    assert message.get("intent") == {"name": "report_unsafe", "confidence": 1.0}
    assert "self_harm" in message.get("safety_categories")
    assert not message.get("safety_suspected")
    assert [r["name"] for r in message.get("intent_ranking")].count("report_unsafe") == 1


def test_without_a_threshold_a_weak_unsafe_score_changes_nothing():
    message = run(SafetyNetClassifier(), parsed("ik verdien het na vandaag", {"ask_mistake": 0.6, "report_unsafe": 0.3}))
    assert message.get("intent")["name"] == "ask_mistake"


@pytest.mark.parametrize("unsafe, suspected", [(0.29, True), (0.2, True), (0.19, False), (0.0, False)])
def test_an_unsafe_score_at_the_threshold_is_a_suspicion(unsafe, suspected):
    message = run(SafetyNetClassifier(0.2), parsed("ik verdien het na vandaag", {"ask_mistake": 0.6, "report_unsafe": unsafe}))
    assert (message.get("intent")["name"] == "report_unsafe") is suspected
    assert bool(message.get("safety_suspected")) is suspected
    if suspected:
        assert message.get("intent")["confidence"] == unsafe
        assert message.get("intent_ranking")[0]["name"] == "report_unsafe"


def test_a_confident_unsafe_prediction_is_not_marked_as_a_suspicion():
    message = run(SafetyNetClassifier(0.2), parsed("ze doen raar tegen me", {"report_unsafe": 0.7, "ask_relationship": 0.3}))
    assert message.get("intent") == {"name": "report_unsafe", "confidence": 0.7}
    assert not message.get("safety_suspected")


def test_button_payloads_and_empty_messages_are_left_alone():
    for text in ["/deny", ""]:
        message = run(SafetyNetClassifier(0.01), parsed(text, {"deny": 0.6, "report_unsafe": 0.4}))
        assert message.get("intent")["name"] == "deny"
        assert not message.get("safety_suspected")


def test_a_soft_signal_is_a_suspicion_not_a_report():
    # The "signals" category is confirm_first: the student is asked before any report.
    message = run(SafetyNetClassifier(0.2), parsed("sorry voor alles", {"thank": 0.8, "report_unsafe": 0.01}))
    assert message.get("intent")["name"] == "report_unsafe"
    assert message.get("safety_suspected") is True
    assert not message.get("safety_categories")


def test_a_firm_pattern_next_to_a_signal_reports_at_once():
    message = run(SafetyNetClassifier(0.2), parsed("sorry voor alles, ik wil niet meer leven", {"thank": 0.9}))
    assert message.get("safety_categories") == ["self_harm"]
    assert not message.get("safety_suspected")


def words(n: int) -> str:
    return " ".join(["stage"] * n)


@pytest.mark.parametrize("length, suspected", [(60, False), (61, True), (150, True)])
def test_a_long_message_only_the_classifier_calls_unsafe_is_asked_about_first(length, suspected):
    component = SafetyNetClassifier(0.2, confirm_above_words=60)
    message = run(component, parsed(words(length), {"report_unsafe": 1.0, "ask_expectations": 0.0}))
    assert message.get("intent")["name"] == "report_unsafe"
    assert bool(message.get("safety_suspected")) is suspected


def test_a_long_message_with_a_pattern_match_stays_a_report():
    text = words(80) + " en mijn collega sloeg me gisteren in mijn gezicht"
    message = run(SafetyNetClassifier(0.2, confirm_above_words=60), parsed(text, {"report_unsafe": 0.9, "ask_feedback": 0.1}))
    assert message.get("intent")["name"] == "report_unsafe"
    assert message.get("safety_categories")
    assert not message.get("safety_suspected")


def test_without_a_word_limit_a_long_unsafe_prediction_stays_a_report():
    message = run(SafetyNetClassifier(0.2), parsed(words(200), {"report_unsafe": 1.0, "ask_expectations": 0.0}))
    assert not message.get("safety_suspected")
