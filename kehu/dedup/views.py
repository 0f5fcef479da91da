"""Pages of the dedup app: the collision check's administration (撞单检查: the policy per record
type and the key rebuild), the duplicates review queue, a group's page with merge and "not
duplicates", the match rules, and the duplicate-rate panel of the data quality page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.errors import DomainError
from kehu.core.permissions import is_admin

from . import selectors, services
from .choices import PolicyMode


class AdminView(LoginRequiredMixin, View):
    """Signed in (else the sign-in page) and an administrator (else 403)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not is_admin(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PolicyView(AdminView):
    """GET: the policy of each record type; POST: save them (``mode:<model>`` = warn / block)."""

    def render_page(
        self, request: HttpRequest, errors: dict[str, str] | None = None, status: int = 200
    ) -> HttpResponse:
        from kehu.core.models import Job

        job = (
            Job.objects.restrict(request.user, "view").filter(kind=services.JOB_KIND).order_by("-id").first()
        )
        return render(
            request,
            "dedup/policies.html",
            {
                "rows": selectors.collision_policies(),
                "modes": PolicyMode.choices,
                "errors": errors or {},
                "job": job,
                "breadcrumbs": [(_("Administration"), None), (_("Collision check"), None)],
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        errors: dict[str, str] = {}
        for row in selectors.collision_policies():
            mode = request.POST.get(f"mode:{row['model']}")
            if mode is None or mode == row["mode"]:
                continue
            try:
                services.collision_policy_set(model_label=row["model"], mode=mode, by=request.user)
            except DomainError as exc:
                errors[row["model"]] = str(exc.message)
        if errors:
            return self.render_page(request, errors, status=400)
        messages.success(request, _("Collision policies saved."))
        return HttpResponseRedirect(reverse("dedup:policies"))


class RebuildKeysView(AdminView):
    """POST: rebuild every match key in the background (after imports or restores)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        services.dedup_rebuild_start(by=request.user)
        messages.info(request, _("The match keys are being rebuilt in the background."))
        return HttpResponseRedirect(reverse("dedup:policies"))


# --- duplicates: the review queue, a group, merging, match rules ---------------------------------

QUEUE_PAGE = 50


class ReviewAccessMixin(LoginRequiredMixin):
    """Signed in (else the sign-in page) and allowed to view some scanned record type (else 403)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not selectors.scan_models_for(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _group_or_404(request: HttpRequest, pk: int, action: str = "view") -> Any:
    from .models import DuplicateGroup

    try:
        return selectors.duplicate_group_get(user=request.user, pk=pk, action=action)
    except DuplicateGroup.DoesNotExist:
        raise Http404 from None


class QueueView(ReviewAccessMixin, View):
    """The review queue: duplicate groups, best score first, filtered by record type, level and
    status; only groups whose records the user may all see."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from .choices import GroupStatus, MatchLevel

        filters = {k: request.GET.get(k, "") for k in ("model", "level", "status")}
        filters["status"] = filters["status"] or GroupStatus.OPEN
        qs = selectors.duplicate_group_list(user=request.user, filters=filters)
        try:
            page = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            page = 1
        groups = list(qs[(page - 1) * QUEUE_PAGE : page * QUEUE_PAGE + 1])
        more = len(groups) > QUEUE_PAGE
        groups = groups[:QUEUE_PAGE]
        query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
        return render(
            request,
            "dedup/queue.html",
            {
                "rows": selectors.queue_rows(groups),
                "filters": filters,
                "models": selectors.scan_models_for(request.user),
                "levels": MatchLevel.choices,
                "statuses": GroupStatus.choices,
                "page": page,
                "next_url": f"?{query}&page={page + 1}" if more else None,
                "prev_url": f"?{query}&page={page - 1}" if page > 1 else None,
                "is_admin": is_admin(request.user),
                "breadcrumbs": [(_("Duplicates"), None)],
            },
        )


class GroupView(ReviewAccessMixin, View):
    """One group: its records side by side, the reasons of each pair, and the actions."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from kehu.core.choices import Action

        group = _group_or_404(request, pk)
        try:
            selectors.duplicate_group_get(user=request.user, pk=pk, action=Action.CHANGE)
            can_change = True
        except Exception:
            can_change = False
        detail = selectors.duplicate_group_detail(user=request.user, group=group)
        return render(
            request,
            "dedup/group.html",
            {
                "group": group,
                "detail": detail,
                "columns": list(zip(detail["records"], detail["urls"], strict=True)),
                "can_change": can_change and group.status == "open",
                "breadcrumbs": [
                    (_("Duplicates"), reverse("dedup:queue")),
                    (_("Duplicate group %(id)s") % {"id": group.pk}, None),
                ],
            },
        )


class GroupDismissView(ReviewAccessMixin, View):
    """POST: "Not duplicates" — remembered for every pair of the group's records."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from kehu.core.choices import Action

        from . import scanning

        group = _group_or_404(request, pk, Action.CHANGE)
        try:
            scanning.group_dismiss(by=request.user, group=group)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("dedup:group", args=[pk]))
        messages.success(
            request, _("Marked as not duplicates: these records will not be proposed together again.")
        )
        return HttpResponseRedirect(reverse("dedup:queue"))


class GroupMergeView(ReviewAccessMixin, View):
    """GET: the merge preview (the record kept and, per differing field, whose value survives);
    POST: merge through ``kehu.dedup.merging.records_merge`` and resolve the group."""

    def _ids(self, group: Any) -> list[int]:
        return sorted(group.members.values_list("object_id", flat=True))

    def _master(self, request: HttpRequest, ids: list[int]) -> int:
        raw = request.POST.get("master") or request.GET.get("master") or ""
        try:
            master = int(raw)
        except ValueError:
            return ids[-1]  # the newest record by default
        return master if master in ids else ids[-1]

    def _unavailable(self, request: HttpRequest, pk: int) -> HttpResponse:
        messages.error(request, _("Merging is not available yet."))
        return HttpResponseRedirect(reverse("dedup:group", args=[pk]))

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from kehu.core.choices import Action

        from . import merging

        group = _group_or_404(request, pk, Action.CHANGE)
        if group.status != "open":
            return HttpResponseRedirect(reverse("dedup:group", args=[pk]))
        ids = self._ids(group)
        try:
            preview = merging.merge_preview(
                user=request.user,
                model_label=group.model_label,
                ids=ids,
                master_id=self._master(request, ids),
            )
        except NotImplementedError:
            return self._unavailable(request, pk)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from None
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("dedup:group", args=[pk]))
        return render(
            request,
            "dedup/merge.html",
            {
                "group": group,
                "preview": preview,
                "record_ids": [r.pk for r in preview.records],
                "related": _related_moves(preview),
                "breadcrumbs": [
                    (_("Duplicates"), reverse("dedup:queue")),
                    (_("Duplicate group %(id)s") % {"id": group.pk}, reverse("dedup:group", args=[pk])),
                    (_("Merge"), None),
                ],
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from kehu.core.choices import Action

        from . import merging

        group = _group_or_404(request, pk, Action.CHANGE)
        ids = self._ids(group)
        master = self._master(request, ids)
        values: dict[str, int] = {}
        for key in request.POST:
            raw = request.POST.get(key, "")
            if key.startswith("value_") and raw.isdigit() and int(raw) in ids:
                values[key.removeprefix("value_")] = int(raw)
        try:
            merging.records_merge(
                by=request.user,
                model_label=group.model_label,
                master_id=master,
                ids=[i for i in ids if i != master],
                values=values,
                group=group,
            )
        except NotImplementedError:
            return self._unavailable(request, pk)
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from None
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(reverse("dedup:group", args=[pk]))
        messages.success(request, _("The records were merged."))
        return HttpResponseRedirect(reverse("dedup:queue"))


class RulesView(AdminView):
    """Administrators: the match rule of one record type (``?model=``): scores, blocking keys,
    field weights and methods, the auto-merge opt-in; and "scan now" with the last scan's progress."""

    def _label(self, request: HttpRequest) -> str:
        from .scanning import SCAN_MODELS

        label = request.GET.get("model") or request.POST.get("model") or SCAN_MODELS[0]
        if label not in SCAN_MODELS:
            raise Http404
        return label

    def render_page(self, request: HttpRequest, label: str, form: Any, status: int = 200) -> HttpResponse:
        from kehu.core.models import Job

        from . import scanning

        job = (
            Job.objects.restrict(request.user, "view")
            .filter(kind=scanning.JOB_KIND, params__model=label)
            .order_by("-id")
            .first()
        )
        return render(
            request,
            "dedup/rules.html",
            {
                "label": label,
                "models": [
                    (m, scanning.scan_model(m)._meta.verbose_name_plural) for m in scanning.SCAN_MODELS
                ],
                "form": form,
                "job": job,
                "breadcrumbs": [(_("Administration"), None), (_("Duplicate rules"), None)],
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        from . import scanning
        from .forms import MatchRuleForm

        label = self._label(request)
        enabled, auto_merge = scanning.match_rule_settings(label)
        form = MatchRuleForm(
            initial=MatchRuleForm.initial_from(
                scanning.match_rule_get(label), enabled=enabled, auto_merge=auto_merge
            )
        )
        return self.render_page(request, label, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        from . import scanning
        from .forms import MatchRuleForm

        label = self._label(request)
        form = MatchRuleForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, label, form, status=400)
        try:
            scanning.match_rule_save(
                by=request.user,
                model_label=label,
                rule=form.rule_json(),
                enabled=form.cleaned_data["enabled"],
                auto_merge=form.cleaned_data["auto_merge"],
            )
        except scanning.MatchRuleError as exc:
            form.add_rule_errors(exc)
            return self.render_page(request, label, form, status=400)
        messages.success(request, _("The match rule was saved. It applies from the next scan."))
        return HttpResponseRedirect(f"{reverse('dedup:rules')}?model={label}")


class RulesResetView(AdminView):
    """POST: back to the shipped default rule (the enabled and auto-merge settings are kept)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        from . import scanning

        label = request.POST.get("model", "")
        if label not in scanning.SCAN_MODELS:
            raise Http404
        enabled, auto_merge = scanning.match_rule_settings(label)
        scanning.match_rule_save(
            by=request.user,
            model_label=label,
            rule=scanning.default_rule(label),
            enabled=enabled,
            auto_merge=auto_merge,
        )
        messages.success(request, _("The default rule was restored."))
        return HttpResponseRedirect(f"{reverse('dedup:rules')}?model={label}")


class ScanStartView(AdminView):
    """POST: scan one record type now, in the background (progress on the rules page)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        from . import scanning

        label = request.POST.get("model", "")
        if label not in scanning.SCAN_MODELS:
            raise Http404
        scanning.dedup_scan_start(by=request.user, model_label=label)
        messages.info(request, _("The duplicate scan has started."))
        return HttpResponseRedirect(f"{reverse('dedup:rules')}?model={label}")


class QualityPanelView(ReviewAccessMixin, View):
    """The duplicate rate per record type and its trend: a panel of the data quality page (loaded
    by htmx)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        rates = selectors.duplicate_rates(user=request.user)
        for rate in rates:
            rate["sparkline"] = _sparkline([p["rate"] for p in rate["trend"]])
            rate["queue_url"] = f"{reverse('dedup:queue')}?model={rate['model']}"
        return render(request, "dedup/_quality_panel.html", {"rates": rates})


def _sparkline(values: list[float], width: int = 160, height: int = 32) -> str:
    """SVG polyline points of a small trend line ("" for fewer than two points)."""
    if len(values) < 2:
        return ""
    top = max(values) or 1.0
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )


def _related_moves(preview: Any) -> list[tuple[str, int]]:
    """(related records' name, how many move) for the records merged into the kept one; relation
    labels are "app.model.fk"."""
    from django.apps import apps

    out: dict[str, int] = {}
    for relation, counts in preview.related.items():
        moved = sum(n for pk, n in counts.items() if pk != preview.master_id)
        if not moved:
            continue
        try:
            name = str(apps.get_model(relation.rsplit(".", 1)[0])._meta.verbose_name_plural)
        except (LookupError, ValueError):
            name = relation
        out[name] = out.get(name, 0) + moved
    return sorted(out.items())
