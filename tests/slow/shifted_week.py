"""Runs the action server as if today were some weeks earlier or later.

Weekly reflections are stored per ISO week of "today" (bot.weeks.iso_week), and
the chat offers no way to fill in another week. To let one test run stand in for
two school weeks, the load test starts the real action server through this
wrapper: only the calendar that bot.weeks reads is moved; everything else
(database, clocks in timestamps, Rasa) is untouched.

    python -m tests.slow.shifted_week --weeks -1 -- --actions actions --port 5055
"""
from __future__ import annotations

import argparse
import datetime as _dt
import runpy
import sys
import types
from typing import List, Optional


def shift_calendar(weeks: int) -> None:
    from bot import weeks as weeks_module

    offset = _dt.timedelta(weeks=weeks)

    class ShiftedDate(_dt.date):
        @classmethod
        def today(cls) -> _dt.date:
            return _dt.date.today() + offset

    calendar = types.SimpleNamespace(**{name: getattr(_dt, name) for name in dir(_dt) if not name.startswith("__")})
    calendar.date = ShiftedDate
    weeks_module.dt = calendar


def main(argv: Optional[List[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    rest: List[str] = []
    if "--" in argv:
        index = argv.index("--")
        argv, rest = argv[:index], argv[index + 1:]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weeks", type=int, required=True)
    args = parser.parse_args(argv)
    shift_calendar(args.weeks)
    sys.argv = ["rasa_sdk", *rest]
    runpy.run_module("rasa_sdk", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
