"""The authorization matrix: every route x every role, own and someone else's data.

The data belongs to student-1 (supervised by sup-1). Roles: anonymous, the student
themself, another student, their own supervisor, another supervisor, a coordinator.
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot import analytics, content, reflections, safety
from bot.db import session_scope
from bot.models import ContentVersion, Reflection, User
from bot.portal.app import create_app
from bot.weeks import iso_week
from tests.conftest import ROOT, STUDENTS_CSV
from tests.portal.helpers import TEST_CONFIG, add_event, login, set_passwords

ROLES = {
    "anonymous": None,
    "student": "student-1",
    "other_student": "student-2",
    "own_supervisor": "sup-1",
    "other_supervisor": "sup-2",
    "coordinator": "coord-1",
}
KEY = ("ask_feedback", "during", "any")
EDIT = "/coordinator/content/ask_feedback/during/any"
BODY = {
    "acknowledge": "Goed dat je dit vraagt.",
    "tips": "Vraag na een taak: wat kan beter?\nSchrijf de feedback op.",
    "why": "Zo leer je sneller.",
    "micro_goal": "Vraag deze week een keer om feedback.",
    "related": "",
}


@pytest.fixture(scope="module")
def world(module_database):
    from bot.users import import_csv_bytes

    import_csv_bytes(STUDENTS_CSV.encode())
    docs = []
    for path in sorted((ROOT / "data" / "content").glob("ask_*.yml")):
        docs.extend(content.load_yaml_documents(path))
    content.import_documents(docs, author="seed")
    set_passwords()
    week = iso_week()
    answers = {"went_well": "Klant geholpen", "difficult": "Geheim", "mood": 4}
    own = reflections.save_reflection("student-1", week, answers, ["went_well", "mood"]).id
    other = reflections.save_reflection("student-2", week, answers, ["went_well"]).id
    report = safety.create_report("student-1", "conv-1", "Mijn collega pest mij", ["bullying"])
    analytics.record_unanswered("hoe laat is de kantine open", "ask_expectations", 0.3)
    analytics.record_topic("ask_feedback")
    draft = content.save_draft(KEY, {"acknowledge": ["Hoi."], "tips": ["a b", "c d"], "why": "x", "micro_goal": "y"}, "t")
    add_event(module_database["tracker"], "student-1", "user", {"text": "hallo"})
    with session_scope() as db:
        question = db.execute(select(analytics.UnansweredQuestion.id)).scalar()
    ids = {"own": own, "other": other, "report": report, "question": question, "draft": draft}

    app = create_app(dict(TEST_CONFIG))
    clients = {}
    for role, external_id in ROLES.items():
        client = app.test_client()
        if external_id:
            assert login(client, external_id).status_code == 302
        clients[role] = client
    return {"app": app, "clients": clients, "ids": ids}


# (name, method, url template, form data, kind, status when allowed)
ROUTES = [
    ("health", "GET", "/health", None, "public", 200),
    ("index", "GET", "/", None, "index", 302),
    ("login", "GET", "/login", None, "login", 200),
    ("logout", "POST", "/logout", {}, "logout", 302),
    ("student.home", "GET", "/student", None, "student", 200),
    ("student.chat", "GET", "/student/chat", None, "student", 200),
    ("student.chat_token", "GET", "/student/chat/token", None, "student_api", 200),
    ("student.chat_messages", "GET", "/student/chat/history", None, "student_api", 200),
    ("student.data", "GET", "/student/data", None, "student", 200),
    ("student.export_data", "POST", "/student/data/export", {}, "student", 200),
    ("student.delete_confirm", "GET", "/student/data/delete", None, "student", 200),
    # without the confirmation word and password: refused (400), nothing deleted
    ("student.delete_data", "POST", "/student/data/delete", {"confirm": "nee"}, "student", 400),
    ("supervisor.overview", "GET", "/supervisor", None, "supervisor", 200),
    ("supervisor.guidance", "GET", "/supervisor/guidance", None, "supervisor", 200),
    ("supervisor.intern", "GET", "/supervisor/intern/student-1", None, "intern", 200),
    ("supervisor.export_csv", "GET", "/supervisor/intern/student-1/export.csv", None, "intern", 200),
    ("supervisor.export_pdf", "GET", "/supervisor/intern/student-1/export.pdf", None, "intern", 200),
    ("supervisor.mark_read", "POST", "/supervisor/intern/student-1/reflections/{own}/read", {}, "intern", 302),
    ("supervisor.reply", "POST", "/supervisor/intern/student-1/reflections/{own}/reply", {"text": "Top!"}, "intern", 302),
    ("coordinator.dashboard", "GET", "/coordinator", None, "coordinator", 200),
    ("coordinator.content_list", "GET", "/coordinator/content", None, "coordinator", 200),
    ("coordinator.content_new", "GET", "/coordinator/content/new?topic=ask_feedback&phase=after&leerweg=BBL", None, "coordinator", 302),
    ("coordinator.content_edit", "GET", EDIT, None, "coordinator", 200),
    ("coordinator.content_save", "POST", EDIT, dict(BODY, action="draft"), "coordinator", 302),
    ("coordinator.content_publish", "POST", EDIT + "/versions/{draft}/publish", {}, "coordinator", 302),
    ("coordinator.content_rollback", "POST", EDIT + "/rollback/1", {}, "coordinator", 302),
    ("coordinator.questions", "GET", "/coordinator/questions", None, "coordinator", 200),
    ("coordinator.questions_export", "POST", "/coordinator/questions/export", {"ids": "{question}"}, "coordinator", 200),
    ("coordinator.safety_list", "GET", "/coordinator/safety", None, "coordinator", 200),
    ("coordinator.safety_detail", "GET", "/coordinator/safety/{report}", None, "coordinator", 200),
    ("coordinator.safety_detail", "POST", "/coordinator/safety/{report}", {"status": "acknowledged"}, "coordinator", 302),
    ("coordinator.users", "GET", "/coordinator/users", None, "coordinator", 200),
    ("coordinator.users_import", "POST", "/coordinator/users/import", "csv", "coordinator", 302),
    ("coordinator.overview", "GET", "/coordinator/overview", None, "coordinator", 200),
    ("coordinator.audit_log", "GET", "/coordinator/audit?student=student-1", None, "coordinator", 200),
    ("coordinator.student_data_page", "GET", "/coordinator/students/student-1", None, "coordinator", 200),
    ("coordinator.student_export", "POST", "/coordinator/students/student-1/export", {"request_date": "2026-01-05"}, "coordinator", 200),
    # without typing the student's number: refused (400), nothing deleted
    ("coordinator.student_delete", "POST", "/coordinator/students/student-1/delete", {"request_date": "2026-01-05", "confirm": "nee"}, "coordinator", 400),
]

ANON = "login"  # 302 to the login page
STUDENTS = ("student", "other_student")
SUPERVISORS = ("own_supervisor", "other_supervisor")


def expected(kind: str, role: str, allowed: int):
    """The status (or ANON) a role gets for a route of this kind."""
    if kind == "public":
        return allowed
    if kind == "index":
        return ANON if role == "anonymous" else 302
    if kind == "login":
        return 200 if role == "anonymous" else 302
    if kind == "logout":
        return 302
    if role == "anonymous":
        return 401 if kind == "student_api" else ANON
    if kind in ("student", "student_api"):
        return allowed if role in STUDENTS else 403
    if kind == "supervisor":
        return allowed if role in SUPERVISORS else 403
    if kind == "intern":
        # another supervisor's intern does not exist for you: 404, like an unknown student
        return {"own_supervisor": allowed, "other_supervisor": 404}.get(role, 403)
    if kind == "coordinator":
        return allowed if role == "coordinator" else 403
    raise AssertionError(kind)


CASES = [
    pytest.param(route, role, id=f"{route[1]} {route[2]} as {role}")
    for route in ROUTES
    for role in ROLES
]


@pytest.mark.parametrize("route,role", CASES)
def test_authorization_matrix(world, route, role):
    _, method, template, data, kind, allowed = route
    url = template.format(**world["ids"])
    if role == "anonymous" or kind == "logout":
        client = world["app"].test_client()  # logout must not end the shared sessions
        if kind == "logout" and role != "anonymous":
            login(client, ROLES[role])
    else:
        client = world["clients"][role]
    if data == "csv":
        data = {"file": (io.BytesIO(STUDENTS_CSV.encode()), "users.csv")}
    elif isinstance(data, dict):
        data = {k: (v.format(**world["ids"]) if isinstance(v, str) else v) for k, v in data.items()}
    response = client.open(url, method=method, data=data)
    want = expected(kind, role, allowed)
    if want == ANON:
        assert response.status_code == 302, response.status_code
        assert urlsplit(response.headers["Location"]).path == "/login"
    else:
        assert response.status_code == want, response.get_data(as_text=True)[:500]
        if want == 302 and kind not in ("logout",):
            assert urlsplit(response.headers["Location"]).path != "/login"


def test_matrix_covers_every_route(world):
    endpoints = {rule.endpoint for rule in world["app"].url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == {name.replace("logout", "auth.logout").replace("login", "auth.login") for name, *_ in ROUTES}


def test_every_view_checks_a_role(world):
    public = {"static", "health", "index", "auth.login", "auth.logout"}
    for endpoint, view in world["app"].view_functions.items():
        if endpoint not in public:
            assert getattr(view, "required_roles", None), f"{endpoint} has no require_role"


def test_reflection_of_another_intern_in_own_url_is_404(world):
    """sup-1 may act on student-1, but not on student-2's reflection through student-1's URL."""
    client = world["clients"]["own_supervisor"]
    other = world["ids"]["other"]
    for action, data in (("read", {}), ("reply", {"text": "hoi"})):
        response = client.post(f"/supervisor/intern/student-1/reflections/{other}/{action}", data=data)
        assert response.status_code == 404
    with session_scope() as db:
        reflection = db.get(Reflection, other)
        assert reflection.comments == [] and reflection.receipts == []


def test_unknown_student_and_inactive_intern_are_404(world):
    client = world["clients"]["own_supervisor"]
    assert client.get("/supervisor/intern/nobody").status_code == 404
    assert client.get("/supervisor/intern/sup-2").status_code == 404  # not a student
    with session_scope() as db:
        db.execute(select(User).where(User.external_id == "student-1")).scalar().active = False
    try:
        assert client.get("/supervisor/intern/student-1").status_code == 404
    finally:
        with session_scope() as db:
            db.execute(select(User).where(User.external_id == "student-1")).scalar().active = True


def test_content_version_of_another_key_is_404(world):
    with session_scope() as db:
        other = db.execute(
            select(ContentVersion.id).where(ContentVersion.topic == "ask_proactive")
        ).scalar()
    client = world["clients"]["coordinator"]
    assert client.post(f"{EDIT}/versions/{other}/publish").status_code == 404
    assert client.post(f"{EDIT}/rollback/999").status_code == 404
    assert client.get("/coordinator/content/ask_unknown/during/any").status_code == 404
    assert client.get("/coordinator/content/ask_feedback/soon/any").status_code == 404
