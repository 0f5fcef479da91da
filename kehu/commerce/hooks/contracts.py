"""Hooks of the contracts area: timeline events, the renewal-reminder notification kind, the
contracts' timeline, and the daily tasks (expiry, renewal reminders)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register this area's hooks (called from CommerceConfig.ready)."""
    from kehu.audit import events
    from kehu.audit import timeline as audit_timeline
    from kehu.notifications import kinds

    from .. import tasks_contracts  # noqa: F401  (the worker registers the daily tasks)
    from ..services import contracts as services

    events.register_event(services.CREATED_EVENT, _("Contract created"), icon="file-certificate")
    events.register_event(services.STATUS_EVENT, _("Contract status changed"), icon="flag")
    events.register_event(services.RENEWAL_EVENT, _("Contract renewal reminder"), icon="bell")
    events.register_event(services.ATTACHMENT_ADDED_EVENT, _("Contract attachment added"), icon="paperclip")
    events.register_event(
        services.ATTACHMENT_REMOVED_EVENT, _("Contract attachment removed"), icon="paperclip"
    )
    kinds.register_kind(
        services.RENEWAL_KIND,
        _("Contract renewals"),
        default_channels={"in_app", "email"},
        description=_("A contract of yours ends soon (its renewal reminder days before the end date)."),
        order=45,
    )
    audit_timeline.register_timeline_model("commerce.contract")
