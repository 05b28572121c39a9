import pytest
from rasa_sdk.events import SlotSet

from actions.advice import ActionCoach
from bot import analytics, content
from bot.models import TopicRequest, UnansweredQuestion
from bot.db import session_scope
from bot.topics import COACHING_TOPICS
from tests.conftest import texts


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize("topic", COACHING_TOPICS)
async def test_every_topic_gets_tips_why_and_a_goal_offer(topic, people, seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "vraag", topic, slots={"phase": "during", "privacy_notice_shown": True})
    events = await ActionCoach().run(dispatcher, tracker, domain)
    advice = content.get_advice(topic, "during", "BOL")
    sent = texts(dispatcher)
    assert sent[0] in advice.acknowledge
    assert any(advice.why in t for t in sent)
    assert all(len(t) <= 400 for t in sent)
    assert dispatcher.messages[-1]["buttons"][0]["payload"] == "/affirm"
    slots = slot_events(events)
    assert slots["awaiting"] == "goal" and slots["offered_goal"] == advice.micro_goal
    with session_scope() as session:
        assert session.query(TopicRequest).filter_by(topic=topic).count() == 1


async def test_unknown_phase_is_asked_with_buttons(people, seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "hoe krijg ik feedback", "ask_feedback", slots={"privacy_notice_shown": True})
    events = await ActionCoach().run(dispatcher, tracker, domain)
    assert "Waar sta je nu" in texts(dispatcher)[0]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/inform{"phase":"before"}', '/inform{"phase":"during"}', '/inform{"phase":"after"}']
    assert slot_events(events)["pending_topic"] == "ask_feedback"


async def test_a_phase_stated_in_the_question_is_used_without_asking(people, seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "ik ben net begonnen, hoe krijg ik feedback", "ask_feedback",
                              slots={"privacy_notice_shown": True})
    events = await ActionCoach().run(dispatcher, tracker, domain)
    assert not any("Waar sta je nu" in t for t in texts(dispatcher))
    assert any(content.get_advice("ask_feedback", "during", "BOL").why in t for t in texts(dispatcher))
    assert slot_events(events)["phase"] == "during"


async def test_inform_answers_the_pending_topic(people, seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory(
        "student-1", '/inform{"phase":"after"}', "inform",
        slots={"pending_topic": "ask_feedback", "privacy_notice_shown": True},
        entities=[{"entity": "phase", "value": "after"}],
    )
    await ActionCoach().run(dispatcher, tracker, domain)
    assert any(content.get_advice("ask_feedback", "after", "BOL").why in t for t in texts(dispatcher))


async def test_leerweg_is_asked_for_unknown_sender_where_it_matters(seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("anonymous", "kans op baan", "ask_job_after_internship",
                              slots={"phase": "after", "privacy_notice_shown": True})
    await ActionCoach().run(dispatcher, tracker, domain)
    assert "BOL" in texts(dispatcher)[0] and "BBL" in texts(dispatcher)[0]


async def test_bbl_student_gets_bbl_content(people, seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-2", "baan na stage", "ask_job_after_internship",
                              slots={"phase": "after", "privacy_notice_shown": True})
    await ActionCoach().run(dispatcher, tracker, domain)
    bbl = content.get_advice("ask_job_after_internship", "after", "BBL")
    assert bbl.leerweg == "BBL"
    assert any(bbl.why in t for t in texts(dispatcher))


async def test_privacy_notice_is_shown_once(people, seeded_content, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "feedback", "ask_feedback", slots={"phase": "during"})
    events = await ActionCoach().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_privacy_notice"
    assert slot_events(events)["privacy_notice_shown"] is True


async def test_database_outage_gives_a_dutch_message(tracker_factory, dispatcher, domain, monkeypatch, tmp_path):
    from bot import config, db

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/missing-dir-is-a-file/db.sqlite")
    (tmp_path / "missing-dir-is-a-file").write_text("not a directory")
    config.reset_settings()
    db.reset_engine()
    try:
        tracker = tracker_factory("student-1", "feedback", "ask_feedback", slots={"privacy_notice_shown": True})
        await ActionCoach().run(dispatcher, tracker, domain)
    finally:
        db.reset_engine()
        config.reset_settings()
    assert "niet om bij mijn gegevens te komen" in texts(dispatcher)[-1]
