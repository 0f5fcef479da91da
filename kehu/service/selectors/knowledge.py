"""Reads of the knowledge base: scoped article lists, the public FAQ, search (Chinese too) with
highlighted snippets, version diffs and the suggestions the ticket reply editor inserts.

Search matches the tokens the services store in `Article.search_text` (title tokens, a newline,
body tokens: Chinese bigrams, pinyin of the title and keywords, lower-cased words). The same tokens
feed the global search index (`kehu.search`: a GIN-indexed tsvector on PostgreSQL, FTS5 on
SQLite; registered in hooks/knowledge.py), which answers the match; before that index has been
built, the tokens in `search_text` are matched directly. Either way a match in the title ranks
above a match in the body."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString, mark_safe

from kehu.core.choices import Action
from kehu.core.permissions import can
from kehu.search.selectors import match_score, search_index_ready
from kehu.search.services import search_index_flush
from kehu.search.tokens import Document, Query, parse_query, words

from ..choices import ArticleStatus, ArticleVisibility
from ..models import Article, ArticleCategory, ArticleVersion, TicketArticle

MAX_LIMIT = 100
SNIPPET = 160  # characters of a highlighted snippet
FALLBACK_CANDIDATES = 2000
TITLE_CANDIDATES = 100  # title matches scored per search (a broad query matches more: the newest)
ARTICLE_LABEL = "service.article"


def article_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Article]:
    """The articles `user` may `action` (internal ones included: articles have no data scope,
    the permission is on the model)."""
    return Article.objects.restrict(user, action)


def public_articles() -> QuerySet[Article]:
    """What the public FAQ shows: published public articles, no login."""
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=ArticleVisibility.PUBLIC)


def reader_first(queryset: QuerySet[Article], language: str | None) -> QuerySet[Article]:
    """`queryset` with the articles in the reader's language first (then the given order)."""
    if not language:
        return queryset
    first = Case(When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField())
    return queryset.alias(reader_first=first).order_by("reader_first", *queryset.query.order_by)


def public_categories() -> list[ArticleCategory]:
    """Categories with at least one public article, with `public_count`, in their order."""
    return list(
        ArticleCategory.objects.annotate(
            public_count=Count(
                "articles",
                filter=Q(
                    articles__status=ArticleStatus.PUBLISHED, articles__visibility=ArticleVisibility.PUBLIC
                ),
            )
        )
        .filter(public_count__gt=0)
        .order_by("position", "id")
    )


def category_list(*, user: Any) -> QuerySet[ArticleCategory]:
    return ArticleCategory.objects.restrict(user, Action.VIEW).annotate(article_count=Count("articles"))


def public_article(pk: int) -> Article | None:
    return public_articles().select_related("category").filter(pk=pk).first()


# --- search -------------------------------------------------------------------------------------


@dataclass
class ArticleHit:
    article: Article
    score: float
    title_html: SafeString
    snippet_html: SafeString
    in_title: bool


def _terms(q: str) -> list[str]:
    """What to mark in a snippet: the query's words and Chinese runs, and the runs' bigrams."""
    found: list[str] = []
    for w in words(q):
        found.append(w)
        if len(w) > 2 and re.fullmatch(r"[\u3400-\u9fff\uf900-\ufaff]+", w):
            found.extend(w[i : i + 2] for i in range(len(w) - 1))
    return [t for t in dict.fromkeys(found) if t]


def highlight(text: str, q: str, *, width: int = SNIPPET, whole: bool = False) -> SafeString:
    """`text` (plain) escaped, cut to `width` characters around the first match of `q` (unless
    `whole`), with every match wrapped in ``<mark>``."""
    text = text or ""
    terms = _terms(q)
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer (İ): positions differ
        lowered = text
    if not whole and len(text) > width:
        positions = [p for p in (lowered.find(t) for t in terms) if p >= 0]
        start = max(0, min(positions) - width // 4) if positions else 0
        end = min(len(text), start + width)
        start = max(0, end - width)
        piece = ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
    else:
        piece = text
    escaped = html.escape(piece)
    if not terms:
        return mark_safe(escaped)  # noqa: S308 - escaped above
    pattern = re.compile(
        "|".join(re.escape(html.escape(t)) for t in sorted(terms, key=len, reverse=True)), re.I
    )
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))  # noqa: S308


def _fallback(queryset: QuerySet[Article], q: str, limit: int) -> list[tuple[int, float]]:
    """Match the stored tokens directly (the index has no article entries yet)."""
    query = parse_query(q)
    if not query:
        return []
    for term in query.terms:
        cond = Q()
        for tok, _prefix in term.any_of:
            cond |= Q(search_text__contains=tok)
        queryset = queryset.filter(cond)
    rows = queryset.order_by("-pk").values_list("pk", "search_text")[:FALLBACK_CANDIDATES]
    scored = []
    for pk, text in rows:
        name, _sep, other = (text or "").partition("\n")
        score = match_score(query, name, other)
        if score > 0:
            scored.append((pk, score))
    scored.sort(key=lambda item: (-item[1], -item[0]))
    return scored[:limit]


def _restriction(queryset: QuerySet[Article]) -> tuple[str, list[Any]]:
    """The queryset's filter as a condition on the index entry `e`: a correlated EXISTS, checked
    by primary key for each candidate (``IN (SELECT …)`` first listed every public article: 25×
    slower on SQLite for a LIMIT of a few hundred)."""
    if not queryset.query.where:
        return "", []
    correlated = queryset.order_by().filter(pk=RawSQL("e.object_id", ())).values("pk")
    sql, params = correlated.query.sql_with_params()
    return f" AND EXISTS ({sql})", list(params)


def _candidates(
    queryset: QuerySet[Article], query: Query, *, title: bool, limit: int
) -> list[tuple[int, str]]:
    """(article id, title tokens) of up to `limit` index entries matching `query` in the title
    (`title`) or anywhere, among `queryset`'s rows, newest entries first. No ranking in the
    database: a broad query ("退款" is in most articles) would rank thousands of rows; the few
    candidates are scored here."""
    where, params = _restriction(queryset)
    alias = queryset.db
    if connections[alias].vendor == "postgresql":
        weight = "A" if title else ""

        def alt(tok: str, prefix: bool) -> str:
            return f"'{tok}'" + (":*" if prefix else ":") + weight if (prefix or weight) else f"'{tok}'"

        match = " & ".join("(" + " | ".join(alt(t, p) for t, p in term.any_of) + ")" for term in query.terms)
        sql = (
            "SELECT e.object_id, e.name_tokens FROM search_searchentry e "  # noqa: S608
            f"WHERE (e.model || '') = %s AND e.vector @@ %s::tsquery{where} LIMIT %s"
        )
        args: list[Any] = [ARTICLE_LABEL, match, *params, limit]
    else:

        def alt_fts(tok: str, prefix: bool) -> str:
            return f'"{tok}"' + ("*" if prefix else "")

        match = " AND ".join(
            "(" + " OR ".join(alt_fts(t, p) for t, p in term.any_of) + ")" for term in query.terms
        )
        if title:
            match = f"name_tokens : ({match})"
        sql = (
            "SELECT e.object_id, e.name_tokens FROM search_fts "  # noqa: S608
            "JOIN search_searchentry e ON e.id = search_fts.rowid "
            f"WHERE search_fts MATCH %s AND e.model = %s{where} ORDER BY search_fts.rowid DESC LIMIT %s"
        )
        args = [match, ARTICLE_LABEL, *params, limit]
    with connections[alias].cursor() as cur:
        cur.execute(sql, args)
        return [(int(pk), name or "") for pk, name in cur.fetchall()]


def _indexed(queryset: QuerySet[Article], q: str, limit: int) -> list[tuple[int, float]]:
    """Ranked ids from the search index: articles matching in the title first (scored by how the
    query's terms matched the title: whole tokens above prefixes), then those matching in the body
    only, newest first within a score."""
    query = parse_query(q)
    if not query:
        return []
    search_index_flush(using=queryset.db)
    titles = _candidates(queryset, query, title=True, limit=TITLE_CANDIDATES)
    scored = [(pk, 10.0 + match_score(query, name, "")) for pk, name in titles]
    scored.sort(key=lambda item: (-item[1], -item[0]))
    scored = scored[:limit]
    if len(scored) < limit:
        seen = {pk for pk, _s in scored}
        more = _candidates(queryset, query, title=False, limit=limit + len(seen))
        body = [(pk, 1.0) for pk, _name in more if pk not in seen]
        body.sort(key=lambda item: -item[0])
        scored += body[: limit - len(scored)]
    return scored


def article_search(
    *,
    user: Any,
    q: str,
    public_only: bool = False,
    published_only: bool = False,
    limit: int = 20,
    queryset: QuerySet[Article] | None = None,
) -> list[ArticleHit]:
    """Articles matching `q` (Chinese by bigrams, pinyin of titles and keywords, English words),
    best first: title matches, then body matches; each with its highlighted title and snippet.

    `public_only`: only published public articles (the FAQ; no user needed). Otherwise the
    articles `user` may view, internal ones included (`published_only` drops drafts and archived
    ones: the reply editor's suggestions). `queryset` narrows further (a list's filters)."""
    limit = max(0, min(int(limit), MAX_LIMIT))
    if public_only:
        base = public_articles()
    else:
        base = article_list(user=user)
        if published_only:
            base = base.filter(status=ArticleStatus.PUBLISHED)
    if queryset is not None:
        base = base & queryset
    if not (q or "").strip() or limit == 0 or base.query.is_empty():
        return []
    if search_index_ready(Article, using=base.db):
        ranked = _indexed(base, q, limit)
    else:
        ranked = _fallback(base, q, limit)
    if not ranked:
        return []
    by_pk = {a.pk: a for a in base.select_related("category").filter(pk__in=[pk for pk, _s in ranked])}
    query = parse_query(q)
    hits = []
    for pk, score in ranked:
        article = by_pk.get(pk)
        if article is None:
            continue
        title = highlight(article.title, q, whole=True)
        snippet = highlight(article.body_text or article.summary, q)
        hits.append(ArticleHit(article, score, title, snippet, _in_title(query, article.search_text)))
    return hits


def _in_title(query: Query, search_text: str) -> bool:
    """Whether a term of the query matched a title (or keyword) token."""
    names = (search_text or "").partition("\n")[0].split()
    name_set = set(names)
    return any(
        tok in name_set or (prefix and any(t.startswith(tok) for t in names))
        for term in query.terms
        for tok, prefix in term.any_of
    )


def article_suggest(*, user: Any, q: str, limit: int = 10) -> list[Article]:
    """Published articles (internal and public) for the reply editor: the best matches of `q`,
    or the most viewed ones when `q` is empty."""
    if not can(user, Article, Action.VIEW):
        return []
    if (q or "").strip():
        return [h.article for h in article_search(user=user, q=q, published_only=True, limit=limit)]
    return list(
        article_list(user=user)
        .filter(status=ArticleStatus.PUBLISHED)
        .select_related("category")
        .order_by("-view_count", "-pk")[:limit]
    )


def article_document(article: Article) -> Document:
    """The global search index's document of an article: its stored tokens."""
    name, _sep, other = (article.search_text or "").partition("\n")
    return Document(title=article.title, name=name.split(), other=other.split())


def article_documents(ids: list[int], using: str) -> dict[int, Document]:
    rows = Article.objects.using(using).filter(pk__in=ids).values_list("pk", "title", "search_text")
    out = {}
    for pk, title, text in rows:
        name, _sep, other = (text or "").partition("\n")
        out[pk] = Document(title=title, name=name.split(), other=other.split())
    return out


# --- detail page ------------------------------------------------------------------------------


def article_versions(article: Article) -> list[ArticleVersion]:
    return list(
        ArticleVersion.objects.filter(article=article).select_related("edited_by").order_by("-revision")
    )


def _lines(version: ArticleVersion) -> list[str]:
    from kehu.core.richtext import html_to_text

    out = [version.title, version.summary]
    out += html_to_text(version.body).splitlines()
    return [line for line in out if line.strip()]


def version_diff(article: Article, old: int, new: int) -> list[tuple[str, str]]:
    """The line diff between two versions' text (title, summary, body): [(kind, line)] with kind
    "same", "added" or "removed"."""
    versions = {
        v.revision: v for v in ArticleVersion.objects.filter(article=article, revision__in=[old, new])
    }
    if old not in versions or new not in versions:
        return []
    rows: list[tuple[str, str]] = []
    for line in difflib.ndiff(_lines(versions[old]), _lines(versions[new])):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            rows.append(("same", text))
        elif tag == "+ ":
            rows.append(("added", text))
        elif tag == "- ":
            rows.append(("removed", text))
    return rows


def article_tickets(*, user: Any, article: Article, limit: int = 50) -> list[TicketArticle]:
    """The article's links to tickets the user may view."""
    from ..models import Ticket

    visible = Ticket.objects.restrict(user, Action.VIEW).values("pk")
    return list(
        TicketArticle.objects.filter(article=article, ticket__in=visible)
        .select_related("ticket", "linked_by")
        .order_by("-created_at")[:limit]
    )


def related_public(article: Article, limit: int = 5, language: str | None = None) -> list[Article]:
    """Other public articles of the same category (the FAQ article page's "related")."""
    qs = public_articles().exclude(pk=article.pk)
    if article.category_id:
        qs = qs.filter(category_id=article.category_id)
    qs = qs.order_by("-helpful_count", "-view_count", "-pk")
    return list(reader_first(qs, language)[:limit])
