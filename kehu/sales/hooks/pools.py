"""Hooks of the pools area: timeline events, notification kinds, menu items, "Return to pool" /
"Claim" buttons on lead and account pages, and the pool card on the account 360° view."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

RECORD_LABELS = ("sales.lead", "customers.account")


def _pool_item(obj: Any) -> Any:
    """The record's PoolItem (cached on the object for the request), or None."""
    cached = getattr(obj, "_kehu_pool_item", False)
    if cached is not False:
        return cached
    from ..selectors.pools import home_pool

    item = home_pool(obj)
    obj._kehu_pool_item = item
    return item


def _return_url(request: HttpRequest, obj: Any) -> str | None:
    from kehu.core.choices import Action

    user = request.user
    if obj.owner_id is None or getattr(obj, "is_converted", False):
        return None
    if (
        obj.owner_id != user.pk
        and not type(obj).objects.restrict(user, Action.ASSIGN).filter(pk=obj.pk).exists()
    ):
        return None
    return reverse("sales:pool_record_return", args=[obj._meta.label_lower, obj.pk])


def _claim_url(request: HttpRequest, obj: Any) -> str | None:
    from ..selectors.pools import member_pool_ids

    if obj.owner_id is not None:
        return None
    item = _pool_item(obj)
    if item is None or not item.in_pool or item.pool_id not in member_pool_ids(request.user):
        return None
    return reverse("sales:pool_record_claim", args=[obj._meta.label_lower, obj.pk])


def _panel_context(request: HttpRequest, obj: Any) -> dict[str, Any] | None:
    from ..selectors.pools import pool_history

    item = _pool_item(obj)
    if item is None:
        return None
    return {"pool_item": item, "pool_entries": list(pool_history(record=obj)[:5])}


def register() -> None:
    from kehu.audit import events
    from kehu.core import detail, navigation
    from kehu.core.choices import Action
    from kehu.notifications.kinds import Channel, register_kind

    from ..services import pools as services

    for code, label, icon in (
        (services.EVENT_ENTERED, _("Put in pool"), "inbox"),
        (services.EVENT_CLAIMED, _("Claimed from pool"), "hand-grab"),
        (services.EVENT_RETURNED, _("Returned to pool"), "arrow-back-up"),
        (services.EVENT_ASSIGNED, _("Assigned from pool"), "user-share"),
        (services.EVENT_RECYCLED, _("Recycled to pool"), "recycle"),
        (services.EVENT_TRANSFERRED, _("Transferred to another pool"), "transfer"),
    ):
        events.register_event(code, label, icon=icon)

    register_kind(
        services.KIND_WARNING,
        _("Pool recycling warnings"),
        default_channels=(Channel.IN_APP, Channel.EMAIL),
        description=_("A record you own goes back to its pool soon."),
        order=40,
    )
    register_kind(
        services.KIND_RECYCLED,
        _("Records recycled to a pool"),
        description=_("A record you owned went back to its pool."),
        order=41,
    )

    navigation.register_item("sales", navigation.MenuItem(_("Pools"), "sales:pool_list", icon="inbox"))
    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Pools"), "sales:pool_admin", icon="inbox", requires=("sales.pool", Action.VIEW)
        ),
    )

    for model_label in RECORD_LABELS:
        detail.register_action(
            model_label,
            detail.ObjectAction(
                "pool_return", _("Return to pool"), _return_url, icon="arrow-back-up", order=80
            ),
        )
        detail.register_action(
            model_label,
            detail.ObjectAction("pool_claim", _("Claim"), _claim_url, icon="hand-grab", order=5),
        )
    detail.register_panel(
        "customers.account",
        detail.Panel(
            "pool",
            _("Pool"),
            "sales/_pool_panel.html",
            context=_panel_context,
            order=60,
            icon="inbox",
        ),
    )
