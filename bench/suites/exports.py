"""Exports: an XLSX export of 100,000 contacts the way the background job runs it
(`kehu.core.exports.export_run`: the exporter's queryset through ``restrict(user, "export")`` and
the list's FilterSet, field permissions with masked columns, openpyxl write-only), timed, with the
process's resident memory sampled while it runs and the Python heap's peak (tracemalloc) of a
2,000- and a 10,000-row export, so memory that grows with the rows shows.

The exporting user is the director (department and below over the whole sales organisation); a
role field permission masking the mobile and the e-mail is added for the run and removed after,
and a "created from" filter cuts the rows to 100,000 (every row of a smaller dataset).
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

from bench.harness import Comparison, Context, Stats, Target, benchmark

CONTACT = "customers.Contact"
ROWS = 100_000
SMALL = 2_000
MID = 10_000


def _rss() -> int:
    """Resident set size of this process in bytes (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _RssSampler(threading.Thread):
    """Samples the RSS every 20 ms: (seconds since start, bytes)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()
        self._t0 = time.perf_counter()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.perf_counter() - self._t0, _rss()))
            self._halt.wait(0.02)

    def stop(self) -> list[tuple[float, int]]:
        self._halt.set()
        self.join()
        return self.samples


def _cutoff(user: Any, rows: int) -> str | None:
    """The "created from" date that leaves about `rows` of the user's exportable contacts."""
    from django.utils import timezone

    from kehu.core.choices import Action
    from kehu.customers.models import Contact

    qs = Contact.objects.restrict(user, Action.EXPORT).order_by("-created_at")
    at = qs.values_list("created_at", flat=True)[rows : rows + 1]
    first = list(at)
    return timezone.localdate(first[0]).isoformat() if first else None


def _export(user: Any, filters: dict[str, Any], fmt: str = "xlsx") -> tuple[float, int, Any]:
    """Run one export job synchronously: (seconds, rows, job)."""
    from kehu.core import exports
    from kehu.core.services import job_create

    job = job_create(
        kind=exports.JOB_KIND,
        owner=user,
        title="bench export",
        params={"exporter": "customers.contact", "format": fmt, "filters": filters},
    )
    t0 = time.perf_counter()
    done = exports.export_run(job_id=job.pk)
    elapsed = time.perf_counter() - t0
    if done is None or done.status != "succeeded":
        raise RuntimeError(f"the export failed: {getattr(done, 'error', '')}")
    rows = int(done.result["rows"])
    size = done.result_file.size
    done.result_file.delete(save=False)
    done.delete()
    return elapsed, rows, size


def _traced_peak(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@benchmark(
    "exports.contacts_xlsx",
    "XLSX export of 100,000 contacts (job body: restrict, FilterSet, masking, write-only)",
    requires=(CONTACT,),
)
def contacts_xlsx(ctx: Context) -> Iterable[Comparison]:
    from django.db import connection

    from kehu.users.models import FieldPermission

    user = ctx.users["director"]
    role = user.roles.first() if hasattr(user, "roles") else None
    masks = []
    if role is not None:
        for field in ("mobile", "email"):
            perm, created = FieldPermission.objects.get_or_create(
                role=role, model="customers.contact", field=field, defaults={"mode": "masked"}
            )
            if created:  # a rule the dataset had stays as it was
                masks.append(perm)
    try:
        cut = _cutoff(user, ROWS)
        filters = {"created_after": cut} if cut else {}
        small_cut, mid_cut = _cutoff(user, SMALL), _cutoff(user, MID)
        small = {"created_after": small_cut} if small_cut else {}
        mid = {"created_after": mid_cut} if mid_cut else {}

        # Python heap peaks of a 2,000- and a 10,000-row export (tracemalloc makes a run several
        # times slower, so not of the timed one): flat memory means about the same peak.
        peak_small = _traced_peak(lambda: _export(user, small))
        peak_full = _traced_peak(lambda: _export(user, mid))
        # The timed run with the RSS sampled.
        gc.collect()
        before = _rss()
        sampler = _RssSampler()
        sampler.start()
        elapsed, rows, size = _export(user, filters)
        samples = sampler.stop()
        peak = max((b for _, b in samples), default=before)
        # RSS once the first tenth of the run is over, against the end: flat means no growth per row.
        tenth = [b for t, b in samples if t >= elapsed * 0.1]
        growth = (max(tenth) - tenth[0]) if tenth else 0
        # The bare read of the same rows (raw SQL, all columns) as the reference.
        table = connection.ops.quote_name("customers_contact")

        def bare() -> int:
            with connection.cursor() as cur:
                cur.execute(f"SELECT * FROM {table} ORDER BY id DESC LIMIT %s", [rows])
                n = 0
                while chunk := cur.fetchmany(2000):
                    n += len(chunk)
                return n

        t0 = time.perf_counter()
        bare()
        bare_s = time.perf_counter() - t0
    finally:
        for m in masks:
            m.delete()

    mb = 1024 * 1024
    note = (
        f"{rows:,} rows, {size / mb:.1f} MB file; {rows / elapsed:,.0f} rows/s; RSS {before / mb:.0f} → "
        f"peak {peak / mb:.0f} MB, growth after the first 10 % {growth / mb:.1f} MB; Python heap peak "
        f"{peak_small / mb:.1f} MB at {SMALL:,} rows, {peak_full / mb:.1f} MB at {MID:,}"
    )
    ctx.extra["exports.contacts_xlsx"] = {
        "rows": rows,
        "seconds": elapsed,
        "rss_before": before,
        "rss_peak": peak,
        "rss_growth_after_10pct": growth,
        "heap_peak_small": peak_small,
        "heap_peak_full": peak_full,
    }
    flat = Target(
        "export memory flat (heap peak at 10k rows ≤ 1.5× the peak at 2k; RSS growth after 10 % ≤ 32 MB)",
        lambda c: peak_full <= 1.5 * max(peak_small, 1) and growth <= 32 * mb,
    )
    fast = Target("XLSX export of 100k contacts ≤ 60 s", lambda c: c.subject.p50 <= 60 and rows >= ROWS * 0.9)
    yield Comparison(
        "export 100k contacts (XLSX), director, masked",
        Stats("export_run() xlsx", [elapsed], rows),
        [Stats("raw SQL: read the same rows", [bare_s], rows)],
        note=note,
        targets=[fast, flat],
    )
