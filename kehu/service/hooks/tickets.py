"""Registrations of tickets: permissions and their scope extension, audit, custom fields, tags,
timeline events, notification kinds."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry
    from kehu.core import permissions
    from kehu.core.choices import Action
    from kehu.customfields import registry as customfields_registry
    from kehu.notifications.kinds import Channel, register_kind
    from kehu.tags.registry import register_taggable

    from ..models import Ticket, TicketAttachment, TicketOrderLine, TicketWatcher
    from ..selectors.tickets import ticket_scope_q
    from ..services import tickets as services

    permissions.register(
        Ticket,
        actions=(Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.ASSIGN, Action.EXPORT),
        group=_("Service"),
    )
    permissions.register_scope_extension("service.ticket", ticket_scope_q)
    audit_registry.register(Ticket, exclude=("description_text", "sla_next_check", "public_key", "version"))
    audit_registry.register(TicketAttachment, parent="ticket", exclude=("file",))
    audit_registry.register(TicketOrderLine, parent="ticket")
    audit_registry.register(TicketWatcher, parent="ticket")
    customfields_registry.register(Ticket)
    register_taggable(Ticket)
    _merge_relations()

    for code, label, icon in (
        (services.EVENT_CREATED, _("Ticket created"), "ticket"),
        (services.EVENT_STATUS, _("Ticket status changed"), "arrows-right-left"),
        (services.EVENT_ASSIGNED, _("Ticket assigned"), "user-check"),
        (services.EVENT_REPLIED, _("Reply sent to the customer"), "message-forward"),
        (services.EVENT_CUSTOMER_MESSAGE, _("Message from the customer"), "message"),
        (services.EVENT_MERGED, _("Tickets merged"), "arrow-merge"),
        (services.EVENT_SPLIT, _("Ticket split"), "arrows-split"),
    ):
        events.register_event(code, label, icon=icon, group="ticket")
    events.register_type("ticket", _("Tickets"), icon="ticket", order=60, prefixes=("ticket.",))

    register_kind(
        services.KIND_ASSIGNED,
        _("Tickets assigned to you"),
        default_channels=(Channel.IN_APP, Channel.EMAIL),
        description=_("A ticket was assigned to you, by someone or by the queue."),
        order=60,
    )
    register_kind(
        services.KIND_ACTIVITY,
        _("Activity on your and watched tickets"),
        default_channels=(Channel.IN_APP,),
        description=_("The customer wrote, or the status changed, on a ticket you handle or watch."),
        order=61,
    )

    from . import ticket_lists

    ticket_lists.register()  # the ticket lists: menu, bulk actions, export, search, 360 panels


def _merge_relations() -> None:
    """Merging duplicate accounts or contacts moves their tickets, survey invitations and answers
    to the survivor; of two open churn flags the survivor keeps its own (one open flag per
    account), resolved ones all move."""
    from kehu.dedup.merging import register_merge_relation

    from ..models import AccountRisk, SurveyInvitation, SurveyResponse, Ticket

    for model in (Ticket, SurveyInvitation, SurveyResponse):
        register_merge_relation("customers.account", model, "account")
        register_merge_relation("customers.contact", model, "contact")
    register_merge_relation(
        "customers.account",
        AccountRisk,
        "account",
        same=lambda risk: "open" if risk.status == "open" else f"risk-{risk.pk}",
    )
