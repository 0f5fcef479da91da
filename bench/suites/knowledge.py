"""Knowledge-base search (issue 8): `article_search` over 10,000 articles for an agent and the
public FAQ, by query kind (Chinese, English, pinyin), beside the bare-SQL index match on the same
queries. The articles are made by `bench/kb_search_bench.py`'s generator (once; kept while their
count matches). The standalone script prints the same with a LIKE-scan reference too."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.harness import Comparison, Context, Target, benchmark, measure

ARTICLES = 10_000
TARGET = Target("knowledge-base search p95 ≤ 50 ms (10k articles)", lambda c: c.subject.p95 * 1000 <= 50)


@benchmark(
    "service.kb_search",
    "knowledge-base search (10k articles): agent and public FAQ, Chinese / English / pinyin",
    requires=("service.Article",),
)
def kb_search(ctx: Context) -> Iterable[Comparison]:
    from bench.kb_search_bench import QUERIES, bare_index, ensure_articles
    from kehu.service.selectors.knowledge import article_search

    ensure_articles(ARTICLES, regenerate=False, seed=ctx.seed)
    agent = ctx.users["admin"]
    for kind, queries in QUERIES.items():

        def bare(i: int, queries: list[str] = queries) -> int:
            return bare_index(queries[i % len(queries)])

        reference = measure("bare SQL: index match", bare, repeat=ctx.repeat, warmup=ctx.warmup)
        for who, kwargs in (("agent", {"user": agent}), ("public FAQ", {"user": None, "public_only": True})):

            def run(i: int, queries: list[str] = queries, kwargs: dict[str, Any] = kwargs) -> int:
                return len(article_search(q=queries[i % len(queries)], limit=20, **kwargs))

            subject = measure(f"article_search {kind}", run, repeat=ctx.repeat, warmup=ctx.warmup)
            yield Comparison(
                f"KB search, {who}, {kind}",
                subject,
                [reference],
                note="20 hits ranked (title, then body), loaded, highlighted",
                targets=[TARGET],
            )
