"""Invoices (发票) as records: draft → issued → void (a draft may also be voided).

total = amount + tax, exactly. The non-void invoices of one contract or order may not add up to
more than its value (contract value / order total) unless the caller passes `override=True` with
a reason and the acting user holds **change on invoices with the "all" data scope** (the role
editor's "Invoice · Change · All"; administrators hold it). Kehu's permission actions are a fixed
list (`kehu.core.choices.Action`, stored in `RolePermission.action`), so no extra "override"
action is invented: the widest change scope is the permission. The invoice keeps `over_limit` and
the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError
from kehu.core.permissions import scope_q

from ..choices import InvoiceKind, InvoiceStatus
from ..models import Contract, Invoice, Order, Payment
from .payments import _money, document_value

ZERO = Decimal("0")

INVOICE_CREATED_EVENT = "invoice.created"
INVOICE_ISSUED_EVENT = "invoice.issued"
INVOICE_VOIDED_EVENT = "invoice.voided"

# The fields invoice_create / invoice_update accept in `data`.
INVOICE_FIELDS = (
    "number",
    "kind",
    "contract",
    "order",
    "buyer_name",
    "buyer_tax_id",
    "currency",
    "amount",
    "tax",
    "issued_on",
    "payments",
    "note",
)


class InvoiceError(DomainError):
    code = "invoice_invalid"


class InvoiceStateError(ConflictError):
    code = "invoice_wrong_state"


def _error(field: str, message: str, code: str | None = None) -> InvoiceError:
    return InvoiceError(message, fields={field: [message]}, code=code)


def may_override(user: Any) -> bool:
    """Whether `user` may invoice above a contract or order: change on invoices, scope "all"."""
    q = scope_q(user, Invoice, Action.CHANGE)
    return q is not None and not q


def invoiced_total(document: Contract | Order, *, exclude: Invoice | None = None) -> Decimal:
    """The totals of the document's non-void invoices."""
    field = "contract" if isinstance(document, Contract) else "order"
    qs = Invoice.objects.filter(**{field: document}).exclude(status=InvoiceStatus.VOID)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return qs.aggregate(t=Sum("total"))["t"] or ZERO


def buyer_defaults(account: Any) -> dict[str, str]:
    """The invoice header (发票抬头) pre-filled from the account: its name and tax number."""
    return {"buyer_name": account.name or "", "buyer_tax_id": getattr(account, "tax_number", "") or ""}


def _check_limit(invoice: Invoice, *, override: bool, override_reason: str, by: Any) -> None:
    document: Contract | Order | None = invoice.contract or invoice.order
    if document is None or invoice.status == InvoiceStatus.VOID:
        invoice.over_limit = False
        return
    # Serialise invoicing of one document: the sum is read under the document's row lock.
    type(document).objects.select_for_update().filter(pk=document.pk).values_list("pk").first()
    value = document_value(document)
    already = invoiced_total(document, exclude=invoice)
    if already + invoice.total <= value:
        invoice.over_limit = False
        invoice.override_reason = ""
        return
    above = already + invoice.total - value
    if not override:
        raise _error(
            "total",
            _(
                "Invoices of %(document)s would add up to %(sum)s %(currency)s, %(above)s above its value "
                "of %(value)s. Invoicing above the contracted amount needs an explicit override."
            )
            % {
                "document": document,
                "sum": already + invoice.total,
                "currency": invoice.currency,
                "above": above,
                "value": value,
            },
            code="invoice_above_contract",
        )
    if not may_override(by):
        raise _error(
            "override",
            _(
                "You may not invoice above the contracted amount "
                "(this needs change on invoices with scope All)."
            ),
            code="invoice_override_denied",
        )
    if not (override_reason or "").strip():
        raise _error("override_reason", _("Give the reason for invoicing above the contracted amount."))
    invoice.over_limit = True
    invoice.override_reason = override_reason.strip()


def _apply(invoice: Invoice, data: Mapping[str, Any]) -> list[Payment] | None:
    unknown = set(data) - set(INVOICE_FIELDS)
    if unknown:
        raise InvoiceError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for field in ("number", "buyer_name", "buyer_tax_id", "note"):
        if field in data:
            setattr(invoice, field, (data[field] or "").strip())
    if "kind" in data:
        if data["kind"] not in InvoiceKind.values:
            raise _error("kind", _("Choose an invoice type from the list."))
        invoice.kind = data["kind"]
    for field in ("contract", "order"):
        if field in data:
            setattr(invoice, field, data[field])
    document = invoice.contract or invoice.order
    if invoice.contract_id and invoice.order_id:
        raise _error("contract", _("An invoice belongs to a contract or an order, not both."))
    if document is not None:
        if document.account_id != invoice.account_id:
            raise _error(
                "contract" if invoice.contract_id else "order",
                _("The document belongs to another account."),
            )
        invoice.currency = document.currency
    elif data.get("currency"):
        from kehu.catalog.selectors import currency_codes

        code = str(data["currency"]).strip().upper()
        if code not in currency_codes(include=invoice.currency if invoice.pk else None):
            raise _error("currency", _("Choose an active currency."))
        invoice.currency = code
    if "issued_on" in data:
        issued_on = data["issued_on"]
        if issued_on is not None and not isinstance(issued_on, dt.date):
            raise _error("issued_on", _("Enter a valid date."))
        invoice.issued_on = issued_on
    for field in ("amount", "tax"):
        if field in data:
            value = _money(data[field], invoice.currency, field, InvoiceError)
            if value < 0:
                raise _error(field, _("The amount cannot be negative."))
            setattr(invoice, field, value)
    invoice.total = invoice.amount + invoice.tax
    if invoice.total <= 0:
        raise _error("amount", _("The invoice total must be above zero."))
    payments: list[Payment] | None = None
    if "payments" in data:
        payments = list(data["payments"] or [])
        for payment in payments:
            if payment.account_id != invoice.account_id or payment.reverses_id is not None:
                raise _error("payments", _("Link only payments received from the invoice's account."))
    return payments


@transaction.atomic
def invoice_create(
    *, account: Any, data: Mapping[str, Any], by: Any, override: bool = False, override_reason: str = ""
) -> Invoice:
    """A draft invoice of `account` (buyer name and tax ID default to the account's)."""
    invoice = Invoice(
        account=account,
        owner_id=account.owner_id,
        department_id=account.department_id,
        created_by=by if getattr(by, "pk", None) else None,
        **buyer_defaults(account),
    )
    payments = _apply(invoice, data)
    document = invoice.contract or invoice.order
    if document is not None:
        invoice.owner_id, invoice.department_id = document.owner_id, document.department_id
    _check_limit(invoice, override=override, override_reason=override_reason, by=by)
    invoice.save()
    if payments is not None:
        invoice.payments.set(payments)
    timeline_record(
        event=INVOICE_CREATED_EVENT,
        obj=invoice,
        by=by,
        account_id=invoice.account_id,
        data={
            "title": _("Invoice %(invoice)s drafted: %(total)s %(currency)s")
            % {"invoice": invoice, "total": invoice.total, "currency": invoice.currency}
        },
    )
    return invoice


@transaction.atomic
def invoice_update(
    *,
    invoice: Invoice,
    data: Mapping[str, Any],
    by: Any,
    version: int | None = None,
    override: bool = False,
    override_reason: str = "",
) -> Invoice:
    """Change a draft (an issued invoice changes only by voiding it)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if version is not None and version != invoice.version:
        from kehu.core.errors import StaleObjectError

        raise StaleObjectError(_("Someone else changed this invoice meanwhile: reload and try again."))
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceStateError(_("Only a draft invoice can be edited; void it and draft a new one."))
    payments = _apply(invoice, data)
    _check_limit(invoice, override=override, override_reason=override_reason, by=by)
    invoice.version += 1
    invoice.save()
    if payments is not None:
        invoice.payments.set(payments)
    return invoice


@transaction.atomic
def invoice_issue(
    *, invoice: Invoice, by: Any, number: str = "", issued_on: dt.date | None = None
) -> Invoice:
    """draft → issued: the number the tax system gave and the issue date (today by default)."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceStateError(_("Only a draft invoice can be issued."))
    number = (number or invoice.number or "").strip()
    if not number:
        raise _error("number", _("Enter the invoice number."))
    if (
        Invoice.objects.filter(number=number)
        .exclude(Q(pk=invoice.pk) | Q(status=InvoiceStatus.VOID))
        .exists()
    ):
        raise _error("number", _("Another invoice has this number."))
    invoice.number = number
    invoice.issued_on = issued_on or invoice.issued_on or timezone.localdate()
    invoice.status = InvoiceStatus.ISSUED
    # the limit again: a contract's value may have changed since the draft
    _check_limit(invoice, override=invoice.over_limit, override_reason=invoice.override_reason, by=by)
    invoice.version += 1
    try:
        with transaction.atomic():  # (a savepoint: the unique constraint decides between two at once)
            invoice.save()
    except IntegrityError:
        raise _error("number", _("Another invoice has this number.")) from None
    timeline_record(
        event=INVOICE_ISSUED_EVENT,
        obj=invoice,
        by=by,
        account_id=invoice.account_id,
        data={
            "title": _("Invoice %(number)s issued: %(total)s %(currency)s")
            % {"number": number, "total": invoice.total, "currency": invoice.currency}
        },
    )
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, by: Any, reason: str) -> Invoice:
    """draft or issued → void, with a reason (kept in the note and on the timeline)."""
    reason = (reason or "").strip()
    if not reason:
        raise _error("reason", _("Give the reason for voiding the invoice."))
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.VOID:
        raise InvoiceStateError(_("The invoice is already void."))
    old = invoice.status
    invoice.status = InvoiceStatus.VOID
    invoice.note = f"{invoice.note}\n{_('Voided')}: {reason}".strip()
    invoice.version += 1
    invoice.save()
    timeline_record(
        event=INVOICE_VOIDED_EVENT,
        obj=invoice,
        by=by,
        account_id=invoice.account_id,
        data={
            "title": _("Invoice %(invoice)s voided") % {"invoice": invoice},
            "body": reason,
            "changes": {"status": [old, InvoiceStatus.VOID]},
        },
    )
    return invoice
