from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def put_accounts_in_pool(*, pool_id: int, ids: list[int], by: Any) -> int:
    """The accounts with these ids into the account pool `pool_id` (`pool_put`: no owner, in the
    pool, history); a pool that is gone or holds leads puts nothing in."""
    from kehu.customers.models import Account

    from ..choices import PoolKind
    from ..models import Pool
    from ..services.pools import pool_put

    pool = Pool.objects.filter(pk=pool_id, kind=PoolKind.ACCOUNT, is_active=True).first()
    if pool is None:
        return 0
    return pool_put(pool=pool, records=Account.objects.filter(pk__in=ids).order_by("pk"), by=by)


def register() -> None:
    """Assignment rules: the timeline event, the settings and availability menu items, and the
    account rules on every account creation without a chosen owner (customers' service calls
    `kehu.core.assigners`; customers never imports sales)."""
    from kehu.audit import events
    from kehu.core import assigners, navigation
    from kehu.customers.filtersets import AccountFilterSet

    from ..choices import PoolKind
    from ..filtersets_leads import LeadFilterSet
    from ..services.assignment import ASSIGNED_EVENT, assign_new_record, register_conditions_filterset

    # A rule's conditions are the list page's filters of its kind of record.
    register_conditions_filterset(PoolKind.LEAD, LeadFilterSet)
    register_conditions_filterset(PoolKind.ACCOUNT, AccountFilterSet)
    assigners.register_new_record_assigner("customers.account", assign_new_record)
    # An account import with "put into a pool" (the imports app's bulk writer sits below sales).
    assigners.register_pool_putter("customers.account", put_accounts_in_pool)
    from kehu.imports.writers import register_undo_cascade

    from ..models import PoolHistory, PoolItem

    register_undo_cascade("customers.account", PoolItem, "account")
    register_undo_cascade("customers.account", PoolHistory, "account")

    events.register_event(ASSIGNED_EVENT, _("Assigned by rule"), icon="route")
    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Assignment rules"), "sales:rule_list", icon="route", requires=("sales.assignmentrule", "view")
        ),
    )
    navigation.register_item(
        "sales", navigation.MenuItem(_("Availability"), "sales:availability", icon="beach")
    )
