"""Input shapes of the users screens. Rules that span rows live in services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import FieldMode, Scope
from kehu.core.permissions import is_admin

from . import selectors
from .models import TIME_ZONE_CHOICES, Department, Role, User

LANGUAGE_CHOICES = [("", _("Browser default")), *User.Language.choices]


def tz_choices() -> list[tuple[str, Any]]:
    return [("", _("Company default (%(tz)s)") % {"tz": settings.TIME_ZONE}), *TIME_ZONE_CHOICES]


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{'— ' * obj.depth}{obj.name}"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.username})" if str(obj) != obj.username else obj.username


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=tz_choices, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “Reporting script”.")
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. The token stops working at the end of this day."),
    )

    def clean_expires_on(self) -> dt.date | None:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return day

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        start_of_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        return timezone.make_aware(start_of_next, timezone.get_current_timezone())


class UserFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    department = DepartmentChoiceField(
        queryset=Department.objects.none(), required=False, label=pgettext_lazy("noun", "Department")
    )
    role = forms.ModelChoiceField(queryset=Role.objects.none(), required=False, label=_("Role"))
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("active", _("Active")), ("inactive", _("Inactive")), ("all", _("All"))],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.department_list(user=user)  # type: ignore[attr-defined]
        self.fields["role"].queryset = selectors.role_list(user=user)  # type: ignore[attr-defined]
        self.fields["department"].empty_label = _("All departments")  # type: ignore[attr-defined]
        self.fields["role"].empty_label = _("All roles")  # type: ignore[attr-defined]


class _UserFieldsForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    display_name = forms.CharField(label=_("Display name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    department = DepartmentChoiceField(
        queryset=Department.objects.none(), required=False, label=pgettext_lazy("noun", "Department")
    )
    roles = forms.ModelMultipleChoiceField(
        queryset=Role.objects.none(),
        required=False,
        label=_("Roles"),
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=tz_choices, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.department_choices(user=user)  # type: ignore[attr-defined]
        self.fields["department"].empty_label = _("No department")  # type: ignore[attr-defined]
        roles = selectors.role_list(user=user)
        if not is_admin(user):
            roles = roles.filter(is_admin=False)
        self.fields["roles"].queryset = roles  # type: ignore[attr-defined]


class PasswordPairMixin(forms.Form):
    def _check_pair(self, required: bool) -> None:
        p1 = self.cleaned_data.get("password1") or ""
        p2 = self.cleaned_data.get("password2") or ""
        if required and not p1:
            self.add_error("password1", _("This field is required."))
        if p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))


class UserCreateForm(_UserFieldsForm, PasswordPairMixin):
    password1 = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to let the user set a password through “Forgot password?”."),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_pair(required=False)
        return cleaned


class UserEditForm(_UserFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class SetPasswordForm(PasswordPairMixin):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("New password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._check_pair(required=True)
        return cleaned


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    parent = DepartmentChoiceField(
        queryset=Department.objects.none(), required=False, label=_("Parent department")
    )
    manager = UserChoiceField(queryset=User.objects.none(), required=False, label=_("Manager"))

    def __init__(self, *args: Any, user: Any, with_parent: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_parent:
            self.fields["parent"].queryset = selectors.department_list(user=user)  # type: ignore[attr-defined]
            self.fields["parent"].empty_label = _("None (top level)")  # type: ignore[attr-defined]
        else:
            del self.fields["parent"]
        self.fields["manager"].queryset = selectors.user_list(user=user, is_active=True)  # type: ignore[attr-defined]
        self.fields["manager"].empty_label = _("No manager")  # type: ignore[attr-defined]


class DepartmentMoveForm(forms.Form):
    parent = DepartmentChoiceField(
        queryset=Department.objects.none(), required=False, label=_("New parent department")
    )

    def __init__(self, *args: Any, user: Any, department: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = selectors.department_list(user=user).exclude(path__startswith=department.path)
        self.fields["parent"].queryset = choices  # type: ignore[attr-defined]
        self.fields["parent"].empty_label = _("None (top level)")  # type: ignore[attr-defined]


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(label=_("Code"), max_length=50, help_text=_("A short identifier, e.g. sales-rep."))
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    require_mfa = forms.BooleanField(
        label=_("Require two-factor authentication"),
        required=False,
        help_text=_("Users with this role must set up an authenticator app before they can work."),
    )
    is_admin = forms.BooleanField(
        label=_("System administrator"),
        required=False,
        help_text=_("Holds every permission with scope All, including user and role management."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not is_admin(user):
            self.fields["is_admin"].disabled = True


SCOPE_CHOICES = [("", _("None")), *Scope.choices]
MODE_CHOICES = [("", _("Full access")), *FieldMode.choices]


class RoleAccessForm(forms.Form):
    """The permission matrix: one scope select per (model, action) and one mode select per
    restrictable field, named `perm:<model>:<action>` and `field:<model>:<field>`."""

    require_mfa = forms.BooleanField(label=_("Require two-factor authentication"), required=False)
    is_admin = forms.BooleanField(label=_("System administrator"), required=False)

    def __init__(self, *args: Any, role: Role, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions, self.groups = selectors.role_matrix(role=role)
        self.initial.setdefault("require_mfa", role.require_mfa)
        self.initial.setdefault("is_admin", role.is_admin)
        if not is_admin(user):
            self.fields["is_admin"].disabled = True
        for group in self.groups:
            for row in group.rows:
                for cell in row.cells:
                    if cell.supported:
                        cell.input_name = f"perm:{row.label}:{cell.action}"
                        self.fields[cell.input_name] = forms.ChoiceField(
                            choices=SCOPE_CHOICES, required=False
                        )
                        self.initial.setdefault(cell.input_name, cell.scope)
                        cell.value = str(self[cell.input_name].value() or "")
                for restricted in row.fields:
                    restricted.input_name = f"field:{row.label}:{restricted.field}"
                    self.fields[restricted.input_name] = forms.ChoiceField(
                        choices=MODE_CHOICES, required=False
                    )
                    self.initial.setdefault(restricted.input_name, restricted.mode)
                    restricted.value = str(self[restricted.input_name].value() or "")

    def grants(self) -> list[tuple[str, str, str]]:
        out = []
        for name, value in self.cleaned_data.items():
            if name.startswith("perm:") and value:
                _prefix, model, action = name.split(":", 2)
                out.append((model, action, value))
        return out

    def field_permissions(self) -> list[tuple[str, str, str]]:
        out = []
        for name, value in self.cleaned_data.items():
            if name.startswith("field:") and value:
                _prefix, model, field = name.split(":", 2)
                out.append((model, field, value))
        return out
