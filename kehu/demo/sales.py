"""Sales in the demo company: pools (公海) with their rules, assignment rules, a few thousand leads
(线索), a year of opportunities (商机) with their stage histories, and targets (销售目标).

Pools, assignment rules and targets go through the sales services (acting as the demo
administrator). Leads and opportunities are far too many for the services on `make run`, so they
are written in bulk, keeping what the services keep:

- leads: owner and the owner's department, E.164 phones, picklist values (source, product interest,
  unqualified reason), `owned_since`; leads in a pool are put there by `pool_put` (no owner, a pool
  item, the pool history); converted leads link the account, contact and opportunity they became;
- opportunities: status from the stage's kind, probability and forecast category from the stage
  (what `_apply_stage_values` does), `stage_entered_at`, `closed_at` for won and lost deals, a loss
  reason from the picklist `opportunity_loss_reason` on lost ones, the account's primary contact as
  the primary contact role; one `StageHistory` row per stage entered (from/to, entered/left, amount,
  currency, probability, owner, department), as `opportunity_move_stage` writes them;
- the loader rebuilds the search index and the duplicate check's match keys at the end.

No per-row audit history or timeline events are written for the generated records.

Seeded (`data.DEMO_SEED`): the same records on every installation, dated relative to the day of
loading. Idempotent: leads are looked up by (name, company), opportunities by name, pools and
rules by name, targets by their period. `company.scale()` shrinks the leads and deals for tests.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.utils import timezone

from . import data
from .company import scale
from .fake import Fake

VERSION = 1
BATCH = 500
# At scale 1.
LEADS = 3000
OPPORTUNITIES = 900

LEAD_SOURCES = (
    ("website", 24),
    ("search", 10),
    ("exhibition", 16),
    ("referral", 10),
    ("inbound_call", 8),
    ("cold_call", 10),
    ("wechat", 14),
    ("advertising", 5),
    ("partner", 3),
)
PRODUCTS = (("crm", 30), ("erp", 20), ("hardware", 15), ("consulting", 12), ("training", 8), ("support", 15))
PRODUCT_NAMES = {
    "crm": "客户管理系统",
    "erp": "ERP 实施",
    "hardware": "设备采购",
    "consulting": "咨询项目",
    "training": "培训服务",
    "support": "年度运维",
}
UNQUALIFIED_REASONS = (
    ("no_need", 30),
    ("no_budget", 25),
    ("no_contact", 20),
    ("wrong_info", 8),
    ("duplicate", 7),
    ("competitor", 10),
)
LOSS_REASONS = (
    ("price", 30),
    ("competitor", 28),
    ("no_budget", 14),
    ("no_decision", 14),
    ("product_fit", 8),
    ("timing", 6),
)
LOSS_NOTES = {
    "price": "客户最终选择了报价更低的方案。",
    "competitor": "竞争对手给出了更长的免费服务期。",
    "no_budget": "客户今年的预算被砍掉了。",
    "no_decision": "客户内部迟迟没有决策，项目搁置。",
    "product_fit": "客户需要的定制功能我们暂不支持。",
    "timing": "客户明年再考虑。",
}
NEXT_STEPS = ("发送正式报价", "安排产品演示", "约技术交流会", "提交方案书", "确认合同条款", "拜访决策人")
COMPETITORS = ("销售易", "纷享销客", "Salesforce", "用友", "金蝶", "")

# Owners of the leads (the reps mostly).
LEAD_OWNERS = (("rep1", 24), ("rep2", 24), ("rep3", 24), ("rep4", 24), ("manager1", 2), ("manager2", 2))
# Lead statuses of leads that were not converted (converted ones come from the opportunities).
LEAD_STATUSES = (("new", 34), ("contacting", 30), ("qualified", 10), ("unqualified", 26))

POOL_LEAD_NORTH = "华北线索池"
POOL_LEAD_ALL = "全国线索池"
POOL_ACCOUNTS = "客户公海"
RULES = (
    # name, conditions, action, users (usernames), pool name
    ("官网线索：华北区轮流分配", {"source": ["website"]}, "round_robin", ("rep1", "rep2"), None),
    ("展会线索：进全国线索池", {"source": ["exhibition"]}, "pool", (), POOL_LEAD_ALL),
    (
        "电话咨询：分给负载最少的销售",
        {"source": ["inbound_call"]},
        "least_loaded",
        ("rep1", "rep2", "rep3", "rep4"),
        None,
    ),
)


@contextmanager
def _dates_as_given(model: Any) -> Iterator[None]:
    """`created_at`/`updated_at` as set on the objects (bulk_create would stamp "now" on them). The
    loader runs alone in its process (a management command), so switching the flags is safe."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)
    ]
    flags = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in flags:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _count(n: int, minimum: int) -> int:
    return max(minimum, round(n * scale()))


# --- pools, rules --------------------------------------------------------------------------------


def ensure_pools(summary: Any, admin: Any, users: dict[str, Any], depts: dict[str, Any]) -> dict[str, Any]:
    from kehu.sales.models import Pool
    from kehu.sales.services.pools import pool_create

    common: dict[str, Any] = {
        "max_claims_per_day": 20,
        "max_owned": 200,
        "protection_days": 7,
        "recycle_no_follow_up_days": 30,
        "recycle_warning_days": 3,
        "cooling_off_days": 15,
    }
    specs: list[tuple[str, dict[str, Any]]] = [
        (
            POOL_LEAD_NORTH,
            {
                "kind": "lead",
                "order": 10,
                "description": "华北区的新线索，华北区的销售领取跟进。",
                "member_departments": [depts["华北区"]],
                "admins": [users["manager1"]],
                **common,
            },
        ),
        (
            POOL_LEAD_ALL,
            {
                "kind": "lead",
                "order": 20,
                "description": "展会和市场活动收集的线索，全体销售都可领取。",
                "member_departments": [depts["销售部"]],
                "admins": [users["director"]],
                **common,
                "recycle_not_converted_days": 90,
            },
        ),
        (
            POOL_ACCOUNTS,
            {
                "kind": "account",
                "order": 30,
                "description": "长期无人跟进的客户，退回时须写明原因。",
                "member_departments": [depts["销售部"]],
                "admins": [users["director"]],
                **common,
                "max_owned": None,
                "recycle_no_follow_up_days": 60,
                "return_reason_required": True,
            },
        ),
    ]
    pools = {p.name: p for p in Pool.objects.filter(name__in=[n for n, _ in specs])}
    for name, spec in specs:
        if name not in pools:
            pools[name] = pool_create(by=admin, data={"name": name, **spec})
            summary.add("pools")
    return pools


def ensure_rules(summary: Any, admin: Any, users: dict[str, Any], pools: dict[str, Any]) -> None:
    from kehu.sales.models import AssignmentRule
    from kehu.sales.services.assignment import assignment_rule_create

    have = set(AssignmentRule.objects.values_list("name", flat=True))
    for name, conditions, action, usernames, pool in RULES:
        if name in have:
            continue
        assignment_rule_create(
            by=admin,
            data={
                "name": name,
                "kind": "lead",
                "conditions": conditions,
                "action": action,
                "users": [users[u] for u in usernames],
                "pool": pools[pool] if pool else None,
            },
        )
        summary.add("assignment rules")


# --- opportunities -------------------------------------------------------------------------------


def _path(rng: random.Random, n_open: int, outcome: str) -> list[int]:
    """Indexes of the stages a deal went through: 0..n_open-1 are the open stages, n_open won,
    n_open+1 lost. Mostly forward, sometimes back a step (back-and-forth)."""
    if outcome == "won":
        depth = n_open - 1
    elif outcome == "lost":
        depth = min(int(_weighted(rng, (("0", 40), ("1", 35), ("2", 25)))), n_open - 1)
    else:
        depth = min(int(_weighted(rng, (("0", 45), ("1", 33), ("2", 22)))), n_open - 1)
    path = [0]
    i = 0
    while i < depth:
        i += 1
        path.append(i)
        if i >= 1 and rng.random() < 0.12:  # back a step, then on again
            path.extend([i - 1, i])
    if outcome == "won":
        path.append(n_open)
    elif outcome == "lost":
        path.append(n_open + 1)
    return path


def _amount(rng: random.Random) -> Decimal:
    value = rng.lognormvariate(12.2, 0.9)  # median ~200,000
    value = min(max(value, 8000), 5_000_000)
    return Decimal(round(value / 1000) * 1000)


def build_opportunities(
    summary: Any, users: dict[str, Any], now: dt.datetime
) -> list[tuple[Any, int | None, str]]:
    """The deals made now, each with the account's primary contact and the account's name."""
    from kehu.customers.models import Account, Contact
    from kehu.sales.models import Opportunity, OpportunityContactRole, StageHistory
    from kehu.sales.services.opportunities import default_pipeline

    pipeline = default_pipeline()
    if pipeline is None:
        return []
    stages = list(pipeline.stages.order_by("order", "id"))
    opens = [s for s in stages if s.kind == "open"]
    won = next((s for s in stages if s.kind == "won"), None)
    lost = next((s for s in stages if s.kind == "lost"), None)
    if not opens or won is None or lost is None:
        return []
    path_stages = [*opens, won, lost]
    by_pk = {u.pk: u for u in users.values()}
    accounts = list(
        # by creator, not owner: accounts put in the 客户公海 since keep their place in the list
        Account.objects.filter(created_by_id__in=by_pk)
        .only("pk", "name", "short_name", "owner_id", "country", "source")
        .order_by("pk")
    )
    if not accounts:
        return []
    primary: dict[int, int] = {}
    # the primary contact, else the first one
    for cid, aid in (
        Contact.objects.filter(account__in=accounts)
        .order_by("is_primary", "-pk")
        .values_list("pk", "account_id")
    ):
        primary[aid] = cid
    rng = random.Random(data.DEMO_SEED + 5)
    n = _count(OPPORTUNITIES, 20)
    existing = set(Opportunity.objects.values_list("name", flat=True))
    plans: list[tuple[Opportunity, list[StageHistory], int | None, str]] = []
    used: set[str] = set()
    for i in range(n):
        account = rng.choice(accounts)
        product = _weighted(rng, PRODUCTS)
        days_ago = rng.randint(0, 365)
        age_factor = days_ago / 365
        r = rng.random()
        if days_ago < 20:
            outcome = "open" if r < 0.85 else ("lost" if r < 0.95 else "won")
        else:
            outcome = "won" if r < 0.24 + 0.04 * age_factor else ("lost" if r < 0.78 else "open")
        path = _path(rng, len(opens), outcome)
        label = account.short_name or account.name
        name = f"{label} - {PRODUCT_NAMES[product]}"
        k = 2
        while name in used:
            name = f"{label} - {PRODUCT_NAMES[product]}（{k}）"
            k += 1
        used.add(name)
        # draw everything before deciding to skip, so the sequence is the same on every run
        created = now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 600))
        span = now - created
        final = _amount(rng)
        start_amount = (final * Decimal(str(rng.uniform(0.7, 1.3)))).quantize(Decimal("1000"))
        currency = "USD" if account.country not in ("", "CN") or rng.random() < 0.04 else "CNY"
        if currency == "USD":
            final = (final / 7).quantize(Decimal("100"))
            start_amount = (start_amount / 7).quantize(Decimal("100"))
        loss = _weighted(rng, LOSS_REASONS)
        cut = sorted(rng.random() for _ in range(len(path) - 1))
        close_offset = rng.randint(5, 120)
        overdue = rng.random() < 0.12
        next_step = rng.choice(NEXT_STEPS)
        competitor = rng.choice(COMPETITORS)
        # entry times: spread over the deal's life (the last one before now)
        life = span * (rng.uniform(0.3, 1.0) if outcome != "open" else 1.0)
        if name in existing or account.owner_id is None:
            continue
        times = [created] + [created + life * c for c in cut]
        owner = by_pk[account.owner_id]
        last = path_stages[path[-1]]
        opp = Opportunity(
            name=name,
            account_id=account.pk,
            amount=final,
            currency=currency,
            pipeline=pipeline,
            stage=last,
            status=last.kind,
            probability=last.probability,
            forecast_category=last.forecast_category,
            source=account.source or _weighted(rng, LEAD_SOURCES),
            competitors=competitor,
            next_step=next_step if last.kind == "open" else "",
            loss_reason=loss if last.kind == "lost" else "",
            loss_notes=LOSS_NOTES[loss] if last.kind == "lost" else "",
            stage_entered_at=times[-1],
            closed_at=times[-1] if last.kind != "open" else None,
            last_activity_at=times[-1],
            owner=owner,
            department_id=owner.department_id,
            created_by=owner,
            position=-float(i),
        )
        if last.kind == "open":
            close = now.date() + dt.timedelta(days=close_offset)
            if overdue:
                close = now.date() - dt.timedelta(days=rng.randint(1, 20))
            opp.expected_close_date = close
        else:
            opp.expected_close_date = timezone.localdate(times[-1])
        history: list[StageHistory] = []
        for j, idx in enumerate(path):
            stage = path_stages[idx]
            amount = start_amount if j < len(path) // 2 else final
            history.append(
                StageHistory(
                    pipeline=pipeline,
                    from_stage=path_stages[path[j - 1]] if j else None,
                    to_stage=stage,
                    entered_at=times[j],
                    left_at=times[j + 1] if j + 1 < len(path) else None,
                    by=owner,
                    amount=amount,
                    currency=currency,
                    probability=stage.probability,
                    owner=owner,
                    department_id=owner.department_id,
                )
            )
        plans.append((opp, history, primary.get(account.pk), account.name))
    if not plans:
        return []
    # The deal's first stage entry is its creation.
    for opp, history, _, _ in plans:
        opp.created_at = history[0].entered_at
        opp.updated_at = history[-1].entered_at
    with _dates_as_given(Opportunity):
        opps = Opportunity.objects.bulk_create([p[0] for p in plans], batch_size=BATCH)
    rows = []
    roles = []
    for opp, history, contact_id, _ in plans:
        for h in history:
            h.opportunity = opp
            rows.append(h)
        if contact_id:
            roles.append(
                OpportunityContactRole(
                    opportunity=opp, contact_id=contact_id, role="decision_maker", is_primary=True
                )
            )
    StageHistory.objects.bulk_create(rows, batch_size=BATCH)
    OpportunityContactRole.objects.bulk_create(roles, batch_size=BATCH, ignore_conflicts=True)
    summary.add("opportunities", len(opps))
    summary.add("stage history entries", len(rows))
    return [(opp, contact_id, account_name) for opp, _, contact_id, account_name in plans]


# --- leads ---------------------------------------------------------------------------------------


def build_leads(
    summary: Any,
    users: dict[str, Any],
    admin: Any,
    pools: dict[str, Any],
    converted: list[Any],
    now: dt.datetime,
) -> None:
    from kehu.customers.models import Contact
    from kehu.sales.choices import PoolAction
    from kehu.sales.models import Lead, Opportunity, PoolHistory, PoolItem

    fake = Fake(data.DEMO_SEED + 7)
    rng = random.Random(data.DEMO_SEED + 8)
    existing = set(Lead.objects.values_list("name", "company"))
    leads: list[Lead] = []
    dates: list[dt.datetime] = []
    to_pool: dict[str, list[Lead]] = defaultdict(list)
    # Converted leads: a third of the deals came from a lead (the account and contact it became).
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(pk__in=[cid for _, cid, _ in converted if cid]).only(
            "pk", "name", "mobile", "email", "title"
        )
    }
    links: list[tuple[Lead, Opportunity]] = []
    pick = random.Random(data.DEMO_SEED + 10)  # its own sequence: the other leads stay the same
    for opp, contact_id, account_name in converted:
        if pick.random() > 0.35 or not contact_id or contact_id not in contacts:
            continue
        contact = contacts[contact_id]
        if (contact.name, account_name) in existing:
            continue
        converted_at = opp.created_at
        created = converted_at - dt.timedelta(days=pick.randint(2, 40))
        lead = Lead(
            name=contact.name,
            company=account_name,
            title=contact.title,
            mobile=contact.mobile,
            email=contact.email,
            source=opp.source,
            product_interest=_weighted(pick, PRODUCTS),
            status="converted",
            owner_id=opp.owner_id,
            department_id=opp.department_id,
            created_by_id=opp.owner_id,
            owned_since=created,
            last_activity_at=converted_at,
            converted_at=converted_at,
            converted_by_id=opp.owner_id,
            converted_account_id=opp.account_id,
            converted_contact_id=contact_id,
            converted_opportunity=opp,
        )
        existing.add((lead.name, lead.company))
        leads.append(lead)
        dates.append(created)
        links.append((lead, opp))
    by_name = users
    # About a third of the deals came from a lead: the rest of the leads are not converted.
    for _ in range(_count(LEADS - OPPORTUNITIES // 3, 40)):
        person = fake.person(western_share=0.04)
        company = fake.company_zh() if person.chinese else fake.company_en()
        source = _weighted(rng, LEAD_SOURCES)
        status = _weighted(rng, LEAD_STATUSES)
        days_ago = int(rng.triangular(0, 365, 20))
        created = now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 600))
        mobile = fake.mobile_for(person)
        email = fake.email(person, company) if rng.random() < 0.6 else ""
        title = fake.job_title(person.chinese)
        product = _weighted(rng, PRODUCTS)
        reason = _weighted(rng, UNQUALIFIED_REASONS)
        owner_name = _weighted(rng, LEAD_OWNERS)
        # exhibition leads and a share of the new website leads wait in a pool
        pool = None
        if status == "new" and source == "exhibition":
            pool = POOL_LEAD_ALL
        elif status == "new" and rng.random() < 0.35:
            pool = POOL_LEAD_NORTH if owner_name in ("rep1", "rep2", "manager1") else POOL_LEAD_ALL
        touched = rng.uniform(0, 1)
        if (person.name, company.name) in existing:
            continue
        owner = None if pool else by_name[owner_name]
        lead = Lead(
            name=person.name,
            company=company.name,
            title=title,
            mobile=mobile,
            email=email,
            source=source,
            product_interest=product,
            status=status,
            unqualified_reason=reason if status == "unqualified" else "",
            owner=owner,
            department_id=owner.department_id if owner else None,
            created_by=owner or admin,
            owned_since=created if owner else None,
            last_activity_at=created + (now - created) * touched if status != "new" else None,
        )
        existing.add((lead.name, lead.company))
        leads.append(lead)
        dates.append(created)
        if pool:
            to_pool[pool].append(lead)
    if not leads:
        return
    for lead, created in zip(leads, dates, strict=True):
        lead.created_at = created
        lead.updated_at = lead.last_activity_at or created
    with _dates_as_given(Lead):
        made = Lead.objects.bulk_create(leads, batch_size=BATCH)
    if links:
        for lead, opp in links:
            opp.lead = lead
        Opportunity.objects.bulk_update([o for _, o in links], ["lead"], batch_size=BATCH)
    # What `pool_put` writes for a new lead that goes straight into a pool (an assignment rule, an
    # import): the pool item and the history entry "put in pool"; the lead has no owner.
    items, history = [], []
    for name, members in to_pool.items():
        pool = pools[name]
        for lead in members:
            items.append(PoolItem(pool=pool, lead=lead, in_pool=True, entered_at=lead.created_at))
            history.append(
                PoolHistory(pool=pool, lead=lead, action=PoolAction.ENTER, by=admin, at=lead.created_at)
            )
    PoolItem.objects.bulk_create(items, batch_size=BATCH)
    PoolHistory.objects.bulk_create(history, batch_size=BATCH)
    summary.add("leads", len(made))


def fill_account_pool(summary: Any, admin: Any, pool: Any) -> None:
    """A few churned accounts of the generated company back in the 客户公海 (through `pool_put`:
    their contacts lose the owner too). The 60 hand-made accounts keep their owners."""
    from kehu.customers.models import Account
    from kehu.sales.models import PoolItem
    from kehu.sales.services.pools import pool_put

    from .customers import demo_accounts

    if PoolItem.objects.filter(pool=pool).exists():
        return
    handmade = [s.name for s in demo_accounts()]
    n = _count(40, 2)
    accounts = list(
        Account.objects.filter(lifecycle_stage="churned", owner__isnull=False, opportunities__isnull=True)
        .exclude(name__in=handmade)
        .order_by("pk")[:n]
    )
    if accounts:
        summary.add(
            "accounts in the pool",
            pool_put(pool=pool, records=accounts, by=admin, reason="长期未跟进，退回公海"),
        )


# --- targets -------------------------------------------------------------------------------------


def ensure_targets(
    summary: Any, admin: Any, users: dict[str, Any], depts: dict[str, Any], now: dt.datetime
) -> None:
    """Monthly targets for every rep and quarterly ones for the sales departments this year: about
    what each won last year, a bit more."""
    from django.db.models import Sum

    from kehu.sales.models import Opportunity, Target
    from kehu.sales.services.targets import target_set

    year = timezone.localdate(now).year
    have_users = set(
        Target.objects.filter(user__isnull=False, period_kind="month", period_start__year=year).values_list(
            "user_id", "period_start"
        )
    )
    have_depts = set(
        Target.objects.filter(user__isnull=True, period_kind="quarter", period_start__year=year).values_list(
            "department_id", "period_start"
        )
    )
    won = dict(
        Opportunity.objects.filter(status="won", currency="CNY", closed_at__gte=now - dt.timedelta(days=365))
        .values("owner_id")
        .annotate(s=Sum("amount"))
        .values_list("owner_id", "s")
    )
    rng = random.Random(data.DEMO_SEED + 9)
    reps = [u for name, u in sorted(users.items()) if name.startswith("rep")]
    monthly: dict[int, Decimal] = {}
    for rep in reps:
        base = (won.get(rep.pk) or Decimal("0")) / 12 * Decimal(str(rng.uniform(1.0, 1.3)))
        monthly[rep.pk] = max(Decimal("10000"), (base / 10000).quantize(Decimal("1")) * 10000)
        for month in range(1, 13):
            start = dt.date(year, month, 1)
            if (rep.pk, start) in have_users:
                continue
            target_set(by=admin, period_kind="month", period_start=start, amount=monthly[rep.pk], user=rep)
            summary.add("targets")
    for name in ("华北区", "华东区", "销售部"):
        dept = depts[name]
        members = [r for r in reps if r.department_id == dept.pk or name == "销售部"]
        amount = sum((monthly[r.pk] for r in members), Decimal("0")) * 3
        amount = (amount * Decimal("1.1") / 10000).quantize(Decimal("1")) * 10000
        for quarter in range(4):
            start = dt.date(year, 1 + 3 * quarter, 1)
            if (dept.pk, start) in have_depts:
                continue
            target_set(by=admin, period_kind="quarter", period_start=start, amount=amount, department=dept)
            summary.add("targets")


def load(summary: Any) -> None:
    from kehu.users.models import Department, User

    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in data.USERS])}
    admin = users.get("admin")
    if admin is None or not all(u in users for u in ("rep1", "rep2", "rep3", "rep4", "manager1", "director")):
        return
    depts = {d.name: d for d in Department.objects.filter(name__in=[n for n, _ in data.DEPARTMENTS])}
    now = timezone.now()
    pools = ensure_pools(summary, admin, users, depts)
    ensure_rules(summary, admin, users, pools)
    converted = build_opportunities(summary, users, now)
    build_leads(summary, users, admin, pools, converted, now)
    fill_account_pool(summary, admin, pools[POOL_ACCOUNTS])
    ensure_targets(summary, admin, users, depts, now)
