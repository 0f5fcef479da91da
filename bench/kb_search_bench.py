"""Knowledge-base search (issue 8: "knowledge-base search p95 ≤ 50 ms"): server time of
`kehu.service.selectors.knowledge.article_search` over N articles (10,000 by default; ~80 %
Chinese, the rest English, each 5–12 sentences of customer-service text), for an agent (every
article) and the public FAQ (`public_only`), by query kind: Chinese words (bigrams), English
words and pinyin of titles. Each call ranks, loads the articles and highlights a snippet.

Beside it, measured in the same run on the same queries, two bare-SQL references without Kehu's
code: the full-text match alone (the global index: FTS5 on SQLite, tsvector + GIN on PostgreSQL;
ids only, no ranking) and the naive scan ``search_text LIKE '%…%'`` over the article table.

    .venv/bin/python bench/kb_search_bench.py                       # SQLite var/bench/kb_bench.sqlite3
    .venv/bin/python bench/kb_search_bench.py --database-url postgres://postgres@127.0.0.1:5432/kehu_kb_bench
    .venv/bin/python bench/kb_search_bench.py --articles 10000 --repeat 200 --regenerate

The database must be a dedicated one (its name contains "bench"); its articles are replaced when
their count differs from --articles (or with --regenerate).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import add_database_arguments, setup_django  # noqa: E402

DEFAULT_DB = f"sqlite:///{ROOT / 'var' / 'bench' / 'kb_bench.sqlite3'}"
TARGET_MS = 50.0

PRODUCTS = [
    "打印机",
    "路由器",
    "扫描仪",
    "会员卡",
    "小程序",
    "收银机",
    "智能门锁",
    "投影仪",
    "净水器",
    "空调",
]
ISSUES = ["无法开机", "无法连接", "退款", "发票", "换货", "维修", "登录失败", "密码重置", "物流查询", "安装"]
ACTIONS = ["申请", "查询", "修改", "取消", "开具", "预约", "更换", "设置", "导出", "绑定"]
SENTENCES = [
    "请先确认{p}的电源和网络连接是否正常。",
    "在订单详情页面点击“{a}{i}”，按提示填写信息。",
    "{i}通常在三个工作日内处理完毕，节假日顺延。",
    "如果{p}仍然{i}，请联系客服并提供订单号。",
    "企业客户可以在账户设置中{a}增值税专用发票。",
    "退款将原路返回到您的付款账户，银行卡需三到七个工作日。",
    "保修期内的{p}可以免费维修，人为损坏除外。",
    "请保留好包装和配件，以免影响{i}的处理结果。",
    "客服工作时间为周一至周五九点到十八点。",
    "您也可以在小程序中{a}{i}的进度。",
]
EN_TITLES = ["How to {a} a {p}", "{p} does not {i}", "Fix {i} problems on your {p}", "Why can't I {a} my {p}"]
EN_WORDS = {
    "a": ["reset", "return", "update", "register", "cancel", "export", "connect", "configure"],
    "p": ["printer", "router", "invoice", "password", "account", "order", "membership", "scanner"],
    "i": ["start", "connect", "sync", "print", "refund", "charge", "log in", "update"],
}
EN_SENTENCES = [
    "Check that the {p} is switched on and connected to the network.",
    "Open the order page and choose {a} to continue.",
    "Refunds go back to the original payment method within three working days.",
    "If the {p} still does not {i}, contact support with your order number.",
    "Business customers can request a VAT invoice from the account settings.",
    "Keep the packaging and accessories until the return is approved.",
    "Our support team works Monday to Friday, 9:00 to 18:00.",
]
QUERIES = {
    "Chinese": ["退款", "发票", "无法连接", "申请退款", "打印机无法开机", "保修", "物流查询", "密码重置"],
    "English": ["refund", "invoice", "printer", "reset password", "router connect", "vat invoice"],
    "pinyin": ["tuikuan", "fapiao", "dayinji", "luyouqi", "mimachongzhi", "weixiu"],
}


def _article(rng: random.Random, n: int) -> dict[str, Any]:
    english = rng.random() < 0.2
    if english:
        words = {k: rng.choice(v) for k, v in EN_WORDS.items()}
        title = rng.choice(EN_TITLES).format(**words)
        body = " ".join(
            rng.choice(EN_SENTENCES).format(**{k: rng.choice(v) for k, v in EN_WORDS.items()})
            for _ in range(rng.randint(5, 12))
        )
        return {"title": f"{title} ({n})", "body": f"<p>{body}</p>", "language": "en"}
    p, i, a = rng.choice(PRODUCTS), rng.choice(ISSUES), rng.choice(ACTIONS)
    title = rng.choice([f"{p}{i}怎么办", f"如何{a}{p}", f"{i}常见问题", f"{p}{a}{i}说明"])
    sentences = [
        rng.choice(SENTENCES).format(p=rng.choice(PRODUCTS), i=rng.choice(ISSUES), a=rng.choice(ACTIONS))
        for _ in range(rng.randint(5, 12))
    ]
    return {
        "title": f"{title}（{n}）",
        "body": "<p>" + "</p><p>".join(sentences) + "</p>",
        "language": "zh-hans",
    }


def ensure_articles(count: int, *, regenerate: bool, seed: int) -> None:
    """`count` articles written in bulk with the services' own tokens (the same `search_text` and
    index entries `article_create` makes), then indexed."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.core.richtext import html_to_text, sanitize_html
    from kehu.search.backends import get_backend
    from kehu.search.models import SearchEntry
    from kehu.search.services import search_reindex
    from kehu.service.models import Article, ArticleVersion
    from kehu.service.services.knowledge import article_tokens

    if Article.objects.count() == count and not regenerate:
        return
    print(f"Generating {count:,} articles …", flush=True)
    started = time.perf_counter()
    SearchEntry.objects.filter(model="service.article").delete()
    ArticleVersion.objects.all().delete()
    Article.objects.all().delete()
    rng = random.Random(seed)
    now = timezone.now()
    batch: list[Article] = []
    for n in range(1, count + 1):
        data = _article(rng, n)
        body = sanitize_html(data["body"])
        text = html_to_text(body)
        published = rng.random() < 0.85
        batch.append(
            Article(
                number=f"KB-B{n:06d}",
                title=data["title"],
                body=body,
                body_text=text,
                language=data["language"],
                status="published" if published else "draft",
                visibility="public" if rng.random() < 0.6 else "internal",
                published_at=now if published else None,
                search_text=article_tokens(title=data["title"], body_text=text),
            )
        )
        if len(batch) == 1000:
            with transaction.atomic():
                Article.objects.bulk_create(batch)
            batch = []
    if batch:
        Article.objects.bulk_create(batch)
    search_reindex(model=Article, ids=Article.objects.values_list("pk", flat=True))

    get_backend("default").analyze()
    if connection.vendor == "postgresql":
        # Autovacuum may be off (it is on the development server): without VACUUM the first runs
        # after a generation recheck heap pages for visibility (p95 61 ms against 12 ms after it).
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE service_article")
            cur.execute("VACUUM ANALYZE search_searchentry")
    print(f"… done in {time.perf_counter() - started:.1f} s.", flush=True)


def bare_index(q: str) -> int:
    """The index's own work for the same query: matching entries' ids, 40 of them, no ranking
    (the shape `article_search` asks twice: title matches, then any match)."""
    from django.db import connection

    from kehu.search.backends import PostgresBackend, SqliteBackend
    from kehu.search.tokens import parse_query

    query = parse_query(q)
    if connection.vendor == "postgresql":
        match = PostgresBackend.tsquery(query, exact=False)
        sql = (
            "SELECT e.object_id FROM search_searchentry e "
            "WHERE (e.model || '') = %s AND e.vector @@ %s::tsquery LIMIT 40"
        )
        params: list[Any] = ["service.article", match]
    else:
        sql = (
            "SELECT e.object_id FROM search_fts JOIN search_searchentry e ON e.id = search_fts.rowid "
            "WHERE search_fts MATCH %s AND e.model = %s ORDER BY search_fts.rowid DESC LIMIT 40"
        )
        params = [SqliteBackend.fts_query(query, exact=False), "service.article"]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return len(cur.fetchall())


def _agent() -> Any:
    from kehu.users.models import User

    user = User.objects.filter(username="kb-bench").first()
    if user is None:
        user = User.objects.create_user(username="kb-bench", password=None, is_superuser=True, is_staff=True)
    return user


def _caller(fn: Callable[[str], Any], next_query: Callable[[], str]) -> Callable[[], Any]:
    return lambda: fn(next_query())


def _timed(fn: Callable[[], Any], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=100, help="timed calls per query kind (default 100)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--regenerate", action="store_true")
    add_database_arguments(parser)
    parser.set_defaults(database_url=DEFAULT_DB)
    args = parser.parse_args(argv)
    setup_django(args)

    from django.db import connection

    from kehu.service.selectors.knowledge import article_search

    ensure_articles(args.articles, regenerate=args.regenerate, seed=args.seed)
    agent = _agent()
    rng = random.Random(args.seed)

    def cycle(items: list[str]) -> Callable[[], str]:
        state = {"i": rng.randrange(len(items))}

        def next_item() -> str:
            state["i"] = (state["i"] + 1) % len(items)
            return items[state["i"]]

        return next_item

    def bare_like(q: str) -> None:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id FROM service_article WHERE search_text LIKE %s ORDER BY id DESC LIMIT 20",
                ["%" + q.split()[0] + "%"],
            )
            cur.fetchall()

    rows: list[tuple[str, str, list[float]]] = []
    everything: dict[str, list[float]] = {"agent": [], "public": [], "index": [], "like": []}
    for kind, queries in QUERIES.items():
        hits = {q: len(article_search(user=agent, q=q, limit=20)) for q in queries}
        subjects: list[tuple[str, str, Callable[[str], Any]]] = [
            ("agent", "article_search (agent)", lambda q: article_search(user=agent, q=q, limit=20)),
            (
                "public",
                "article_search (public FAQ)",
                lambda q: article_search(user=None, q=q, public_only=True, limit=20),
            ),
            ("index", "bare SQL: index match", bare_index),
            ("like", "bare SQL: LIKE scan", bare_like),
        ]
        for key, label, fn in subjects:
            times = _timed(_caller(fn, cycle(queries)), args.repeat, args.warmup)
            rows.append((kind, label, times))
            everything[key] += times
        print(f"  {kind}: hits per query (agent, top 20) {hits}", flush=True)

    print()
    print(
        f"Knowledge-base search: {connection.vendor}, {args.articles:,} articles, "
        f"{args.repeat} timed calls per kind and path after {args.warmup} warm-up calls"
    )
    print(f"{'query kind':10} {'path':30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, label, times in rows:
        print(f"{kind:10} {label:30} {_p(times, 50):8.1f} {_p(times, 95):8.1f} {max(times):8.1f}")
    for key, label in (
        ("agent", "article_search (agent)"),
        ("public", "article_search (public FAQ)"),
        ("index", "bare SQL: index match"),
        ("like", "bare SQL: LIKE scan"),
    ):
        times = everything[key]
        print(f"{'all':10} {label:30} {_p(times, 50):8.1f} {_p(times, 95):8.1f} {max(times):8.1f}")
    worst = max(_p(everything["agent"], 95), _p(everything["public"], 95))
    verdict = "met" if worst <= TARGET_MS else "MISSED"
    print(f"\nTarget p95 ≤ {TARGET_MS:.0f} ms: {verdict} (worst p95 {worst:.1f} ms).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
