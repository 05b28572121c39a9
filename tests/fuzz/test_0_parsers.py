"""The parsers that stand between untrusted input and the rest: no stack needed.

Each takes anything (any bytes, any JSON value, any YAML value) and either
answers or refuses with its own error, never an unexpected exception, and its
messages stay short.
"""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content_schema import validate_document
from bot.parsing import known_leerweg, known_phase, normalise, parse_confirmation, parse_mood, parse_share, phase_in_question
from bot.topics import PHASES
from bot.users import UserImportError, parse_csv
from tests.fuzz.strategies import content_documents, messages, yaml_value

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300)
@given(value=json_values)
def test_entity_values_from_a_payload_are_only_known_phases_or_leerwegen(value):
    assert known_phase(value) in (None, *PHASES)
    assert known_leerweg(value) in (None, "BOL", "BBL")


@settings(max_examples=300)
@given(text=messages())
def test_answer_parsers_take_any_message(text):
    normalise(text)
    assert parse_mood(text) in (None, 1, 2, 3, 4, 5)
    assert parse_share(text) in (None, "all", "goal_mood", "none")
    assert parse_confirmation(text)[0] in (None, "save", "edit")
    assert phase_in_question(text) in (None, *PHASES)


@settings(max_examples=300)
@given(data=st.binary(max_size=600) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_users_csv_parser_refuses_with_its_own_error_only(data):
    try:
        parse_csv(data)
    except UserImportError as error:
        assert error.errors and all(len(e) < 400 for e in error.errors), error.errors


@settings(max_examples=300)
@given(document=yaml_value | content_documents())
def test_content_validation_takes_any_yaml_value(document):
    errors = validate_document(document, "f.yml")
    assert all(isinstance(e, str) and len(e) < 600 for e in errors), errors


def test_content_validation_of_an_alias_bomb_stays_small():
    """What yaml.safe_load makes of the "billion laughs" (shared lists, not copies):
    the messages must not spell out the nested lists."""
    bomb = ["lol"] * 9
    for _ in range(5):  # 9**6 strings; written out that is megabytes (the real bomb: gigabytes)
        bomb = [bomb] * 9
    errors = validate_document({"topic": bomb, "label": bomb, "entries": [{"phase": bomb, "leerweg": bomb}]}, "b.yml")
    assert errors and sum(len(e) for e in errors) < 3000


@settings(max_examples=200)
@given(
    body=st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.fixed_dictionaries({}, optional={"sender": json_values, "message": json_values, "metadata": json_values}).map(
        lambda v: json.dumps(v).encode()
    )
)
def test_rest_body_check_accepts_exactly_well_formed_messages(body):
    from bot.channels import rest_body_problem

    problem = rest_body_problem(body)
    try:
        data = json.loads(body)
    except ValueError:
        assert problem
        return
    well_formed = (
        isinstance(data, dict)
        and isinstance(data.get("sender"), str)
        and data["sender"].strip() != ""
        and isinstance(data.get("message"), str)
        and isinstance(data.get("metadata"), (dict, type(None)))
    )
    assert (problem is None) == well_formed, (body, problem)


@settings(max_examples=300)
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda pre, name, post: pre + "/" + name + post,
            st.sampled_from(["", " ", "\n", "\t "]),
            st.sampled_from(["restart", " restart ", "session_start", "back", "greet", "restart now", "Restart", "restart\n"]),
            st.sampled_from(["", "@0.9", '{"a": 1}', "@1{}", " ", "{", "x"]),
        ),
    )
)
def test_control_commands_are_recognised_as_rasa_parses_them(text):
    """bot.channels refuses exactly what Rasa would run as /restart, /session_start or /back."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    from bot.channels import CONTROL_INTENTS, is_control_command

    domain = Domain.from_dict({"intents": ["greet", *CONTROL_INTENTS]})
    parsed = YAMLStoryReader.unpack_regex_message(Message({"text": text}), domain)
    intent = (parsed.get("intent") or {}).get("name")
    assert is_control_command(text) == (intent in CONTROL_INTENTS), (text, intent)
