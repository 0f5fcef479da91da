"""Reads of contracts: scoped lists, a contract's attachments and orders."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kehu.core.choices import Action

from ..models import Contract, ContractAttachment, Order, Quote


def contract_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Contract]:
    return Contract.objects.restrict(user, action).select_related("account", "owner", "quote")


def contract_attachments(*, contract: Contract) -> QuerySet[ContractAttachment]:
    return contract.attachments.select_related("uploaded_by").order_by("-id")


def contract_attachment_get(*, user: Any, contract_id: int, pk: int) -> ContractAttachment | None:
    """The attachment if its contract is within the user's view scope (else None: answer 404)."""
    visible = Contract.objects.restrict(user, Action.VIEW).filter(pk=contract_id)
    return ContractAttachment.objects.filter(pk=pk, contract__in=visible).first()


def contract_orders(*, user: Any, contract: Contract) -> QuerySet[Order]:
    return Order.objects.restrict(user, Action.VIEW).filter(contract=contract).select_related("status")


def quote_contracts(*, user: Any, quote: Quote) -> QuerySet[Contract]:
    return Contract.objects.restrict(user, Action.VIEW).filter(quote=quote)
