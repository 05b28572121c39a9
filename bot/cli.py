"""`python -m bot ...`: the operator's commands."""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import List, Optional

from sqlalchemy.exc import OperationalError, ProgrammingError

from bot import content, migrate, passwords, reflections, users
from bot.config import PROJECT_ROOT, ConfigurationError
from bot.content_schema import ContentValidationError
from bot.crypto import DecryptionError
from bot.weeks import parse_iso_week

SEED_CONTENT_DIR = PROJECT_ROOT / "data" / "content"


class CliError(Exception):
    pass


def _read_file(path: str) -> bytes:
    file = Path(path)
    if not file.is_file():
        raise CliError(f"Bestand niet gevonden: {path}")
    return file.read_bytes()


def cmd_init_db(args) -> None:
    migrate.upgrade()
    print("Database is bijgewerkt tot de nieuwste versie.")


def cmd_users_import(args) -> None:
    try:
        counts = users.import_csv_bytes(_read_file(args.file))
    except users.UserImportError as error:
        raise CliError("Niets geïmporteerd:\n" + "\n".join(error.errors))
    print(f"Gebruikers: {counts['created']} nieuw, {counts['updated']} bijgewerkt.")


def _read_new_password(use_stdin: bool) -> str:
    if use_stdin:
        # one line; only the line break is removed (spaces may be part of the password)
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Nieuw wachtwoord (minstens %d tekens): " % passwords.MIN_LENGTH)
    second = getpass.getpass("Typ het wachtwoord nog een keer: ")
    if first != second:
        raise CliError("De twee wachtwoorden zijn niet gelijk. Er is niets veranderd.")
    return first


def cmd_users_set_password(args) -> None:
    if not passwords.user_exists(args.external_id):
        raise CliError(f"Geen gebruiker met id '{args.external_id}'.")
    password = _read_new_password(args.stdin)
    try:
        passwords.set_password(args.external_id, password)
    except passwords.PasswordError as error:
        raise CliError(f"{error} Er is niets veranderd.")
    except LookupError:
        raise CliError(f"Geen gebruiker met id '{args.external_id}'.")
    print(f"Het wachtwoord van {args.external_id} is ingesteld.")


def _import_content(paths: List[Path], author: str) -> None:
    documents = []
    try:
        for path in paths:
            documents.extend(content.load_yaml_documents(path))
        counts = content.import_documents(documents, author=author)
    except ContentValidationError as error:
        raise CliError("Niets geïmporteerd:\n" + "\n".join(error.errors))
    print(f"Inhoud: {counts['published']} blokken gepubliceerd, {counts['unchanged']} ongewijzigd.")


def cmd_content_import(args) -> None:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"Bestand niet gevonden: {args.file}")
    _import_content([path], args.author)


def cmd_content_seed(args) -> None:
    if not content.is_empty() and not args.force:
        print("Inhoud staat al in de database; niets gedaan (gebruik --force om opnieuw te laden).")
        return
    _import_content(sorted(SEED_CONTENT_DIR.glob("ask_*.yml")), "seed")


def cmd_content_export(args) -> None:
    text = content.dump_yaml(content.export_documents())
    if args.file == "-":
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"Inhoud geëxporteerd naar {args.file}.")


def cmd_reflections_export(args) -> None:
    if args.week:
        try:
            parse_iso_week(args.week)
        except ValueError as error:
            raise CliError(str(error))
    records = reflections.export_records(args.student, args.week, shared_only=args.shared_only)
    out = io.StringIO()
    if args.format == "json":
        json.dump(records, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(
            out, fieldnames=["student_id", "week", *reflections.FIELDS, "shared_fields", "updated_at"]
        )
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "shared_fields": " ".join(record["shared_fields"])})
    if args.output:
        Path(args.output).write_text(out.getvalue(), encoding="utf-8")
    else:
        sys.stdout.write(out.getvalue())


def cmd_token(args) -> None:
    from bot.tokens import mint_chat_token

    if reflections.find_student(args.student_id) is None:
        raise CliError(f"Geen actieve student met id '{args.student_id}'.")
    print(mint_chat_token(args.student_id, args.minutes))


RETENTION_LABELS = (
    ("reflections", "reflecties"),
    ("supervisor_comments", "reacties van begeleiders"),
    ("read_receipts", "leesbevestigingen"),
    ("goals", "doelen"),
    ("chat_events", "chatgebeurtenissen (trackerstore)"),
    ("unanswered_questions", "onbeantwoorde vragen"),
    ("topic_requests", "gevraagde onderwerpen"),
    ("safety_reports", "afgesloten veiligheidsmeldingen"),
    ("audit_events", "regels uit het auditlog"),
)


def _tracker_error(error) -> CliError:
    return CliError(
        f"de trackerstore kan niet worden gebruikt ({error}). Controleer TRACKER_STORE_URL en "
        "voer het commando opnieuw uit (het is veilig om het te herhalen)."
    )


def cmd_retention_run(args) -> None:
    from bot import retention, tracker_data

    try:
        counts = retention.run_retention()
    except tracker_data.TrackerStoreError as error:
        raise _tracker_error(error)
    print("Bewaartermijnen toegepast. Verwijderd:")
    for key, label in RETENTION_LABELS:
        print(f"  {label}: {counts.get(key, 0)}")
    if counts.get("note"):
        print("Let op: de trackerstore heeft nog geen tabel 'events'; daar is niets verwijderd.")


def cmd_students_export(args) -> None:
    from bot import audit, student_data, tracker_data

    try:
        data = student_data.export_student_data(args.external_id)
    except student_data.UnknownStudent:
        raise CliError(f"Geen student met id '{args.external_id}'.")
    except tracker_data.TrackerStoreError as error:
        raise _tracker_error(error)
    audit.record("student.export", audit.Actor.cli(), student_external_id=args.external_id)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Gegevens van {args.external_id} geëxporteerd naar {args.output}.")
    else:
        sys.stdout.write(text)


def cmd_students_delete(args) -> None:
    from bot import audit, student_data, tracker_data

    if not args.yes:
        raise CliError(
            f"Dit verwijdert alle gegevens van student '{args.external_id}' definitief. "
            "Voeg --yes toe om te bevestigen. Er is niets verwijderd."
        )
    try:
        counts = student_data.delete_student_data(args.external_id)
    except student_data.UnknownStudent:
        raise CliError(f"Geen student met id '{args.external_id}'. Er is niets verwijderd.")
    except tracker_data.TrackerStoreError as error:
        raise _tracker_error(error)
    audit.record("student.delete", audit.Actor.cli(), student_external_id=args.external_id)
    print(
        f"Gegevens van {args.external_id} verwijderd: {counts['reflections']} reflecties, "
        f"{counts['goals']} doelen, {counts['supervisor_comments']} reacties, "
        f"{counts['read_receipts']} leesbevestigingen, {counts['chat_events']} chatgebeurtenissen. "
        f"Het account is gedeactiveerd. {counts['safety_reports_kept']} veiligheidsmelding(en) "
        "blijven bewaard (zorgplicht school)."
    )


KEY_STATE_LABELS = (
    ("primary", "met de eerste sleutel"),
    ("older_key", "met een oudere sleutel"),
    ("plaintext", "nog niet versleuteld"),
    ("unreadable", "MET GEEN ENKELE SLEUTEL TE LEZEN"),
)


def cmd_keys_generate(args) -> None:
    from bot import crypto

    print(crypto.generate_key())


def _key_reports(write: bool):
    from bot import keys, tracker_data
    from bot.config import get_settings

    settings = get_settings()
    progress = (lambda line: print("  " + line, flush=True)) if write else None
    try:
        if write:
            return keys.rotate(settings.database_url, settings.tracker_store_url, progress=progress)
        return keys.check(settings.database_url, settings.tracker_store_url)
    except tracker_data.TrackerStoreError as error:
        raise _tracker_error(error)


def _print_key_reports(reports) -> int:
    unreadable = 0
    for report in reports:
        states = ", ".join(f"{report.states[k]} {label}" for k, label in KEY_STATE_LABELS if report.states.get(k))
        line = f"  {report.label}: {report.values} waarden" + (f" ({states})" if states else "")
        if report.rewritten:
            line += f"; {report.rewritten} opnieuw versleuteld"
        if report.conflicts:
            line += f"; {report.conflicts} overgeslagen (zelfde tekst bestaat al)"
        print(line)
        unreadable += report.unreadable
    return unreadable


def _unreadable_error(count: int) -> CliError:
    return CliError(
        f"{count} waarde(n) kunnen met geen enkele sleutel in DATA_ENCRYPTION_KEYS worden gelezen. "
        "Zet de sleutel terug waarmee ze zijn versleuteld (achteraan in de lijst) en probeer het opnieuw. "
        "/ Some values cannot be decrypted with any configured key."
    )


def cmd_keys_check(args) -> None:
    print("Versleuteling van de gegevens:")
    unreadable = _print_key_reports(_key_reports(write=False))
    if unreadable:
        raise _unreadable_error(unreadable)
    print("Alles is te lezen met de ingestelde sleutels.")


def cmd_keys_rotate(args) -> None:
    print("Opnieuw versleutelen met de eerste sleutel in DATA_ENCRYPTION_KEYS...")
    reports = _key_reports(write=True)
    print("Klaar:")
    unreadable = _print_key_reports(reports)
    if unreadable:
        raise _unreadable_error(unreadable)
    print("Alles staat nu onder de eerste sleutel. Oudere sleutels mag je nu uit DATA_ENCRYPTION_KEYS halen.")


def _backup_error(error) -> CliError:
    return CliError(str(error))


def cmd_backup_create(args) -> None:
    from bot import backup
    from bot.config import get_settings

    settings = get_settings()
    target = Path(args.file)
    if target.exists() and not args.force:
        raise CliError(f"{args.file} bestaat al. Kies een nieuwe naam of gebruik --force.")
    partial = target.with_name(target.name + ".partial")
    try:
        # owner-only, like the key file: encrypted, but still nobody else's business
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            counts = backup.create_backup(
                handle, settings.database_url, None if args.no_tracker else settings.tracker_store_url
            )
        partial.replace(target)
    except backup.BackupError as error:
        partial.unlink(missing_ok=True)
        raise _backup_error(error)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    print(f"Versleutelde back-up geschreven naar {args.file}: {sum(counts.values())} rijen in {len(counts)} tabellen.")


def cmd_backup_restore(args) -> None:
    from bot import backup
    from bot.config import get_settings

    settings = get_settings()
    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"Bestand niet gevonden: {args.file}")
    try:
        with open(source, "rb") as handle:
            counts = backup.restore_backup(
                handle, settings.database_url, None if args.no_tracker else settings.tracker_store_url
            )
    except backup.BackupError as error:
        raise _backup_error(error)
    print(f"Back-up hersteld: {sum(counts.values())} rijen in {len(counts)} tabellen.")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")


def cmd_backup_encrypt(args) -> None:
    from bot import backup

    try:
        backup.encrypt_stream(sys.stdin.buffer, sys.stdout.buffer)
    except backup.BackupError as error:
        raise _backup_error(error)


def cmd_backup_decrypt(args) -> None:
    from bot import backup

    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"Bestand niet gevonden: {args.file}")
    try:
        with open(source, "rb") as handle:
            backup.decrypt_stream(handle, sys.stdout.buffer)
    except backup.BackupError as error:
        raise _backup_error(error)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Stagecoach beheer")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init-db", help="create or upgrade the database schema").set_defaults(func=cmd_init_db)

    users_parser = sub.add_parser("users", help="students, supervisors, coordinators")
    users_sub = users_parser.add_subparsers(dest="users_command", required=True)
    p = users_sub.add_parser("import", help="import users from CSV (" + ",".join(users.HEADER) + ")")
    p.add_argument("file")
    p.set_defaults(func=cmd_users_import)
    p = users_sub.add_parser(
        "set-password",
        help=f"set the portal password of a user (asked twice; at least {passwords.MIN_LENGTH} characters)",
    )
    p.add_argument("external_id")
    p.add_argument("--stdin", action="store_true", help="read the password from one line of standard input (scripts)")
    p.set_defaults(func=cmd_users_set_password)

    content_parser = sub.add_parser("content", help="advice content")
    content_sub = content_parser.add_subparsers(dest="content_command", required=True)
    p = content_sub.add_parser("import", help="validate and publish a content YAML file")
    p.add_argument("file")
    p.add_argument("--author", default="cli")
    p.set_defaults(func=cmd_content_import)
    p = content_sub.add_parser("export", help="write all published content as YAML")
    p.add_argument("file", help="output file, or - for standard output")
    p.set_defaults(func=cmd_content_export)
    p = content_sub.add_parser("seed", help="load data/content/*.yml when the store is empty")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_content_seed)

    refl_parser = sub.add_parser("reflections", help="weekly reflections")
    refl_sub = refl_parser.add_subparsers(dest="reflections_command", required=True)
    p = refl_sub.add_parser("export", help="export reflections as JSON or CSV")
    p.add_argument("--student")
    p.add_argument("--week", help="YYYY-Www, e.g. 2026-W48")
    p.add_argument("--format", choices=["json", "csv"], default="json")
    p.add_argument("--shared-only", action="store_true", help="only what students shared (supervisor view)")
    p.add_argument("--output", help="file to write instead of standard output")
    p.set_defaults(func=cmd_reflections_export)

    ret_parser = sub.add_parser("retention", help="delete data older than the retention periods")
    ret_sub = ret_parser.add_subparsers(dest="retention_command", required=True)
    ret_sub.add_parser("run", help="apply the retention periods now (run daily)").set_defaults(
        func=cmd_retention_run
    )

    stud_parser = sub.add_parser("students", help="a student's data: export (right of access), delete")
    stud_sub = stud_parser.add_subparsers(dest="students_command", required=True)
    p = stud_sub.add_parser("export", help="all data of one student as JSON")
    p.add_argument("external_id")
    p.add_argument("--output", help="file to write instead of standard output")
    p.set_defaults(func=cmd_students_export)
    p = stud_sub.add_parser("delete", help="delete a student's data and deactivate the account")
    p.add_argument("external_id")
    p.add_argument("--yes", action="store_true", help="confirm the deletion")
    p.set_defaults(func=cmd_students_delete)

    keys_parser = sub.add_parser("keys", help="data encryption keys (DATA_ENCRYPTION_KEYS)")
    keys_sub = keys_parser.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("generate", help="print a new random key").set_defaults(func=cmd_keys_generate)
    keys_sub.add_parser("check", help="count values per key; fails when a value cannot be read").set_defaults(
        func=cmd_keys_check
    )
    keys_sub.add_parser(
        "rotate", help="re-encrypt everything with the first key (in batches, safe to repeat)"
    ).set_defaults(func=cmd_keys_rotate)

    backup_parser = sub.add_parser("backup", help="encrypted backups (BACKUP_ENCRYPTION_KEY)")
    backup_sub = backup_parser.add_subparsers(dest="backup_command", required=True)
    p = backup_sub.add_parser("create", help="encrypted dump of the app database and the tracker store")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--no-tracker", action="store_true", help="leave out the tracker store (chats)")
    p.set_defaults(func=cmd_backup_create)
    p = backup_sub.add_parser("restore", help="restore a backup into an empty database and tracker store")
    p.add_argument("file")
    p.add_argument("--no-tracker", action="store_true", help="do not restore the tracker store (chats)")
    p.set_defaults(func=cmd_backup_restore)
    backup_sub.add_parser(
        "encrypt", help="encrypt standard input to standard output (e.g. pg_dump -Fc | ...)"
    ).set_defaults(func=cmd_backup_encrypt)
    p = backup_sub.add_parser("decrypt", help="decrypt FILE to standard output (e.g. ... | pg_restore)")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup_decrypt)

    p = sub.add_parser("token", help="print a signed single-use chat token for a student (development, tests)")
    p.add_argument("student_id")
    p.add_argument("--minutes", type=int)
    p.set_defaults(func=cmd_token)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CliError as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 2
    except ConfigurationError as error:
        print(f"Fout in de configuratie: {error}", file=sys.stderr)
        return 2
    except DecryptionError as error:
        print(f"Fout: {error}", file=sys.stderr)
        return 2
    except (OperationalError, ProgrammingError) as error:
        # no schema yet, or the database is unreachable: say what to do, no traceback
        print(
            f"Fout: de database kan niet worden gebruikt ({error.orig}). "
            "Controleer DATABASE_URL en draai eerst `python -m bot init-db`.",
            file=sys.stderr,
        )
        return 3
    return 0
