"""The cached action-response validation must accept and reject exactly what
Rasa's own check does, with the same error message."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

VALID = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "mood", "value": 3, "timestamp": None},
            {"event": "active_loop", "name": None},
            {"event": "followup", "name": "action_listen"},
        ],
        "responses": [{"text": "Hoi", "buttons": [{"title": "Ja", "payload": "/affirm"}]}],
    },
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
    {"events": [{"event": "slot", "name": 5, "value": 1}], "responses": []},
    {"events": [], "responses": "Hoi"},
    {"events": [{"no_event_key": True}], "responses": []},
]


def rasa_original(result):
    jsonschema.validate(result, RemoteAction.action_response_format_spec())


@pytest.mark.parametrize("result", VALID)
def test_accepts_what_rasa_accepts(result):
    rasa_original(result)
    assert rasa_speedups.validate_action_result(object.__new__(RemoteAction), result) is True


@pytest.mark.parametrize("result", INVALID)
def test_rejects_what_rasa_rejects_with_the_same_error(result):
    with pytest.raises(jsonschema.ValidationError) as original:
        rasa_original(result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        rasa_speedups.validate_action_result(object.__new__(RemoteAction), result)
    assert ours.value.message.startswith(original.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(original.value.path)


def test_install_replaces_rasas_method_once(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(rasa_speedups, "_installed", False)
    assert rasa_speedups.install() is True
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert rasa_speedups.install() is True


def test_install_leaves_an_unknown_rasa_alone(monkeypatch, caplog):
    monkeypatch.delattr(RemoteAction, "_validate_action_result")
    monkeypatch.setattr(rasa_speedups, "_installed", False)
    assert rasa_speedups.install() is False
    assert "slow way" in caplog.text
