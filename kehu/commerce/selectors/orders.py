"""Reads of orders and order statuses."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kehu.core.choices import Action

from ..models import Order, OrderLine, OrderStatus, Quote


def order_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Order]:
    return Order.objects.restrict(user, action).select_related("account", "owner", "status", "contract")


def order_lines(*, order: Order) -> QuerySet[OrderLine]:
    return order.lines.select_related("product").order_by("position", "id")


def order_statuses() -> QuerySet[OrderStatus]:
    return OrderStatus.objects.prefetch_related("next_statuses").order_by("position", "id")


def quote_orders(*, user: Any, quote: Quote) -> QuerySet[Order]:
    return Order.objects.restrict(user, Action.VIEW).filter(quote=quote).select_related("status")
