"""List columns of knowledge-base articles."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.tables import (
    USER_FIELDS,
    ChoiceColumn,
    Column,
    DateTimeColumn,
    LinkColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
    html_format,
)

from .choices import ArticleStatus, ArticleVisibility
from .models import Article

STATUS_BADGES = {
    ArticleStatus.DRAFT: "bg-secondary-lt",
    ArticleStatus.PUBLISHED: "bg-green-lt",
    ArticleStatus.ARCHIVED: "bg-yellow-lt",
}
VISIBILITY_ICONS = {ArticleVisibility.PUBLIC: "world", ArticleVisibility.INTERNAL: "lock"}


class ArticleLink(LinkColumn):
    url_name = "service:article_detail"


class StatusColumn(ChoiceColumn):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="badge {}">{}</span>', STATUS_BADGES.get(record.status, ""), value)


class VisibilityColumn(ChoiceColumn):
    def render_value(self, record: Any, value: Any) -> Any:
        icon = VISIBILITY_ICONS.get(record.visibility, "circle")
        return html_format('<span class="text-nowrap"><i class="ti ti-{} me-1"></i>{}</span>', icon, value)


class HelpfulColumn(Column):
    """Helpful / not helpful answers (👍 12 · 👎 3)."""

    def value(self, record: Any) -> Any:
        return (record.helpful_count, record.not_helpful_count)

    def render_value(self, record: Any, value: Any) -> Any:
        yes, no = value
        return html_format(
            '<span class="text-nowrap"><i class="ti ti-thumb-up text-green"></i> {} '
            '<i class="ti ti-thumb-down text-red ms-1"></i> {}</span>',
            yes,
            no,
        )


class ArticleTable(Table):
    model = Article
    select_related = ("category", "author")
    related_only = {"author": USER_FIELDS, "category": ("name", "name_en")}
    default_ordering = ("-updated_at", "-id")
    columns = (
        Column("number", _("Number"), order_by="number", css_class="text-nowrap"),
        ArticleLink("title", _("Title"), order_by="title", required=True),
        RelatedLinkColumn("category", _("Category"), order_by=("category__position", "category__name")),
        StatusColumn("status", _("Status"), order_by="status"),
        VisibilityColumn("visibility", _("Visibility"), order_by="visibility"),
        ChoiceColumn("language", _("Language"), order_by="language", css_class="text-nowrap"),
        Column("revision", _("Version"), order_by="revision", css_class="text-end"),
        Column("view_count", _("Views"), order_by="view_count", css_class="text-end"),
        HelpfulColumn("helpful", _("Helpful"), order_by=("helpful_count",), field=""),
        UserColumn("author", _("Author"), order_by=("author__username",), default=False),
        DateTimeColumn("published_at", _("Published"), order_by="published_at", default=False),
        DateTimeColumn("updated_at", _("Updated"), order_by="updated_at"),
    )
