"""Writes of accounts and contacts. Forms, the API and (later) imports all come through here.

Every function is keyword-only, typed and atomic, and applies the owned-record rules of
`kehu.core.owned` (scope, optimistic lock, field permissions, owner/assign, department from the
owner, the re-check after the write). Phones and e-mails are normalised with
`kehu.core.validators`; picklist fields must hold values of their picklist; custom fields are
validated by `kehu.customfields.services.custom_values_clean`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError
from kehu.core.permissions import readonly_fields
from kehu.core.validators import normalise_email, normalise_phone
from kehu.customfields.selectors import picklist_items
from kehu.customfields.services import custom_values_clean

from .choices import PICKLIST_FIELDS
from .models import Account, Contact


class CustomersError(DomainError):
    code = "customers_invalid"


class AccountHasContactsError(ConflictError):
    code = "account_has_contacts"


class AccountData(TypedDict, total=False):
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
    owner: Any  # User
    custom: dict[str, Any]


class ContactData(TypedDict, total=False):
    account: Account
    name: str
    title: str
    phone: str
    mobile: str
    email: str
    wechat: str
    is_primary: bool
    notes: str
    owner: Any  # User
    custom: dict[str, Any]


ACCOUNT_FIELDS = frozenset(AccountData.__annotations__) - {"owner", "custom"}
CONTACT_FIELDS = frozenset(ContactData.__annotations__) - {"owner", "custom", "account"}
_PHONE_FIELDS = ("phone", "mobile")
# Validated through their own rules, not Model.full_clean (foreign keys would cost a query each).
_CLEAN_EXCLUDE = ("owner", "department", "created_by", "account", "custom")


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed - {"owner", "custom", "account"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")


def _normalised(data: Mapping[str, Any]) -> dict[str, Any]:
    """Phones in E.164, e-mails lower-case, text trimmed; field errors collected."""
    out = dict(data)
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if isinstance(value, str) and name not in ("notes",):
            out[name] = value = value.strip()
        try:
            if name in _PHONE_FIELDS:
                out[name] = normalise_phone(value)
            elif name == "email":
                out[name] = normalise_email(value)
        except ValidationError as exc:
            errors[name] = [str(m) for m in exc.messages]
    if errors:
        raise CustomersError(_("Some fields are not valid."), fields=errors)
    return out


def _check_picklists(data: Mapping[str, Any], current: Account | None) -> None:
    """industry / source / level hold the value of an item of their picklist (an inactive item is
    accepted only when the record already has it). A picklist that does not exist is not checked."""
    errors: dict[str, list[str]] = {}
    for name, code in PICKLIST_FIELDS.items():
        value = data.get(name)
        if not value or (current is not None and getattr(current, name) == value):
            continue
        items = picklist_items(code)
        if items and value not in {i.value for i in items if i.is_active}:
            errors[name] = [_("Choose a value from the list.")]
    if errors:
        raise CustomersError(_("Some fields are not valid."), fields=errors)


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


# --- accounts ---------------------------------------------------------------------------------


@transaction.atomic
def account_create(*, by: Any, data: AccountData) -> Account:
    _check_keys(data, ACCOUNT_FIELDS)
    owned.check_action(by, Account, Action.ADD)
    owned.check_locked_fields(by, Account, data)
    values = _normalised(data)
    _check_picklists(values, None)
    owner = owned.resolve_owner(by, Account, values.get("owner"))
    account = Account(created_by=by)
    owned.apply_values(account, values, ACCOUNT_FIELDS)
    owned.set_owner(account, owner)
    account.custom = _custom(Account, by, values, None) or {}
    owned.full_clean_or_raise(account, exclude=_CLEAN_EXCLUDE)
    account.save()
    owned.recheck_scope(by, account, Action.VIEW, transfer=owner.pk != by.pk)
    return account


@transaction.atomic
def account_update(*, account: Account, by: Any, data: AccountData, version: int | None = None) -> Account:
    """Apply `data` (only the fields to change). `version`: the version the user started from."""
    _check_keys(data, ACCOUNT_FIELDS)
    current = Account.objects.select_for_update().get(pk=account.pk)
    owned.check_action(by, Account, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Account, data, current=current)
    values = _normalised(data)
    _check_picklists(values, current)
    owner = owned.resolve_owner(by, Account, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    changed = owned.apply_values(current, values, ACCOUNT_FIELDS)
    changed += owned.set_owner(current, owner)
    custom = _custom(Account, by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    if not changed:
        return current
    owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
    current.version += 1
    current.save(update_fields=[*changed, "version", "updated_at"])
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


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
    current.delete()


# --- contacts ---------------------------------------------------------------------------------


def _check_account(by: Any, account: Any) -> Account:
    """A contact may be attached only to an account the user may view."""
    if account is None:
        raise CustomersError(_("Choose an account."), fields={"account": [_("This field is required.")]})
    if not Account.objects.restrict(by, Action.VIEW).filter(pk=account.pk).exists():
        raise CustomersError(
            _("You may not add contacts to this account."),
            fields={"account": [_("Choose an account you can see.")]},
        )
    return account  # type: ignore[no-any-return,unused-ignore]


def _unset_other_primaries(contact: Contact) -> None:
    """One primary contact per account: the previous one stops being primary (audited saves)."""
    others = Contact.objects.select_for_update().filter(account_id=contact.account_id, is_primary=True)
    for other in others.exclude(pk=contact.pk):
        other.is_primary = False
        other.version += 1
        other.save(update_fields=["is_primary", "version", "updated_at"])


@transaction.atomic
def contact_create(*, by: Any, data: ContactData) -> Contact:
    _check_keys(data, CONTACT_FIELDS)
    owned.check_action(by, Contact, Action.ADD)
    owned.check_locked_fields(by, Contact, data)
    values = _normalised(data)
    account = _check_account(by, values.get("account"))
    owner = owned.resolve_owner(by, Contact, values.get("owner"))
    contact = Contact(created_by=by, account=account)
    owned.apply_values(contact, values, CONTACT_FIELDS)
    owned.set_owner(contact, owner)
    contact.custom = _custom(Contact, by, values, None) or {}
    owned.full_clean_or_raise(contact, exclude=_CLEAN_EXCLUDE)
    if contact.is_primary:
        _unset_other_primaries(contact)
    contact.save()
    owned.recheck_scope(by, contact, Action.VIEW, transfer=owner.pk != by.pk)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by: Any, data: ContactData, version: int | None = None) -> Contact:
    _check_keys(data, CONTACT_FIELDS)
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    owned.check_action(by, Contact, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    owned.check_locked_fields(by, Contact, data, current=current)
    values = _normalised(data)
    changed = owned.apply_values(current, values, CONTACT_FIELDS)
    if "account" in values and values["account"] is not None and values["account"].pk != current.account_id:
        current.account = _check_account(by, values["account"])
        changed.append("account")
    owner = owned.resolve_owner(by, Contact, values.get("owner"), obj=current)
    transfer = getattr(owner, "pk", None) != current.owner_id
    changed += owned.set_owner(current, owner)
    custom = _custom(Contact, by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    if not changed:
        return current
    owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
    if current.is_primary and ("is_primary" in changed or "account" in changed):
        _unset_other_primaries(current)
    current.version += 1
    current.save(update_fields=[*changed, "version", "updated_at"])
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


@transaction.atomic
def contact_delete(*, contact: Contact, by: Any) -> None:
    current = Contact.objects.select_for_update().get(pk=contact.pk)
    owned.check_action(by, Contact, Action.DELETE, obj=current)
    current.delete()


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
