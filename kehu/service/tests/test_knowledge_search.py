"""Knowledge-base search: Chinese bigrams, pinyin of titles, English words, title matches ranked
before body matches, public_only, permissions, highlighted snippets; the index and the fallback
over `search_text` answer alike."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.search.models import SearchEntry
from kehu.service.selectors import knowledge as sel

from .factories_knowledge import article, public_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(company: Any) -> dict[str, Any]:
    by = company.admin
    return {
        "refund": public_article(
            by, "如何申请退款", "<p>登录后在订单页面点击申请退款，三个工作日内到账。</p>"
        ),
        "invoice": public_article(
            by,
            "发票开具说明",
            "<p>下单后可申请增值税发票；如需退款，发票需一并退回。</p>",
            keywords="invoice, 开票",
        ),
        "password": public_article(
            by,
            "Reset your password",
            "<p>Click <b>Forgot password</b> on the sign-in page.</p>",
            language="en",
        ),
        "internal": article(by, "退款审批内部流程", "<p>客服主管审批超过一千元的退款。</p>", publish=True),
        "draft": article(by, "草稿：退款新政策", "<p>退款规则即将调整。</p>", visibility="public"),
    }


def _titles(hits: list[Any]) -> list[str]:
    return [h.article.title for h in hits]


@pytest.fixture(params=["index", "fallback"])
def mode(request: Any, articles: dict[str, Any]) -> str:
    from kehu.search.services import search_index_flush

    search_index_flush()
    if request.param == "fallback":
        SearchEntry.objects.filter(model="service.article").delete()
    return str(request.param)


def test_chinese_bigrams_rank_title_hits_first(company: Any, articles: dict[str, Any], mode: str) -> None:
    hits = sel.article_search(user=company.admin, q="退款", limit=10)
    titles = _titles(hits)
    assert set(titles) == {"如何申请退款", "退款审批内部流程", "草稿：退款新政策", "发票开具说明"}
    assert titles[-1] == "发票开具说明"  # body match after the title matches
    assert hits[0].in_title and not hits[-1].in_title
    assert "<mark>退款</mark>" in str(hits[-1].snippet_html)
    # a longer Chinese query needs all its bigrams
    assert _titles(sel.article_search(user=company.admin, q="申请退款", limit=10))[0] == "如何申请退款"


def test_pinyin_and_english(company: Any, articles: dict[str, Any], mode: str) -> None:
    assert _titles(sel.article_search(user=company.admin, q="tuikuan", limit=10))[:1] in (
        ["如何申请退款"],
        ["退款审批内部流程"],
    )
    assert "发票开具说明" in _titles(sel.article_search(user=company.admin, q="fapiao", limit=10))
    assert _titles(sel.article_search(user=company.admin, q="invoice", limit=10)) == ["发票开具说明"]
    assert _titles(sel.article_search(user=company.admin, q="Password", limit=10)) == ["Reset your password"]
    assert _titles(sel.article_search(user=company.admin, q="forgot pass", limit=10)) == [
        "Reset your password"
    ]
    assert sel.article_search(user=company.admin, q="zzzz", limit=10) == []
    assert sel.article_search(user=company.admin, q="   ", limit=10) == []


def test_public_only_and_permissions(company: Any, articles: dict[str, Any], mode: str) -> None:
    public = _titles(sel.article_search(user=None, q="退款", public_only=True, limit=10))
    assert set(public) == {"如何申请退款", "发票开具说明"}
    assert sel.article_search(user=company.nobody, q="退款", limit=10) == []
    from kehu.users.tests.factories import grant

    grant(company.role_rep, "service.article", "view")
    seen = _titles(sel.article_search(user=company.rep1, q="退款", limit=10))
    assert "退款审批内部流程" in seen and "草稿：退款新政策" in seen
    published = _titles(sel.article_search(user=company.rep1, q="退款", published_only=True, limit=10))
    assert "草稿：退款新政策" not in published and "退款审批内部流程" in published


def test_search_follows_edits(company: Any, articles: dict[str, Any]) -> None:
    from kehu.service.services import knowledge as kb

    kb.article_update(article=articles["password"], by=company.admin, data={"title": "Change your e-mail"})
    assert sel.article_search(user=company.admin, q="forgot password", limit=5)[0].in_title is False
    assert _titles(sel.article_search(user=company.admin, q="e-mail", limit=5)) == ["Change your e-mail"]


def test_highlight_escapes() -> None:
    html = str(sel.highlight("<b>退款</b> 说明" * 30, "退款", width=40))
    assert "<b>" not in html and "&lt;b&gt;" in html and "<mark>退款</mark>" in html
    assert len(html) < 200
