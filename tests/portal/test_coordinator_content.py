"""The content editor: validation in Dutch, preview, draft, publish, rollback."""
from __future__ import annotations

import pytest

from bot import content

URL = "/coordinator/content/ask_feedback/during/any"
GOOD = {
    "acknowledge": "Fijn dat je om feedback vraagt, {voornaam}.\nGoed bezig!",
    "tips": "Vraag na een taak: wat kan ik beter doen?\n\nSchrijf de tip op en probeer hem morgen.",
    "why": "Wie iets doet met feedback, leert sneller.",
    "micro_goal": "Vraag deze week een collega om een tip.",
    "related": "ask_communication",
}


@pytest.fixture
def coordinator(portal_client, seeded_content):
    return portal_client("coord-1")


def test_list_shows_published_content(coordinator):
    page = coordinator.get("/coordinator/content").get_data(as_text=True)
    assert "Omgaan met feedback" in page or "ask_feedback" in page
    assert "Tijdens mijn stage" in page and "versie 1" in page


def test_edit_form_is_filled_with_the_published_text(coordinator):
    page = coordinator.get(URL).get_data(as_text=True)
    published = content.get_advice("ask_feedback", "during", "BOL")
    assert published.why in page.replace("&#39;", "'").replace("&#34;", '"')


def test_validation_errors_are_dutch_and_keep_what_was_typed(coordinator):
    form = dict(GOOD, tips="Maar één tip", micro_goal="", action="publish")
    response = coordinator.post(URL, data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "&#39;Tips&#39; heeft 1 items, toegestaan 2 tot 4." in page
    assert "&#39;Doel voor de week&#39; moet een tekst zijn en mag niet leeg zijn." in page
    assert "Maar één tip" in page and "Fijn dat je om feedback vraagt" in page
    assert content.get_advice("ask_feedback", "during", "BOL").tips[0] != "Maar één tip"


def test_unknown_placeholder_and_topic_are_reported(coordinator):
    form = dict(GOOD, why="Dit helpt {naam}.", related="ask_nothing", action="draft")
    page = coordinator.post(URL, data=form).get_data(as_text=True)
    assert "onbekende invulplek" in page and "onbekend onderwerp" in page


def test_preview_renders_like_the_chat(coordinator):
    response = coordinator.post(URL, data=dict(GOOD, action="preview"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Voorbeeld in de chat" in page
    assert "Fijn dat je om feedback vraagt, Sam." in page  # {voornaam} filled in
    assert "Waarom werkt dit? Wie iets doet met feedback, leert sneller." in page
    assert "Ja, zet als doel" in page
    assert len(content.history(("ask_feedback", "during", "any"))) == 1  # nothing saved


def test_draft_is_not_live_until_published(coordinator):
    before = content.get_advice("ask_feedback", "during", "BOL")
    response = coordinator.post(URL, data=dict(GOOD, action="draft"))
    assert response.status_code == 302
    assert content.get_advice("ask_feedback", "during", "BOL") == before
    history = content.history(("ask_feedback", "during", "any"))
    assert history[0].status == "draft" and history[0].author == "Els Visser (coord-1)"
    coordinator.post(f"{URL}/versions/{history[0].id}/publish")
    assert content.get_advice("ask_feedback", "during", "BOL").why == GOOD["why"]


def test_publish_makes_get_advice_return_the_new_text(coordinator):
    response = coordinator.post(URL, data=dict(GOOD, action="publish"))
    assert response.status_code == 302
    advice = content.get_advice("ask_feedback", "during", "BOL")
    assert advice.why == GOOD["why"]
    assert advice.tips == ("Vraag na een taak: wat kan ik beter doen?", "Schrijf de tip op en probeer hem morgen.")
    assert advice.related == ("ask_communication",)
    assert advice.version == 2


def test_rollback_restores_the_old_text(coordinator):
    old = content.get_advice("ask_feedback", "during", "BOL")
    coordinator.post(URL, data=dict(GOOD, action="publish"))
    assert content.get_advice("ask_feedback", "during", "BOL").why == GOOD["why"]
    page = coordinator.get(URL).get_data(as_text=True)
    assert "Terugzetten" in page
    response = coordinator.post(f"{URL}/rollback/1")
    assert response.status_code == 302
    restored = content.get_advice("ask_feedback", "during", "BOL")
    assert restored.why == old.why and restored.version == 3
    statuses = [v.status for v in content.history(("ask_feedback", "during", "any"))]
    assert statuses == ["published", "archived", "archived"]


def test_new_variant_for_bbl(coordinator):
    response = coordinator.get("/coordinator/content/new?topic=ask_feedback&phase=after&leerweg=BBL")
    assert response.headers["Location"] == "/coordinator/content/ask_feedback/after/BBL"
    assert coordinator.post("/coordinator/content/ask_feedback/after/BBL", data=dict(GOOD, action="publish")).status_code == 302
    assert content.get_advice("ask_feedback", "after", "BBL").why == GOOD["why"]
    assert content.get_advice("ask_feedback", "after", "BOL").why != GOOD["why"]
