"""Contracts (合同): create (directly or from an accepted quote), edit, activate, terminate, expire,
delete; attachments; renewal reminders.

Rules (every path — pages, API, tasks — runs them):

* Numbers come from ``sequence_next(key="contract", prefix="HT")`` inside the insert's transaction.
* From a quote: only the latest version of an accepted quote the user may view; the contract takes
  its account, contact, opportunity, currency, terms, subject and total (the value).
* Dates: the end date is not before the start date. Value ≥ 0. The currency is an active one.
* Status: draft → active (needs a signing date) → expired (the end date passed, daily task) or
  terminated (a date and a reason). Only drafts may be deleted; expired and terminated contracts
  are read-only. Every move writes a ``contract.status_changed`` timeline event on the contract
  and its account.
* Attachments: the extension must be one of ``KEHU_ATTACHMENT_TYPES`` and the content must look
  like that type (its first bytes; Office Open XML and OFD files are ZIP archives with their
  own marker file); at most ``KEHU_ATTACHMENT_MAX_BYTES``. A refused upload stores nothing.
* Renewal reminder: ``renewal_reminder_days`` before ``end_on`` the owner gets one notification
  (kind ``commerce.contract_renewal``); ``renewal_reminded_at`` makes it once (moving the end
  date re-arms it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.choices import ChangeAction
from kehu.audit.services import object_change_record, timeline_record
from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError
from kehu.core.money import parse_decimal as _decimal
from kehu.core.services import sequence_next
from kehu.core.uploads import attachment_max_bytes as attachment_max_bytes
from kehu.core.uploads import attachment_types as attachment_types
from kehu.core.uploads import check_upload

from ..choices import AttachmentKind, ContractStatus, InvoiceStatus, QuoteStatus
from ..models import Contract, ContractAttachment, Invoice, Order, PaymentPlan, Quote
from .common import check_visible as _visible
from .common import invalid
from .common import set_values as _set_values

CREATED_EVENT = "contract.created"
STATUS_EVENT = "contract.status_changed"
RENEWAL_EVENT = "contract.renewal_reminder"
ATTACHMENT_ADDED_EVENT = "contract.attachment_added"
ATTACHMENT_REMOVED_EVENT = "contract.attachment_removed"
RENEWAL_KIND = "commerce.contract_renewal"

#: What `contract_create` / `contract_update` accept in `data`.
CONTRACT_FIELDS = (
    "name",
    "account",
    "contact",
    "opportunity",
    "currency",
    "value",
    "signed_on",
    "start_on",
    "end_on",
    "renewal_reminder_days",
    "terms",
    "owner",
    "custom",
)
_TEXT = ("name", "terms")


class ContractError(DomainError):
    code = "contract_invalid"


class ContractStateError(ConflictError):
    """The contract's status does not allow this (edit a terminated contract, delete an active one)."""

    code = "contract_state"


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> DomainError:
    return invalid(ContractError, fields, message)


# --- values -----------------------------------------------------------------------------------


def _apply(contract: Contract, by: Any, data: Mapping[str, Any], *, current: Contract | None) -> list[str]:
    """Check `data` and set it on `contract`; returns the changed field names."""
    from kehu.customers.models import Account, Contact
    from kehu.sales.models import Opportunity

    unknown = set(data) - set(CONTRACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = dict(data)
    errors: dict[str, list[str]] = {}
    for name in _TEXT:
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()
    if "name" in values and not values["name"]:
        errors["name"] = [_("This field is required.")]
    if "value" in values:
        number = _decimal(values["value"], "value", errors)
        if number is None and "value" not in errors:
            number = Decimal("0")
        if number is not None:
            if number < 0:
                errors["value"] = [_("The value cannot be negative.")]
            elif abs(number) >= Decimal(10) ** 14 or -number.as_tuple().exponent > 4:  # type: ignore[operator]
                errors["value"] = [_("Enter an amount with at most 4 decimal places.")]
            values["value"] = number
    if "currency" in values:
        code = str(values["currency"] or "").strip().upper()
        if code not in currency_codes(include=current.currency if current else None):
            errors["currency"] = [_("Choose an active currency.")]
        values["currency"] = code
    if "renewal_reminder_days" in values and values["renewal_reminder_days"] in ("",):
        values["renewal_reminder_days"] = None
    days = values.get("renewal_reminder_days")
    if days is not None and (not isinstance(days, int) or days < 0 or days > 3650):
        errors["renewal_reminder_days"] = [_("Enter a number of days between 0 and 3650.")]
    account = values.get("account", contract.account if contract.account_id else None)
    if "account" in values:
        if account is None:
            errors["account"] = [_("This field is required.")]
        else:
            _visible(by, Account, account, "account", errors)
    contact = values.get("contact")
    if contact is not None:
        _visible(by, Contact, contact, "contact", errors)
        if account is not None and not contact.accounts.filter(pk=account.pk).exists():
            errors["contact"] = [_("Choose a contact of the contract's account.")]
    if values.get("opportunity") is not None:
        _visible(by, Opportunity, values["opportunity"], "opportunity", errors)
    if errors:
        raise _invalid(errors)
    changed = _set_values(contract, values, [n for n in CONTRACT_FIELDS if n not in ("owner", "custom")])
    if contract.start_on and contract.end_on and contract.end_on < contract.start_on:
        raise _invalid({"end_on": [_("The end date may not be before the start date.")]})
    if contract.signed_on and contract.signed_on > timezone.localdate() + dt.timedelta(days=366):
        raise _invalid({"signed_on": [_("The signing date is too far in the future.")]})
    if "custom" in data or current is None:
        from kehu.customfields.services import custom_values_clean

        custom = custom_values_clean(
            model=Contract,
            values=data.get("custom") or {},
            instance_values=contract.custom if current is not None else None,
            partial=current is not None,
        )
        if custom != contract.custom:
            contract.custom = custom
            changed.append("custom")
    return changed


def _account_id(contract: Contract) -> int | None:
    return contract.account_id


def _status_event(contract: Contract, by: Any, before: str, after: str, **extra: Any) -> None:
    timeline_record(
        event=STATUS_EVENT,
        obj=contract,
        by=by,
        account_id=contract.account_id,
        data={
            "title": _("Contract %(number)s: %(status)s")
            % {"number": contract.number, "status": ContractStatus(after).label},
            "changes": {"status": [before, after]},
            **extra,
        },
    )


# --- create / update / delete -----------------------------------------------------------------


@transaction.atomic
def contract_create(*, by: Any, data: Mapping[str, Any], quote: Quote | None = None) -> Contract:
    """A draft contract from `data` (see CONTRACT_FIELDS); `quote` links the quote it came from."""
    owned.check_action(by, Contract, Action.ADD)
    owned.check_locked_fields(by, Contract, data)
    values = dict(data)
    values.setdefault("currency", company_currency_code())
    if "account" not in values:
        values["account"] = None
    contract = Contract(status=ContractStatus.DRAFT, quote=quote, created_by=by if by and by.pk else None)
    _apply(contract, by, values, current=None)
    owner = owned.resolve_owner(by, Contract, values.get("owner"))
    owned.set_owner(contract, owner)
    contract.number = sequence_next(key="contract", prefix="HT")
    owned.full_clean_or_raise(contract, exclude=["number", "custom"])
    contract.save()
    owned.recheck_scope(by, contract, Action.VIEW, transfer=owner != by)
    timeline_record(
        event=CREATED_EVENT,
        obj=contract,
        by=by,
        account_id=contract.account_id,
        data={
            "title": _("Contract %(number)s created") % {"number": contract.number},
            "quote": str(quote) if quote is not None else "",
        },
    )
    return contract


def _accepted_quote(by: Any, quote: Quote) -> Quote:
    """The quote, re-read within the user's scope, if it is the latest version and accepted."""
    found = Quote.objects.restrict(by, Action.VIEW).filter(pk=quote.pk).first()
    if found is None:
        raise ContractError(
            _("Choose a quote you can see."), fields={"quote": [_("Choose a quote you can see.")]}
        )
    if not found.is_latest:
        message = _("Only the latest version of a quote can be converted.")
        raise ContractStateError(message, code="quote_not_latest", fields={"quote": [message]})
    if found.status != QuoteStatus.ACCEPTED:
        message = _("Only an accepted quote can be converted (this one is “%(status)s”).") % {
            "status": found.get_status_display()
        }
        raise ContractStateError(message, code="quote_not_accepted", fields={"quote": [message]})
    return found


def check_convertible_quote(*, by: Any, quote: Quote) -> Quote:
    """The quote if `by` may convert it (latest version, accepted, visible); else a ContractError."""
    return _accepted_quote(by, quote)


@transaction.atomic
def contract_create_from_quote(*, by: Any, quote: Quote, data: Mapping[str, Any] | None = None) -> Contract:
    """A draft contract from an accepted quote: account, contact, opportunity, currency, terms and
    subject are copied and the value is the quote's total; `data` may add dates and the like. A
    quote becomes one contract: a second conversion is refused (the quote row is locked, so two
    clicks at once make one contract)."""
    quote = _accepted_quote(by, quote)
    Quote.objects.select_for_update().filter(pk=quote.pk).first()
    existing = Contract.objects.filter(quote=quote).order_by("pk").first()
    if existing is not None:
        message = _("Contract %(number)s was already created from this quote.") % {"number": existing.number}
        raise ContractStateError(message, code="quote_converted", fields={"quote": [message]})
    values: dict[str, Any] = {
        "name": quote.name,
        "account": quote.account,
        "contact": quote.contact,
        "opportunity": quote.opportunity,
        "currency": quote.currency,
        "value": quote.total,
        "terms": quote.terms,
    }
    extra = dict(data or {})
    for copied in ("account", "currency", "value"):
        extra.pop(copied, None)  # the quote decides these
    values.update(extra)
    return contract_create(by=by, data=values, quote=quote)


# What a payment plan, an invoice or an order relies on: changed only before any of them exists.
SETTLED_FIELDS = ("account", "currency", "value")


def _check_settled_fields(contract: Contract, changed: list[str]) -> None:
    """Refuse a new account, currency or value while a payment plan, a non-void invoice or an order
    is based on the contract (they would stop adding up to it)."""
    moving = [name for name in SETTLED_FIELDS if name in changed]
    if not moving:
        return
    if PaymentPlan.objects.filter(contract=contract).exists():
        reason = _("The contract has a payment plan: change or remove the plan first.")
    elif Invoice.objects.filter(contract=contract).exclude(status=InvoiceStatus.VOID).exists():
        reason = _("The contract has invoices: void them first.")
    elif Order.objects.filter(contract=contract).exists():
        reason = _("Orders were created from the contract.")
    else:
        return
    raise _invalid({name: [reason] for name in moving})


def _locked(by: Any, contract: Contract, action: str = Action.CHANGE) -> Contract:
    owned.check_action(by, Contract, action, obj=contract)
    return Contract.objects.select_for_update().get(pk=contract.pk)


@transaction.atomic
def contract_update(
    *, contract: Contract, by: Any, data: Mapping[str, Any], version: int | None = None
) -> Contract:
    """Change a draft or active contract (a stale `version` is refused). Moving the end date re-arms
    the renewal reminder."""
    contract = _locked(by, contract)
    owned.check_version(contract, version)
    if contract.status in (ContractStatus.EXPIRED, ContractStatus.TERMINATED):
        raise ContractStateError(
            _("An expired or terminated contract cannot be changed."), code="contract_closed"
        )
    owned.check_locked_fields(by, Contract, data, current=contract)
    values = dict(data)
    if contract.status == ContractStatus.ACTIVE and "signed_on" in values and not values["signed_on"]:
        raise _invalid({"signed_on": [_("An active contract keeps its signing date.")]})
    old_end = contract.end_on
    changed = _apply(contract, by, values, current=contract)
    _check_settled_fields(contract, changed)
    owner = owned.resolve_owner(by, Contract, values.get("owner"), obj=contract)
    changed += owned.set_owner(contract, owner)
    if contract.end_on != old_end and contract.renewal_reminded_at is not None:
        contract.renewal_reminded_at = None
        changed.append("renewal_reminded_at")
    if not changed:
        return contract
    owned.full_clean_or_raise(contract, exclude=["custom"])
    contract.version += 1
    contract.save()
    owned.recheck_scope(by, contract, Action.CHANGE, transfer="owner" in changed)
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract, by: Any) -> None:
    """Delete a draft (an active or ended contract stays: terminate it instead)."""
    contract = _locked(by, contract, Action.DELETE)
    if contract.status != ContractStatus.DRAFT:
        raise ContractStateError(
            _("Only a draft contract can be deleted; terminate it instead."), code="contract_not_draft"
        )
    if contract.orders.exists():
        raise ContractStateError(_("The contract has orders; it cannot be deleted."), code="contract_in_use")
    for attachment in list(contract.attachments.all()):
        _delete_file(attachment)
    contract.delete()


# --- status -----------------------------------------------------------------------------------


@transaction.atomic
def contract_activate(
    *, contract: Contract, by: Any, signed_on: dt.date | None = None, version: int | None = None
) -> Contract:
    """draft → active. Needs a signing date (given here or already on the contract)."""
    contract = _locked(by, contract)
    owned.check_version(contract, version)
    if contract.status != ContractStatus.DRAFT:
        raise ContractStateError(
            _("Only a draft contract can be activated (this one is “%(status)s”).")
            % {"status": contract.get_status_display()},
            code="contract_not_draft",
        )
    if signed_on is not None:
        contract.signed_on = signed_on
    if contract.signed_on is None:
        message = _("Enter the signing date to activate the contract.")
        raise ContractError(message, code="signing_date_required", fields={"signed_on": [message]})
    if contract.signed_on > timezone.localdate():
        message = _("The signing date may not be in the future.")
        raise ContractError(message, fields={"signed_on": [message]})
    if contract.end_on and contract.end_on < timezone.localdate():
        message = _("The contract already ended; change its end date first.")
        raise ContractError(message, fields={"end_on": [message]})
    contract.status = ContractStatus.ACTIVE
    contract.version += 1
    contract.save(update_fields=["status", "signed_on", "version", "updated_at"])
    _status_event(contract, by, ContractStatus.DRAFT, ContractStatus.ACTIVE)
    return contract


@transaction.atomic
def contract_terminate(
    *, contract: Contract, by: Any, terminated_on: dt.date | None, reason: str, version: int | None = None
) -> Contract:
    """active → terminated, with the date and the reason (both required)."""
    contract = _locked(by, contract)
    owned.check_version(contract, version)
    if contract.status != ContractStatus.ACTIVE:
        raise ContractStateError(
            _("Only an active contract can be terminated (this one is “%(status)s”).")
            % {"status": contract.get_status_display()},
            code="contract_not_active",
        )
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if terminated_on is None:
        errors["terminated_on"] = [_("This field is required.")]
    elif contract.signed_on and terminated_on < contract.signed_on:
        errors["terminated_on"] = [_("The termination date may not be before the signing date.")]
    if not reason:
        errors["termination_reason"] = [_("Give the reason for the termination.")]
    if errors:
        raise _invalid(errors)
    contract.status = ContractStatus.TERMINATED
    contract.terminated_on = terminated_on
    contract.termination_reason = reason
    contract.version += 1
    contract.save(update_fields=["status", "terminated_on", "termination_reason", "version", "updated_at"])
    _status_event(contract, by, ContractStatus.ACTIVE, ContractStatus.TERMINATED, body=reason)
    return contract


def contract_expire_due(*, today: dt.date | None = None) -> int:
    """Active contracts whose end date has passed become expired (daily task; idempotent).
    Returns how many expired."""
    today = today or timezone.localdate()
    done = 0
    ids = list(
        Contract.objects.filter(status=ContractStatus.ACTIVE, end_on__lt=today).values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            updated = Contract.objects.filter(pk=pk, status=ContractStatus.ACTIVE, end_on__lt=today).update(
                status=ContractStatus.EXPIRED, updated_at=timezone.now()
            )
            if not updated:
                continue
            contract = Contract.objects.get(pk=pk)
            # (a conditional UPDATE bypasses the change log's signals: record the change itself)
            object_change_record(
                obj=contract,
                action=ChangeAction.UPDATE,
                changes={"status": [ContractStatus.ACTIVE.value, ContractStatus.EXPIRED.value]},
            )
            _status_event(contract, None, ContractStatus.ACTIVE, ContractStatus.EXPIRED)
            done += 1
    return done


# --- renewal reminders ------------------------------------------------------------------------


def contract_renewal_reminders_send(*, today: dt.date | None = None) -> int:
    """Tell each active contract's owner, once, that it ends in `renewal_reminder_days` days or
    less (daily task; idempotent). Returns the reminders sent."""
    from kehu.notifications.services import notify

    today = today or timezone.localdate()
    candidates = Contract.objects.filter(
        status=ContractStatus.ACTIVE,
        renewal_reminder_days__isnull=False,
        renewal_reminded_at__isnull=True,
        end_on__isnull=False,
        end_on__gte=today,
        owner__isnull=False,
    ).values_list("pk", "end_on", "renewal_reminder_days")
    sent = 0
    for pk, end_on, days in list(candidates):
        if end_on - dt.timedelta(days=days) > today:
            continue
        with transaction.atomic():
            claimed = Contract.objects.filter(pk=pk, renewal_reminded_at__isnull=True).update(
                renewal_reminded_at=timezone.now()
            )
            if not claimed:
                continue
            contract = Contract.objects.select_related("account").get(pk=pk)
            left = (end_on - today).days
            title = _("Contract %(number)s (%(account)s) ends in %(days)d days, on %(date)s") % {
                "number": contract.number,
                "account": contract.account.name,
                "days": left,
                "date": end_on.isoformat(),
            }
            notify(
                recipients=[contract.owner_id],
                kind=RENEWAL_KIND,
                title=title,
                body=contract.name,
                url=contract.get_absolute_url(),
                level="warning",
                target=contract,
            )
            timeline_record(
                event=RENEWAL_EVENT,
                obj=contract,
                by=None,
                account_id=contract.account_id,
                data={"title": title, "end_on": end_on.isoformat(), "days": left},
            )
            sent += 1
    return sent


# --- attachments ------------------------------------------------------------------------------
# The file checks live in kehu.core.uploads; attachment_types and attachment_max_bytes stay
# importable from here (the contract pages show the accepted types and the size limit).


def _check_open(contract: Contract) -> None:
    if contract.status in (ContractStatus.EXPIRED, ContractStatus.TERMINATED):
        raise ContractStateError(
            _("An expired or terminated contract cannot be changed."), code="contract_closed"
        )


def _delete_file(attachment: ContractAttachment) -> None:
    storage, path = attachment.file.storage, attachment.file.name
    if path:
        transaction.on_commit(lambda: storage.delete(path))


@transaction.atomic
def contract_attachment_add(
    *, contract: Contract, by: Any, upload: Any, kind: str = AttachmentKind.SIGNED
) -> ContractAttachment:
    """Store `upload` with the contract (checked first: type, content, size; refused: nothing stored)."""
    contract = _locked(by, contract)
    _check_open(contract)
    if kind not in AttachmentKind.values:
        raise ContractError(
            _("Choose a type from the list."), fields={"kind": [_("Choose a type from the list.")]}
        )
    name, size, content_type = check_upload(upload)
    attachment = ContractAttachment(
        contract=contract,
        kind=kind,
        name=name,
        size=size,
        content_type=content_type,
        uploaded_by=by if getattr(by, "pk", None) else None,
    )
    if hasattr(upload, "seek"):
        upload.seek(0)
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(attachment.file.name)  # nothing stays behind
        raise
    timeline_record(
        event=ATTACHMENT_ADDED_EVENT,
        obj=contract,
        by=by,
        account_id=contract.account_id,
        data={"title": _("Attachment %(name)s added") % {"name": name}, "kind": kind},
    )
    return attachment


@transaction.atomic
def contract_attachment_delete(*, attachment: ContractAttachment, by: Any) -> None:
    contract = _locked(by, attachment.contract)
    _check_open(contract)
    name = attachment.name
    _delete_file(attachment)
    attachment.delete()
    timeline_record(
        event=ATTACHMENT_REMOVED_EVENT,
        obj=contract,
        by=by,
        account_id=contract.account_id,
        data={"title": _("Attachment %(name)s removed") % {"name": name}},
    )
