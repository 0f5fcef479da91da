"""/api/v1/service/articles/ and article-categories/: CRUD, filters, search, actions, the
permission matrix and the error shape; nothing changes on a refused call."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.service.models import Article, ArticleCategory
from kehu.users.tests.factories import grant

from .factories_knowledge import article, category, public_article

pytestmark = pytest.mark.django_db
URL = "/api/v1/service/articles/"
CATS = "/api/v1/service/article-categories/"


def _api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_crud_versions_and_actions(company: Any) -> None:
    api = _api(company.admin)
    cat = category(company.admin)
    r = api.post(
        URL,
        {
            "title": "如何修改密码",
            "body": "<p>进入设置<script>x()</script></p>",
            "category": cat.pk,
            "visibility": "public",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["number"].startswith("KB-") and data["status"] == "draft" and "script" not in data["body"]
    assert data["public_url"] is None
    pk = data["id"]
    r = api.patch(f"{URL}{pk}/", {"body": "<p>新的步骤</p>", "version": 1, "note": "更新"}, format="json")
    assert r.status_code == 200 and r.json()["revision"] == 2
    r = api.patch(f"{URL}{pk}/", {"title": "stale", "version": 1}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "stale_object"
    assert Article.objects.get(pk=pk).title == "如何修改密码"
    r = api.post(f"{URL}{pk}/publish/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["public_url"]
    assert api.delete(f"{URL}{pk}/").status_code == 409
    r = api.post(f"{URL}{pk}/vote/", {"helpful": True}, format="json")
    r = api.post(f"{URL}{pk}/vote/", {"helpful": False}, format="json")
    assert (r.json()["helpful_count"], r.json()["not_helpful_count"]) == (0, 1)
    versions = api.get(f"{URL}{pk}/versions/").json()
    assert [v["revision"] for v in versions] == [2, 1]
    r = api.post(f"{URL}{pk}/restore/", {"revision": 1}, format="json")
    assert r.status_code == 200 and r.json()["revision"] == 3 and "进入设置" in r.json()["body"]
    assert api.post(f"{URL}{pk}/restore/", {"revision": 42}, format="json").status_code == 404
    r = api.post(f"{URL}{pk}/unpublish/", {}, format="json")
    assert r.json()["status"] == "draft"
    assert api.delete(f"{URL}{pk}/").status_code == 204
    assert not Article.objects.filter(pk=pk).exists()


def test_bad_input_is_a_field_error(company: Any) -> None:
    api = _api(company.admin)
    r = api.post(URL, {"title": "", "visibility": "secret"}, format="json")
    assert r.status_code == 400 and "title" in r.json()["fields"] and "visibility" in r.json()["fields"]
    empty = article(company.admin, body="")
    r = api.post(f"{URL}{empty.pk}/publish/", {}, format="json")
    assert r.status_code == 400 and "body" in r.json()["fields"]
    assert Article.objects.get(pk=empty.pk).status == "draft"


def test_filters_and_search(company: Any) -> None:
    public_article(company.admin, "如何申请退款", "<p>订单页面申请退款。</p>")
    article(company.admin, "退款审批流程", "<p>主管审批。</p>")
    article(company.admin, "Shipping times", "<p>Three days.</p>", language="en")
    api = _api(company.admin)
    titles = {a["title"] for a in api.get(URL, {"q": "退款"}).json()["results"]}
    assert titles == {"如何申请退款", "退款审批流程"}
    assert {a["title"] for a in api.get(URL, {"status": "published"}).json()["results"]} == {"如何申请退款"}
    assert {a["title"] for a in api.get(URL, {"language": "en"}).json()["results"]} == {"Shipping times"}
    hits = api.get(f"{URL}search/", {"q": "tuikuan"}).json()
    assert len(hits) == 2 and all(h["in_title"] for h in hits)
    hits = api.get(f"{URL}search/", {"q": "退款", "published": "1"}).json()
    assert [h["article"]["title"] for h in hits] == ["如何申请退款"]
    assert "<mark>退款</mark>" in hits[0]["title_html"]


def test_permissions(company: Any) -> None:
    a = public_article(company.admin)
    assert _api().get(URL).status_code in (401, 403)
    nobody = _api(company.nobody)
    assert nobody.get(URL).status_code == 403
    assert nobody.get(f"{URL}{a.pk}/").status_code == 404
    assert nobody.post(URL, {"title": "x"}, format="json").status_code == 403
    assert nobody.post(f"{URL}{a.pk}/unpublish/", {}, format="json").status_code == 404
    grant(company.role_rep, "service.article", "view")
    rep = _api(company.rep1)
    assert rep.get(f"{URL}{a.pk}/").status_code == 200
    assert rep.patch(f"{URL}{a.pk}/", {"title": "x"}, format="json").status_code == 403
    assert rep.post(f"{URL}{a.pk}/unpublish/", {}, format="json").status_code == 403
    assert rep.post(f"{URL}{a.pk}/vote/", {"helpful": True}, format="json").status_code == 200
    a.refresh_from_db()
    assert a.title == "如何申请退款" and a.status == "published" and a.helpful_count == 1


def test_categories(company: Any) -> None:
    api = _api(company.admin)
    r = api.post(CATS, {"name": "支付", "name_en": "Payments"}, format="json")
    assert r.status_code == 201 and r.json()["slug"] == "payments"
    child = api.post(CATS, {"name": "退款", "parent": r.json()["id"]}, format="json").json()
    assert api.delete(f"{CATS}{r.json()['id']}/").status_code == 409
    assert api.post(CATS, {"name": ""}, format="json").status_code == 400
    assert api.delete(f"{CATS}{child['id']}/").status_code == 204
    assert ArticleCategory.objects.count() == 1
    assert _api(company.nobody).get(CATS).status_code == 403
