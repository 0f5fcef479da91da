"""Forms of pools (公海): administration, return, assign, transfer, and the pool page's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kehu.users.models import Department

from .models import Pool
from .services.pools import POOL_FIELDS, POOL_M2M


class PoolForm(forms.ModelForm):
    """A pool with its members, administrators and rules (blank rule: no limit)."""

    class Meta:
        model = Pool
        fields = [*POOL_FIELDS, *POOL_M2M]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "member_users": forms.SelectMultiple(attrs={"data-tom-select": ""}),
            "member_departments": forms.SelectMultiple(attrs={"data-tom-select": ""}),
            "admins": forms.SelectMultiple(attrs={"data-tom-select": ""}),
        }

    RULES = (
        "max_claims_per_day",
        "max_owned",
        "protection_days",
        "recycle_no_follow_up_days",
        "recycle_not_converted_days",
        "recycle_warning_days",
        "cooling_off_days",
        "return_reason_required",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        for name in ("member_users", "admins"):
            self.fields[name].queryset = users  # type: ignore[attr-defined]
        self.fields["member_departments"].queryset = Department.objects.order_by("path")  # type: ignore[attr-defined]
        self.fields["recycle_not_converted_days"].help_text = _(
            "Leads: not converted; accounts: no deal won since the claim."
        )
        self.fields["recycle_warning_days"].help_text = _(
            "The owner is told this many days before recycling."
        )
        self.fields["recycle_no_follow_up_days"].help_text = _(
            "Counted from the last follow-up logged, or from the claim."
        )

    def main_fields(self) -> list[Any]:
        return [self[n] for n in ("name", "kind", "description", "is_active", "order")]

    def member_fields(self) -> list[Any]:
        return [self[n] for n in POOL_M2M]

    def rule_fields(self) -> list[Any]:
        return [self[n] for n in self.RULES]

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}


class PoolReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none(), required=False)

    def __init__(self, *args: Any, kind: str, reason_required: bool, needs_pool: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if needs_pool:
            self.fields["pool"].queryset = Pool.objects.filter(kind=kind, is_active=True)  # type: ignore[attr-defined]
            self.fields["pool"].required = True
        else:
            del self.fields["pool"]


class PoolAssignForm(forms.Form):
    to = forms.ModelChoiceField(label=_("Assign to"), queryset=get_user_model().objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
        self.fields["to"].widget.attrs["data-tom-select"] = ""


class PoolTransferForm(forms.Form):
    to_pool = forms.ModelChoiceField(label=_("To pool"), queryset=Pool.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args: Any, pool: Pool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pools = Pool.objects.filter(kind=pool.kind, is_active=True).exclude(pk=pool.pk)
        self.fields["to_pool"].queryset = pools  # type: ignore[attr-defined]


class PoolFilterForm(forms.Form):
    """Filters of a pool page: a search over name, company and phone, and the source."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=(), widget=forms.Select(attrs={"class": "form-select"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from kehu.customfields.selectors import picklist_items

        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            ("", _("All sources")),
            *[(i.value, i.display_label) for i in picklist_items("source")],
        ]

    def apply(self, qs: Any) -> Any:
        from django.db.models import Q

        if not self.is_valid():
            return qs
        q = self.cleaned_data.get("q", "").strip()
        if q:
            model = qs.model
            cond = Q(name__icontains=q) | Q(phone__icontains=q)
            if any(f.name == "company" for f in model._meta.get_fields()):
                cond |= Q(company__icontains=q)
            qs = qs.filter(cond)
        source = self.cleaned_data.get("source", "").strip()
        if source:
            qs = qs.filter(source=source)
        return qs
