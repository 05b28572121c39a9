"""Advice content store: topic x phase x leerweg, versioned, publish and rollback.

Actions read published content at answer time through `get_advice`, cached per
content revision: one cheap query per answer tells whether anything changed, so a
coordinator's publish is live in the next answer without retraining or restarts.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.content_schema import BODY_KEYS, ContentValidationError, validate_body, validate_document
from bot.db import session_scope
from bot.models import ContentRevision, ContentTopic, ContentVersion, utcnow
from bot.topics import COACHING_TOPICS

Key = Tuple[str, str, str]  # topic, phase, leerweg


@dataclass(frozen=True)
class Advice:
    topic: str
    phase: str
    leerweg: str
    version: int
    acknowledge: Tuple[str, ...]
    tips: Tuple[str, ...]
    why: str
    micro_goal: str
    related: Tuple[str, ...] = field(default_factory=tuple)


class _PublishedCache:
    """Published bodies keyed by (topic, phase, leerweg), valid for one revision."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (database URL, revision): another database may be at the same revision number
        self.revision: Optional[Tuple[str, int]] = None
        self.advice: Dict[Key, Advice] = {}
        self.labels: Dict[str, str] = {}

    def refresh_if_stale(self, session: Session) -> None:
        revision = (str(session.get_bind().url), _current_revision(session))
        with self._lock:
            if revision == self.revision:
                return
            rows = session.execute(
                select(ContentVersion).where(ContentVersion.status == "published")
            ).scalars()
            self.advice = {(r.topic, r.phase, r.leerweg): _to_advice(r) for r in rows}
            self.labels = {t.topic: t.label for t in session.execute(select(ContentTopic)).scalars()}
            self.revision = revision


_cache = _PublishedCache()


def _current_revision(session: Session) -> int:
    value = session.execute(select(func.max(ContentRevision.revision))).scalar()
    return int(value or 0)


def _bump_revision(session: Session) -> None:
    row = session.get(ContentRevision, 1)
    if row is None:
        session.add(ContentRevision(id=1, revision=1, changed_at=utcnow()))
        session.flush()
    else:
        row.revision += 1
        row.changed_at = utcnow()


def _to_advice(row: ContentVersion) -> Advice:
    body = json.loads(row.body)
    return Advice(
        topic=row.topic,
        phase=row.phase,
        leerweg=row.leerweg,
        version=row.version,
        acknowledge=tuple(body["acknowledge"]),
        tips=tuple(body["tips"]),
        why=body["why"],
        micro_goal=body["micro_goal"],
        related=tuple(body.get("related", [])),
    )


def _body_of(entry: dict) -> dict:
    return {key: entry.get(key, [] if key == "related" else None) for key in BODY_KEYS}


def _dump_body(body: dict) -> str:
    return json.dumps(_body_of(body), ensure_ascii=False, sort_keys=True)


def fallback_keys(topic: str, phase: Optional[str], leerweg: Optional[str]) -> List[Key]:
    """Most specific first: exact, same phase any leerweg, any phase, anything."""
    phase = phase or "any"
    leerweg = leerweg or "any"
    keys = [
        (topic, phase, leerweg),
        (topic, phase, "any"),
        (topic, "any", leerweg),
        (topic, "any", "any"),
    ]
    return list(dict.fromkeys(keys))


def get_advice(topic: str, phase: Optional[str] = None, leerweg: Optional[str] = None) -> Optional[Advice]:
    with session_scope() as session:
        _cache.refresh_if_stale(session)
    for key in fallback_keys(topic, phase, leerweg):
        if key in _cache.advice:
            return _cache.advice[key]
    # Nothing for this phase at all: any published phase of the topic beats no answer.
    for (other_topic, _, other_leerweg), advice in sorted(_cache.advice.items()):
        if other_topic == topic and other_leerweg in ("any", leerweg):
            return advice
    return None


def topic_label(topic: str) -> str:
    with session_scope() as session:
        _cache.refresh_if_stale(session)
    return _cache.labels.get(topic, topic.replace("ask_", "").replace("_", " "))


def published_variants(topic: str) -> Dict[str, set]:
    """Which phases and leerwegen have published advice for a topic."""
    with session_scope() as session:
        _cache.refresh_if_stale(session)
    phases, leerwegen = set(), set()
    for (other_topic, phase, leerweg) in _cache.advice:
        if other_topic == topic:
            phases.add(phase)
            leerwegen.add(leerweg)
    return {"phases": phases, "leerwegen": leerwegen}


# --- editing -------------------------------------------------------------------------


def _latest_version(session: Session, key: Key) -> Optional[ContentVersion]:
    topic, phase, leerweg = key
    return session.execute(
        select(ContentVersion)
        .where(ContentVersion.topic == topic, ContentVersion.phase == phase, ContentVersion.leerweg == leerweg)
        .order_by(ContentVersion.version.desc())
        .limit(1)
    ).scalar()


def _published(session: Session, key: Key) -> Optional[ContentVersion]:
    topic, phase, leerweg = key
    return session.execute(
        select(ContentVersion).where(
            ContentVersion.topic == topic,
            ContentVersion.phase == phase,
            ContentVersion.leerweg == leerweg,
            ContentVersion.status == "published",
        )
    ).scalar()


def _ensure_topic(session: Session, topic: str, label: Optional[str]) -> None:
    row = session.get(ContentTopic, topic)
    if row is None:
        session.add(ContentTopic(topic=topic, label=label or topic))
    elif label and row.label != label:
        row.label = label


def _add_version(session: Session, key: Key, body: str, author: str, status: str) -> ContentVersion:
    latest = _latest_version(session, key)
    row = ContentVersion(
        topic=key[0],
        phase=key[1],
        leerweg=key[2],
        version=(latest.version + 1) if latest else 1,
        status=status,
        body=body,
        author=author,
        published_at=utcnow() if status == "published" else None,
    )
    session.add(row)
    session.flush()
    return row


def _publish_row(session: Session, row: ContentVersion) -> None:
    current = _published(session, (row.topic, row.phase, row.leerweg))
    if current is not None and current.id != row.id:
        current.status = "archived"
        session.flush()
    row.status = "published"
    row.published_at = utcnow()
    _bump_revision(session)


def import_documents(documents: Iterable[Tuple[str, object]], author: str) -> Dict[str, int]:
    """Validates every document first; imports all or nothing.

    Entries whose text equals the published version are left alone, so
    re-importing an export changes nothing.
    """
    documents = list(documents)
    errors: List[str] = []
    for source, doc in documents:
        errors.extend(validate_document(doc, source))
    if errors:
        raise ContentValidationError(errors)
    counts = {"published": 0, "unchanged": 0}
    with session_scope() as session:
        for _, doc in documents:
            _ensure_topic(session, doc["topic"], doc["label"])
            for entry in doc["entries"]:
                key = (doc["topic"], entry["phase"], entry["leerweg"])
                body = _dump_body(entry)
                current = _published(session, key)
                if current is not None and current.body == body:
                    counts["unchanged"] += 1
                    continue
                _publish_row(session, _add_version(session, key, body, author, "draft"))
                counts["published"] += 1
        _bump_revision(session)
    return counts


class _ContentLoader(yaml.SafeLoader):
    """safe_load without aliases (no "billion laughs") and without duplicate keys
    (PyYAML would silently keep the last one)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _ContentYAMLError(event.start_mark, "verwijzingen (*naam) zijn niet toegestaan; schrijf de tekst uit")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise _ContentYAMLError(key_node.start_mark, f"het veld '{key[:40]}' staat er twee keer in")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _ContentYAMLError(yaml.YAMLError):
    def __init__(self, mark, problem: str):
        super().__init__(problem)
        self.problem_mark = mark
        self.problem = problem


def load_yaml_documents(path: Path) -> List[Tuple[str, object]]:
    """Reads a file with one topic document, or a list/bundle of them."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ContentValidationError([f"{path.name}: het bestand is geen UTF-8 tekst ({error.reason})."])
    try:
        loaded = yaml.load(text, Loader=_ContentLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (regel {mark.line + 1})" if mark else ""
        reason = f": {error.problem}" if isinstance(error, _ContentYAMLError) else ""
        raise ContentValidationError([f"{path.name}: geen geldige YAML{where}{reason}."])
    if isinstance(loaded, dict) and "topics" in loaded and set(loaded) <= {"version", "topics"}:
        loaded = loaded["topics"]
    if isinstance(loaded, list):
        return [(f"{path.name} #{i}", doc) for i, doc in enumerate(loaded, start=1)]
    return [(path.name, loaded)]


def export_documents() -> List[dict]:
    with session_scope() as session:
        labels = {t.topic: t.label for t in session.execute(select(ContentTopic)).scalars()}
        rows = session.execute(
            select(ContentVersion)
            .where(ContentVersion.status == "published")
            .order_by(ContentVersion.topic, ContentVersion.phase, ContentVersion.leerweg)
        ).scalars()
        by_topic: Dict[str, List[dict]] = {}
        for row in rows:
            entry = {"phase": row.phase, "leerweg": row.leerweg}
            entry.update(json.loads(row.body))
            by_topic.setdefault(row.topic, []).append(entry)
    order = {topic: i for i, topic in enumerate(COACHING_TOPICS)}
    return [
        {"topic": topic, "label": labels.get(topic, topic), "entries": entries}
        for topic, entries in sorted(by_topic.items(), key=lambda kv: order.get(kv[0], 99))
    ]


def dump_yaml(documents: List[dict]) -> str:
    return yaml.safe_dump(
        {"version": 1, "topics": documents}, allow_unicode=True, sort_keys=False, width=100
    )


def save_draft(key: Key, body: dict, author: str) -> int:
    errors = validate_body(body, f"{key[0]} / {key[1]} / {key[2]}")
    if errors:
        raise ContentValidationError(errors)
    with session_scope() as session:
        if session.get(ContentTopic, key[0]) is None:
            raise ContentValidationError([f"Onbekend onderwerp '{key[0]}'."])
        return _add_version(session, key, _dump_body(body), author, "draft").id


def publish(version_id: int) -> None:
    with session_scope() as session:
        row = session.get(ContentVersion, version_id)
        if row is None:
            raise LookupError(f"Versie {version_id} bestaat niet.")
        _publish_row(session, row)


def rollback(key: Key, to_version: int, author: str) -> int:
    """Re-publishes an older text as a new version, so history stays linear."""
    with session_scope() as session:
        old = session.execute(
            select(ContentVersion).where(
                ContentVersion.topic == key[0],
                ContentVersion.phase == key[1],
                ContentVersion.leerweg == key[2],
                ContentVersion.version == to_version,
            )
        ).scalar()
        if old is None:
            raise LookupError(f"Versie {to_version} van {key} bestaat niet.")
        row = _add_version(session, key, old.body, author, "draft")
        _publish_row(session, row)
        return row.id


def history(key: Key) -> List[ContentVersion]:
    with session_scope() as session:
        return list(
            session.execute(
                select(ContentVersion)
                .where(
                    ContentVersion.topic == key[0],
                    ContentVersion.phase == key[1],
                    ContentVersion.leerweg == key[2],
                )
                .order_by(ContentVersion.version.desc())
            ).scalars()
        )


def is_empty() -> bool:
    with session_scope() as session:
        return session.execute(select(func.count(ContentVersion.id))).scalar() == 0
