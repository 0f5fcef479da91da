"""Reads of accounts and contacts, always through ``restrict()``.

The search providers here are simple (``icontains`` plus phone digits); issue 4 replaces them with
indexed tokens (pinyin, bigrams, phone suffixes) behind the same ``fn(user, q, limit)`` interface.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from kehu.core.choices import Action, FieldMode
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes
from kehu.core.search import SearchHit
from kehu.core.validators import format_phone, phone_digits

from .models import Account, Contact

# A query that is mostly a phone number: digits with optional + ( ) - . and spaces.
_PHONE_LIKE = re.compile(r"^[+(]?[\d\s().\-]{4,}$")


def account_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Account]:
    return Account.objects.restrict(user, action)


def contact_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Contact]:
    return Contact.objects.restrict(user, action)


def contact_account_choices(*, user: Any, contact: Contact | None = None) -> QuerySet[Account]:
    """Accounts a contact may be attached to: those the user may view, plus the contact's current
    account (a rep may own a contact on an account they cannot see, and must still be able to save
    it)."""
    visible = Account.objects.restrict(user, Action.VIEW)
    if contact is None or contact.account_id is None:
        return visible
    return visible | Account.objects.filter(pk=contact.account_id)


def account_contacts(*, user: Any, account: Account) -> QuerySet[Contact]:
    """The account's contacts the user may view (a contact's scope is its own owner/department)."""
    return (
        Contact.objects.restrict(user, Action.VIEW)
        .filter(account=account)
        .select_related("owner")
        .order_by("-is_primary", "name", "pk")
    )


def phone_fragment(q: str) -> str | None:
    """The digits to look for when `q` looks like (part of) a phone number, else None."""
    if not _PHONE_LIKE.match(q):
        return None
    digits = phone_digits(q)
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) >= 10:  # 010 6552 9988 -> +86 10 6552 9988
        digits = digits[1:]
    return digits if len(digits) >= 4 else None


def _shown(user_modes: dict[str, str], name: str, value: str, kind: str) -> str:
    mode = user_modes.get(name)
    if not value or mode == FieldMode.HIDDEN:
        return ""
    if mode == FieldMode.MASKED:
        return str(mask_value(value, kind))
    return format_phone(value) if kind == "phone" else value


def _rank(q: str, *names: str) -> Case:
    whens = [When(**{f"{n}__iexact": q}, then=Value(3)) for n in names]
    whens += [When(**{f"{n}__istartswith": q}, then=Value(2)) for n in names]
    return Case(*whens, default=Value(1), output_field=IntegerField())


def account_search(user: Any, q: str, limit: int) -> list[SearchHit]:
    """Accounts the user may view whose name, short name, e-mail or phone matches `q`."""
    cond = Q(name__icontains=q) | Q(short_name__icontains=q) | Q(email__icontains=q)
    digits = phone_fragment(q)
    if digits:
        cond |= Q(phone__contains=digits)
    rows = (
        Account.objects.restrict(user, Action.VIEW)
        .filter(cond)
        .annotate(rank=_rank(q, "name", "short_name"))
        .order_by("-rank", "-pk")
        .values("pk", "name", "short_name", "phone", "email", "rank")[:limit]
    )
    modes = field_modes(user, Account)
    hits = []
    for r in rows:
        parts = [
            r["short_name"],
            _shown(modes, "phone", r["phone"], "phone"),
            _shown(modes, "email", r["email"], "email"),
        ]
        hits.append(
            SearchHit(
                title=r["name"],
                url=Account(pk=r["pk"]).get_absolute_url(),
                subtitle=" · ".join(p for p in parts if p),
                score=float(r["rank"]),
                pk=r["pk"],
            )
        )
    return hits


def contact_search(user: Any, q: str, limit: int) -> list[SearchHit]:
    """Contacts the user may view whose name, e-mail, WeChat ID, phone or mobile matches `q`."""
    cond = Q(name__icontains=q) | Q(email__icontains=q) | Q(wechat__iexact=q)
    digits = phone_fragment(q)
    if digits:
        cond |= Q(phone__contains=digits) | Q(mobile__contains=digits)
    rows = (
        Contact.objects.restrict(user, Action.VIEW)
        .filter(cond)
        .annotate(rank=_rank(q, "name"))
        .order_by("-rank", "-pk")
        .values("pk", "name", "title", "mobile", "phone", "email", "account__name", "rank")[:limit]
    )
    modes = field_modes(user, Contact)
    hits = []
    for r in rows:
        phone = _shown(modes, "mobile", r["mobile"], "phone") or _shown(modes, "phone", r["phone"], "phone")
        parts = [r["account__name"], r["title"], phone, _shown(modes, "email", r["email"], "email")]
        hits.append(
            SearchHit(
                title=r["name"],
                url=Contact(pk=r["pk"]).get_absolute_url(),
                subtitle=" · ".join(p for p in parts if p),
                score=float(r["rank"]),
                pk=r["pk"],
            )
        )
    return hits


def account_picklist_items(account: Account) -> dict[str, Any]:
    """{field: PicklistItem} for the account's industry / source / level, in one query (a value
    without an item is left out and shown raw)."""
    from kehu.customfields.models import PicklistItem

    from .choices import PICKLIST_FIELDS

    wanted = {
        (code, getattr(account, field)): field
        for field, code in PICKLIST_FIELDS.items()
        if getattr(account, field)
    }
    if not wanted:
        return {}
    cond = Q()
    for code, value in wanted:
        cond |= Q(picklist__code=code, value=value)
    out: dict[str, Any] = {}
    for item in PicklistItem.objects.filter(cond).select_related("picklist"):
        field = wanted.get((item.picklist.code, item.value))
        if field:
            out[field] = item
    return out
