"""Portal timings over real HTTP, and how fast a coordinator's edit reaches the chat.

* `generate_supervisor_load`: one supervisor with `interns` interns, each with
  `weeks` weekly reflections (bulk ORM inserts in the bench database, a mix of
  share choices, read receipts and supervisor comments like a real school year).
* `time_pages`: p50/p95 of the supervisor overview and of one intern's weekly log,
  fetched with a logged-in session (real login form, CSRF token) from the running
  portal process (waitress), after a few unmeasured requests.
* `content_live`: a coordinator logs in, opens the advice editor, changes the "why"
  text and publishes (the real form post); the clock starts when the publish is
  sent and stops when a chat reply for that topic shows the new text.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import time
import uuid
from typing import Callable, Dict, List, Optional

import requests

from scripts.bench.scenario import reply_text
from scripts.bench.stats import summarize

PASSWORD = "bench-wachtwoord-2024"
SHARE_MIXES = ("went_well,difficult,feedback,initiative,next_goal,mood", "next_goal,mood", "")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

PHRASES = {
    "went_well": ["Ik heb zelf een klant geholpen", "Het teamoverleg ging goed", "Ik durfde vragen te stellen"],
    "difficult": ["Het was druk en ik wist niet wat ik moest doen", "Ik vond het lastig om feedback te vragen"],
    "feedback": ["Mijn begeleider zei dat ik zelfstandiger werk", "Ik moet beter op tijd zijn"],
    "initiative": ["Ik heb zelf de voorraad aangevuld", "Ik heb een nieuw idee voorgesteld"],
    "next_goal": ["Elke dag een vraag stellen", "Op tijd beginnen", "Zelf een taak oppakken"],
}


def generate_supervisor_load(interns: int = 30, weeks: int = 40, seed: int = 7) -> Dict[str, object]:
    """Creates the supervisor `bench-sup` with interns `bench-int-NN` and their
    reflections; returns the ids to log in with. Runs in this process against
    DATABASE_URL (the bench database)."""
    from bot.db import session_scope
    from bot.models import ReadReceipt, Reflection, SupervisorComment, User
    from bot.passwords import set_password
    from bot.users import import_csv_bytes
    from bot.weeks import iso_week, shift_week

    rows = ["role,external_id,name,email,supervisor_external_id,leerweg,company",
            "supervisor,bench-sup,Bram Begeleider,,,,",
            "coordinator,bench-coord,Cora Coordinator,,,,"]
    ids = [f"bench-int-{n:02d}" for n in range(1, interns + 1)]
    for n, external_id in enumerate(ids, start=1):
        rows.append(f"student,{external_id},Stagiair {n:02d},,bench-sup,{'BOL' if n % 3 else 'BBL'},Bedrijf {n:02d}")
    import_csv_bytes(("\n".join(rows) + "\n").encode())
    set_password("bench-sup", PASSWORD)
    set_password("bench-coord", PASSWORD)

    rng = random.Random(seed)
    this_week = iso_week()
    now = dt.datetime.utcnow()
    started = time.perf_counter()
    with session_scope() as db:
        supervisor = db.query(User).filter(User.external_id == "bench-sup").one()
        students = db.query(User).filter(User.external_id.in_(ids)).all()
        existing = db.query(Reflection).filter(Reflection.student_id.in_([s.id for s in students])).count()
        if existing == 0:
            reflections = []
            for student in students:
                for back in range(weeks):
                    answers = {name: f"{rng.choice(options)} (week -{back})" for name, options in PHRASES.items()}
                    reflections.append(
                        Reflection(
                            student_id=student.id,
                            iso_week=shift_week(this_week, -back),
                            mood=rng.randint(1, 5),
                            shared_fields=rng.choice(SHARE_MIXES),
                            created_at=now - dt.timedelta(weeks=back),
                            updated_at=now - dt.timedelta(weeks=back),
                            **answers,
                        )
                    )
            db.add_all(reflections)
            db.flush()
            for reflection in reflections:
                if reflection.shared_fields and rng.random() < 0.7:
                    db.add(ReadReceipt(reflection_id=reflection.id, supervisor_id=supervisor.id))
                    if rng.random() < 0.25:
                        db.add(SupervisorComment(reflection_id=reflection.id, supervisor_id=supervisor.id,
                                                 text="Goed bezig, bespreek dit morgen even met me."))
    return {
        "supervisor": "bench-sup",
        "coordinator": "bench-coord",
        "interns": ids,
        "interns_count": interns,
        "weeks": weeks,
        "reflections": interns * weeks,
        "generate_seconds": round(time.perf_counter() - started, 2),
    }


class PortalSession:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()

    def csrf(self, path: str) -> str:
        response = self.http.get(self.base_url + path, timeout=30)
        response.raise_for_status()
        match = _CSRF.search(response.text)
        if not match:
            raise RuntimeError(f"no CSRF token on {path}")
        return match.group(1)

    def login(self, login: str, password: str = PASSWORD) -> None:
        token = self.csrf("/login")
        response = self.http.post(
            self.base_url + "/login",
            data={"login": login, "password": password, "csrf_token": token},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login as {login} failed: HTTP {response.status_code}")

    def timed_get(self, path: str) -> float:
        started = time.perf_counter()
        response = self.http.get(self.base_url + path, timeout=60)
        body = response.content  # the whole page, as a browser waits for it
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or not body:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
        return elapsed


def time_pages(portal_url: str, load: Dict[str, object], requests_per_page: int = 40, warmup: int = 3) -> Dict:
    session = PortalSession(portal_url)
    session.login(str(load["supervisor"]))
    pages = {
        "supervisor_overview": "/supervisor",
        "intern_weekly_log": f"/supervisor/intern/{load['interns'][0]}",
    }
    result: Dict[str, object] = {
        "data": {k: load[k] for k in ("interns_count", "weeks", "reflections")},
        "requests_per_page": requests_per_page,
    }
    for name, path in pages.items():
        for _ in range(warmup):
            session.timed_get(path)
        samples = [session.timed_get(path) for _ in range(requests_per_page)]
        result[name] = dict(summarize(samples), path=path)
    return result


def _current_form(key) -> Dict[str, str]:
    from bot import content
    from bot.portal import content_form

    versions = content.history(key)
    published = next(v for v in versions if v.status == "published")
    return content_form.form_from_body(published.body)


def publish_why(session: PortalSession, key, why: str) -> float:
    """Opens the editor (not timed), then posts the changed text with action=publish;
    returns the perf_counter() at which the post was sent."""
    path = "/coordinator/content/{}/{}/{}".format(*key)
    token = session.csrf(path)
    form = _current_form(key)
    form.update(why=why, action="publish", csrf_token=token)
    sent = time.perf_counter()
    response = session.http.post(session.base_url + path, data=form, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"publish failed: HTTP {response.status_code}")
    return sent


async def ask_until(chat, question: str, marker: str, timeout: float, quiet: float = 1.5):
    """Asks `question` until a reply contains `marker`. Returns (arrival time of that
    reply or None, questions asked). An answer is over at `bot_turn_done` (or after
    `quiet` seconds without a reply); the rest of the answer that shows the marker is
    read too, so nothing of it is left for the next trial."""
    deadline = time.perf_counter() + timeout
    asked = 0
    found: Optional[float] = None
    while found is None and time.perf_counter() < deadline:
        asked += 1
        await chat.send(question)
        while True:
            try:
                arrived, kind, message = await asyncio.wait_for(chat.replies.get(), quiet)
            except asyncio.TimeoutError:
                break
            if kind == "done":
                break  # the answer is complete (with the new text, or without it: ask again)
            if found is None and marker in reply_text(message):
                found = arrived
    return found, asked


async def content_live(
    portal_url: str,
    make_chat: Callable[[], object],
    token: str,
    leerweg: str = "BOL",
    trials: int = 3,
    coordinator: str = "bench-coord",
) -> Dict:
    from bot import content

    topic, question = "ask_expectations", '/ask_expectations{"phase":"during"}'
    advice = content.get_advice(topic, "during", leerweg)
    key = (advice.topic, advice.phase, advice.leerweg)
    session = PortalSession(portal_url)
    await asyncio.to_thread(session.login, coordinator)
    chat = make_chat()
    samples: List[Dict[str, float]] = []
    try:
        await chat.connect(token)
        await ask_until(chat, question, "\x00never", timeout=0.1)  # one ordinary answer first
        await asyncio.sleep(0.5)
        while not chat.replies.empty():
            chat.replies.get_nowait()
        for trial in range(trials):
            marker = f"Nieuwe uitleg van de coördinator ({uuid.uuid4().hex[:8]})."
            sent = await asyncio.to_thread(publish_why, session, key, marker)
            published = time.perf_counter()
            arrived, asked = await ask_until(chat, question, marker, timeout=30)
            samples.append(
                {
                    "publish_http_ms": round((published - sent) * 1000, 1),
                    "live_seconds": None if arrived is None else round(arrived - sent, 3),
                    "questions_asked": asked,
                }
            )
    finally:
        await chat.close()
    lives = [s["live_seconds"] for s in samples]
    return {
        "key": "/".join(key),
        "samples": samples,
        "seconds_max": None if None in lives or not lives else max(lives),
        "seconds_median": None if None in lives or not lives else sorted(lives)[len(lives) // 2],
    }
