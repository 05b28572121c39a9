"""Talking to the running stack the way students and staff do: the REST channel
(development), the authenticated socket.io channel (the portal chat) and the
portal over HTTP with a logged-in session."""
from __future__ import annotations

import csv
import io
import re
import threading
import time
import uuid
from typing import Dict, List, Optional

import requests
import socketio
from sqlalchemy import create_engine, text

from bot.tokens import mint_chat_token
from bot.users import HEADER, import_csv_bytes

SOCKET_TIMEOUT = 90


def new_student(name: str = "Fuzz Student", supervisor: str = "sup-1", prefix: str = "fz") -> str:
    """A fresh, active student (own conversation, not rate limited by earlier tests)."""
    external_id = f"{prefix}-{uuid.uuid4().hex[:10]}"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerow(["student", external_id, name, "", supervisor, "BOL", "Bakkerij De Korenaar"])
    import_csv_bytes(out.getvalue().encode())
    return external_id


class SocketChat:
    """One open portal chat (socket.io, polling transport, signed token).

    `say` uses a socket.io acknowledgement: the channel's handler returns only
    after Rasa has processed the message, and the server sends the bot's messages
    before the acknowledgement, so every reply to this message is in by then.
    """

    def __init__(self, rasa_port: int, external_id: str):
        self.external_id = external_id
        self.received: List[Dict] = []
        self.throttled = 0
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.received.append)
        self.client.connect(
            f"http://127.0.0.1:{rasa_port}",
            auth={"token": mint_chat_token(external_id)},
            socketio_path="/socket.io",
            transports=["polling"],
            wait_timeout=20,
        )

    def send(self, payload) -> List[Dict]:
        """The replies to one message; waits and sends again when the rate limiter
        asks for it (its Dutch answer is counted in `throttled`)."""
        for _ in range(5):
            before = len(self.received)
            self.client.call("user_uttered", payload, timeout=SOCKET_TIMEOUT)
            replies = self.received[before:]
            wait = re.search(r"^Rustig aan even.*Wacht (\d+) seconde", replies[0].get("text") or "") if len(replies) == 1 else None
            if wait is None:
                return replies
            self.throttled += 1
            time.sleep(int(wait.group(1)) + 0.1)
        return replies

    def say(self, message: str) -> List[Dict]:
        return self.send({"message": message})

    def close(self) -> None:
        """Disconnects without waiting: over polling, python-socketio's disconnect()
        waits for the pending long-poll to return (up to the 25 s ping interval)."""
        threading.Thread(target=self.client.disconnect, daemon=True).start()

    def __enter__(self) -> "SocketChat":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def rest_say(rasa_port: int, sender: str, message: str) -> List[Dict]:
    response = requests.post(
        f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=120,
    )
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return response.json()


def texts(replies: List[Dict]) -> List[str]:
    return [r.get("text") or "" for r in replies]


def user_events(tracker_store_url: str, senders: List[str]) -> Dict[str, int]:
    """How many user messages Rasa stored per sender (Rasa's own `events` table)."""
    engine = create_engine(tracker_store_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT sender_id, COUNT(*) FROM events WHERE type_name = 'user' GROUP BY sender_id")
            ).fetchall()
    finally:
        engine.dispose()
    counts = dict(rows)
    return {sender: counts.get(sender, 0) for sender in senders}


class Portal:
    """A browser-like session on the running portal (real login form, CSRF token)."""

    def __init__(self, portal_port: int):
        self.base = f"http://127.0.0.1:{portal_port}"
        self.session = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=60, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.base + path, timeout=60, allow_redirects=False, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        match = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, login: str, password: str) -> "Portal":
        response = self.post("/login", data={"login": login, "password": password, "csrf_token": self.csrf()})
        assert response.status_code == 302, (response.status_code, response.text[:500])
        return self


def wait_until(predicate, timeout: float = 10.0, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def is_control_command(message: str) -> bool:
    from bot.channels import is_control_command as check

    return check(message)


def first(items, default=None) -> Optional[object]:
    return next(iter(items), default)


REFLECTION_ANSWERS = [
    "Ik heb vandaag zelf de kassa opgemaakt en klanten geholpen.",
    "Het was lastig om te vragen wat ik moest doen toen het druk was.",
    "Mijn begeleider zei dat ik goed luister. Dat wil ik zo houden.",
    "Ik heb uit mezelf de voorraad aangevuld in het magazijn.",
    "Volgende week vraag ik elke dag of ik ergens mee kan helpen.",
]


def drive_reflection(chat: SocketChat, ledger, answers: List[str], share: str = "alles delen", max_turns: int = 30):
    """Starts (or resumes) the weekly reflection and answers whatever the form asks
    until it is saved: `answers` are the five open answers; mood 4. Returns the transcript."""
    answers = list(answers) + ["4"]
    current = 1
    said = texts(chat.say("/start_reflection"))
    ledger.count("socket", chat.external_id, reached=True)
    transcript = [("/start_reflection", said)]
    for _ in range(max_turns):
        last = " ".join(said)
        if re.search(r"weekreflectie is (opgeslagen|bijgewerkt)", last):
            return transcript
        question = re.search(r"Vraag (\d) van 6", last)
        if question:
            current = int(question.group(1))
            answer = answers[current - 1]
        elif "iets meer vertellen" in last or "heel lang antwoord" in last or "Kies een cijfer" in last:
            answer = answers[current - 1]
        elif "praktijkbegeleider van deze reflectie zien" in last or "drie knoppen" in last:
            answer = share
        elif "Klopt alles?" in last or "Tik op 'Opslaan'" in last:
            answer = "opslaan"
        elif "zeker weten dat het goed met je gaat" in last or "iets aan toevoegen" in last:
            answer = "/deny"
        elif "al ingevuld" in last:
            answer = "/affirm"
        else:
            answer = "/start_reflection"
        said = texts(chat.say(answer))
        ledger.count("socket", chat.external_id, reached=True)
        transcript.append((answer, said))
    raise AssertionError(f"the reflection was never saved: {transcript[-6:]}")
