"""Knowledge-base services: numbering, versions, optimistic locking, publishing, restore, delete,
sanitising, votes (one per voter, counters consistent), view counts, ticket links, categories."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.core.errors import DomainError, StaleObjectError
from kehu.service.models import Article, ArticleVersion, ArticleVote, TicketArticle
from kehu.service.services import knowledge as kb

from .factories import TicketFactory
from .factories_knowledge import article, category, public_article

pytestmark = pytest.mark.django_db


def test_create_numbers_sanitises_and_saves_first_version(company: Any) -> None:
    a = article(
        company.admin, body='<p onclick="x()">退款<script>alert(1)</script><img src=x onerror="alert(2)"></p>'
    )
    b = article(company.admin, title="Second")
    assert a.number == "KB-00001" and b.number == "KB-00002"
    assert "script" not in a.body and "onerror" not in a.body and "onclick" not in a.body
    assert "alert" not in a.body
    assert a.body_text.strip() == "退款"
    assert a.status == "draft" and a.visibility == "internal" and a.revision == 1 and a.version == 1
    assert list(a.versions.values_list("revision", flat=True)) == [1]
    assert a.author == company.admin
    title_tokens, body_tokens = kb.split_tokens(a.search_text)
    assert "退款" in title_tokens.split()  # a title bigram (ranks as a title match)
    assert "退款" not in body_tokens.split()  # each token once
    assert "ruheshenqingtuikuan" in title_tokens.split()


def test_create_refuses_a_missing_title_and_changes_nothing(company: Any) -> None:
    with pytest.raises(DomainError) as exc:
        kb.article_create(by=company.admin, data={"title": "  ", "body": "<p>x</p>"})
    assert "title" in exc.value.fields
    assert not Article.objects.exists()


def test_text_change_saves_a_version_other_changes_do_not(company: Any) -> None:
    a = article(company.admin)
    a = kb.article_update(
        article=a, by=company.rep1, data={"body": "<p>新的正文</p>"}, version=1, note="改正文"
    )
    assert (a.revision, a.version) == (2, 2)
    v2 = a.versions.get(revision=2)
    assert v2.note == "改正文" and v2.edited_by == company.rep1 and "新的正文" in v2.body
    a = kb.article_update(article=a, by=company.admin, data={"visibility": "public"}, version=2)
    assert (a.revision, a.version) == (2, 3)
    assert a.versions.count() == 2
    same = kb.article_update(article=a, by=company.admin, data={"visibility": "public"}, version=3)
    assert same.version == 3


def test_stale_edit_is_refused(company: Any) -> None:
    a = article(company.admin)
    kb.article_update(article=a, by=company.admin, data={"title": "A"}, version=1)
    with pytest.raises(StaleObjectError):
        kb.article_update(article=a, by=company.admin, data={"title": "B"}, version=1)
    a.refresh_from_db()
    assert a.title == "A" and a.revision == 2


def test_publish_needs_a_body_and_sets_published_at(company: Any) -> None:
    empty = article(company.admin, body="")
    with pytest.raises(DomainError):
        kb.article_publish(article=empty, by=company.admin)
    empty.refresh_from_db()
    assert empty.status == "draft" and empty.published_at is None
    a = kb.article_publish(article=article(company.admin), by=company.admin)
    assert a.status == "published" and a.published_at is not None
    first = a.published_at
    a = kb.article_unpublish(article=a, by=company.admin)
    assert a.status == "draft"
    a = kb.article_publish(article=a, by=company.admin)
    assert a.published_at == first
    a = kb.article_archive(article=a, by=company.admin)
    assert a.status == "archived"


def test_restore_version_makes_a_new_version(company: Any) -> None:
    a = article(company.admin, title="旧标题", body="<p>旧正文</p>")
    a = kb.article_update(article=a, by=company.admin, data={"title": "新标题", "body": "<p>新正文</p>"})
    a = kb.article_restore_version(article=a, revision=1, by=company.admin, version=a.version)
    assert a.revision == 3 and a.title == "旧标题" and "旧正文" in a.body
    assert a.versions.get(revision=3).note
    with pytest.raises(DomainError):
        kb.article_restore_version(article=a, revision=99, by=company.admin)


def test_published_article_cannot_be_deleted(company: Any) -> None:
    a = public_article(company.admin)
    with pytest.raises(DomainError):
        kb.article_delete(article=a, by=company.admin)
    assert Article.objects.filter(pk=a.pk).exists()
    kb.article_unpublish(article=a, by=company.admin)
    kb.article_delete(article=a, by=company.admin)
    assert not Article.objects.exists() and not ArticleVersion.objects.exists()


def test_second_vote_changes_the_answer_not_the_count(company: Any) -> None:
    a = public_article(company.admin)
    kb.article_vote(article=a, helpful=True, voter_key="v:1")
    kb.article_vote(article=a, helpful=True, voter_key="v:1")
    a.refresh_from_db()
    assert (a.helpful_count, a.not_helpful_count) == (1, 0)
    kb.article_vote(article=a, helpful=False, voter_key="v:1", comment="没解决")
    a.refresh_from_db()
    assert (a.helpful_count, a.not_helpful_count) == (0, 1)
    kb.article_vote(article=a, helpful=True, voter_key="v:2")
    a.refresh_from_db()
    assert (a.helpful_count, a.not_helpful_count) == (1, 1)
    assert ArticleVote.objects.count() == 2
    assert ArticleVote.objects.get(voter_key="v:1").comment == "没解决"
    assert a.version == 2  # votes never make an editor's form stale (1 + publish)


def test_votes_on_drafts_are_refused(company: Any) -> None:
    a = article(company.admin)
    with pytest.raises(DomainError):
        kb.article_vote(article=a, helpful=True, voter_key="v:1")
    with pytest.raises(DomainError):
        kb.article_vote(article=public_article(company.admin), helpful=True, voter_key="")
    assert not ArticleVote.objects.exists()


def test_view_count(company: Any) -> None:
    a = public_article(company.admin)
    kb.article_view_count(article=a)
    kb.article_view_count(article=a)
    a.refresh_from_db()
    assert a.view_count == 2 and a.version == 2


def test_ticket_links(company: Any) -> None:
    a = public_article(company.admin)
    ticket: Any = TicketFactory()
    kb.ticket_article_link(ticket=ticket, article=a, by=company.admin)
    kb.ticket_article_link(ticket=ticket, article=a, by=company.admin)
    assert TicketArticle.objects.filter(ticket=ticket, article=a).count() == 1
    assert kb.ticket_article_unlink(ticket=ticket, article=a, by=company.admin) is True
    assert kb.ticket_article_unlink(ticket=ticket, article=a, by=company.admin) is False
    with pytest.raises(DomainError):
        kb.ticket_article_link(ticket=ticket, article=article(company.admin), by=company.admin)


def test_categories(company: Any) -> None:
    parent = category(company.admin, name="账户", name_en="Account")
    assert parent.slug == "account"
    child = category(company.admin, name="登录问题", name_en="", parent=parent)
    assert child.slug == "deng-lu-wen-ti"
    again = category(company.admin, name="账户2", name_en="Account")
    assert again.slug == "account-2"
    with pytest.raises(DomainError) as exc:
        kb.category_update(category=parent, by=company.admin, data={"parent": child})
    assert "parent" in exc.value.fields
    with pytest.raises(DomainError):
        kb.category_delete(category=parent, by=company.admin)
    a = article(company.admin, category=child)
    kb.category_delete(category=child, by=company.admin)
    a.refresh_from_db()
    assert a.category is None
    with pytest.raises(DomainError):
        kb.category_create(by=company.admin, data={"name": ""})
