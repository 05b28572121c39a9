"""Login, logout, rate limiting, CSRF, session invalidation and the set-password command."""
from __future__ import annotations

import io
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot import cli, passwords
from bot.db import session_scope
from bot.models import User
from bot.portal.app import create_app
from bot.portal.ratelimit import FailureLimiter
from tests.portal.helpers import PASSWORD, ROOT, TEST_CONFIG, csrf_from, login


def test_login_with_school_id_or_email_and_logout(portal_client):
    client = portal_client()
    response = login(client, "sup-1")
    assert response.status_code == 302 and response.headers["Location"] == "/supervisor"
    assert client.get("/supervisor").status_code == 200
    assert client.get("/logout").status_code == 405  # logging out changes state: POST only
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/supervisor").status_code == 302

    response = login(portal_client(), "PETRA@kapsalon.nl")
    assert response.status_code == 302 and response.headers["Location"] == "/supervisor"


def test_wrong_password_and_unknown_account_get_the_same_dutch_message(portal_client):
    client = portal_client()
    wrong = login(client, "sup-1", "niet-het-wachtwoord")
    unknown = login(portal_client(), "bestaat-niet", "niet-het-wachtwoord")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Dat klopt niet" in response.get_data(as_text=True)
    assert client.get("/supervisor").status_code == 302


def test_inactive_user_cannot_log_in_and_is_logged_out(portal_client):
    client = portal_client("student-1")
    with session_scope() as db:
        db.execute(select(User).where(User.external_id == "student-1")).scalar().active = False
    assert client.get("/student").status_code == 302
    assert login(portal_client(), "student-1").status_code == 200


def test_password_change_ends_existing_sessions(portal_client):
    client = portal_client("student-1")
    assert client.get("/student").status_code == 200
    passwords.set_password("student-1", "een-heel-nieuw-wachtwoord")
    assert client.get("/student").status_code == 302


def _cookie(client):
    return client.get_cookie("stagecoach_session").value


def _client_with_cookie(portal_client, value):
    thief = portal_client()
    thief.set_cookie("stagecoach_session", value)
    return thief


def test_logout_revokes_a_copied_session_cookie(portal_client):
    client = portal_client("sup-1")
    stolen = _cookie(client)
    assert _client_with_cookie(portal_client, stolen).get("/supervisor").status_code == 200  # a copy works...
    client.post("/logout")
    assert _client_with_cookie(portal_client, stolen).get("/supervisor").status_code == 302  # ...until logout


def test_logout_ends_only_that_login(portal_client):
    phone, laptop = portal_client("student-1"), portal_client("student-1")
    phone.post("/logout")
    assert phone.get("/student").status_code == 302
    assert laptop.get("/student").status_code == 200


def test_expired_server_session_is_refused_and_pruned(portal_client):
    import datetime as dt

    from bot import retention
    from bot.models import PortalSession

    client = portal_client("student-1")
    with session_scope() as db:
        for row in db.execute(select(PortalSession)).scalars():
            row.expires_at = dt.datetime.utcnow() - dt.timedelta(minutes=1)
    assert client.get("/student").status_code == 302
    assert retention.run_retention()["portal_sessions"] == 1
    with session_scope() as db:
        assert db.execute(select(PortalSession)).first() is None


def test_login_that_rehashes_an_old_password_hash(portal_client):
    """The rehash and the server-side session row are written in one transaction
    (two would wait on each other's SQLite write lock and fail the login)."""
    from argon2 import PasswordHasher

    from bot.models import PortalSession

    with session_scope() as db:
        user = db.execute(select(User).where(User.external_id == "student-1")).scalar()
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
        old_hash = user.password_hash
    assert passwords.needs_rehash(old_hash)
    client = portal_client()
    assert login(client, "student-1").status_code == 302
    assert client.get("/student").status_code == 200
    with session_scope() as db:
        user = db.execute(select(User).where(User.external_id == "student-1")).scalar()
        assert user.password_hash != old_hash and not passwords.needs_rehash(user.password_hash)
        assert db.execute(select(PortalSession).where(PortalSession.user_id == user.id)).first() is not None


def test_session_table_holds_no_usable_token(portal_client):
    from bot.models import PortalSession

    client = portal_client("student-1")
    with client.session_transaction() as cookie_session:
        token = cookie_session["sid"]
    with session_scope() as db:
        stored = [row.token_hash for row in db.execute(select(PortalSession)).scalars()]
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_login_never_redirects_off_site(portal_client, target):
    response = portal_client().post("/login", data={"login": "sup-1", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == "/supervisor"


def test_login_follows_next_on_this_site(portal_client):
    client = portal_client()
    first = client.get("/supervisor/guidance")
    assert first.status_code == 302 and "next=" in first.headers["Location"]
    response = client.post("/login", data={"login": "sup-1", "password": PASSWORD, "next": "/supervisor/guidance"})
    assert response.headers["Location"] == "/supervisor/guidance"


def test_rate_limit_per_account(portal_client):
    client = portal_client()
    for _ in range(5):
        assert login(client, "sup-1", "fout-wachtwoord").status_code == 200
    blocked = login(client, "sup-1")  # even the right password now waits
    assert blocked.status_code == 429
    assert "Te veel mislukte pogingen" in blocked.get_data(as_text=True)
    # another account from another address is not affected
    other = portal_client().post(
        "/login", data={"login": "sup-2", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert other.status_code == 302


def test_rate_limit_per_ip(database, people, tracker_store):
    from tests.portal.helpers import set_passwords

    set_passwords()
    app = create_app(dict(TEST_CONFIG, LOGIN_MAX_FAILURES_IP=3))
    client = app.test_client()
    for account in ("a", "b", "c"):
        login(client, account, "fout-wachtwoord")
    assert login(client, "coord-1").status_code == 429
    other_ip = app.test_client().post(
        "/login", data={"login": "coord-1", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other_ip.status_code == 302


def test_failure_limiter_window_and_reset():
    now = [0.0]
    limiter = FailureLimiter(2, 900, clock=lambda: now[0])
    limiter.record_failure("k")
    limiter.record_failure("k")
    assert limiter.blocked("k")
    now[0] = 901
    assert not limiter.blocked("k")
    limiter.record_failure("k")
    limiter.reset("k")
    assert not limiter.blocked("k")


def test_successful_login_resets_the_account_counter(portal_client):
    client = portal_client()
    for _ in range(4):
        login(client, "sup-1", "fout-wachtwoord")
    assert login(client, "sup-1").status_code == 302
    client.post("/logout")
    for _ in range(4):
        login(client, "sup-1", "fout-wachtwoord")
    assert login(client, "sup-1").status_code == 302


def test_csrf_token_required_on_every_post(database, people, tracker_store):
    from tests.portal.helpers import set_passwords

    set_passwords()
    app = create_app(dict(TEST_CONFIG, WTF_CSRF_ENABLED=True))
    client = app.test_client()
    assert client.post("/login", data={"login": "sup-1", "password": PASSWORD}).status_code == 400
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"login": "sup-1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/supervisor").get_data(as_text=True)
    token = csrf_from(page)
    rejected = client.post("/logout")
    assert rejected.status_code == 400
    assert "formulier is verlopen" in rejected.get_data(as_text=True)
    assert client.get("/supervisor").status_code == 200  # still logged in
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/supervisor").status_code == 302


def test_set_password_command_from_stdin(database, people, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("een-goed-wachtwoord\n"))
    assert cli.main(["users", "set-password", "student-1", "--stdin"]) == 0
    assert "ingesteld" in capsys.readouterr().out
    with session_scope() as db:
        stored = db.execute(select(User.password_hash).where(User.external_id == "student-1")).scalar()
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "een-goed-wachtwoord")


def test_set_password_command_prompts_twice(database, people, monkeypatch, capsys):
    answers = iter(["wachtwoord-een-1", "wachtwoord-twee-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["users", "set-password", "sup-1"]) == 2
    assert "niet gelijk" in capsys.readouterr().err

    answers = iter(["kort", "kort"])
    assert cli.main(["users", "set-password", "sup-1"]) == 2
    assert "te kort" in capsys.readouterr().err

    answers = iter(["lang-genoeg-nu", "lang-genoeg-nu"])
    assert cli.main(["users", "set-password", "sup-1"]) == 0


def test_set_password_command_unknown_user_as_subprocess(database):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "users", "set-password", "niemand", "--stdin"],
        input="een-goed-wachtwoord\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Geen gebruiker met id 'niemand'" in result.stderr
