"""Registrations of the service app's mail area: the received e-mail log (quarantine) in the
settings menu, its permissions (view; change = release; delete = discard), the timeline event of
a reply that could not be e-mailed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import events
    from kehu.core import navigation, permissions
    from kehu.core.choices import Action

    from ..mail.outbound import EVENT_EMAIL_FAILED, EVENT_EMAIL_SENT
    from ..models import InboundEmail

    # Administrators handle received mail; a role may be granted "view" (the log) and "change"
    # (release from quarantine) or "delete" (discard).
    permissions.register(
        InboundEmail, actions=(Action.VIEW, Action.CHANGE, Action.DELETE), group=_("Service")
    )
    events.register_event(
        EVENT_EMAIL_FAILED, _("Reply could not be e-mailed"), icon="mail-off", group="ticket"
    )
    events.register_event(
        EVENT_EMAIL_SENT, _("Reply e-mailed to the customer"), icon="mail-forward", group="ticket"
    )
    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Received e-mail"),
            "service:inbound_list",
            icon="mail-exclamation",
            requires=("service.inboundemail", "view"),
        ),
    )
