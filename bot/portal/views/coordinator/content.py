"""The advice content editor: list, edit with validation and preview, drafts,
publish, version history and rollback (all through bot.content)."""
from __future__ import annotations

from typing import Dict, Tuple

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot import content
from bot.content_schema import ContentValidationError
from bot.db import session_scope
from bot.models import ContentTopic, ContentVersion
from bot.portal import content_form
from bot.portal.access import current_user, require_role
from bot.portal.labels import LEERWEG_NAMES, PHASE_NAMES
from bot.portal.views.coordinator import bp
from bot.topics import CONTENT_LEERWEGEN, CONTENT_PHASES

Key = Tuple[str, str, str]


def _labels() -> Dict[str, str]:
    with session_scope() as db:
        return {t.topic: t.label for t in db.execute(select(ContentTopic).order_by(ContentTopic.topic)).scalars()}


def _key_or_404(topic: str, phase: str, leerweg: str) -> Key:
    if phase not in CONTENT_PHASES or leerweg not in CONTENT_LEERWEGEN or topic not in _labels():
        abort(404)
    return topic, phase, leerweg


def _url(key: Key, **extra) -> str:
    return url_for("coordinator.content_edit", topic=key[0], phase=key[1], leerweg=key[2], **extra)


@bp.get("/content")
@require_role("coordinator")
def content_list():
    labels = _labels()
    with session_scope() as db:
        rows = db.execute(
            select(ContentVersion).order_by(
                ContentVersion.topic, ContentVersion.phase, ContentVersion.leerweg, ContentVersion.version
            )
        ).scalars().all()
    variants: Dict[Key, dict] = {}
    for row in rows:
        entry = variants.setdefault((row.topic, row.phase, row.leerweg), {"published": None, "draft": False})
        if row.status == "published":
            entry["published"], entry["draft"] = row, False
        elif row.status == "draft":
            entry["draft"] = True  # a draft newer than what is published
    topics = [
        {
            "topic": topic,
            "label": label,
            "variants": [
                {"phase": k[1], "leerweg": k[2], **v} for k, v in sorted(variants.items()) if k[0] == topic
            ],
        }
        for topic, label in sorted(labels.items(), key=lambda kv: kv[1].lower())
    ]
    return render_template(
        "coordinator/content_list.html",
        topics=topics,
        phases=CONTENT_PHASES,
        leerwegen=CONTENT_LEERWEGEN,
        phase_names=PHASE_NAMES,
        leerweg_names=LEERWEG_NAMES,
    )


@bp.get("/content/new")
@require_role("coordinator")
def content_new():
    key = _key_or_404(request.args.get("topic", ""), request.args.get("phase", ""), request.args.get("leerweg", ""))
    return redirect(_url(key))


def _page(key: Key, form: Dict[str, str], status: int = 200, errors=(), preview=None, shown_version=None):
    labels = _labels()
    return render_template(
        "coordinator/content_edit.html",
        key=key,
        label=labels.get(key[0], key[0]),
        form=form,
        errors=list(errors),
        preview=preview,
        history=content.history(key),
        shown_version=shown_version,
        field_names=content_form.FIELD_NAMES,
        hints=content_form.hints(),
        status_names=content_form.STATUS_NAMES,
        phase_names=PHASE_NAMES,
        leerweg_names=LEERWEG_NAMES,
        topics=labels,
        preview_name=content_form.PREVIEW_NAME,
        preview_company=content_form.PREVIEW_COMPANY,
    ), status


@bp.get("/content/<topic>/<phase>/<leerweg>")
@require_role("coordinator")
def content_edit(topic: str, phase: str, leerweg: str):
    key = _key_or_404(topic, phase, leerweg)
    versions = content.history(key)
    shown = None
    wanted = request.args.get("version", type=int)
    if wanted is not None:
        shown = next((v for v in versions if v.version == wanted), None)
        if shown is None:
            abort(404)
    elif versions:
        shown = versions[0]  # the newest: a draft in progress, or what is published
    form = content_form.form_from_body(shown.body if shown else None)
    return _page(key, form, shown_version=shown)


@bp.post("/content/<topic>/<phase>/<leerweg>")
@require_role("coordinator")
def content_save(topic: str, phase: str, leerweg: str):
    key = _key_or_404(topic, phase, leerweg)
    action = request.form.get("action", "preview")
    typed = content_form.typed_form(request.form)
    body = content_form.body_from_form(request.form)
    errors = content_form.dutch_errors(body)
    if errors:
        return _page(key, typed, 400, errors=errors)
    if action == "preview":
        return _page(key, typed, preview=content_form.preview(*key, body, _labels()))
    if action not in ("draft", "publish"):
        abort(400)
    try:
        version_id = content.save_draft(key, body, author=current_user().label[:200])
    except ContentValidationError as error:
        return _page(key, typed, 400, errors=error.errors)
    if action == "publish":
        content.publish(version_id)
        flash("Gepubliceerd. De coach gebruikt deze tekst vanaf het volgende antwoord.", "success")
    else:
        flash("Opgeslagen als concept. Studenten zien het pas als je het publiceert.", "success")
    return redirect(_url(key))


@bp.post("/content/<topic>/<phase>/<leerweg>/versions/<int:version_id>/publish")
@require_role("coordinator")
def content_publish(topic: str, phase: str, leerweg: str, version_id: int):
    key = _key_or_404(topic, phase, leerweg)
    with session_scope() as db:
        row = db.get(ContentVersion, version_id)
        if row is None or (row.topic, row.phase, row.leerweg) != key:
            abort(404)
        number = row.version
    content.publish(version_id)
    flash(f"Versie {number} is gepubliceerd.", "success")
    return redirect(_url(key))


@bp.post("/content/<topic>/<phase>/<leerweg>/rollback/<int:version>")
@require_role("coordinator")
def content_rollback(topic: str, phase: str, leerweg: str, version: int):
    key = _key_or_404(topic, phase, leerweg)
    try:
        content.rollback(key, version, author=current_user().label[:200])
    except LookupError:
        abort(404)
    flash(f"De tekst van versie {version} staat weer live, als nieuwe versie.", "success")
    return redirect(_url(key))

