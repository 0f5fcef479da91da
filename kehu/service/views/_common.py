"""Pieces the service app's settings-style pages share: the permission check of records without a
data scope, a service refusal shown on its form, and the create/edit form page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, success_response
from kehu.core.permissions import can

M = TypeVar("M", bound=models.Model)
Crumbs = list[tuple[str, str | None]]


def require(request: HttpRequest, model: type[models.Model], action: str) -> None:
    """Configuration records have no data scope: without the permission, 403."""
    if not can(request.user, model, action):
        raise PermissionDenied


def form_errors(form: Any, exc: DomainError) -> None:
    """A service refusal on the form: on the fields it names (when the form has them), else on the
    whole form."""
    for name, messages in exc.fields.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if not exc.fields:
        form.add_error(None, str(exc.message))


def object_for_edit(request: HttpRequest, model: type[M], pk: int | None) -> M | None:
    """The create/edit page's record: none for a new one (needs ``add``), else the record (needs
    ``change``; 404 when it does not exist)."""
    if pk is None:
        require(request, model, Action.ADD)
        return None
    require(request, model, Action.CHANGE)
    return get_for_action(model, request.user, pk, Action.CHANGE)


def edit_form_page(
    request: HttpRequest,
    *,
    obj: M | None,
    form: Any,
    save: Callable[[M | None, dict[str, Any]], M],
    saved: str,
    new_title: str,
    template: str,
    name: str,
    crumbs: Callable[..., Crumbs],
) -> HttpResponse:
    """A create/edit form page: a valid POST goes through ``save(obj, cleaned_data)`` and answers
    :func:`success_response` to the record's page with ``saved % {"name": record}``; a refusal or
    invalid input shows the form again (400). The template gets the form, the record as ``name``,
    the title (``new_title`` or "Edit <record>") and the breadcrumbs."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(obj, form.cleaned_data)
        except DomainError as exc:
            form_errors(form, exc)
        else:
            url = obj.get_absolute_url()  # type: ignore[attr-defined]
            return success_response(request, url=url, message=saved % {"name": obj})
    title = new_title if obj is None else _("Edit %(name)s") % {"name": obj}
    return render(
        request,
        template,
        {"form": form, name: obj, "title": title, "breadcrumbs": crumbs((title, None))},
        status=400 if request.method == "POST" else 200,
    )
