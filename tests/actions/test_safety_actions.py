import pytest

from actions.advice import ActionCoach
from actions.answers import ActionHandleAffirm, ActionHandleDeny
from actions.conversation import ActionFallback, ActionMood, ActionOutOfScope
from actions.privacy import ActionPrivacy
from actions.safety import ActionSafety, ActionSaveSafetyDetails
from bot.safety import reports_for_coordinators
from tests.actions.test_advice import slot_events
from tests.conftest import texts

CASES = {
    "bullying": "ze pesten me elke dag op mijn stage",
    "harassment": "mijn begeleider zit steeds aan me",
    "discrimination": "mijn collega maakt racistische opmerkingen over mij",
    "threat": "mijn baas dreigt me te slaan",
    "injury": "ik heb me verbrand aan de machine en er was geen EHBO",
    "inappropriate_contact": "mijn begeleider stuurt me 's nachts berichtjes op snapchat",
    "self_harm": "ik wil er een eind aan maken",
}


@pytest.mark.parametrize("kind,text", CASES.items())
async def test_each_kind_gets_help_and_a_school_only_report(kind, text, people, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", text, "report_unsafe")
    events = await ActionSafety().run(dispatcher, tracker, domain)
    joined = " ".join(texts(dispatcher))
    assert "112" in joined and "stagecoördinator van school" in joined
    assert "praktijkbegeleider en je stagebedrijf krijgen het niet te zien" in joined
    assert ("0800-0113" in joined) == (kind == "self_harm")
    reports = reports_for_coordinators()["reports"]
    assert len(reports) == 1 and reports[0].message == text and reports[0].student_id is not None
    assert slot_events(events)["awaiting"] == "safety_details"


async def test_unsafe_during_form_closes_it(people, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "ze pesten me", "report_unsafe", active_loop="reflection_form",
                              extra={"intent": {"name": "report_unsafe", "confidence": 1.0}, "safety_categories": ["bullying"]})
    events = await ActionSafety().run(dispatcher, tracker, domain)
    assert events[0]["event"] == "active_loop" and events[0]["name"] is None


async def test_unsure_model_only_prediction_in_a_form_is_confirmed_first(people, tracker_factory, dispatcher, domain):
    text = "ik heb uit mezelf de handdoeken gevouwen"
    tracker = tracker_factory("student-1", text, "report_unsafe", active_loop="reflection_form",
                              slots={"requested_slot": "refl_initiative"},
                              extra={"intent": {"name": "report_unsafe", "confidence": 0.8}})
    events = await ActionSafety().run(dispatcher, tracker, domain)
    assert "zeker weten" in texts(dispatcher)[0]
    assert reports_for_coordinators()["reports"] == []
    slots = slot_events(events)
    deny = type(dispatcher)()
    resumed = await ActionHandleDeny().run(deny, tracker_factory("student-1", "nee", "deny", slots={**slots, "privacy_notice_shown": True}), domain)
    assert {"event": "slot", "timestamp": None, "name": "refl_initiative", "value": text} in resumed
    assert resumed[-1]["name"] == "reflection_form"


async def test_confirmed_unsure_prediction_is_reported(people, tracker_factory, dispatcher, domain):
    slots = {"awaiting": "safety_confirmed", "safety_candidate": "er gebeurt iets raars met mijn baas", "privacy_notice_shown": True}
    await ActionSafety().run(dispatcher, tracker_factory("student-1", "/affirm", "affirm", slots=slots), domain)
    assert reports_for_coordinators()["reports"][0].message == "er gebeurt iets raars met mijn baas"


async def test_details_are_added_to_the_report(people, tracker_factory, dispatcher, domain):
    events = await ActionSafety().run(dispatcher, tracker_factory("student-1", "ik word gepest", "report_unsafe"), domain)
    report_id = slot_events(events)["safety_report_id"]
    tracker = tracker_factory("student-1", "sinds maandag", slots={"safety_report_id": report_id, "safety_details": "sinds maandag al"})
    await ActionSaveSafetyDetails().run(dispatcher, tracker, domain)
    assert reports_for_coordinators()["reports"][0].details == "sinds maandag al"


async def test_details_cannot_be_added_from_another_conversation(people, tracker_factory, dispatcher, domain):
    events = await ActionSafety().run(dispatcher, tracker_factory("student-1", "ik word gepest", "report_unsafe"), domain)
    report_id = slot_events(events)["safety_report_id"]
    other = tracker_factory("student-2", "x", slots={"safety_report_id": report_id, "safety_details": "ingebroken"})
    await ActionSaveSafetyDetails().run(dispatcher, other, domain)
    assert reports_for_coordinators()["reports"][0].details is None


async def test_suspected_unsafe_outside_a_form_asks_before_reporting(people, tracker_factory, dispatcher, domain):
    text = "ik verdien het gewoon na wat ik deed"
    tracker = tracker_factory("student-1", text, "report_unsafe",
                              extra={"intent": {"name": "report_unsafe", "confidence": 0.24}, "safety_suspected": True})
    events = await ActionSafety().run(dispatcher, tracker, domain)
    assert "zeker weten" in texts(dispatcher)[0]
    assert reports_for_coordinators()["reports"] == []
    slots = slot_events(events)
    assert slots["awaiting"] == "safety_confirm" and slots["safety_candidate"] == text


async def test_a_denied_suspicion_makes_no_report_and_offers_the_topics(people, tracker_factory, dispatcher, domain):
    slots = {"awaiting": "safety_confirm", "safety_candidate": "hoeveel uur slaap heb je nodig", "privacy_notice_shown": True}
    await ActionHandleDeny().run(dispatcher, tracker_factory("student-1", "nee", "deny", slots=slots), domain)
    assert reports_for_coordinators()["reports"] == []
    assert "Fijn om te horen." in texts(dispatcher)
    assert any(m.get("response") == "utter_capabilities" for m in dispatcher.messages)


async def test_a_confirmed_suspicion_is_reported_with_the_113_line(people, tracker_factory, dispatcher, domain):
    slots = {"awaiting": "safety_confirm", "safety_candidate": "ik verdien het gewoon na wat ik deed", "privacy_notice_shown": True}
    affirm_events = await ActionHandleAffirm().run(dispatcher, tracker_factory("student-1", "/affirm", "affirm", slots=slots), domain)
    confirmed = {**slots, **slot_events(affirm_events)}
    await ActionSafety().run(dispatcher, tracker_factory("student-1", "/affirm", "affirm", slots=confirmed), domain)
    assert "0800-0113" in " ".join(texts(dispatcher))
    assert reports_for_coordinators()["reports"][0].message == "ik verdien het gewoon na wat ik deed"


def answer_after(action_name: str, tracker):
    """The tracker's history: `action_name` ran, then the student typed the latest message."""
    tracker.events = [
        {"event": "user", "text": "eerdere melding"},
        {"event": "action", "name": action_name},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": tracker.latest_message["text"]},
    ]
    return tracker


async def make_report(tracker_factory, dispatcher, domain) -> dict:
    events = await ActionSafety().run(dispatcher, tracker_factory("student-1", "mijn collega zit steeds aan me", "report_unsafe"), domain)
    return {**slot_events(events), "privacy_notice_shown": True}


async def test_details_typed_right_after_a_report_are_added_to_it(people, tracker_factory, dispatcher, domain):
    slots = await make_report(tracker_factory, dispatcher, domain)
    reply = type(dispatcher)()
    tracker = answer_after("action_safety", tracker_factory("student-1", "hij deed het vandaag weer", "out_of_scope", slots=slots))
    events = await ActionOutOfScope().run(reply, tracker, domain)
    assert texts(reply) == ["utter_safety_details_saved"]
    assert slot_events(events)["awaiting"] is None
    reports = reports_for_coordinators()["reports"]
    assert len(reports) == 1 and reports[0].details == "hij deed het vandaag weer"


async def test_an_unsafe_follow_up_joins_the_report_with_113_when_needed(people, tracker_factory, dispatcher, domain):
    slots = await make_report(tracker_factory, dispatcher, domain)
    reply = type(dispatcher)()
    tracker = answer_after("action_safety", tracker_factory("student-1", "en nu wil ik er niet meer zijn", "report_unsafe", slots=slots))
    await ActionSafety().run(reply, tracker, domain)
    assert texts(reply)[0] == "utter_safety_details_saved" and "0800-0113" in " ".join(texts(reply))
    reports = reports_for_coordinators()["reports"]
    assert len(reports) == 1 and "niet meer zijn" in reports[0].details


@pytest.mark.parametrize("action, intent", [
    (ActionCoach, "ask_relationship"),
    (ActionCoach, "ask_feedback"),
    (ActionMood, "mood_bad"),
    (ActionFallback, "nlu_fallback"),
    (ActionSafety, "report_unsafe"),
])
async def test_details_join_the_report_whatever_the_nlu_made_of_them(action, intent, people, tracker_factory, dispatcher, domain):
    slots = await make_report(tracker_factory, dispatcher, domain)
    reply = type(dispatcher)()
    tracker = answer_after("action_safety", tracker_factory("student-1", "hij zegt dat ik niet zo moeilijk moet doen", intent, slots=slots))
    events = await action().run(reply, tracker, domain)
    assert texts(reply) == ["utter_safety_details_saved"]
    assert slot_events(events)["awaiting"] is None
    assert reports_for_coordinators()["reports"][0].details == "hij zegt dat ik niet zo moeilijk moet doen"


@pytest.mark.parametrize("action, intent, text", [
    (ActionPrivacy, "ask_privacy", "wie kan mijn melding allemaal lezen"),
    (ActionHandleDeny, "deny", "nee nu even niet"),
])
async def test_questions_and_answers_right_after_a_report_keep_their_meaning(action, intent, text, people, tracker_factory, dispatcher, domain):
    slots = await make_report(tracker_factory, dispatcher, domain)
    reply = type(dispatcher)()
    await action().run(reply, answer_after("action_safety", tracker_factory("student-1", text, intent, slots=slots)), domain)
    assert "utter_safety_details_saved" not in texts(reply) and texts(reply)
    assert reports_for_coordinators()["reports"][0].details is None


@pytest.mark.parametrize("previous_action, text", [
    ("action_coach", "hij deed het vandaag weer"),  # later in the chat: an ordinary fallback
    ("action_safety", "oké top"),  # too short to be an addition
    ("action_safety", "/ask_feedback"),  # a button
])
async def test_other_messages_are_not_added_to_a_report(previous_action, text, people, tracker_factory, dispatcher, domain):
    slots = await make_report(tracker_factory, dispatcher, domain)
    reply = type(dispatcher)()
    tracker = answer_after(previous_action, tracker_factory("student-1", text, "nlu_fallback", slots=slots))
    await ActionFallback().run(reply, tracker, domain)
    assert "utter_safety_details_saved" not in texts(reply)
    assert reports_for_coordinators()["reports"][0].details is None


async def test_a_soft_signal_is_asked_about_before_any_report(people, tracker_factory, dispatcher, domain):
    tracker = tracker_factory("student-1", "sorry voor alles", "report_unsafe",
                              extra={"intent": {"name": "report_unsafe", "confidence": 1.0}, "safety_suspected": True})
    events = await ActionSafety().run(dispatcher, tracker, domain)
    assert "zeker weten" in texts(dispatcher)[0]
    assert reports_for_coordinators()["reports"] == []
    assert slot_events(events)["awaiting"] == "safety_confirm"
