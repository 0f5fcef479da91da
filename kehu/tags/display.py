"""Tag chips as HTML (escaped), shared by the template tag, the list column and the picker; the
labels of what the tags app records in the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import Tag


def chip(tag: Tag) -> SafeString:
    title = f"{tag.group.name} · {tag.name}" if tag.group_id and tag.group else tag.name
    if tag.description:
        title = f"{title} — {tag.description}"
    # format_html's escaping, written out: a list page makes a chip per tag and row
    return SafeString(
        f'<span class="badge {conditional_escape(tag.badge_class)} kehu-tag" '
        f'data-tag-id="{conditional_escape(str(tag.pk))}" title="{conditional_escape(title)}">'
        f"{conditional_escape(tag.name)}</span>"
    )


def chips(tags: Iterable[Tag]) -> SafeString:
    made = "".join(chip(t) for t in tags)
    if not made:
        return mark_safe("")
    return SafeString(f'<span class="d-inline-flex flex-wrap gap-1 kehu-tags">{made}</span>')


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
