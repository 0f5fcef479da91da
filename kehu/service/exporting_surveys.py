"""The export of survey answers (CSV / XLSX through `kehu.core.exports`): the answers the user may
export, filtered like the survey page (``survey``, ``account``, dates, scores)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action
from kehu.core.exports import Column, Exporter

from .filtersets_surveys import SurveyResponseFilterSet
from .models import SurveyResponse


def response_queryset(user: Any, params: Any) -> QuerySet[SurveyResponse]:
    from .selectors.surveys import response_list

    base = response_list(user=user, action=Action.EXPORT)
    filterset = SurveyResponseFilterSet(params, queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    return qs.order_by("-created_at", "-id")


def _columns(user: Any) -> list[Column]:
    return [
        Column("survey", _("Survey"), lambda r: str(r.survey)),
        Column("kind", _("Kind"), lambda r: r.get_kind_display()),
        Column("score", _("Score")),
        Column("comment", _("Comment")),
        Column("created_at", _("Answered at")),
        Column(
            "account", pgettext_lazy("customers", "Account"), lambda r: r.account.name if r.account else ""
        ),
        Column("contact", _("Contact"), lambda r: r.contact.name if r.contact else ""),
        Column("ticket", _("Ticket"), lambda r: r.ticket.number if r.ticket else ""),
        Column("agent", _("Agent"), lambda r: str(r.agent) if r.agent else ""),
    ]


RESPONSE_EXPORTER = Exporter(
    name="service.surveyresponse",
    model=SurveyResponse,
    title=_("Survey answers"),
    columns=_columns,
    queryset=response_queryset,
)
