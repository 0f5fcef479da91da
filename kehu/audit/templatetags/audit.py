"""Template helpers of the audit app.

{% load audit %}
{% history_url object as url %}   the History tab's partial URL ("" when the model is not audited)
{{ object|model_label }}          "customers.account"
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from kehu.audit import registry

register = template.Library()


@register.filter
def model_label(obj: Any) -> str:
    meta = getattr(obj, "_meta", None)
    return meta.label_lower if meta is not None else ""


@register.simple_tag
def history_url(obj: Any) -> str:
    meta = getattr(obj, "_meta", None)
    if meta is None or getattr(obj, "pk", None) is None or registry.get(meta.label_lower) is None:
        return ""
    return reverse("audit:object_history", args=[meta.label_lower, obj.pk])


@register.simple_tag
def timeline_url(obj: Any) -> str:
    """The timeline partial's URL of a record with a timeline (accounts, contacts and the models
    registered with `kehu.audit.timeline.register_timeline_model`; "" for other records)."""
    from kehu.audit.timeline import has_timeline

    meta = getattr(obj, "_meta", None)
    if meta is None or getattr(obj, "pk", None) is None or not has_timeline(meta.label_lower):
        return ""
    return reverse("audit:record_timeline", args=[meta.label_lower, obj.pk])
