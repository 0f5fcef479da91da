"""Registrations of satisfaction surveys: permissions, audit, menu item, the sending job's kind,
the answers' export, the answered event and the "Satisfaction" card on the account 360°."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _panel_context(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    from ..selectors.surveys import account_satisfaction

    data = account_satisfaction(user=request.user, account_id=obj.pk)
    if data is None:
        return None
    return {"satisfaction": data}


def _may_see(request: HttpRequest, obj: Any) -> bool:
    from kehu.core.permissions import can

    from ..models import SurveyResponse

    return can(request.user, SurveyResponse, "view")


def _answered_text(entry: Any) -> str | None:
    from django.utils.translation import gettext as gettext

    data = entry.data or {}
    if "score" not in data:
        return None
    kind = "CSAT" if data.get("kind") == "csat" else "NPS"
    text = gettext("%(kind)s answer: %(score)s") % {"kind": kind, "score": data.get("score")}
    if data.get("ticket"):
        text += f" · {data['ticket']}"
    if data.get("comment"):
        text += f" — {data['comment']}"
    return text


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry
    from kehu.core import generic, navigation, permissions
    from kehu.core.choices import Action
    from kehu.core.exports import register_exporter
    from kehu.core.jobkinds import register_job_kind

    from .. import tasks_surveys  # noqa: F401  (the worker registers the scheduled task)
    from ..exporting_surveys import RESPONSE_EXPORTER
    from ..models import Survey, SurveyResponse
    from ..services import surveys as services

    permissions.register(
        Survey, actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE), group=_("Service")
    )
    permissions.register(SurveyResponse, actions=(Action.VIEW, Action.EXPORT), group=_("Service"))
    audit_registry.register(Survey)
    register_job_kind(services.JOB_KIND, _("Survey sending"))
    register_exporter(RESPONSE_EXPORTER)
    events.register_event(services.EVENT_ANSWERED, _("Survey answered"), icon="mood-smile")
    events.register_renderer(services.EVENT_ANSWERED, _answered_text)
    navigation.register_item(
        "service",
        navigation.MenuItem(
            _("Satisfaction surveys"),
            "service:survey_list",
            icon="mood-smile",
            requires=("service.survey", "view"),
        ),
    )
    generic.register_panel(
        "customers.account",
        generic.Panel(
            "service.satisfaction",
            _("Satisfaction"),
            "service/surveys/_account_panel.html",
            context=_panel_context,
            visible=_may_see,
            order=40,
            icon="mood-smile",
        ),
    )
