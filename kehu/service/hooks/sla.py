"""Registrations of the service app's sla area: permissions and audit of SLA policies, the
settings menu items (policies, compliance report), the notification kinds of warnings, breaches
and escalations, and the timeline event "ticket escalated" with its renderer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


def render_escalated(entry: Any) -> str | None:
    """The "ticket escalated" event in the reader's language, from its data (no queries)."""
    from ..choices import SLAMetric

    data = getattr(entry, "data", None) or {}
    level = data.get("level", "")
    if data.get("reason") == "sla" and data.get("metric"):
        metric = dict(SLAMetric.choices).get(data["metric"], data["metric"])
        return gettext("%(metric)s overdue: escalated to level %(level)s") % {
            "metric": metric,
            "level": level,
        }
    note = data.get("note") or ""
    text = gettext("Escalated to level %(level)s") % {"level": level}
    return f"{text}: {note}" if note else text


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry
    from kehu.core import navigation, permissions
    from kehu.core.choices import Action
    from kehu.notifications.kinds import Channel, register_kind

    from ..models import SLAPolicy
    from ..services import sla as services_sla

    permissions.register(
        SLAPolicy, actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE), group=_("Service")
    )
    audit_registry.register(SLAPolicy)

    register_kind(
        services_sla.WARNING_KIND,
        _("SLA warnings on my tickets"),
        default_channels=(Channel.IN_APP,),
        description=_("A ticket you handle is close to its response or resolution target."),
        order=60,
    )
    register_kind(
        services_sla.BREACH_KIND,
        _("SLA breaches and escalations"),
        default_channels=(Channel.IN_APP, Channel.EMAIL),
        description=_("A ticket of a queue you manage missed its target and was escalated."),
        order=61,
    )
    register_kind(
        services_sla.ESCALATED_KIND,
        _("Tickets escalated by hand"),
        default_channels=(Channel.IN_APP,),
        order=62,
    )
    events.register_event(services_sla.ESCALATED_EVENT, _("Ticket escalated"), icon="arrow-big-up-lines")
    events.register_renderer(services_sla.ESCALATED_EVENT, render_escalated)

    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("SLA policies"),
            "service:sla_policy_list",
            icon="clock-exclamation",
            requires=("service.slapolicy", "view"),
        ),
    )
    navigation.register_item(
        "service",
        navigation.MenuItem(
            _("SLA compliance"),
            "service:sla_report",
            icon="report-analytics",
            requires=("service.ticket", "view"),
        ),
    )
