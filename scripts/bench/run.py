"""`python -m scripts.bench` (`make bench`): measured speed of the real stack.

Starts our stack (Rasa server, action server, portal; SQLite app database and
tracker store under var/bench/, or fresh PostgreSQL databases with
BENCH_DATABASE=postgres) and a `rasa init`-style baseline Rasa server on
free loopback ports, then measures, in this order: chat latency and throughput
(ours and baseline, concurrency 1 and 10), memory, content-edit-to-chat time,
portal page times, training times and (last, slow) cross-validated NLU quality.
Writes var/bench/latest.json and var/bench/latest.md and prints the table. Numbers
are reported, never asserted; a part that fails is recorded under "errors" and the
rest still runs.

Settings (environment or options): BENCH_SKIP_NLU=1, BENCH_NLU_FOLDS (3),
BENCH_SKIP_TRAINING=1, BENCH_C1_CONVERSATIONS (5), BENCH_C10_CONVERSATIONS (30),
BENCH_TRANSPORT (websocket|polling), BENCH_PORTAL_REQUESTS (40), BENCH_MODEL,
BENCH_PYSPY (profiled extra phase), BENCH_EXPERIMENT (what-if variant). See
scripts/bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Sequence

from bot.config import PROJECT_ROOT, VAR_DIR

BASELINE_PROJECT = PROJECT_ROOT / "bench" / "baseline"
TOKEN_MINUTES = 240  # tokens are checked at connect; a long run must not outlive them

METHOD = [
    "Every number comes from the real processes on loopback ports: `rasa run` with models/coach.tar.gz and the "
    "project's credentials (bot.channels.TokenSocketIOInput), the rasa_sdk action server, the portal under "
    "waitress; app database and tracker store fresh each run: SQLite files in var/bench/ by default, two "
    "PostgreSQL databases on the local server with BENCH_DATABASE=postgres (the `database` setting).",
    "Chat client: socket.io over a websocket (what the portal's chat page uses after its first request), one "
    "connection per student with a signed token from bot.tokens; every conversation belongs to a different "
    "imported student. Long polling (python-socketio client) is measured alongside as a transport check.",
    "Turn complete: our channel emits `bot_turn_done` after the last reply of every turn (bot/channel_guard.py), "
    "so our turns end exactly there; the stock channel of the baseline has no such event, so its turns end "
    "after the number of replies the step gave in a calibration conversation (run alone, 2 s quiet period). "
    "Latency = send → arrival of the turn's last reply. Incomplete turns, surplus replies and missing expected "
    "texts are counted and shown.",
    "The chat channel's per-student flood limit (CHAT_RATE_BURST/CHAT_RATE_PER_MINUTE) is raised for the bench: "
    "simulated students send their next message the moment a turn is over, which the limit would answer with "
    "\"Rustig aan\" instead of passing it to Rasa. The check itself still runs.",
    "Mix per conversation (16 turns): greeting, two coaching questions (phase button payload, micro-goal yes/no), "
    "a full weekly reflection through the form (6 answers, sharing choice, save), thanks.",
    "Baseline: bench/baseline, a `rasa init`-style Dutch mood bot with Rasa's default config, no custom actions, "
    "stock `socketio` channel, Rasa's SQL tracker store on SQLite (like ours by default, so the ratio measures "
    "our pipeline, actions and channel, not persistence; with BENCH_DATABASE=postgres the ratio also includes "
    "PostgreSQL against SQLite); its own 16-turn mix.",
    "After one calibration and one unmeasured warm-up conversation each, ours and the baseline alternate in "
    "rounds (ours, baseline, ours, baseline, ...; BENCH_ROUNDS, default 3) at concurrency 1 and then 10, so a "
    "change in the machine's load hits both alike; concurrency 10 = 10 closed-loop clients without think time; "
    "throughput = turns / summed wall time of that assistant's rounds.",
    "Other work shares this machine's CPU, so absolute numbers are noisy; the ratios against the baseline, "
    "measured minutes apart in the same run, are the comparable part.",
]


def env_int(name: str, default: int) -> int:
    value = (os.environ.get(name) or "").strip()
    return int(value) if value else default


def env_flag(name: str) -> bool:
    return (os.environ.get(name) or "").strip().lower() in ("1", "true", "yes")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=VAR_DIR / "bench")
    p.add_argument("--model", type=Path, default=Path(os.environ.get("BENCH_MODEL") or PROJECT_ROOT / "models" / "coach.tar.gz"))
    p.add_argument("--c1", type=int, default=env_int("BENCH_C1_CONVERSATIONS", 5), help="conversations at concurrency 1")
    p.add_argument("--c10", type=int, default=env_int("BENCH_C10_CONVERSATIONS", 30), help="conversations at concurrency 10")
    p.add_argument("--transport", default=os.environ.get("BENCH_TRANSPORT") or "websocket", choices=["websocket", "polling"])
    p.add_argument("--rounds", type=int, default=env_int("BENCH_ROUNDS", 3),
                   help="ours and baseline alternate in this many rounds per concurrency level")
    p.add_argument("--portal-requests", type=int, default=env_int("BENCH_PORTAL_REQUESTS", 40))
    p.add_argument("--database", default=os.environ.get("BENCH_DATABASE") or "sqlite", choices=["sqlite", "postgres"],
                   help="where our stack keeps its data and Rasa's trackers: fresh SQLite files, or fresh databases "
                        "on the local PostgreSQL server (BENCH_POSTGRES_ADMIN_URL, default postgres@127.0.0.1:5432)")
    p.add_argument("--nlu-folds", type=int, default=env_int("BENCH_NLU_FOLDS", 3))
    p.add_argument("--skip-nlu", action="store_true", default=env_flag("BENCH_SKIP_NLU"))
    p.add_argument("--skip-training", action="store_true", default=env_flag("BENCH_SKIP_TRAINING"))
    p.add_argument("--py-spy", default=os.environ.get("BENCH_PYSPY") or "",
                   help="path of a py-spy binary: adds an extra, separately reported concurrency-10 phase of ours "
                        "profiled with py-spy (var/bench/profile/); the measured phases stay unprofiled")
    return p.parse_args(argv)


if TYPE_CHECKING:
    from scripts.bench.database import BenchDatabases


# --- database and students ---------------------------------------------------------

def use_bench_database(bench_dir: Path, kind: str) -> "BenchDatabases":
    """Fresh bench databases (SQLite files or PostgreSQL), migrated; returns them."""
    from bot import config, db
    from bot.stack import prepare_database
    from scripts.bench.database import fresh_databases

    databases = fresh_databases(bench_dir, kind)
    os.environ["DATABASE_URL"] = databases.url
    os.environ["TRACKER_STORE_URL"] = databases.tracker_url
    config.reset_settings()
    db.reset_engine()
    prepare_database(databases.url)
    return databases


def import_students(count: int, prefix: str = "bench-stu", supervisor: str = "bench-sup-chat") -> List[str]:
    """`count` new students (BOL, one supervisor) through bot.users.import_csv_bytes."""
    from bot.users import import_csv_bytes

    stamp = uuid.uuid4().hex[:6]  # new students on every call, also within one second
    ids = [f"{prefix}-{stamp}-{n:04d}" for n in range(count)]
    rows = ["role,external_id,name,email,supervisor_external_id,leerweg,company",
            f"supervisor,{supervisor},Sam Begeleider,,,,"]
    rows += [f"student,{i},Student {n:04d},,{supervisor},BOL,Kapsalon Knip" for n, i in enumerate(ids)]
    import_csv_bytes(("\n".join(rows) + "\n").encode())
    return ids


def token_source(student_ids: Sequence[str]) -> Callable[[], str]:
    from bot.tokens import mint_chat_token

    remaining: Iterator[str] = iter(student_ids)

    def next_token() -> str:
        return mint_chat_token(next(remaining), minutes=TOKEN_MINUTES)

    return next_token


# --- chat -----------------------------------------------------------------------------

async def warm_up(make_chat: Callable[[], object], next_token: Callable[[], Optional[str]], steps) -> Dict:
    """Calibrates how turns end (one conversation, alone) and runs one more
    conversation unmeasured, so model loading and first-call costs are paid."""
    from scripts.bench.scenario import calibrate, run_phase

    calibration = await calibrate(make_chat, next_token(), steps)
    await run_phase(make_chat, [next_token()], steps, calibration, 1)
    return calibration


async def chat_benchmark(ours, baseline, students: List[str], args, result: Dict) -> None:
    from scripts.bench.client import make_chat
    from scripts.bench.processes import RssSampler, stack_rss
    from scripts.bench.scenario import BASELINE, OURS, interleaved, run_phase
    from scripts.bench.stats import ratio

    ours_url = f"http://127.0.0.1:{ours.config.rasa_port}"
    origin = f"http://127.0.0.1:{ours.config.portal_port}"  # the portal page the chat runs in
    base_url = f"http://127.0.0.1:{baseline.config.rasa_port}"
    make_ours = lambda: make_chat(args.transport, ours_url, origin)  # noqa: E731
    make_base = lambda: make_chat(args.transport, base_url, None)  # noqa: E731
    next_ours = token_source(students)

    # Calibrate and warm both up first; then interleave the phases (ours c1, baseline
    # c1, ours c10, baseline c10) so drift in the machine's load hits both alike.
    result["calibration"] = {
        "ours": await warm_up(make_ours, next_ours, OURS),
        "baseline": await warm_up(make_base, lambda: None, BASELINE),
    }
    ours_cal, base_cal = result["calibration"]["ours"], result["calibration"]["baseline"]
    rest = stack_rss(ours)
    rest["total"] = round(sum(rest.values()), 1)
    base_rest = stack_rss(baseline).get("rasa")

    phases: Dict[str, Dict] = {}
    say(f"calibrated; ours ends turns by {'bot_turn_done' if ours_cal['turn_done_event'] else 'reply count'}, "
        f"mismatches ours {len(ours_cal['mismatches'])}, baseline {len(base_cal['mismatches'])}")
    sides = {
        "ours": {"make_chat": make_ours, "next_token": next_ours, "steps": OURS, "calibration": ours_cal},
        "baseline": {"make_chat": make_base, "next_token": lambda: None, "steps": BASELINE, "calibration": base_cal},
    }
    say(f"concurrency 1: {args.c1} conversations each, ours and baseline alternating in {args.rounds} rounds")
    for name, phase in (await interleaved(sides, args.c1, 1, args.rounds)).items():
        phases[f"{name}_c1"] = phase
    say(f"concurrency 10: {args.c10} conversations each, alternating in {args.rounds} rounds")
    with RssSampler({"": ours, "baseline_": baseline}) as load_rss:
        for name, phase in (await interleaved(sides, args.c10, 10, args.rounds)).items():
            phases[f"{name}_c10"] = phase

    say("transport check")
    # Transport check: the same scenario over long polling, ours, concurrency 1, two
    # conversations alternating with two over the main transport.
    other = "polling" if args.transport == "websocket" else "websocket"
    transports = {
        name: {"make_chat": (lambda name=name: make_chat(name, ours_url, origin)), "next_token": next_ours,
               "steps": OURS, "calibration": ours_cal}
        for name in (args.transport, other)
    }
    checked = await interleaved(transports, 2, 1, 2)
    result["transport_check"] = {name: {k: phase["latency_ms"][k] for k in ("n", "p50", "p95")}
                                 for name, phase in checked.items()}
    result["transport_check"]["note"] = ("ours, concurrency 1, same scenario, the two transports alternating; "
                                         "the difference is the transport's own cost")

    from scripts.bench.profile import Recorder, find_py_spy

    py_spy = find_py_spy(args.py_spy)
    if py_spy:
        say("profiled extra phase: ours c10 under py-spy")
        pids = {name: ours.processes[name].pid for name in ("rasa", "actions")}
        with Recorder(py_spy, pids, args.out.resolve() / "profile") as recorder:
            profiled = await run_phase(make_ours, [next_ours() for _ in range(args.c10)], OURS, ours_cal, 10)
        result["profile"] = {
            "phase": {k: profiled[k] for k in ("turns", "wall_seconds", "throughput_msgs_per_s", "latency_ms")},
            "processes": recorder.summaries(),
            "note": "py-spy --format raw at 100 Hz on the Rasa server and the action server during an extra "
                    "concurrency-10 phase (the sampler costs CPU: these latencies are not the reported ones); "
                    "percent of busy samples with the function on the stack (inclusive) or on top (self)",
        }
    elif args.py_spy:
        result["profile"] = {"error": f"py-spy not found at {args.py_spy}"}

    result["phases"] = phases
    result["latency_ms"] = {lvl: phases[f"ours_{lvl}"]["latency_ms"] for lvl in ("c1", "c10")}
    result["baseline_latency_ms"] = {lvl: phases[f"baseline_{lvl}"]["latency_ms"] for lvl in ("c1", "c10")}
    result["ratio"] = {
        lvl: {q: ratio(result["latency_ms"][lvl][q], result["baseline_latency_ms"][lvl][q]) for q in ("p50", "p95")}
        for lvl in ("c1", "c10")
    }
    result["throughput_msgs_per_s"] = {
        "ours": phases["ours_c10"]["throughput_msgs_per_s"],
        "baseline": phases["baseline_c10"]["throughput_msgs_per_s"],
        "rasa_processes": 1,
    }
    load = {name: load_rss.maximum.get(name) for name in ("rasa", "actions", "portal")}
    load["total"] = load_rss.max_total
    result["rss_mb"] = {
        "at_rest": rest,
        "under_load": load,
        "baseline": {"at_rest": base_rest, "under_load": load_rss.maximum.get("baseline_rasa")},
        "note": "VmRSS summed over each service's process group; under_load = maximum sampled every 0.5 s "
                "during the concurrency-10 rounds (total = maximum of the summed samples of ours)",
    }


def say(text: str) -> None:
    print(f"[bench]   {time.strftime('%H:%M:%S')} {text}", flush=True)


# --- main -------------------------------------------------------------------------------

def section(result: Dict, name: str, action: Callable[[], None]) -> None:
    started = time.perf_counter()
    print(f"[bench] {name} ...", flush=True)
    try:
        action()
        print(f"[bench] {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    except Exception as error:
        result.setdefault("errors", {})[name] = f"{type(error).__name__}: {error}\n{traceback.format_exc()[-3000:]}"
        print(f"[bench] {name} FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)


def write_report(result: Dict, bench_dir: Path) -> str:
    from scripts.bench.report import evaluate_targets, render_markdown

    result["targets"] = evaluate_targets(result)
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    markdown = render_markdown(result)
    (bench_dir / "latest.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    (bench_dir / "latest.md").write_text(markdown, encoding="utf-8")
    return markdown


def _interrupt(*_) -> None:
    raise KeyboardInterrupt  # so `finally` stops the stacks (they run in their own sessions)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    os.chdir(PROJECT_ROOT)
    bench_dir: Path = args.out.resolve()
    bench_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from scripts.bench import machine, training
    from scripts.bench.processes import start_baseline, start_ours
    from scripts.bench.scenario import OURS

    result: Dict[str, object] = {
        "machine": machine.describe(),
        "settings": {
            "conversations_c1": args.c1,
            "conversations_c10": args.c10,
            "turns_per_conversation": len(OURS),
            "transport": args.transport,
            "rounds": args.rounds,
            "portal_requests_per_page": args.portal_requests,
            "nlu_folds": args.nlu_folds,
            "skip_nlu": args.skip_nlu,
            "skip_training": args.skip_training,
            "model": str(args.model),
            "database": args.database,
        },
        "method": METHOD,
        "errors": {},
    }
    if args.model.exists():
        result["model"] = machine.describe_model(args.model)
    if not args.model.exists():
        print(f"No trained model at {args.model}: run `make train` first.", file=sys.stderr)
        return 2

    state: Dict[str, object] = {}

    def prepare() -> None:
        from scripts.bench import portal

        state["databases"] = use_bench_database(bench_dir, args.database)
        state["portal_load"] = portal.generate_supervisor_load(interns=30, weeks=40)
        state["students"] = import_students(args.c1 + 2 * args.c10 + 8)
        state["live_student"] = import_students(1, prefix="bench-live")[0]

    def baseline_model() -> None:
        trained = training.train_baseline(bench_dir, BASELINE_PROJECT)
        state["baseline_model"] = trained["model"]
        result["baseline_training_seconds"] = trained["seconds"]

    section(result, "prepare database", prepare)
    section(result, "baseline model (cached by fingerprint)", baseline_model)

    ours = baseline = None
    try:
        def start() -> None:
            nonlocal ours, baseline
            databases = state["databases"]
            ours = start_ours(bench_dir, args.model, databases.url, databases.tracker_url)
            baseline = start_baseline(bench_dir, Path(state["baseline_model"]), BASELINE_PROJECT)

        section(result, "start stacks", start)
        if ours is not None and baseline is not None:
            section(result, "chat latency and throughput",
                    lambda: asyncio.run(chat_benchmark(ours, baseline, list(state["students"]), args, result)))
            section(result, "content live", lambda: content_live(ours, state, result, args))
            section(result, "portal pages", lambda: portal_pages(ours, state, result, args))
    finally:
        for stack in (ours, baseline):
            if stack is not None:
                stack.stop()

    if not args.skip_training:
        def full() -> None:
            result["training"] = training.time_full_training(bench_dir)
            result["train_seconds"] = result["training"]["seconds"]

        def nlu_change() -> None:
            change = training.time_nlu_change(bench_dir)
            result["training_nlu_change"] = change
            result["train_seconds_nlu_change"] = change["seconds"]

        section(result, "full training", full)
        section(result, "retraining after one NLU example", nlu_change)

    write_report(result, bench_dir)  # the fast parts are on disk before the slow NLU part
    if args.skip_nlu:
        result["nlu"] = {"skipped": True}
    else:
        from scripts.bench import nlu

        section(result, f"NLU cross-validation ({args.nlu_folds} folds, slow)",
                lambda: result.__setitem__("nlu", nlu.cross_validate(bench_dir, args.nlu_folds)))
    markdown = write_report(result, bench_dir)
    print()
    print(markdown)
    print(f"written: {bench_dir / 'latest.json'}, {bench_dir / 'latest.md'}")
    return 0


def content_live(ours, state, result, args) -> None:
    from bot.tokens import mint_chat_token
    from scripts.bench import portal
    from scripts.bench.client import make_chat

    ours_url = f"http://127.0.0.1:{ours.config.rasa_port}"
    origin = f"http://127.0.0.1:{ours.config.portal_port}"
    token = mint_chat_token(str(state["live_student"]), minutes=TOKEN_MINUTES)
    live = asyncio.run(portal.content_live(
        f"http://127.0.0.1:{ours.config.portal_port}", lambda: make_chat(args.transport, ours_url, origin), token))
    result["content_live"] = live
    result["content_live_seconds"] = live["seconds_max"]


def portal_pages(ours, state, result, args) -> None:
    from scripts.bench import portal

    result["portal_ms"] = portal.time_pages(
        f"http://127.0.0.1:{ours.config.portal_port}", state["portal_load"], requests_per_page=args.portal_requests)


if __name__ == "__main__":
    sys.exit(main())
