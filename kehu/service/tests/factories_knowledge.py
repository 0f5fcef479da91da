"""Knowledge-base test data, made through the services (numbers, versions, tokens)."""

from __future__ import annotations

from typing import Any

from kehu.service.models import Article, ArticleCategory
from kehu.service.services import knowledge as kb


def category(by: Any, name: str = "售后服务", name_en: str = "After-sales", **data: Any) -> ArticleCategory:
    return kb.category_create(by=by, data={"name": name, "name_en": name_en, **data})


def article(
    by: Any,
    title: str = "如何申请退款",
    body: str = "<p>登录账户后，在订单页面点击申请退款，填写原因并提交。</p>",
    *,
    publish: bool = False,
    **data: Any,
) -> Article:
    created = kb.article_create(by=by, data={"title": title, "body": body, **data})
    if publish:
        created = kb.article_publish(article=created, by=by)
    return created


def public_article(
    by: Any, title: str = "如何申请退款", body: str = "<p>在订单页面申请退款。</p>", **data: Any
) -> Article:
    return article(by, title, body, publish=True, visibility="public", **data)
