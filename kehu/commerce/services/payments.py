"""Payment plans (回款计划), payments received (回款), reversals, account credits and overdue notices.

Money received is a ledger: a payment is never edited or deleted; a reversal is its own row with
negative amounts. `Instalment.received` caches what payments applied to the instalment and is
changed only here, with `F()` in the same transaction as the payment row, under a row lock on the
instalment (parallel payments on one instalment never push `received` above `amount`). Anything
touching an account's credit locks the account row first, so the credit balance (a sum of
`CreditEntry` rows) cannot go negative under concurrent reversals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.choices import ChangeAction
from kehu.audit.services import object_change_record, timeline_record
from kehu.core.errors import ConflictError, DomainError
from kehu.core.money import quantize_money
from kehu.core.services import sequence_next

from ..choices import PaymentMethod
from ..models import Contract, CreditEntry, Instalment, Order, Payment, PaymentPlan

ZERO = Decimal("0")

PLAN_SET_EVENT = "payment_plan.set"
PAYMENT_RECORDED_EVENT = "payment.recorded"
PAYMENT_REVERSED_EVENT = "payment.reversed"
CREDIT_APPLIED_EVENT = "payment.credit_applied"
INSTALMENT_OVERDUE_EVENT = "instalment.overdue"
OVERDUE_KIND = "commerce.instalment_overdue"


class PaymentError(DomainError):
    code = "payment_invalid"


class PaymentPlanError(DomainError):
    code = "payment_plan_invalid"


class PaymentAlreadyReversedError(ConflictError):
    code = "payment_already_reversed"


def _error(cls: type[DomainError], field: str, message: str) -> DomainError:
    return cls(message, fields={field: [message]})


# --- helpers ----------------------------------------------------------------------------------


def document_value(document: Contract | Order) -> Decimal:
    """What a plan of `document` must add up to: a contract's value, an order's total."""
    return document.value if isinstance(document, Contract) else document.total


def _one_document(contract: Contract | None, order: Order | None) -> Contract | Order:
    if (contract is None) == (order is None):
        raise _error(PaymentPlanError, "contract", _("Give either a contract or an order."))
    return contract if contract is not None else order  # type: ignore[return-value]


def _money(amount: Any, currency: str, field: str, cls: type[DomainError] = PaymentError) -> Decimal:
    """`amount` as an exact Decimal in `currency`'s minor unit (more decimals are refused)."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise _error(cls, field, _("The amount must be a decimal number."))
    try:
        value = Decimal(amount)
    except ArithmeticError:
        raise _error(cls, field, _("The amount must be a decimal number.")) from None
    if not value.is_finite():
        raise _error(cls, field, _("The amount must be a decimal number."))
    if quantize_money(value, currency) != value:
        raise _error(
            cls,
            field,
            _("%(amount)s has more decimals than %(currency)s allows.")
            % {
                "amount": value,
                "currency": currency,
            },
        )
    return value


# --- payment plans ----------------------------------------------------------------------------


@transaction.atomic
def payment_plan_set(
    *,
    contract: Contract | None = None,
    order: Order | None = None,
    instalments: Sequence[tuple[dt.date, Decimal, str]],
    by: Any,
) -> PaymentPlan:
    """Create the plan of a contract or an order, or replace its instalments.

    Instalment k of the new list takes the place of instalment k of the plan (keeping what it
    received): the amounts must add up exactly to the document's value, due dates must not go
    backwards, every amount must be above zero; an instalment that received money may not be
    removed nor reduced below what it received. Owner, department, account and currency follow
    the document."""
    document = _one_document(contract, order)
    document = type(document).objects.select_for_update().get(pk=document.pk)
    currency = document.currency
    value = document_value(document)
    rows = list(instalments)
    if not rows:
        raise _error(PaymentPlanError, "instalments", _("A payment plan needs at least one instalment."))
    cleaned: list[tuple[dt.date, Decimal, str]] = []
    previous: dt.date | None = None
    for position, row in enumerate(rows, start=1):
        due_on, amount, note = row
        if not isinstance(due_on, dt.date):
            raise _error(
                PaymentPlanError, "instalments", _("Instalment %(n)d has no due date.") % {"n": position}
            )
        amount = _money(amount, currency, "instalments", PaymentPlanError)
        if amount <= 0:
            raise _error(
                PaymentPlanError,
                "instalments",
                _("Instalment %(n)d: the amount must be above zero.") % {"n": position},
            )
        if previous is not None and due_on < previous:
            raise _error(
                PaymentPlanError,
                "instalments",
                _("Instalment %(n)d is due before the one above it: list the due dates in order.")
                % {"n": position},
            )
        previous = due_on
        cleaned.append((due_on, amount, (note or "").strip()[:200]))
    total = sum((a for _d, a, _n in cleaned), ZERO)
    if total != value:
        difference = total - value
        raise _error(
            PaymentPlanError,
            "instalments",
            _(
                "The instalments add up to %(total)s %(currency)s, the %(document)s is worth "
                "%(value)s %(currency)s (difference %(difference)s)."
            )
            % {
                "total": total,
                "value": value,
                "currency": currency,
                "difference": f"{difference:+}",
                "document": document._meta.verbose_name,
            },
        )

    owned = {"owner_id": document.owner_id, "department_id": document.department_id}
    plan = PaymentPlan.objects.select_for_update().filter(**{_doc_field(document): document}).first()
    created = plan is None
    if plan is None:
        plan = PaymentPlan.objects.create(
            **{_doc_field(document): document},
            account_id=document.account_id,
            currency=currency,
            total=value,
            created_by=by if getattr(by, "pk", None) else None,
            **owned,
        )
    else:
        before = {"currency": plan.currency, "total": str(plan.total)}
        PaymentPlan.objects.filter(pk=plan.pk).update(
            account_id=document.account_id,
            currency=currency,
            total=value,
            version=F("version") + 1,
            updated_at=timezone.now(),
            **owned,
        )
        plan.refresh_from_db()
        moved = {
            name: [old, new]
            for name, old, new in (
                ("currency", before["currency"], plan.currency),
                ("total", before["total"], str(plan.total)),
            )
            if old != new
        }
        if moved:  # (the UPDATE above bypasses the change log's signals)
            object_change_record(obj=plan, action=ChangeAction.UPDATE, changes=moved, by=by)
    existing = {i.sequence: i for i in Instalment.objects.select_for_update().filter(plan=plan)}
    # Refuse first, change nothing until every row is known to fit.
    for sequence, old in sorted(existing.items()):
        if sequence > len(cleaned):
            if old.received > 0 or old.payments.exists():
                raise _error(
                    PaymentPlanError,
                    "instalments",
                    _("Instalment %(n)d already received payments: it cannot be removed.") % {"n": sequence},
                )
        elif cleaned[sequence - 1][1] < old.received:
            raise _error(
                PaymentPlanError,
                "instalments",
                _("Instalment %(n)d already received %(received)s: its amount cannot be lower.")
                % {"n": sequence, "received": old.received},
            )
    removed = [i.pk for s, i in existing.items() if s > len(cleaned)]
    if removed:
        Instalment.objects.filter(pk__in=removed).delete()
    for sequence, (due_on, amount, note) in enumerate(cleaned, start=1):
        old = existing.get(sequence)
        if old is None:
            Instalment.objects.create(
                plan=plan,
                account_id=document.account_id,
                sequence=sequence,
                due_on=due_on,
                currency=currency,
                amount=amount,
                note=note,
                created_by=by if getattr(by, "pk", None) else None,
                **owned,
            )
            continue
        changes: dict[str, Any] = {}
        for field, new in (("due_on", due_on), ("amount", amount), ("note", note), ("currency", currency)):
            if getattr(old, field) != new:
                changes[field] = new
        if old.account_id != document.account_id:
            changes["account_id"] = document.account_id
        if old.owner_id != owned["owner_id"] or old.department_id != owned["department_id"]:
            changes.update(owned)
        if "due_on" in changes:
            changes["overdue_notified_at"] = None  # a new due date may be missed again
        if changes:
            for field, new in changes.items():
                setattr(old, field, new)
            old.version += 1
            old.save(update_fields=[*changes, "version", "updated_at"])
    timeline_record(
        event=PLAN_SET_EVENT,
        obj=document,
        by=by,
        account_id=document.account_id,
        data={
            "title": _("Payment plan created") if created else _("Payment plan changed"),
            "body": "; ".join(f"{d.isoformat()} {a} {currency}" for d, a, _n in cleaned),
        },
    )
    return plan


def _doc_field(document: Contract | Order) -> str:
    return "contract" if isinstance(document, Contract) else "order"


def split_evenly(total: Decimal, parts: int, currency: str) -> list[Decimal]:
    """`total` in `parts` instalments of the currency's minor unit that add up exactly (the cents
    left over by rounding go to the first instalments, one each)."""
    if parts < 1:
        raise _error(PaymentPlanError, "instalments", _("A payment plan needs at least one instalment."))
    unit = quantize_money(Decimal("1"), currency).as_tuple().exponent
    step = Decimal(1).scaleb(int(unit))
    units = int((total / step).to_integral_value())
    if units * step != total:
        raise _error(PaymentPlanError, "instalments", _("The total has more decimals than its currency."))
    base, rest = divmod(units, parts)
    return [(base + (1 if i < rest else 0)) * step for i in range(parts)]


# --- payments -----------------------------------------------------------------------------------


def _lock_account(account_id: int) -> None:
    from kehu.customers.models import Account

    Account.objects.select_for_update().filter(pk=account_id).values_list("pk", flat=True).first()


def _credit_balance(account_id: int, currency: str) -> Decimal:
    total = CreditEntry.objects.filter(account_id=account_id, currency=currency).aggregate(t=Sum("amount"))[
        "t"
    ]
    return total or ZERO


def _document_of(plan: PaymentPlan | None) -> Contract | Order | None:
    if plan is None:
        return None
    return plan.contract if plan.contract_id else plan.order


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


@transaction.atomic
def payment_record(
    *,
    account: Any,
    instalment: Instalment | None = None,
    amount: Decimal,
    received_on: dt.date,
    method: str = PaymentMethod.BANK_TRANSFER,
    reference: str = "",
    note: str = "",
    by: Any,
    allow_credit: bool = False,
    currency: str | None = None,
) -> Payment:
    """Record money received from `account`, against `instalment` when given.

    What the instalment still lacks is applied to it; the rest becomes a credit on the account
    when `allow_credit`, else the payment is refused ("exceeds the plan") and nothing is saved.
    Without an instalment the whole amount is a credit (so `allow_credit` is needed).

    Locks: the account first, then the instalment — the order `payment_apply_credit` and
    `payment_reverse` take them in, so two of them on one account wait instead of deadlocking."""
    _lock_account(account.pk)
    if instalment is not None:
        instalment = Instalment.objects.select_for_update().select_related("plan").get(pk=instalment.pk)
        if instalment.account_id != account.pk:
            raise _error(PaymentError, "instalment", _("The instalment belongs to another account."))
        currency = instalment.currency
    else:
        from kehu.catalog.selectors import company_currency_code, currency_codes

        currency = str(currency or company_currency_code()).strip().upper()
        if currency not in currency_codes():
            raise _error(PaymentError, "currency", _("Choose an active currency."))
    amount = _money(amount, currency, "amount")
    if amount <= 0:
        raise _error(PaymentError, "amount", _("The amount must be above zero."))
    if method not in PaymentMethod.values:
        raise _error(PaymentError, "method", _("Choose a payment method from the list."))
    if not isinstance(received_on, dt.date):
        raise _error(PaymentError, "received_on", _("Enter the date the money was received."))
    if received_on > timezone.localdate():
        raise _error(PaymentError, "received_on", _("The date received cannot be in the future."))
    outstanding = max(instalment.amount - instalment.received, ZERO) if instalment is not None else ZERO
    applied = min(amount, outstanding)
    credited = amount - applied
    if credited > 0 and not allow_credit:
        if instalment is None:
            message = _("A payment without an instalment can only be kept as a credit on the account.")
        else:
            message = _(
                "The payment exceeds the plan: the instalment still lacks %(outstanding)s %(currency)s. "
                "Record at most that, or keep the rest as a credit on the account."
            ) % {"outstanding": outstanding, "currency": currency}
        raise _error(PaymentError, "amount", message)
    plan = instalment.plan if instalment is not None else None
    owner_id = plan.owner_id if plan is not None else account.owner_id
    department_id = plan.department_id if plan is not None else account.department_id
    payment = Payment.objects.create(
        number=sequence_next(key="payment", prefix="HK"),
        account=account,
        plan=plan,
        instalment=instalment,
        currency=currency,
        amount=amount,
        applied=applied,
        credited=credited,
        received_on=received_on,
        method=method,
        reference=(reference or "").strip()[:100],
        note=note or "",
        owner_id=owner_id,
        department_id=department_id,
        created_by=_actor(by),
    )
    if instalment is not None and applied > 0:
        Instalment.objects.filter(pk=instalment.pk).update(received=F("received") + applied)
    if credited > 0:
        CreditEntry.objects.create(
            account=account,
            currency=currency,
            amount=credited,
            payment=payment,
            note=_("Over-payment of %(number)s") % {"number": payment.number},
        )
    data = {
        "title": _("Payment %(number)s received: %(amount)s %(currency)s")
        % {"number": payment.number, "amount": amount, "currency": currency},
        "amount": str(amount),
        "applied": str(applied),
        "credited": str(credited),
    }
    timeline_record(event=PAYMENT_RECORDED_EVENT, obj=payment, by=by, account_id=account.pk, data=data)
    document = _document_of(plan)
    if document is not None:
        timeline_record(event=PAYMENT_RECORDED_EVENT, obj=document, by=by, data=data)
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, reason: str, by: Any) -> Payment:
    """Undo a payment with a reversal row (negative amounts, `reverses` = the payment): what it
    applied leaves the instalment, what it credited leaves the account's credit. Refused when the
    credit was already used (the balance would go negative). Nothing is ever deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise _error(PaymentError, "reason", _("Give the reason for the reversal."))
    _lock_account(payment.account_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.reverses_id is not None:
        raise PaymentError(
            _("This is a reversal: it cannot be reversed itself."), code="payment_is_reversal", status=409
        )
    if Payment.objects.filter(reverses=payment).exists():
        raise PaymentAlreadyReversedError(
            _("Payment %(number)s was already reversed.") % {"number": payment.number}
        )
    if payment.credited > 0:
        balance = _credit_balance(payment.account_id, payment.currency)
        if balance - payment.credited < 0:
            message = _(
                "%(credited)s %(currency)s of this payment became a credit and %(used)s of it was "
                "already used: the account's credit (%(balance)s) cannot go below zero."
            ) % {
                "credited": payment.credited,
                "currency": payment.currency,
                "used": payment.credited - balance,
                "balance": balance,
            }
            raise PaymentError(message, code="credit_already_used", fields={"reason": [message]}, status=409)
    if payment.instalment_id is not None and payment.applied > 0:
        Instalment.objects.select_for_update().filter(pk=payment.instalment_id).values_list("pk").first()
        Instalment.objects.filter(pk=payment.instalment_id).update(received=F("received") - payment.applied)
    reversal = Payment.objects.create(
        number=sequence_next(key="payment", prefix="HK"),
        account_id=payment.account_id,
        plan_id=payment.plan_id,
        instalment_id=payment.instalment_id,
        currency=payment.currency,
        amount=-payment.amount,
        applied=-payment.applied,
        credited=-payment.credited,
        received_on=timezone.localdate(),
        method=payment.method,
        reference=payment.reference,
        note="",
        reverses=payment,
        reversal_reason=reason,
        owner_id=payment.owner_id,
        department_id=payment.department_id,
        created_by=_actor(by),
    )
    if payment.credited > 0:
        CreditEntry.objects.create(
            account_id=payment.account_id,
            currency=payment.currency,
            amount=-payment.credited,
            payment=reversal,
            note=_("Reversal of %(number)s") % {"number": payment.number},
        )
    data = {
        "title": _("Payment %(number)s reversed") % {"number": payment.number},
        "body": reason,
        "amount": str(payment.amount),
    }
    timeline_record(
        event=PAYMENT_REVERSED_EVENT, obj=payment, by=by, account_id=payment.account_id, data=data
    )
    document = _document_of(payment.plan)
    if document is not None:
        timeline_record(event=PAYMENT_REVERSED_EVENT, obj=document, by=by, data=data)
    return reversal


@transaction.atomic
def payment_apply_credit(*, instalment: Instalment, amount: Decimal, by: Any) -> CreditEntry:
    """Pay (part of) `instalment` from its account's credit: a negative credit entry and the
    instalment's `received` go up by `amount`. Refused above the credit or the outstanding amount."""
    _lock_account(instalment.account_id)
    instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
    amount = _money(amount, instalment.currency, "amount")
    if amount <= 0:
        raise _error(PaymentError, "amount", _("The amount must be above zero."))
    balance = _credit_balance(instalment.account_id, instalment.currency)
    outstanding = max(instalment.amount - instalment.received, ZERO)
    if amount > balance:
        raise _error(
            PaymentError,
            "amount",
            _("The account has %(balance)s %(currency)s of credit.")
            % {"balance": balance, "currency": instalment.currency},
        )
    if amount > outstanding:
        raise _error(
            PaymentError,
            "amount",
            _("The instalment lacks only %(outstanding)s %(currency)s.")
            % {"outstanding": outstanding, "currency": instalment.currency},
        )
    entry = CreditEntry.objects.create(
        account_id=instalment.account_id,
        currency=instalment.currency,
        amount=-amount,
        note=_("Used for %(instalment)s") % {"instalment": instalment},
    )
    Instalment.objects.filter(pk=instalment.pk).update(received=F("received") + amount)
    timeline_record(
        event=CREDIT_APPLIED_EVENT,
        obj=instalment,
        by=by,
        account_id=instalment.account_id,
        data={
            "title": _("Credit of %(amount)s %(currency)s used for %(instalment)s")
            % {"amount": amount, "currency": instalment.currency, "instalment": instalment}
        },
    )
    return entry


# --- overdue notices --------------------------------------------------------------------------


def instalments_overdue_notify(*, today: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Tell the owner and their department's manager about each instalment past its due date with
    money outstanding, once per instalment (`overdue_notified_at`; moving the due date re-arms it).
    Safe to run in parallel and to retry. Returns the instalments notified."""
    from kehu.notifications.services import notify

    now = now or timezone.now()
    today = today or timezone.localdate()
    due = (
        Instalment.objects.filter(
            due_on__lt=today, amount__gt=F("received"), overdue_notified_at__isnull=True
        )
        .select_related("plan__contract", "plan__order", "account", "department")
        .order_by("due_on", "pk")
    )
    sent = 0
    for instalment in due.iterator(chunk_size=500):
        with transaction.atomic():
            claimed = Instalment.objects.filter(pk=instalment.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            )
            if not claimed:
                continue  # a parallel run took it
            recipients = _overdue_recipients(instalment)
            document = _document_of(instalment.plan)
            outstanding = instalment.amount - instalment.received
            days = (today - instalment.due_on).days
            title = _(
                "%(account)s: instalment %(instalment)s is %(days)d days overdue (%(amount)s %(currency)s)"
            ) % {
                "account": instalment.account,
                "instalment": instalment,
                "days": days,
                "amount": outstanding,
                "currency": instalment.currency,
            }
            url = document.get_absolute_url() if document is not None else ""
            if recipients:
                notify(
                    recipients=recipients,
                    kind=OVERDUE_KIND,
                    title=title,
                    url=url,
                    level="warning",
                    target=instalment,
                )
            timeline_record(
                event=INSTALMENT_OVERDUE_EVENT,
                obj=document or instalment,
                by=None,
                account_id=instalment.account_id,
                data={
                    "title": title,
                    "due_on": instalment.due_on.isoformat(),
                    "outstanding": str(outstanding),
                },
            )
            sent += 1
    return sent


def _overdue_recipients(instalment: Instalment) -> list[int]:
    recipients: list[int] = []
    if instalment.owner_id:
        recipients.append(instalment.owner_id)
    department = instalment.department
    manager_id = getattr(department, "manager_id", None) if department is not None else None
    if manager_id and manager_id not in recipients:
        recipients.append(manager_id)
    return recipients
