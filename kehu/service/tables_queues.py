"""List table of canned responses (快捷回复)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.richtext import html_to_text
from kehu.core.tables import BooleanColumn, Column, Table, UserColumn, html_format

from .models import CannedResponse


class VisibilityColumn(Column):
    """Personal, for one queue, or for everyone."""

    def value(self, record: Any) -> Any:
        if not record.is_shared:
            return _("Personal")
        if record.queue_id:
            return record.queue
        return pgettext_lazy("shared with", "Everyone")

    def render_value(self, record: Any, value: Any) -> Any:
        colour = "secondary" if not record.is_shared else ("azure" if record.queue_id else "green")
        return html_format('<span class="badge bg-{}-lt">{}</span>', colour, value)


class PreviewColumn(Column):
    def value(self, record: Any) -> Any:
        text = html_to_text(record.body or "").strip().replace("\n", " ")
        return text[:80] + ("…" if len(text) > 80 else "")

    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="text-secondary small">{}</span>', value)


class CannedResponseTable(Table):
    model = CannedResponse
    select_related = ("queue", "owner")
    default_ordering = ("name", "id")
    columns = (
        Column("name", _("Name"), order_by="name", required=True),
        VisibilityColumn("visibility", _("Shared with"), field=""),
        PreviewColumn("body", _("Text"), field=""),
        UserColumn("owner", _("Owner"), order_by="owner__username"),
        Column("usage_count", _("Times used"), order_by="usage_count", css_class="text-end"),
        BooleanColumn("is_active", _("Active")),
    )
