"""Import of students, supervisors and coordinators from CSV."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import db
from bot.models import Internship, User
from bot.users import HEADER, UserImportError, import_csv_bytes, parse_csv

HEAD = ",".join(HEADER)


def csv_bytes(*rows, header=HEAD, delimiter=",", newline="\n"):
    lines = [header] + [delimiter.join(r) if isinstance(r, (list, tuple)) else r for r in rows]
    return (newline.join(lines) + newline).encode("utf-8")


def snapshot():
    """Every user and internship as plain tuples (to prove nothing changed)."""
    with db.session_scope() as session:
        users = session.execute(
            select(User.external_id, User.role, User.name, User.email).order_by(User.external_id)
        ).all()
        internships = session.execute(
            select(User.external_id, Internship.supervisor_id, Internship.leerweg, Internship.company)
            .join(User, User.id == Internship.student_id)
            .order_by(User.external_id)
        ).all()
    return [tuple(u) for u in users], [tuple(i) for i in internships]


def user(external_id):
    with db.session_scope() as session:
        return session.execute(select(User).where(User.external_id == external_id)).scalar()


def internship_of(external_id):
    with db.session_scope() as session:
        row = session.execute(
            select(Internship, User)
            .join(User, User.id == Internship.student_id)
            .where(User.external_id == external_id)
        ).first()
        if row is None:
            return None
        internship = row[0]
        supervisor = session.get(User, internship.supervisor_id) if internship.supervisor_id else None
        return {
            "supervisor": supervisor.external_id if supervisor else None,
            "leerweg": internship.leerweg,
            "company": internship.company,
        }


def count(model):
    with db.session_scope() as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def expect_error(data, *fragments):
    with pytest.raises(UserImportError) as error:
        import_csv_bytes(data)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, message
    return error.value.errors


# --- good files -------------------------------------------------------------------


def test_people_fixture_imports_everyone(people):
    assert count(User) == 5
    assert count(Internship) == 2
    assert user("sup-1").role == "supervisor"
    assert user("coord-1").role == "coordinator"
    assert user("student-1").name == "Sanne Jansen"
    assert internship_of("student-1") == {"supervisor": "sup-1", "leerweg": "BOL", "company": "Kapsalon Knip"}
    assert internship_of("student-2") == {"supervisor": "sup-2", "leerweg": "BBL", "company": "Kinderopvang Zon"}


def test_counts_of_created_and_updated(database):
    data = csv_bytes("supervisor,sup-1,Petra,,,,", "student,s-1,Sanne,,sup-1,BOL,Knip")
    assert import_csv_bytes(data) == {"created": 2, "updated": 0}
    assert import_csv_bytes(data) == {"created": 0, "updated": 2}


def test_reimport_updates_rows_instead_of_duplicating(people):
    from tests.conftest import STUDENTS_CSV

    changed = STUDENTS_CSV.replace("Sanne Jansen,sanne@student.nl,sup-1,BOL,Kapsalon Knip", "Sanne de Jong,sanne@nieuw.nl,sup-2,bbl,Salon Nieuw")
    assert changed != STUDENTS_CSV
    counts = import_csv_bytes(changed.encode())
    assert counts == {"created": 0, "updated": 5}
    assert count(User) == 5
    assert count(Internship) == 2
    sanne = user("student-1")
    assert (sanne.name, sanne.email) == ("Sanne de Jong", "sanne@nieuw.nl")
    assert internship_of("student-1") == {"supervisor": "sup-2", "leerweg": "BBL", "company": "Salon Nieuw"}


def test_identical_reimport_changes_nothing(people):
    from tests.conftest import STUDENTS_CSV

    before = snapshot()
    import_csv_bytes(STUDENTS_CSV.encode())
    assert snapshot() == before


def test_student_may_link_to_a_supervisor_already_in_the_database(people):
    import_csv_bytes(csv_bytes("student,student-3,Fleur,,sup-1,BOL,Knip"))
    assert internship_of("student-3")["supervisor"] == "sup-1"


def test_supervisor_may_come_after_the_student_in_the_file(database):
    import_csv_bytes(csv_bytes("student,s-1,Sanne,,sup-9,BOL,Knip", "supervisor,sup-9,Petra,,,,"))
    assert internship_of("s-1")["supervisor"] == "sup-9"


def test_student_without_supervisor_and_empty_optional_fields(database):
    import_csv_bytes(csv_bytes("student,s-1,Sanne,,,BOL,"))
    assert internship_of("s-1") == {"supervisor": None, "leerweg": "BOL", "company": None}
    assert user("s-1").email is None


def test_blank_lines_are_skipped_and_whitespace_trimmed(database):
    data = csv_bytes("", " supervisor , sup-1 , Petra de Vries , petra@x.nl ,,,", "   ")
    import_csv_bytes(data)
    petra = user("sup-1")
    assert (petra.role, petra.name, petra.email) == ("supervisor", "Petra de Vries", "petra@x.nl")


def test_header_is_case_and_space_insensitive(database):
    header = " Role , External_ID ,NAME,email,supervisor_external_id,leerweg,company"
    import_csv_bytes(csv_bytes("coordinator,c-1,Els,,,,", header=header))
    assert user("c-1").role == "coordinator"


def test_semicolon_csv_from_excel_with_bom_and_crlf(database):
    data = (
        "\ufeff"
        + ";".join(HEADER)
        + "\r\n"
        + "supervisor;sup-1;Petra de Vries;petra@kapsalon.nl;;;\r\n"
        + 'student;s-1;"Jansen, Sanne";sanne@student.nl;sup-1;BOL;"Kapsalon ""Knip"", Utrecht"\r\n'
        + "coordinator;c-1;Els Visser;els@school.nl;;;\r\n"
    ).encode("utf-8")
    assert import_csv_bytes(data) == {"created": 3, "updated": 0}
    assert user("s-1").name == "Jansen, Sanne"
    assert internship_of("s-1") == {
        "supervisor": "sup-1",
        "leerweg": "BOL",
        "company": 'Kapsalon "Knip", Utrecht',
    }


def test_bom_with_comma_delimiter(database):
    data = b"\xef\xbb\xbf" + csv_bytes("coordinator,c-1,Els,,,,")
    import_csv_bytes(data)
    assert user("c-1") is not None


def test_comma_csv_with_a_semicolon_inside_a_value(database):
    import_csv_bytes(csv_bytes("student,s-1,Sanne,,,BOL,Bakker; Zonen", "student,s-2,Mo,,,BBL,Slager"))
    assert internship_of("s-1")["company"] == "Bakker; Zonen"


def test_header_only_file_imports_nothing_without_error(database):
    assert import_csv_bytes(csv_bytes()) == {"created": 0, "updated": 0}


def test_line_numbers_count_from_the_header():
    rows = parse_csv(csv_bytes("coordinator,c-1,Els,,,,", "", "coordinator,c-2,Ed,,,,"))
    assert [(r.line, r.external_id) for r in rows] == [(2, "c-1"), (4, "c-2")]


# --- bad files: an error with the line number, nothing imported --------------------


def test_empty_file(database):
    expect_error(b"", "Het bestand is leeg.")
    assert count(User) == 0


def test_wrong_header(database):
    errors = expect_error(csv_bytes("coordinator,c-1,Els,,,,", header="rol,id,naam,email"), "Regel 1", HEAD)
    assert len(errors) == 1
    assert count(User) == 0


def test_header_with_missing_column(database):
    expect_error(csv_bytes(header=",".join(HEADER[:-1])), "Regel 1: de kopregel moet zijn")


def test_non_utf8_file(database):
    data = csv_bytes("coordinator,c-1,José,,,,").decode().encode("latin-1")
    expect_error(data, "geen UTF-8", "CSV UTF-8")
    assert count(User) == 0


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_a_bad_row_anywhere_imports_nothing(database, position):
    good = ["supervisor,sup-1,Petra,,,,", "student,s-1,Sanne,,sup-1,BOL,Knip", "coordinator,c-1,Els,,,,"]
    bad = "student,s-9,Fout,,sup-1,MBO,Knip"
    index = {"first": 0, "middle": 2, "last": 3}[position]
    rows = good[:index] + [bad] + good[index:]
    errors = expect_error(csv_bytes(*rows), f"Regel {index + 2}", "leerweg moet BOL of BBL")
    assert len(errors) == 1
    assert count(User) == 0 and count(Internship) == 0


def test_bad_last_row_without_trailing_newline(database):
    data = (HEAD + "\nsupervisor,sup-1,Petra,,,,\nstudent,s-1,Sanne,,sup-1,BOL").encode()
    expect_error(data, "Regel 3: 6 kolommen, verwacht 7")
    assert count(User) == 0


def test_bad_row_leaves_existing_data_untouched(people):
    before = snapshot()
    data = csv_bytes(
        "student,student-1,Sanne Nieuw,,sup-1,BOL,Ander bedrijf",
        "student,student-9,Nieuwe student,,sup-404,BOL,Knip",
    )
    expect_error(data, "Regel 3", "praktijkbegeleider 'sup-404' bestaat niet")
    assert snapshot() == before


def test_every_bad_row_is_reported(database):
    errors = expect_error(
        csv_bytes(
            "teacher,t-1,Docent,,,,",
            "student,,Zonder id,,,BOL,",
            "student,s-3,,,,BOL,",
            "coordinator,c-1,Els,geen-mail,,,",
        ),
        "Regel 2",
        "Regel 3",
        "Regel 4",
        "Regel 5",
    )
    assert len(errors) == 4
    assert "rol 'teacher' onbekend" in errors[0]
    assert "external_id '' is leeg" in errors[1]
    assert "naam ontbreekt" in errors[2]
    assert "e-mailadres 'geen-mail' is ongeldig" in errors[3]


def test_unknown_supervisor(database):
    expect_error(csv_bytes("student,s-1,Sanne,,sup-x,BOL,Knip"), "Regel 2: praktijkbegeleider 'sup-x' bestaat niet")


def test_supervisor_reference_to_a_student_is_refused(people):
    expect_error(csv_bytes("student,s-9,Nieuw,,student-1,BOL,Knip"), "Regel 2", "'student-1' bestaat niet")


def test_duplicate_external_ids_in_one_file(database):
    errors = expect_error(
        csv_bytes("coordinator,c-1,Els,,,,", "supervisor,sup-1,Petra,,,,", "coordinator,c-1,Ed,,,,"),
        "Regel 4: external_id 'c-1' staat ook op regel 2",
    )
    assert len(errors) == 1
    assert count(User) == 0


def test_role_change_is_refused(people):
    before = snapshot()
    errors = expect_error(
        csv_bytes("supervisor,student-1,Sanne Jansen,,,,"), "Regel 2: 'student-1' bestaat al met rol student"
    )
    assert len(errors) == 1
    assert snapshot() == before


def test_leerweg_and_supervisor_only_for_students(database):
    expect_error(csv_bytes("supervisor,sup-1,Petra,,sup-2,BOL,"), "Regel 2", "horen alleen bij studenten")


@pytest.mark.parametrize(
    "row,fragment",
    [
        ("coordinator,c 1,Els,,,,", "vreemde tekens"),
        ("coordinator," + "x" * 65 + ",Els,,,,", "vreemde tekens"),
        ("coordinator,c-1," + "n" * 201 + ",,,,", "langer dan 200"),
        ("student,s-1,Sanne,,,BOL,extra,kolom", "8 kolommen, verwacht 7"),
    ],
)
def test_field_checks(database, row, fragment):
    expect_error(csv_bytes(row), "Regel 2", fragment)
    assert count(User) == 0


@pytest.mark.parametrize(
    "row",
    [
        "student,s-1,Sanne,,,BOL," + "b" * 201,
        "coordinator,c-1,Els," + "e" * 250 + "@school.nl,,,",
    ],
    ids=["company", "email"],
)
def test_values_longer_than_the_columns_are_reported_per_line(database, row):
    # SQLite stores anything, PostgreSQL refuses: the check must not depend on the DB.
    expect_error(csv_bytes("coordinator,c-0,Ed,,,,", row), "Regel 3")
    assert count(User) == 0
