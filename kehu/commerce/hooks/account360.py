"""The commerce tab, overview panel and receivable fact on the account 360° view, and document
numbers (quotes, contracts, orders, payments, invoices) in the global search."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# The documents searchable by number: (model label, list URL name, icon, order, fields matched).
SEARCHED = (
    ("commerce.quote", _("Quotes"), "commerce:quote_list", "file-dollar", 45, ("number", "name")),
    (
        "commerce.contract",
        _("Contracts"),
        "commerce:contract_list",
        "file-certificate",
        46,
        ("number", "name"),
    ),
    ("commerce.order", _("Orders"), "commerce:order_list", "shopping-cart", 47, ("number",)),
    ("commerce.payment", _("Payments"), "commerce:payment_list", "cash", 48, ("number", "reference")),
    ("commerce.invoice", _("Invoices"), "commerce:invoice_list", "receipt", 49, ("number",)),
)
# A number fragment shorter than this matches too much to be useful ("00", "QT").
MIN_NUMBER_QUERY = 3


def _url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the area's pages are not there (yet)
        return None


def _can(request: HttpRequest, label: str) -> bool:
    from django.apps import apps

    from kehu.core.permissions import can

    return can(request.user, apps.get_model(label), "view")


def _visible(request: HttpRequest, obj: Any) -> bool:
    return any(_can(request, label) for label, *_rest in SEARCHED)


def _tab_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    from ..selectors.account360 import account_commerce, account_credit, account_receivables

    context: dict[str, Any] = {}
    if _visible(request, obj):
        context.update(account_commerce(user=request.user, account_id=obj.pk))
    context["receivables"] = account_receivables(user=request.user, account_id=obj.pk)
    context["credit"] = account_credit(account_id=obj.pk) if _can(request, "commerce.payment") else {}
    lists = {}
    for label, _title, list_name, *_rest in SEARCHED:
        base = _url(list_name)
        lists[label.split(".")[1]] = f"{base}?account={obj.pk}" if base and _can(request, label) else None
    context["list_urls"] = lists
    context["receivables_url"] = _url("commerce:receivables")
    add = {}
    from kehu.core.permissions import can

    from ..models import Contract, Order, Quote

    for key, model, name in (
        ("quote", Quote, "commerce:quote_add"),
        ("contract", Contract, "commerce:contract_add"),
        ("order", Order, "commerce:order_add"),
    ):
        url = _url(name) if can(request.user, model, "add") else None
        add[key] = f"{url}?account={obj.pk}" if url else None
    context["add_urls"] = add
    return context


def _receivable_fact(request: HttpRequest, obj: Any) -> Any:
    from django.utils.html import format_html

    from ..selectors.account360 import account_receivables

    if not _can(request, "commerce.instalment"):
        return None
    rows = account_receivables(user=request.user, account_id=obj.pk)
    if not rows:
        return 0
    first = rows[0]
    overdue = ""
    if first.overdue:
        overdue = format_html(
            ' <span class="small text-danger">· {} {}</span>', _("overdue"), f"{first.overdue:,.2f}"
        )
    return format_html("{} {}{}", first.currency, f"{first.total:,.2f}", overdue)


def _document_search(label: str, list_name: str, fields: tuple[str, ...]) -> Any:
    def search(user: Any, q: str, limit: int) -> list[Any]:
        from django.apps import apps
        from django.db.models import Q

        from kehu.core.search import SearchHit

        if len(q) < MIN_NUMBER_QUERY:
            return []
        model = apps.get_model(label)
        match = Q()
        for name in fields:
            match |= Q(**{f"{name}__icontains": q})
        qs = model._default_manager.restrict(user, "view").filter(match).select_related("account")
        if label == "commerce.quote":
            qs = qs.filter(is_latest=True)
        hits = []
        for obj in qs.order_by("-id")[:limit]:
            number = getattr(obj, "number", "") or str(obj)
            exact = number.lower() == q.lower()
            subtitle = [obj.account.name]
            total = getattr(obj, "total", None) if label != "commerce.contract" else obj.value
            if label == "commerce.payment":
                total = obj.amount
            if total is not None:
                subtitle.append(f"{obj.currency} {total:,.2f}")
            if hasattr(obj, "get_status_display") and label != "commerce.order":
                subtitle.append(str(obj.get_status_display()))
            title = (
                number
                if label in ("commerce.order", "commerce.payment", "commerce.invoice")
                else (f"{number} · {obj.name}")
            )
            url = _url(f"{list_name.rsplit('_', 1)[0]}_detail", obj.pk)
            if url is None:
                continue
            hits.append(
                SearchHit(
                    title=title,
                    url=url,
                    subtitle=" · ".join(subtitle),
                    score=2.0 if exact else 1.0,
                    pk=obj.pk,
                )
            )
        return hits

    return search


def register() -> None:
    """Register the account 360 tab, panel and fact, the search providers, and the re-pointing of
    quote-to-cash records when duplicate accounts or contacts are merged."""
    from kehu.core import generic, search
    from kehu.dedup.merging import register_merge_relation

    from ..models import Contract, CreditEntry, Instalment, Invoice, Order, Payment, PaymentPlan, Quote

    for model in (Quote, Contract, Order, PaymentPlan, Instalment, Payment, CreditEntry, Invoice):
        register_merge_relation("customers.account", model, "account")
    for model in (Quote, Contract, Order):
        register_merge_relation("customers.contact", model, "contact")

    generic.register_tab(
        "customers.account",
        generic.Tab(
            "commerce",
            _("Quotes and orders"),
            "commerce/_account_tab.html",
            context=_tab_context,
            visible=_visible,
            icon="file-invoice",
            order=25,
        ),
    )
    generic.register_fact(
        "customers.account",
        generic.Fact(
            "commerce.receivable",
            _("Receivable"),
            _receivable_fact,
            order=45,
            icon="report-money",
            url=lambda request, obj: f"{obj.get_absolute_url()}?tab=commerce",
        ),
    )
    for label, title, list_name, icon, order, fields in SEARCHED:
        search.register_provider(
            label,
            title,
            _document_search(label, list_name, fields),
            icon=icon,
            order=order,
            model=label,
            list_url_name=list_name,
        )
