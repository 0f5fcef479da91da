"""Tag chips as HTML (escaped), shared by the template tag, the list column and the picker; the
labels of what the tags app records in the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import Tag


def chip(tag: Tag) -> SafeString:
    title = f"{tag.group.name} · {tag.name}" if tag.group_id and tag.group else tag.name
    if tag.description:
        title = f"{title} — {tag.description}"
    return format_html(
        '<span class="badge {} kehu-tag" data-tag-id="{}" title="{}">{}</span>',
        tag.badge_class,
        tag.pk,
        title,
        tag.name,
    )


def chips(tags: Iterable[Tag]) -> SafeString:
    tags = list(tags)
    if not tags:
        return mark_safe("")
    return format_html(
        '<span class="d-inline-flex flex-wrap gap-1 kehu-tags">{}</span>',
        format_html_join("", "{}", ((chip(t),) for t in tags)),
    )


def audit_field_label(model: Any, name: str) -> str | None:
    """`kehu.audit.display.extra_field_labels` entry: the labels (in the active language) of the
    names the tags app records that are no model fields: a record's "tags", a static group's
    "members_added" / "members_removed"."""
    from .models import StaticGroup

    if name == "tags":
        return _("Tags")
    if model is StaticGroup:
        return {"members_added": _("Members added"), "members_removed": _("Members removed")}.get(name)
    return None
