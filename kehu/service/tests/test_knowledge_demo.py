"""The demo knowledge base: 50 articles through the services, idempotent."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.demo.service_knowledge import seed_articles
from kehu.service.models import Article, ArticleCategory
from kehu.service.selectors.knowledge import article_search

pytestmark = pytest.mark.django_db


def test_seed_articles_is_idempotent(company: Any) -> None:
    assert seed_articles(author=company.admin) == 50
    assert Article.objects.count() == 50 and ArticleCategory.objects.count() == 7
    assert Article.objects.filter(status="published", visibility="public").count() >= 35
    assert Article.objects.filter(visibility="internal").count() >= 8
    assert Article.objects.filter(language="en").count() >= 5
    assert Article.objects.filter(revision=2).exists()
    assert seed_articles(author=company.admin) == 0
    assert Article.objects.count() == 50
    hits = article_search(user=None, q="退款", public_only=True, limit=5)
    assert hits and hits[0].in_title
