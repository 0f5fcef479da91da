"""Business-time arithmetic (issue 8's SLA timers): `kehu.core.businesstime` computing the due
time and the elapsed business time of N open tickets (100k by default) on an office calendar
(Mon–Fri 09:00–12:00 and 13:30–18:00, Asia/Shanghai, the 2026 Chinese holidays and make-up days),
each with a random start in 2026, a target of 1–40 business hours and, for a third of them, a
pause (waiting on the customer). Beside it, the reference: the same loop doing plain datetime
arithmetic (start + target), measured in the same run. The issue's target for the whole SLA sweep
over 100k open tickets is 10 s; this is the arithmetic's share of it (no database).

    .venv/bin/python bench/businesstime_bench.py
    .venv/bin/python bench/businesstime_bench.py --tickets 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kehu.core.businesstime import WorkCalendar, add_business_seconds, business_seconds  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")


def office_calendar() -> WorkCalendar:
    holidays = {
        *(dt.date(2026, 1, d) for d in (1, 2, 3)),
        *(dt.date(2026, 2, d) for d in range(15, 24)),
        *(dt.date(2026, 4, d) for d in (4, 5, 6)),
        *(dt.date(2026, 5, d) for d in range(1, 6)),
        *(dt.date(2026, 6, d) for d in (19, 20, 21)),
        *(dt.date(2026, 9, d) for d in (25, 26, 27)),
        *(dt.date(2026, 10, d) for d in range(1, 8)),
    }
    makeup = {dt.date(2026, m, d): 0 for m, d in ((1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10))}
    return WorkCalendar(
        tz=SHANGHAI,
        hours=dict.fromkeys(range(5), ((540, 720), (810, 1080))),
        holidays=frozenset(holidays),
        makeup_days=makeup,
    )


def tickets(n: int) -> list[tuple[dt.datetime, int, list[tuple[dt.datetime, dt.datetime]]]]:
    rng = random.Random(8)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for _ in range(n):
        opened = start + dt.timedelta(seconds=rng.randrange(350 * 86400))
        target = rng.randint(1, 40) * 3600
        pauses = []
        if rng.random() < 1 / 3:
            a = opened + dt.timedelta(seconds=rng.randrange(3 * 86400))
            pauses.append((a, a + dt.timedelta(seconds=rng.randrange(2 * 86400))))
        rows.append((opened, target, pauses))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cal = office_calendar()
    rows = tickets(args.tickets)
    now = dt.datetime(2026, 12, 31, tzinfo=dt.UTC)

    def sweep() -> None:
        for opened, target, pauses in rows:
            add_business_seconds(cal, opened, target, pauses=pauses)
            business_seconds(cal, opened, min(now, opened + dt.timedelta(days=20)), pauses=pauses)

    def reference() -> None:
        for opened, target, _pauses in rows:
            opened + dt.timedelta(seconds=target)
            (min(now, opened + dt.timedelta(days=20)) - opened).total_seconds()

    for name, fn in (("business time (due + elapsed)", sweep), ("bare datetime reference", reference)):
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            fn()
            times.append(time.perf_counter() - began)
        best, median = min(times), statistics.median(times)
        per = best / len(rows) * 1e6
        line = f"{name:32s} {len(rows):>7,} tickets: best {best:6.2f} s, median {median:6.2f} s,"
        print(f"{line} {per:7.1f} µs/ticket")


if __name__ == "__main__":
    main()
