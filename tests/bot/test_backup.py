"""Encrypted backups: the file reveals nothing; restore into an empty database gives
back every row. SQLite here; the PostgreSQL variants (incl. a native pg_dump piped
through `backup encrypt`) skip when no server is reachable."""
from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import io
import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from bot import analytics, backup, cli, config, crypto, db, migrate, reflections, safety
from bot.models import Base, SupervisorComment, User

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "Ik durfde niet te zeggen dat de chef me elke dag uitscheldt"
CHAT = "mijn geheime chatbericht over de stage"
PG_HOST, PG_PORT = "127.0.0.1", 5432


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def use(monkeypatch, database_url, tracker_url) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    config.reset_settings()
    db.reset_engine()


def save_chat(url: str, sender: str, texts) -> None:
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.stores import UrlSQLTrackerStore

    when = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc).timestamp()
    events = [UserUttered(texts[0], intent={"name": "greet", "confidence": 1.0}, timestamp=when)]
    events += [BotUttered(text, timestamp=when + i) for i, text in enumerate(texts[1:], start=1)]
    store = UrlSQLTrackerStore(host=url)
    try:
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    finally:
        store.engine.dispose()


def fill(tracker_url: str) -> None:
    """Some of everything, through the services (people and content already there)."""
    saved = reflections.save_reflection(
        "student-1", "2026-W10", {"went_well": SENTENCE, "next_goal": "Elke dag één vraag", "mood": 2}, ["mood"]
    )
    reflections.save_reflection("student-2", "2026-W10", {"difficult": "De telefoon opnemen"}, [])
    report = safety.create_report("student-1", "conv-1", "De chef scheldt me uit", ["bullying"])
    safety.add_details(report, "conv-1", "Vooral op maandag")
    analytics.record_unanswered("hoe laat mag ik naar huis", None, 0.2)
    with db.session_scope() as session:
        supervisor = session.execute(sa.select(User.id).where(User.external_id == "sup-1")).scalar()
        session.add(SupervisorComment(reflection_id=saved.id, supervisor_id=supervisor, text="Goed dat je schrijft"))
    save_chat(tracker_url, "student-1", [CHAT, "Dank je dat je het vertelt."])


def snapshot(database_url: str, tracker_url: str):
    """Every row of every table, decrypted: what must survive a backup and restore."""
    result = {}
    engine = db.build_engine(database_url)
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                order = list(table.primary_key.columns)
                result[table.name] = [tuple(r) for r in connection.execute(sa.select(table).order_by(*order))]
    finally:
        engine.dispose()
    engine = db.build_engine(tracker_url)
    try:
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            rows = connection.execute(sa.select(events).order_by(events.c.id)).mappings().all()
        result["events"] = [dict(r, data=crypto.decrypt_text(r["data"])) for r in rows]
    finally:
        engine.dispose()
    return result


def file_bytes(url: str) -> bytes:
    path = Path(sa.engine.make_url(url).database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.fixture
def source(tmp_path, monkeypatch, people, seeded_content):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    use(monkeypatch, os.environ["DATABASE_URL"], tracker_url)
    fill(tracker_url)
    return os.environ["DATABASE_URL"], tracker_url


def fresh_target(tmp_path, monkeypatch, name="restored"):
    target = tmp_path / name
    target.mkdir()
    urls = f"sqlite:///{target / 'app.db'}", f"sqlite:///{target / 'tracker.db'}"
    use(monkeypatch, *urls)
    return urls


# --- SQLite ------------------------------------------------------------------------


def test_backup_hides_the_words_and_restore_gives_back_every_row(source, tmp_path, monkeypatch, capsys):
    before = snapshot(*source)
    assert before["reflections"] and before["content_versions"] and len(before["events"]) == 2
    path = tmp_path / "stagecoach.backup"

    assert cli.main(["backup", "create", str(path)]) == 0
    assert "Versleutelde back-up geschreven" in capsys.readouterr().out
    data = path.read_bytes()
    assert data.startswith(backup.MAGIC)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for secret in (SENTENCE, CHAT, "scheldt", "Sanne Jansen", "sanne@student.nl"):
        assert secret.encode() not in data, secret
    with pytest.raises(OSError):
        gzip.decompress(data[len(backup.MAGIC):])  # not merely compressed
    key = backup.backup_keys()[0]
    tokens = frame_tokens(data)
    assert tokens and all(Fernet(key.encode()).decrypt(t) for t in tokens)  # every frame is a Fernet token
    with pytest.raises(InvalidToken):
        Fernet(new_key().encode()).decrypt(tokens[0])
    inside = gzip.decompress(b"".join(backup.decrypted_chunks(io.BytesIO(data))))
    assert SENTENCE.encode() in inside and CHAT.encode() in inside  # the words are there, only encrypted

    restored_urls = fresh_target(tmp_path, monkeypatch)
    assert cli.main(["backup", "restore", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Back-up hersteld" in out and "tracker.events: 2" in out

    after = snapshot(*restored_urls)
    assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
    assert after == before
    for url in restored_urls:
        assert SENTENCE.encode() not in file_bytes(url) and CHAT.encode() not in file_bytes(url)

    # the restored database is a working one: services read it and new rows get new ids
    assert reflections.recent_reflections("student-1")[0].went_well == SENTENCE
    reflections.save_reflection("student-1", "2026-W11", {"went_well": "nieuw"}, [])
    assert [r.iso_week for r in reflections.recent_reflections("student-1")] == ["2026-W11", "2026-W10"]
    with db.session_scope() as session:
        revision = session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == migrate_head()


def frame_tokens(data: bytes):
    tokens, position = [], len(backup.MAGIC)
    while position < len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        tokens.append(data[position + 4 : position + 4 + size])
        position += 4 + size
    return tokens


def migrate_head():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


def test_restore_on_a_new_server_with_a_new_data_key(source, tmp_path, monkeypatch):
    backup_key = new_key()
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", backup_key)
    config.reset_settings()
    before = snapshot(*source)
    path = tmp_path / "b.enc"
    with open(path, "wb") as handle:
        backup.create_backup(handle, *source)

    old_data_key = os.environ["DATA_ENCRYPTION_KEYS"]
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", new_key())  # the new server's own key
    restored_urls = fresh_target(tmp_path, monkeypatch)
    with open(path, "rb") as handle:
        backup.restore_backup(handle, *restored_urls)
    assert snapshot(*restored_urls) == before
    monkeypatch.setenv("DATA_ENCRYPTION_KEYS", old_data_key)
    config.reset_settings()
    with pytest.raises(crypto.DecryptionError):  # re-encrypted with the new server's key
        snapshot(*restored_urls)


def test_wrong_key_damage_and_non_empty_targets_are_refused(source, tmp_path, monkeypatch, capsys):
    path = tmp_path / "b.enc"
    assert cli.main(["backup", "create", str(path)]) == 0
    data = path.read_bytes()

    assert cli.main(["backup", "restore", str(path)]) == 2  # the source database is not empty
    assert "niet leeg" in capsys.readouterr().err

    restored_urls = fresh_target(tmp_path, monkeypatch)
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", new_key())
    config.reset_settings()
    assert cli.main(["backup", "restore", str(path)]) == 2
    err = capsys.readouterr().err
    assert "sleutel past niet" in err and "Traceback" not in err
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEY")
    config.reset_settings()

    cut = tmp_path / "cut.enc"
    cut.write_bytes(data[: len(data) - 40])
    assert cli.main(["backup", "restore", str(cut)]) == 2
    assert "beschadigd of onvolledig" in capsys.readouterr().err
    flipped = bytearray(data)
    flipped[len(backup.MAGIC) + 30] ^= 1
    cut.write_bytes(bytes(flipped))
    assert cli.main(["backup", "restore", str(cut)]) == 2
    assert "Fout:" in capsys.readouterr().err
    engine = db.build_engine(restored_urls[0])
    try:
        with engine.connect() as connection:
            users = sa.inspect(connection).has_table("users") and connection.execute(sa.text("SELECT COUNT(*) FROM users")).scalar()
    finally:
        engine.dispose()
    assert not users  # nothing half-restored

    assert cli.main(["backup", "restore", str(path)]) == 0  # the intact file still restores


def test_stream_is_framed_and_refuses_reordering_and_truncation():
    key = new_key()
    payload = os.urandom(backup.CHUNK * 2 + 12345)
    encrypted = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(payload), encrypted, [key])
    data = encrypted.getvalue()
    out = io.BytesIO()
    backup.decrypt_stream(io.BytesIO(data), out, [key])
    assert out.getvalue() == payload

    frames, position = [], len(backup.MAGIC)
    while position < len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        frames.append(data[position : position + 4 + size])
        position += 4 + size
    assert len(frames) == 3
    for damaged in (
        backup.MAGIC + frames[1] + frames[0] + frames[2],  # reordered
        backup.MAGIC + frames[0] + frames[1],  # last frame missing
        backup.MAGIC + frames[0] + frames[2],  # middle frame missing
    ):
        with pytest.raises(backup.BackupError, match="beschadigd of onvolledig"):
            backup.decrypt_stream(io.BytesIO(damaged), io.BytesIO(), [key])
    other = io.BytesIO()
    backup.encrypt_stream(io.BytesIO(payload), other, [key])
    spliced = backup.MAGIC + frames[0] + other.getvalue()[len(frames[0]) + len(backup.MAGIC) :]
    with pytest.raises(backup.BackupError):
        backup.decrypt_stream(io.BytesIO(spliced), io.BytesIO(), [key])
    with pytest.raises(backup.BackupError, match="sleutel past niet"):
        backup.decrypt_stream(io.BytesIO(data), io.BytesIO(), [new_key()])


def test_cli_encrypt_and_decrypt_pipe(tmp_path):
    env = dict(os.environ, BACKUP_ENCRYPTION_KEY=new_key(), PYTHONIOENCODING="utf-8")
    plain = ("-- a native dump\n" + SENTENCE + "\n").encode() * 1000
    run = lambda *args, data=None: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", "backup", *args], input=data, capture_output=True, env=env, cwd=ROOT, timeout=120
    )
    encrypted = run("encrypt", data=plain)
    assert encrypted.returncode == 0, encrypted.stderr
    assert SENTENCE.encode() not in encrypted.stdout
    (tmp_path / "dump.enc").write_bytes(encrypted.stdout)
    decrypted = run("decrypt", str(tmp_path / "dump.enc"))
    assert decrypted.returncode == 0 and decrypted.stdout == plain


def test_production_needs_its_own_backup_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("CHAT_JWT_SECRET", "c" * 40)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "p" * 40)
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEY", raising=False)
    config.reset_settings()
    with pytest.raises(backup.BackupError, match="BACKUP_ENCRYPTION_KEY"):
        backup.backup_keys()
    key = new_key()
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", key)
    config.reset_settings()
    assert list(backup.backup_keys()) == [key]


# --- PostgreSQL --------------------------------------------------------------------


def _pg_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def pg_databases():
    """A factory of fresh PostgreSQL databases, all dropped afterwards."""
    if not _pg_reachable():
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    admin = sa.create_engine(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT", future=True)
    names = []

    def create() -> str:
        name = f"stagecoach_test_{uuid.uuid4().hex[:12]}"
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError as error:
            pytest.skip(f"cannot create a PostgreSQL test database as user postgres: {error.orig}")
        names.append(name)
        return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"

    try:
        yield create
    finally:
        db.reset_engine()
        config.reset_settings()
        with admin.connect() as connection:
            for name in names:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_fill(url, monkeypatch):
    from bot.users import import_csv_bytes
    from tests.conftest import STUDENTS_CSV

    use(monkeypatch, url, url)  # tracker store in the same database, as a small school might run it
    migrate.upgrade(url)
    import_csv_bytes(STUDENTS_CSV.encode())
    fill(url)


def pg_raw(url, sql):
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql)).all()
    finally:
        engine.dispose()


def test_postgres_stores_ciphertext_and_backup_restores_it(pg_databases, monkeypatch, tmp_path):
    source_url = pg_databases()
    pg_fill(source_url, monkeypatch)
    [(went_well,)] = pg_raw(source_url, "SELECT went_well FROM reflections WHERE went_well IS NOT NULL")
    assert went_well.startswith(crypto.RANDOM_PREFIX) and SENTENCE not in went_well
    assert all(CHAT not in data for (data,) in pg_raw(source_url, "SELECT data FROM events"))
    assert reflections.recent_reflections("student-1")[0].went_well == SENTENCE
    before = snapshot(source_url, source_url)

    path = tmp_path / "pg.backup"
    assert cli.main(["backup", "create", str(path)]) == 0
    assert SENTENCE.encode() not in path.read_bytes()

    target_url = pg_databases()
    use(monkeypatch, target_url, target_url)
    assert cli.main(["backup", "restore", str(path)]) == 0
    assert snapshot(target_url, target_url) == before
    # sequences continue after the restored ids
    reflections.save_reflection("student-2", "2026-W11", {"went_well": "nieuw"}, [])
    save_chat(target_url, "student-2", ["nog een bericht", "Oké."])
    assert len(snapshot(target_url, target_url)["events"]) == len(before["events"]) + 2


def test_postgres_migration_0003_encrypts_existing_rows(pg_databases, monkeypatch):
    from tests.bot.test_migrations import check_0003_encrypts_and_decrypts

    url = pg_databases()
    monkeypatch.setenv("DATABASE_URL", url)
    config.reset_settings()
    db.reset_engine()
    check_0003_encrypts_and_decrypts(url)


@pytest.mark.skipif(not shutil.which("pg_dump") or not shutil.which("pg_restore"), reason="pg_dump/pg_restore not installed")
def test_native_pg_dump_through_backup_encrypt(pg_databases, monkeypatch, tmp_path):
    source_url = pg_databases()
    pg_fill(source_url, monkeypatch)
    before = snapshot(source_url, source_url)
    env = dict(os.environ, BACKUP_ENCRYPTION_KEY=new_key())
    encrypted = tmp_path / "pg_dump.enc"
    with open(encrypted, "wb") as out:
        dump = subprocess.Popen(["pg_dump", "-Fc", source_url], stdout=subprocess.PIPE)
        wrap = subprocess.run([sys.executable, "-m", "bot", "backup", "encrypt"], stdin=dump.stdout, stdout=out, env=env, cwd=ROOT, timeout=300)
        dump.stdout.close()
        assert dump.wait(timeout=300) == 0 and wrap.returncode == 0
    data = encrypted.read_bytes()
    assert data.startswith(backup.MAGIC) and b"PGDMP" not in data and SENTENCE.encode() not in data

    target_url = pg_databases()
    unwrap = subprocess.Popen([sys.executable, "-m", "bot", "backup", "decrypt", str(encrypted)], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    restore = subprocess.run(["pg_restore", "--no-owner", "-d", target_url], stdin=unwrap.stdout, capture_output=True, timeout=300)
    unwrap.stdout.close()
    assert unwrap.wait(timeout=300) == 0 and restore.returncode == 0, restore.stderr
    assert snapshot(target_url, target_url) == before  # the same data key reads the native copy
