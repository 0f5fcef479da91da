"""Forms of payments, payment plans and invoices (input shape only; the rules are in the services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.forms import ServiceFormMixin

from .choices import PaymentMethod
from .models import Instalment, Invoice

DATE = {"type": "date"}
MONEY = {"step": "0.01", "min": "0"}


class PaymentRecordForm(forms.Form):
    instalment = forms.ModelChoiceField(
        queryset=Instalment.objects.none(),
        required=False,
        label=_("Instalment"),
        help_text=_("Leave empty to keep the whole amount as a credit on the account."),
    )
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=18, decimal_places=4, widget=forms.NumberInput(MONEY)
    )
    received_on = forms.DateField(label=_("Date received"), widget=forms.DateInput(attrs=DATE))
    method = forms.ChoiceField(
        label=pgettext_lazy("payment", "Method"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.BANK_TRANSFER,
    )
    reference = forms.CharField(
        label=_("Reference"), max_length=100, required=False, help_text=_("Bank slip or transaction number.")
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    allow_credit = forms.BooleanField(
        label=_("Keep any amount above the instalment as a credit on the account"), required=False
    )

    def __init__(self, *args: Any, instalments: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if instalments is not None:
            field: Any = self.fields["instalment"]
            field.queryset = instalments
            field.label_from_instance = lambda i: (
                _("%(inst)s · due %(due)s · outstanding %(out)s %(cur)s")
                % {
                    "inst": i,
                    "due": i.due_on.isoformat(),
                    "out": f"{i.outstanding:,.2f}",
                    "cur": i.currency,
                }
            )
        self.fields["received_on"].initial = timezone.localdate()


class PaymentReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the reversal"), widget=forms.Textarea(attrs={"rows": 3}))


class PlanForm(forms.Form):
    """Instalments as parallel lists (due_on, amount, note), one row each (dynamic rows)."""

    def __init__(self, data: Any = None, *, extra_rows: int = 0) -> None:
        super().__init__(data)
        self.rows: list[tuple[Any, Any, str]] = []

    def clean(self) -> dict[str, Any]:
        data: Any = self.data
        dues, amounts, notes = data.getlist("due_on"), data.getlist("amount"), data.getlist("note")
        rows: list[tuple[Any, Any, str]] = []
        for i, (due, amount) in enumerate(zip(dues, amounts, strict=False)):
            note = notes[i] if i < len(notes) else ""
            if not due and not amount:
                continue
            try:
                due_on = dt.date.fromisoformat(due)
            except ValueError:
                raise forms.ValidationError(_("Row %(n)d: enter a valid due date.") % {"n": i + 1}) from None
            try:
                value = Decimal(amount.replace(",", "").strip())
            except ArithmeticError:
                raise forms.ValidationError(_("Row %(n)d: enter a valid amount.") % {"n": i + 1}) from None
            rows.append((due_on, value, note))
        self.rows = rows
        return {}


class InvoiceForm(ServiceFormMixin, forms.ModelForm):
    override = forms.BooleanField(label=_("Invoice above the contracted amount"), required=False)
    override_reason = forms.CharField(
        label=_("Reason for invoicing above the contract"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Invoice
        fields = [
            "account",
            "contract",
            "order",
            "kind",
            "number",
            "buyer_name",
            "buyer_tax_id",
            "currency",
            "amount",
            "tax",
            "issued_on",
            "note",
        ]
        widgets = {"issued_on": forms.DateInput(attrs=DATE), "note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kehu.core.choices import Action
        from kehu.customers.models import Account

        from .models import Contract, Order

        user = self.user
        if "account" in self.fields:
            self.fields["account"].queryset = Account.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
        if "contract" in self.fields:
            self.fields["contract"].queryset = Contract.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
        if "order" in self.fields:
            self.fields["order"].queryset = Order.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
        for name in ("buyer_name", "buyer_tax_id", "currency", "number"):
            if name in self.fields:
                self.fields[name].required = False
        if not self.is_new and "account" in self.fields:
            self.fields["account"].disabled = True


class InvoiceIssueForm(forms.Form):
    number = forms.CharField(label=_("Invoice number"), max_length=40)
    issued_on = forms.DateField(label=_("Issue date"), required=False, widget=forms.DateInput(attrs=DATE))


class InvoiceVoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason for voiding"), widget=forms.Textarea(attrs={"rows": 3}))
