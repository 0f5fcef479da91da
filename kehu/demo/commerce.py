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
by the approvers themselves), one service call per user action ("step"). The services stamp
"now", so afterwards the stage moves each document's dates (quote date, validity, submitted,
approved, sent and decided, signing, order, status, received, issued, timestamps) into the past
with `.update()`, keeping every document consistent with the deal it belongs to. Timeline events
and audit entries carry their step's moment the same way (as the `activities` stage dates its
events by the interaction): each step runs under a request id of its own, and at the end the
events and entries of each request id get its moment (`Loader.backdate`). The nightly jobs' work
is done as they would have done it on the nights since (quotes and contracts expire the night
after their last day), and the overdue instalments count as notified the morning after they fell
due, except the most recent one (`Loader.mark_overdue_notified`).

Seeded per opportunity name (`data.DEMO_SEED`): the same documents on every machine. Idempotent:
an opportunity that has a quote is skipped, approval rules are looked up by name.
`company.scale()` shrinks the sample for tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Case, DateTimeField, F, Max, Value, When
from django.utils import timezone

from kehu.core.context import acting_as

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
WHOLE = ((Decimal(1), 30, "全款"),)  # a small deal's plan
METHODS = ("bank_transfer", "bank_transfer", "bank_transfer", "acceptance", "wechat", "alipay")
DECLINED = "客户选择了其他供应商。"
BOUNCED = "承兑汇票被退票，款项未到账。"
ONE_DAY = dt.timedelta(days=1)
HALF_HOUR = dt.timedelta(minutes=30)


def _rng(*key: object) -> random.Random:
    return random.Random(zlib.crc32("/".join(map(str, (data.DEMO_SEED, "commerce", *key))).encode()))


def _count(n: int, minimum: int) -> int:
    return max(minimum, round(n * scale()))


def _at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@dataclass(frozen=True)
class Step:
    at: dt.datetime  # when the user did it
    by: Any  # who (None: a scheduled job)
    stamped: dict[str, dt.date]  # date fields the services set to today: the document's instead


class Loader:
    def __init__(self, summary: Any, users: dict[str, Any]) -> None:
        from kehu.audit.models import ObjectChange, TimelineEvent
        from kehu.catalog.models import PriceListItem, Product
        from kehu.catalog.selectors import company_currency_code
        from kehu.commerce.models import CreditEntry, Invoice, OrderStatus, Payment

        self.summary = summary
        self.users = users
        self.admin = users["admin"]
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.company_currency = company_currency_code()
        # Each user action is a step with a request id of its own (see `step`): this run's steps,
        # and where the timeline and the audit log stood before it.
        self.run = uuid.uuid4().hex[:12]
        self.steps: dict[str, Step] = {}
        self.first_event = TimelineEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        self.first_change = ObjectChange.objects.aggregate(m=Max("pk"))["m"] or 0
        self.instalments: list[int] = []  # made by this run (their overdue notices)
        self.past_due = 0  # instalments already due so far (PAST_DUE_CYCLE)
        # one bounced bill and one over-payment in the demo (also when a refresh adds documents)
        self.reversal_done = Payment.objects.filter(reverses__isnull=False).exists()
        self.credit_done = CreditEntry.objects.filter(amount__gt=0).exists()
        self.full_paid = 0
        self.invoice_numbers = set(Invoice.objects.values_list("number", flat=True))
        self.approvers: dict[tuple[int, int | None], Any] = {}  # (role, quote owner) -> approver
        self.last = self.now  # the latest step of the deal in hand (what follows comes after it)
        self.planned = self.now  # when the plan in hand was set
        self.by_prefix: dict[str, list[Any]] = {}
        for product in Product.objects.filter(is_active=True).order_by("code"):
            self.by_prefix.setdefault(product.code[:6], []).append(product)
        # rough standard prices (quantities only; the services price the lines)
        self.prices: dict[tuple[int, str], Decimal] = {}
        for pid, code, price in PriceListItem.objects.filter(min_quantity=1).values_list(
            "product_id", "price_list__currency__code", "unit_price"
        ):
            self.prices.setdefault((pid, code), price)
        self.order_statuses = {s.code: s for s in OrderStatus.objects.all()}

    # --- when things happened -------------------------------------------------------------------

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """`day` at `hour`:`minute` local time, never after the moment of loading."""
        return min(_at(day, hour, minute), self.now)

    def after(self, day: dt.date, hour: int) -> dt.datetime:
        """The next step of the deal in hand: `day` at `hour`, but after the step before."""
        self.last = self.later(self.at(day, hour), self.last + HALF_HOUR)
        return self.last

    def later(self, moment: dt.datetime, earliest: dt.datetime) -> dt.datetime:
        """`moment`, but not before `earliest` (nor after the moment of loading)."""
        return min(max(moment, earliest), self.now)

    @contextlib.contextmanager
    def step(
        self, at: dt.datetime, by: Any = None, *, job: bool = False, **stamped: dt.date
    ) -> Iterator[None]:
        """One user action at `at` by `by` (default the administrator; nobody for a scheduled
        `job`): the service calls inside run under a request id of their own, so that
        `backdate()` can move what they wrote on the timelines and in the audit log to that moment
        and name the user on the audit entries (the operation log's "all changes of this request"
        then shows that one action). `stamped`: date fields the services set to today which the
        document gets instead (a revision's quote date)."""
        request_id = f"demo-{self.run}-{len(self.steps) + 1}"
        self.steps[request_id] = Step(min(at, self.now), None if job else (by or self.admin), stamped)
        with acting_as(None, source="task" if job else "command", request_id=request_id):
            yield

    def backdate(self) -> None:
        """The timeline events and audit entries of this run's steps carry the steps' moments and
        users, and the audit entries' values the moments the documents carry (the services stamp
        "now")."""
        from kehu.audit.models import ObjectChange, TimelineEvent
        from kehu.audit.values import short_repr

        ids = list(self.steps)
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            moment = Case(
                *(When(request_id=rid, then=Value(self.steps[rid].at)) for rid in chunk),
                output_field=DateTimeField(),
            )
            events = TimelineEvent.objects.filter(pk__gt=self.first_event, request_id__in=chunk)
            events.update(occurred_at=moment)
            ObjectChange.objects.filter(pk__gt=self.first_change, request_id__in=chunk).update(time=moment)
        by_user: dict[Any, list[str]] = {}
        for rid, step in self.steps.items():
            if step.by is not None:
                by_user.setdefault(step.by, []).append(rid)
        for user, rids in by_user.items():
            ObjectChange.objects.filter(pk__gt=self.first_change, request_id__in=rids).update(
                user_id=user.pk, user_name=short_repr(user)[:150]
            )
        end = timezone.now()
        moved = []
        for row in ObjectChange.objects.filter(
            pk__gt=self.first_change, request_id__startswith=f"demo-{self.run}-"
        ).only("pk", "request_id", "changes"):
            step = self.steps[row.request_id]
            if isinstance(row.changes, dict):
                changes = {
                    name: [self._moved(v, step.at, step.stamped.get(name), end) for v in pair]
                    if isinstance(pair, list) and len(pair) == 2
                    else pair
                    for name, pair in row.changes.items()
                }
                if changes != row.changes:
                    row.changes = changes
                    moved.append(row)
        ObjectChange.objects.bulk_update(moved, ["changes"], batch_size=100)

    def _moved(self, value: Any, moment: dt.datetime, day: dt.date | None, end: dt.datetime) -> Any:
        """An audited value: a moment the services stamped during this run becomes `moment`, a
        date field they set to today `day`."""
        if not isinstance(value, str):
            return value
        if day is not None and len(value) == 10:
            return day.isoformat()
        if len(value) > 19 and value[10] == "T":
            try:
                stamp = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
            if stamp.tzinfo is not None and self.now <= stamp <= end:
                return moment.astimezone(dt.UTC).isoformat()
        return value

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

    def quote(self, opp: Any, rng: random.Random, discount: Decimal | None, day: dt.date) -> Any:
        """A draft written on `day` (the services date it today: `date_quote` moves it)."""
        from kehu.commerce.services.quotes import quote_create, quote_line_add

        day = min(day, self.today)
        with self.step(self.at(day, 9), quote_date=day, valid_until=day + dt.timedelta(days=30)):
            quote = quote_create(by=self.admin, opportunity=opp, terms=TERMS, owner=opp.owner)
            for row in self.lines(rng, opp, discount):
                quote = quote_line_add(quote=quote, by=self.admin, data=row).quote  # with its totals
        self.summary.add("quotes")
        return quote

    def approve_all(self, quote: Any, at: dt.datetime) -> Any:
        from kehu.commerce.choices import ApprovalStatus, QuoteStatus
        from kehu.commerce.services.quotes import quote_approve

        done: set[int] = set()
        for step in quote.approvals.filter(status=ApprovalStatus.PENDING).select_related("approver", "role"):
            approver = step.approver
            if approver is None and step.role is not None:
                key = (step.role_id, quote.owner_id)
                if key not in self.approvers:
                    users = step.role.users.filter(is_active=True).exclude(pk=quote.owner_id)
                    self.approvers[key] = users.order_by("pk").first()
                approver = self.approvers[key]
            if approver is None or approver.pk in done:  # one call decides all of an approver's steps
                continue
            with self.step(at, approver):
                quote = quote_approve(quote=quote, by=approver, comment="同意，请尽快推进签约。")
            done.add(approver.pk)
            if quote.status != QuoteStatus.PENDING:
                break
        return quote

    def progress(
        self, quote: Any, target: str, day: dt.date, decided: dt.date | None = None, note: str = ""
    ) -> Any:
        """Move a draft written on `day` to `target` (draft / pending / approved / sent / accepted /
        rejected), one step per service call: submitted on `day`, approved and sent the next day,
        decided by the customer on `decided`; then the quote's own dates follow."""
        from kehu.commerce.choices import QuoteStatus
        from kehu.commerce.services.quotes import (
            quote_accept,
            quote_mark_sent,
            quote_reject_by_customer,
            quote_submit,
        )

        day = min(day, self.today)
        nxt = min(day + ONE_DAY, self.today)
        times = {"created_at": self.at(day, 9)}
        # each step after the one before (a quote of today: within the hours until now)
        submitted = self.later(self.at(day, 11), times["created_at"])
        approved = self.later(self.at(nxt, 9), submitted + dt.timedelta(hours=1))
        steps = False
        if target != "draft":
            times["submitted_at"] = submitted
            with self.step(submitted):
                quote = quote_submit(quote=quote, by=self.admin)
            steps = quote.status == QuoteStatus.PENDING
            if not steps:  # no approval rule met: approved at once
                times["approved_at"] = approved = submitted
            elif target != "pending":
                quote = self.approve_all(quote, approved)
                if quote.status == QuoteStatus.APPROVED:
                    times["approved_at"] = approved
        if target in ("sent", "accepted", "rejected"):
            times["sent_at"] = self.later(self.at(nxt, 14), approved + dt.timedelta(hours=1))
            with self.step(times["sent_at"]):
                quote = quote_mark_sent(quote=quote, by=self.admin)
        if target in ("accepted", "rejected"):
            times["decided_at"] = self.later(
                self.at(max(decided or nxt, nxt), 17), times["sent_at"] + dt.timedelta(hours=1)
            )
            with self.step(times["decided_at"]):
                if target == "accepted":
                    quote = quote_accept(quote=quote, by=self.admin, note=note or "客户已盖章回传。")
                else:
                    quote = quote_reject_by_customer(quote=quote, by=self.admin, reason=note or DECLINED)
        decided_steps = approved if steps and target != "pending" else None
        self.date_quote(quote, day, times, steps, decided_steps)
        self.last = max(times.values())
        return quote

    def revise(self, quote: Any, extra: Decimal, day: dt.date) -> Any:
        """The customer asked for a better price: on `day` the next version, every discount a bit
        higher."""
        from kehu.commerce.services.quotes import quote_line_update, quote_revise

        day = min(day, self.today)
        with self.step(self.at(day, 9), quote_date=day, valid_until=day + dt.timedelta(days=30)):
            new = quote_revise(quote=quote, by=self.admin)
            for line in new.lines.order_by("position"):
                percent = min((line.discount_percent or Decimal(0)) + extra, Decimal("14"))
                quote_line_update(line=line, by=self.admin, data={"discount_percent": percent})
        self.summary.add("quote revisions")
        new.refresh_from_db()  # with its totals
        return new

    def date_quote(
        self,
        quote: Any,
        day: dt.date,
        times: dict[str, dt.datetime],
        steps: bool,
        decided_steps: dt.datetime | None,
    ) -> None:
        """The quote's dates are its steps' (`times`), its date `day`, its company-currency
        total at that day's rate; its approval steps were asked for when it was submitted and
        decided at `decided_steps`."""
        from kehu.catalog.selectors import rate_on, to_company_currency
        from kehu.commerce.models import Quote, QuoteApproval

        changes: dict[str, Any] = {
            "quote_date": day,
            "valid_until": day + dt.timedelta(days=30),
            "updated_at": max(times.values()),
            **times,
        }
        if quote.currency != self.company_currency:
            changes["exchange_rate"] = rate_on(quote.currency, day)
            changes["total_company"] = to_company_currency(quote.total, quote.currency, day)
        Quote.objects.filter(pk=quote.pk).update(**changes)
        if steps:
            QuoteApproval.objects.filter(quote=quote).update(created_at=times["submitted_at"])
            if decided_steps is not None:
                QuoteApproval.objects.filter(quote=quote, decided_at__isnull=False).update(
                    decided_at=decided_steps, updated_at=decided_steps
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
        revised = revised and target != "expired"
        first_day = max(created, day - dt.timedelta(days=12)) if revised else day
        quote = self.quote(opp, rng, discount, first_day)
        if revised:
            first = self.progress(quote, "sent", first_day)
            quote = self.revise(first, Decimal(3), day)
        self.progress(quote, "sent" if target == "expired" else target, day)

    def lost_deal(self, opp: Any) -> None:
        rng = _rng(opp.name)
        closed = min(timezone.localdate(opp.closed_at or opp.updated_at), self.today)
        created = timezone.localdate(opp.created_at)
        day = max(created, closed - dt.timedelta(days=rng.randint(7, 30)))
        quote = self.quote(opp, rng, None, day)
        self.progress(quote, "rejected", day, closed, opp.loss_notes or DECLINED)

    def won_deal(self, opp: Any, index: int, *, draft: bool, terminate: bool, expire: bool) -> None:
        from kehu.commerce.models import Contract
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
        quote = self.quote(opp, rng, discount, start)
        if index % 5 == 2:  # revised once before the customer accepted
            first = self.progress(quote, "sent", start)
            start = min(start + dt.timedelta(days=rng.randint(3, 8)), closed)
            quote = self.revise(first, Decimal(2), start)
        quote = self.progress(quote, "accepted", start, closed)
        owner = opp.owner
        signed = min(closed + dt.timedelta(days=rng.randint(0, 5)), self.today)
        small = quote.total < (Decimal("60000") if quote.currency == "CNY" else Decimal("8000"))
        if small and not (draft or terminate or expire):
            # a small deal: an order straight from the quote, with its own plan
            placed = self.after(signed, 10)
            with self.step(placed):
                order = order_create_from_quote(
                    by=self.admin, quote=quote, data={"owner": owner, "ordered_on": signed}
                )
            self.summary.add("orders")
            cancelled = index % 11 == 4
            self.move_order(order, signed, cancelled, placed)
            if not cancelled:
                planned = self.after(signed, 11)
                self.plan(order=order, signed=signed, rng=rng, parts=WHOLE, made=planned)
            return
        end = signed + dt.timedelta(days=182 if expire else 365)
        made = self.after(signed, 9)
        with self.step(made):
            contract = contract_create_from_quote(
                by=self.admin,
                quote=quote,
                data={
                    "owner": owner,
                    "signed_on": signed,
                    "start_on": signed,
                    "end_on": max(end, self.today + ONE_DAY),
                    "renewal_reminder_days": 30,
                },
            )
        self.summary.add("contracts")
        if draft:  # signed, not yet activated (the paper copy is on its way back)
            Contract.objects.filter(pk=contract.pk).update(created_at=made, updated_at=made, signed_on=None)
            return
        activated = self.after(signed, 10)
        with self.step(activated):
            contract = contract_activate(contract=contract, by=self.admin)
        dates: dict[str, Any] = {"created_at": made, "updated_at": activated}
        if expire:
            dates["end_on"] = end
        Contract.objects.filter(pk=contract.pk).update(**dates)
        if terminate:
            on = min(signed + dt.timedelta(days=rng.randint(10, 30)), self.today)
            ended = self.after(on, 15)
            with self.step(ended):
                contract_terminate(
                    contract=contract,
                    by=self.admin,
                    terminated_on=on,
                    reason="客户业务调整，双方协商终止合同。",
                )
            Contract.objects.filter(pk=contract.pk).update(updated_at=ended)
            return
        contract.end_on = dates.get("end_on", contract.end_on)
        ordered = min(signed + dt.timedelta(days=rng.randint(0, 4)), self.today)
        planned = self.after(signed, 11)
        placed = self.after(ordered, 10)
        with self.step(placed):
            order = order_create_from_contract(
                by=self.admin, contract=contract, data={"owner": owner, "ordered_on": ordered}
            )
        self.summary.add("orders")
        self.move_order(order, ordered, False, placed)
        self.plan(contract=contract, signed=signed, rng=rng, parts=PLANS[index % len(PLANS)], made=planned)

    # Each status an order reaches: days after the order date, and the age the order needs.
    MOVES = (("confirmed", 2, 3), ("shipped", 10, 15), ("completed", 35, 45))

    def move_order(self, order: Any, ordered: dt.date, cancelled: bool, made: dt.datetime) -> None:
        from kehu.commerce.models import Order
        from kehu.commerce.services.orders import order_move_status

        age = (self.today - ordered).days
        if cancelled:
            path = [("cancelled", min(3, age))]
        else:
            path = [(code, days) for code, days, older in self.MOVES if age > older]
        last = made
        for code, days in path:
            status = self.order_statuses.get(code)
            if status is None:
                break
            last = self.later(self.at(ordered + dt.timedelta(days=days), 15), last + HALF_HOUR)
            with self.step(last):
                order = order_move_status(order=order, status=status, by=self.admin)
        Order.objects.filter(pk=order.pk).update(created_at=made, updated_at=last, status_changed_at=last)

    # --- money ----------------------------------------------------------------------------------

    def plan(
        self,
        *,
        signed: dt.date,
        rng: random.Random,
        parts: tuple[tuple[Decimal, int, str], ...],
        made: dt.datetime,
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
        self.planned = made  # money comes in after the plan is there
        with self.step(made):
            plan = payment_plan_set(contract=contract, order=order, instalments=rows, by=self.admin)
        self.summary.add("payment plans")
        PaymentPlan.objects.filter(pk=plan.pk).update(created_at=made, updated_at=made)
        Instalment.objects.filter(plan=plan).update(created_at=made, updated_at=made)
        for instalment in plan.instalments.order_by("sequence"):
            self.instalments.append(instalment.pk)
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
        from kehu.commerce.models import CreditEntry, Payment
        from kehu.commerce.services.payments import payment_record, payment_reverse

        method = rng.choice(METHODS)
        reference = f"{rng.randint(10**11, 10**12 - 1)}"
        account = document.account
        credit_now = self.reversal_done and not self.credit_done
        floor = self.planned
        if not self.reversal_done and amount == instalment.amount and day < self.today:
            # a bounced acceptance bill: recorded, reversed with the reason, then paid by transfer
            received = self.later(self.at(day, 14), floor + HALF_HOUR)
            with self.step(received):
                bounced = payment_record(
                    account=account,
                    instalment=instalment,
                    amount=amount,
                    received_on=day,
                    method="acceptance",
                    reference=reference,
                    by=self.admin,
                )
            back = min(day + dt.timedelta(days=3), self.today)
            returned = self.later(self.at(back, 10), received + HALF_HOUR)
            with self.step(returned, received_on=back):
                reversal = payment_reverse(
                    payment=bounced, reason="承兑汇票被退票，款项未到账。", by=self.admin
                )
            Payment.objects.filter(pk=bounced.pk).update(created_at=received, updated_at=received)
            Payment.objects.filter(pk=reversal.pk).update(
                received_on=back, created_at=returned, updated_at=returned
            )
            self.summary.add("payment reversals")
            self.reversal_done = True
            day, method, reference = back, "bank_transfer", f"{rng.randint(10**11, 10**12 - 1)}"
            floor = returned
        extra = Decimal(0)
        if credit_now and amount == instalment.amount:
            extra = Decimal("5000") if instalment.currency == "CNY" else Decimal("500")
            self.credit_done = True
        received = self.later(self.at(day, 15), floor + HALF_HOUR)
        with self.step(received):
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
        Payment.objects.filter(pk=payment.pk).update(created_at=received, updated_at=received)
        if extra:
            CreditEntry.objects.filter(payment=payment).update(created_at=received, updated_at=received)
        self.summary.add("payments")
        if amount == instalment.amount:
            self.full_paid += 1
            if self.full_paid % 3 != 2:  # most full payments are invoiced
                self.invoice(payment, document, day, received)

    def invoice(self, payment: Any, document: Any, day: dt.date, received: dt.datetime) -> None:
        from kehu.commerce.models import Contract, Invoice
        from kehu.commerce.services.invoices import invoice_create, invoice_issue

        quote = document.quote
        total = payment.applied
        tax = Decimal(0)
        if quote is not None and quote.total:
            tax = (total * quote.tax_total / quote.total).quantize(Decimal("0.01"), ROUND_HALF_UP)
        special = (document.account.level or "") in ("vip", "a", "b")
        key = "contract" if isinstance(document, Contract) else "order"
        number = f"{31000001 + len(self.invoice_numbers):08d}"
        while number in self.invoice_numbers:  # a refresh after some were deleted
            number = f"{int(number) + 1:08d}"
        self.invoice_numbers.add(number)
        issued = self.later(self.at(day, 16), received + HALF_HOUR)
        with self.step(issued):
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
            invoice_issue(invoice=invoice, by=self.admin, number=number, issued_on=day)
        Invoice.objects.filter(pk=invoice.pk).update(created_at=issued, updated_at=issued)
        self.summary.add("invoices")

    # --- what the daily jobs did ----------------------------------------------------------------

    def expire(self) -> None:
        """What the nightly jobs did on the days since: sent quotes past their validity and active
        contracts past their end date expire, each on the night after that date."""
        from kehu.commerce.choices import ContractStatus, QuoteStatus
        from kehu.commerce.models import Contract, Quote
        from kehu.commerce.services.contracts import contract_expire_due
        from kehu.commerce.services.quotes import quote_expire_due

        quotes = Quote.objects.filter(
            status__in=(QuoteStatus.APPROVED, QuoteStatus.SENT), valid_until__lt=self.today
        ).values_list("valid_until", flat=True)
        for last in sorted(set(quotes)):
            night = last + dt.timedelta(days=1)
            with self.step(self.at(night, 0, 15), job=True):
                quote_expire_due(today=night)
        contracts = Contract.objects.filter(status=ContractStatus.ACTIVE, end_on__lt=self.today).values_list(
            "end_on", flat=True
        )
        for last in sorted(set(contracts)):
            night = last + dt.timedelta(days=1)
            with self.step(self.at(night, 0, 45), job=True):
                contract_expire_due(today=night)

    def mark_overdue_notified(self) -> None:
        """The daily overdue job (08:20) has told the owners about this run's instalments that are
        overdue, each the morning after its due date, so its next run only reports instalments
        falling due from now on. One exception, to show the notice: the instalment that fell due
        most recently (within the last 30 days) is left for the job's next run."""
        from kehu.commerce.models import Instalment

        overdue = list(
            Instalment.objects.filter(
                pk__in=self.instalments,
                due_on__lt=self.today,
                amount__gt=F("received"),
                overdue_notified_at__isnull=True,
            )
            .order_by("-due_on", "-pk")
            .values_list("pk", "due_on")
        )
        if overdue and overdue[0][1] >= self.today - dt.timedelta(days=30):
            overdue = overdue[1:]
        if overdue:
            Instalment.objects.filter(pk__in=[pk for pk, _ in overdue]).update(
                overdue_notified_at=Case(
                    *(
                        When(pk=pk, then=Value(self.at(due + dt.timedelta(days=1), 8, 20)))
                        for pk, due in overdue
                    ),
                    output_field=DateTimeField(),
                )
            )


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
    by_status: dict[str, list[Any]] = {"won": [], "open": [], "lost": []}
    for opp in Opportunity.objects.filter(
        owner__username__in=owners, created_by__isnull=False, status__in=list(by_status)
    ).select_related("owner", "account"):
        by_status[opp.status].append(opp)
    out = []
    for status, n, minimum in (("won", WON, MIN_WON), ("open", OPEN, MIN_OPEN), ("lost", LOST, MIN_LOST)):
        # ranked by a hash of the name: a deal added later moves at most one other out of the sample
        deals = sorted(by_status[status], key=lambda o: (zlib.crc32(o.name.encode()), o.name))
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
    from kehu.users.models import User

    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in data.USERS])}
    if "admin" not in users:
        return
    loader = Loader(summary, users)
    # the rules were set up before the first quote of the year
    with loader.step(loader.at(loader.today - dt.timedelta(days=366), 9)):
        ensure_rules(summary, users["admin"])
    won, open_, lost = sample()
    quoted = set(
        Quote.objects.filter(opportunity__in=[*won, *open_, *lost]).values_list("opportunity_id", flat=True)
    )
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
    loader.expire()
    loader.mark_overdue_notified()
    loader.backdate()
