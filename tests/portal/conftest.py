"""Portal fixtures: the app on a temp SQLite database, passwords, logged-in clients.

`portal_client("sup-1")` gives a Flask test client logged in as that user (through
the real login form); `portal_client(None)` an anonymous one.
"""
from __future__ import annotations

from typing import Callable, Optional

import pytest
from argon2 import PasswordHasher

from bot import config, db, migrate, passwords
from bot.portal import chat_history
from tests.portal.helpers import TEST_CONFIG, login, make_tracker_store, set_passwords


@pytest.fixture(scope="session", autouse=True)
def cheap_hashing():
    """argon2 with tiny costs: the tests log in hundreds of times."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        mp.setattr(passwords, "_dummy_hash", None)
        yield


@pytest.fixture
def tracker_store(tmp_path, monkeypatch):
    url = make_tracker_store(tmp_path / "tracker.db")
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    config.reset_settings()
    yield url
    chat_history.reset_engines()


@pytest.fixture
def app(database, people, tracker_store):
    from bot.portal.app import create_app

    set_passwords()
    return create_app(dict(TEST_CONFIG))


@pytest.fixture
def portal_client(app) -> Callable[[Optional[str]], object]:
    def make(external_id: Optional[str] = None):
        client = app.test_client()
        if external_id:
            response = login(client, external_id)
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


@pytest.fixture(scope="module")
def module_database(tmp_path_factory):
    """Like the root `database` fixture, but shared by one test module (the
    authorization matrix makes hundreds of requests against the same data)."""
    base = tmp_path_factory.mktemp("portal")
    url = f"sqlite:///{base / 'app.db'}"
    tracker = make_tracker_store(base / "tracker.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        mp.setenv("TRACKER_STORE_URL", tracker)
        config.reset_settings()
        db.reset_engine()
        migrate.upgrade(url)
        yield {"url": url, "tracker": tracker}
        db.reset_engine()
        chat_history.reset_engines()
    config.reset_settings()
