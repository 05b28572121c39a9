"""Weekly anonymous overview: topics asked and reflections completed per week."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from bot.db import session_scope
from bot.models import ContentTopic, Reflection, TopicRequest
from bot.portal.access import require_role
from bot.portal.charts import bar_chart, week_label
from bot.portal.views.coordinator import bp
from bot.weeks import iso_week, shift_week

WEEKS = 8


@bp.get("/overview")
@require_role("coordinator")
def overview():
    current = iso_week()
    weeks = [shift_week(current, -i) for i in range(WEEKS - 1, -1, -1)]
    with session_scope() as db:
        asked = db.execute(
            select(TopicRequest.iso_week, TopicRequest.topic, func.count(TopicRequest.id))
            .where(TopicRequest.iso_week.in_(weeks))
            .group_by(TopicRequest.iso_week, TopicRequest.topic)
        ).all()
        done = dict(
            db.execute(
                select(Reflection.iso_week, func.count(Reflection.id))
                .where(Reflection.iso_week.in_(weeks))
                .group_by(Reflection.iso_week)
            ).all()
        )
        labels = {t.topic: t.label for t in db.execute(select(ContentTopic)).scalars()}
    per_topic = {}
    for week, topic, count in asked:
        per_topic.setdefault(topic, {})[week] = count
    topics = sorted(per_topic, key=lambda t: -sum(per_topic[t].values()))
    table = [
        {"label": labels.get(t, t), "counts": [per_topic[t].get(w, 0) for w in weeks], "total": sum(per_topic[t].values())}
        for t in topics
    ]
    asked_per_week = [sum(per_topic[t].get(w, 0) for t in topics) for w in weeks]
    return render_template(
        "coordinator/overview.html",
        weeks=weeks,
        week_labels=[week_label(w) for w in weeks],
        table=table,
        asked_per_week=asked_per_week,
        done=[done.get(w, 0) for w in weeks],
        reflections_chart=bar_chart([(week_label(w), done.get(w, 0)) for w in weeks]),
        topics_chart=bar_chart([(week_label(w), n) for w, n in zip(weeks, asked_per_week)]),
    )
