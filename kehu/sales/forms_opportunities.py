"""Forms of opportunities and pipelines: input shape and field validation; the services save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.catalog.models import Product
from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.core.permissions import can
from kehu.customers.forms import ExternalIdFormMixin
from kehu.customers.models import Account, Contact
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.customfields.selectors import picklist_choices
from kehu.tags.forms import TagsFormMixin
from kehu.users.selectors import assignable_users

from .choices import (
    OPPORTUNITY_CONTACT_ROLE_PICKLIST,
    OPPORTUNITY_PICKLIST_FIELDS,
    ForecastCategory,
    OpportunityTeamRole,
)
from .models import Opportunity, Pipeline, Stage

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OpportunityForm(
    ExternalIdFormMixin, TagsFormMixin, CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm
):
    """Create (pipeline and first stage chosen here) or edit (the stage moves on the kanban or the
    stage bar, never here)."""

    currency = forms.ChoiceField(label=_("Currency"), choices=())
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty to use the stage's probability."),
    )
    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), label=_("Stage"), required=False)
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        required=False,
        choices=[("", _("As the stage says")), *ForecastCategory.choices],
    )

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "account",
            "pipeline",
            "stage",
            "amount",
            "currency",
            "expected_close_date",
            "source",
            "campaign",
            "competitors",
            "next_step",
            "owner",
            "description",
            "external_id",
        ]
        widgets = {
            "expected_close_date": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
            "next_step": forms.TextInput(),
            "competitors": forms.TextInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance if self.instance.pk else None
        current = instance.currency if instance else None
        self.fields["currency"].choices = [(c, c) for c in currency_codes(include=current)]  # type: ignore[attr-defined]
        if instance is None:
            self.initial.setdefault("currency", company_currency_code())
        self.fields["amount"].widget.attrs["min"] = 0
        if "amount" in self.fields:
            amount_field = self.fields["amount"]
            if instance is not None and instance.lines.exists():
                amount_field.disabled = True
                amount_field.help_text = _(
                    "Follows the products: the sum of their net amounts (after discount, before tax). "
                    "Remove every product to type the amount again."
                )
            else:
                amount_field.help_text = _(
                    "Once the deal has products, the amount is the sum of their net amounts and "
                    "cannot be typed."
                )
            if instance is not None and instance.lines.exists() and "currency" in self.fields:
                self.fields["currency"].disabled = True
                self.fields["currency"].help_text = _("Remove the products to change the currency.")
        if "source" in self.fields:
            current = instance.source if instance else None
            self.fields["source"] = forms.ChoiceField(
                label=_("Source"),
                required=False,
                choices=[
                    ("", "—"),
                    *picklist_choices(OPPORTUNITY_PICKLIST_FIELDS["source"], current=current),
                ],
            )
        if "owner" in self.fields:
            if self.user is not None and can(self.user, Opportunity, Action.ASSIGN):
                field = self.fields["owner"]
                field.queryset = assignable_users().order_by("username")  # type: ignore[attr-defined]
                field.required = False
                field.widget.attrs["data-tom-select"] = ""
                field.help_text = _("Leave empty to keep the current owner (or to own a new deal yourself).")
            else:
                del self.fields["owner"]
        account = self.fields["account"]
        visible = Account.objects.restrict(self.user, Action.VIEW)
        if instance is not None:
            visible = visible | Account.objects.filter(pk=instance.account_id)
        account.queryset = visible  # type: ignore[attr-defined]
        account.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
        account.widget.choices = account.choices  # type: ignore[attr-defined]
        account.error_messages["invalid_choice"] = _("Choose an account you can see.")
        if instance is not None:
            del self.fields["pipeline"]
            del self.fields["stage"]
            if instance.probability_overridden:
                self.initial["probability"] = instance.probability
            if instance.forecast_category_overridden:
                self.initial["forecast_category"] = instance.forecast_category
        else:
            self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True)  # type: ignore[attr-defined]
            self.fields["pipeline"].required = False
            self.fields["pipeline"].help_text = _("Leave empty for the default pipeline.")
            self.fields["stage"].queryset = Stage.objects.filter(pipeline__is_active=True).select_related(  # type: ignore[attr-defined]
                "pipeline"
            )
            self.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.label} · {s.label}"  # type: ignore[attr-defined]
            self.fields["stage"].help_text = _("Leave empty for the pipeline's first stage.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pipeline, stage = data.get("pipeline"), data.get("stage")
        if pipeline and stage and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("The stage is not a stage of this pipeline."))
        return data

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if data.get("owner") is None:
            data.pop("owner", None)
        if self.is_new:
            for name in ("probability", "forecast_category"):
                if data.get(name) in (None, ""):
                    data.pop(name, None)
        return data


class MoveForm(forms.Form):
    """A stage move (kanban drop, stage bar, API): the target and the values filled on the way."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.select_related("pipeline"), label=_("Stage"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    position = forms.FloatField(required=False, widget=forms.HiddenInput)
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=500)
    amount = forms.DecimalField(label=_("Amount"), required=False, max_digits=18, decimal_places=2)
    expected_close_date = forms.DateField(label=_("Expected close date"), required=False, widget=DATE)
    loss_reason = forms.ChoiceField(label=_("Loss reason"), required=False, choices=())
    loss_notes = forms.CharField(
        label=_("Loss notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loss_reason"].choices = [("", "—"), *picklist_choices("opportunity_loss_reason")]  # type: ignore[attr-defined]

    def values(self) -> dict[str, Any]:
        """Only the values the user actually sent (a drop sends none)."""
        out: dict[str, Any] = {}
        for name in ("next_step", "amount", "expected_close_date", "loss_reason", "loss_notes"):
            if self.data.get(name) not in (None, ""):
                out[name] = self.cleaned_data[name]
        if self.cleaned_data.get("position") is not None:
            out["position"] = self.cleaned_data["position"]
        return out


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.pipeline.label} · {obj.label}"


class BulkMoveForm(forms.Form):
    """Bulk "Move to stage": the target stage (of an active pipeline) and, for a lost stage, the
    loss reason every moved deal gets."""

    stage = StageChoiceField(
        queryset=Stage.objects.filter(pipeline__is_active=True)
        .select_related("pipeline")
        .order_by("pipeline__order", "pipeline_id", "order", "id"),
        label=_("Stage"),
    )
    loss_reason = forms.ChoiceField(
        label=_("Loss reason"),
        required=False,
        choices=(),
        help_text=_("Needed when the stage is a lost stage."),
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loss_reason"].choices = [("", "—"), *picklist_choices("opportunity_loss_reason")]  # type: ignore[attr-defined]


class ContactRoleForm(forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label=_("Contact"))
    role = forms.ChoiceField(label=_("Role"), required=False, choices=())
    is_primary = forms.BooleanField(label=pgettext_lazy("contact role", "Primary"), required=False)

    def __init__(self, *args: Any, user: Any, opportunity: Opportunity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.restrict(user, Action.VIEW).filter(  # type: ignore[attr-defined]
            account_id=opportunity.account_id
        )
        self.fields["role"].choices = [("", "—"), *picklist_choices(OPPORTUNITY_CONTACT_ROLE_PICKLIST)]  # type: ignore[attr-defined]


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=assignable_users(), label=_("User"))
    role = forms.ChoiceField(label=_("Role"), choices=OpportunityTeamRole.choices)


class PipelineForm(forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = ["name", "name_en", "description", "is_active", "is_default", "order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class StageForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("Fields required to enter"),
        required=False,
        choices=(),
        widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
    )

    class Meta:
        model = Stage
        fields = [
            "name",
            "name_en",
            "kind",
            "probability",
            "forecast_category",
            "required_fields",
            "allowed_next",
            "stuck_after_days",
        ]

    def __init__(self, *args: Any, pipeline: Pipeline, **kwargs: Any) -> None:
        from .services.opportunities import requirable_fields

        super().__init__(*args, **kwargs)
        self.fields["required_fields"].choices = requirable_fields()  # type: ignore[attr-defined]
        next_qs = pipeline.stages.all()
        if self.instance.pk:
            next_qs = next_qs.exclude(pk=self.instance.pk)
        self.fields["allowed_next"].queryset = next_qs  # type: ignore[attr-defined]
        self.fields["allowed_next"].widget.attrs["data-tom-select"] = ""
        self.fields["allowed_next"].help_text = _("Empty: any stage of the pipeline.")
        self.fields["probability"].widget.attrs.update({"min": 0, "max": 100})

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["allowed_next"] = list(data.get("allowed_next") or [])
        return data


class PricedLineForm(forms.Form):
    """What the line forms of priced documents share (an opportunity's products, a quote's lines;
    commerce builds on it too): the product picker — active products the user may view, plus the
    line's own product should it have been deactivated since, searched remotely —, the unit price
    looked up again (htmx, into ``#kehu-line-price``) as the product or the quantity changes, the
    discount amount, the document's version for the stale-edit check, and an edited line's values
    as the initial ones. Subclasses declare the fields shaped by their line model (product,
    quantity, discount percentage, description ...)."""

    unit_price = forms.DecimalField(
        label=_("Unit price"),
        required=False,
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
        help_text=_("Before tax. Empty: the price list's price for this customer and quantity."),
    )
    discount_amount = forms.DecimalField(
        label=_("Discount amount"),
        required=False,
        max_digits=18,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
        help_text=_("Either a percentage or an amount."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    document_kwarg = ""  # the keyword the document comes in ("opportunity", "quote")
    autocomplete_url_name = ""  # the product picker's search
    extra_initial: tuple[str, ...] = ()  # more line values to start an edit from

    def __init__(self, *args: Any, user: Any, line: Any = None, price_url: str = "", **kwargs: Any) -> None:
        document = kwargs.pop(self.document_kwarg)
        super().__init__(*args, **kwargs)
        self.document = document
        self.line = line
        self.setup_line_fields(
            user=user,
            line=line,
            autocomplete_url=str(reverse_lazy(self.autocomplete_url_name)),
            price_url=price_url,
            version=document.version,
            extra_initial=self.extra_initial,
        )

    def setup_line_fields(
        self,
        *,
        user: Any,
        line: Any,
        autocomplete_url: str,
        price_url: str,
        version: int,
        extra_initial: tuple[str, ...] = (),
    ) -> None:
        products = Product.objects.restrict(user, Action.VIEW)
        visible = products.filter(is_active=True)
        if line is not None and line.product_id:
            visible = visible | products.filter(pk=line.product_id)
        field = self.fields["product"]
        field.queryset = visible  # type: ignore[attr-defined]
        field.widget = RemoteSelect(url=autocomplete_url)
        field.widget.choices = field.choices  # type: ignore[attr-defined]
        field.error_messages["invalid_choice"] = _("Choose an active product you can see.")
        if price_url:
            htmx = {
                "hx-get": price_url,
                "hx-trigger": "change, keyup changed delay:400ms",
                "hx-target": "#kehu-line-price",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
            }
            field.widget.attrs.update({**htmx, "hx-trigger": "change"})
            self.fields["quantity"].widget.attrs.update(htmx)
        self.initial.setdefault("version", version)
        if line is not None:
            self.initial.update(
                {
                    "product": line.product_id,
                    "description": line.description,
                    "quantity": line.quantity.normalize(),
                    "unit_price": line.unit_price.normalize(),
                    "discount_percent": line.discount_percent,
                    "discount_amount": line.discount_amount,
                    **{name: getattr(line, name) for name in extra_initial},
                }
            )


class OpportunityLineForm(PricedLineForm):
    """A product line (add or edit): the product by remote search, the quantity, the unit price
    (pre-filled from the price list; empty: the price list's), at most one discount. Built with
    ``opportunity=``, ``user=``, ``line=`` (edit) and ``price_url=``."""

    document_kwarg = "opportunity"
    autocomplete_url_name = "sales:opportunity_line_products"

    product = forms.ModelChoiceField(queryset=Product.objects.none(), label=_("Product"))
    quantity = forms.DecimalField(
        label=_("Quantity"),
        initial=1,
        max_digits=14,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0}),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "max": 100}),
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=300, help_text=_("Empty: the product's name.")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("discount_percent") is not None and data.get("discount_amount") is not None:
            message = _("Give the discount either as a percentage or as an amount, not both.")
            self.add_error("discount_amount", message)
        return data

    def service_values(self) -> dict[str, Any]:
        """The values for `opportunity_line_add` / the changes for `opportunity_line_update`."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        if self.line is None:
            return data
        changed = {k: data[k] for k in self.changed_data if k in data}
        if "discount_percent" in changed or "discount_amount" in changed:
            changed["discount_percent"] = data.get("discount_percent")
            changed["discount_amount"] = data.get("discount_amount")
        return changed
