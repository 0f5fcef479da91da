"""Quote-to-cash in the demo company (issue 7): a year of quotes (报价单), contracts (合同), orders
(订单), payment plans (回款计划), payments (回款) and invoices (发票) on a sample of the reps' demo
opportunities, with products from the demo catalog.

- won deals: a quote (a few revised once: version 1 sent, version 2 with a better discount),
  approved where the approval rules ask for it, sent and accepted; a contract signed when the deal
  was won with a plan of two or three instalments and an order moving through its statuses; small
  deals an order with its own plan instead of a contract. Paid, partly paid and unpaid instalments
  (some 10–120 days overdue, so every aging bucket has some), one over-payment kept as a credit,
  one payment reversed (bounced) and received again, invoices (special and normal VAT) for some
  payments; the most recent deal's contract still a draft, one contract terminated, one expired;
- open deals: draft, pending-approval (the managers' approvals inbox), approved and sent quotes
  (sent ones past their validity expire through the daily service);
- lost deals: quotes the customer declined, with the deal's loss notes as the reason.

Everything is written through the commerce services, acting as the demo administrator (approvals
by the approvers themselves). The services stamp "today", so afterwards the stage moves each
document's dates (quote date, validity, signing, order, due and received dates, timestamps) into
the past with `.update()`, keeping every document consistent with the deal it belongs to.
Timeline events keep the day of loading.

Seeded per opportunity name (`data.DEMO_SEED`): the same documents on every machine. Idempotent:
an opportunity that has a quote is skipped, approval rules are looked up by name.
`company.scale()` shrinks the sample for tests.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from . import data
from .company import scale

VERSION = 1
# Deals sampled at scale 1 (and at least, when scaled down).
WON, OPEN, LOST = 14, 10, 5
MIN_WON, MIN_OPEN, MIN_LOST = 6, 6, 3

RULE_DISCOUNT = "折扣超过 15% 需经理审批"
RULE_TOTAL = "总额超过 50 万元需销售总监审批"
DISCOUNT_LIMIT = Decimal("15")
TOTAL_LIMIT = Decimal("500000")

# Products per deal kind (the suffix of the demo opportunity's name): code prefixes, main first.
KINDS: dict[str, tuple[str, ...]] = {
    "客户管理系统": ("SW-CRM", "SV-IMP", "SV-TRN"),
    "ERP 实施": ("SW-ERP", "SV-IMP", "SV-TRN"),
    "设备采购": ("HW-SRV", "HW-NET", "HW-STO", "HW-END", "CS-CBL"),
    "咨询项目": ("SV-IMP", "SV-TRN"),
    "培训服务": ("SV-TRN", "SV-IMP"),
    "年度运维": ("SV-MNT", "SW-SEC"),
}
TERMS = (
    "1. 报价含税，有效期 30 天。\n2. 付款方式：按合同约定分期付款。\n3. 交付周期：合同签订后 15 个工作日内。"
)
# Open deals' quotes: the statuses cycled through ("expired": sent long ago, expired by the service).
OPEN_CYCLE = ("pending", "approved", "draft", "sent", "pending", "sent", "draft", "approved")
# What happens to an instalment already due (cycled): paid, partly paid, nothing yet.
PAST_DUE_CYCLE = ("full", "full", "none", "full", "partial", "full", "none", "full", "partial", "full")
PLANS = (
    ((Decimal("0.3"), 10, "预付款"), (Decimal("0.6"), 75, "到货款"), (Decimal("0.1"), 180, "验收尾款")),
    ((Decimal("0.5"), 15, "首付款"), (Decimal("0.5"), 90, "尾款")),
    ((Decimal("0.4"), 7, "预付款"), (Decimal("0.4"), 45, "上线款"), (Decimal("0.2"), 120, "验收款")),
)
METHODS = ("bank_transfer", "bank_transfer", "bank_transfer", "acceptance", "wechat", "alipay")
DECLINED = "客户选择了其他供应商。"


def _rng(*key: object) -> random.Random:
    return random.Random(zlib.crc32("/".join(map(str, (data.DEMO_SEED, "commerce", *key))).encode()))


def _count(n: int, minimum: int) -> int:
    return max(minimum, round(n * scale()))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


class Loader:
    def __init__(self, summary: Any, users: dict[str, Any]) -> None:
        from kehu.catalog.models import PriceListItem, Product

        self.summary = summary
        self.users = users
        self.admin = users["admin"]
        self.today = timezone.localdate()
        self.past_due = 0  # instalments already due so far (PAST_DUE_CYCLE)
        self.credit_done = False
        self.reversal_done = False
        self.invoices = 0
        self.full_paid = 0
        products = {p.code: p for p in Product.objects.filter(is_active=True).order_by("code")}
        self.by_prefix: dict[str, list[Any]] = {}
        for code, product in products.items():
            self.by_prefix.setdefault(code[:6], []).append(product)
        # rough standard prices (quantities only; the services price the lines)
        self.prices: dict[tuple[int, str], Decimal] = {}
        for pid, code, price in PriceListItem.objects.filter(min_quantity=1).values_list(
            "product_id", "price_list__currency__code", "unit_price"
        ):
            self.prices.setdefault((pid, code), price)
        from kehu.commerce.models import OrderStatus

        self.order_statuses = {s.code: s for s in OrderStatus.objects.all()}

    # --- quotes ---------------------------------------------------------------------------------

    def lines(self, rng: random.Random, opp: Any, discount: Decimal | None) -> list[dict[str, Any]]:
        kind = opp.name.split(" - ", 1)[-1].split("（")[0]
        prefixes = KINDS.get(kind, KINDS["客户管理系统"])
        chosen: list[Any] = []
        for i, prefix in enumerate(prefixes[: rng.randint(1, 3)]):
            pool = self.by_prefix.get(prefix) or []
            if pool:
                product = rng.choice(pool)
                if product not in chosen:
                    chosen.append(product)
            if i == 0 and not chosen:
                break
        if not chosen:
            chosen = [rng.choice([p for ps in self.by_prefix.values() for p in ps])]
        rows: list[dict[str, Any]] = []
        rest = opp.amount
        for i, product in enumerate(chosen):
            price = self.prices.get((product.pk, opp.currency)) or Decimal(1)
            if i < len(chosen) - 1:
                qty = max(1, min(5, int(rest * Decimal("0.15") / price)))
            else:
                qty = max(1, min(500, int(rest / price)))
            rest = max(rest - price * qty, Decimal(0))
            row: dict[str, Any] = {"product": product, "quantity": Decimal(qty)}
            percent = discount if i == 0 and discount is not None else Decimal(rng.choice((0, 0, 5, 8, 10)))
            if percent:
                row["discount_percent"] = percent
            rows.append(row)
        return rows

    def quote(self, opp: Any, rng: random.Random, discount: Decimal | None) -> Any:
        from kehu.commerce.services.quotes import quote_create, quote_line_add

        quote = quote_create(by=self.admin, opportunity=opp, terms=TERMS, owner=opp.owner)
        for row in self.lines(rng, opp, discount):
            quote_line_add(quote=quote, by=self.admin, data=row)
        self.summary.add("quotes")
        return quote

    def approve_all(self, quote: Any) -> Any:
        from kehu.commerce.choices import ApprovalStatus, QuoteStatus
        from kehu.commerce.services.quotes import quote_approve

        for step in quote.approvals.filter(status=ApprovalStatus.PENDING).select_related("approver", "role"):
            if step.status != ApprovalStatus.PENDING:
                continue
            approver = step.approver
            if approver is None and step.role is not None:
                approver = step.role.users.filter(is_active=True).exclude(pk=quote.owner_id).first()
            if approver is None:
                continue
            quote = quote_approve(quote=quote, by=approver, comment="同意，请尽快推进签约。")
            if quote.status != QuoteStatus.PENDING:
                break
        return quote

    def advance(self, quote: Any, target: str, note: str = "") -> Any:
        """Move a draft to `target` (pending / approved / sent / accepted / rejected)."""
        from kehu.commerce.choices import QuoteStatus
        from kehu.commerce.services.quotes import (
            quote_accept,
            quote_mark_sent,
            quote_reject_by_customer,
            quote_submit,
        )

        if target == "draft":
            return quote
        quote = quote_submit(quote=quote, by=self.admin)
        if target == "pending":
            return quote
        if quote.status == QuoteStatus.PENDING:
            quote = self.approve_all(quote)
        if target == "approved":
            return quote
        quote = quote_mark_sent(quote=quote, by=self.admin)
        if target == "accepted":
            quote = quote_accept(quote=quote, by=self.admin, note=note or "客户已盖章回传。")
        elif target == "rejected":
            quote = quote_reject_by_customer(quote=quote, by=self.admin, reason=note or DECLINED)
        return quote

    def revise(self, quote: Any, extra: Decimal) -> Any:
        """The customer asked for a better price: the next version, every discount a bit higher."""
        from kehu.commerce.services.quotes import quote_line_update, quote_revise

        new = quote_revise(quote=quote, by=self.admin)
        for line in new.lines.order_by("position"):
            percent = min((line.discount_percent or Decimal(0)) + extra, Decimal("14"))
            quote_line_update(line=line, by=self.admin, data={"discount_percent": percent})
        self.summary.add("quote revisions")
        new.refresh_from_db()
        return new

    def date_quote(self, quote: Any, day: dt.date, decided: dt.date | None = None) -> None:
        """Move the quote's dates to `day` (its steps a day later, the decision on `decided`)."""
        from kehu.commerce.models import Quote, QuoteApproval

        quote.refresh_from_db()
        day = min(day, self.today)
        nxt = min(day + dt.timedelta(days=1), self.today)
        changes: dict[str, Any] = {
            "quote_date": day,
            "valid_until": day + dt.timedelta(days=30),
            "created_at": _at(day, 9),
            "updated_at": _at(decided or nxt, 16),
        }
        if quote.submitted_at:
            changes["submitted_at"] = _at(day, 11)
        if quote.approved_at:
            changes["approved_at"] = _at(nxt, 9)
        if quote.sent_at:
            changes["sent_at"] = _at(nxt, 14)
        if quote.decided_at:
            changes["decided_at"] = _at(max(decided or nxt, nxt), 17)
        Quote.objects.filter(pk=quote.pk).update(**changes)
        QuoteApproval.objects.filter(quote=quote).update(created_at=_at(day, 11))
        QuoteApproval.objects.filter(quote=quote, decided_at__isnull=False).update(
            decided_at=_at(nxt, 9), updated_at=_at(nxt, 9)
        )

    # --- deals ---------------------------------------------------------------------------------

    def open_deal(self, opp: Any, target: str, revised: bool) -> None:
        rng = _rng(opp.name)
        created = timezone.localdate(opp.created_at)
        if target in ("pending", "approved", "draft"):
            day = max(created, self.today - dt.timedelta(days=rng.randint(0, 8)))
        elif target == "expired":  # sent more than 30 days ago (the oldest open deals)
            day = min(created + dt.timedelta(days=rng.randint(2, 10)), self.today - dt.timedelta(days=35))
            day = max(created, day)
        else:
            day = max(created, self.today - dt.timedelta(days=rng.randint(2, 25)))
        discount = Decimal(rng.choice((16, 18, 20))) if target == "pending" else None
        quote = self.quote(opp, rng, discount)
        if revised and target != "expired":
            first = self.advance(quote, "sent")
            self.date_quote(first, max(created, day - dt.timedelta(days=12)))
            quote = self.revise(first, Decimal(3))
        quote = self.advance(quote, "sent" if target == "expired" else target)
        self.date_quote(quote, day)

    def lost_deal(self, opp: Any) -> None:
        rng = _rng(opp.name)
        closed = timezone.localdate(opp.closed_at or opp.updated_at)
        created = timezone.localdate(opp.created_at)
        quote = self.advance(self.quote(opp, rng, None), "rejected", opp.loss_notes or DECLINED)
        self.date_quote(quote, max(created, closed - dt.timedelta(days=rng.randint(7, 30))), closed)

    def won_deal(self, opp: Any, index: int, *, draft: bool, terminate: bool, expire: bool) -> None:
        from kehu.commerce.models import Contract, Order
        from kehu.commerce.services.contracts import (
            contract_activate,
            contract_create_from_quote,
            contract_terminate,
        )
        from kehu.commerce.services.orders import order_create_from_contract, order_create_from_quote

        rng = _rng(opp.name)
        closed = min(timezone.localdate(opp.closed_at or opp.updated_at), self.today)
        created = timezone.localdate(opp.created_at)
        start = max(created, closed - dt.timedelta(days=rng.randint(10, 30)))
        discount = Decimal(rng.choice((16, 18))) if index % 3 == 1 else None
        quote = self.quote(opp, rng, discount)
        if index % 5 == 2:  # revised once before the customer accepted
            first = self.advance(quote, "sent")
            self.date_quote(first, start)
            quote = self.revise(first, Decimal(2))
            start = min(start + dt.timedelta(days=rng.randint(3, 8)), closed)
        quote = self.advance(quote, "accepted")
        self.date_quote(quote, start, closed)
        owner = opp.owner
        signed = min(closed + dt.timedelta(days=rng.randint(0, 5)), self.today)
        small = quote.total < (Decimal("60000") if quote.currency == "CNY" else Decimal("8000"))
        if small and not (draft or terminate or expire):
            # a small deal: an order straight from the quote, with its own plan
            order = order_create_from_quote(
                by=self.admin, quote=quote, data={"owner": owner, "ordered_on": signed}
            )
            self.summary.add("orders")
            cancelled = index % 11 == 4
            self.move_order(order, signed, cancelled)
            Order.objects.filter(pk=order.pk).update(created_at=_at(signed, 10))
            if not cancelled:
                self.plan(order=order, signed=signed, rng=rng, parts=((Decimal(1), 30, "全款"),))
            return
        end = signed + dt.timedelta(days=182 if expire else 365)
        contract = contract_create_from_quote(
            by=self.admin,
            quote=quote,
            data={
                "owner": owner,
                "signed_on": signed,
                "start_on": signed,
                "end_on": max(end, self.today + dt.timedelta(days=1)),
                "renewal_reminder_days": 30,
            },
        )
        self.summary.add("contracts")
        Contract.objects.filter(pk=contract.pk).update(created_at=_at(signed, 9))
        if draft:  # signed, not yet activated (the paper copy is on its way back)
            Contract.objects.filter(pk=contract.pk).update(signed_on=None)
            return
        contract = contract_activate(contract=contract, by=self.admin)
        if expire:
            Contract.objects.filter(pk=contract.pk).update(end_on=end)
        if terminate:
            on = min(signed + dt.timedelta(days=rng.randint(10, 30)), self.today)
            contract_terminate(
                contract=contract, by=self.admin, terminated_on=on, reason="客户业务调整，双方协商终止合同。"
            )
            return
        contract.refresh_from_db()
        ordered = min(signed + dt.timedelta(days=rng.randint(0, 4)), self.today)
        order = order_create_from_contract(
            by=self.admin, contract=contract, data={"owner": owner, "ordered_on": ordered}
        )
        self.summary.add("orders")
        self.move_order(order, ordered, False)
        Order.objects.filter(pk=order.pk).update(created_at=_at(ordered, 10))
        self.plan(contract=contract, signed=signed, rng=rng, parts=PLANS[index % len(PLANS)])

    def move_order(self, order: Any, ordered: dt.date, cancelled: bool) -> None:
        from kehu.commerce.models import Order
        from kehu.commerce.services.orders import order_move_status

        age = (self.today - ordered).days
        if cancelled:
            path = ["cancelled"]
        elif age > 45:
            path = ["confirmed", "shipped", "completed"]
        elif age > 15:
            path = ["confirmed", "shipped"]
        elif age > 3:
            path = ["confirmed"]
        else:
            path = []
        for code in path:
            status = self.order_statuses.get(code)
            if status is None:
                return
            order = order_move_status(order=order, status=status, by=self.admin)
        if path:
            moved = min(ordered + dt.timedelta(days=min(age, 3 * len(path) + 10)), self.today)
            Order.objects.filter(pk=order.pk).update(status_changed_at=_at(moved, 15))

    # --- money ----------------------------------------------------------------------------------

    def plan(
        self,
        *,
        signed: dt.date,
        rng: random.Random,
        parts: tuple[tuple[Decimal, int, str], ...],
        contract: Any = None,
        order: Any = None,
    ) -> None:
        from kehu.commerce.models import Instalment, PaymentPlan
        from kehu.commerce.services.payments import document_value, payment_plan_set

        document = contract or order
        value = document_value(document)
        rows: list[tuple[dt.date, Decimal, str]] = []
        left = value
        for i, (share, days, note) in enumerate(parts):
            amount = left if i == len(parts) - 1 else (value * share).quantize(Decimal("0.01"), ROUND_HALF_UP)
            left -= amount
            rows.append((signed + dt.timedelta(days=days + rng.randint(0, 6)), amount, note))
        plan = payment_plan_set(contract=contract, order=order, instalments=rows, by=self.admin)
        self.summary.add("payment plans")
        PaymentPlan.objects.filter(pk=plan.pk).update(created_at=_at(signed, 11), updated_at=_at(signed, 11))
        Instalment.objects.filter(plan=plan).update(created_at=_at(signed, 11), updated_at=_at(signed, 11))
        for instalment in plan.instalments.order_by("sequence"):
            self.collect(instalment, document, signed, rng)

    def collect(self, instalment: Any, document: Any, signed: dt.date, rng: random.Random) -> None:
        if instalment.due_on >= self.today:
            # not due yet: some customers pay the first instalment early
            if instalment.sequence == 1 and rng.random() < 0.5 and signed < self.today:
                day = signed + dt.timedelta(days=rng.randint(1, max(1, (self.today - signed).days)))
                self.pay(instalment, document, instalment.amount, min(day, self.today), rng)
            return
        what = PAST_DUE_CYCLE[self.past_due % len(PAST_DUE_CYCLE)]
        self.past_due += 1
        late = rng.randint(-5, 20)
        day = max(signed, min(instalment.due_on + dt.timedelta(days=late), self.today))
        if what == "full":
            self.pay(instalment, document, instalment.amount, day, rng)
        elif what == "partial":
            share = Decimal(rng.randint(30, 70)) / 100
            self.pay(instalment, document, (instalment.amount * share).quantize(Decimal("1")), day, rng)

    def pay(self, instalment: Any, document: Any, amount: Decimal, day: dt.date, rng: random.Random) -> None:
        from kehu.commerce.models import Payment
        from kehu.commerce.services.payments import payment_record, payment_reverse

        method = rng.choice(METHODS)
        reference = f"{rng.randint(10**11, 10**12 - 1)}"
        account = document.account
        credit_now = self.reversal_done and not self.credit_done
        if not self.reversal_done and amount == instalment.amount and day < self.today:
            # a bounced acceptance bill: recorded, reversed with the reason, then paid by transfer
            bounced = payment_record(
                account=account,
                instalment=instalment,
                amount=amount,
                received_on=day,
                method="acceptance",
                reference=reference,
                by=self.admin,
            )
            reversal = payment_reverse(payment=bounced, reason="承兑汇票被退票，款项未到账。", by=self.admin)
            Payment.objects.filter(pk=bounced.pk).update(created_at=_at(day, 14))
            back = min(day + dt.timedelta(days=3), self.today)
            Payment.objects.filter(pk=reversal.pk).update(received_on=back, created_at=_at(back, 10))
            self.summary.add("payment reversals")
            self.reversal_done = True
            day, method, reference = back, "bank_transfer", f"{rng.randint(10**11, 10**12 - 1)}"
        extra = Decimal(0)
        if credit_now and amount == instalment.amount:
            extra = Decimal("5000") if instalment.currency == "CNY" else Decimal("500")
            self.credit_done = True
        payment = payment_record(
            account=account,
            instalment=instalment,
            amount=amount + extra,
            received_on=day,
            method=method,
            reference=reference,
            note="客户多付，余额转为预收款。" if extra else "",
            by=self.admin,
            allow_credit=bool(extra),
        )
        Payment.objects.filter(pk=payment.pk).update(created_at=_at(day, 15))
        self.summary.add("payments")
        if amount == instalment.amount:
            self.full_paid += 1
            if self.full_paid % 3 != 2:  # most full payments are invoiced
                self.invoice(payment, document, day)

    def invoice(self, payment: Any, document: Any, day: dt.date) -> None:
        from kehu.commerce.models import Contract, Invoice
        from kehu.commerce.services.invoices import invoice_create, invoice_issue

        quote = document.quote
        total = payment.applied
        tax = Decimal(0)
        if quote is not None and quote.total:
            tax = (total * quote.tax_total / quote.total).quantize(Decimal("0.01"), ROUND_HALF_UP)
        special = (document.account.level or "") in ("vip", "a", "b")
        key = "contract" if isinstance(document, Contract) else "order"
        invoice = invoice_create(
            account=document.account,
            data={
                "kind": "special_vat" if special else "normal_vat",
                key: document,
                "amount": total - tax,
                "tax": tax,
                "payments": [payment],
            },
            by=self.admin,
        )
        self.invoices += 1
        number = f"{31000000 + Invoice.objects.count():08d}"
        invoice_issue(invoice=invoice, by=self.admin, number=number, issued_on=day)
        Invoice.objects.filter(pk=invoice.pk).update(created_at=_at(day, 16))
        self.summary.add("invoices")


def ensure_rules(summary: Any, admin: Any) -> None:
    from kehu.commerce.models import ApprovalRule
    from kehu.commerce.services.approvals import approval_rule_create
    from kehu.users.models import Role

    have = set(ApprovalRule.objects.values_list("name", flat=True))
    director = Role.objects.filter(code="director").first()
    specs: list[tuple[str, dict[str, Any]]] = [
        (
            RULE_DISCOUNT,
            {
                "kind": "discount_above",
                "threshold": DISCOUNT_LIMIT,
                "approver_kind": "manager",
                "position": 10,
            },
        ),
    ]
    if director is not None:
        specs.append(
            (
                RULE_TOTAL,
                {
                    "kind": "total_above",
                    "threshold": TOTAL_LIMIT,
                    "approver_kind": "role",
                    "role": director,
                    "position": 20,
                },
            )
        )
    for name, spec in specs:
        if name not in have:
            approval_rule_create(by=admin, data={"name": name, **spec})
            summary.add("approval rules")


def sample() -> tuple[list[Any], list[Any], list[Any]]:
    """The demo deals that get documents: (won, open, lost), the reps' and managers' deals."""
    from kehu.sales.models import Opportunity

    # reps' and managers' deals (the director has nobody above to approve his discounts)
    owners = [u.username for u in data.USERS if "rep" in u.roles or "manager" in u.roles]
    base = (
        Opportunity.objects.filter(owner__username__in=owners, created_by__isnull=False)
        .select_related("owner", "account")
        .order_by("name")
    )
    out = []
    for status, n, minimum in (("won", WON, MIN_WON), ("open", OPEN, MIN_OPEN), ("lost", LOST, MIN_LOST)):
        # ranked by a hash of the name: a deal added later moves at most one other out of the sample
        deals = sorted(base.filter(status=status), key=lambda o: (zlib.crc32(o.name.encode()), o.name))
        chosen = deals[: _count(n, minimum)]
        if status == "won":
            chosen.sort(key=lambda o: (o.closed_at or o.updated_at, o.name))
        else:  # the reps' deals first (their pending quotes wait in their manager's inbox)
            chosen.sort(key=lambda o: "manager" in o.owner.username)
        out.append(chosen)
    won, open_, lost = out
    return won, open_, lost


def load(summary: Any) -> None:
    from kehu.commerce.models import Quote
    from kehu.commerce.services.contracts import contract_expire_due
    from kehu.commerce.services.quotes import quote_expire_due
    from kehu.users.models import User

    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in data.USERS])}
    if "admin" not in users:
        return
    ensure_rules(summary, users["admin"])
    won, open_, lost = sample()
    quoted = set(
        Quote.objects.filter(opportunity__in=[*won, *open_, *lost]).values_list("opportunity_id", flat=True)
    )
    loader = Loader(summary, users)
    newest = len(won) - 1
    for i, opp in enumerate(won):
        if opp.pk in quoted:
            continue
        loader.won_deal(
            opp,
            i,
            draft=i == newest,
            terminate=i == 3,
            expire=i == 1,
        )
    # the oldest open deals were quoted long ago: their quotes expired
    oldest = {o.pk for o in sorted(open_, key=lambda o: (o.created_at, o.name))[: max(1, len(open_) // 8)]}
    k = 0
    for opp in open_:
        if opp.pk not in quoted:
            target = "expired" if opp.pk in oldest else OPEN_CYCLE[k % len(OPEN_CYCLE)]
            loader.open_deal(opp, target, revised=k % 6 == 1)
        k += opp.pk not in oldest
    for opp in lost:
        if opp.pk not in quoted:
            loader.lost_deal(opp)
    # what the daily tasks do: sent quotes past their validity and contracts past their end expire
    quote_expire_due()
    contract_expire_due()
