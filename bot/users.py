"""Import of students, supervisors and coordinators from a school's CSV export.

All rows are checked first; a file with any bad row imports nothing. Re-importing
updates rows (matched on external_id) instead of duplicating them.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, List, Optional

from sqlalchemy import select

from bot.db import session_scope
from bot.models import LEERWEGEN, ROLES, Internship, User

HEADER = ["role", "external_id", "name", "email", "supervisor_external_id", "leerweg", "company"]
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserImportError(ValueError):
    def __init__(self, errors: List[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Row:
    line: int
    role: str
    external_id: str
    name: str
    email: str
    supervisor_external_id: str
    leerweg: str
    company: str


def parse_csv(data: bytes) -> List[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserImportError(["Het bestand is geen UTF-8 tekst. Sla het op als 'CSV UTF-8'."])
    try:
        sample = text[:2048]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    # newline="": the csv module handles \r\n, \n and old \r line ends itself
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise UserImportError(["Het bestand is leeg."])
    except csv.Error as error:
        raise UserImportError([f"Regel 1: onleesbare CSV ({error})."])
    if header != HEADER:
        raise UserImportError([f"Regel 1: de kopregel moet zijn: {','.join(HEADER)}"])
    rows: List[Row] = []
    errors: List[str] = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(HEADER):
                errors.append(f"Regel {number}: {len(values)} kolommen, verwacht {len(HEADER)}.")
                continue
            rows.append(Row(number, *[v.strip() for v in values]))
    except csv.Error as error:
        errors.append(f"Regel {reader.line_num}: onleesbare CSV ({error}).")
    if errors:
        raise UserImportError(errors)
    return rows


def _check_rows(rows: List[Row], known_supervisors: set) -> List[str]:
    errors: List[str] = []
    seen: Dict[str, int] = {}
    supervisors_in_file = {r.external_id for r in rows if r.role == "supervisor"}
    for r in rows:
        where = f"Regel {r.line}"
        if r.role not in ROLES:
            errors.append(f"{where}: rol '{r.role}' onbekend (student, supervisor of coordinator).")
        if not EXTERNAL_ID.match(r.external_id):
            errors.append(f"{where}: external_id '{r.external_id}' is leeg of bevat vreemde tekens.")
        elif r.external_id in seen:
            errors.append(f"{where}: external_id '{r.external_id}' staat ook op regel {seen[r.external_id]}.")
        seen.setdefault(r.external_id, r.line)
        if not r.name or len(r.name) > 200:
            errors.append(f"{where}: naam ontbreekt of is langer dan 200 tekens.")
        for label, value in (("naam", r.name), ("bedrijfsnaam", r.company), ("e-mailadres", r.email)):
            if _has_control_characters(value):
                errors.append(f"{where}: {label} bevat onzichtbare tekens (zoals een tab of regeleinde).")
        if r.email and (not EMAIL.match(r.email) or len(r.email) > 254):
            errors.append(f"{where}: e-mailadres '{r.email}' is ongeldig.")
        if len(r.company) > 200:
            errors.append(f"{where}: bedrijfsnaam is langer dan 200 tekens.")
        if r.role == "student":
            if r.leerweg.upper() not in LEERWEGEN:
                errors.append(f"{where}: leerweg moet BOL of BBL zijn voor een student.")
            sup = r.supervisor_external_id
            if sup and sup not in supervisors_in_file and sup not in known_supervisors:
                errors.append(f"{where}: praktijkbegeleider '{sup}' bestaat niet (niet in dit bestand of de database).")
        elif r.supervisor_external_id or r.leerweg:
            errors.append(f"{where}: supervisor_external_id en leerweg horen alleen bij studenten.")
    return errors


def _has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def import_rows(rows: List[Row]) -> Dict[str, int]:
    counts = {"created": 0, "updated": 0}
    with session_scope() as session:
        existing = {u.external_id: u for u in session.execute(select(User)).scalars()}
        known_supervisors = {e for e, u in existing.items() if u.role == "supervisor"}
        errors = _check_rows(rows, known_supervisors)
        for r in rows:
            user = existing.get(r.external_id)
            if user is not None and user.role != r.role:
                errors.append(f"Regel {r.line}: '{r.external_id}' bestaat al met rol {user.role}.")
        if errors:
            raise UserImportError(errors)
        for r in sorted(rows, key=lambda row: row.role != "supervisor"):
            user = existing.get(r.external_id)
            if user is None:
                user = User(external_id=r.external_id, role=r.role, name=r.name)
                session.add(user)
                existing[r.external_id] = user
                counts["created"] += 1
            else:
                counts["updated"] += 1
            user.name, user.email, user.active = r.name, r.email or None, True
        session.flush()
        for r in rows:
            if r.role == "student":
                _upsert_internship(session, existing[r.external_id], existing.get(r.supervisor_external_id), r)
    return counts


def _upsert_internship(session, student: User, supervisor: Optional[User], row: Row) -> None:
    internship = session.execute(select(Internship).where(Internship.student_id == student.id)).scalar()
    if internship is None:
        internship = Internship(student_id=student.id)
        session.add(internship)
    internship.supervisor_id = supervisor.id if supervisor else None
    internship.leerweg = row.leerweg.upper()
    internship.company = row.company or None


def import_csv_bytes(data: bytes) -> Dict[str, int]:
    return import_rows(parse_csv(data))
