"""Forms of leads: the create/edit form, "mark unqualified" and the conversion form. Input shape
and field validation only; the services save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect
from kehu.core.permissions import can
from kehu.customers.forms import _OwnedForm
from kehu.customers.models import Account, Contact
from kehu.customers.validators import normalise_tax_number
from kehu.customers.widgets import FULL_WIDTH, RegionField
from kehu.customfields.selectors import picklist_choices
from kehu.tags.forms import TagsFormMixin

from .choices import LEAD_PICKLIST_FIELDS, LeadStatus
from .models import Lead, Opportunity, Pipeline

USER_STATUSES = [(v, label) for v, label in LeadStatus.choices if v != LeadStatus.CONVERTED]


def _picklist_field(code: str, label: Any, current: str | None, required: bool = False) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=required,
        choices=[("", "---------"), *picklist_choices(code, current=current or None)],
    )


class LeadForm(TagsFormMixin, _OwnedForm):
    phone_fields = ("mobile", "phone")
    website = forms.URLField(label=_("Website"), max_length=200, required=False, assume_scheme="https")
    region = RegionField(label=_("Region"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=USER_STATUSES, initial=LeadStatus.NEW)

    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "title",
            "mobile",
            "phone",
            "email",
            "wechat",
            "website",
            "tax_number",
            "source",
            "product_interest",
            "campaign",
            "status",
            "unqualified_reason",
            "address",
            "owner",
            "description",
            "external_id",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3, **FULL_WIDTH}),
            "email": forms.TextInput(attrs={"inputmode": "email"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, code in LEAD_PICKLIST_FIELDS.items():
            if name not in self.fields or name in self.locked_fields:
                continue
            old = self.fields[name]
            current = self.initial.get(name) or getattr(self.instance, name, "")
            field = _picklist_field(code, old.label, current)
            field.help_text = old.help_text
            self.fields[name] = field
        if "unqualified_reason" in self.fields:
            self.fields["unqualified_reason"].help_text = _("Needed when the status is “Unqualified”.")
        if "email" in self.fields:
            self.fields["email"].error_messages["invalid"] = _(
                "Enter a valid e-mail address, e.g. name@example.com."
            )
        if "tax_number" in self.fields and "tax_number" not in self.locked_fields:
            self.fields["tax_number"].help_text = _(
                "统一社会信用代码: 18 characters, e.g. 91350100M000100Y43."
            )
            self.fields["tax_number"].max_length = 40  # type: ignore[attr-defined]
            self.fields["tax_number"].widget.attrs["maxlength"] = 40
        if "campaign" in self.fields:
            self.fields["campaign"].help_text = _("Free text until the marketing module adds campaigns.")
        self.initial.setdefault(
            "region", {n: getattr(self.instance, n, "") for n in ("country", "province", "city", "district")}
        )
        self.order_fields(
            [
                "name",
                "company",
                "title",
                "mobile",
                "phone",
                "email",
                "wechat",
                "status",
                "unqualified_reason",
                "source",
                "product_interest",
                "campaign",
                "region",
                "address",
                "website",
                "tax_number",
                "owner",
                "tags",
            ]
        )

    def clean_mobile(self) -> str:
        return self._clean_phone("mobile")

    def clean_tax_number(self) -> str:
        if "tax_number" in self.locked_fields:
            return str(self.cleaned_data.get("tax_number", ""))
        return normalise_tax_number(self.cleaned_data.get("tax_number"))

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        region = data.pop("region", None)
        if region is not None:
            data.update(region)
        return data


class LeadUnqualifyForm(forms.Form):
    """Mark a lead unqualified: a reason from the picklist."""

    reason = forms.ChoiceField(label=_("Reason"), choices=())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["reason"]
        field.choices = [("", "---------"), *picklist_choices(LEAD_PICKLIST_FIELDS["unqualified_reason"])]


class LeadConvertForm(forms.Form):
    """Convert a lead: into a matching account or a new one, a new contact, and optionally an
    opportunity in a pipeline."""

    account_choice = forms.ChoiceField(
        label=pgettext_lazy("customers", "Account"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        choices=(),
    )
    other_account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        required=False,
        label=_("Another existing account"),
        help_text=_("Search the accounts you can see."),
    )
    create_contact = forms.BooleanField(
        label=_("Create a contact from the lead"), required=False, initial=True
    )
    create_opportunity = forms.BooleanField(label=_("Create an opportunity"), required=False, initial=True)
    pipeline = forms.ModelChoiceField(queryset=Pipeline.objects.none(), required=False, label=_("Pipeline"))
    opportunity_name = forms.CharField(label=_("Opportunity name"), max_length=200, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=18, decimal_places=2, min_value=Decimal("0"), required=False
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=(), required=False)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, user: Any = None, lead: Lead, candidates: list[Account] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.lead = lead
        self.candidates = list(candidates or [])
        choices: list[tuple[str, Any]] = [
            ("new", _("Create a new account “%(name)s”") % {"name": lead.company or lead.name})
        ]
        choices += [(str(a.pk), str(a)) for a in self.candidates]
        choices.append(("other", _("Another existing account")))
        field: Any = self.fields["account_choice"]
        field.choices = choices
        self.initial.setdefault("account_choice", str(self.candidates[0].pk) if self.candidates else "new")
        other: Any = self.fields["other_account"]
        other.queryset = Account.objects.restrict(user, Action.VIEW)
        other.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
        other.widget.choices = other.choices
        other.error_messages["invalid_choice"] = _("Choose an account you can see.")
        self.initial.setdefault("create_contact", bool(lead.company))
        pipelines: Any = self.fields["pipeline"]
        pipelines.queryset = Pipeline.objects.filter(is_active=True).order_by("order", "id")
        default = pipelines.queryset.filter(is_default=True).first()
        if default is not None:
            self.initial.setdefault("pipeline", default.pk)
        currencies = currency_codes()
        currency: Any = self.fields["currency"]
        currency.choices = [(c, c) for c in currencies]
        self.initial.setdefault("currency", company_currency_code())
        self.initial.setdefault("opportunity_name", lead.company or lead.name)
        self.initial.setdefault("version", lead.version)
        if user is None or not can(user, Opportunity, Action.ADD):
            for name in (
                "create_opportunity",
                "pipeline",
                "opportunity_name",
                "amount",
                "currency",
                "expected_close_date",
            ):
                del self.fields[name]
        if user is None or not can(user, Contact, Action.ADD):
            del self.fields["create_contact"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("account_choice")
        account = None
        if choice == "other":
            account = data.get("other_account")
            if account is None:
                self.add_error("other_account", _("Choose an account."))
        elif choice and choice != "new":
            account = next((a for a in self.candidates if str(a.pk) == choice), None)
            if account is None:
                self.add_error("account_choice", _("Choose an account from the list."))
        data["account"] = account
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "account": data.get("account"),
            "create_contact": bool(data.get("create_contact")) if "create_contact" in self.fields else False,
            "version": data.get("version"),
        }
        if data.get("create_opportunity"):
            kwargs.update(
                create_opportunity=True,
                pipeline=data.get("pipeline"),
                opportunity_name=data.get("opportunity_name") or "",
                amount=data.get("amount"),
                currency=data.get("currency") or None,
                expected_close_date=data.get("expected_close_date"),
            )
        return kwargs
