"""Reads for the send-by-e-mail dialog of a quote."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from kehu.core.choices import Action
from kehu.customers.models import Contact

from ..models import Quote


def quote_recipients(*, user: Any, quote: Quote) -> list[str]:
    """E-mail addresses to pre-fill: the quote's contact first, then the account's contacts the
    user may see, then the account's own address."""
    found: list[str] = []

    def add(value: str | None) -> None:
        value = (value or "").strip().lower()
        if value and value not in found:
            found.append(value)

    if quote.contact_id is not None:
        contact = Contact.objects.restrict(user, Action.VIEW).filter(pk=quote.contact_id).first()
        if contact is not None:
            add(contact.email)
    contacts = (
        Contact.objects.restrict(user, Action.VIEW)
        .filter(Q(account_id=quote.account_id))
        .exclude(email="")
        .order_by("name", "id")
        .values_list("email", flat=True)[:20]
    )
    for email in contacts:
        add(email)
    add(quote.account.email)
    return found
