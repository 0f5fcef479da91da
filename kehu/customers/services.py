"""Writes of accounts and contacts. Forms, the API and (later) imports all come through here.

Every function is keyword-only, typed and atomic, and applies the owned-record rules of
`kehu.core.owned` (scope, optimistic lock, field permissions, owner/assign, department from the
owner, the re-check after the write). Phones and e-mails are normalised with
`kehu.core.validators`; picklist fields must hold values of their picklist; custom fields are
validated by `kehu.customfields.services.custom_values_clean`; the data collection standards by
`kehu.customfields.rules.rules_check`, which also scores `completeness`.

Typed lists (`phones`, `emails`, `addresses`) replace the record's whole list when given; exactly
one row is primary (the first when none is marked). `Account.phone/email/address` and
`Contact.phone/mobile/email` are the denormalised primary values, written only here. A plain
`phone`/`email`/`mobile` value (older callers, imports) edits the primary (or first mobile) row.

A contact works with one or more accounts (`AccountContactRelation`, a role at each); its
`account` is the direct one and always has a relation with `is_direct` set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core import assigners, checks, owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError, PermissionDeniedError
from kehu.core.permissions import readonly_fields
from kehu.core.validators import normalise_email, normalise_phone
from kehu.customfields.rules import completeness, rules_check
from kehu.customfields.selectors import picklist_items
from kehu.customfields.services import custom_values_clean
from kehu.tags.services import tags_set_new

from .choices import CONTACT_ROLE_PICKLIST, PICKLIST_FIELDS, AddressKind, EmailKind, LifecycleStage, PhoneKind
from .models import (
    Account,
    AccountAddress,
    AccountContactRelation,
    AccountEmail,
    AccountPhone,
    Contact,
    ContactEmail,
    ContactPhone,
)
from .regions import CHINA, region_errors
from .validators import normalise_tax_number

LIFECYCLE_EVENT = "account.lifecycle_changed"
MAX_ROWS = 20  # phones / e-mails / addresses per record
MAX_PARENT_DEPTH = 50


class CustomersError(DomainError):
    code = "customers_invalid"


class AccountHasContactsError(ConflictError):
    code = "account_has_contacts"


class AccountHasChildrenError(ConflictError):
    code = "account_has_children"


class DuplicateRelationError(ConflictError):
    code = "duplicate_relation"


class PhoneRow(TypedDict, total=False):
    kind: str
    number: str
    is_primary: bool


class EmailRow(TypedDict, total=False):
    kind: str
    email: str
    is_primary: bool


class AddressRow(TypedDict, total=False):
    kind: str
    country: str
    province: str
    city: str
    district: str
    street: str
    postcode: str
    is_primary: bool


class RelationRow(TypedDict, total=False):
    account: Account
    role: str
    start_date: dt.date | None
    end_date: dt.date | None


class AccountData(TypedDict, total=False):
    external_id: str  # the record's id in another system (unique when set)
    kind: str
    name: str
    short_name: str
    phone: str
    email: str
    website: str
    industry: str
    source: str
    level: str
    address: str
    notes: str
    is_active: bool
    country: str
    province: str
    city: str
    district: str
    wechat: str
    tax_number: str
    lifecycle_stage: str
    parent: Account | None
    owner: Any  # User
    custom: dict[str, Any]
    phones: list[PhoneRow]
    emails: list[EmailRow]
    addresses: list[AddressRow]


class ContactData(TypedDict, total=False):
    external_id: str  # the record's id in another system (unique when set)
    account: Account
    name: str
    title: str
    phone: str
    mobile: str
    email: str
    wechat: str
    is_primary: bool
    notes: str
    gender: str
    birthday: dt.date | None
    preferred_channel: str
    do_not_call: bool
    do_not_email: bool
    do_not_sms: bool
    do_not_wechat: bool
    do_not_visit: bool
    owner: Any  # User
    custom: dict[str, Any]
    phones: list[PhoneRow]
    emails: list[EmailRow]
    role: str  # role at the direct account
    relations: list[RelationRow]  # the other accounts


_SPECIAL = frozenset(
    {"owner", "custom", "account", "parent", "phones", "emails", "addresses", "relations", "role"}
)
ACCOUNT_FIELDS = frozenset(AccountData.__annotations__) - _SPECIAL
CONTACT_FIELDS = frozenset(ContactData.__annotations__) - _SPECIAL
_PHONE_FIELDS = ("phone", "mobile")
_NOT_TRIMMED = ("notes",)
# Validated through their own rules, not Model.full_clean (foreign keys would cost a query each).
_CLEAN_EXCLUDE = ("owner", "department", "created_by", "account", "custom", "parent")


def _invalid(fields: dict[str, list[str]]) -> CustomersError:
    return CustomersError(_("Some fields are not valid."), fields=fields)


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed - _SPECIAL
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


# Typed lists follow the field permissions of their plain (primary) fields.
_LIST_LOCKS = {"phones": ("phone", "mobile"), "emails": ("email",), "addresses": ("address",)}


def _check_locked_lists(by: Any, model: type[models.Model], data: Mapping[str, Any]) -> None:
    locked = set(readonly_fields(by, model))
    errors = {
        name: [_("You may not change this field.")]
        for name, plain in _LIST_LOCKS.items()
        if name in data and locked.intersection(plain)
    }
    if errors:
        raise PermissionDeniedError(_("Some fields may not be changed by you."), fields=errors, status=400)


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


def _check_picklists(data: Mapping[str, Any], current: Account | None) -> None:
    """industry / source / level hold the value of an item of their picklist (an inactive item is
    accepted only when the record already has it). A picklist that does not exist is not checked."""
    errors: dict[str, list[str]] = {}
    for name, code in PICKLIST_FIELDS.items():
        value = data.get(name)
        if not value or (current is not None and getattr(current, name) == value):
            continue
        if not _in_picklist(code, value):
            errors[name] = [_("Choose a value from the list.")]
    if errors:
        raise _invalid(errors)


def _in_picklist(code: str, value: str) -> bool:
    items = picklist_items(code)
    return not items or value in {i.value for i in items if i.is_active}


def _check_region(values: dict[str, Any], current: Any = None, prefix: str = "") -> dict[str, list[str]]:
    """Validate the region of `values` (merged over `current`); a province implies China."""
    names = ("country", "province", "city", "district")
    if not any(n in values for n in names):
        return {}
    region = {n: values.get(n, getattr(current, n, "") if current is not None else "") or "" for n in names}
    region = {n: str(v).strip().upper() if n == "country" else str(v).strip() for n, v in region.items()}
    if region["province"] and not region["country"]:
        region["country"] = CHINA
    errors = region_errors(**region)
    if not errors:
        values.update(region)
    return {f"{prefix}{k}": v for k, v in errors.items()}


def _custom(
    model: type[Account] | type[Contact], by: Any, data: Mapping[str, Any], current: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The new `custom` dict, or None when the write does not touch custom fields (update)."""
    if "custom" not in data and current is not None:
        return None
    locked = {f.removeprefix("custom.") for f in readonly_fields(by, model) if f.startswith("custom.")}
    return custom_values_clean(
        model=model,
        values=data.get("custom") or {},
        instance_values=current,
        partial=current is not None,
        exclude=locked,
    )


def _rules(model: type[models.Model], values: Mapping[str, Any], custom: Any, instance: Any) -> None:
    standard = {
        k: v for k, v in values.items() if k not in ("custom", "phones", "emails", "addresses", "relations")
    }
    if custom is not None:
        standard["custom"] = custom
    rules_check(model=model, values=standard, instance=instance, partial=instance is not None)


# --- typed lists (phones, e-mails, addresses) -------------------------------------------------


def _primary_rule(rows: list[dict[str, Any]], key: str, what: str) -> None:
    if len(rows) > MAX_ROWS:
        raise _invalid({key: [_("At most %(count)d rows.") % {"count": MAX_ROWS}]})
    primaries = [r for r in rows if r.get("is_primary")]
    if len(primaries) > 1:
        raise _invalid({key: [_("Mark only one %(what)s as primary.") % {"what": what}]})
    for r in rows:
        r["is_primary"] = bool(r.get("is_primary"))
    if rows and not primaries:
        rows[0]["is_primary"] = True


def _kind(value: Any, choices: Any, default: str) -> str | None:
    value = str(value or default)
    return value if value in choices.values else None


def _clean_phone_rows(rows: Sequence[Mapping[str, Any]], key: str = "phones") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for row in rows:
        try:
            number = normalise_phone(str(row.get("number") or ""))
        except ValidationError as exc:
            errors += [str(m) for m in exc.messages]
            continue
        if not number:
            continue
        kind = _kind(row.get("kind"), PhoneKind, PhoneKind.WORK)
        if kind is None:
            errors.append(_("“%(value)s” is not a valid phone type.") % {"value": str(row.get("kind"))[:20]})
            continue
        if number in seen:
            errors.append(_("%(value)s is listed twice.") % {"value": number})
            continue
        seen.add(number)
        out.append({"kind": kind, "number": number, "is_primary": bool(row.get("is_primary"))})
    if errors:
        raise _invalid({key: errors})
    _primary_rule(out, key, _("phone"))
    return out


def _clean_email_rows(rows: Sequence[Mapping[str, Any]], key: str = "emails") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for row in rows:
        raw = str(row.get("email") or "")
        try:
            email = normalise_email(raw)
        except ValidationError:
            errors.append(_("“%(value)s” is not a valid e-mail address.") % {"value": raw[:80]})
            continue
        if not email:
            continue
        if len(email) > 254:
            errors.append(_("An e-mail address has at most 254 characters."))
            continue
        kind = _kind(row.get("kind"), EmailKind, EmailKind.WORK)
        if kind is None:
            errors.append(_("“%(value)s” is not a valid e-mail type.") % {"value": str(row.get("kind"))[:20]})
            continue
        if email in seen:
            errors.append(_("%(value)s is listed twice.") % {"value": email})
            continue
        seen.add(email)
        out.append({"kind": kind, "email": email, "is_primary": bool(row.get("is_primary"))})
    if errors:
        raise _invalid({key: errors})
    _primary_rule(out, key, _("e-mail address"))
    return out


_ADDRESS_FIELDS = ("kind", "country", "province", "city", "district", "street", "postcode", "is_primary")


def _clean_address_rows(rows: Sequence[Mapping[str, Any]], key: str = "addresses") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    errors: list[str] = []
    for i, row in enumerate(rows, start=1):
        values = {n: str(row.get(n) or "").strip() for n in _ADDRESS_FIELDS if n != "is_primary"}
        if not any(values[n] for n in ("country", "province", "city", "district", "street", "postcode")):
            continue
        kind = _kind(values["kind"], AddressKind, AddressKind.OFFICE)
        if kind is None:
            errors.append(_("Row %(row)d: choose an address type from the list.") % {"row": i})
            continue
        values["kind"] = kind
        if len(values["street"]) > 300:
            errors.append(_("Row %(row)d: the street address has at most 300 characters.") % {"row": i})
        if len(values["postcode"]) > 16:
            errors.append(_("Row %(row)d: the postcode has at most 16 characters.") % {"row": i})
        region_problems = _check_region(values)
        for messages in region_problems.values():
            errors += [_("Row %(row)d: %(message)s") % {"row": i, "message": m} for m in messages]
        values["is_primary"] = bool(row.get("is_primary"))  # type: ignore[assignment]
        out.append(values)
    if errors:
        raise _invalid({key: errors})
    _primary_rule(out, key, _("address"))
    return out


def _row_values(rows: Iterable[models.Model], fields: Sequence[str]) -> list[dict[str, Any]]:
    return [{f: getattr(r, f) for f in fields} for r in rows]


def _sync_rows(
    model: type[models.Model],
    parent_field: str,
    parent: models.Model,
    desired: list[dict[str, Any]],
    fields: Sequence[str],
) -> bool:
    """Make the parent's rows equal `desired` (in display order), with single-row saves the audit
    recorder sees; returns whether anything changed."""
    existing = list(
        model._default_manager.select_for_update()
        .filter(**{parent_field: parent})
        .order_by("-is_primary", "id")
    )
    if _row_values(existing, fields) == desired:
        return False
    keep = existing[: len(desired)]
    for row in existing[len(desired) :]:
        row.delete()
    # A primary that stops being primary first (one primary per parent, checked at once).
    for row, want in zip(keep, desired, strict=False):
        if row.is_primary and not want["is_primary"]:  # type: ignore[attr-defined]
            row.is_primary = False  # type: ignore[attr-defined]
            row.save(update_fields=["is_primary"])
    for row, want in zip(keep, desired, strict=False):
        changed = [f for f in fields if getattr(row, f) != want[f]]
        if changed:
            for f in changed:
                setattr(row, f, want[f])
            row.save(update_fields=changed)
    for want in desired[len(keep) :]:
        model._default_manager.create(**{parent_field: parent}, **want)
    return True


def _current_rows(
    model: type[models.Model], parent_field: str, parent: Any, fields: Sequence[str]
) -> list[dict[str, Any]]:
    if parent is None or parent.pk is None:
        return []
    return _row_values(
        model._default_manager.filter(**{parent_field: parent}).order_by("-is_primary", "id"), fields
    )


def _with_primary(rows: list[dict[str, Any]], key: str, value: str, kind: str) -> list[dict[str, Any]]:
    """`rows` with the primary row's `key` set to `value` (added when missing, removed when empty)."""
    rows = [dict(r) for r in rows]
    primary = next((r for r in rows if r["is_primary"]), None)
    if not value:
        if primary is not None:
            rows.remove(primary)
            if rows:
                rows[0]["is_primary"] = True
    elif primary is not None:
        primary[key] = value
    elif not any(r[key] == value for r in rows):
        rows.insert(0, {"kind": kind, key: value, "is_primary": True})
    else:
        for r in rows:
            r["is_primary"] = r[key] == value
    # a value listed twice after the edit: keep the first
    seen: set[str] = set()
    unique = []
    for r in rows:
        if r[key] not in seen:
            seen.add(r[key])
            unique.append(r)
    return unique


def _with_mobile(rows: list[dict[str, Any]], value: str) -> list[dict[str, Any]]:
    rows = [dict(r) for r in rows]
    mobile = next(
        (r for r in sorted(rows, key=lambda r: not r["is_primary"]) if r["kind"] == PhoneKind.MOBILE), None
    )
    if not value:
        if mobile is not None:
            rows.remove(mobile)
            if rows and not any(r["is_primary"] for r in rows):
                rows[0]["is_primary"] = True
    elif mobile is not None:
        mobile["number"] = value
    elif not any(r["number"] == value for r in rows):
        rows.append({"kind": PhoneKind.MOBILE, "number": value, "is_primary": not rows})
    return rows


_PHONE_ROW = ("kind", "number", "is_primary")
_EMAIL_ROW = ("kind", "email", "is_primary")


def _phones_and_emails(
    values: dict[str, Any],
    obj: Any,
    phone_model: type[models.Model],
    email_model: type[models.Model],
    fk: str,
) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """The desired phone and e-mail rows after this write (None: untouched), from the typed lists
    or the plain primary values."""
    phones = emails = None
    if "phones" in values:
        phones = _clean_phone_rows(values["phones"] or [])
    elif "phone" in values or "mobile" in values:
        phones = _current_rows(phone_model, fk, obj, _PHONE_ROW)
        if "phone" in values:
            phones = _with_primary(phones, "number", values["phone"], PhoneKind.WORK)
        if "mobile" in values:
            phones = _with_mobile(phones, values["mobile"])
    if "emails" in values:
        emails = _clean_email_rows(values["emails"] or [])
    elif "email" in values:
        emails = _with_primary(
            _current_rows(email_model, fk, obj, _EMAIL_ROW), "email", values["email"], EmailKind.WORK
        )
    return phones, emails


def _primary_value(rows: list[dict[str, Any]], key: str) -> str:
    return next((str(r[key]) for r in rows if r["is_primary"]), "")


def _denormalise(
    obj: Any, phones: list[dict[str, Any]] | None, emails: list[dict[str, Any]] | None
) -> list[str]:
    changed = []
    if phones is not None:
        wanted = {"phone": _primary_value(phones, "number")}
        if isinstance(obj, Contact):
            mobiles = sorted(
                (r for r in phones if r["kind"] == PhoneKind.MOBILE), key=lambda r: not r["is_primary"]
            )
            wanted["mobile"] = str(mobiles[0]["number"]) if mobiles else ""
        for name, value in wanted.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed.append(name)
    if emails is not None:
        value = _primary_value(emails, "email")
        if obj.email != value:
            obj.email = value
            changed.append("email")
    return changed


def _legacy_address(line: str) -> list[dict[str, Any]]:
    """A plain `address` line (older callers, imports) becomes the primary address row."""
    row: dict[str, Any] = dict.fromkeys(_ADDRESS_FIELDS, "")
    row.update(kind=str(AddressKind.OFFICE), street=line[:300], is_primary=True)
    return [row]


def _address_line(rows: list[dict[str, Any]]) -> str:
    primary = next((r for r in rows if r["is_primary"]), None)
    if primary is None:
        return ""
    with translation.override("zh-hans"):  # the stored line is in Chinese, whoever saved it
        return AccountAddress(**primary).one_line()[:500]


# --- accounts ---------------------------------------------------------------------------------


def _check_parent(by: Any, account_pk: int | None, parent: Any) -> None:
    """The parent must be an account the user may view and may not be the account or one of its
    descendants (no cycles in a group of companies)."""
    if parent is None:
        return
    if not Account.objects.restrict(by, Action.VIEW).filter(pk=parent.pk).exists():
        raise _invalid({"parent": [_("Choose an account you can see.")]})
    if account_pk is None:
        return
    if parent.pk == account_pk:
        raise _invalid({"parent": [_("An account cannot be its own parent.")]})
    current: int | None = parent.pk
    seen: set[int] = set()
    for _level in range(MAX_PARENT_DEPTH):
        current = Account.objects.filter(pk=current).values_list("parent_id", flat=True).first()  # type: ignore[misc]
        if current is None or current in seen:
            return
        if current == account_pk:
            raise _invalid(
                {
                    "parent": [
                        _("“%(name)s” belongs to this account’s group already: that would be a cycle.")
                        % {"name": parent.name}
                    ]
                }
            )
        seen.add(current)
    raise _invalid({"parent": [_("The group of companies is nested too deeply.")]})


def _account_values(values: dict[str, Any], current: Account | None) -> None:
    errors = _check_region(values, current)
    if "lifecycle_stage" in values and values["lifecycle_stage"] not in LifecycleStage.values:
        errors["lifecycle_stage"] = [_("Choose a lifecycle stage from the list.")]
    if errors:
        raise _invalid(errors)
    _check_picklists(values, current)


def _save_account_lists(
    by: Any,
    account: Account,
    values: Mapping[str, Any],
    phones: list[dict[str, Any]] | None,
    emails: list[dict[str, Any]] | None,
    addresses: list[dict[str, Any]] | None,
) -> bool:
    changed = False
    if phones is not None:
        changed |= _sync_rows(AccountPhone, "account", account, phones, _PHONE_ROW)
    if emails is not None:
        changed |= _sync_rows(AccountEmail, "account", account, emails, _EMAIL_ROW)
    if addresses is not None:
        changed |= _sync_rows(AccountAddress, "account", account, addresses, _ADDRESS_FIELDS)
    return changed


def _write_checks(
    label: str,
    values: Mapping[str, Any],
    phones: list[dict[str, Any]] | None,
    emails: list[dict[str, Any]] | None,
    *,
    pk: int | None,
    by: Any,
    confirmed: bool,
    **extra: Any,
) -> None:
    """The checks higher apps register (``kehu.core.checks``; the dedup app's collision check
    撞单检查): the phones, e-mails, name and tax number being written. `confirmed`: the user chose to
    save despite the warnings."""
    data: dict[str, Any] = {k: values[k] for k in ("name", "tax_number") if k in values}
    if phones is not None:
        data["phones"] = [r["number"] for r in phones]
    if emails is not None:
        data["emails"] = [r["email"] for r in emails]
    data.update(extra)
    checks.run_write_checks(model_label=label, values=data, exclude_pk=pk, by=by, confirmed=confirmed)


def _lifecycle_event(account: Account, before: str, by: Any) -> None:
    from kehu.audit.services import timeline_record

    timeline_record(
        event=LIFECYCLE_EVENT,
        obj=account,
        by=by,
        account_id=account.pk,
        data={"changes": {"lifecycle_stage": [before, account.lifecycle_stage]}},
    )


@transaction.atomic
def account_create(
    *, by: Any, data: AccountData, confirmed: bool = False, tags: Iterable[Any] | None = None
) -> Account:
    """A new account. Without an `owner` the registered assignment rules decide (owner or pool;
    no rule: the creator owns it), see `kehu.core.assigners`. `tags` (ids or names) are written
    as the creator's, before the rules run (they may match on tags and hand the account out of
    the creator's scope)."""
    _check_keys(data, ACCOUNT_FIELDS)
    owned.check_action(by, Account, Action.ADD)
    owned.check_locked_fields(by, Account, data)
    _check_locked_lists(by, Account, data)
    values = _normalised(data)
    _account_values(values, None)
    phones, emails = _phones_and_emails(values, None, AccountPhone, AccountEmail, "account")
    addresses = _clean_address_rows(values["addresses"] or []) if "addresses" in values else None
    if addresses is None and values.get("address"):
        addresses = _legacy_address(values["address"])
    _check_parent(by, None, values.get("parent"))
    owner = owned.resolve_owner(by, Account, values.get("owner"))
    account = Account(created_by=by, parent=values.get("parent"))
    owned.apply_values(account, values, ACCOUNT_FIELDS)
    _denormalise(account, phones, emails)
    if addresses is not None:
        account.address = _address_line(addresses)
    owned.set_owner(account, owner)
    account.custom = _custom(Account, by, values, None) or {}
    owned.full_clean_or_raise(account, exclude=_CLEAN_EXCLUDE)
    owned.check_external_id(Account, account.external_id)
    _rules(Account, values, account.custom, None)
    _write_checks(
        "customers.account", values, phones, emails, pk=None, by=by, confirmed=confirmed, kind=account.kind
    )
    account.lifecycle_changed_at = timezone.now()
    account.completeness = completeness(model=Account, obj=account)
    account.save()
    _save_account_lists(by, account, values, phones, emails, addresses)
    if tags:
        tags_set_new(obj=account, tags=tags, by=by)
    transfer = owner.pk != by.pk
    # No owner chosen: the assignment rules a higher app registered decide (owner or pool, the rule
    # that fired on the timeline); no matching rule leaves it with the creator.
    if values.get("owner") is None and assigners.assign_new_record(record=account, by=by):
        account.refresh_from_db()
        transfer = True
    owned.recheck_scope(by, account, Action.VIEW, transfer=transfer)
    return account


@transaction.atomic
def account_update(
    *, account: Account, by: Any, data: AccountData, version: int | None = None, confirmed: bool = False
) -> Account:
    """Apply `data` (only the fields to change). `version`: the version the user started from;
    `confirmed`: save despite collision warnings."""
    _check_keys(data, ACCOUNT_FIELDS)
    current = Account.objects.select_for_update().get(pk=account.pk)
    owned.check_action(by, Account, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Account, data, current=current)
    _check_locked_lists(by, Account, data)
    values = _normalised(data)
    _account_values(values, current)
    phones, emails = _phones_and_emails(values, current, AccountPhone, AccountEmail, "account")
    addresses = _clean_address_rows(values["addresses"] or []) if "addresses" in values else None
    if addresses is None and values.get("address") and not current.addresses.exists():
        addresses = _legacy_address(values["address"])
    owner = owned.resolve_owner(by, Account, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    stage_before = current.lifecycle_stage
    changed = owned.apply_values(current, values, ACCOUNT_FIELDS)
    changed += _denormalise(current, phones, emails)
    if addresses is not None:
        line = _address_line(addresses)
        if line != current.address:
            current.address = line
            changed.append("address")
    if "parent" in values and getattr(values["parent"], "pk", None) != current.parent_id:
        _check_parent(by, current.pk, values["parent"])
        current.parent = values["parent"]
        changed.append("parent")
    changed += owned.set_owner(current, owner)
    if "external_id" in changed:
        owned.check_external_id(Account, current.external_id, exclude_pk=current.pk)
    custom = _custom(Account, by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    _rules(Account, values, custom, current)
    label = "customers.account"
    _write_checks(label, values, phones, emails, pk=current.pk, by=by, confirmed=confirmed, kind=current.kind)
    lists_changed = _save_account_lists(by, current, values, phones, emails, addresses)
    if not changed:
        if lists_changed:
            current.version += 1
            current.save(update_fields=["version", "updated_at"])
        return current
    owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
    if "lifecycle_stage" in changed:
        current.lifecycle_changed_at = timezone.now()
        changed.append("lifecycle_changed_at")
    score = completeness(model=Account, obj=current)
    if score != current.completeness:
        current.completeness = score
        changed.append("completeness")
    current.version += 1
    current.save(update_fields=[*set(changed), "version", "updated_at"])
    if "lifecycle_stage" in changed:
        _lifecycle_event(current, stage_before, by)
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


def account_set_lifecycle(*, account: Account, stage: str, by: Any, version: int | None = None) -> Account:
    """Move the account to another lifecycle stage (records "account.lifecycle_changed")."""
    return account_update(account=account, by=by, data={"lifecycle_stage": stage}, version=version)


@transaction.atomic
def account_delete(*, account: Account, by: Any) -> None:
    current = Account.objects.select_for_update().get(pk=account.pk)
    owned.check_action(by, Account, Action.DELETE, obj=current)
    count = Contact.objects.filter(account=current).count()
    if count:
        raise AccountHasContactsError(
            _("“%(name)s” still has %(count)d contact(s). Delete them or move them to another account first.")
            % {"name": current.name, "count": count}
        )
    children = Account.objects.filter(parent=current).count()
    if children:
        raise AccountHasChildrenError(
            _("“%(name)s” is the parent account of %(count)d account(s). Give them another parent first.")
            % {"name": current.name, "count": children}
        )
    current.delete()


# --- contacts ---------------------------------------------------------------------------------


def _check_account(by: Any, account: Any, field: str = "account") -> Account:
    """A contact may be attached only to an account the user may view."""
    if account is None:
        raise CustomersError(_("Choose an account."), fields={field: [_("This field is required.")]})
    if not Account.objects.restrict(by, Action.VIEW).filter(pk=account.pk).exists():
        raise CustomersError(
            _("You may not add contacts to this account."),
            fields={field: [_("Choose an account you can see.")]},
        )
    return account  # type: ignore[no-any-return,unused-ignore]


def _check_role(role: Any, field: str = "role") -> str:
    role = str(role or "").strip()
    if role and not _in_picklist(CONTACT_ROLE_PICKLIST, role):
        raise _invalid({field: [_("Choose a role from the list.")]})
    return role


def _check_dates(start: Any, end: Any) -> None:
    if start and end and end < start:
        raise _invalid({"end_date": [_("The end date is before the start date.")]})


def _unset_other_primaries(contact: Contact) -> None:
    """One primary contact per account: the previous one stops being primary (audited saves)."""
    others = Contact.objects.select_for_update().filter(account_id=contact.account_id, is_primary=True)
    for other in others.exclude(pk=contact.pk):
        other.is_primary = False
        other.version += 1
        other.save(update_fields=["is_primary", "version", "updated_at"])


def _clean_relations(by: Any, rows: Sequence[Mapping[str, Any]], direct_id: int) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        account = row.get("account")
        if account is None or account.pk == direct_id:
            continue
        if account.pk in out:
            raise DuplicateRelationError(
                _("“%(name)s” is listed twice.") % {"name": account.name},
                fields={"relations": [_("“%(name)s” is listed twice.") % {"name": account.name}]},
            )
        _check_account(by, account, "relations")
        _check_dates(row.get("start_date"), row.get("end_date"))
        out[account.pk] = {
            "role": _check_role(row.get("role"), "relations"),
            "start_date": row.get("start_date"),
            "end_date": row.get("end_date"),
        }
    return out


def _sync_direct_relation(contact: Contact, role: str | None) -> None:
    """The direct account's relation exists, is the only direct one, and has `role` (None: keep)."""
    for rel in AccountContactRelation.objects.select_for_update().filter(contact=contact, is_direct=True):
        if rel.account_id != contact.account_id:
            rel.is_direct = False
            rel.save(update_fields=["is_direct"])
    found = AccountContactRelation.objects.filter(contact=contact, account_id=contact.account_id).first()
    if found is None:
        AccountContactRelation.objects.create(
            contact=contact, account_id=contact.account_id, is_direct=True, role=role or ""
        )
        return
    fields: list[str] = []
    if not found.is_direct:
        found.is_direct = True
        fields.append("is_direct")
    if role is not None and found.role != role:
        found.role = role
        fields.append("role")
    if fields:
        found.save(update_fields=fields)


def _sync_other_relations(by: Any, contact: Contact, wanted: dict[int, dict[str, Any]]) -> bool:
    """Indirect relations to accounts the user may view become `wanted` (relations to accounts the
    user cannot see are left alone)."""
    visible = Account.objects.restrict(by, Action.VIEW).values("pk")
    existing = {
        r.account_id: r
        for r in AccountContactRelation.objects.select_for_update().filter(
            contact=contact, is_direct=False, account_id__in=visible
        )
    }
    changed = False
    for account_id, rel in existing.items():
        if account_id not in wanted:
            rel.delete()
            changed = True
    for account_id, values in wanted.items():
        row = existing.get(account_id)
        if row is None:
            AccountContactRelation.objects.create(contact=contact, account_id=account_id, **values)
            changed = True
            continue
        fields = [k for k, v in values.items() if getattr(row, k) != v]
        if fields:
            for k in fields:
                setattr(row, k, values[k])
            row.save(update_fields=fields)
            changed = True
    return changed


def _contact_values(values: dict[str, Any]) -> None:
    if "role" in values:
        values["role"] = _check_role(values["role"])


@transaction.atomic
def contact_create(
    *, by: Any, data: ContactData, confirmed: bool = False, tags: Iterable[Any] | None = None
) -> Contact:
    """A new contact; `tags` (ids or names) are written as the creator's (see `account_create`)."""
    _check_keys(data, CONTACT_FIELDS)
    owned.check_action(by, Contact, Action.ADD)
    owned.check_locked_fields(by, Contact, data)
    _check_locked_lists(by, Contact, data)
    values = _normalised(data)
    account = _check_account(by, values.get("account"))
    _contact_values(values)
    relations = _clean_relations(by, values.get("relations") or [], account.pk)
    phones, emails = _phones_and_emails(values, None, ContactPhone, ContactEmail, "contact")
    owner = owned.resolve_owner(by, Contact, values.get("owner"))
    contact = Contact(created_by=by, account=account)
    owned.apply_values(contact, values, CONTACT_FIELDS)
    _denormalise(contact, phones, emails)
    owned.set_owner(contact, owner)
    contact.custom = _custom(Contact, by, values, None) or {}
    owned.full_clean_or_raise(contact, exclude=_CLEAN_EXCLUDE)
    owned.check_external_id(Contact, contact.external_id)
    _rules(Contact, values, contact.custom, None)
    _write_checks("customers.contact", values, phones, emails, pk=None, by=by, confirmed=confirmed)
    if contact.is_primary:
        _unset_other_primaries(contact)
    contact.completeness = completeness(model=Contact, obj=contact)
    contact.save()
    if phones is not None:
        _sync_rows(ContactPhone, "contact", contact, phones, _PHONE_ROW)
    if emails is not None:
        _sync_rows(ContactEmail, "contact", contact, emails, _EMAIL_ROW)
    _sync_direct_relation(contact, values.get("role", ""))
    if relations:
        _sync_other_relations(by, contact, relations)
    if tags:
        tags_set_new(obj=contact, tags=tags, by=by)
    owned.recheck_scope(by, contact, Action.VIEW, transfer=owner.pk != by.pk)
    return contact


@transaction.atomic
def contact_update(
    *, contact: Contact, by: Any, data: ContactData, version: int | None = None, confirmed: bool = False
) -> Contact:
    _check_keys(data, CONTACT_FIELDS)
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    owned.check_action(by, Contact, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Contact, data, current=current)
    _check_locked_lists(by, Contact, data)
    values = _normalised(data)
    _contact_values(values)
    phones, emails = _phones_and_emails(values, current, ContactPhone, ContactEmail, "contact")
    changed = owned.apply_values(current, values, CONTACT_FIELDS)
    changed += _denormalise(current, phones, emails)
    if "account" in values and values["account"] is not None and values["account"].pk != current.account_id:
        current.account = _check_account(by, values["account"])
        changed.append("account")
    relations = (
        _clean_relations(by, values["relations"] or [], current.account_id) if "relations" in values else None
    )
    owner = owned.resolve_owner(by, Contact, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    changed += owned.set_owner(current, owner)
    if "external_id" in changed:
        owned.check_external_id(Contact, current.external_id, exclude_pk=current.pk)
    custom = _custom(Contact, by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    _rules(Contact, values, custom, current)
    _write_checks("customers.contact", values, phones, emails, pk=current.pk, by=by, confirmed=confirmed)
    lists_changed = False
    if phones is not None:
        lists_changed |= _sync_rows(ContactPhone, "contact", current, phones, _PHONE_ROW)
    if emails is not None:
        lists_changed |= _sync_rows(ContactEmail, "contact", current, emails, _EMAIL_ROW)
    if "account" in changed or "role" in values:
        _sync_direct_relation(current, values.get("role"))
    if relations is not None:
        lists_changed |= _sync_other_relations(by, current, relations)
    if not changed:
        if lists_changed:
            current.version += 1
            current.save(update_fields=["version", "updated_at"])
        return current
    owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
    if current.is_primary and ("is_primary" in changed or "account" in changed):
        _unset_other_primaries(current)
    score = completeness(model=Contact, obj=current)
    if score != current.completeness:
        current.completeness = score
        changed.append("completeness")
    current.version += 1
    current.save(update_fields=[*set(changed), "version", "updated_at"])
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


@transaction.atomic
def contact_delete(*, contact: Contact, by: Any) -> None:
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    owned.check_action(by, Contact, Action.DELETE, obj=current)
    current.delete()


# --- account-contact relations ----------------------------------------------------------------


def _relation_contact(by: Any, contact_id: int) -> Contact:
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    owned.check_action(by, Contact, Action.CHANGE, obj=contact)
    return contact


def _touch(contact: Contact) -> None:
    contact.version += 1
    contact.save(update_fields=["version", "updated_at"])


@transaction.atomic
def contact_relation_add(
    *,
    by: Any,
    contact: Contact,
    account: Account,
    role: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> AccountContactRelation:
    """Link the contact to another account in a role (needs change on the contact and view on the
    account). A second link to the same account is refused."""
    current = _relation_contact(by, contact.pk)
    _check_account(by, account)
    role = _check_role(role)
    _check_dates(start_date, end_date)
    if AccountContactRelation.objects.filter(contact=current, account=account).exists():
        raise DuplicateRelationError(
            _("%(contact)s is already linked to “%(account)s”.")
            % {"contact": current.name, "account": account.name},
            fields={"account": [_("Already linked to this contact.")]},
        )
    rel = AccountContactRelation.objects.create(
        contact=current, account=account, role=role, start_date=start_date, end_date=end_date
    )
    _touch(current)
    return rel


@transaction.atomic
def contact_relation_update(
    *, by: Any, relation: AccountContactRelation, data: Mapping[str, Any]
) -> AccountContactRelation:
    """Change `role`, `start_date`, `end_date`; ``is_direct: True`` makes the account the contact's
    direct account."""
    unknown = set(data) - {"role", "start_date", "end_date", "is_direct"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    rel = AccountContactRelation.objects.select_for_update().get(pk=relation.pk)
    current = _relation_contact(by, rel.contact_id)
    if "role" in data:
        rel.role = _check_role(data["role"])
    rel.start_date = data.get("start_date", rel.start_date)
    rel.end_date = data.get("end_date", rel.end_date)
    _check_dates(rel.start_date, rel.end_date)
    rel.save(update_fields=["role", "start_date", "end_date"])
    if data.get("is_direct") and not rel.is_direct:
        contact_update(contact=current, by=by, data={"account": rel.account})
        rel.refresh_from_db()
    elif data.get("is_direct") is False and rel.is_direct:
        raise _invalid({"is_direct": [_("Choose another direct account for the contact instead.")]})
    else:
        _touch(current)
    return rel


@transaction.atomic
def contact_relation_remove(*, by: Any, relation: AccountContactRelation) -> None:
    rel = AccountContactRelation.objects.select_for_update().get(pk=relation.pk)
    current = _relation_contact(by, rel.contact_id)
    if rel.is_direct:
        raise CustomersError(
            _("This is the contact’s direct account. Move the contact to another account first."),
            fields={"account": [_("The direct account cannot be removed.")]},
        )
    rel.delete()
    _touch(current)


# --- activity ---------------------------------------------------------------------------------


def account_record_activity(*, account_id: int, contact_ids: Iterable[int] = (), at: dt.datetime) -> None:
    """An interaction with the account (and these contacts) happened at `at`: move their
    "last contact" forward (never backward; a back-dated log leaves a newer date in place).

    Called by the activities app inside its own transaction; one UPDATE per table, no signals
    (the recorder does not log this derived field)."""
    Account.objects.filter(pk=account_id).filter(
        Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
    ).update(last_activity_at=at)
    ids = [int(i) for i in contact_ids]
    if ids:
        Contact.objects.filter(pk__in=ids).filter(
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=at)
        ).update(last_activity_at=at)


# --- addresses one by one (the API's address endpoint) ----------------------------------------


def _address_account(by: Any, account_id: int) -> Account:
    account = Account.objects.select_for_update().get(pk=account_id)
    owned.check_action(by, Account, Action.CHANGE, obj=account)
    return account


def _after_address_write(account: Account) -> None:
    """Exactly one primary when any is left; the account's denormalised address line; version."""
    rows = list(AccountAddress.objects.filter(account=account).order_by("-is_primary", "id"))
    if rows and not rows[0].is_primary:
        rows[0].is_primary = True
        rows[0].save(update_fields=["is_primary"])
    values = _row_values(rows, _ADDRESS_FIELDS)
    account.address = _address_line(values)
    account.version += 1
    account.save(update_fields=["address", "version", "updated_at"])


@transaction.atomic
def account_address_create(*, by: Any, account: Account, data: AddressRow) -> AccountAddress:
    current = _address_account(by, account.pk)
    rows = _clean_address_rows([data])
    if not rows:
        raise _invalid({"street": [_("Enter at least a region or a street address.")]})
    row = rows[0]
    row["is_primary"] = bool(data.get("is_primary"))
    if row["is_primary"]:
        AccountAddress.objects.filter(account=current, is_primary=True).update(is_primary=False)
    address = AccountAddress.objects.create(account=current, **row)
    _after_address_write(current)
    address.refresh_from_db()
    return address


@transaction.atomic
def account_address_update(*, by: Any, address: AccountAddress, data: AddressRow) -> AccountAddress:
    current = AccountAddress.objects.select_for_update().get(pk=address.pk)
    account = _address_account(by, current.account_id)
    merged = {f: data.get(f, getattr(current, f)) for f in _ADDRESS_FIELDS}
    rows = _clean_address_rows([merged])
    if not rows:
        raise _invalid({"street": [_("Enter at least a region or a street address.")]})
    row = rows[0]
    row["is_primary"] = bool(merged["is_primary"])
    if row["is_primary"] and not current.is_primary:
        AccountAddress.objects.filter(account=account, is_primary=True).update(is_primary=False)
    changed = [f for f in _ADDRESS_FIELDS if getattr(current, f) != row[f]]
    for f in changed:
        setattr(current, f, row[f])
    if changed:
        current.save(update_fields=changed)
        _after_address_write(account)
    return current


@transaction.atomic
def account_address_delete(*, by: Any, address: AccountAddress) -> None:
    current = AccountAddress.objects.select_for_update().get(pk=address.pk)
    account = _address_account(by, current.account_id)
    current.delete()
    _after_address_write(account)
