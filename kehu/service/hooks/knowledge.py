"""Registrations of the knowledge base: permissions, audit, timeline events, the "Knowledge base"
menu item, the search index of articles and their global-search provider."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def _search_provider(user: Any, q: str, limit: int) -> list[Any]:
    from kehu.core.search import SearchHit

    from ..selectors.knowledge import article_search

    return [
        SearchHit(
            title=f"{h.article.number} {h.article.title}",
            url=h.article.get_absolute_url(),
            subtitle=h.article.summary or h.article.get_status_display(),
            score=h.score,
            pk=h.article.pk,
        )
        for h in article_search(user=user, q=q, limit=limit)
    ]


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry
    from kehu.core import navigation, permissions, search
    from kehu.core.choices import Action
    from kehu.search.registry import register_indexed

    from ..models import Article, ArticleCategory, ArticleVersion, TicketArticle
    from ..selectors.knowledge import article_document, article_documents
    from ..services import knowledge as services

    actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    # Articles have no owner: "view" shows every article, internal ones included; the public FAQ
    # shows published public articles to everyone without a login.
    permissions.register(Article, actions=actions, group=_("Service"))
    permissions.register(ArticleCategory, actions=actions, group=_("Service"))

    audit_registry.register(
        Article,
        exclude=("body_text", "search_text", "view_count", "helpful_count", "not_helpful_count", "version"),
    )
    audit_registry.register(ArticleCategory)
    audit_registry.register(ArticleVersion, parent="article")
    audit_registry.register(TicketArticle, parent="ticket")

    events.register_event(services.PUBLISHED_EVENT, _("Article published"), icon="world-upload")
    events.register_event(services.UNPUBLISHED_EVENT, _("Article unpublished"), icon="world-off")
    events.register_event(services.ARCHIVED_EVENT, _("Article archived"), icon="archive")
    events.register_event(services.RESTORED_EVENT, _("Article version restored"), icon="history")

    navigation.register_item(
        "service",
        navigation.MenuItem(
            _("Knowledge base"),
            "service:article_list",
            icon="book",
            requires=("service.article", "view"),
        ),
    )

    register_indexed(Article, document=article_document, documents=article_documents)
    search.register_provider(
        "service.article",
        _("Knowledge base"),
        _search_provider,
        icon="book",
        order=70,
        model="service.article",
        list_url_name="service:article_list",
    )
