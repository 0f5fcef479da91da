"""Forms of the catalog's settings: currencies, exchange rates and categories. Shape and field
validation only; the views call the services with ``service_data()``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import ServiceFormMixin

from .models import Currency, ExchangeRate, ProductCategory
from .tables_settings import tree_order


class CurrencyForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = Currency
        fields = ["code", "name", "name_en", "symbol", "minor_unit", "is_active"]
        widgets = {"code": forms.TextInput(attrs={"maxlength": 3, "class": "font-monospace"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "code" in self.fields:
            self.fields["code"].help_text = _("Three capital letters of ISO 4217, e.g. USD.")
        if "minor_unit" in self.fields:
            self.fields["minor_unit"].widget.attrs.update({"min": 0, "max": 4})
            self.fields["minor_unit"].help_text = _("Digits after the decimal point: CNY 2, JPY 0.")
        if not self.is_new:
            # The code is what documents refer to: fixed once created.
            self.fields["code"].disabled = True
            self.locked_fields.add("code")
            if self.instance.is_company:
                # The company currency cannot be deactivated.
                self.fields.pop("is_active", None)


class ExchangeRateForm(ServiceFormMixin, forms.Form):
    """An exchange rate of a day: set (created, or replacing that day's rate)."""

    currency = forms.ModelChoiceField(
        queryset=Currency.objects.none(),
        label=capfirst(ExchangeRate._meta.get_field("currency").verbose_name),
    )
    valid_on = forms.DateField(
        label=capfirst(ExchangeRate._meta.get_field("valid_on").verbose_name),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    rate = forms.DecimalField(
        label=capfirst(ExchangeRate._meta.get_field("rate").verbose_name),
        max_digits=18,
        decimal_places=8,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )
    source = forms.CharField(
        label=capfirst(ExchangeRate._meta.get_field("source").verbose_name), max_length=64, required=False
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].queryset = Currency.objects.filter(  # type: ignore[attr-defined]
            is_active=True, is_company=False
        ).order_by("code")
        self.fields["valid_on"].initial = timezone.localdate()
        company = Currency.objects.filter(is_company=True).values_list("code", flat=True).first()
        if company:
            self.fields["rate"].help_text = _("Units of %(code)s for one unit of the currency.") % {
                "code": company
            }
        self.fields["source"].help_text = _("Where the rate comes from, e.g. the central bank.")


class ProductCategoryForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = ProductCategory
        fields = ["name", "name_en", "parent", "order"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("parent")
        if field is not None:
            # The whole tree, indented: a parent that would make a loop is refused by the service.
            nodes = tree_order(list(ProductCategory.objects.all()))
            choices: list[tuple[Any, str]] = [("", "---------")]
            choices += [(c.pk, "\u3000" * c.depth + c.name) for c in nodes]  # type: ignore[attr-defined]
            field.choices = choices  # type: ignore[attr-defined]
            field.help_text = _("Leave empty for a top-level category.")
