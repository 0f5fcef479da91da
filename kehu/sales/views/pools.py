"""Pool pages (公海): the members' pool list and pool page (claim, assign, transfer, tomorrow's
recycling, history), "Return to pool" from a lead or account, and pool administration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, is_htmx, paginate, safe_next, success_response
from kehu.core.permissions import can
from kehu.customfields.selectors import picklist_items

from ..forms_pools import PoolAssignForm, PoolFilterForm, PoolForm, PoolReturnForm, PoolTransferForm
from ..models import Pool, PoolItem
from ..selectors import pools as selectors
from ..services import pools as services

PAGE_SIZE = 25
RECORD_MODELS = {"sales.lead": "sales.Lead", "customers.account": "customers.Account"}


def _error(request: HttpRequest, exc: DomainError, url: str) -> HttpResponse:
    """A refused action: a toast (htmx) or a flash message, and nothing changed."""
    if is_htmx(request):
        import json

        response = HttpResponse(status=exc.status if exc.status != 403 else 400)
        response["HX-Reswap"] = "none"
        response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": str(exc.message), "level": "error"}})
        return response
    messages.error(request, str(exc.message))
    return HttpResponseRedirect(url)


def _ids(request: HttpRequest) -> list[str]:
    return [i for i in request.POST.getlist("ids") if i.strip()]


# --- members' pages ------------------------------------------------------------------------------


class PoolListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        pools = selectors.pool_list(user=user)
        member = set(selectors.member_pool_ids(user))
        for pool in pools:
            pool.is_member = pool.pk in member  # type: ignore[attr-defined]
            pool.claims_today = services.claims_today(pool, user) if pool.pk in member else None  # type: ignore[attr-defined]
        return render(
            request,
            "sales/pool_list.html",
            {
                "pools": pools,
                "may_configure": can(user, Pool, Action.CHANGE),
                "breadcrumbs": [(_("Sales"), None), (_("Pools"), None)],
            },
        )


class PoolDetailView(LoginRequiredMixin, View):
    TABS = ("records", "preview", "history")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        pool = selectors.pool_get(user=user, pk=pk)
        tab = request.GET.get("tab") if request.GET.get("tab") in self.TABS else "records"
        is_member = services.is_member(user, pool)
        may_assign = services.can_assign_from(user, pool)
        is_pool_admin = services.is_pool_admin(user, pool)
        model = services.record_model(pool)
        context: dict[str, Any] = {
            "pool": pool,
            "tab": tab,
            "is_member": is_member,
            "may_assign": may_assign,
            "may_transfer": is_pool_admin,
            "may_configure": can(user, Pool, Action.CHANGE),
            "is_lead_pool": pool.kind == "lead",
            "claims_today": services.claims_today(pool, user),
            "owned": services.owned_count(user, pool.kind) if pool.max_owned is not None else None,
            "in_pool_count": PoolItem.objects.filter(pool=pool, in_pool=True).count(),
            "breadcrumbs": [(_("Pools"), reverse("sales:pool_list")), (pool.name, None)],
        }
        if tab == "records":
            form = PoolFilterForm(request.GET or None)
            qs = form.apply(selectors.pool_records(user=user, pool=pool))
            context["filter_form"] = form
            page = paginate(qs, request.GET.get("page"), PAGE_SIZE)
            labels = {i.value: i.display_label for i in picklist_items("source")}
            for row in page.object_list:
                row.source_label = labels.get(row.source, row.source)
            context["page"] = page
            context["query"] = request.GET.copy()
            context["query"].pop("page", None)
            if may_assign:
                context["assign_form"] = PoolAssignForm()
            if is_pool_admin:
                context["transfer_form"] = PoolTransferForm(pool=pool)
        elif tab == "preview":
            tomorrow = timezone.localdate() + dt.timedelta(days=1)
            try:
                on = dt.date.fromisoformat(request.GET.get("on", "")) if request.GET.get("on") else tomorrow
            except ValueError:
                on = tomorrow
            due = services.pool_recycle_preview(pool=pool, on=on)
            if not (is_pool_admin or can(user, Pool, Action.VIEW)):
                seen = set(
                    model.objects.restrict(user, Action.VIEW)
                    .filter(pk__in=[d.record.pk for d in due])
                    .values_list("pk", flat=True)
                )
                due = [d for d in due if d.record.pk in seen]
            context["due"] = due
            context["on"] = on
        else:
            qs = selectors.pool_history(pool=pool)
            if not (is_pool_admin or can(user, Pool, Action.VIEW)):
                field = "lead" if pool.kind == "lead" else "account"
                visible = model.objects.restrict(user, Action.VIEW).values("pk")
                qs = qs.filter(**{f"{field}__in": visible})
            context["page"] = paginate(qs, request.GET.get("page"), PAGE_SIZE)
        return render(request, "sales/pool_detail.html", context)


class PoolClaimView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pool = selectors.pool_get(user=request.user, pk=pk)
        url = safe_next(request) or pool.get_absolute_url()
        try:
            claimed = services.pool_claim(pool=pool, ids=_ids(request), by=request.user)
        except DomainError as exc:
            return _error(request, exc, url)
        if len(claimed) == 1:
            message = _("You claimed %(record)s.") % {"record": claimed[0]}
        else:
            message = _("You claimed %(n)d records.") % {"n": len(claimed)}
        return success_response(request, url=url, message=message)


class PoolAssignView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pool = selectors.pool_get(user=request.user, pk=pk)
        url = safe_next(request) or pool.get_absolute_url()
        form = PoolAssignForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the user to assign to."))
            return HttpResponseRedirect(url)
        try:
            done = services.pool_assign(
                pool=pool, ids=_ids(request), to=form.cleaned_data["to"], by=request.user
            )
        except DomainError as exc:
            return _error(request, exc, url)
        message = _("%(n)d records assigned to %(user)s.") % {"n": len(done), "user": form.cleaned_data["to"]}
        return success_response(request, url=url, message=message)


class PoolTransferView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pool = selectors.pool_get(user=request.user, pk=pk)
        url = safe_next(request) or pool.get_absolute_url()
        form = PoolTransferForm(request.POST, pool=pool)
        if not form.is_valid():
            messages.error(request, _("Choose the pool to transfer to."))
            return HttpResponseRedirect(url)
        model = services.record_model(pool)
        # Only this pool's records: the service's messages never name a record the user cannot see.
        ids = [i for i in _ids(request) if i.isdigit()]
        records = list(model.objects.filter(pk__in=ids, pool_item__pool=pool, pool_item__in_pool=True))
        try:
            done = services.pool_transfer(
                records=records,
                to_pool=form.cleaned_data["to_pool"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            return _error(request, exc, url)
        message = _("%(n)d records transferred to %(pool)s.") % {
            "n": done,
            "pool": form.cleaned_data["to_pool"],
        }
        return success_response(request, url=url, message=message)


# --- from a record's page ---------------------------------------------------------------------------


def _record(request: HttpRequest, label: str, pk: int, action: str = Action.VIEW) -> Any:
    if label not in RECORD_MODELS:
        raise Http404
    return get_for_action(apps.get_model(RECORD_MODELS[label]), request.user, pk, action)


class RecordReturnView(LoginRequiredMixin, View):
    """ "Return to pool" (退回公海) on a lead's or an account's page: a reason, and the pool when the
    record has no home pool yet."""

    def _form(self, request: HttpRequest, record: Any, data: Any = None) -> PoolReturnForm:
        item = selectors.home_pool(record)
        kind = "lead" if record._meta.label_lower == "sales.lead" else "account"
        return PoolReturnForm(
            data,
            kind=kind,
            reason_required=bool(item and item.pool.return_reason_required),
            needs_pool=item is None,
        )

    def _render(
        self, request: HttpRequest, form: PoolReturnForm, record: Any, status: int = 200
    ) -> HttpResponse:
        item = selectors.home_pool(record)
        title = _("Return “%(record)s” to the pool") % {"record": record}
        context = {
            "form": form,
            "title": title,
            "action_url": request.get_full_path(),
            "cancel_url": record.get_absolute_url(),
            "breadcrumbs": [(title, None)],
            "form_fields_template": "sales/_pool_return_fields.html",
            "home_pool": item.pool if item else None,
        }
        template = "core/_object_form_modal.html" if is_htmx(request) else "core/object_edit.html"
        return render(request, template, context, status=status)

    def get(self, request: HttpRequest, label: str, pk: int) -> HttpResponse:
        record = _record(request, label, pk)
        return self._render(request, self._form(request, record), record)

    def post(self, request: HttpRequest, label: str, pk: int) -> HttpResponse:
        record = _record(request, label, pk)
        form = self._form(request, record, request.POST)
        if form.is_valid():
            try:
                services.pool_return(
                    records=[record],
                    by=request.user,
                    reason=form.cleaned_data.get("reason", ""),
                    pool=form.cleaned_data.get("pool"),
                )
            except DomainError as exc:
                for field, errors in exc.fields.items():
                    form.add_error(field if field in form.fields else None, errors)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                item = selectors.home_pool(record)
                url = safe_next(request) or (
                    item.pool.get_absolute_url() if item else reverse("sales:pool_list")
                )
                return success_response(
                    request, url=url, message=_("%(record)s went back to the pool.") % {"record": record}
                )
        return self._render(request, form, record, status=400)


class RecordClaimView(LoginRequiredMixin, View):
    """ "Claim" on the page of a record in a pool (GET: the confirmation)."""

    def get(self, request: HttpRequest, label: str, pk: int) -> HttpResponse:
        record = _record(request, label, pk)
        item = selectors.home_pool(record)
        if item is None or not item.in_pool:
            raise Http404
        title = _("Claim “%(record)s”") % {"record": record}
        context = {
            "form": None,
            "title": title,
            "action_url": request.get_full_path(),
            "cancel_url": record.get_absolute_url(),
            "breadcrumbs": [(title, None)],
            "form_fields_template": "sales/_pool_claim_confirm.html",
            "pool": item.pool,
            "record": record,
            "claims_today": services.claims_today(item.pool, request.user),
        }
        template = "core/_object_form_modal.html" if is_htmx(request) else "core/object_edit.html"
        return render(request, template, context)

    def post(self, request: HttpRequest, label: str, pk: int) -> HttpResponse:
        record = _record(request, label, pk)
        item = selectors.home_pool(record)
        url = record.get_absolute_url()
        if item is None or not item.in_pool:
            raise Http404
        try:
            services.pool_claim(pool=item.pool, ids=[record.pk], by=request.user)
        except DomainError as exc:
            return _error(request, exc, url)
        return success_response(request, url=url, message=_("You claimed %(record)s.") % {"record": record})


# --- administration ------------------------------------------------------------------------------


class PoolAdminMixin(LoginRequiredMixin):
    action = Action.VIEW

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, Pool, self.action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _admin_crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("Pools"), reverse("sales:pool_admin")), *extra]


class PoolAdminListView(PoolAdminMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        pools = selectors.pool_list(user=request.user)
        return render(
            request,
            "sales/pool_admin_list.html",
            {
                "pools": pools,
                "may_add": can(request.user, Pool, Action.ADD),
                "may_change": can(request.user, Pool, Action.CHANGE),
                "may_delete": can(request.user, Pool, Action.DELETE),
                "breadcrumbs": [(_("Administration"), None), (_("Pools"), None)],
            },
        )


class PoolEditView(PoolAdminMixin, View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.action = Action.CHANGE if kwargs.get("pk") else Action.ADD
        return super().dispatch(request, *args, **kwargs)

    def _pool(self, pk: int | None) -> Pool | None:
        if not pk:
            return None
        try:
            return Pool.objects.get(pk=pk)
        except Pool.DoesNotExist as exc:
            raise Http404 from exc

    def _render(
        self, request: HttpRequest, form: PoolForm, pool: Pool | None, status: int = 200
    ) -> HttpResponse:
        title = _("Edit pool") if pool else _("New pool")
        return render(
            request,
            "sales/pool_form.html",
            {
                "form": form,
                "pool": pool,
                "title": title,
                "breadcrumbs": _admin_crumbs((title, None)),
                "action_url": request.get_full_path(),
                "cancel_url": reverse("sales:pool_admin"),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        pool = self._pool(pk)
        initial = {"is_active": True, "kind": request.GET.get("kind", "lead")} if pool is None else None
        return self._render(request, PoolForm(instance=pool, initial=initial), pool)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        pool = self._pool(pk)
        form = PoolForm(request.POST, instance=pool or Pool())
        if form.is_valid():
            try:
                if pool is None:
                    saved = services.pool_create(by=request.user, data=form.service_data())
                    message = _("Pool “%(name)s” created.") % {"name": saved.name}
                else:
                    saved = services.pool_update(pool=pool, by=request.user, data=form.service_data())
                    message = _("Pool “%(name)s” saved.") % {"name": saved.name}
            except DomainError as exc:
                for field, errors in exc.fields.items():
                    form.add_error(field if field in form.fields else None, errors)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                return success_response(request, url=reverse("sales:pool_admin"), message=message)
        return self._render(request, form, pool, status=400)


class PoolDeleteView(PoolAdminMixin, View):
    action = Action.DELETE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        pool = Pool.objects.filter(pk=pk).first()
        if pool is None:
            raise Http404
        url = reverse("sales:pool_admin")
        try:
            services.pool_delete(pool=pool, by=request.user)
        except DomainError as exc:
            return _error(request, exc, url)
        return success_response(request, url=url, message=_("Pool “%(name)s” deleted.") % {"name": pool.name})


urlpatterns: list[URLPattern] = [
    path("pools/", PoolListView.as_view(), name="pool_list"),
    path("pools/<int:pk>/", PoolDetailView.as_view(), name="pool_detail"),
    path("pools/<int:pk>/claim/", PoolClaimView.as_view(), name="pool_claim"),
    path("pools/<int:pk>/assign/", PoolAssignView.as_view(), name="pool_assign"),
    path("pools/<int:pk>/transfer/", PoolTransferView.as_view(), name="pool_transfer"),
    path("pools/return/<str:label>/<int:pk>/", RecordReturnView.as_view(), name="pool_record_return"),
    path("pools/claim/<str:label>/<int:pk>/", RecordClaimView.as_view(), name="pool_record_claim"),
    path("settings/pools/", PoolAdminListView.as_view(), name="pool_admin"),
    path("settings/pools/new/", PoolEditView.as_view(), name="pool_add"),
    path("settings/pools/<int:pk>/edit/", PoolEditView.as_view(), name="pool_edit"),
    path("settings/pools/<int:pk>/delete/", PoolDeleteView.as_view(), name="pool_delete"),
]
