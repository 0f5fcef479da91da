"""Reads of the catalog. `price_for` is the one place that decides the unit price a line gets and
says why; `rate_on` / `to_company_currency` convert amounts for reports and equivalents."""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.core.choices import Action

from .models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory

# How specific a price list is for a customer: the most specific one that prices the product wins.
FOR_ACCOUNT, FOR_LEVEL, FOR_EVERYONE = 0, 1, 2


@dataclass(frozen=True)
class ResolvedPrice:
    """A unit price and where it came from."""

    unit_price: Decimal
    price_list: PriceList
    min_quantity: Decimal
    specificity: int  # FOR_ACCOUNT, FOR_LEVEL or FOR_EVERYONE

    @property
    def explanation(self) -> str:
        """ "From price list X, tier ≥ 100" — shown beside the price on a line."""
        name = self.price_list.name
        if self.min_quantity > 1:
            tier = f"{self.min_quantity.normalize():f}"
            return _("From price list %(name)s, tier ≥ %(tier)s") % {"name": name, "tier": tier}
        return _("From price list %(name)s") % {"name": name}

    @property
    def stored_source(self) -> str:
        """The language-neutral token a line keeps in ``price_source`` (see `price_source_text`)."""
        return price_source_token(name=self.price_list.name, min_quantity=self.min_quantity)


# --- a line's price source ------------------------------------------------------------------------
# Lines keep where their price came from in ``price_source`` as a token, never as a sentence, so
# every reader sees it in their own language: "@pricelist:<price list name>|<tier>" (tier empty
# for 1) or "@hand" (typed by hand). `price_source_text` writes it out; it also reads the sentences
# lines stored before the tokens (English or Chinese, as `explanation` wrote them then) and shows
# anything else (a note typed by hand) as stored.
PRICE_LIST_PREFIX = "@pricelist:"
PRICE_SOURCE_HAND = "@hand"
_LEGACY_LIST_SOURCES = (
    # "From price list %(name)s, tier ≥ %(tier)s" / "From price list %(name)s" and their zh-Hans
    # msgstr "来自价目表 %(name)s，数量 ≥ %(tier)s 档" / "来自价目表 %(name)s".
    re.compile(r"From price list (?P<name>.+), tier ≥ (?P<tier>\d+(?:\.\d+)?)", re.DOTALL),
    re.compile(r"来自价目表 (?P<name>.+)，数量 ≥ (?P<tier>\d+(?:\.\d+)?) 档", re.DOTALL),
    re.compile(r"From price list (?P<name>.+)", re.DOTALL),
    re.compile(r"来自价目表 (?P<name>.+)", re.DOTALL),
)
_LEGACY_HAND_SOURCES = frozenset({"Entered by hand", "手动输入"})


def _tier_text(min_quantity: Decimal | str | None) -> str:
    """The tier as written in a token ("100", "2.5"); empty for the base tier (1 or less)."""
    try:
        quantity = Decimal(str(min_quantity)) if min_quantity not in (None, "") else Decimal(1)
    except ArithmeticError:
        return ""
    if not quantity.is_finite() or quantity <= 1:
        return ""
    return f"{quantity.normalize():f}"


def price_source_token(*, name: str, min_quantity: Decimal | str | None = None) -> str:
    """The stored price source of a price from price list `name` at quantity tier `min_quantity`."""
    return f"{PRICE_LIST_PREFIX}{name}|{_tier_text(min_quantity)}"


def _list_source_text(name: str, tier: str) -> str:
    if tier:
        return _("From price list %(name)s, tier ≥ %(tier)s") % {"name": name, "tier": tier}
    return _("From price list %(name)s") % {"name": name}


def price_source_text(stored: str | None) -> str:
    """A line's stored price source in the active language: a token written out, an old sentence
    (either language) rewritten, anything else (a hand-typed note) as stored."""
    text = str(stored or "")
    if text.startswith(PRICE_LIST_PREFIX):
        name, _sep, tier = text[len(PRICE_LIST_PREFIX) :].rpartition("|")
        if not _sep:  # no tier part: the whole rest is the name
            name, tier = tier, ""
        return _list_source_text(name, _tier_text(tier))
    if text == PRICE_SOURCE_HAND or text in _LEGACY_HAND_SOURCES:
        return _("Entered by hand")
    for pattern in _LEGACY_LIST_SOURCES:
        match = pattern.fullmatch(text)
        if match is not None:
            return _list_source_text(match["name"], _tier_text(match.groupdict().get("tier")))
    return text


def price_for(
    *,
    product: Product | int,
    currency: Currency | str,
    quantity: Decimal = Decimal("1"),
    account: Any = None,
    on: dt.date | None = None,
) -> ResolvedPrice | None:
    """The unit price of `quantity` of `product` in `currency` for `account` on day `on` (today):
    among the active price lists of that currency valid that day — the account's own first, then
    its customer level's, then the ones for everyone; within them the newest list (latest
    `valid_from`), then the highest quantity tier not above `quantity`. None: no list prices it."""
    on = on or timezone.localdate()
    code = currency if isinstance(currency, str) else currency.code
    level = getattr(account, "level", "") or ""
    account_id = getattr(account, "pk", None)
    who = Q(price_list__account__isnull=True, price_list__customer_level="")
    if level:
        who |= Q(price_list__account__isnull=True, price_list__customer_level=level)
    if account_id is not None:
        who |= Q(price_list__account_id=account_id)
    item = (
        PriceListItem.objects.filter(
            who,
            product=product,
            price_list__currency__code=code,
            price_list__is_active=True,
            min_quantity__lte=quantity,
        )
        .filter(Q(price_list__valid_from__isnull=True) | Q(price_list__valid_from__lte=on))
        .filter(Q(price_list__valid_until__isnull=True) | Q(price_list__valid_until__gte=on))
        .annotate(
            specificity=Case(
                When(price_list__account__isnull=False, then=Value(FOR_ACCOUNT)),
                When(~Q(price_list__customer_level=""), then=Value(FOR_LEVEL)),
                default=Value(FOR_EVERYONE),
                output_field=IntegerField(),
            )
        )
        .select_related("price_list")
        .order_by(
            "specificity",
            F("price_list__valid_from").desc(nulls_last=True),
            "-price_list_id",
            "-min_quantity",
        )
        .first()
    )
    if item is None:
        return None
    return ResolvedPrice(item.unit_price, item.price_list, item.min_quantity, item.specificity)


def company_currency() -> Currency | None:
    return Currency.objects.filter(is_company=True).first()


def rate_on(currency: Currency | str, on: dt.date) -> Decimal | None:
    """Company-currency units for one unit of `currency` on day `on`: 1 for the company currency,
    else the latest rate on or before that day (None: no rate yet)."""
    code = currency if isinstance(currency, str) else currency.code
    company = company_currency()
    if company is not None and company.code == code:
        return Decimal(1)
    return (
        ExchangeRate.objects.filter(currency__code=code, valid_on__lte=on)
        .order_by("-valid_on")
        .values_list("rate", flat=True)
        .first()
    )


def to_company_currency(amount: Decimal, currency: Currency | str, on: dt.date) -> Decimal | None:
    """`amount` in the company currency at the rate of day `on`, rounded half-up to the company
    currency's minor unit (None: no rate)."""
    rate = rate_on(currency, on)
    company = company_currency()
    if rate is None or company is None:
        return None
    # the company currency record's decimal places (an admin may set them), half-up
    return (amount * rate).quantize(Decimal(1).scaleb(-company.minor_unit), rounding=ROUND_HALF_UP)


class CompanyCurrencyConverter:
    """`to_company_currency` for many amounts on many days (a report, a target's payments): the
    company currency is read once and each currency's rates once (one query per currency, then a
    bisection per day) instead of two or three queries per amount. Same results as
    `to_company_currency`."""

    def __init__(self) -> None:
        self.company = company_currency()
        self._rates: dict[str, tuple[list[dt.date], list[Decimal]]] = {}

    def rate(self, code: str, on: dt.date) -> Decimal | None:
        if self.company is not None and code == self.company.code:
            return Decimal(1)
        if code not in self._rates:
            rows = list(
                ExchangeRate.objects.filter(currency__code=code)
                .order_by("valid_on")
                .values_list("valid_on", "rate")
            )
            self._rates[code] = ([d for d, _r in rows], [r for _d, r in rows])
        days, rates = self._rates[code]
        index = bisect_right(days, on)
        return rates[index - 1] if index else None

    def __call__(self, amount: Decimal, code: str, on: dt.date) -> Decimal | None:
        rate = self.rate(code, on)
        if rate is None or self.company is None:
            return None
        return (amount * rate).quantize(Decimal(1).scaleb(-self.company.minor_unit), rounding=ROUND_HALF_UP)


def active_currencies() -> QuerySet[Currency]:
    return Currency.objects.filter(is_active=True)


def currency_codes(*, include: str | None = None) -> list[str]:
    """The codes documents may use (the active currencies, the company currency first), plus
    `include` — a record's current code — even when that currency was deactivated since. Without
    any currency record, ``settings.KEHU_CURRENCIES``."""
    codes = list(active_currencies().order_by("-is_company", "code").values_list("code", flat=True))
    if not codes and not Currency.objects.exists():
        # no currency records (a database emptied after its migrations): the settings, as before
        from django.conf import settings

        codes = [str(c).strip().upper() for c in getattr(settings, "KEHU_CURRENCIES", ["CNY"])]
    if include and include not in codes:
        codes.append(include)
    return codes


def company_currency_code() -> str:
    """The company currency's code (reports sum in it); the setting before any record exists."""
    from django.conf import settings

    code = Currency.objects.filter(is_company=True).values_list("code", flat=True).first()
    return code or str(getattr(settings, "KEHU_COMPANY_CURRENCY", "CNY"))


def product_list(*, user: Any, action: str = Action.VIEW) -> QuerySet[Product]:
    return Product.objects.restrict(user, action).select_related("category")


def category_list(*, user: Any) -> QuerySet[ProductCategory]:
    return ProductCategory.objects.restrict(user, Action.VIEW).select_related("parent")


def price_list_list(*, user: Any) -> QuerySet[PriceList]:
    return PriceList.objects.restrict(user, Action.VIEW).select_related("currency", "account")


def product_prices(*, user: Any, product: Product) -> QuerySet[PriceListItem]:
    """A product's prices in the price lists the user may view (its page's table)."""
    return (
        PriceListItem.objects.filter(product=product, price_list__in=price_list_list(user=user))
        .select_related("price_list__currency", "price_list__account")
        .order_by("price_list__currency__code", "price_list__name", "min_quantity")
    )


def price_list_items(*, price_list: PriceList) -> QuerySet[PriceListItem]:
    return price_list.items.select_related("product").order_by("product__code", "min_quantity")


def currency_places(code: str) -> int:
    """Decimal places of `code`: the currency record's (an administrator may set them), else ISO's."""
    from kehu.core.money import minor_unit

    places = Currency.objects.filter(code=code).values_list("minor_unit", flat=True).first()
    return minor_unit(code) if places is None else int(places)


def rounding_code(code: str) -> str:
    """A currency code `kehu.core.money.line_amounts` rounds like `code`'s record says (the money
    helpers know the ISO table only): the code itself when they agree, else a code of the table
    with the same decimal places."""
    from kehu.core.money import MINOR_UNITS, minor_unit

    places = currency_places(code)
    if minor_unit(code) == places:
        return code
    return next((c for c, p in MINOR_UNITS.items() if p == places), code)
