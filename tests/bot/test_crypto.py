"""Field encryption at rest: a stolen database file reveals no student's words.

Every test here looks at the stored bytes or the raw SQL value, so each one fails
when encryption is switched off (e.g. EncryptedText storing the text as it is).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot import analytics, cli, config, crypto, db, keys, reflections, safety, tracker_data
from bot.models import Goal, Reflection, SafetyReport, SupervisorComment, UnansweredQuestion, User
from bot.portal import chat_history

SENTENCE = "Ik durfde mijn begeleider niet te vertellen dat ik huilde in het magazijn"
GOAL = "Elke ochtend één vraag stellen aan Petra"
WEEK = "2026-W10"


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def use_keys(monkeypatch, *keys_in_order: str) -> None:
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", ",".join(keys_in_order))
    config.reset_settings()


def stored_bytes(url: str) -> bytes:
    """The SQLite database file plus its write-ahead log: what a thief would copy."""
    path = Path(sa.engine.make_url(url).database)
    db.reset_engine()  # checkpoint and close
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def raw(url: str, sql: str, **params):
    engine = db.build_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql), params).all()
    finally:
        engine.dispose()


def save_sentence():
    return reflections.save_reflection(
        "student-1", WEEK, {"went_well": SENTENCE, "next_goal": GOAL, "mood": 3}, ["next_goal"]
    )


# --- the application database ------------------------------------------------------


def test_reflection_is_unreadable_in_the_file_and_readable_through_the_service(people, database):
    save_sentence()

    data = stored_bytes(database)
    assert SENTENCE.encode() not in data and GOAL.encode() not in data
    assert "magazijn".encode() not in data
    [(went_well, next_goal)] = raw(database, "SELECT went_well, next_goal FROM reflections")
    assert went_well.startswith(crypto.RANDOM_PREFIX) and SENTENCE not in went_well
    [(goal_text,)] = raw(database, "SELECT text FROM goals")
    assert goal_text.startswith(crypto.DETERMINISTIC_PREFIX)

    [row] = reflections.recent_reflections("student-1")
    assert (row.went_well, row.next_goal, row.mood) == (SENTENCE, GOAL, 3)
    assert reflections.shared_view(row) == {"next_goal": GOAL}
    [record] = reflections.export_records(student="student-1")
    assert record["went_well"] == SENTENCE


def test_goal_lookups_and_uniqueness_still_work_on_ciphertext(people, database):
    first = save_sentence()
    again = save_sentence()  # a retried save: same row, the goal is not duplicated
    assert first.id == again.id
    [goal] = reflections.recent_goals("student-1")
    assert goal.text == GOAL and goal.iso_week == "2026-W11"
    assert reflections.add_goal("student-1", GOAL, "ask_proactive", week="2026-W11") == goal.id
    with db.session_scope() as session:
        assert session.execute(sa.select(Goal.id).where(Goal.text == GOAL)).scalar() == goal.id
        assert session.execute(sa.select(Goal.id).where(Goal.text != GOAL)).all() == []
    assert reflections.record_goal_outcome("student-1", goal.id, "gelukt, Petra was blij")
    [(outcome,)] = raw(database, "SELECT outcome FROM goals")
    assert outcome.startswith(crypto.RANDOM_PREFIX)
    assert reflections.goal_to_follow_up("student-1", week="2026-W12") is None


def test_random_ciphertext_columns_refuse_sql_comparison(database):
    with pytest.raises(TypeError, match="cannot be compared"):
        sa.select(Reflection).where(Reflection.went_well == "x")
    assert "IS NULL" in str(sa.select(Goal).where(Goal.outcome.is_(None)))


def test_reports_comments_and_questions_are_encrypted(people, database):
    report_id = safety.create_report("student-1", "conv-1", "Mijn chef duwt me tegen de muur", ["violence"])
    safety.add_details(report_id, "conv-1", "Gisteren in de koelcel")
    saved = save_sentence()
    with db.session_scope() as session:
        supervisor = session.execute(sa.select(User.id).where(User.external_id == "sup-1")).scalar()
        session.add(SupervisorComment(reflection_id=saved.id, supervisor_id=supervisor, text="Fijn dat je het vertelt"))
        session.get(SafetyReport, report_id).coordinator_note = "Moeder gebeld over de koelcel"
    analytics.record_unanswered("mag mijn baas aan mijn telefoon zitten", "out_of_scope", 0.2)
    analytics.record_unanswered("mag mijn baas aan mijn telefoon zitten", "out_of_scope", 0.3)

    data = stored_bytes(database)
    for secret in ("tegen de muur", "koelcel", "Fijn dat je", "Moeder gebeld", "telefoon zitten"):
        assert secret.encode() not in data, secret

    [report] = safety.reports_for_coordinators("new")["reports"]
    assert report.message == "Mijn chef duwt me tegen de muur" and report.details == "Gisteren in de koelcel"
    assert reflections.pending_replies("student-1") == ["Fijn dat je het vertelt"]
    with db.session_scope() as session:  # the coordinators' view groups equal questions
        groups = session.execute(
            sa.select(UnansweredQuestion.text, sa.func.count()).group_by(UnansweredQuestion.text)
        ).all()
    assert groups == [("mag mijn baas aan mijn telefoon zitten", 2)]


# --- wrong key -----------------------------------------------------------------------


def test_wrong_key_gives_a_clear_error_not_an_empty_value(people, database, monkeypatch, capsys):
    save_sentence()
    use_keys(monkeypatch, new_key())

    with pytest.raises(crypto.DecryptionError) as error:
        reflections.recent_reflections("student-1")
    assert "DATA_ENCRYPTION_KEYS" in str(error.value) and "kunnen niet worden gelezen" in str(error.value)

    assert cli.main(["reflections", "export", "--student", "student-1"]) == 2
    err = capsys.readouterr().err
    assert "Versleutelde gegevens kunnen niet worden gelezen" in err and "Traceback" not in err


async def test_wrong_key_in_a_chat_action_gives_the_friendly_message(people, database, monkeypatch, tracker_factory, dispatcher, domain):
    from actions.base import DATABASE_DOWN
    from actions.session import ActionGreet
    from tests.conftest import texts

    saved = save_sentence()
    with db.session_scope() as session:
        supervisor = session.execute(sa.select(User.id).where(User.external_id == "sup-1")).scalar()
        session.add(SupervisorComment(reflection_id=saved.id, supervisor_id=supervisor, text="Goed gedaan"))
    use_keys(monkeypatch, new_key())
    tracker = tracker_factory("student-1", "hoi", "greet", slots={"privacy_notice_shown": True})
    await ActionGreet().run(dispatcher, tracker, domain)
    assert DATABASE_DOWN in texts(dispatcher)


def test_wrong_key_in_the_portal_shows_the_dutch_error_page(people, database, monkeypatch):
    from bot.portal.app import create_app
    from tests.portal.helpers import login, set_passwords

    reflections.save_reflection("student-1", WEEK, {"went_well": SENTENCE}, ["went_well"])
    set_passwords(["sup-1"])
    use_keys(monkeypatch, new_key())
    app = create_app({"TESTING": False, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "portal-test-secret"})
    client = app.test_client()
    login(client, "sup-1")
    response = client.get("/supervisor/intern/student-1")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Er ging iets mis" in page and "Traceback" not in page and "DecryptionError" not in page


def test_invalid_key_is_refused_without_echoing_it(monkeypatch):
    use_keys(monkeypatch, "not-a-key-secret-value")
    with pytest.raises(config.ConfigurationError) as error:
        config.get_settings()
    assert "DATA_ENCRYPTION_KEYS" in str(error.value) and "not-a-key-secret-value" not in str(error.value)


# --- where the key comes from --------------------------------------------------------


def test_development_key_is_generated_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("DATA_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setattr(config, "VAR_DIR", tmp_path / "var")
    config.reset_settings()
    first = crypto.configured_keys()
    path = tmp_path / "var" / crypto.DEV_KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first == (path.read_text().strip(),)
    crypto._dev_key.cache_clear()
    assert crypto.configured_keys() == first  # read back, not generated again
    token = crypto.encrypt_text(SENTENCE)
    assert SENTENCE not in token and crypto.decrypt_text(token) == SENTENCE


def test_production_refuses_to_start_without_a_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CHAT_JWT_SECRET", "c" * 40)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "p" * 40)
    monkeypatch.delenv("DATA_ENCRYPTION_KEYS", raising=False)
    config.reset_settings()
    with pytest.raises(config.ConfigurationError, match="DATA_ENCRYPTION_KEYS"):
        config.get_settings()
    use_keys(monkeypatch, new_key())
    assert config.get_settings().is_production


def test_keys_generate_prints_a_usable_key(capsys):
    assert cli.main(["keys", "generate"]) == 0
    key = capsys.readouterr().out.strip()
    Fernet(key.encode())  # raises when invalid
    assert crypto.Keyring([key]).decrypt(crypto.Keyring([key]).encrypt(SENTENCE)) == SENTENCE


# --- rotation ------------------------------------------------------------------------


def test_rotation_re_encrypts_everything_and_the_old_key_can_go(people, database, tracker_store, monkeypatch, capsys):
    old = os.environ["DATA_ENCRYPTION_KEYS"]
    save_sentence()
    tracker_store.save("student-1", [("user", "mijn geheime chatzin", dt.datetime(2026, 3, 2, 9, 0))])
    before = raw(database, "SELECT went_well FROM reflections")[0][0]

    new = new_key()
    use_keys(monkeypatch, new, old)
    # between the key change and the rotation, == still finds a goal stored under the old key
    assert reflections.add_goal("student-1", GOAL, "ask_proactive", week="2026-W11") == reflections.recent_goals(
        "student-1"
    )[0].id

    assert cli.main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "reflections.went_well" in out and "events.data" in out
    after = raw(database, "SELECT went_well FROM reflections")[0][0]
    assert after != before and after.startswith(crypto.RANDOM_PREFIX)
    assert {r.label: r.rewritten for r in keys.rotate(database, tracker_store.url)}["reflections.went_well"] == 0

    use_keys(monkeypatch, new)  # the old key is removed
    [row] = reflections.recent_reflections("student-1")
    assert row.went_well == SENTENCE and reflections.recent_goals("student-1")[0].text == GOAL
    assert [m["text"] for m in tracker_data.messages(tracker_store.url, "student-1")] == ["mijn geheime chatzin"]
    reports = keys.check(database, tracker_store.url)
    assert all(set(r.states) <= {crypto.PRIMARY} for r in reports), reports
    with pytest.raises(crypto.DecryptionError):
        crypto.Keyring([old]).decrypt(after)


def test_rotation_encrypts_legacy_plaintext(people, database, tracker_store):
    save_sentence()
    engine = db.build_engine(database)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE reflections SET difficult = 'oude platte tekst'"))
    engine.dispose()
    assert reflections.recent_reflections("student-1")[0].difficult == "oude platte tekst"  # still readable
    states = {r.label: r.states for r in keys.check(database)}
    assert states["reflections.difficult"] == {crypto.PLAINTEXT: 1}

    rewritten = {r.label: r.rewritten for r in keys.rotate(database, batch=1)}
    assert rewritten["reflections.difficult"] == 1
    assert b"oude platte tekst" not in stored_bytes(database)
    assert reflections.recent_reflections("student-1")[0].difficult == "oude platte tekst"


# --- Rasa's tracker store ------------------------------------------------------------


def test_chat_events_are_encrypted_by_rasas_own_store(people, tracker_store):
    from bot.stores import UrlSQLTrackerStore

    when = dt.datetime(2026, 3, 2, 9, 0)
    tracker_store.save("student-1", [("user", "mijn stagebaas scheldt me uit", when), ("bot", "Wat naar.", when)])

    assert b"scheldt" not in stored_bytes(tracker_store.url)
    assert all(r.data.startswith(crypto.RANDOM_PREFIX) for r in tracker_store.raw_rows())

    store = UrlSQLTrackerStore(host=tracker_store.url)
    try:
        tracker = asyncio.run(store.retrieve("student-1"))
    finally:
        store.engine.dispose()
    assert [e.as_dict().get("text") for e in tracker.events] == ["mijn stagebaas scheldt me uit", "Wat naar."]
    assert [m["text"] for m in tracker_data.messages(tracker_store.url, "student-1")] == [
        "mijn stagebaas scheldt me uit",
        "Wat naar.",
    ]
    chat_history.reset_engines()
    assert [m["text"] for m in chat_history.recent_messages(tracker_store.url, "student-1")] == [
        "mijn stagebaas scheldt me uit",
        "Wat naar.",
    ]
    assert all(r.data.startswith(crypto.RANDOM_PREFIX) for r in tracker_store.raw_rows()), "reading wrote nothing back"


def test_chat_history_with_the_wrong_key_is_an_error_not_an_empty_chat(people, tracker_store, monkeypatch):
    tracker_store.save("student-1", [("user", "hallo coach", dt.datetime(2026, 3, 2, 9, 0))])
    use_keys(monkeypatch, new_key())
    chat_history.reset_engines()
    assert chat_history.recent_messages(tracker_store.url, "student-1") is None  # "not readable", not []
    with pytest.raises(crypto.DecryptionError, match="DATA_ENCRYPTION_KEYS"):
        tracker_data.messages(tracker_store.url, "student-1")


def test_rasa_tracker_store_refuses_to_start_with_a_key_that_cannot_read_it(people, tracker_store, monkeypatch):
    from bot.stores import UrlSQLTrackerStore

    old = os.environ["DATA_ENCRYPTION_KEYS"]
    tracker_store.save("student-1", [("user", "hallo coach", dt.datetime(2026, 3, 2, 9, 0))])
    use_keys(monkeypatch, new_key())
    with pytest.raises(crypto.DecryptionError, match="DATA_ENCRYPTION_KEYS"):
        UrlSQLTrackerStore(host=tracker_store.url)
    use_keys(monkeypatch, new_key(), old)  # during a rotation: the old key is still listed
    UrlSQLTrackerStore(host=tracker_store.url).engine.dispose()
