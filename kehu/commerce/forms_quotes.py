"""Forms of quotes, quote lines, approval rules and approval decisions: input shape and field
validation only; the services save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from kehu.catalog.models import PriceList, Product
from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.core.permissions import can
from kehu.customers.models import Account, Contact
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.sales.forms_opportunities import PricedLineForm
from kehu.users.models import Role
from kehu.users.selectors import assignable_users

from .models import ApprovalRule, Quote

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QuoteForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
    """Create (account, or from an opportunity: ``?opportunity=``) or edit a draft's header."""

    currency = forms.ChoiceField(label=_("Currency"), choices=())

    class Meta:
        model = Quote
        fields = [
            "name",
            "account",
            "contact",
            "currency",
            "price_list",
            "quote_date",
            "valid_until",
            "language",
            "terms",
            "notes",
            "owner",
        ]
        widgets = {
            "quote_date": DATE,
            "valid_until": DATE,
            "terms": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance if self.instance.pk else None
        self.fields["currency"].choices = [  # type: ignore[attr-defined]
            (c, c) for c in currency_codes(include=instance.currency if instance else None)
        ]
        if instance is None:
            self.initial.setdefault("currency", company_currency_code())
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Empty: “Quote for” and the account's name.")
            self.fields["quote_date"].required = False
            self.fields["quote_date"].help_text = _("Empty: today.")
            self.fields["valid_until"].help_text = _("Empty: 30 days after the quote date.")
        elif instance.lines.exists():
            self.fields["currency"].disabled = True
            self.fields["currency"].help_text = _("Remove the lines to change the currency.")
        self.fields["price_list"].queryset = (  # type: ignore[attr-defined]
            PriceList.objects.restrict(self.user, Action.VIEW)
            .filter(is_active=True)
            .select_related("currency")
        )
        self.fields["price_list"].help_text = _(
            "Lines are priced from it first; it must be in the quote's currency."
        )
        contacts = Contact.objects.restrict(self.user, Action.VIEW)
        self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]
        self.fields["contact"].widget = RemoteSelect(
            url=str(reverse_lazy("commerce:quote_contact_autocomplete"))
        )
        self.fields["contact"].widget.choices = self.fields["contact"].choices  # type: ignore[attr-defined]
        if instance is not None:
            del self.fields["account"]
        else:
            account = self.fields["account"]
            account.queryset = Account.objects.restrict(self.user, Action.VIEW)  # type: ignore[attr-defined]
            account.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
            account.widget.choices = account.choices  # type: ignore[attr-defined]
            account.error_messages["invalid_choice"] = _("Choose an account you can see.")
        if "owner" in self.fields:
            if self.user is not None and can(self.user, Quote, Action.ASSIGN):
                field = self.fields["owner"]
                field.queryset = assignable_users().order_by("username")  # type: ignore[attr-defined]
                field.required = False
                field.widget.attrs["data-tom-select"] = ""
                field.help_text = _("Leave empty to keep the current owner (or to own a new quote yourself).")
            else:
                del self.fields["owner"]

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if data.get("owner") is None:
            data.pop("owner", None)
        if self.is_new:
            for name in ("quote_date", "valid_until", "name"):
                if data.get(name) in (None, ""):
                    data.pop(name, None)
        return data


class QuoteLineForm(PricedLineForm):
    """A line (add or edit): product by remote search (or a free text line with a typed price),
    quantity, unit price (pre-filled from the price list, with where it comes from), at most one
    discount, tax rate (empty: the product's)."""

    product = forms.ModelChoiceField(queryset=Product.objects.none(), label=_("Product"), required=False)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=500, help_text=_("Empty: the product's name.")
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        initial=1,
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        required=False,
        max_digits=7,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    tax_rate = forms.DecimalField(
        label=_("Tax rate (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 100}),
        help_text=_("Empty: the product's."),
    )

    document_kwarg = "quote"
    autocomplete_url_name = "commerce:quote_product_autocomplete"
    extra_initial = ("tax_rate",)

    def service_values(self) -> dict[str, Any]:
        """The values for `quote_line_add`, or the changes for `quote_line_update`."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if self.line is None:
            return {k: v for k, v in data.items() if v not in (None, "")}
        changed = {k: data[k] for k in self.changed_data if k in data}
        if "discount_percent" in changed and changed["discount_percent"] is not None:
            changed["discount_amount"] = None
        if "discount_amount" in changed and changed["discount_amount"] is not None:
            changed["discount_percent"] = None
        if changed.get("tax_rate") is None:
            changed.pop("tax_rate", None)
        return changed


class ApprovalRuleForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = ApprovalRule
        fields = ["name", "kind", "threshold", "approver_kind", "role", "position", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["threshold"].help_text = _(
            "Discount above: a percentage of a line's amount (the largest line discount counts). "
            "Total above: an amount in the company currency, tax included. Below cost: no threshold."
        )
        self.fields["role"].help_text = _("When anyone with a role approves.")

    def _post_clean(self) -> None:
        """No model validation here: the service checks the rule and names the field at fault (the
        model's check constraints would only say "violated")."""


class DecisionForm(forms.Form):
    """Approve or reject with a comment (needed to reject)."""

    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why did the customer decline?"), widget=forms.Textarea(attrs={"rows": 3})
    )


class AcceptForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
