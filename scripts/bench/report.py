"""Targets and the readable report (Markdown, also printed). Pure: dict in, text out."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

REPRODUCE = "make bench  # or: BENCH_SKIP_NLU=1 make bench (no cross-validation, ~15-20 min)"


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _max_or_none(*values: Optional[float]) -> Optional[float]:
    if any(v is None for v in values):
        return None
    return max(values)


# (name, target text, value getter, unit, comparison, limit)
TARGETS: Sequence = (
    ("p95 latency / baseline, concurrency 1", "≤ 1.5×", lambda r: dig(r, "ratio", "c1", "p95"), "×", "le", 1.5),
    ("p95 latency / baseline, concurrency 10", "≤ 1.5×", lambda r: dig(r, "ratio", "c10", "p95"), "×", "le", 1.5),
    ("throughput per Rasa process, concurrency 10", "≥ 40 msgs/s",
     lambda r: dig(r, "throughput_msgs_per_s", "ours"), "msgs/s", "ge", 40),
    ("full training from scratch", "≤ 180 s", lambda r: r.get("train_seconds"), "s", "le", 180),
    ("content edit live in chat", "≤ 1 s", lambda r: r.get("content_live_seconds"), "s", "le", 1.0),
    ("portal p95: supervisor overview", "≤ 200 ms",
     lambda r: dig(r, "portal_ms", "supervisor_overview", "p95"), "ms", "le", 200),
    ("portal p95: intern weekly log", "≤ 200 ms",
     lambda r: dig(r, "portal_ms", "intern_weekly_log", "p95"), "ms", "le", 200),
    ("whole stack RSS under load", "≤ 1.6 GB (1600 MB)",
     lambda r: dig(r, "rss_mb", "under_load", "total"), "MB", "le", 1600),
)


def evaluate_targets(result: Dict[str, Any], targets: Sequence = TARGETS) -> List[Dict[str, Any]]:
    rows = []
    for name, text, getter, unit, comparison, limit in targets:
        value = getter(result)
        if value is None:
            met = None
        elif comparison == "le":
            met = value <= limit
        else:
            met = value >= limit
        rows.append({"name": name, "target": text, "value": value, "unit": unit, "met": met})
    return rows


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(cell) if not isinstance(cell, str) else cell for cell in row) + " |")
    return lines


MET_TEXT = {True: "met", False: "**missed**", None: "not measured"}


def render_markdown(result: Dict[str, Any]) -> str:
    machine = result.get("machine") or {}
    settings = result.get("settings") or {}
    out: List[str] = ["# Stagecoach benchmark", ""]
    out.append(
        f"{fmt(machine.get('date'))} · commit `{(machine.get('git_commit') or '?')[:10]}`"
        f"{' (uncommitted changes)' if machine.get('git_dirty') else ''} · {fmt(machine.get('cores'))} cores "
        f"{fmt(machine.get('cpu_model'))} · {fmt(machine.get('ram_gb'))} GB RAM · Python {fmt(machine.get('python'))} · "
        f"Rasa {fmt(machine.get('rasa'))} · load average at start {fmt(machine.get('loadavg_at_start'))}"
    )
    model = result.get("model") or {}
    if model.get("trained_at"):
        out += ["", f"Served model: trained {model['trained_at'][:16]}, NLU "
                    f"{', '.join(model.get('nlu_components') or [])}."]
        if model.get("config_changed_since_training"):
            out.append("**config.yml changed after this model was trained**: the chat numbers are for this model, "
                       "the training times for the current config.yml. Run `make train` and the bench again.")
    out += ["", "## Targets", ""]
    out += _table(
        ["what", "target", "measured", "result"],
        [[t["name"], t["target"], f"{fmt(t['value'], 2)} {t['unit']}", MET_TEXT[t["met"]]]
         for t in result.get("targets") or []],
    )

    out += ["", "## Chat round trip (authenticated socket.io channel)", ""]
    rows = []
    for level in ("c1", "c10"):
        ours, base = dig(result, "latency_ms", level) or {}, dig(result, "baseline_latency_ms", level) or {}
        ratios = dig(result, "ratio", level) or {}
        rows.append([
            level[1:], fmt(ours.get("n")), fmt(ours.get("p50")), fmt(ours.get("p95")), fmt(ours.get("p99")),
            fmt(base.get("p50")), fmt(base.get("p95")), fmt(base.get("p99")),
            fmt(ratios.get("p50"), 2), fmt(ratios.get("p95"), 2),
        ])
    out += _table(
        ["concurrency", "turns", "ours p50 ms", "ours p95 ms", "ours p99 ms", "baseline p50 ms",
         "baseline p95 ms", "baseline p99 ms", "ratio p50", "ratio p95"],
        rows,
    )
    tput = result.get("throughput_msgs_per_s") or {}
    out += ["", f"Throughput at concurrency 10 (one Rasa process): ours {fmt(tput.get('ours'))} msgs/s, "
                f"baseline {fmt(tput.get('baseline'))} msgs/s."]
    kinds = dig(result, "phases", "ours_c10", "latency_by_kind_p50_ms")
    if kinds:
        out.append("Ours at concurrency 10, p50 by kind of turn: "
                   + ", ".join(f"{k} {fmt(v)} ms" for k, v in kinds.items()) + ".")
    transport = result.get("transport_check") or {}
    if transport.get("websocket") and transport.get("polling"):
        out.append(
            f"Transport check (ours, concurrency 1, alternating): websocket p50 "
            f"{fmt(transport['websocket'].get('p50'))} ms, long polling p50 {fmt(transport['polling'].get('p50'))} ms."
        )
    flags = []
    for name, phase in (result.get("phases") or {}).items():
        bad = {k: phase.get(k) for k in ("incomplete_turns", "surplus_replies", "expectation_failures") if phase.get(k)}
        if bad or phase.get("errors"):
            flags.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in bad.items())
                         + (f" errors {len(phase['errors'])}" if phase.get("errors") else ""))
    out.append("Turn checks: " + ("; ".join(flags) if flags else "every turn complete, no surplus replies, "
                                  "every expected text seen.") )

    out += ["", "## Training, content, portal, memory", ""]
    training = result.get("training") or {}
    content = result.get("content_live") or {}
    portal = result.get("portal_ms") or {}
    rss = result.get("rss_mb") or {}
    rest, load = rss.get("at_rest") or {}, rss.get("under_load") or {}
    out += _table(
        ["measurement", "value"],
        [
            ["full training (`rasa train --force`, cold)", f"{fmt(result.get('train_seconds'))} s"],
            ["retrain after one new NLU example (warm cache)", f"{fmt(result.get('train_seconds_nlu_change'))} s"],
            ["content edit → visible in chat (max of trials)",
             f"{fmt(result.get('content_live_seconds'), 3)} s (samples: "
             + ", ".join(fmt(s.get('live_seconds'), 3) for s in content.get("samples") or []) + ")"],
            ["portal supervisor overview p50 / p95",
             f"{fmt(dig(portal, 'supervisor_overview', 'p50'))} / {fmt(dig(portal, 'supervisor_overview', 'p95'))} ms"],
            ["portal intern weekly log p50 / p95",
             f"{fmt(dig(portal, 'intern_weekly_log', 'p50'))} / {fmt(dig(portal, 'intern_weekly_log', 'p95'))} ms"],
            ["RSS at rest: rasa / actions / portal / total",
             f"{fmt(rest.get('rasa'))} / {fmt(rest.get('actions'))} / {fmt(rest.get('portal'))} / {fmt(rest.get('total'))} MB"],
            ["RSS max under load (c=10)", f"{fmt(load.get('rasa'))} / {fmt(load.get('actions'))} / "
                                         f"{fmt(load.get('portal'))} / {fmt(load.get('total'))} MB"],
            ["baseline Rasa RSS at rest / under load",
             f"{fmt(dig(rss, 'baseline', 'at_rest'))} / {fmt(dig(rss, 'baseline', 'under_load'))} MB"],
        ],
    )
    if training.get("loadavg_1min_before") is not None:
        out.append("")
        out.append(f"Load average before the full training: {fmt(training['loadavg_1min_before'], 2)} "
                   f"(other work on the machine slows every number here).")
    data = portal.get("data") or {}
    if data:
        out.append(f"Portal data: {data.get('interns_count')} interns × {data.get('weeks')} weeks = "
                   f"{data.get('reflections')} reflections; {fmt(portal.get('requests_per_page'))} requests per page.")

    out += ["", "## NLU (cross-validation on data/nlu)", ""]
    nlu = result.get("nlu") or {}
    if nlu.get("skipped"):
        out.append("Not run (BENCH_SKIP_NLU=1).")
    elif nlu.get("error"):
        out.append(f"Failed: {nlu['error']}")
    else:
        out += _table(
            ["pipeline", "macro-F1", "report_unsafe recall", "seconds"],
            [[name, fmt(dig(nlu, name, "macro_f1"), 3), fmt(dig(nlu, name, "report_unsafe_recall"), 3),
              fmt(dig(nlu, name, "seconds"), 0)] for name in ("config.yml", "rasa_default")],
        )
        out.append(f"{fmt(nlu.get('folds'))}-fold, seeded, same folds for both: {fmt(nlu.get('same_folds'))}.")

    profile = result.get("profile") or {}
    if profile.get("processes"):
        phase = profile.get("phase") or {}
        out += ["", "## Where the time goes (py-spy, extra concurrency-10 phase)", ""]
        out.append(f"Profiled phase: {fmt(phase.get('turns'))} turns in {fmt(phase.get('wall_seconds'))} s "
                   f"({fmt(phase.get('throughput_msgs_per_s'))} msgs/s with the sampler running). "
                   "Share of each process's busy samples:")
        for name, summary in profile["processes"].items():
            if not summary:
                continue
            busy, idle = summary.get("busy_samples") or 0, summary.get("idle_samples") or 0
            out += ["", f"**{name}** ({busy} busy of {busy + idle} samples at 100 Hz)", ""]
            out += _table(["bucket", "% of busy"],
                          [[label, fmt(pct)] for label, pct in (summary.get("buckets_pct") or {}).items()])

    errors = result.get("errors") or {}
    if errors:
        out += ["", "## Parts that failed", ""]
        out += [f"- {name}: {text.splitlines()[0] if text else ''}" for name, text in errors.items()]

    out += ["", "## Method", ""]
    out += [f"- {line}" for line in result.get("method") or []]
    out += [
        f"- Settings: {settings.get('conversations_c1')} conversations at concurrency 1, "
        f"{settings.get('conversations_c10')} at concurrency 10, {settings.get('turns_per_conversation')} turns each, "
        f"transport {settings.get('transport')}.",
        f"- Reproduce: `{REPRODUCE}`",
    ]
    return "\n".join(out) + "\n"
