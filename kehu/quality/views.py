"""The data quality page (数据质量) and its drill-down lists.

Open to administrators and to users whose role holds *view* on "Data quality" (managers). Every
figure is computed over ``Model.objects.restrict(user, "view")``: a manager measures the records
of their own scope. Trends come from the company-wide daily snapshots, so they are shown only to
users who see every record (administrators and "all" scope).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views import View

from kehu.core.choices import Action
from kehu.core.permissions import can, is_admin, scope_q

from . import selectors
from .models import QualitySnapshot
from .registry import QualityModel, get, quality_models

PAGE_SIZE = 50


def may_open(user: Any) -> bool:
    return bool(is_admin(user) or can(user, QualitySnapshot, Action.VIEW))


def sees_all(user: Any, model: Any) -> bool:
    q = scope_q(user, model, Action.VIEW)
    return q is not None and not q


class QualityAccessMixin(LoginRequiredMixin):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not may_open(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _entry(label: str, user: Any) -> QualityModel:
    entry = get(label)
    if entry is None or not can(user, entry.model, Action.VIEW):
        raise Http404
    return entry


def _title(model: Any) -> str:
    name = str(model._meta.verbose_name_plural)
    return name[:1].upper() + name[1:]


def _list_url(entry: QualityModel, query: str) -> str | None:
    if not entry.list_url_name:
        return None
    try:
        return f"{reverse(entry.list_url_name)}?{query}"
    except NoReverseMatch:
        return None


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    return days if days in selectors.FOLLOW_UP_DAYS else 30


class QualityView(QualityAccessMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        days = _days(request)
        cards = []
        for entry in quality_models():
            model = entry.model
            if not can(request.user, model, Action.VIEW):
                continue
            queryset = model._default_manager.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
            figs = selectors.figures(entry, queryset, scan=False)
            records_url = reverse("quality:records", args=[entry.label])
            for field in figs["fields"]:
                field["empty"] = figs["total"] - field["filled"]
                field["url"] = f"{records_url}?problem=empty&field={field['key']}"
            for bucket in figs.get("distribution", []):
                bucket["url"] = _list_url(entry, f"completeness_max={bucket['high']}")
            trend = None
            if sees_all(request.user, model):
                trend = [
                    {
                        "date": s.date.isoformat(),
                        "average": s.figures.get("average_completeness"),
                        "no_owner": s.figures.get("no_owner"),
                        "idle": (s.figures.get("no_follow_up") or {}).get(str(days)),
                        "invalid": (s.figures.get("invalid") or {}).get("phones", 0)
                        + (s.figures.get("invalid") or {}).get("emails", 0),
                    }
                    for s in selectors.snapshots(model=entry.label)
                ]
            cards.append(
                {
                    "entry": entry,
                    "key": entry.label.replace(".", "-"),
                    "title": _title(model),
                    "figures": figs,
                    "idle": (figs.get("no_follow_up") or {}).get(str(days)),
                    "idle_url": _list_url(entry, f"no_activity_days={days}"),
                    "no_owner_url": _list_url(entry, "has_owner=false"),
                    "low_url": _list_url(entry, "completeness_max=59"),
                    "low": sum(b["count"] for b in figs.get("distribution", []) if b["high"] < 60),
                    "list_url": _list_url(entry, ""),
                    "invalid_url": reverse("quality:invalid", args=[entry.label]),
                    "trend": trend,
                    "scoped": not sees_all(request.user, model),
                }
            )
        charts = {
            "labels": {
                "records": pgettext("count", "Records"),
                "average": _("Average completeness (%)"),
                "no_owner": _("Without owner"),
                "idle": _("No follow-up for %(days)d days") % {"days": days},
                "invalid": _("Invalid phones and e-mails"),
            },
            "models": [
                {
                    "key": c["key"],
                    "distribution": [
                        {"label": f"{b['low']}–{b['high']}%", "count": b["count"]}
                        for b in c["figures"].get("distribution", [])
                    ],
                    "trend": c["trend"] or [],
                }
                for c in cards
            ],
        }
        return render(
            request,
            "quality/quality.html",
            {
                "cards": cards,
                "charts": charts,
                "days": days,
                "day_options": selectors.FOLLOW_UP_DAYS,
                "breadcrumbs": [(_("Data quality"), None)],
            },
        )


class InvalidCountsView(QualityAccessMixin, View):
    """The invalid phone / e-mail figures of one model in the user's scope (loaded by htmx)."""

    def get(self, request: HttpRequest, model: str) -> HttpResponse:
        entry = _entry(model, request.user)
        queryset = entry.model._default_manager.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
        counts = selectors.invalid_counts(entry, queryset)
        records_url = reverse("quality:records", args=[entry.label])
        return render(
            request,
            "quality/_invalid.html",
            {
                "counts": counts,
                "phone_url": f"{records_url}?problem=invalid_phone",
                "email_url": f"{records_url}?problem=invalid_email",
                "has_phones": bool(entry.phone_fields),
                "has_emails": bool(entry.email_fields),
            },
        )


PROBLEMS = {
    "invalid_phone": "phone",
    "invalid_email": "email",
    "empty": "empty",
}


class RecordsView(QualityAccessMixin, View):
    """The records behind a figure, in the user's scope: invalid phones / e-mails, or an empty
    field (``?problem=empty&field=phone``). Keyset pages of 50 (``?after=<id>``)."""

    def get(self, request: HttpRequest, model: str) -> HttpResponse:
        entry = _entry(model, request.user)
        problem = request.GET.get("problem", "")
        if problem not in PROBLEMS:
            raise Http404
        try:
            after = max(0, int(request.GET.get("after", "0")))
        except ValueError:
            after = 0
        queryset = entry.model._default_manager.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
        if entry.owner_field:
            queryset = queryset.select_related(entry.owner_field)
        field_label = ""
        if problem == "empty":
            key = request.GET.get("field", "")
            spec = selectors.field_spec(entry, key)
            if spec is None:
                raise Http404
            field_label = spec.label
            rows = list(
                selectors.empty_field_queryset(entry, queryset, key)
                .filter(pk__gt=after)
                .order_by("pk")[: PAGE_SIZE + 1]
            )
            title = _("%(things)s without “%(field)s”") % {"things": _title(entry.model), "field": spec.label}
        else:
            ids = selectors.invalid_record_ids(
                entry, queryset, kind=PROBLEMS[problem], limit=PAGE_SIZE + 1, after=after
            )
            by_id = {o.pk: o for o in queryset.filter(pk__in=ids)}
            rows = [by_id[i] for i in ids if i in by_id]
            title = (
                _("%(things)s with an invalid phone number")
                if problem == "invalid_phone"
                else _("%(things)s with an invalid e-mail address")
            ) % {"things": _title(entry.model)}
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        fields = (
            entry.phone_fields
            if problem == "invalid_phone"
            else entry.email_fields
            if problem == "invalid_email"
            else ()
        )
        check = selectors.phone_is_valid if problem == "invalid_phone" else selectors.email_is_valid
        records = [
            {
                "object": obj,
                "url": obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else "",
                "values": [
                    {"value": getattr(obj, f) or "", "bad": not check(getattr(obj, f) or "")} for f in fields
                ],
                "owner": getattr(obj, "owner", None) if entry.owner_field else None,
            }
            for obj in rows
        ]
        base = f"{request.path}?problem={problem}" + (
            f"&field={request.GET.get('field', '')}" if problem == "empty" else ""
        )
        return render(
            request,
            "quality/records.html",
            {
                "title": title,
                "records": records,
                "field_names": [
                    str(getattr(entry.model._meta.get_field(f), "verbose_name", f)) for f in fields
                ],
                "field_label": field_label,
                "next_url": f"{base}&after={rows[-1].pk}" if more and rows else None,
                "first_url": base if after else None,
                "breadcrumbs": [(_("Data quality"), reverse("quality:index")), (title, None)],
            },
        )
