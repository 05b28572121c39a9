from actions.answers import ActionHandleAffirm, ActionHandleDeny
from actions.conversation import ActionFallback, ActionMood, ActionOutOfScope
from actions.goals import ActionRecordGoalOutcome
from actions.privacy import ActionPrivacy
from actions.session import ActionGreet, ActionSessionStart
from bot import reflections
from bot.db import session_scope
from bot.models import UnansweredQuestion
from bot.weeks import iso_week, shift_week
from tests.actions.test_advice import slot_events
from tests.conftest import texts

SEEN = {"privacy_notice_shown": True}


async def test_session_start_carries_slots_but_not_the_phase(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(slots={"phase": "during", "leerweg": "BOL", "refl_went_well": "iets"})
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    carried = slot_events(events)
    assert carried == {"leerweg": "BOL", "refl_went_well": "iets"}
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"


async def test_greet_asks_about_last_weeks_goal(people, tracker_factory, dispatcher, domain):
    reflections.add_goal("student-1", "Elke dag om hulp vragen", "ask_proactive", week=shift_week(iso_week(), -1))
    events = await ActionGreet().run(dispatcher, tracker_factory("student-1", "hoi", "greet", slots=SEEN), domain)
    assert "Hoi Sanne" in texts(dispatcher)[0]
    assert slot_events(events)["goal_followup_ready"] is True


async def test_greet_shows_supervisor_reply_once(people, tracker_factory, dispatcher, domain):
    from bot.models import Reflection, SupervisorComment, User

    saved = reflections.save_reflection("student-1", iso_week(), {"went_well": "goed gegaan vandaag"}, ["went_well"])
    with session_scope() as session:
        supervisor = session.query(User).filter_by(external_id="sup-1").one()
        session.add(SupervisorComment(reflection_id=saved.id, supervisor_id=supervisor.id, text="Goed gedaan, Sanne!"))
    await ActionGreet().run(dispatcher, tracker_factory("student-1", "hoi", "greet", slots=SEEN), domain)
    assert any("Je praktijkbegeleider schreef" in t and "Goed gedaan" in t for t in texts(dispatcher))
    again = type(dispatcher)()
    await ActionGreet().run(again, tracker_factory("student-1", "hoi", "greet", slots=SEEN), domain)
    assert not any("Je praktijkbegeleider schreef" in t for t in texts(again))


async def test_goal_outcome_is_recorded(people, tracker_factory, dispatcher, domain):
    goal_id = reflections.add_goal("student-1", "Om feedback vragen", "ask_feedback", week=shift_week(iso_week(), -1))
    tracker = tracker_factory("student-1", "niet gelukt", slots={"goal_followup_id": float(goal_id), "goal_outcome": "niet gelukt, te druk"})
    await ActionRecordGoalOutcome().run(dispatcher, tracker, domain)
    assert "Wat hield je tegen" in texts(dispatcher)[0]
    assert reflections.goal_to_follow_up("student-1") is None
    assert reflections.recent_goals("student-1")[0].outcome == "niet gelukt, te druk"


async def test_affirm_saves_the_offered_goal(people, tracker_factory, dispatcher, domain, seeded_content):
    tracker = tracker_factory("student-1", "ja", "affirm", slots={**SEEN, "awaiting": "goal", "offered_goal": "Vraag om feedback", "offered_goal_topic": "ask_feedback"})
    events = await ActionHandleAffirm().run(dispatcher, tracker, domain)
    assert [g.text for g in reflections.recent_goals("student-1")] == ["Vraag om feedback"]
    assert slot_events(events)["awaiting"] is None
    assert any(m.get("buttons") for m in dispatcher.messages), "offers related topics"


async def test_deny_without_question_is_friendly(tracker_factory, dispatcher, domain):
    await ActionHandleDeny().run(dispatcher, tracker_factory("x", "nee", "deny", slots=SEEN), domain)
    assert texts(dispatcher) == ["Oké! Laat het weten als ik je ergens mee kan helpen."]


async def test_privacy_explains_and_delete_all_needs_confirmation(people, tracker_factory, dispatcher, domain):
    reflections.save_reflection("student-1", iso_week(), {"went_well": "prima week gehad"}, [])
    events = await ActionPrivacy().run(dispatcher, tracker_factory("student-1", "verwijder al mijn reflecties", "ask_privacy"), domain)
    assert "Weet je het zeker" in texts(dispatcher)[0]
    assert slot_events(events)["awaiting"] == "delete_all"
    assert reflections.recent_reflections("student-1")
    confirm = type(dispatcher)()
    await ActionHandleAffirm().run(confirm, tracker_factory("student-1", "ja", "affirm", slots={**SEEN, "awaiting": "delete_all"}), domain)
    assert reflections.recent_reflections("student-1") == []


async def test_privacy_explanation_names_who_sees_what(people, tracker_factory, dispatcher, domain):
    await ActionPrivacy().run(dispatcher, tracker_factory("student-1", "wie leest dit", "ask_privacy"), domain)
    joined = " ".join(texts(dispatcher))
    assert "praktijkbegeleider ziet alleen" in joined and "stagecoördinator" in joined
    assert "Mijn gegevens" in joined, "points to the portal page with the access log, export and deletion"


async def test_fallback_records_question_without_identity(database, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "mag ik mijn hond meenemen naar de kapsalon", "nlu_fallback",
                              slots=SEEN, extra={"intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_expectations", "confidence": 0.31}]})
    await ActionFallback().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["buttons"], "never a dead end"
    with session_scope() as session:
        row = session.query(UnansweredQuestion).one()
        assert row.text.startswith("mag ik mijn hond") and row.predicted_intent == "ask_expectations"
        assert "student-1" not in " ".join(str(v) for v in row.__dict__.values())


async def test_out_of_scope_only_records_internship_questions(database, tracker_factory, dispatcher, domain):
    await ActionOutOfScope().run(dispatcher, tracker_factory("s", "wat voor weer wordt het", "out_of_scope", slots=SEEN), domain)
    await ActionOutOfScope().run(dispatcher, tracker_factory("s", "krijg ik reiskosten van mijn stagebedrijf", "out_of_scope", slots=SEEN), domain)
    with session_scope() as session:
        assert [q.text for q in session.query(UnansweredQuestion)] == ["krijg ik reiskosten van mijn stagebedrijf"]


async def test_bad_mood_offers_help_including_unsafe_option(tracker_factory, dispatcher, domain):
    await ActionMood().run(dispatcher, tracker_factory("s", "kut week", "mood_bad", slots=SEEN), domain)
    payloads = [b["payload"] for m in dispatcher.messages for b in (m.get("buttons") or [])]
    assert "/report_unsafe" in payloads
