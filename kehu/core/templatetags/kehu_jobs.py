"""Template helpers for background jobs and exports."""

from __future__ import annotations

from typing import Any

from django import template

from kehu.core import exports
from kehu.core.choices import JobStatus
from kehu.core.jobkinds import job_kind_label as _kind_label

register = template.Library()

_STATUS_COLORS = {
    JobStatus.PENDING: "secondary",
    JobStatus.RUNNING: "blue",
    JobStatus.SUCCEEDED: "green",
    JobStatus.FAILED: "red",
    JobStatus.CANCELLED: "orange",
}
_STATUS_ICONS = {
    JobStatus.PENDING: "clock",
    JobStatus.RUNNING: "loader-2",
    JobStatus.SUCCEEDED: "circle-check",
    JobStatus.FAILED: "alert-circle",
    JobStatus.CANCELLED: "circle-x",
}


@register.filter
def job_status_color(status: str) -> str:
    return _STATUS_COLORS.get(status, "secondary")  # type: ignore[call-overload]


@register.filter
def job_status_icon(status: str) -> str:
    return _STATUS_ICONS.get(status, "circle")  # type: ignore[call-overload]


@register.filter
def job_kind_label(kind: str) -> str:
    return _kind_label(kind)


@register.simple_tag(takes_context=True)
def can_export(context: dict[str, Any], exporter: str) -> bool:
    """`{% can_export "customers.account" as allowed %}`: the user holds export on its model."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return bool(exporter) and exports.can_export(user, str(exporter))
