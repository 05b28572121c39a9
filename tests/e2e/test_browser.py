"""The three doors, driven in Debian's Chromium through Playwright, against the
real stack (Rasa, actions, portal). Screenshots go to docs/screenshots/."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bot import content, reflections
from bot.passwords import set_password
from bot.weeks import iso_week

pytestmark = [pytest.mark.stack, pytest.mark.browser]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "een-lang-wachtwoord-123"


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"],
        )
        yield instance
        instance.close()


@pytest.fixture
def portal(stack):
    for user in ("student-1", "sup-1", "sup-2", "coord-1"):
        set_password(user, PASSWORD)
    return f"http://localhost:{stack.config.portal_port}"


def login(browser, portal, user, width=1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda message: print(f"[console {user}] {message.type}: {message.text}"))
    page.on("pageerror", lambda error: print(f"[pageerror {user}] {error}"))
    page.goto(f"{portal}/login")
    page.fill("#login", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def bot_texts(page):
    return page.locator(".chat-bot .chat-text").all_inner_texts()


def wait_for_bot(page, contains, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(contains in t for t in bot_texts(page)):
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"no bot message containing {contains!r}: {bot_texts(page)[-5:]}")


def test_student_chats_and_history_survives_reload(browser, portal):
    page = login(browser, portal, "student-1", width=390)  # phone-sized
    page.goto(f"{portal}/student/chat")
    wait_for_bot(page, "Hoi Sanne")
    page.fill("#chat-input", "hoe laat ik zien dat ik initiatief neem?")
    page.keyboard.press("Enter")
    wait_for_bot(page, "Waar sta je nu")
    page.get_by_role("button", name="Tijdens mijn stage").click()
    wait_for_bot(page, "Waarom werkt dit?")
    page.screenshot(path=str(SHOTS / "student-chat.png"))
    page.reload()
    page.wait_for_selector(".chat-student")
    assert any("initiatief" in t for t in page.locator(".chat-student .chat-text").all_inner_texts())
    assert any("Waarom werkt dit?" in t for t in bot_texts(page))
    assert page.locator("[aria-live=polite]").count() >= 1
    page.close()


# Wraps the page's `io()` (socket.io's global, set by its bundle) to keep a handle on
# the socket and count its connects and refused connects; the page itself is unchanged.
WATCH_SOCKET = """
(() => {
  let wrapped;
  Object.defineProperty(window, "io", {
    configurable: true,
    get() { return wrapped; },
    set(io) {
      wrapped = function () {
        const socket = io.apply(this, arguments);
        window.__chat = { socket: socket, connects: 0, refused: 0 };
        socket.on("connect", () => { window.__chat.connects += 1; });
        socket.on("connect_error", () => { window.__chat.refused += 1; });
        return socket;
      };
      Object.assign(wrapped, io);
    },
  });
})();
"""


def ask(page, text, timeout=60) -> int:
    """Types `text` in the chat and waits (up to `timeout` s) for a new bot message;
    returns how many bot messages there were before, for the caller to check."""
    before = len(bot_texts(page))
    page.fill("#chat-input", text)
    page.keyboard.press("Enter")
    deadline = time.monotonic() + timeout
    while len(bot_texts(page)) == before and time.monotonic() < deadline:
        page.wait_for_timeout(300)
    return before


def chat_connects(page, count, timeout=30):
    """Waits until the page's socket connected `count` times (polled from Python:
    the page's CSP forbids the eval that Playwright's wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate("window.__chat ? window.__chat.connects : 0") >= count:
            return
        page.wait_for_timeout(200)
    connects = page.evaluate("window.__chat && window.__chat.connects")
    raise AssertionError(f"the chat connected {connects} time(s), not {count}")


def test_chat_page_fetches_a_fresh_token_for_a_reconnect(browser, portal):
    """A chat token opens one connection only: when the connection drops, socket.io's
    own reconnect must ask the portal for a new token (the `auth` callback)."""
    page = login(browser, portal, "student-1")
    token_requests = []
    page.on("request", lambda r: token_requests.append(r.url) if r.url.endswith("/student/chat/token") else None)
    page.add_init_script(WATCH_SOCKET)
    page.goto(f"{portal}/student/chat")
    chat_connects(page, 1)
    assert len(token_requests) == 1
    page.wait_for_timeout(1500)  # let the history and any greeting arrive
    page.evaluate("window.__chat.socket.io.engine.close()")  # the connection drops
    chat_connects(page, 2)
    assert page.evaluate("window.__chat.refused") == 0  # not refused: the reconnect had a fresh token
    assert len(token_requests) == 2
    assert page.inner_text(".chat-status") == "Verbonden met de coach."
    before = ask(page, "wat kan je allemaal")
    assert len(bot_texts(page)) > before, "no answer after the reconnect"
    page.close()


def test_supervisor_reads_shared_not_private_and_replies(browser, portal):
    reflections.save_reflection(
        "student-1", iso_week(),
        {"went_well": "Gedeeld: ik knipte zelf een klant", "difficult": "Privé: ik was bang voor mijn baas",
         "next_goal": "Gedeeld doel: elke dag om feedback vragen", "mood": 4},
        ["went_well", "next_goal", "mood"],
    )
    page = login(browser, portal, "sup-1")
    page.goto(f"{portal}/supervisor/intern/student-1")
    body = page.inner_text("main")
    assert "ik knipte zelf een klant" in body
    assert "bang voor mijn baas" not in body
    page.locator("textarea[name=text]").first.fill("Mooi gedaan, Sanne! Morgen mag je weer knippen.")
    page.get_by_role("button", name="Reactie versturen").first.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / "supervisor-log.png"), full_page=True)
    assert "Mooi gedaan" in page.inner_text("main")
    other = login(browser, portal, "sup-2")
    response = other.goto(f"{portal}/supervisor/intern/student-1")
    assert response.status == 404
    page.close()
    other.close()


def test_coordinator_edit_is_live_for_the_student(browser, portal):
    page = login(browser, portal, "coord-1")
    page.goto(f"{portal}/coordinator/content/ask_feedback/during/any")
    marker = f"Vraag na elke dienst om één tip (bijgewerkt om {time.strftime('%H:%M:%S')})."
    page.fill("#f-micro_goal", marker)
    page.get_by_role("button", name="Publiceren", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / "coordinator-content.png"), full_page=True)
    assert content.get_advice("ask_feedback", "during", "BOL").micro_goal == marker
    student = login(browser, portal, "student-1")
    student.goto(f"{portal}/student/chat")
    student.wait_for_selector(".chat-bot")
    student.wait_for_timeout(1500)  # let the history and any greeting arrive
    before = ask(student, "hoe ga ik om met feedback van mijn begeleider")
    student.wait_for_timeout(1000)
    if any("Waar sta je nu" in t for t in bot_texts(student)[before:]):
        student.get_by_role("button", name="Tijdens mijn stage").last.click()
    wait_for_bot(student, marker)
    page.close()
    student.close()
