import pytest

from actions.reflection import (
    ActionAskReflConfirm,
    ActionPauseForm,
    ActionRetrySave,
    ActionShowReflections,
    ActionStartReflection,
    ActionSubmitReflection,
    ValidateReflectionForm,
)
from bot import reflections
from bot.weeks import iso_week
from tests.actions.test_advice import slot_events
from tests.conftest import texts

FILLED = {
    "refl_week": None,
    "refl_went_well": "ik heb een klant zelf geholpen",
    "refl_difficult": "vragen durven stellen aan collega's",
    "refl_feedback": "compliment gekregen over mijn inzet",
    "refl_initiative": "zelf de kassa opgeruimd na sluiting",
    "refl_next_goal": "elke dag een vraag stellen aan mijn begeleider",
    "refl_mood": "4",
    "refl_share": "goal_mood",
    "refl_confirm": "save",
    "privacy_notice_shown": True,
}


def validate(slot, value, tracker_factory, dispatcher, domain, extra=None):
    slots = {"requested_slot": slot, **(extra or {})}
    tracker = tracker_factory("student-1", str(value), slots=slots, active_loop="reflection_form")
    method = getattr(ValidateReflectionForm(), f"validate_{slot}")
    return method(value, dispatcher, tracker, domain)


def test_open_answer_with_substance_is_accepted(tracker_factory, dispatcher, domain):
    result = validate("refl_went_well", "ik heb zelf een klant geholpen", tracker_factory, dispatcher, domain)
    assert result["refl_went_well"] == "ik heb zelf een klant geholpen"
    assert texts(dispatcher) == []


def test_one_word_answer_gets_a_kind_nudge_once(tracker_factory, dispatcher, domain):
    first = validate("refl_difficult", "niks", tracker_factory, dispatcher, domain)
    assert first["refl_difficult"] is None and "iets meer vertellen" in texts(dispatcher)[0]
    second = validate("refl_difficult", "niks", tracker_factory, dispatcher, domain, {"refl_invalid_count": 1.0})
    assert second["refl_difficult"] == "niks", "no loop: accepted the second time"


def test_too_long_answer_is_refused_with_a_message(tracker_factory, dispatcher, domain):
    result = validate("refl_feedback", "woord " * 400, tracker_factory, dispatcher, domain)
    assert result["refl_feedback"] is None and "korter" in texts(dispatcher)[0]


def test_slots_not_asked_now_are_left_alone(tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "x", slots={"requested_slot": None})
    assert ValidateReflectionForm().validate_refl_went_well("kort", dispatcher, tracker, domain) == {}
    assert texts(dispatcher) == []


@pytest.mark.parametrize("answer,expected", [("4", "4"), ("5 😄", "5"), ("heel slecht", "1"), ("gaat wel", "3")])
def test_mood_is_parsed(answer, expected, tracker_factory, dispatcher, domain):
    assert validate("refl_mood", answer, tracker_factory, dispatcher, domain)["refl_mood"] == expected


def test_mood_unclear_twice_is_skipped_not_looped(tracker_factory, dispatcher, domain):
    assert validate("refl_mood", "banaan", tracker_factory, dispatcher, domain)["refl_mood"] is None
    result = validate("refl_mood", "banaan", tracker_factory, dispatcher, domain, {"refl_invalid_count": 1.0})
    assert result["refl_mood"] == "-"


@pytest.mark.parametrize("answer,expected", [("alles delen", "all"), ("prive houden", "none"), ("alleen doel en stemming", "goal_mood")])
def test_share_choice(answer, expected, tracker_factory, dispatcher, domain):
    assert validate("refl_share", answer, tracker_factory, dispatcher, domain)["refl_share"] == expected


def test_unclear_share_twice_defaults_to_private(tracker_factory, dispatcher, domain):
    result = validate("refl_share", "huh", tracker_factory, dispatcher, domain, {"refl_invalid_count": 1.0})
    assert result["refl_share"] == "none"


def test_confirm_edit_clears_only_that_answer(tracker_factory, dispatcher, domain):
    result = validate("refl_confirm", "wijzig doel", tracker_factory, dispatcher, domain)
    assert result == {"refl_next_goal": None, "refl_confirm": None}


async def test_summary_before_saving_lists_answers_and_sharing(tracker_factory, dispatcher, domain):
    await ActionAskReflConfirm().run(dispatcher, tracker_factory("student-1", slots=FILLED), domain)
    assert "klant zelf geholpen" in texts(dispatcher)[0]
    assert "alleen je doel en stemming" in texts(dispatcher)[1]
    assert dispatcher.messages[1]["buttons"][0]["payload"] == "/affirm"


@pytest.mark.parametrize("answer", ["/affirm", "opslaan", "ja klopt", "is goed zo"])
def test_confirm_save_button_and_typed_save(answer, tracker_factory, dispatcher, domain):
    result = validate("refl_confirm", answer, tracker_factory, dispatcher, domain)
    assert result == {"refl_confirm": "save"}
    assert texts(dispatcher) == []


@pytest.mark.parametrize("answer", ["/deny", "/affirmeren", "hmm", "/pause"])
def test_confirm_unclear_answer_asks_again(answer, tracker_factory, dispatcher, domain):
    result = validate("refl_confirm", answer, tracker_factory, dispatcher, domain)
    assert result == {"refl_confirm": None}
    assert "Opslaan" in texts(dispatcher)[0]


async def test_submit_saves_once_and_is_idempotent(people, tracker_factory, dispatcher, domain):
    slots = {**FILLED, "refl_week": iso_week()}
    events = await ActionSubmitReflection().run(dispatcher, tracker_factory("student-1", slots=slots), domain)
    assert "opgeslagen" in texts(dispatcher)[0]
    assert slot_events(events)["refl_went_well"] is None, "form is reset after saving"
    await ActionSubmitReflection().run(dispatcher, tracker_factory("student-1", slots=slots), domain)
    records = reflections.export_records(student="student-1")
    assert len(records) == 1
    assert records[0]["shared_fields"] == ["next_goal", "mood"]
    assert reflections.export_records(student="student-1", shared_only=True)[0]["went_well"] is None


async def test_submit_during_outage_keeps_answers_and_retry_saves(people, tracker_factory, dispatcher, domain, database, monkeypatch):
    from bot import config, db

    slots = {**FILLED, "refl_week": iso_week()}
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent-dir/forbidden/app.db")
    config.reset_settings()
    db.reset_engine()
    events = await ActionSubmitReflection().run(dispatcher, tracker_factory("student-1", slots=slots), domain)
    assert "niet kwijt" in texts(dispatcher)[0]
    assert slot_events(events) == {"pending_save": True}, "answers stay in the conversation"
    monkeypatch.setenv("DATABASE_URL", database)
    config.reset_settings()
    db.reset_engine()
    retry = type(dispatcher)()
    await ActionRetrySave().run(retry, tracker_factory("student-1", "opnieuw", slots={**slots, "pending_save": True}), domain)
    assert "opgeslagen" in texts(retry)[0]
    assert len(reflections.export_records(student="student-1")) == 1


async def test_start_asks_before_overwriting_this_weeks_reflection(people, tracker_factory, dispatcher, domain):
    reflections.save_reflection("student-1", iso_week(), {"went_well": "al gedaan deze week"}, [])
    events = await ActionStartReflection().run(dispatcher, tracker_factory("student-1", "reflectie", "start_reflection", slots={"privacy_notice_shown": True}), domain)
    slots = slot_events(events)
    assert slots["awaiting"] == "overwrite_reflection" and slots["reflection_ready"] is False


async def test_start_resumes_a_paused_draft(people, tracker_factory, dispatcher, domain):
    slots = {"privacy_notice_shown": True, "refl_week": iso_week(), "refl_went_well": "al een antwoord gegeven"}
    events = await ActionStartReflection().run(dispatcher, tracker_factory("student-1", "reflectie", "start_reflection", slots=slots), domain)
    assert "verder" in texts(dispatcher)[0]
    assert slot_events(events) == {"reflection_ready": True}


async def test_unknown_sender_cannot_start(tracker_factory, dispatcher, domain, database):
    events = await ActionStartReflection().run(dispatcher, tracker_factory("nobody", "reflectie", "start_reflection", slots={"privacy_notice_shown": True}), domain)
    assert slot_events(events) == {"reflection_ready": False}


async def test_pause_closes_the_form(tracker_factory, dispatcher, domain):
    events = await ActionPauseForm().run(dispatcher, tracker_factory("s", "pauze", "pause", active_loop="reflection_form"), domain)
    assert events[0] == {"event": "active_loop", "timestamp": None, "name": None}
    assert dispatcher.messages[0]["response"] == "utter_reflection_paused"


async def test_show_reflections_most_recent_first(people, tracker_factory, dispatcher, domain):
    reflections.save_reflection("student-1", "2026-W40", {"went_well": "oudste week"}, [])
    reflections.save_reflection("student-1", "2026-W41", {"went_well": "nieuwste week"}, [])
    await ActionShowReflections().run(dispatcher, tracker_factory("student-1", "laat zien", "show_reflections", slots={"privacy_notice_shown": True}), domain)
    sent = texts(dispatcher)
    assert "nieuwste" in sent[0] and "oudste" in sent[1]
