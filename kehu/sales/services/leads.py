"""Leads (线索): create, update, status, delete and conversion. Forms, the API, web forms and
imports all come through here.

Rules (the owned-record rules of `kehu.core.owned` apply to every write: scope, optimistic lock,
field permissions, owner/assign, department from the owner, the re-check after the write):

* phones in E.164 (default region CN), e-mails lower-case, the tax number upper-case, text trimmed;
* `source`, `product_interest` and `unqualified_reason` hold values of their picklists;
* custom fields through `custom_values_clean`, data collection standards through `rules_check`;
* the collision check (撞单检查, `kehu.dedup.services.collision_enforce`) runs on create and
  whenever a matched field changes; under "warn" the caller confirms with ``confirmed``;
* a new lead without a chosen owner goes through the assignment rules (`assignment_apply`); a
  `pool` puts it straight into that pool (no owner);
* "unqualified" needs a reason from the picklist ``lead_unqualified_reason``;
* a converted lead is read-only: every write answers `LeadAlreadyConvertedError` (409).

`lead_convert` turns a qualified lead into an account (an existing one or a new one), a contact
and optionally an opportunity, in one transaction with the lead locked (a second conversion,
parallel or later, answers 409), and carries custom fields over through `ConversionFieldMap`.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.permissions import can, readonly_fields
from kehu.core.validators import normalise_email, normalise_phone
from kehu.customers.regions import CHINA, region_errors
from kehu.customers.validators import normalise_tax_number
from kehu.customfields.rules import rules_check
from kehu.customfields.selectors import custom_fields_for, picklist_items
from kehu.customfields.services import custom_values_clean
from kehu.tags.services import tags_set_new

from ..choices import LEAD_PICKLIST_FIELDS, LeadStatus
from ..errors import LeadAlreadyConvertedError, LeadNotQualifiedError, SalesError
from ..models import ConversionFieldMap, Lead, Pipeline, Pool

LEAD_MODEL = "sales.lead"
CREATED_EVENT = "lead.created"
STATUS_EVENT = "lead.status_changed"
CONVERTED_EVENT = "lead.converted"

# Called at the end of `lead_convert`, inside its transaction, as ``fn(result=..., by=...)``: the
# apps above sales (activities: the lead's interactions and open tasks follow the customer) add
# theirs from their ``AppConfig.ready()`` with `on_converted`; sales never imports them.
CONVERTED_CALLBACKS: list[Callable[..., None]] = []


def on_converted(fn: Callable[..., None]) -> Callable[..., None]:
    """Register `fn(*, result: ConversionResult, by)` to run when a lead is converted (once)."""
    if fn not in CONVERTED_CALLBACKS:
        CONVERTED_CALLBACKS.append(fn)
    return fn


class LeadData(TypedDict, total=False):
    external_id: str  # the record's id in another system (unique when set)
    name: str
    company: str
    title: str
    phone: str
    mobile: str
    email: str
    wechat: str
    website: str
    address: str
    tax_number: str
    source: str
    product_interest: str
    campaign: str
    status: str
    unqualified_reason: str
    description: str
    country: str
    province: str
    city: str
    district: str
    owner: Any  # User
    pool: Pool | None
    custom: dict[str, Any]


_SPECIAL = frozenset({"owner", "pool", "custom"})
LEAD_FIELDS = frozenset(LeadData.__annotations__) - _SPECIAL
_PHONE_FIELDS = ("phone", "mobile")
_NOT_TRIMMED = ("description",)
_REGION = ("country", "province", "city", "district")
# The fields the collision check compares (a change of one re-runs it).
COLLISION_FIELDS = ("phone", "mobile", "email", "company", "tax_number")
_CLEAN_EXCLUDE = (
    "owner",
    "department",
    "created_by",
    "custom",
    "assignment_rule",
    "converted_by",
    "converted_account",
    "converted_contact",
    "converted_opportunity",
)


def _invalid(fields: dict[str, list[str]]) -> SalesError:
    return SalesError(_("Some fields are not valid."), fields=fields)


def _check_keys(data: Mapping[str, Any]) -> None:
    unknown = set(data) - LEAD_FIELDS - _SPECIAL
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


def _normalised(data: Mapping[str, Any]) -> dict[str, Any]:
    """Phones in E.164, e-mails lower-case, tax numbers upper-case, text trimmed; field errors collected."""
    out = dict(data)
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if isinstance(value, str) and name not in _NOT_TRIMMED:
            out[name] = value = value.strip()
        try:
            if name in _PHONE_FIELDS:
                out[name] = normalise_phone(value)
            elif name == "email":
                out[name] = normalise_email(value)
            elif name == "tax_number":
                out[name] = normalise_tax_number(value)
        except ValidationError as exc:
            errors[name] = [str(m) for m in exc.messages]
    if errors:
        raise _invalid(errors)
    return out


def _in_picklist(code: str, value: str) -> bool:
    items = picklist_items(code)
    return not items or value in {i.value for i in items if i.is_active}


def _check_picklists(values: Mapping[str, Any], current: Lead | None) -> None:
    """Picklist fields hold the value of an active item (an inactive one is accepted only when the
    lead already has it)."""
    errors: dict[str, list[str]] = {}
    for name, code in LEAD_PICKLIST_FIELDS.items():
        value = values.get(name)
        if not value or (current is not None and getattr(current, name) == value):
            continue
        if not _in_picklist(code, str(value)):
            errors[name] = [_("Choose a value from the list.")]
    if errors:
        raise _invalid(errors)


def _check_region(values: dict[str, Any], current: Lead | None) -> None:
    if not any(n in values for n in _REGION):
        return
    region = {
        n: str(values.get(n, getattr(current, n, "") if current else "") or "").strip() for n in _REGION
    }
    region["country"] = region["country"].upper()
    if region["province"] and not region["country"]:
        region["country"] = CHINA
    errors = region_errors(**region)
    if errors:
        raise _invalid(errors)
    values.update(region)


def _check_status(values: dict[str, Any], current: Lead | None) -> None:
    """A status a user may set (never "converted": that is what `lead_convert` does); unqualified
    needs a reason from the picklist; any other status clears the reason."""
    if "status" not in values and "unqualified_reason" not in values:
        return
    status = values.get("status", current.status if current else LeadStatus.NEW) or LeadStatus.NEW
    if status not in LeadStatus.values:
        raise _invalid({"status": [_("Choose a status from the list.")]})
    if status == LeadStatus.CONVERTED and (current is None or current.status != LeadStatus.CONVERTED):
        raise _invalid({"status": [_("Use “Convert” to convert a lead.")]})
    values["status"] = status
    if status == LeadStatus.UNQUALIFIED:
        reason = str(values.get("unqualified_reason", current.unqualified_reason if current else "") or "")
        if not reason:
            raise _invalid(
                {"unqualified_reason": [_("Choose why the lead is unqualified.")]},
            )
        values["unqualified_reason"] = reason
    else:
        values["unqualified_reason"] = ""


def _custom(by: Any, data: Mapping[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The new `custom` dict, or None when the write does not touch custom fields (update)."""
    if "custom" not in data and current is not None:
        return None
    locked = {f.removeprefix("custom.") for f in readonly_fields(by, Lead) if f.startswith("custom.")}
    return custom_values_clean(
        model=Lead,
        values=data.get("custom") or {},
        instance_values=current,
        partial=current is not None,
        exclude=locked,
    )


def _rules(values: Mapping[str, Any], custom: Any, instance: Lead | None) -> None:
    standard = {k: v for k, v in values.items() if k in LEAD_FIELDS}
    if custom is not None:
        standard["custom"] = custom
    rules_check(model=Lead, values=standard, instance=instance, partial=instance is not None)


def _collisions(
    by: Any, lead: Lead, *, exclude_pk: int | None, confirmed: bool, changed: set[str] | None = None
) -> list[Any]:
    """The collision check (撞单检查) over the lead's matched fields: raises the dedup app's
    CollisionError (409, with the matches) when the policy blocks or the user has not confirmed."""
    if changed is not None and not changed.intersection(COLLISION_FIELDS):
        return []
    from kehu.dedup.services import collision_enforce

    values = {f: getattr(lead, f) for f in (*COLLISION_FIELDS, "name")}
    return collision_enforce(
        model_label=LEAD_MODEL, values=values, exclude_pk=exclude_pk, user=by, confirmed=confirmed
    )


def _refuse_converted(lead: Lead) -> None:
    if lead.is_converted:
        when = (
            formats.date_format(timezone.localtime(lead.converted_at), "SHORT_DATE_FORMAT")
            if lead.converted_at
            else ""
        )
        raise LeadAlreadyConvertedError(
            _("This lead was converted (%(when)s) and is read-only.") % {"when": when}
            if when
            else _("This lead was converted and is read-only.")
        )


def _timeline(event: str, lead: Lead, by: Any, data: dict[str, Any], **kwargs: Any) -> None:
    from kehu.audit.services import timeline_record

    timeline_record(event=event, obj=lead, by=by, data=data, **kwargs)


def _clean(data: Mapping[str, Any], current: Lead | None) -> dict[str, Any]:
    """Normalised values, every field's problems reported together (phones, e-mail, tax number,
    region, picklists, status)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = dict(data)
    for check in (
        lambda: values.update(_normalised(data)),
        lambda: _check_region(values, current),
        lambda: _check_picklists(values, current),
        lambda: _check_status(values, current),
    ):
        try:
            check()
        except SalesError as exc:
            for name, messages in exc.fields.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise _invalid(errors)
    return values


def _check_pool(pool: Any) -> Pool:
    from ..choices import PoolKind

    if not isinstance(pool, Pool) or not pool.is_active or pool.kind != PoolKind.LEAD:
        raise _invalid({"pool": [_("Choose an active lead pool.")]})
    return pool


# --- create / update --------------------------------------------------------------------------


@transaction.atomic
def lead_create(
    *, by: Any, data: LeadData, confirmed: bool = False, tags: Iterable[Any] | None = None
) -> Lead:
    """A new lead. Without an `owner` the assignment rules decide (owner or pool; no rule: the
    creator owns it); with a `pool` it goes straight into that pool. `tags` (ids or names) are
    written as the creator's, before the rules run (they may match on tags)."""
    from .assignment import assignment_apply

    _check_keys(data)
    owned.check_action(by, Lead, Action.ADD)
    owned.check_locked_fields(by, Lead, data)
    values = _clean(data, None)
    pool = _check_pool(values["pool"]) if values.get("pool") is not None else None
    requested = values.get("owner")
    owner = owned.resolve_owner(by, Lead, requested)
    lead = Lead(created_by=by)
    owned.apply_values(lead, values, LEAD_FIELDS)
    owned.set_owner(lead, owner)
    lead.owned_since = timezone.now()
    lead.custom = _custom(by, values, None) or {}
    owned.full_clean_or_raise(lead, exclude=_CLEAN_EXCLUDE)
    owned.check_external_id(Lead, lead.external_id)
    _rules(values, lead.custom, None)
    _collisions(by, lead, exclude_pk=None, confirmed=confirmed)
    lead.save()
    if tags:
        tags_set_new(obj=lead, tags=tags, by=by)
    transfer = owner.pk != by.pk
    if pool is not None:
        from .pools import pool_put

        pool_put(pool=pool, records=[lead], by=by)
        transfer = True
    elif requested is None:
        result = assignment_apply(record=lead, by=by)
        if result is not None:
            lead.refresh_from_db()
            transfer = True
    _timeline(CREATED_EVENT, lead, by, {"source": lead.source})
    owned.recheck_scope(by, lead, Action.VIEW, transfer=transfer)
    return lead


@transaction.atomic
def lead_update(
    *, lead: Lead, by: Any, data: LeadData, version: int | None = None, confirmed: bool = False
) -> Lead:
    """Apply `data` (only the fields to change). `version`: the version the user started from."""
    _check_keys(data)
    if "pool" in data:
        raise _invalid({"pool": [_("Use the pool actions to move a lead into a pool.")]})
    current = Lead.objects.select_for_update().get(pk=lead.pk)
    owned.check_action(by, Lead, Action.CHANGE, obj=current)
    _refuse_converted(current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Lead, data, current=current)
    values = _clean(data, current)
    status_before = current.status
    owner = owned.resolve_owner(by, Lead, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    changed = owned.apply_values(current, values, LEAD_FIELDS)
    changed += owned.set_owner(current, owner)
    if "owner" in changed:
        current.owned_since = timezone.now()
        changed.append("owned_since")
    custom = _custom(by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    _rules(values, custom, current)
    if not changed:
        return current
    owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
    if "external_id" in changed:
        owned.check_external_id(Lead, current.external_id, exclude_pk=current.pk)
    _collisions(by, current, exclude_pk=current.pk, confirmed=confirmed, changed=set(changed))
    current.version += 1
    current.save(update_fields=[*set(changed), "version", "updated_at"])
    if current.status != status_before:
        _status_event(current, status_before, by)
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


def _status_event(lead: Lead, before: str, by: Any) -> None:
    data: dict[str, Any] = {"changes": {"status": [before, lead.status]}}
    if lead.unqualified_reason:
        data["changes"]["unqualified_reason"] = ["", lead.unqualified_reason]
    _timeline(STATUS_EVENT, lead, by, data)


def lead_set_status(
    *, lead: Lead, status: str, by: Any, reason: str = "", version: int | None = None
) -> Lead:
    """Move the lead to another status (new, contacting, qualified, unqualified with a reason from
    the picklist ``lead_unqualified_reason``); records "lead.status_changed"."""
    data: LeadData = {"status": status}
    if status == LeadStatus.UNQUALIFIED:
        data["unqualified_reason"] = reason
    return lead_update(lead=lead, by=by, data=data, version=version)


@transaction.atomic
def lead_record_activity(*, lead: Lead, by: Any, at: dt.datetime) -> None:
    """Someone followed the lead up at `at` (an interaction logged by the activities app): its
    "last contact" moves forward (never backward; pool recycling counts from it), and a new lead
    becomes "contacting" when the user may change it (recorded as "lead.status_changed")."""
    Lead.objects.filter(pk=lead.pk).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
    ).update(last_activity_at=at)
    current = Lead.objects.get(pk=lead.pk)
    if (
        current.status == LeadStatus.NEW
        and can(by, Lead, Action.CHANGE)
        and "status" not in readonly_fields(by, Lead)
        and Lead.objects.restrict(by, Action.CHANGE).filter(pk=current.pk).exists()
    ):
        lead_set_status(lead=current, status=LeadStatus.CONTACTING, by=by)


@transaction.atomic
def lead_delete(*, lead: Lead, by: Any) -> None:
    current = Lead.objects.select_for_update().get(pk=lead.pk)
    owned.check_action(by, Lead, Action.DELETE, obj=current)
    _refuse_converted(current)
    from kehu.tags.services import tags_forget

    pk = current.pk
    current.delete()
    tags_forget(model=Lead, ids=[pk])


# --- conversion -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConversionResult:
    lead: Lead
    account: Any  # Account
    contact: Any  # Contact | None
    opportunity: Any  # Opportunity | None
    account_created: bool
    contact_created: bool


def carried_custom(lead: Lead, target_model: str) -> dict[str, Any]:
    """The lead's custom values the admin's mapping (`ConversionFieldMap`) carries over to
    `target_model` ("customers.account", "customers.contact", "sales.opportunity"): only to active
    custom fields of the target and only non-empty values."""
    maps = ConversionFieldMap.objects.filter(target_model=target_model)
    if not maps:
        return {}
    targets = {f.name for f in custom_fields_for(target_model)}
    out: dict[str, Any] = {}
    for m in maps:
        value = (lead.custom or {}).get(m.lead_field)
        if value in (None, "", [], {}) or m.target_field not in targets:
            continue
        out[m.target_field] = value
    return out


def _account_data(lead: Lead, by: Any) -> dict[str, Any]:
    from kehu.customers.models import Account

    data: dict[str, Any] = {
        "kind": "company" if lead.company else "person",
        "name": lead.company or lead.name,
        "source": lead.source,
        "website": lead.website,
        "tax_number": lead.tax_number,
        "address": lead.address,
        **{n: getattr(lead, n) for n in _REGION},
    }
    if not lead.company:
        # A person lead becomes a person account with the person's ways to reach them; a company
        # lead's phone and e-mail are the person's, so they go on the contact.
        data.update(phone=lead.mobile or lead.phone, email=lead.email, wechat=lead.wechat)
    # The lead's owner keeps the customer when the converting user may hand records over; else the
    # converting user does (named explicitly: the account assignment rules do not re-deal it).
    if lead.owner_id and lead.owner_id != by.pk and can(by, Account, Action.ASSIGN):
        data["owner"] = lead.owner
    else:
        data["owner"] = by
    custom = carried_custom(lead, "customers.account")
    if custom:
        data["custom"] = custom
    return {k: v for k, v in data.items() if v not in ("", None)}


def _contact_data(lead: Lead, account: Any, by: Any) -> dict[str, Any]:
    from kehu.customers.models import Contact

    data: dict[str, Any] = {
        "account": account,
        "name": lead.name,
        "title": lead.title,
        "mobile": lead.mobile,
        "phone": lead.phone if lead.phone != lead.mobile else "",
        "email": lead.email,
        "wechat": lead.wechat,
    }
    if lead.owner_id and lead.owner_id != by.pk and can(by, Contact, Action.ASSIGN):
        data["owner"] = lead.owner
    custom = carried_custom(lead, "customers.contact")
    if custom:
        data["custom"] = custom
    return {k: v for k, v in data.items() if v not in ("", None)}


def _visible_account(by: Any, account: Any) -> Any:
    from kehu.customers.models import Account

    found = Account.objects.restrict(by, Action.VIEW).filter(pk=getattr(account, "pk", None)).first()
    if found is None:
        raise _invalid({"account": [_("Choose an account you can see.")]})
    return found


def _visible_contact(by: Any, contact: Any, account: Any) -> Any:
    from kehu.customers.models import AccountContactRelation, Contact

    found = Contact.objects.restrict(by, Action.VIEW).filter(pk=getattr(contact, "pk", None)).first()
    if found is None:
        raise _invalid({"contact": [_("Choose a contact you can see.")]})
    works_there = (
        found.account_id == account.pk
        or AccountContactRelation.objects.filter(contact=found, account=account).exists()
    )
    if not works_there:
        raise _invalid({"contact": [_("Choose a contact of the chosen account.")]})
    return found


def _with_confirmation(fn: Any, confirmed: bool, **kwargs: Any) -> Any:
    """Call a customers service, passing the user's collision confirmation when it takes one."""
    if "confirmed" in inspect.signature(fn).parameters:
        kwargs["confirmed"] = confirmed
    return fn(**kwargs)


@transaction.atomic
def lead_convert(
    *,
    lead: Lead,
    by: Any,
    account: Any = None,
    contact: Any = None,
    create_contact: bool | None = None,
    create_opportunity: bool = False,
    pipeline: Pipeline | None = None,
    opportunity_name: str = "",
    amount: Decimal | None = None,
    currency: str | None = None,
    expected_close_date: dt.date | None = None,
    version: int | None = None,
    confirmed: bool = False,
) -> ConversionResult:
    """Convert a qualified lead: into `account` (an existing one the user may see, e.g. a match of
    the collision check) or a new account made from the lead; into `contact` (an existing contact
    of that account) or a new one (`create_contact`; by default only for a lead with a company: a
    person lead becomes a person account); and, with
    `create_opportunity`, a new opportunity in `pipeline` (default: the default pipeline).

    The lead is locked first, so a second conversion (parallel or later) answers 409. The lead
    becomes "converted", keeps links to what it became and is read-only from then on. Custom
    fields carry over through the admin's `ConversionFieldMap`. `confirmed`: the user saw the
    collision check's matches and chose to create new records anyway. Recorded as "lead.converted" on
    the lead's and the account's timelines."""
    from kehu.customers.services import account_create, contact_create

    from .opportunities import opportunity_create

    current = Lead.objects.select_for_update().get(pk=lead.pk)
    owned.check_action(by, Lead, Action.CHANGE, obj=current)
    if current.is_converted:
        raise LeadAlreadyConvertedError(_("This lead has already been converted."))
    owned.check_version(current, version)
    if not current.can_convert():
        raise LeadNotQualifiedError(
            _("Only a qualified lead can be converted. Mark it as qualified first."),
            fields={"status": [_("The lead is not qualified.")]},
        )
    if amount is not None and amount < 0:
        raise _invalid({"amount": [_("The amount cannot be negative.")]})

    # The lead stops being a live record first: the collision check of the account and contact
    # made from it must not find the lead itself (converted leads have no match keys).
    status_before = current.status
    current.status = LeadStatus.CONVERTED
    current.save(update_fields=["status", "updated_at"])

    account_created = contact_created = False
    if account is not None:
        account = _visible_account(by, account)
    else:
        account = _with_confirmation(account_create, confirmed, by=by, data=_account_data(current, by))
        account_created = True

    if contact is not None:
        contact = _visible_contact(by, contact, account)
    elif create_contact if create_contact is not None else bool(current.company):
        contact = _with_confirmation(
            contact_create, confirmed, by=by, data=_contact_data(current, account, by)
        )
        contact_created = True

    opportunity = None
    if create_opportunity:
        name = (opportunity_name or "").strip() or (current.company or current.name)
        opp_data: dict[str, Any] = {"source": current.source}
        if expected_close_date is not None:
            opp_data["expected_close_date"] = expected_close_date
        custom = carried_custom(current, "sales.opportunity")
        if custom:
            opp_data["custom"] = custom
        opportunity = opportunity_create(
            by=by,
            account=account,
            name=name[:200],
            pipeline=pipeline,
            amount=amount if amount is not None else Decimal("0"),
            currency=currency,
            owner=current.owner if current.owner_id and current.owner_id != by.pk else None,
            lead=current,
            contact=contact,
            data=opp_data,
        )

    current.converted_at = timezone.now()
    current.converted_by = by
    current.converted_account = account
    current.converted_contact = contact
    current.converted_opportunity = opportunity
    current.version += 1
    current.save(
        update_fields=[
            "converted_at",
            "converted_by",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
            "version",
            "updated_at",
        ]
    )
    data: dict[str, Any] = {
        "changes": {"status": [status_before, LeadStatus.CONVERTED]},
        "account": {"id": account.pk, "repr": str(account), "created": account_created},
    }
    if contact is not None:
        data["contact"] = {"id": contact.pk, "repr": str(contact), "created": contact_created}
    if opportunity is not None:
        data["opportunity"] = {"id": opportunity.pk, "repr": str(opportunity)}
    _timeline(
        CONVERTED_EVENT,
        current,
        by,
        data,
        account_id=account.pk,
        contact_id=contact.pk if contact is not None else None,
    )
    result = ConversionResult(
        lead=current,
        account=account,
        contact=contact,
        opportunity=opportunity,
        account_created=account_created,
        contact_created=contact_created,
    )
    for fn in CONVERTED_CALLBACKS:
        fn(result=result, by=by)
    return result


# --- bulk actions (the lead list's menu; kehu.core.bulk runs them batch by batch) --------------


def _bulk(ids: list[int], by: Any, action: str, fn: Any) -> Any:
    """Run `fn(lead)` for each lead of `ids` within the user's `action` scope, each through the
    single-record service (same rules, audited like a single edit); refusals are reported per
    row, the others still run."""
    from kehu.core.bulk import BulkResult

    leads = list(Lead.objects.restrict(by, action).filter(pk__in=ids).order_by("pk"))
    result = BulkResult(skipped=len(set(ids)) - len(leads))
    for lead in leads:
        try:
            with transaction.atomic():
                fn(lead)
        except DomainError as exc:
            result.fail(lead.pk, str(lead), exc.message)
        else:
            result.done += 1
    return result


def leads_change_owner(*, ids: list[int], owner: Any, by: Any, job: Any = None) -> Any:
    """Give the leads `ids` (those the user may assign) to `owner`."""
    if owner is None or not getattr(owner, "is_active", False):
        raise DomainError(
            _("The owner must be an active user."), fields={"owner": [_("Not an active user.")]}
        )
    return _bulk(ids, by, Action.ASSIGN, lambda lead: lead_update(lead=lead, by=by, data={"owner": owner}))


def leads_set_status(*, ids: list[int], status: str, by: Any, reason: str = "", job: Any = None) -> Any:
    """Set the status of the leads `ids` the user may change (converted leads are refused)."""
    if status not in LeadStatus.values or status == LeadStatus.CONVERTED:
        raise _invalid({"status": [_("Choose a status from the list.")]})
    if status == LeadStatus.UNQUALIFIED and not _in_picklist("lead_unqualified_reason", reason or "-"):
        raise _invalid({"reason": [_("Choose why the leads are unqualified.")]})
    return _bulk(
        ids, by, Action.CHANGE, lambda lead: lead_set_status(lead=lead, status=status, by=by, reason=reason)
    )


def leads_delete(*, ids: list[int], by: Any, job: Any = None) -> Any:
    """Delete the leads the user may delete (converted leads are refused, as single deletes are)."""
    return _bulk(ids, by, Action.DELETE, lambda lead: lead_delete(lead=lead, by=by))


# --- the conversion mapping (administration) ------------------------------------------------------


def _require_admin(by: Any) -> None:
    from kehu.core.errors import PermissionDeniedError
    from kehu.core.permissions import is_admin

    if not is_admin(by):
        raise PermissionDeniedError(_("Only administrators may change the conversion mapping."))


@transaction.atomic
def conversion_map_set(
    *, by: Any, lead_field: str, target_model: str, target_field: str
) -> ConversionFieldMap:
    """Carry the lead's custom field `lead_field` over into `target_field` of `target_model` on
    conversion (one target field per lead field and target model: setting it again replaces it)."""
    _require_admin(by)
    errors: dict[str, list[str]] = {}
    if lead_field not in {f.name for f in custom_fields_for(Lead)}:
        errors["lead_field"] = [_("Choose a custom field of leads.")]
    if target_model not in dict(ConversionFieldMap.TARGETS):
        errors["target_model"] = [_("Choose the account, the contact or the opportunity.")]
    elif target_field not in {f.name for f in custom_fields_for(target_model)}:
        errors["target_field"] = [_("Choose a custom field of the chosen record.")]
    if errors:
        raise _invalid(errors)
    row, _created = ConversionFieldMap.objects.update_or_create(
        lead_field=lead_field, target_model=target_model, defaults={"target_field": target_field}
    )
    return row


@transaction.atomic
def conversion_map_delete(*, by: Any, pk: int) -> None:
    _require_admin(by)
    ConversionFieldMap.objects.filter(pk=pk).delete()
