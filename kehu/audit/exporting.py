"""The operation log's exporter, and the hook that records every finished export in the log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action

from .choices import ChangeAction
from .models import ObjectChange


def sort_order(value: Any) -> bool:
    """True for newest first (the default), False for `sort=time`."""
    return str(value or "-time") != "time"


def operation_log_queryset(user: Any, params: Any) -> QuerySet[ObjectChange]:
    from .filtersets import ObjectChangeFilterSet
    from .selectors import object_change_list

    base = object_change_list(user=user, action=Action.EXPORT)
    qs = ObjectChangeFilterSet(params, queryset=base).qs
    descending = sort_order(params.get("sort") if hasattr(params, "get") else None)
    return qs.order_by("-time", "-id") if descending else qs.order_by("time", "id")


def _columns(user: Any) -> list[Any]:
    from kehu.core.exports import Column

    from .display import ModesCache, present, summary_text

    modes = ModesCache(user)

    def changes(o: ObjectChange) -> str:
        view = present(o, modes)
        return summary_text(view) if view is not None else ""

    def model_name(o: ObjectChange) -> str:
        from .selectors import resolve_model

        model = resolve_model(o.model)
        return str(capfirst(model._meta.verbose_name)) if model is not None else o.model

    return [
        Column("time", _("Time"), value=lambda o: o.time),
        Column("user_name", _("User"), value=lambda o: o.user_name),
        Column("action", pgettext_lazy("audit", "Action"), value=lambda o: o.get_action_display()),
        Column("model", _("Model"), value=model_name),
        Column("object_id", _("Object ID"), value=lambda o: o.object_id),
        Column("object_repr", _("Object"), value=lambda o: o.object_repr),
        Column("changes", _("Changes"), value=changes),
        Column("source", _("Source"), value=lambda o: o.get_source_display()),
        Column("ip", _("IP address"), value=lambda o: o.ip),
        Column("request_id", _("Request ID"), value=lambda o: o.request_id),
        Column("bulk", _("Bulk"), value=lambda o: o.bulk),
    ]


def record_export(job: Any, user: Any, exporter_name: str, row_count: int) -> None:
    """`kehu.core.exports.export_hooks` entry: every finished export lands in the operation log."""
    from kehu.core.exports import get_exporter

    from .services import object_change_record

    exporter = get_exporter(exporter_name)
    params = job.params if isinstance(job.params, dict) else {}
    object_change_record(
        obj=exporter.model,
        action=ChangeAction.EXPORT,
        changes={
            "rows": row_count,
            "format": params.get("format", ""),
            "params": params.get("filters") or {},
            "exporter": exporter_name,
            "job": job.pk,
        },
        by=user,
    )


def register() -> None:
    from kehu.core import exports

    exports.register_exporter(
        exports.Exporter(
            name="audit.objectchange",
            model=ObjectChange,
            title=_("Operation log"),
            columns=_columns,
            queryset=operation_log_queryset,
        )
    )
    if record_export not in exports.export_hooks:
        exports.export_hooks.append(record_export)
