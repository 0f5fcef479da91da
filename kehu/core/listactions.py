"""Pages behind a list's saved views menu and bulk action menu (htmx modals).

* ``core:savedview_add`` (``lists/<table>/views/add/``): save the current filters, sort, columns and
  page size as a view; ``core:savedview_edit`` / ``_delete`` / ``_default`` manage one view.
* ``core:bulk`` (``lists/<table>/bulk/``): GET the dialog of a bulk action for the selection
  (posted ids, or ``all=1`` with the list's query string), POST runs it through
  `kehu.core.bulk.bulk_start` (at once, or as a background job whose progress the dialog shows).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from . import bulk, savedviews
from .choices import Action
from .errors import DomainError
from .generic import is_htmx, list_view_for_table, object_url, safe_next, success_response
from .models import SavedView
from .permissions import can
from .tables import get_table


def _list_of(table: str) -> Any:
    view = list_view_for_table(table)
    if view is None or get_table(table) is None:
        raise Http404
    return view


def _list_url(table: str, view: SavedView | None = None) -> str:
    list_view = _list_of(table)
    url = object_url(list_view.model, "list") or "/"
    if view is not None:
        return f"{url}?view={view.pk}"
    return url


class SavedViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    shared = forms.BooleanField(
        label=gettext_lazy("Share with everyone who can see this list"), required=False
    )
    make_default = forms.BooleanField(label=gettext_lazy("Open this list with this view"), required=False)
    replace = forms.BooleanField(
        label=gettext_lazy("Save the current filters, sort and columns into this view"), required=False
    )

    def __init__(self, *args: Any, can_share: bool = False, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_share:
            self.fields["shared"].disabled = True
            self.fields["shared"].help_text = _("Only administrators may share views.")
        if not editing:
            del self.fields["replace"]


def _modal(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, template, context, status=200 if is_htmx(request) else status)


def _columns(request: HttpRequest) -> list[str]:
    return [c for value in request.POST.getlist("columns") for c in value.split(",") if c]


class SavedViewAddView(LoginRequiredMixin, View):
    """Save the list's current state (the query string, columns and page size it posts) as a view."""

    template_name = "core/_savedview_modal.html"

    def context(self, request: HttpRequest, table: str, form: Any) -> dict[str, Any]:
        source = request.POST if request.method == "POST" else request.GET
        return {
            "form": form,
            "table": table,
            "title": _("Save view"),
            "action_url": request.path,
            "view_query": source.get("query", ""),
            "columns": [c for v in source.getlist("columns") for c in v.split(",") if c],
            "per_page": source.get("per_page", ""),
        }

    def get(self, request: HttpRequest, table: str) -> HttpResponse:
        _list_of(table)
        if not savedviews.table_visible(request.user, table):
            raise Http404
        form = SavedViewForm(can_share=savedviews.can_share(request.user))
        return _modal(request, self.template_name, self.context(request, table, form))

    def post(self, request: HttpRequest, table: str) -> HttpResponse:
        _list_of(table)
        if not savedviews.table_visible(request.user, table):
            raise Http404
        form = SavedViewForm(request.POST, can_share=savedviews.can_share(request.user))
        if form.is_valid():
            try:
                view = savedviews.savedview_create(
                    by=request.user,
                    table=table,
                    name=form.cleaned_data["name"],
                    query=request.POST.get("query", ""),
                    shared=bool(form.cleaned_data.get("shared")),
                    columns=_columns(request),
                    per_page=request.POST.get("per_page") or None,
                    make_default=form.cleaned_data["make_default"],
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return success_response(
                    request,
                    url=_list_url(table, view),
                    message=_("View “%(name)s” saved.") % {"name": view.name},
                )
        return _modal(request, self.template_name, self.context(request, table, form), status=400)


def _form_error(form: forms.Form, exc: DomainError) -> None:
    for name, messages in exc.fields.items():
        form.add_error(name if name in form.fields else None, [str(m) for m in messages])
    if not exc.fields:
        form.add_error(None, str(exc.message))


def _view_or_404(request: HttpRequest, pk: int) -> SavedView:
    view = savedviews.savedview_get(user=request.user, pk=pk)
    if view is None:
        raise Http404
    return view


def _may_edit(user: Any, view: SavedView) -> bool:
    from .permissions import is_admin

    return view.owner_id == user.pk or (view.shared and is_admin(user))


class SavedViewEditView(LoginRequiredMixin, View):
    """Rename, share or unshare a view, or store the list's current state into it."""

    template_name = "core/_savedview_modal.html"

    def context(self, request: HttpRequest, view: SavedView, form: Any) -> dict[str, Any]:
        source = request.POST if request.method == "POST" else request.GET
        return {
            "form": form,
            "view": view,
            "table": view.table,
            "title": _("Edit view"),
            "action_url": request.path,
            "view_query": source.get("query", ""),
            "columns": [c for v in source.getlist("columns") for c in v.split(",") if c],
            "per_page": source.get("per_page", ""),
        }

    def get_view(self, request: HttpRequest, pk: int) -> SavedView:
        view = _view_or_404(request, pk)
        if not _may_edit(request.user, view):
            raise PermissionDenied
        return view

    def form(self, request: HttpRequest, view: SavedView, data: Any = None) -> SavedViewForm:
        initial = {"name": view.name, "shared": view.shared, "replace": bool(request.GET.get("query"))}
        initial["make_default"] = savedviews.default_view_id(user=request.user, table=view.table) == view.pk
        return SavedViewForm(
            data, initial=initial, can_share=savedviews.can_share(request.user) or view.shared, editing=True
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = self.get_view(request, pk)
        return _modal(request, self.template_name, self.context(request, view, self.form(request, view)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = self.get_view(request, pk)
        form = self.form(request, view, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            replace = data.get("replace")
            try:
                view = savedviews.savedview_update(
                    by=request.user,
                    view=view,
                    name=data["name"],
                    shared=bool(data.get("shared")) if "shared" in form.changed_data else None,
                    query=request.POST.get("query", "") if replace else None,
                    columns=_columns(request) if replace else None,
                    per_page=(request.POST.get("per_page") or None) if replace else ...,
                )
                is_default = savedviews.default_view_id(user=request.user, table=view.table) == view.pk
                if data["make_default"] and not is_default:
                    savedviews.savedview_set_default(by=request.user, table=view.table, view=view)
                elif not data["make_default"] and is_default:
                    savedviews.savedview_set_default(by=request.user, table=view.table, view=None)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return success_response(
                    request,
                    url=_list_url(view.table, view),
                    message=_("View “%(name)s” saved.") % {"name": view.name},
                )
        return _modal(request, self.template_name, self.context(request, view, form), status=400)


class SavedViewDeleteView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = _view_or_404(request, pk)
        if not _may_edit(request.user, view):
            raise PermissionDenied
        table, name = view.table, view.name
        savedviews.savedview_delete(by=request.user, view=view)
        return success_response(
            request, url=f"{_list_url(table)}?view=0", message=_("View “%(name)s” deleted.") % {"name": name}
        )


class SavedViewDefaultView(LoginRequiredMixin, View):
    """POST: make the view the user's default for its list (``clear=1``: no default)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        view = _view_or_404(request, pk)
        if request.POST.get("clear"):
            savedviews.savedview_set_default(by=request.user, table=view.table, view=None)
            message = _("This list now opens with all records.")
        else:
            savedviews.savedview_set_default(by=request.user, table=view.table, view=view)
            message = _("This list now opens with “%(name)s”.") % {"name": view.name}
        return success_response(request, url=_list_url(view.table, view), message=message)


# --- bulk actions -----------------------------------------------------------------------------


class BulkActionView(LoginRequiredMixin, View):
    """The dialog of a bulk action (GET) and its run (POST).

    The selection comes as ``ids`` (repeated) or ``all=1`` plus ``query`` (the list's query
    string); both are re-evaluated through ``restrict(user, action.permission)``."""

    template_name = "core/_bulk_modal.html"

    def setup_action(self, request: HttpRequest, table: str) -> tuple[Any, bulk.BulkAction]:
        list_view = _list_of(table)
        model = list_view.model
        if not can(request.user, model, Action.VIEW):
            raise Http404
        source = request.POST if request.method == "POST" else request.GET
        action = bulk.get_bulk_action(model._meta.label_lower, source.get("action", ""))
        if action is None:
            raise Http404
        if not action.allowed(request.user, model):
            raise PermissionDenied
        return list_view, action

    def selection(self, request: HttpRequest) -> tuple[list[str] | None, QueryDict | None]:
        source = request.POST if request.method == "POST" else request.GET
        if source.get("all") == "1":
            return None, QueryDict(source.get("query", ""))
        return [pk for value in source.getlist("ids") for pk in value.split(",") if pk.strip()], None

    def context(
        self, request: HttpRequest, table: str, list_view: Any, action: bulk.BulkAction, form: Any
    ) -> dict[str, Any]:
        ids, query = self.selection(request)
        count: int | None = None
        error = None
        try:
            qs = bulk.selection_queryset(
                user=request.user,
                model=list_view.model,
                permission=action.permission,
                ids=bulk.clean_ids(ids) if ids is not None else None,
                query=query,
                filterset_class=list_view.filterset_class,
                request=request,
            )
            count = qs.count()
        except DomainError as exc:
            error = str(exc.message)
        selected = len(ids) if ids is not None else None
        return {
            "table": table,
            "action": action,
            "form": form,
            "count": count,
            "selected": selected,
            "skipped": (selected - count) if selected is not None and count is not None else 0,
            "ids": ids or [],
            "all": query is not None,
            "query": query.urlencode() if query is not None else "",
            "things": list_view.model._meta.verbose_name_plural,
            "error": error,
            "inline_max": bulk.inline_max(),
            "action_url": request.path,
        }

    def make_form(self, action: bulk.BulkAction, user: Any, data: Any = None) -> Any:
        if action.form_class is None:
            return None
        return action.form_class(data, user=user)  # type: ignore[call-arg]

    def get(self, request: HttpRequest, table: str) -> HttpResponse:
        list_view, action = self.setup_action(request, table)
        form = self.make_form(action, request.user)
        return _modal(request, self.template_name, self.context(request, table, list_view, action, form))

    def post(self, request: HttpRequest, table: str) -> HttpResponse:
        list_view, action = self.setup_action(request, table)
        form = self.make_form(action, request.user, request.POST)
        ids, query = self.selection(request)
        context = self.context(request, table, list_view, action, form)
        if form is not None and not form.is_valid():
            return _modal(request, self.template_name, context, status=400)
        try:
            outcome = bulk.bulk_start(
                user=request.user,
                model=list_view.model,
                action_key=action.key,
                ids=ids,
                query=query,
                filterset_class=list_view.filterset_class,
                params=request.POST,
                request=request,
                confirm_count=request.POST.get("confirm"),
            )
        except DomainError as exc:
            context["error"] = str(exc.message)
            if form is not None:
                for name, messages in exc.fields.items():
                    field = name.removeprefix("params.")
                    if field in form.fields:
                        form.add_error(field, [str(m) for m in messages])
            context["confirm_error"] = exc.code == "bulk_confirm"
            return _modal(request, self.template_name, context, status=400)
        if outcome.job is not None:
            context.update(job=outcome.job, can_cancel=True)
            response = render(request, "core/_bulk_started.html", context)
            response["HX-Trigger"] = json.dumps(
                {"kehu:toast": {"message": str(_("The bulk action has started.")), "level": "info"}}
            )
            if not is_htmx(request):
                return HttpResponseRedirect(outcome.job.get_absolute_url())
            return response
        result = outcome.result
        assert result is not None
        message = f"{action.label}: {result.summary()}"
        if result.failed_count:
            context.update(result=result, message=message)
            response = render(request, "core/_bulk_result.html", context)
            response["HX-Trigger"] = json.dumps({"kehu:bulkDone": True})
            return response
        return success_response(request, url=safe_next(request) or _list_url(table), message=message)
