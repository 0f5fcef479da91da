from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils import timezone
from django.views.generic import TemplateView

from kehu.core.exports import can_export

from . import selectors
from .display import ModesCache, present
from .exporting import sort_order
from .filtersets import ObjectChangeFilterSet
from .pagination import keyset_page

HISTORY_PAGE_SIZE = 20
LOG_PAGE_SIZE = 50


def _style_filters(filterset: ObjectChangeFilterSet) -> None:
    for name, field in filterset.form.fields.items():
        select = isinstance(field.widget, forms.Select)
        field.widget.attrs["class"] = (
            "form-select form-select-sm" if select else "form-control form-control-sm"
        )
        if name in ("user", "model"):
            field.widget.attrs["data-tom-select"] = ""


class ObjectHistoryView(LoginRequiredMixin, TemplateView):
    """The History tab's content (htmx partial): changes of one record and of its child records,
    newest first, with a "load more" button. 404 when the record is out of the viewer's scope."""

    template_name = "audit/_history.html"

    def get_template_names(self) -> list[str]:
        if self.request.GET.get("cursor"):
            return ["audit/_history_items.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        model = selectors.audited_model(kwargs["model_label"].lower())
        if model is None:
            raise Http404
        obj = selectors.visible_object(user=user, model=model, pk=kwargs["pk"])
        if obj is None:
            raise Http404
        page = keyset_page(
            selectors.object_history(user=user, obj=obj),
            cursor=self.request.GET.get("cursor"),
            size=HISTORY_PAGE_SIZE,
        )
        modes = ModesCache(user)
        label = obj._meta.label_lower
        entries = [
            v
            for v in (present(c, modes, parent_label=label, parent_pk=obj.pk) for c in page.items)
            if v is not None
        ]
        ctx.update(
            object=obj,
            entries=entries,
            page=page,
            history_url=self.request.path,
        )
        return ctx


class OperationLogView(LoginRequiredMixin, TemplateView):
    """操作日志: every recorded change the viewer may see, filtered, newest first (or oldest first),
    keyset-paginated (no COUNT(*): see `pagination`), exportable."""

    template_name = "audit/operation_log.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not selectors.can_view_log(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self) -> list[str]:
        htmx = getattr(self.request, "htmx", None)
        if htmx and not htmx.boosted and htmx.target == "audit-log-results":
            return ["audit/_operation_log_results.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.utils.translation import gettext as _

        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        params = self.request.GET
        filterset = ObjectChangeFilterSet(params or None, queryset=selectors.object_change_list(user=user))
        _style_filters(filterset)
        descending = sort_order(params.get("sort"))
        page = keyset_page(
            filterset.qs, cursor=params.get("cursor"), size=LOG_PAGE_SIZE, descending=descending
        )
        modes = ModesCache(user)
        rows = [(c, present(c, modes)) for c in page.items]
        base = params.copy()
        base.pop("cursor", None)
        sort_params = base.copy()
        sort_params["sort"] = "time" if descending else "-time"
        ctx.update(
            filterset=filterset,
            page=page,
            rows=rows,
            descending=descending,
            querystring=base.urlencode(),
            sort_querystring=sort_params.urlencode(),
            filtered=any(v for k, v in params.items() if k not in ("cursor", "sort")),
            can_export=can_export(user, "audit.objectchange"),
            breadcrumbs=[(_("Operation log"), "")],
        )
        return ctx


TIMELINE_PAGE_SIZE = 30


def timeline_types_param(values: list[str]) -> set[str] | None:
    """``?types=interactions,tasks`` (or repeated) as a set of known type keys; None for all."""
    from . import events

    known = {t.key for t in events.timeline_types()}
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    wanted &= known
    return wanted or None


class RecordTimelineView(LoginRequiredMixin, TemplateView):
    """The 360° timeline of an account or a contact (htmx partial): type filter chips, entries
    newest first grouped by day, and "load more" (``?before=<cursor>`` returns the next entries
    only). 404 when the record is out of the viewer's scope or has no timeline."""

    template_name = "audit/_timeline.html"

    def get_template_names(self) -> list[str]:
        if self.request.GET.get("before"):
            return ["audit/_timeline_items.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from . import events, timeline

        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        label = kwargs["model_label"].lower()
        if not timeline.has_timeline(label):
            raise Http404
        model = selectors.resolve_model(label)
        obj = selectors.visible_object(user=user, model=model, pk=kwargs["pk"]) if model else None
        if obj is None:
            raise Http404
        types = timeline_types_param(self.request.GET.getlist("types"))
        try:
            before = timeline.parse_cursor(self.request.GET.get("before"))
        except timeline.CursorError:
            before = None
        page = timeline.timeline_of(
            user=user, label=label, pk=obj.pk, types=types, before=before, limit=TIMELINE_PAGE_SIZE
        )
        type_param = ",".join(sorted(types)) if types else ""
        previous_day = timezone.localtime(before.occurred_at).date() if before else None
        for entry in page.entries:
            entry.day = timezone.localtime(entry.occurred_at).date()  # type: ignore[attr-defined]
            entry.new_day = entry.day != previous_day  # type: ignore[attr-defined]
            previous_day = entry.day  # type: ignore[attr-defined]
        chips = []
        for t in events.timeline_types():
            active = types is not None and t.key in types
            toggled = (types or set()) ^ {t.key}
            chips.append(
                {
                    "key": t.key,
                    "label": t.label,
                    "icon": t.icon,
                    "active": active,
                    "toggle": ",".join(sorted(toggled)),
                }
            )
        ctx.update(
            object=obj,
            page=page,
            entries=page.entries,
            timeline_url=self.request.path,
            type_param=type_param,
            chips=chips,
            all_types=types is None,
            next_cursor=page.next_cursor.encode() if page.next_cursor else "",
        )
        return ctx
