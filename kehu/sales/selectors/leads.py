"""Reads of leads: the global search (document, provider), the list's quick search, the detail
page's facts and the conversion page's candidate accounts."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kehu.core.choices import Action, FieldMode
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes
from kehu.core.search import SearchHit
from kehu.core.validators import format_phone
from kehu.search.selectors import search_filter, search_ranked
from kehu.search.tokens import Document, phone_query_digits

from ..models import Lead

# The fields the lead's search document reads (bulk writers re-index when they change one).
INDEXED_FIELDS = frozenset({"name", "company", "phone", "mobile", "email", "wechat", "tax_number"})


def lead_document(lead: Lead) -> Document:
    """Name (and pinyin), company, phones, e-mail, WeChat ID and tax number of a lead."""
    doc = Document(title=str(lead))
    doc.add_name(lead.name, person=True)
    doc.add_name(lead.company, person=False)
    doc.add_phone(lead.mobile)
    doc.add_phone(lead.phone)
    doc.add_email(lead.email)
    doc.add_identifier(lead.wechat)
    doc.add_identifier(lead.tax_number)
    return doc


def lead_quick_search(queryset: QuerySet[Lead], q: str) -> QuerySet[Lead]:
    """Leads of `queryset` matching `q` through the index (name, pinyin, company, phone digits,
    e-mail, WeChat ID); the plain column search until the index is first built."""
    found = search_filter(queryset, q)
    if found is not None:
        return found
    cond = Q(name__icontains=q) | Q(company__icontains=q) | Q(email__icontains=q) | Q(wechat__iexact=q)
    digits = phone_query_digits(q)
    if digits:
        cond |= Q(phone__contains=digits) | Q(mobile__contains=digits)
    return queryset.filter(cond)


def _shown(modes: dict[str, str], name: str, value: str, kind: str) -> str:
    mode = modes.get(name)
    if not value or mode == FieldMode.HIDDEN:
        return ""
    if mode == FieldMode.MASKED:
        return str(mask_value(value, kind))
    return format_phone(value) if kind == "phone" else value


def lead_search(user: Any, q: str, limit: int) -> list[SearchHit]:
    """The global search's lead hits: leads the user may view (their own, their scope's, their
    pools'), best first; subtitles respect field permissions."""
    qs = Lead.objects.restrict(user, Action.VIEW)
    ranked = search_ranked(queryset=qs, q=q, limit=limit)
    rows = {
        r["pk"]: r
        for r in qs.filter(pk__in=[pk for pk, _s in ranked]).values(
            "pk", "name", "company", "mobile", "email"
        )
    }
    modes = field_modes(user, Lead)
    hits = []
    for pk, score in ranked:
        r = rows.get(pk)
        if r is None:
            continue
        parts = [
            _shown(modes, "company", r["company"], "text"),
            _shown(modes, "mobile", r["mobile"], "phone"),
            _shown(modes, "email", r["email"], "email"),
        ]
        hits.append(
            SearchHit(
                title=r["name"],
                url=Lead(pk=pk).get_absolute_url(),
                subtitle=" · ".join(p for p in parts if p),
                score=score,
                pk=pk,
            )
        )
    return hits


def lead_conversion_matches(*, user: Any, lead: Lead) -> list[Any]:
    """What the collision check (撞单检查) finds for the lead among accounts, contacts and other
    leads (masked where the user may not see them): the conversion page offers the visible
    accounts, and the accounts of visible contacts, as existing accounts to convert into."""
    from kehu.dedup.services import collision_check

    values = {f: getattr(lead, f) for f in ("name", "company", "phone", "mobile", "email", "tax_number")}
    return list(collision_check(model_label="sales.lead", values=values, exclude_pk=lead.pk, user=user))


def lead_candidate_accounts(*, user: Any, lead: Lead, matches: list[Any] | None = None) -> list[Any]:
    """Accounts the lead may be converted into: visible accounts the collision check matched,
    accounts of matched visible contacts, and visible accounts with exactly the lead's company
    name or tax number (at most 10)."""
    from kehu.customers.models import Account, Contact

    if matches is None:
        matches = lead_conversion_matches(user=user, lead=lead)
    account_ids = {m.pk for m in matches if m.model_label == "customers.account" and m.visible}
    contact_ids = [m.pk for m in matches if m.model_label == "customers.contact" and m.visible]
    visible = Account.objects.restrict(user, Action.VIEW)
    if contact_ids:
        account_ids |= set(
            Contact.objects.restrict(user, Action.VIEW)
            .filter(pk__in=contact_ids)
            .values_list("account_id", flat=True)
        )
    cond = Q(pk__in=account_ids)
    if lead.company:
        cond |= Q(name=lead.company)
    if lead.tax_number:
        cond |= Q(tax_number=lead.tax_number)
    return list(visible.filter(cond).select_related("owner").order_by("-pk")[:10])
