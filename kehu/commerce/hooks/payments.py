"""Hooks of the payments area: timeline events and the overdue-instalment notification kind."""

from __future__ import annotations

from typing import Any


def register() -> None:
    """Register this area's hooks (called from CommerceConfig.ready)."""
    from django.utils.translation import gettext_lazy as _

    from kehu.audit import events
    from kehu.notifications import kinds

    from ..services import invoices, payments

    for code, label, icon in (
        (payments.PLAN_SET_EVENT, _("Payment plan set"), "calendar-dollar"),
        (payments.PAYMENT_RECORDED_EVENT, _("Payment received"), "cash"),
        (payments.PAYMENT_REVERSED_EVENT, _("Payment reversed"), "arrow-back-up"),
        (payments.CREDIT_APPLIED_EVENT, _("Credit used"), "wallet"),
        (payments.INSTALMENT_OVERDUE_EVENT, _("Instalment overdue"), "alarm"),
        (invoices.INVOICE_CREATED_EVENT, _("Invoice drafted"), "receipt"),
        (invoices.INVOICE_ISSUED_EVENT, _("Invoice issued"), "receipt"),
        (invoices.INVOICE_VOIDED_EVENT, _("Invoice voided"), "receipt-off"),
    ):
        events.register_event(code, label, icon=icon)
    kinds.register_kind(
        payments.OVERDUE_KIND,
        _("Overdue instalments"),
        default_channels={"in_app", "email"},
        description=_(
            "An instalment of your (or your team's) contract or order is past due with money outstanding."
        ),
        order=60,
    )
    _register_target_measure()


def _collected(*, user_id: int | None, department_id: int | None, start: Any, end: Any, currency: str) -> Any:
    """Collected payments (payments minus reversals received in [start, end]) of one owner, or of a
    department and everything below it: the sales targets' "collected" measure."""
    from kehu.users.backends import department_subtree

    from ..selectors.payments import collected_amount

    if user_id is not None:
        return collected_amount(user_id=user_id, start=start, end=end, currency=currency)
    ids = department_subtree(department_id) if department_id is not None else []
    return collected_amount(department_ids=ids, start=start, end=end, currency=currency)


def _register_target_measure() -> None:
    """Fill the sales targets' "collected payments" measure when the sales app offers a registry
    (`kehu.sales.selectors.targets.register_measure(metric, fn)`); until then targets on collections
    show no attainment, as before."""
    from kehu.sales.choices import TargetMetric
    from kehu.sales.selectors import targets

    register_measure = getattr(targets, "register_measure", None)
    if register_measure is not None:
        register_measure(TargetMetric.COLLECTED, _collected)
