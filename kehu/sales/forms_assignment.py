"""Forms of assignment rules and user availability."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import ServiceFormMixin

from .choices import PoolKind
from .models import AssignmentRule, Pool
from .services.assignment import conditions_filterset

CONDITIONS_PREFIX = "c"

# Filters about ownership, dates and pools say nothing about a record that is being created: they
# are left out of the conditions form.
NOT_CONDITIONS = ("owner", "department", "has_owner", "pool", "in_pool", "no_activity_days", "tags_mode")
NOT_CONDITION_PARTS = ("created", "updated", "converted", "_after", "_before", "_from", "_until")


def is_condition(name: str) -> bool:
    return name not in NOT_CONDITIONS and not any(part in name for part in NOT_CONDITION_PARTS)


class AssignmentRuleForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = AssignmentRule
        fields = ["name", "action", "users", "user", "pool", "is_active"]
        widgets = {"users": forms.SelectMultiple(attrs={"data-tom-select": ""})}

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["users"].queryset = users  # type: ignore[attr-defined]
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
        self.fields["pool"].queryset = Pool.objects.filter(kind=kind, is_active=True)  # type: ignore[attr-defined]
        self.fields["users"].label = _("Users taking turns")
        self.fields["user"].label = _("The user")
        self.fields["user"].help_text = _("For the action “A specific user”.")
        self.fields["pool"].help_text = _("For the action “A pool”.")

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}
        data.pop("version", None)
        data["kind"] = self.kind
        return data


def conditions_form_filterset(kind: str, data: Any = None, initial: dict[str, Any] | None = None) -> Any:
    """The list's FilterSet of `kind`, prefixed, to edit a rule's conditions (None: not available)."""
    filterset_class = conditions_filterset(kind)
    if filterset_class is None:
        return None
    model = filterset_class._meta.model
    if data is None and initial:
        from .services.assignment import conditions_query

        query = conditions_query(initial)
        data = type(query)(mutable=True)
        for key in query:
            data.setlist(f"{CONDITIONS_PREFIX}-{key}", query.getlist(key))
    filterset = filterset_class(data=data, queryset=model._default_manager.none(), prefix=CONDITIONS_PREFIX)
    for name in list(filterset.form.fields):
        if not is_condition(name):
            del filterset.form.fields[name]
    return filterset


def conditions_from_post(kind: str, post: Any) -> dict[str, Any]:
    """The submitted condition values (non-empty ones) as ``{filter name: value or [values]}``."""
    filterset_class = conditions_filterset(kind)
    if filterset_class is None:
        return {}
    out: dict[str, Any] = {}
    for name in filterset_class.base_filters:
        if not is_condition(name):
            continue
        values = [v for v in post.getlist(f"{CONDITIONS_PREFIX}-{name}") if str(v).strip() != ""]
        if values:
            out[name] = values if len(values) > 1 else values[0]
    return out


class AvailabilityForm(forms.Form):
    is_available = forms.BooleanField(label=_("Available for new records"), required=False)
    away_from = forms.DateField(
        label=_("Away from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    away_until = forms.DateField(
        label=_("Away until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


KIND_CHOICES = PoolKind.choices
