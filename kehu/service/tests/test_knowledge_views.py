"""Knowledge-base pages: the agents' list, article page (tabs), editor, categories and suggestions
with the permission matrix (anonymous / no permission / view / change), and the public FAQ
(published public articles only, votes without JavaScript, rate limit)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from kehu.service.models import Article, ArticleVote
from kehu.service.services import knowledge as kb
from kehu.users.tests.factories import grant

from .factories_knowledge import article, category, public_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb_data(company: Any) -> dict[str, Any]:
    cat = category(company.admin)
    return {
        "category": cat,
        "public": public_article(
            company.admin, "如何申请退款", "<p>在订单页面申请<b>退款</b>。</p>", category=cat
        ),
        "internal": article(
            company.admin, "退款审批内部流程", "<p>主管审批。</p>", publish=True, category=cat
        ),
        "draft": article(company.admin, "退款草稿", "<p>草稿正文</p>", visibility="public", category=cat),
    }


def _login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


@pytest.mark.parametrize(("lang", "text"), [("en", "Knowledge base"), ("zh-hans", 'lang="zh-hans"')])
def test_agent_pages_render_in_both_languages(
    client: Client, company: Any, kb_data: dict[str, Any], lang: str, text: str
) -> None:
    _login(client, company.admin)
    client.cookies["django_language"] = lang
    a = kb_data["public"]
    kb.article_update(article=a, by=company.admin, data={"body": "<p>新的退款说明</p>"})
    urls = [
        reverse("service:article_list"),
        reverse("service:article_list") + "?q=退款&status=published&visibility=public&language=zh-hans",
        reverse("service:article_list") + f"?category={kb_data['category'].pk}",
        reverse("service:article_detail", args=[a.pk]),
        reverse("service:article_detail", args=[a.pk]) + "?tab=versions",
        reverse("service:article_detail", args=[a.pk]) + "?tab=versions&old=1&new=2",
        reverse("service:article_detail", args=[a.pk]) + "?tab=votes",
        reverse("service:article_detail", args=[a.pk]) + "?tab=tickets",
        reverse("service:article_add"),
        reverse("service:article_edit", args=[a.pk]),
        reverse("service:articlecategory_list"),
        reverse("service:articlecategory_add"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    assert text in client.get(reverse("service:article_list")).content.decode()
    diff = client.get(
        reverse("service:article_detail", args=[a.pk]) + "?tab=versions&old=1&new=2"
    ).content.decode()
    assert "新的退款说明" in diff and "removed" in diff


def test_list_search_filters(client: Client, company: Any, kb_data: dict[str, Any]) -> None:
    _login(client, company.admin)
    body = client.get(reverse("service:article_list") + "?q=tuikuan").content.decode()
    assert "如何申请退款" in body and "退款审批内部流程" in body
    body = client.get(reverse("service:article_list") + "?visibility=internal").content.decode()
    assert "退款审批内部流程" in body and "如何申请退款" not in body
    body = client.get(reverse("service:article_list") + "?status=draft").content.decode()
    assert "退款草稿" in body and "如何申请退款" not in body


def test_anonymous_and_no_permission(client: Client, company: Any, kb_data: dict[str, Any]) -> None:
    a = kb_data["internal"]
    for url in (
        reverse("service:article_list"),
        reverse("service:article_detail", args=[a.pk]),
        reverse("service:article_suggest") + "?q=退款",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    response = client.post(reverse("service:article_archive", args=[a.pk]))
    assert response.status_code == 302 and "login" in response["Location"]
    _login(client, company.nobody)
    assert client.get(reverse("service:article_list")).status_code == 403
    assert client.get(reverse("service:article_detail", args=[a.pk])).status_code == 404
    assert client.post(reverse("service:article_archive", args=[a.pk])).status_code == 404
    assert client.get(reverse("service:article_suggest") + "?q=退款").json() == {"results": []}
    assert client.get(reverse("service:articlecategory_list")).status_code == 403
    a.refresh_from_db()
    assert a.status == "published"


def test_view_permission_sees_internal_but_cannot_change(
    client: Client, company: Any, kb_data: dict[str, Any]
) -> None:
    grant(company.role_rep, "service.article", "view")
    _login(client, company.rep1)
    a = kb_data["internal"]
    response = client.get(reverse("service:article_detail", args=[a.pk]))
    assert response.status_code == 200 and "主管审批" in response.content.decode()
    assert 'data-action="edit"' not in response.content.decode()
    assert client.get(reverse("service:article_edit", args=[a.pk])).status_code == 403
    assert client.post(reverse("service:article_archive", args=[a.pk])).status_code == 403
    assert client.post(reverse("service:article_edit", args=[a.pk]), {"title": "x"}).status_code == 403
    assert client.get(reverse("service:article_add")).status_code == 403
    a.refresh_from_db()
    assert a.status == "published" and a.title == "退款审批内部流程"
    # an agent may still say whether an article helped (one answer per agent)
    client.post(reverse("service:article_vote", args=[a.pk]), {"helpful": "yes"})
    client.post(reverse("service:article_vote", args=[a.pk]), {"helpful": "no"})
    a.refresh_from_db()
    assert (a.helpful_count, a.not_helpful_count) == (0, 1)


def test_create_edit_publish_restore(client: Client, company: Any, kb_data: dict[str, Any]) -> None:
    _login(client, company.admin)
    response = client.post(
        reverse("service:article_add"),
        {
            "title": "打印机无法连接",
            "summary": "检查网络",
            "body": '<p>重启打印机<script>alert(1)</script><img src="x" onerror="alert(1)"></p>',
            "visibility": "public",
            "language": "zh-hans",
            "category": kb_data["category"].pk,
            "publish": "1",
        },
    )
    assert response.status_code == 302
    a = Article.objects.get(title="打印机无法连接")
    assert a.status == "published" and "script" not in a.body and "onerror" not in a.body
    response = client.post(
        reverse("service:article_edit", args=[a.pk]),
        {
            "title": "打印机无法连接",
            "summary": "检查网络",
            "body": "<p>先检查网线</p>",
            "visibility": "public",
            "language": "zh-hans",
            "category": kb_data["category"].pk,
            "version": a.version,
            "note": "补充",
        },
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.revision == 2
    stale = client.post(
        reverse("service:article_edit", args=[a.pk]),
        {
            "title": "过时的编辑",
            "body": "<p>x</p>",
            "visibility": "public",
            "language": "zh-hans",
            "version": 1,
        },
    )
    assert stale.status_code == 400 and "reload" in stale.content.decode()
    a.refresh_from_db()
    assert a.title == "打印机无法连接"
    invalid = client.post(
        reverse("service:article_add"), {"title": "", "visibility": "nope", "language": "en"}
    )
    assert invalid.status_code == 400
    client.post(reverse("service:article_restore", args=[a.pk]), {"revision": 1, "version": a.version})
    a.refresh_from_db()
    assert a.revision == 3 and "重启打印机" in a.body
    client.post(reverse("service:article_unpublish", args=[a.pk]), {"version": a.version})
    a.refresh_from_db()
    assert a.status == "draft"
    response = client.post(reverse("service:article_delete", args=[a.pk]))
    assert response.status_code == 302 and not Article.objects.filter(pk=a.pk).exists()


def test_suggest_returns_published_articles(client: Client, company: Any, kb_data: dict[str, Any]) -> None:
    _login(client, company.admin)
    data = client.get(reverse("service:article_suggest") + "?q=退款").json()["results"]
    titles = [r["title"] for r in data]
    assert set(titles) == {"如何申请退款", "退款审批内部流程"}
    public = next(r for r in data if r["title"] == "如何申请退款")
    assert public["public_url"].endswith(reverse("help:faq_article", args=[kb_data["public"].pk]))
    assert "<b>退款</b>" in public["body_html"] and public["url"] and public["summary"] == ""
    internal = next(r for r in data if r["title"] == "退款审批内部流程")
    assert internal["public_url"] is None
    html = client.get(reverse("service:article_suggest") + "?q=退款", HTTP_HX_REQUEST="true").content.decode()
    assert "data-article-id" in html and "<template>" in html
    assert len(client.get(reverse("service:article_suggest")).json()["results"]) == 2


def test_categories_pages(client: Client, company: Any, kb_data: dict[str, Any]) -> None:
    _login(client, company.admin)
    response = client.post(
        reverse("service:articlecategory_add"), {"name": "账户安全", "name_en": "Security", "position": 5}
    )
    assert response.status_code == 302
    response = client.post(reverse("service:articlecategory_add"), {"name": "", "position": 1})
    assert response.status_code == 400
    body = client.get(reverse("service:articlecategory_list")).content.decode()
    assert "Security" in body


# --- public FAQ ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "text"), [("en", "How can we help?"), ("zh-hans", 'lang="zh-hans"')])
def test_public_pages_without_login(client: Client, kb_data: dict[str, Any], lang: str, text: str) -> None:
    client.cookies["django_language"] = lang
    home = client.get(reverse("help:faq_home"))
    assert home.status_code == 200
    body = home.content.decode()
    assert text in body
    assert "如何申请退款" in body and "退款审批内部流程" not in body and "退款草稿" not in body
    a = kb_data["public"]
    page = client.get(reverse("help:faq_article", args=[a.pk]))
    assert page.status_code == 200 and "<b>退款</b>" in page.content.decode()
    assert client.get(reverse("help:faq_category", args=[kb_data["category"].slug])).status_code == 200
    found = client.get(reverse("help:faq_home") + "?q=退款").content.decode()
    assert reverse("help:faq_article", args=[a.pk]) in found
    assert "审批内部流程" not in found and "草稿" not in found
    assert "<mark>" in found
    a.refresh_from_db()
    assert a.view_count == 1


def test_public_draft_and_internal_are_404(client: Client, kb_data: dict[str, Any]) -> None:
    for key in ("internal", "draft"):
        pk = kb_data[key].pk
        assert client.get(reverse("help:faq_article", args=[pk])).status_code == 404
        assert client.post(reverse("help:faq_vote", args=[pk]), {"helpful": "yes"}).status_code == 404
    assert client.get(reverse("help:faq_article", args=[999999])).status_code == 404
    assert client.get(reverse("help:faq_category", args=["nothing-here"])).status_code == 404
    assert not ArticleVote.objects.exists()


def test_public_vote_without_js_changes_not_adds(client: Client, kb_data: dict[str, Any]) -> None:
    cache.clear()
    a = kb_data["public"]
    url = reverse("help:faq_vote", args=[a.pk])
    response = client.post(url, {"helpful": "yes"})
    assert response.status_code == 302 and "voted=1" in response["Location"]
    client.post(url, {"helpful": "no"})
    a.refresh_from_db()
    assert (a.helpful_count, a.not_helpful_count) == (0, 1)
    assert ArticleVote.objects.count() == 1
    assert len(ArticleVote.objects.get().voter_key) <= 64
    page = client.get(response["Location"]).content.decode()
    assert "btn-danger" in page  # the visitor's answer is shown
    other = Client()
    other.post(url, {"helpful": "yes"})
    a.refresh_from_db()
    assert (a.helpful_count, a.not_helpful_count) == (1, 1)
    assert client.post(url, {"helpful": "maybe"}).status_code == 400


def test_public_votes_are_rate_limited(client: Client, kb_data: dict[str, Any]) -> None:
    cache.clear()
    url = reverse("help:faq_vote", args=[kb_data["public"].pk])
    codes = [Client().post(url, {"helpful": "yes"}).status_code for _ in range(32)]
    assert codes.count(302) == 30 and codes[-1] == 429
    kb_data["public"].refresh_from_db()
    assert kb_data["public"].helpful_count == 30
    cache.clear()
