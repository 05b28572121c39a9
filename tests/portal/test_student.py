"""The student's area: chat page, chat token, chat history, own data only."""
from __future__ import annotations

from bot import reflections
from bot.portal import chat_history
from bot.tokens import verify_chat_token
from bot.weeks import iso_week
from tests.portal.helpers import add_event


def test_chat_page_has_container_and_script(portal_client):
    page = portal_client("student-1").get("/student/chat").get_data(as_text=True)
    assert '<div id="chat"' in page
    assert 'data-rasa-url="http://localhost:5005"' in page  # the script fetches a token per connection
    assert '<script src="/static/chat.js"></script>' in page


def test_chat_token_is_for_the_logged_in_student(portal_client):
    response = portal_client("student-1").get("/student/chat/token")
    assert response.status_code == 200
    body = response.get_json()
    assert verify_chat_token(body["token"]) == "student-1"
    assert set(body) == {"token"}  # where to connect is in the page (data-rasa-url)


def without_time(messages):
    return [{k: v for k, v in m.items() if k != "ts"} for m in messages]


def test_chat_history_only_own_messages(portal_client, tracker_store):
    add_event(tracker_store, "student-1", "user", {"text": "/greet", "timestamp": 1700000000.0})
    add_event(tracker_store, "student-1", "user", {"text": "Hoi coach", "timestamp": 1700000001.5})
    add_event(
        tracker_store,
        "student-1",
        "bot",
        {"text": "Wil je dit als doel?", "data": {"buttons": [{"title": "Ja, zet als doel", "payload": "/affirm"}]}},
    )
    add_event(tracker_store, "student-1", "user", {"text": "/affirm"})
    add_event(tracker_store, "student-1", "action", {"name": "action_listen"})
    add_event(tracker_store, "student-2", "user", {"text": "Bericht van Mo"})
    messages = portal_client("student-1").get("/student/chat/history").get_json()
    assert messages[0]["ts"] == 1700000001.5, "the automatic /greet opener is not shown"
    assert without_time(messages) == [
        {"from": "student", "text": "Hoi coach", "buttons": []},
        {"from": "bot", "text": "Wil je dit als doel?", "buttons": [{"title": "Ja, zet als doel", "payload": "/affirm"}]},
        {"from": "student", "text": "Ja, zet als doel", "buttons": []},
    ]
    assert without_time(portal_client("student-2").get("/student/chat/history").get_json()) == [
        {"from": "student", "text": "Bericht van Mo", "buttons": []}
    ]


def test_chat_history_keeps_the_last_50(portal_client, tracker_store):
    for number in range(60):
        add_event(tracker_store, "student-1", "user", {"text": f"bericht {number}"})
    messages = portal_client("student-1").get("/student/chat/history").get_json()
    assert len(messages) == 50
    assert messages[0]["text"] == "bericht 10" and messages[-1]["text"] == "bericht 59"


def test_chat_history_before_rasa_stored_anything(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert chat_history.recent_messages(url, "student-1") == []
    chat_history.reset_engines()


def test_own_data_page(portal_client):
    reflections.save_reflection(
        "student-1", iso_week(), {"went_well": "Klant geholpen", "difficult": "Vroeg opstaan"}, ["went_well"]
    )
    reflections.save_reflection("student-2", iso_week(), {"went_well": "Kinderen voorgelezen"}, ["went_well"])
    reflections.add_goal("student-1", "Elke dag iets vragen", "ask_proactive")
    page = portal_client("student-1").get("/student/data").get_data(as_text=True)
    assert "Klant geholpen" in page and "Vroeg opstaan" in page  # own private answer: yes
    assert "Elke dag iets vragen" in page
    assert "gedeeld" in page and "privé" in page
    assert "Nog niet gelezen" in page
    assert "Kinderen voorgelezen" not in page
