"""Security headers, cookie flags, and `python -m bot.portal` under waitress."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bot import config
from bot.portal.app import create_app
from bot.portal.headers import content_security_policy
from tests.portal.helpers import PASSWORD, ROOT, TEST_CONFIG, login


def _directives(policy: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


@pytest.mark.parametrize("path", ["/health", "/login", "/student", "/nergens", "/static/style.css"])
def test_security_headers_on_every_response(portal_client, path):
    response = portal_client("student-1").get(path)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'", "http://localhost:5005", "ws://localhost:5005"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_personal_pages_are_not_cached(portal_client):
    assert portal_client("student-1").get("/student/data").headers["Cache-Control"] == "no-store"


def test_csp_follows_the_rasa_url():
    policy = _directives(content_security_policy("https://chat.school.nl"))
    assert policy["connect-src"] == ["'self'", "https://chat.school.nl", "wss://chat.school.nl"]


def test_session_cookie_flags_in_development(portal_client):
    response = login(portal_client(), "sup-1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_in_production(database, people, tracker_store, monkeypatch):
    from tests.portal.helpers import set_passwords

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "p" * 40)
    monkeypatch.setenv("CHAT_JWT_SECRET", "c" * 40)
    config.reset_settings()
    set_passwords(["sup-1"])
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    assert app.config["SECRET_KEY"] == "p" * 40
    client = app.test_client()
    response = client.post(
        "/login", data={"login": "sup-1", "password": PASSWORD}, base_url="https://portal.school.nl"
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_production_refuses_the_development_secret(database, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    config.reset_settings()
    with pytest.raises(config.ConfigurationError):
        create_app(TEST_CONFIG)


def test_templates_never_mark_text_safe():
    templates = (ROOT / "bot" / "portal" / "templates").rglob("*.html")
    for path in templates:
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), path
        assert "<script>" not in text and "style=" not in text, path  # CSP: no inline script or style


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_python_m_bot_portal_serves_health(database):
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.portal", "--port", str(port), "--host", "127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert response.status == 200
                    assert response.read() == b"ok"
                    assert response.headers["Server"] == "stagecoach"
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "portal did not start"
                time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(15)
