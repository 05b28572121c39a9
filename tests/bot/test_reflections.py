"""Weekly reflections and goals: save, share, delete, follow-up, export, replies."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot import db, reflection_dialog, reflections
from bot.models import Goal, ReadReceipt, Reflection, SupervisorComment, User
from bot.weeks import iso_week

WEEK = "2026-W10"
NEXT = "2026-W11"

ANSWERS = {
    "went_well": "Ik heb zelf een klant geholpen.",
    "difficult": "Telefoon opnemen vond ik eng.",
    "feedback": "Mijn begeleider zei dat ik beter moet luisteren.",
    "initiative": "Ik heb gevraagd of ik mocht meehelpen.",
    "next_goal": "Elke dag één vraag stellen.",
    "mood": 4,
}


def count(model, **where):
    with db.session_scope() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.execute(query).scalar()


def user_id(external_id):
    with db.session_scope() as session:
        return session.execute(select(User.id).where(User.external_id == external_id)).scalar()


def goals_of(external_id):
    with db.session_scope() as session:
        rows = session.execute(
            select(Goal).where(Goal.student_id == user_id(external_id)).order_by(Goal.iso_week, Goal.id)
        ).scalars()
        return [(g.iso_week, g.source, g.text, g.outcome) for g in rows]


def save(week=WEEK, student="student-1", shared=("next_goal", "mood"), **changes):
    answers = dict(ANSWERS, **changes)
    return reflections.save_reflection(student, week, answers, list(shared))


def add_comment_and_receipt(reflection_id, supervisor="sup-1", text="Goed gedaan!"):
    with db.session_scope() as session:
        sup = user_id(supervisor)
        session.add(SupervisorComment(reflection_id=reflection_id, supervisor_id=sup, text=text))
        session.add(ReadReceipt(reflection_id=reflection_id, supervisor_id=sup))


# --- saving -----------------------------------------------------------------------


def test_save_creates_one_reflection_with_all_answers(people):
    saved = save()
    assert saved.created is True and saved.iso_week == WEEK
    [row] = reflections.recent_reflections("student-1")
    assert row.id == saved.id
    for name, value in ANSWERS.items():
        assert getattr(row, name) == value
    assert row.shared_fields == "next_goal,mood"
    assert reflections.has_reflection("student-1", WEEK)
    assert not reflections.has_reflection("student-1", NEXT)
    assert not reflections.has_reflection("student-2", WEEK)


def test_saving_again_updates_the_same_row(people):
    first = save()
    second = save(went_well="Ik heb de kassa opgemaakt.", mood="2", shared=())
    assert second.id == first.id
    assert second.created is False
    assert count(Reflection) == 1
    [row] = reflections.recent_reflections("student-1")
    assert row.went_well == "Ik heb de kassa opgemaakt."
    assert row.mood == 2
    assert row.shared_fields == ""


def test_one_reflection_per_student_per_week(people):
    save(WEEK)
    save(NEXT)
    save(WEEK, student="student-2")
    assert count(Reflection) == 3
    assert [r.iso_week for r in reflections.recent_reflections("student-1")] == [NEXT, WEEK]


def test_goal_for_next_week_is_stored_once_and_follows_edits(people):
    save()
    assert goals_of("student-1") == [(NEXT, "reflection", "Elke dag één vraag stellen.", None)]
    save(next_goal="Op tijd komen.")
    assert goals_of("student-1") == [(NEXT, "reflection", "Op tijd komen.", None)]
    assert count(Goal) == 1


def test_reflection_goal_equal_to_an_existing_coaching_goal_does_not_break_saving(people):
    reflections.add_goal("student-1", "Elke dag één vraag stellen.", source="ask_proactive", week=NEXT)
    saved = save()
    assert reflections.has_reflection("student-1", WEEK)
    assert saved.created
    texts = [g[2] for g in goals_of("student-1")]
    assert texts == ["Elke dag één vraag stellen."]


def test_editing_the_reflection_goal_into_an_existing_coaching_goal(people):
    save(next_goal="Op tijd komen.")
    reflections.add_goal("student-1", "Elke dag één vraag stellen.", source="ask_proactive", week=NEXT)
    save(next_goal="Elke dag één vraag stellen.")
    assert [g[2] for g in goals_of("student-1")] == ["Elke dag één vraag stellen."]
    assert reflections.recent_reflections("student-1")[0].next_goal == "Elke dag één vraag stellen."


def test_empty_answers_are_stored_as_null_and_no_goal_is_made(people):
    save(went_well="", next_goal="", mood="")
    [row] = reflections.recent_reflections("student-1")
    assert row.went_well is None and row.next_goal is None and row.mood is None
    assert goals_of("student-1") == []


def test_unknown_shared_field_is_refused(people):
    with pytest.raises(ValueError):
        save(shared=("next_goal", "password"))
    assert count(Reflection) == 0


def test_unknown_student_or_non_student_is_refused(people):
    with pytest.raises(reflections.UnknownStudent):
        save(student="nobody")
    with pytest.raises(reflections.UnknownStudent):
        save(student="sup-1")
    assert count(Reflection) == 0


def test_mood_outside_one_to_five_is_refused_by_the_database(people):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        save(mood=7)
    assert count(Reflection) == 0


def test_save_from_dialog_slots(people):
    slots = {
        "refl_went_well": "Ik heb een klant zelf geholpen.",
        "refl_difficult": "De telefoon opnemen.",
        "refl_feedback": "Meer vragen stellen.",
        "refl_initiative": "Zelf de vakken bijgevuld.",
        "refl_next_goal": "Twee vragen per dag.",
        "refl_mood": "4",
        "refl_share": "alleen doel en stemming",
    }
    saved = reflection_dialog.save_from_slots("student-1", WEEK, slots)
    [row] = reflections.recent_reflections("student-1")
    assert row.id == saved.id
    assert row.mood == 4
    assert row.shared_fields == "next_goal,mood"
    assert reflections.shared_view(row) == {"next_goal": "Twee vragen per dag.", "mood": 4}


# --- sharing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset,expected",
    [
        ("all", set(reflections.FIELDS)),
        ("goal_mood", {"next_goal", "mood"}),
        ("none", set()),
    ],
)
def test_shared_view_only_returns_shared_fields(people, preset, expected):
    save(shared=reflections.SHARE_PRESETS[preset])
    [row] = reflections.recent_reflections("student-1")
    view = reflections.shared_view(row)
    assert set(view) == expected
    for name in expected:
        assert view[name] == ANSWERS[name]


def test_export_shared_only_hides_private_answers(people):
    save(shared=("next_goal",))
    [full] = reflections.export_records(student="student-1")
    [shared] = reflections.export_records(student="student-1", shared_only=True)
    assert full["difficult"] == ANSWERS["difficult"] and full["mood"] == 4
    assert shared["next_goal"] == ANSWERS["next_goal"]
    for private in ("went_well", "difficult", "feedback", "initiative", "mood"):
        assert shared[private] is None
        assert ANSWERS[str(private)] not in [v for v in shared.values()]
    assert shared["shared_fields"] == ["next_goal"]


def test_export_filters_by_student_and_week(people):
    save(WEEK)
    save(NEXT)
    save(WEEK, student="student-2")
    assert len(reflections.export_records()) == 3
    assert [(r["student_id"], r["week"]) for r in reflections.export_records()] == [
        ("student-1", WEEK),
        ("student-1", NEXT),
        ("student-2", WEEK),
    ]
    assert [r["week"] for r in reflections.export_records(student="student-1")] == [WEEK, NEXT]
    assert [r["student_id"] for r in reflections.export_records(week=WEEK)] == ["student-1", "student-2"]
    assert reflections.export_records(student="student-2", week=NEXT) == []
    assert reflections.export_records(student="nobody") == []


# --- deleting ---------------------------------------------------------------------


def test_delete_one_reflection_removes_its_goal_comments_and_receipts(people):
    keep = save(WEEK)
    gone = save(NEXT, next_goal="Op tijd komen.")
    add_comment_and_receipt(keep.id, text="Blijft staan")
    add_comment_and_receipt(gone.id, text="Moet weg")

    assert reflections.delete_reflection("student-1", NEXT) is True

    assert [r.iso_week for r in reflections.recent_reflections("student-1")] == [WEEK]
    assert [g[0] for g in goals_of("student-1")] == [NEXT]  # the goal of the kept reflection
    with db.session_scope() as session:  # comment text is encrypted: compared after reading
        assert [c.text for c in session.execute(select(SupervisorComment)).scalars()] == ["Blijft staan"]
    assert count(ReadReceipt) == 1 and count(ReadReceipt, reflection_id=keep.id) == 1
    assert reflections.delete_reflection("student-1", NEXT) is False


def test_delete_one_only_touches_the_own_student(people):
    save(WEEK)
    save(WEEK, student="student-2")
    assert reflections.delete_reflection("student-2", WEEK) is True
    assert reflections.has_reflection("student-1", WEEK)
    assert len(goals_of("student-1")) == 1


def test_delete_all_removes_reflections_goals_comments_and_receipts(people):
    for week in (WEEK, NEXT, "2026-W12"):
        saved = save(week, next_goal=f"Doel na {week}")
        add_comment_and_receipt(saved.id)
    reflections.add_goal("student-1", "Microdoel uit coaching", source="ask_feedback", week=WEEK)
    other = save(WEEK, student="student-2")
    add_comment_and_receipt(other.id, supervisor="sup-2")

    assert reflections.delete_all_reflections("student-1") == 3

    assert reflections.recent_reflections("student-1") == []
    assert goals_of("student-1") == []
    assert count(Reflection) == 1
    assert count(SupervisorComment) == 1 and count(ReadReceipt) == 1
    assert len(goals_of("student-2")) == 1
    assert reflections.delete_all_reflections("student-1") == 0


# --- goals and follow-up ----------------------------------------------------------


def test_add_goal_is_idempotent_per_week(people):
    first = reflections.add_goal("student-1", "Vraag om feedback.", "ask_feedback", week=WEEK)
    again = reflections.add_goal("student-1", "Vraag om feedback.", "ask_feedback", week=WEEK)
    assert first == again
    assert count(Goal) == 1
    assert reflections.get_goal_text("student-1", first) == "Vraag om feedback."
    assert reflections.get_goal_text("student-2", first) is None


def test_add_goal_defaults_to_this_week(people):
    goal_id = reflections.add_goal("student-1", "Vraag om feedback.", "ask_feedback")
    [goal] = reflections.recent_goals("student-1")
    assert goal.id == goal_id and goal.iso_week == iso_week()


def test_follow_up_picks_last_weeks_open_goal(people):
    reflections.add_goal("student-1", "Oud doel", "ask_feedback", week="2026-W08")
    reflections.add_goal("student-1", "Vorige week", "ask_proactive", week="2026-W09")
    reflections.add_goal("student-1", "Deze week", "ask_proactive", week=WEEK)
    goal = reflections.goal_to_follow_up("student-1", week=WEEK)
    assert goal.text == "Vorige week"


def test_follow_up_looks_back_at_most_two_weeks(people):
    reflections.add_goal("student-1", "Drie weken oud", "ask_feedback", week="2026-W07")
    assert reflections.goal_to_follow_up("student-1", week=WEEK) is None
    reflections.add_goal("student-1", "Twee weken oud", "ask_feedback", week="2026-W08")
    assert reflections.goal_to_follow_up("student-1", week=WEEK).text == "Twee weken oud"


def test_follow_up_skips_goals_with_an_outcome(people):
    older = reflections.add_goal("student-1", "Twee weken oud", "ask_feedback", week="2026-W08")
    newest = reflections.add_goal("student-1", "Vorige week", "ask_feedback", week="2026-W09")
    assert reflections.record_goal_outcome("student-1", newest, "gelukt") is True
    assert reflections.goal_to_follow_up("student-1", week=WEEK).id == older
    assert reflections.record_goal_outcome("student-1", older, "niet gelukt") is True
    assert reflections.goal_to_follow_up("student-1", week=WEEK) is None


def test_follow_up_never_picks_current_or_future_goals_or_other_students(people):
    reflections.add_goal("student-1", "Deze week", "ask_feedback", week=WEEK)
    reflections.add_goal("student-1", "Volgende week", "ask_feedback", week=NEXT)
    reflections.add_goal("student-2", "Van een ander", "ask_feedback", week="2026-W09")
    assert reflections.goal_to_follow_up("student-1", week=WEEK) is None


def test_follow_up_across_the_new_year(people):
    reflections.add_goal("student-1", "Voor de kerst", "ask_feedback", week="2025-W52")
    assert reflections.goal_to_follow_up("student-1", week="2026-W01").text == "Voor de kerst"
    assert reflections.goal_to_follow_up("student-1", week="2026-W03") is None


def test_reflection_goal_is_followed_up_the_week_after_it_was_for(people):
    save(WEEK)  # goal for NEXT
    assert reflections.goal_to_follow_up("student-1", week=NEXT) is None
    assert reflections.goal_to_follow_up("student-1", week="2026-W12").text == ANSWERS["next_goal"]


def test_record_goal_outcome_refuses_another_students_goal(people):
    goal_id = reflections.add_goal("student-1", "Vraag om feedback.", "ask_feedback", week=WEEK)
    assert reflections.record_goal_outcome("student-2", goal_id, "gelukt") is False
    assert reflections.record_goal_outcome("student-2", 9999, "gelukt") is False
    assert goals_of("student-1")[0][3] is None
    assert reflections.record_goal_outcome("student-1", goal_id, "gelukt") is True
    assert goals_of("student-1")[0][3] == "gelukt"


# --- supervisor replies -----------------------------------------------------------


def test_pending_replies_are_delivered_once_in_order(people):
    first = save(WEEK)
    second = save(NEXT)
    add_comment_and_receipt(first.id, text="Eerste reactie")
    with db.session_scope() as session:
        session.add(SupervisorComment(reflection_id=second.id, supervisor_id=user_id("sup-1"), text="Tweede reactie"))

    assert reflections.pending_replies("student-2") == []
    assert reflections.pending_replies("student-1") == ["Eerste reactie", "Tweede reactie"]
    assert reflections.pending_replies("student-1") == []

    with db.session_scope() as session:
        session.add(SupervisorComment(reflection_id=first.id, supervisor_id=user_id("sup-1"), text="Nog eentje"))
    assert reflections.pending_replies("student-1") == ["Nog eentje"]


def test_students_without_reflection(people):
    save(WEEK)
    assert reflections.students_without_reflection(["student-1", "student-2"], WEEK) == ["student-2"]


def test_find_student_only_finds_active_students(people):
    assert reflections.find_student("student-1").name == "Sanne Jansen"
    assert reflections.find_student("sup-1") is None
    assert reflections.find_student("nobody") is None
    with db.session_scope() as session:
        session.execute(select(User).where(User.external_id == "student-1")).scalar().active = False
    assert reflections.find_student("student-1") is None
