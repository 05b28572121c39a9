"""Security headers, cookie flags, and `python -m bot.portal` under waitress."""
from __future__ import annotations

import io
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


def test_chat_script_never_inserts_markup():
    """Bot and student text reach the chat page through textContent only (stored XSS)."""
    script = (ROOT / "bot" / "portal" / "static" / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script.replace("(never innerHTML)", ""), sink
    assert "textContent = text" in script


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def portal_process(database):
    """`python -m bot.portal` (waitress) on a free port; yields the port."""
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
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "portal did not start"
                time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        process.wait(15)


def test_python_m_bot_portal_serves_health(portal_process):
    with urllib.request.urlopen(f"http://127.0.0.1:{portal_process}/health", timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"ok"
        assert response.headers["Server"] == "stagecoach"


def _post_status(port: int, path: str, content_length: int, body: bytes, timeout: float = 60) -> tuple:
    """Sends headers announcing `content_length` bytes, then `body`; returns (status, text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {content_length}\r\n\r\n"
            ).encode()
        )
        try:
            sock.sendall(body)
        except OSError:
            pass
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, text = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), text.decode("utf-8", "replace")


def test_oversized_requests_under_waitress(portal_process):
    limit = 2 * 1024 * 1024
    body = b"login=" + b"x" * limit
    status, page = _post_status(portal_process, "/login", len(body), body)
    assert status == 413 and "Wat je stuurt is te groot" in page and "2 MB" in page
    # far too large: waitress answers from the header alone, without waiting for (and
    # buffering) the body; without its limit this would wait for 100 MB that never come
    status, _ = _post_status(portal_process, "/login", 50 * limit, b"", timeout=20)
    assert status == 413
    status, page = _post_status(portal_process, "/login", 10, b"login=abcd")
    assert status == 400 and "formulier is verlopen" in page  # a normal body is read (no CSRF token here)


def test_oversized_csv_upload_gets_the_dutch_413_page_and_imports_nothing(portal_client):
    from sqlalchemy import func, select

    from bot.db import session_scope
    from bot.models import User

    with session_scope() as db:
        before = db.execute(select(func.count(User.id))).scalar()
    rows = "".join(f"student,big-{i},Naam {i},,sup-1,BOL,Bedrijf\n" for i in range(60000))
    csv = ("role,external_id,name,email,supervisor_external_id,leerweg,company\n" + rows).encode()
    assert len(csv) > 2 * 1024 * 1024
    response = portal_client("coord-1").post(
        "/coordinator/users/import", data={"file": (io.BytesIO(csv), "users.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Wat je stuurt is te groot" in page and "maximaal 2 MB" in page
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # still our page, with our headers
    with session_scope() as db:
        assert db.execute(select(func.count(User.id))).scalar() == before
    # the same upload within the limit is imported
    small = ("role,external_id,name,email,supervisor_external_id,leerweg,company\n" + "".join(rows.splitlines(True)[:3000])).encode()
    response = portal_client("coord-1").post(
        "/coordinator/users/import", data={"file": (io.BytesIO(small), "users.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302


def test_form_limits_apply_before_csrf(database, people, tracker_store):
    client = create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True)).test_client()
    whole_body = client.post("/login", data={"login": "x" * (2 * 1024 * 1024), "password": "p"})
    one_field = client.post(
        "/login", data={"login": "x" * (600 * 1024), "password": "p"}, content_type="multipart/form-data"
    )
    for response in (whole_body, one_field):  # 2 MB per request, 512 KB per form field
        assert response.status_code == 413
        assert "te groot" in response.get_data(as_text=True)
    normal = client.post("/login", data={"login": "x" * (400 * 1024), "password": "p"}, content_type="multipart/form-data")
    assert normal.status_code == 400  # read, then refused for the missing CSRF token
