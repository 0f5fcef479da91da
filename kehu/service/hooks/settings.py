"""Registrations of the service settings (ticket statuses, types, categories, mailboxes):
permissions, audit (never the mailbox password), the settings menu items."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import registry as audit_registry
    from kehu.core import navigation, permissions
    from kehu.core.choices import Action

    from ..models import Mailbox, TicketCategory, TicketStatus, TicketType

    actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    for model in (TicketStatus, TicketType, TicketCategory, Mailbox):
        permissions.register(model, actions=actions, group=_("Service"))
    for model in (TicketStatus, TicketType, TicketCategory):
        audit_registry.register(model)
    audit_registry.register(Mailbox, exclude=("imap_password", "last_polled_at", "last_error"))

    for label, url_name, icon, model_label in (
        (_("Ticket statuses"), "service:ticketstatus_list", "list-check", "service.ticketstatus"),
        (_("Ticket types"), "service:tickettype_list", "category", "service.tickettype"),
        (_("Ticket categories"), "service:ticketcategory_list", "sitemap", "service.ticketcategory"),
        (_("Support mailboxes"), "service:mailbox_list", "mail-cog", "service.mailbox"),
    ):
        navigation.register_item(
            "settings", navigation.MenuItem(label, url_name, icon=icon, requires=(model_label, "change"))
        )
