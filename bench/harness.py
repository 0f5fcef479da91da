"""Measuring and reporting: every benchmark times the Kehu path and one or more references (the
bare database, a bare Django view over the same table) in the same run, on the same data.

A benchmark is a function registered with `@benchmark(...)`; it gets a `Context` and returns one
or more `Comparison`s. Modules under `bench/suites/` are imported by `bench/run.py`; a later issue
adds its own module there (e.g. `bench/suites/sales.py`) and it is picked up automatically.
"""

from __future__ import annotations

import math
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """Timings of one measured path, in seconds."""

    label: str
    samples: list[float]
    rows: int | None = None  # rows the path returned (per call), when it makes sense

    @property
    def n(self) -> int:
        return len(self.samples)

    def pct(self, p: float) -> float:
        """Percentile by nearest rank (p in 0..100)."""
        ordered = sorted(self.samples)
        if not ordered:
            return math.nan
        k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
        return ordered[k]

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) if self.samples else math.nan

    @property
    def per_second(self) -> float:
        total = sum(self.samples)
        return self.n / total if total else math.inf

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n": self.n,
            "p50_ms": round(self.p50 * 1000, 3),
            "p95_ms": round(self.p95 * 1000, 3),
            "mean_ms": round(self.mean * 1000, 3),
            "per_second": round(self.per_second, 1),
            "rows": self.rows,
        }


@dataclass
class Target:
    """A goal stated in docs/benchmarks.md, checked on every run (reported, never fatal)."""

    text: str
    check: Callable[[Comparison], bool]
    applies: Callable[[Context], bool] = lambda ctx: True


@dataclass
class Comparison:
    name: str
    subject: Stats
    references: list[Stats]
    note: str = ""
    rate: bool = False  # show operations per second instead of latency
    targets: list[Target] = field(default_factory=list)

    def ratio(self, ref: Stats, p: float = 50) -> float:
        r = ref.pct(p)
        return self.subject.pct(p) / r if r else math.inf

    def as_dict(self, ctx: Context) -> dict[str, Any]:
        return {
            "name": self.name,
            "note": self.note,
            "subject": self.subject.as_dict(),
            "references": [
                {
                    **r.as_dict(),
                    "ratio_p50": round(self.ratio(r), 2),
                    "ratio_p95": round(self.ratio(r, 95), 2),
                }
                for r in self.references
            ],
            "targets": [{"target": t.text, "met": t.check(self)} for t in self.targets if t.applies(ctx)],
        }


@dataclass
class Context:
    """What every benchmark gets: the run's options and the dataset's well-known users/ids."""

    vendor: str  # "sqlite" / "postgresql"
    accounts: int
    repeat: int
    warmup: int
    seed: int
    users: dict[str, Any] = field(default_factory=dict)  # "rep", "manager", "director", "admin"
    extra: dict[str, Any] = field(default_factory=dict)


BenchFn = Callable[[Context], Iterable[Comparison]]


@dataclass
class Benchmark:
    key: str
    title: str
    fn: BenchFn
    requires: tuple[str, ...] = ()  # app labels / "app.Model" that must exist


REGISTRY: dict[str, Benchmark] = {}


def benchmark(key: str, title: str, *, requires: tuple[str, ...] = ()) -> Callable[[BenchFn], BenchFn]:
    def deco(fn: BenchFn) -> BenchFn:
        REGISTRY[key] = Benchmark(key, title, fn, requires)
        return fn

    return deco


def measure(
    label: str, fn: Callable[[int], Any], *, repeat: int, warmup: int, rows: int | None = None
) -> Stats:
    """Call `fn(i)` `warmup` times untimed, then `repeat` times timed. If `fn` returns an int and
    `rows` is None, the last return value is recorded as the row count."""
    for i in range(warmup):
        fn(i)
    samples: list[float] = []
    result: Any = None
    for i in range(repeat):
        t0 = time.perf_counter()
        result = fn(i)
        samples.append(time.perf_counter() - t0)
    if rows is None and isinstance(result, int) and not isinstance(result, bool):
        rows = result
    return Stats(label, samples, rows)


# --- report ---------------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    """`text` cut and padded to exactly `width` terminal columns."""
    out = ""
    for ch in text:
        if _width(out + ch) > width:
            break
        out += ch
    return out + " " * (width - _width(out))


def _ms(x: float) -> str:
    return f"{x * 1000:9.2f}"


def format_report(results: list[Comparison], ctx: Context) -> str:
    lines: list[str] = []
    head = f"{'':50} {'path':34} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'ops/s':>9} {'rows':>7} {'p50 ×':>7}"
    lines.append(head)
    lines.append("-" * len(head))
    for comp in results:
        rows = [comp.subject, *comp.references]
        for i, st in enumerate(rows):
            name = comp.name if i == 0 else ""
            ratio = "" if i == 0 else f"{comp.ratio(st):6.2f}×"
            rows_txt = "" if st.rows is None else str(st.rows)
            lines.append(
                f"{_fit(name, 50)} {_fit(st.label, 34)} {st.n:5d} {_ms(st.p50)} {_ms(st.p95)} "
                f"{st.per_second:9.0f} {rows_txt:>7} {ratio:>7}"
            )
        for t in comp.targets:
            if t.applies(ctx):
                lines.append(f"{'':50} target: {t.text} -> {'met' if t.check(comp) else 'NOT MET'}")
        if comp.note:
            lines.append(f"{'':50} ({comp.note})")
    lines.append("")
    lines.append(
        "p50 × = the Kehu path's median divided by the reference's median (how many times slower "
        "Kehu is than that reference)."
    )
    return "\n".join(lines)
