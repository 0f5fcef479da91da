"""Screens of the users app: the profile (with personal API tokens) and the administration of users,
departments and roles. Views authenticate, restrict, parse, call one service or selector, render."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can, is_admin

from . import selectors, services
from .forms import (
    MODE_CHOICES,
    SCOPE_CHOICES,
    ApiTokenForm,
    DepartmentForm,
    DepartmentMoveForm,
    ProfileForm,
    RoleAccessForm,
    RoleForm,
    SetPasswordForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from .models import Department, Role, User

PAGE_SIZE = 25
_ACTION_LABELS: dict[str, Any] = dict(Action.choices)


# --- helpers --------------------------------------------------------------------------------------


def _require(request: HttpRequest, model: type[models.Model], action: str) -> None:
    if not can(request.user, model, action):
        raise PermissionDenied


def _get(getter: Callable[..., Any], **kwargs: Any) -> Any:
    """An object within the user's scope, else 404 (never 403: no existence leak)."""
    try:
        return getter(**kwargs)
    except ObjectDoesNotExist:
        raise Http404 from None


def _post(request: HttpRequest) -> Any:
    """Form data on POST (even when empty), None on GET: a form is bound exactly on POST."""
    return request.POST if request.method == "POST" else None


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _apply_error(form: forms.Form, error: DomainError) -> None:
    placed = False
    for field, msgs in error.fields.items():
        if field in form.fields:
            for msg in msgs:
                form.add_error(field, msg)
            placed = True
    if not placed or error.message:
        form.add_error(None, str(error.message))


def _done(request: HttpRequest, message: str, url: str) -> HttpResponse:
    """After a successful post: a toast on the next page. htmx requests navigate by HX-Redirect."""
    messages.success(request, message)
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _error_toast(request: HttpRequest, error: DomainError, url: str) -> HttpResponse:
    """A refused action without a form (deactivate, delete): the message as an error toast."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": str(error.message), "level": "error"}})
        return response
    messages.error(request, str(error.message))
    return redirect(url)


def _render_form(
    request: HttpRequest,
    *,
    form: forms.Form,
    title: str,
    action: str,
    submit: str,
    cancel_url: str,
    breadcrumbs: list[tuple[str, str | None]],
    intro: str = "",
    danger: bool = False,
    columns: bool = False,
) -> HttpResponse:
    context = {
        "columns": columns,
        "form": form,
        "title": title,
        "action": action,
        "submit": submit,
        "cancel_url": cancel_url,
        "intro": intro,
        "danger": danger,
        "breadcrumbs": [*breadcrumbs, (title, None)],
    }
    invalid = form.is_bound and bool(form.errors)
    if _is_htmx(request):
        return render(request, "users/_modal_form.html", context)
    return render(request, "users/form_page.html", context, status=400 if invalid else 200)


def _submit(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], tuple[str, str]],
    **page: Any,
) -> HttpResponse:
    """The administration's form flow. On a valid POST `save` calls one service with the cleaned data
    and returns the toast message and the next URL; a refusal (DomainError) lands on the form. Otherwise
    (GET, invalid, refused) the form page or modal is rendered with `page` (see `_render_form`)."""
    if request.method == "POST" and form.is_valid():
        try:
            message, url = save(form.cleaned_data)
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            return _done(request, message, url)
    return _render_form(request, form=form, **page)


def _admin_crumbs(label: str, url_name: str) -> list[tuple[str, str | None]]:
    return [(label, reverse(url_name))]


def _user_crumbs(obj: User) -> list[tuple[str, str | None]]:
    return [*_admin_crumbs(_("Users"), "users:user_list"), (str(obj), obj.get_absolute_url())]


def _department_crumbs() -> list[tuple[str, str | None]]:
    return _admin_crumbs(_("Departments"), "users:department_list")


def _role_crumbs(obj: Role | None = None) -> list[tuple[str, str | None]]:
    crumbs = _admin_crumbs(_("Roles"), "users:role_list")
    return crumbs if obj is None else [*crumbs, (obj.name, obj.get_absolute_url())]


# --- profile and API tokens -----------------------------------------------------------------------


class ProfileView(LoginRequiredMixin, View):
    """/me/: display name, phone, language, time zone; personal API tokens."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        form = ProfileForm(
            initial={
                "display_name": user.display_name,  # type: ignore[union-attr]
                "phone": user.phone,  # type: ignore[union-attr]
                "language": user.language,  # type: ignore[union-attr]
                "time_zone": user.time_zone,  # type: ignore[union-attr]
                "version": user.version,  # type: ignore[union-attr]
            }
        )
        return self._render(request, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ProfileForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.user_update_profile(
                    user=request.user,  # type: ignore[arg-type]
                    display_name=data["display_name"],
                    phone=data["phone"],
                    language=data["language"],
                    time_zone=data["time_zone"],
                    version=data["version"],
                )
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                if data["language"]:
                    from django.utils import translation

                    translation.activate(data["language"])
                return _done(request, _("Your settings have been saved."), reverse("users:profile"))
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: ProfileForm, status: int = 200) -> HttpResponse:
        return render(
            request,
            "users/profile.html",
            {
                "form": form,
                "token_form": ApiTokenForm(),
                "tokens": selectors.api_token_list(user=request.user),
                "has_mfa": selectors.user_has_mfa(user=request.user),
                "breadcrumbs": [(_("Profile and settings"), None)],
            },
            status=status,
        )


def _tokens_panel(
    request: HttpRequest, *, form: ApiTokenForm, new_key: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "users/_tokens.html",
        {"token_form": form, "tokens": selectors.api_token_list(user=request.user), "new_key": new_key},
        status=status,
    )


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            _token, key = services.api_token_create(
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            _apply_error(form, exc)
        else:
            if _is_htmx(request):
                return _tokens_panel(request, form=ApiTokenForm(), new_key=key)
            # Without htmx the key is shown on this one response and never again.
            return _tokens_page(request, form=ApiTokenForm(), new_key=key)
    if _is_htmx(request):
        return _tokens_panel(request, form=form)
    return _tokens_page(request, form=form, status=400)


def _tokens_page(
    request: HttpRequest, *, form: ApiTokenForm, new_key: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "users/tokens_page.html",
        {
            "token_form": form,
            "tokens": selectors.api_token_list(user=request.user),
            "new_key": new_key,
            "breadcrumbs": [(_("Profile and settings"), reverse("users:profile")), (_("API tokens"), None)],
        },
        status=status,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = _get(selectors.api_token_get, user=request.user, pk=pk)
    services.api_token_revoke(token=token, by=request.user)  # type: ignore[arg-type]
    if _is_htmx(request):
        response = _tokens_panel(request, form=ApiTokenForm())
        response["HX-Trigger"] = json.dumps(
            {"kehu:toast": {"message": _("The token has been revoked."), "level": "success"}}
        )
        return response
    return _done(request, _("The token has been revoked."), reverse("users:profile"))


# --- users ----------------------------------------------------------------------------------------


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require(request, User, Action.VIEW)
    filters = UserFilterForm(request.GET or None, user=request.user)
    data = filters.cleaned_data if filters.is_valid() else {}
    status = data.get("status") or "active"
    qs = selectors.user_list(
        user=request.user,
        search=data.get("q") or "",
        department=data.get("department"),
        include_subdepartments=True,
        role=data.get("role"),
        is_active=None if status == "all" else status == "active",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "users/user_list.html",
        {
            "filters": filters,
            "page": page,
            "users": page.object_list,
            "query": urlencode(params),
            "can_add": can(request.user, User, Action.ADD),
            "can_change": can(request.user, User, Action.CHANGE),
            "breadcrumbs": [(_("Users"), None)],
        },
    )


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.user_get, user=request.user, pk=pk)
    can_change = selectors.user_in_scope(user=request.user, target=obj, action=Action.CHANGE)
    return render(
        request,
        "users/user_detail.html",
        {
            "obj": obj,
            "can_change": can_change,
            "has_mfa": selectors.user_has_mfa(user=obj),
            "locked_out": selectors.user_is_locked_out(user=obj),
            "requires_mfa": obj.roles.filter(require_mfa=True).exists(),
            "breadcrumbs": [*_admin_crumbs(_("Users"), "users:user_list"), (str(obj), None)],
        },
    )


def _user_form_values(data: dict[str, Any]) -> dict[str, Any]:
    keys: tuple[str, ...] = ("display_name", "first_name", "last_name", "email", "phone", "title")
    keys = (*keys, "department", "language", "time_zone")
    return {key: data.get(key) if key == "department" else (data.get(key) or "") for key in keys}


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require(request, User, Action.ADD)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        created = services.user_create(
            username=data["username"],
            password=data.get("password1") or None,
            roles=data.get("roles") or [],
            by=request.user,  # type: ignore[arg-type]
            **_user_form_values(data),
        )
        return _("User %(name)s has been created.") % {"name": created}, created.get_absolute_url()

    return _submit(
        request,
        UserCreateForm(_post(request), user=request.user),
        save,
        title=_("New user"),
        columns=True,
        action=reverse("users:user_create"),
        submit=_("Create user"),
        cancel_url=reverse("users:user_list"),
        breadcrumbs=_admin_crumbs(_("Users"), "users:user_list"),
    )


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.user_get, user=request.user, pk=pk, action=Action.CHANGE)
    initial = {
        "username": obj.username,
        "display_name": obj.display_name,
        "first_name": obj.first_name,
        "last_name": obj.last_name,
        "email": obj.email,
        "phone": obj.phone,
        "title": obj.title,
        "department": obj.department_id,
        "roles": list(obj.roles.all()),
        "language": obj.language,
        "time_zone": obj.time_zone,
        "version": obj.version,
    }
    form = UserEditForm(_post(request), initial=initial, user=request.user)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        visible_roles = set(form.fields["roles"].queryset)  # type: ignore[attr-defined]
        kept = [r for r in obj.roles.all() if r not in visible_roles]
        services.user_update(
            user=obj,
            by=request.user,  # type: ignore[arg-type]
            version=data["version"],
            username=data["username"],
            roles=[*kept, *(data.get("roles") or [])],
            **_user_form_values(data),
        )
        return _("User %(name)s has been saved.") % {"name": obj}, obj.get_absolute_url()

    return _submit(
        request,
        form,
        save,
        title=_("Edit user %(name)s") % {"name": obj.username},
        columns=True,
        action=reverse("users:user_edit", args=[obj.pk]),
        submit=_("Save"),
        cancel_url=obj.get_absolute_url(),
        breadcrumbs=_user_crumbs(obj),
    )


@login_required
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.user_get, user=request.user, pk=pk, action=Action.CHANGE)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        try:
            services.user_set_password(
                user=obj,
                password=data["password1"],
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            if "password" in exc.fields:
                exc.fields = {"password1": exc.fields["password"]}
            raise
        return _("The password of %(name)s has been changed.") % {"name": obj}, obj.get_absolute_url()

    return _submit(
        request,
        SetPasswordForm(_post(request)),
        save,
        title=_("Set a new password for %(name)s") % {"name": obj.username},
        intro=_("Tell the user the new password in person; they can change it after signing in."),
        action=reverse("users:user_password", args=[obj.pk]),
        submit=_("Set password"),
        cancel_url=obj.get_absolute_url(),
        breadcrumbs=_user_crumbs(obj),
    )


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    obj = _get(selectors.user_get, user=request.user, pk=pk, action=Action.CHANGE)
    try:
        if active:
            services.user_activate(user=obj, by=request.user)  # type: ignore[arg-type]
            message = _("%(name)s can sign in again.") % {"name": obj}
        else:
            services.user_deactivate(user=obj, by=request.user)  # type: ignore[arg-type]
            message = _("%(name)s has been deactivated and can no longer sign in.") % {"name": obj}
    except DomainError as exc:
        return _error_toast(request, exc, obj.get_absolute_url())
    return _done(request, message, obj.get_absolute_url())


@login_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.user_get, user=request.user, pk=pk, action=Action.CHANGE)
    try:
        services.user_unlock(user=obj, by=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        return _error_toast(request, exc, obj.get_absolute_url())
    return _done(request, _("%(name)s can sign in again.") % {"name": obj}, obj.get_absolute_url())


# --- departments ----------------------------------------------------------------------------------


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    _require(request, Department, Action.VIEW)
    return render(
        request,
        "users/department_list.html",
        {
            "departments": selectors.department_tree(user=request.user),
            "can_add": can(request.user, Department, Action.ADD),
            "can_change": can(request.user, Department, Action.CHANGE),
            "can_delete": can(request.user, Department, Action.DELETE),
            "can_view_users": can(request.user, User, Action.VIEW),
            "breadcrumbs": [(_("Departments"), None)],
        },
    )


@login_required
def department_create(request: HttpRequest) -> HttpResponse:
    _require(request, Department, Action.ADD)
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else None

    def save(data: dict[str, Any]) -> tuple[str, str]:
        created = services.department_create(
            name=data["name"],
            parent=data.get("parent"),
            manager=data.get("manager"),
            by=request.user,  # type: ignore[arg-type]
        )
        return _("Department %(name)s has been created.") % {"name": created}, created.get_absolute_url()

    return _submit(
        request,
        DepartmentForm(_post(request), initial=initial, user=request.user),
        save,
        title=_("New department"),
        action=reverse("users:department_create"),
        submit=_("Create department"),
        cancel_url=reverse("users:department_list"),
        breadcrumbs=_department_crumbs(),
    )


@login_required
def department_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.department_get, user=request.user, pk=pk, action=Action.CHANGE)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        services.department_update(
            department=obj,
            name=data["name"],
            manager=data.get("manager"),
            by=request.user,  # type: ignore[arg-type]
        )
        return _("The department has been saved."), obj.get_absolute_url()

    return _submit(
        request,
        DepartmentForm(
            _post(request),
            initial={"name": obj.name, "manager": obj.manager_id},
            user=request.user,
            with_parent=False,
        ),
        save,
        title=_("Rename department %(name)s") % {"name": obj.name},
        action=reverse("users:department_edit", args=[obj.pk]),
        submit=_("Save"),
        cancel_url=reverse("users:department_list"),
        breadcrumbs=_department_crumbs(),
    )


@login_required
def department_move(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.department_get, user=request.user, pk=pk, action=Action.CHANGE)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        services.department_move(
            department=obj,
            parent=data.get("parent"),
            by=request.user,  # type: ignore[arg-type]
        )
        return _("Department %(name)s has been moved.") % {"name": obj.name}, obj.get_absolute_url()

    return _submit(
        request,
        DepartmentMoveForm(
            _post(request), initial={"parent": obj.parent_id}, user=request.user, department=obj
        ),
        save,
        title=_("Move department %(name)s") % {"name": obj.name},
        intro=_("Its sub-departments move with it."),
        action=reverse("users:department_move", args=[obj.pk]),
        submit=_("Move"),
        cancel_url=reverse("users:department_list"),
        breadcrumbs=_department_crumbs(),
    )


@login_required
def department_delete(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.department_get, user=request.user, pk=pk, action=Action.DELETE)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        services.department_delete(department=obj, by=request.user)  # type: ignore[arg-type]
        return (
            _("Department %(name)s has been deleted.") % {"name": obj.name},
            reverse("users:department_list"),
        )

    return _submit(
        request,
        forms.Form(_post(request)),
        save,
        title=_("Delete department %(name)s") % {"name": obj.name},
        intro=_("Only a department without members and sub-departments can be deleted."),
        action=reverse("users:department_delete", args=[obj.pk]),
        submit=_("Delete"),
        danger=True,
        cancel_url=reverse("users:department_list"),
        breadcrumbs=_department_crumbs(),
    )


# --- roles ----------------------------------------------------------------------------------------


@login_required
def role_list(request: HttpRequest) -> HttpResponse:
    _require(request, Role, Action.VIEW)
    return render(
        request,
        "users/role_list.html",
        {
            "roles": selectors.role_list(user=request.user),
            "can_add": can(request.user, Role, Action.ADD),
            "breadcrumbs": [(_("Roles"), None)],
        },
    )


def _role_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "code": data["code"],
        "description": data.get("description") or "",
        "require_mfa": bool(data.get("require_mfa")),
        "is_admin": bool(data.get("is_admin")),
    }


@login_required
def role_create(request: HttpRequest) -> HttpResponse:
    _require(request, Role, Action.ADD)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        created = services.role_create(by=request.user, **_role_values(data))  # type: ignore[arg-type]
        return (
            _("Role %(name)s has been created. Now choose its permissions.") % {"name": created},
            created.get_absolute_url(),
        )

    return _submit(
        request,
        RoleForm(_post(request), user=request.user),
        save,
        title=_("New role"),
        action=reverse("users:role_create"),
        submit=_("Create role"),
        cancel_url=reverse("users:role_list"),
        breadcrumbs=_role_crumbs(),
    )


@login_required
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.role_get, user=request.user, pk=pk, action=Action.CHANGE)
    initial = {
        "name": obj.name,
        "code": obj.code,
        "description": obj.description,
        "require_mfa": obj.require_mfa,
        "is_admin": obj.is_admin,
    }

    def save(data: dict[str, Any]) -> tuple[str, str]:
        services.role_update(role=obj, by=request.user, **_role_values(data))  # type: ignore[arg-type]
        return _("Role %(name)s has been saved.") % {"name": obj.name}, obj.get_absolute_url()

    return _submit(
        request,
        RoleForm(_post(request), initial=initial, user=request.user),
        save,
        title=_("Edit role %(name)s") % {"name": obj.name},
        action=reverse("users:role_edit", args=[obj.pk]),
        submit=_("Save"),
        cancel_url=obj.get_absolute_url(),
        breadcrumbs=_role_crumbs(obj),
    )


@login_required
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    obj = _get(selectors.role_get, user=request.user, pk=pk, action=Action.DELETE)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        services.role_delete(role=obj, by=request.user)  # type: ignore[arg-type]
        return _("Role %(name)s has been deleted.") % {"name": obj.name}, reverse("users:role_list")

    return _submit(
        request,
        forms.Form(_post(request)),
        save,
        title=_("Delete role %(name)s") % {"name": obj.name},
        intro=_("Only a role that no user holds can be deleted."),
        action=reverse("users:role_delete", args=[obj.pk]),
        submit=_("Delete"),
        danger=True,
        cancel_url=obj.get_absolute_url(),
        breadcrumbs=_role_crumbs(obj),
    )


@login_required
def role_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The role editor: flags and the permission matrix (scope per model and action, mode per field)."""
    obj = _get(selectors.role_get, user=request.user, pk=pk)
    can_change = can(request.user, Role, Action.CHANGE) and (is_admin(request.user) or not obj.is_admin)
    form = RoleAccessForm(request.POST if request.method == "POST" else None, role=obj, user=request.user)
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.role_save_access(
                    role=obj,
                    grants=form.grants(),
                    field_permissions=form.field_permissions(),
                    require_mfa=bool(form.cleaned_data.get("require_mfa")),
                    is_admin=bool(form.cleaned_data.get("is_admin"))
                    if is_admin(request.user)
                    else obj.is_admin,
                    by=request.user,  # type: ignore[arg-type]
                )
            except DomainError as exc:
                _apply_error(form, exc)
            else:
                return _done(
                    request,
                    _("The permissions of %(name)s have been saved.") % {"name": obj.name},
                    obj.get_absolute_url(),
                )
        status = 400
    return render(
        request,
        "users/role_detail.html",
        {
            "obj": obj,
            "form": form,
            "can_change": can_change,
            "can_delete": can(request.user, Role, Action.DELETE),
            "user_count": obj.users.count(),
            "columns": [(a, _ACTION_LABELS.get(a, a)) for a in form.actions],
            "has_fields": any(row.fields for group in form.groups for row in group.rows),
            "scope_choices": SCOPE_CHOICES,
            "mode_choices": MODE_CHOICES,
            "breadcrumbs": [*_role_crumbs(), (obj.name, None)],
        },
        status=status,
    )
