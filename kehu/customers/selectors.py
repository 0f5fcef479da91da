"""Reads of accounts and contacts, always through ``restrict()``.

The global search providers (``account_search``, ``contact_search``) ask the search index
(``kehu.search``: pinyin, bigrams, phone suffixes) for ranked ids among the restricted rows.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kehu.core.choices import Action, FieldMode
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes
from kehu.core.search import SearchHit
from kehu.core.validators import format_phone
from kehu.search.selectors import search_ranked
from kehu.search.tokens import phone_query_digits

from .models import Account, Contact

# Written by the sales app's assignment rules on the record they assigned (`kehu.core.assigners`):
# {"title": "<rule> → <owner or pool>", "rule": id, "rule_name": str, "owner": id, "pool": id}.
ASSIGNED_EVENT = "sales.assigned"


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
    return phone_query_digits(q)


def _shown(user_modes: dict[str, str], name: str, value: str, kind: str) -> str:
    mode = user_modes.get(name)
    if not value or mode == FieldMode.HIDDEN:
        return ""
    if mode == FieldMode.MASKED:
        return str(mask_value(value, kind))
    return format_phone(value) if kind == "phone" else value


def _title_bonus(q: str, *names: str) -> float:
    """Within one ranking tier: the name equal to the query, then starting with it."""
    q = q.casefold()
    names_cf = [n.casefold() for n in names if n]
    if q in names_cf:
        return 200.0
    if any(n.startswith(q) for n in names_cf):
        return 100.0
    return 0.0


def _ranked_rows(
    qs: QuerySet[Any], q: str, limit: int, fields: tuple[str, ...]
) -> list[tuple[dict[str, Any], float]]:
    ranked = search_ranked(queryset=qs, q=q, limit=limit)
    rows = {r["pk"]: r for r in qs.filter(pk__in=[pk for pk, _ in ranked]).values("pk", *fields)}
    return [(rows[pk], score) for pk, score in ranked if pk in rows]


def account_search(user: Any, q: str, limit: int) -> list[SearchHit]:
    """Accounts the user may view matching `q` (name, short name, pinyin, phone digits, e-mail, tax
    number, WeChat ID: see ``kehu.customers.search``), best first; subtitles respect field
    permissions (a masked phone stays masked)."""
    qs = Account.objects.restrict(user, Action.VIEW)
    rows = _ranked_rows(qs, q, limit, ("name", "short_name", "phone", "email"))
    modes = field_modes(user, Account)
    hits = []
    for r, score in rows:
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
                score=score + _title_bonus(q, r["name"], r["short_name"]),
                pk=r["pk"],
            )
        )
    return hits


def contact_search(user: Any, q: str, limit: int) -> list[SearchHit]:
    """Contacts the user may view matching `q` (name, pinyin, phone digits, e-mail, WeChat ID)."""
    qs = Contact.objects.restrict(user, Action.VIEW)
    rows = _ranked_rows(qs, q, limit, ("name", "title", "mobile", "phone", "email", "account__name"))
    modes = field_modes(user, Contact)
    hits = []
    for r, score in rows:
        phone = _shown(modes, "mobile", r["mobile"], "phone") or _shown(modes, "phone", r["phone"], "phone")
        parts = [r["account__name"], r["title"], phone, _shown(modes, "email", r["email"], "email")]
        hits.append(
            SearchHit(
                title=r["name"],
                url=Contact(pk=r["pk"]).get_absolute_url(),
                subtitle=" · ".join(p for p in parts if p),
                score=score + _title_bonus(q, r["name"]),
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


def assignment_of(obj: Any) -> dict[str, Any]:
    """Where a record just created went: the assignment rule's name (from its latest
    "sales.assigned" timeline event), its owner and the pool it is in (if unowned). The create
    views say so when the record left the creator's data scope."""
    from kehu.audit.models import TimelineEvent

    event = (
        TimelineEvent.objects.filter(model=obj._meta.label_lower, object_id=obj.pk, event=ASSIGNED_EVENT)
        .order_by("-id")
        .only("data")
        .first()
    )
    pool_item = getattr(obj, "pool_item", None) if obj.owner_id is None else None
    pool = pool_item.pool if pool_item is not None and pool_item.in_pool else None
    rule = None
    if event is not None:
        # Events written before "rule_name" existed carry the name in their title only.
        title = str(event.data.get("title", ""))
        rule = event.data.get("rule_name") or title.rpartition(" → ")[0] or None
    return {"rule": rule, "owner": obj.owner, "pool": pool}
