"""Registrations of queues (服务组) and canned responses (快捷回复): permissions, audit, menu items."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import registry as audit_registry
    from kehu.core import navigation, permissions
    from kehu.core.choices import Action

    from ..models import CannedResponse, Queue, QueueMember

    actions = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
    # Managers and admins maintain queues; agents may be granted "view" (the queue pages).
    permissions.register(Queue, actions=actions, group=_("Service"))
    # "view": use canned responses (and keep personal ones with "add"); "change": manage the shared ones.
    permissions.register(CannedResponse, actions=actions, group=_("Service"))
    audit_registry.register(Queue, exclude=("last_assigned",))
    audit_registry.register(QueueMember, parent="queue")
    audit_registry.register(CannedResponse, exclude=("usage_count",))

    navigation.register_item(
        "service",
        navigation.MenuItem(
            _("Queues"), "service:queue_list", icon="users-group", requires=("service.queue", "view")
        ),
    )
    navigation.register_item(
        "service",
        navigation.MenuItem(
            _("Canned responses"),
            "service:cannedresponse_list",
            icon="message-bolt",
            requires=("service.cannedresponse", "view"),
        ),
    )
