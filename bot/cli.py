"""`python -m bot ...`: the operator's commands."""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import List, Optional

from sqlalchemy.exc import OperationalError, ProgrammingError

from bot import content, migrate, passwords, reflections, users
from bot.config import PROJECT_ROOT, ConfigurationError
from bot.content_schema import ContentValidationError
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
    from bot import student_data, tracker_data

    try:
        data = student_data.export_student_data(args.external_id)
    except student_data.UnknownStudent:
        raise CliError(f"Geen student met id '{args.external_id}'.")
    except tracker_data.TrackerStoreError as error:
        raise _tracker_error(error)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"Gegevens van {args.external_id} geëxporteerd naar {args.output}.")
    else:
        sys.stdout.write(text)


def cmd_students_delete(args) -> None:
    from bot import student_data, tracker_data

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
    print(
        f"Gegevens van {args.external_id} verwijderd: {counts['reflections']} reflecties, "
        f"{counts['goals']} doelen, {counts['supervisor_comments']} reacties, "
        f"{counts['read_receipts']} leesbevestigingen, {counts['chat_events']} chatgebeurtenissen. "
        f"Het account is gedeactiveerd. {counts['safety_reports_kept']} veiligheidsmelding(en) "
        "blijven bewaard (zorgplicht school)."
    )


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

    p = sub.add_parser("token", help="print a signed chat token for a student (development, tests)")
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
    except (OperationalError, ProgrammingError) as error:
        # no schema yet, or the database is unreachable: say what to do, no traceback
        print(
            f"Fout: de database kan niet worden gebruikt ({error.orig}). "
            "Controleer DATABASE_URL en draai eerst `python -m bot init-db`.",
            file=sys.stderr,
        )
        return 3
    return 0
