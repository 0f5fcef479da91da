"""Document numbers: `core.services.sequence_next` against a bare atomic UPDATE of the same row."""

from __future__ import annotations

from collections.abc import Iterable

from bench.harness import Comparison, Context, benchmark, measure

KEY = "bench-seq"


@benchmark(
    "core.sequence_next", "document numbers: sequence_next per call vs a bare UPDATE", requires=("core",)
)
def sequence_next_rate(ctx: Context) -> Iterable[Comparison]:
    from django.db import connection, transaction

    from kehu.core.models import Sequence
    from kehu.core.services import sequence_next

    calls = ctx.repeat * 10  # cheap calls: more of them for a stable rate

    def kehu(_: int) -> None:
        sequence_next(key=KEY, prefix="B")

    sequence_next(key=KEY, prefix="B")  # the row exists before either path is timed
    table = connection.ops.quote_name(Sequence._meta.db_table)
    sql = f"UPDATE {table} SET last_value = last_value + 1 WHERE key = %s"

    def bare(_: int) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [KEY])

    subject = measure("sequence_next()", kehu, repeat=calls, warmup=ctx.warmup)
    reference = measure("bare UPDATE … +1 (own transaction)", bare, repeat=calls, warmup=ctx.warmup)
    yield Comparison(
        "document number (Q-2026-00001)",
        subject,
        [reference],
        note="one transaction per number on both paths; sequence_next locks the row (FOR UPDATE) and formats",
        rate=True,
    )
