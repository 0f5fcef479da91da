from __future__ import annotations

from django.utils.translation import gettext_lazy as _


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
