"""List columns of opportunities."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.tables import (
    NAME_FIELDS,
    USER_FIELDS,
    ChoiceColumn,
    Column,
    CopiedColumn,
    DateTimeColumn,
    LinkColumn,
    RelatedLinkColumn,
    Table,
    UserColumn,
    html_format,
)
from kehu.customers.tables import PicklistColumn
from kehu.customfields.tables import custom_list_columns
from kehu.tags.tables import TagsColumn

from .choices import OPPORTUNITY_PICKLIST_FIELDS, StageKind
from .models import Opportunity

STATUS_BADGES = {StageKind.OPEN: "bg-blue-lt", StageKind.WON: "bg-green-lt", StageKind.LOST: "bg-red-lt"}


def money(amount: Any, currency: str) -> str:
    return f"{currency} {amount:,.2f}" if amount is not None else ""


class AmountColumn(Column):
    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("amount", "currency")

    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="text-nowrap">{}</span>', money(value, record.currency))


class ConfigColumn(CopiedColumn):
    """A pipeline or stage of the row, from the per-process copies (`pipeline_config`)."""

    copied_from = "kehu.sales.selectors.opportunities.pipeline_config"


class StageColumn(ConfigColumn):
    config = "stages"
    same_cell = False  # the badge's colour is the deal's status

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("stage", "status")

    def render_value(self, record: Any, value: Any) -> Any:
        return html_format(
            '<span class="badge {}">{}</span>',
            STATUS_BADGES.get(record.status, "bg-secondary-lt"),
            value.label,
        )


class DaysInStageColumn(Column):
    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("stage_entered_at", "status")

    def value(self, record: Any) -> Any:
        if record.stage_entered_at is None or record.status != StageKind.OPEN:
            return None
        return (timezone.now() - record.stage_entered_at).days


class PercentColumn(Column):
    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return (self.name,)

    def render_value(self, record: Any, value: Any) -> Any:
        return f"{value}%"


class PipelineColumn(ConfigColumn, RelatedLinkColumn):
    config = "pipelines"

    def fields_read(self, model: Any) -> tuple[str, ...] | None:
        return ("pipeline",)


class OpportunityTable(Table):
    model = Opportunity
    # (stages and pipelines come from the per-process copies: ConfigColumn)
    select_related = ("owner", "account")
    related_only = {"owner": USER_FIELDS, "account": NAME_FIELDS}
    load_only_shown = True
    default_ordering = ("-id",)
    columns = [
        LinkColumn("name", _("Name"), order_by="name", required=True),
        RelatedLinkColumn("account", pgettext_lazy("customers", "Account"), order_by=("account__name",)),
        AmountColumn("amount", _("Amount"), order_by="amount", css_class="text-end"),
        StageColumn("stage", _("Stage"), order_by=("pipeline__order", "stage__order")),
        PercentColumn("probability", _("Probability"), order_by="probability"),
        DateTimeColumn("expected_close_date", _("Expected close"), order_by="expected_close_date"),
        DaysInStageColumn("days_in_stage", _("Days in stage"), field="", order_by="-stage_entered_at"),
        UserColumn("owner", _("Owner"), order_by=("owner__username",)),
        TagsColumn(),
        ChoiceColumn(
            "forecast_category", _("Forecast category"), order_by="forecast_category", default=False
        ),
        PicklistColumn(
            "source", _("Source"), OPPORTUNITY_PICKLIST_FIELDS["source"], order_by="source", default=False
        ),
        Column("next_step", _("Next step"), default=False),
        Column("external_id", _("External ID"), order_by="external_id", default=False),
        PipelineColumn("pipeline", _("Pipeline"), order_by=("pipeline__order",), default=False),
        DateTimeColumn("closed_at", _("Closed"), order_by="closed_at", default=False),
        DateTimeColumn(
            "created_at", pgettext_lazy("customers", "Created"), order_by="created_at", default=False
        ),
    ]

    @classmethod
    def extra_columns(cls) -> list[Column]:
        return list(custom_list_columns(cls.model))
