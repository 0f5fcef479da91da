"""Sales targets (销售目标): set a user's or a department's quota for a month, quarter or year, and
split a department's target to its members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import DomainError

from ..choices import PeriodKind, TargetMetric
from ..models import Target

CENTS = Decimal("0.01")


def period_start_of(kind: str, day: dt.date) -> dt.date:
    if kind == PeriodKind.YEAR:
        return day.replace(month=1, day=1)
    if kind == PeriodKind.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(day=1)


def period_end_of(kind: str, start: dt.date) -> dt.date:
    months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[PeriodKind(kind)]
    month = start.month - 1 + months
    following = dt.date(start.year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _check(kind: str, start: dt.date, amount: Decimal, currency: str) -> None:
    errors: dict[str, list[str]] = {}
    if kind not in PeriodKind.values:
        errors["period_kind"] = [_("Choose month, quarter or year.")]
    elif period_start_of(kind, start) != start:
        errors["period_start"] = [_("A period starts on the first day of its month, quarter or year.")]
    if amount is None or amount < 0:
        errors["amount"] = [_("The target cannot be negative.")]
    elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors["amount"] = [_("At most two decimal places.")]
    if currency not in currency_codes():
        errors["currency"] = [_("Unknown currency: %(code)s.") % {"code": currency}]
    if errors:
        raise DomainError(_("The target is not valid."), code="invalid_target", fields=errors)


@transaction.atomic
def target_set(
    *,
    by: Any,
    period_kind: str,
    period_start: dt.date,
    amount: Decimal,
    user: Any = None,
    department: Any = None,
    metric: str = TargetMetric.WON_AMOUNT,
    currency: str | None = None,
    parent: Target | None = None,
) -> Target:
    """Create or change the target of one user (or, without a user, one department) for a period."""
    currency = currency or company_currency_code()
    if user is None and department is None:
        raise DomainError(
            _("Choose a user or a department."), code="invalid_target", fields={"user": [_("Required.")]}
        )
    _check(period_kind, period_start, amount, currency)
    if metric not in TargetMetric.values:
        raise DomainError(_("Unknown measure."), code="invalid_target", fields={"metric": [_("Unknown.")]})
    if user is not None:
        department = user.department
        lookup: dict[str, Any] = {"user": user}
    else:
        lookup = {"user": None, "department": department}
    existing = (
        Target.objects.select_for_update()
        .order_by()
        .filter(**lookup, metric=metric, period_kind=period_kind, period_start=period_start)
        .first()
    )
    probe = existing or Target(user=user, department=department)
    # A target is set within the setter's scope: their own (if allowed) or their department's users.
    if existing is None:
        owned.check_action(by, Target, Action.ADD)
    else:
        owned.check_action(by, Target, Action.CHANGE, obj=existing)
    target = existing or probe
    target.department = department
    target.metric = metric
    target.period_kind = period_kind
    target.period_start = period_start
    target.amount = amount
    target.currency = currency
    if parent is not None:
        target.parent = parent
    target.save()
    owned.recheck_scope(by, target, Action.CHANGE)
    return target


@transaction.atomic
def target_split(*, by: Any, target: Target, shares: Mapping[int, Decimal] | None = None) -> list[Target]:
    """Split a department target to the users of that department: `shares` {user id: amount}, or
    equal shares (cents rounded down, the remainder to the first users) when None."""
    if target.user_id is not None or target.department_id is None:
        raise DomainError(_("Only a department's target can be split."), code="invalid_target")
    owned.check_action(by, Target, Action.CHANGE, obj=target)
    members = list(
        get_user_model()
        .objects.filter(department_id=target.department_id, is_active=True)
        .order_by("username")
    )
    if not members:
        raise DomainError(_("The department has no active users."), code="invalid_target")
    if shares is None:
        each = (target.amount / len(members)).quantize(CENTS, rounding=ROUND_DOWN)
        remainder = target.amount - each * len(members)
        amounts = {}
        for index, member in enumerate(members):
            extra = CENTS if remainder > 0 and index < int(remainder / CENTS) else Decimal("0")
            amounts[member.pk] = each + extra
    else:
        member_ids = {m.pk for m in members}
        unknown = [pk for pk in shares if pk not in member_ids]
        if unknown:
            raise DomainError(
                _("Some users are not in the department."),
                code="invalid_target",
                fields={"shares": [str(unknown)]},
            )
        amounts = {int(pk): Decimal(v) for pk, v in shares.items()}
        if sum(amounts.values(), Decimal("0")) != target.amount:
            raise DomainError(
                _("The shares add up to %(sum)s, not %(total)s.")
                % {"sum": sum(amounts.values(), Decimal("0")), "total": target.amount},
                code="invalid_target",
                fields={"shares": [_("Must add up to the department's target.")]},
            )
    out = []
    for member in members:
        if member.pk not in amounts:
            continue
        out.append(
            target_set(
                by=by,
                user=member,
                metric=target.metric,
                period_kind=target.period_kind,
                period_start=target.period_start,
                amount=amounts[member.pk],
                currency=target.currency,
                parent=target,
            )
        )
    return out


@transaction.atomic
def target_delete(*, by: Any, target: Target) -> None:
    owned.check_action(by, Target, Action.DELETE, obj=target)
    target.delete()
