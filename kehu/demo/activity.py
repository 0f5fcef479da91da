"""A year of follow-ups in the demo company: interactions (calls, visits, meetings, WeChat,
e-mails, notes) and tasks (done, open, overdue, repeating, with reminders) over every demo account.

About 12,000 interactions are far too many for the activities services on `make run`, so they
are written in bulk with what the services keep: owner/department/created_by, a
"interaction.logged" timeline event per interaction and "task.created"/"task.completed" per task
(the account's 360° timeline), follow-up tasks linked to their interaction, pending reminders as
`reminders.planned_reminder` plans them, and the accounts' and contacts' `last_activity_at` set
from the interactions (the maximum `occurred_at`, what `account_record_activity` keeps). No
per-row `ObjectChange` is written (the services write none for interactions either).

Idempotent per account: accounts that have interactions already are left alone (so `--refresh`
only fills accounts whose whole history was deleted). Seeded per account name, so the same history
on every installation, relative to the day of loading.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from . import data

VERSION = 1
BATCH = 1000
TZ = ZoneInfo(data.DEMO_TIME_ZONE)

# Interactions per account by lifecycle stage (low, high).
PER_STAGE = {
    "potential": (1, 4),
    "new": (3, 7),
    "active": (6, 12),
    "mature": (5, 10),
    "declining": (2, 6),
    "churned": (1, 4),
}
KINDS = (("call", 34), ("wechat", 24), ("visit", 12), ("meeting", 9), ("email", 13), ("note", 8))

ZH: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "call": (
        (
            "电话沟通采购需求",
            "回访产品使用情况",
            "确认报价细节",
            "电话跟进合同进度",
            "预约上门拜访",
            "催收尾款",
            "了解年度预算",
        ),
        (
            "客户对新版方案比较感兴趣，希望下周拿到正式报价。",
            "对方在开会，约好明天上午再打。",
            "客户反映上次交付的设备运行稳定，暂无新需求。",
            "确认了采购数量和交货期，等待对方内部审批。",
            "客户提出价格偏高，需要和经理申请折扣。",
        ),
    ),
    "wechat": (
        ("微信发送产品资料", "微信沟通报价", "微信确认发货时间", "微信回复售后问题", "微信发送节日问候"),
        (
            "已发送产品手册和案例介绍，客户说会转给技术部门看。",
            "客户询问批量采购的优惠政策。",
            "确认物流单号，预计周五到货。",
            "客户发来现场照片，已转给售后工程师处理。",
        ),
    ),
    "visit": (
        ("上门拜访", "现场演示产品", "走访客户工厂", "拜访采购部门", "年度回访"),
        (
            "与采购经理和技术负责人见面，演示了新功能，对方反馈积极。",
            "参观了生产线，了解到明年有扩产计划。",
            "客户提出定制需求，回去整理方案。",
            "送去样品，约定两周内给出测试结果。",
        ),
    ),
    "meeting": (
        ("季度业务回顾会议", "方案讨论会", "合同条款沟通会", "线上视频会议", "项目启动会"),
        (
            "双方确认了项目范围和里程碑，下次会议讨论实施计划。",
            "法务对付款条款有意见，需要修改后再发。",
            "回顾了上季度的合作情况，客户满意度较高。",
        ),
    ),
    "email": (
        ("发送报价单", "发送合同草稿", "回复技术问题", "发送对账单", "邀请参加新品发布会"),
        (
            "附上最新报价单，有效期三十天。",
            "合同草稿已发送，请客户法务审阅。",
            "回复了客户关于接口对接的问题。",
        ),
    ),
    "note": (
        ("客户预算调整", "竞争对手动态", "客户组织架构变化", "内部备注"),
        (
            "听说客户今年预算削减了两成，采购可能推迟。",
            "竞争对手也在接触这家客户，报价比我们低约 5%。",
            "原采购经理已离职，新的对接人还在确认。",
        ),
    ),
}
EN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "call": (
        ("Call about purchasing needs", "Check-in call", "Clarify the quote", "Follow up on the contract"),
        (
            "Interested in the new offer, wants a formal quote next week.",
            "No answer, will call back tomorrow.",
        ),
    ),
    "wechat": (
        ("WeChat: product brochure", "WeChat: delivery date"),
        ("Sent the brochure and two case studies.", "Confirmed the tracking number."),
    ),
    "visit": (
        ("On-site visit", "Product demo at the customer"),
        ("Met purchasing and engineering; good feedback on the demo.",),
    ),
    "meeting": (
        ("Quarterly business review", "Video call on the proposal"),
        ("Agreed on scope and milestones; next call about the rollout plan.",),
    ),
    "email": (
        ("Sent the quote", "Sent the draft contract"),
        ("Quote attached, valid for 30 days.", "Draft contract sent for legal review."),
    ),
    "note": (("Internal note",), ("Budget is tight this year; purchase may slip to Q3.",)),
}
OUTCOMES = {
    "call": (("connected", 5), ("no_answer", 2), ("interested", 2), ("follow_up", 2), ("not_interested", 1)),
    "wechat": (("connected", 4), ("interested", 1), ("follow_up", 1)),
    "visit": (("interested", 3), ("follow_up", 3), ("done", 2)),
    "meeting": (("done", 3), ("follow_up", 2), ("interested", 1)),
    "email": (("done", 3), ("follow_up", 1)),
    "note": (("", 1),),
}
DURATIONS = {"call": (2, 30), "visit": (60, 180), "meeting": (30, 120)}
MEETING_PLACES = ("腾讯会议", "客户会议室", "公司三楼会议室", "钉钉视频会议")
TASK_TITLES = (
    "准备报价单",
    "发送合同",
    "安排技术交流",
    "寄送样品",
    "跟进付款",
    "整理客户需求",
    "预约下次拜访",
)
TASK_TITLES_EN = ("Prepare the quote", "Send the contract", "Book a technical call", "Send samples")
PRIORITIES = (("low", 2), ("normal", 6), ("high", 3), ("urgent", 1))
# Tasks of the reps themselves (no account): (title, recurrence, weekday or month day, hour).
OWN_TASKS = (
    ("提交销售周报", "weekly", 4, 17),
    ("整理本月客户回访计划", "monthly", 1, 10),
)
NOTE_TASKS = ("今日电话回访", "确认明天拜访行程", "更新客户资料")


def _w(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _work_time(rng: random.Random, day: dt.date) -> dt.datetime:
    while day.weekday() >= 5:  # weekends: Friday before
        day -= dt.timedelta(days=1)
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(9, 17), rng.choice((0, 10, 15, 30, 40, 45)), tzinfo=TZ
    )


def load(summary: Any) -> None:
    from kehu.activities.choices import OPEN_TASK_STATUSES
    from kehu.activities.models import Interaction, Reminder, Task
    from kehu.activities.reminders import planned_reminder
    from kehu.audit.models import TimelineEvent
    from kehu.audit.values import short_repr
    from kehu.customers.models import Account, Contact
    from kehu.users.models import User

    now = timezone.now()
    today = timezone.localdate(now, TZ)
    names = [u.username for u in data.USERS]
    users = {u.pk: u for u in User.objects.filter(username__in=names)}
    managers = {u.department_id: u for u in users.values() if u.username.startswith("manager")}
    done_accounts = set(Interaction.objects.values_list("account_id", flat=True).distinct())
    accounts = list(
        Account.objects.filter(owner_id__in=users)
        .exclude(pk__in=done_accounts)
        .only(
            "pk",
            "name",
            "owner_id",
            "department_id",
            "created_at",
            "lifecycle_stage",
            "address",
            "country",
            "completeness",
        )
        .order_by("pk")
    )
    contacts: dict[int, list[int]] = {}
    for cid, aid in (
        Contact.objects.filter(account__in=accounts).values_list("pk", "account_id").order_by("pk")
    ):
        contacts.setdefault(aid, []).append(cid)

    interactions: list[Interaction] = []
    follow_ups: list[tuple[Interaction, Task]] = []
    tasks: list[Task] = []
    for account in accounts:
        rng = random.Random(zlib.crc32(f"{data.DEMO_SEED}:{account.name}".encode()))
        chinese = account.country in ("", "CN")
        texts = ZH if chinese else EN
        stage = account.lifecycle_stage
        if (account.completeness < 60 and rng.random() < 0.35) or rng.random() < 0.04:
            continue  # never contacted (data quality: "no follow-up")
        low, high = PER_STAGE.get(stage, (2, 6))
        start = max(timezone.localdate(account.created_at, TZ), today - dt.timedelta(days=365))
        end = today
        if stage in ("declining", "churned"):
            end = today - dt.timedelta(days=rng.randint(45 if stage == "declining" else 120, 300))
        span = max(0, (end - start).days)
        owner = users[account.owner_id]
        people = contacts.get(account.pk, [])
        made: list[Interaction] = []
        for _i in range(rng.randint(low, high)):
            kind = _w(rng, KINDS) if chinese else rng.choice(("call", "email", "email", "meeting"))
            subjects, bodies = texts[kind]
            at = _work_time(rng, start + dt.timedelta(days=rng.randint(0, span)))
            if at > now:  # later today: the last working day instead (no night-time history)
                at = _work_time(rng, today - dt.timedelta(days=1))
            by = owner
            if rng.random() < 0.08 and account.department_id in managers:
                by = managers[account.department_id]
            subject = rng.choice(subjects)
            contact_id = rng.choice(people) if people and rng.random() < 0.85 else None
            duration = None
            if kind in DURATIONS:
                duration = rng.randint(*DURATIONS[kind])
                if kind != "call":
                    duration = round(duration, -1) or 30
            location = ""
            if kind == "visit":
                location = account.address
            elif kind == "meeting":
                location = rng.choice(MEETING_PLACES) if chinese else "Video call"
            made.append(
                Interaction(
                    kind=kind,
                    subject=subject,
                    body=rng.choice(bodies),
                    occurred_at=at,
                    duration_minutes=duration,
                    outcome=_w(rng, OUTCOMES[kind]),
                    direction=("inbound" if rng.random() < 0.25 else "outbound")
                    if kind in ("call", "email", "wechat")
                    else "",
                    location=location[:300],
                    account_id=account.pk,
                    contact_id=contact_id,
                    owner_id=by.pk,
                    department_id=by.department_id,
                    created_by_id=by.pk,
                )
            )
        made.sort(key=lambda i: i.occurred_at)
        interactions.extend(made)
        # The latest interaction of a live account asks for a follow-up (a linked task).
        if made and stage in ("potential", "new", "active", "mature") and rng.random() < 0.55:
            last = made[-1]
            due = _work_time(
                rng, timezone.localdate(last.occurred_at, TZ) + dt.timedelta(days=rng.randint(2, 21))
            )
            if due <= last.occurred_at:
                due = last.occurred_at + dt.timedelta(days=1)
            last.next_follow_up_at = due
            status = "open"
            completed = None
            if due < now and (rng.random() < 0.92 or due < now - dt.timedelta(days=30)):
                status, completed = "done", due + dt.timedelta(hours=rng.randint(-20, 20))
                completed = min(max(completed, last.occurred_at + dt.timedelta(hours=1)), now)
            task = Task(
                title=(f"跟进：{last.subject}" if chinese else f"Follow up: {last.subject}")[:200],
                description=last.body,
                due_at=due,
                priority=_w(rng, PRIORITIES),
                status=status,
                completed_at=completed,
                account_id=account.pk,
                contact_id=last.contact_id,
                owner_id=last.owner_id,
                department_id=last.department_id,
                created_by_id=last.owner_id,
                remind_before_minutes=rng.choice((None, None, 15, 30, 60)) if status == "open" else None,
            )
            follow_ups.append((last, task))
        # Earlier tasks, done long ago.
        for _i in range(rng.choice((0, 0, 1, 1, 2))):
            if not made:
                break
            base = rng.choice(made)
            due = base.occurred_at + dt.timedelta(days=rng.randint(1, 10))
            if due >= now:
                continue
            tasks.append(
                Task(
                    title=rng.choice(TASK_TITLES if chinese else TASK_TITLES_EN),
                    due_at=due,
                    priority=_w(rng, PRIORITIES),
                    status="done" if rng.random() < 0.9 else "cancelled",
                    completed_at=due - dt.timedelta(hours=rng.randint(0, 30)),
                    account_id=account.pk,
                    contact_id=base.contact_id,
                    owner_id=base.owner_id,
                    department_id=base.department_id,
                    created_by_id=base.owner_id,
                )
            )
    Interaction.objects.bulk_create(interactions, batch_size=BATCH)
    summary.add("interactions", len(interactions))

    # The reps' own tasks (no account): due today, repeating reports; one of a title per person.
    have = set(Task.objects.filter(account__isnull=True).values_list("owner_id", "title"))
    tasks.extend(t for t in _own_tasks(users, now, today) if (t.owner_id, t.title) not in have)
    for interaction, task in follow_ups:
        task.interaction_id = interaction.pk
        tasks.append(task)
    for t in tasks:
        if t.completed_at is not None and t.due_at is not None:
            t.completed_at = min(t.completed_at, now)
    Task.objects.bulk_create(tasks, batch_size=BATCH)
    for interaction, task in follow_ups:
        interaction.task_id = task.pk
    Interaction.objects.bulk_update([i for i, _t in follow_ups], ["task"], batch_size=BATCH)
    summary.add("tasks", len(tasks))

    # created_at of the history: when it happened (auto_now_add stamped "now"); one UPDATE each.
    ids = [i.pk for i in interactions]
    for k in range(0, len(ids), BATCH):
        Interaction.objects.filter(pk__in=ids[k : k + BATCH]).update(
            created_at=F("occurred_at"), updated_at=F("occurred_at")
        )
    for i in interactions:
        i.created_at = i.updated_at = i.occurred_at
    for t in tasks:
        t.created_at = min(t.due_at - dt.timedelta(days=3), now) if t.due_at else now
        t.updated_at = t.completed_at or t.created_at
    task_ids = [t.pk for t in tasks]
    for k in range(0, len(task_ids), BATCH):
        Task.objects.filter(pk__in=task_ids[k : k + BATCH], due_at__isnull=False).update(
            created_at=Least(F("due_at") - dt.timedelta(days=3), Value(now)),
            updated_at=Coalesce(F("completed_at"), Least(F("due_at") - dt.timedelta(days=3), Value(now))),
        )

    reminders = []
    for t in tasks:
        planned = planned_reminder(t)
        if planned is not None and t.status in OPEN_TASK_STATUSES and t.due_at and t.due_at > now:
            reminders.append(Reminder(task_id=t.pk, recipient_id=planned[0], remind_at=planned[1]))
    Reminder.objects.bulk_create(reminders, batch_size=BATCH, ignore_conflicts=True)
    summary.add("reminders", len(reminders))

    names_of = {pk: short_repr(u)[:150] for pk, u in users.items()}
    events = [
        TimelineEvent(
            occurred_at=i.occurred_at,
            event="interaction.logged",
            model="activities.interaction",
            object_id=i.pk,
            object_repr=short_repr(i),
            account_id=i.account_id,
            contact_id=i.contact_id,
            actor_id=i.owner_id,
            actor_name=names_of.get(i.owner_id, ""),
            data={"kind": i.kind, "title": i.subject, "body": i.body[:1000]},
        )
        for i in interactions
    ]
    for t in tasks:
        if t.account_id is None:
            continue
        due_iso = t.due_at.isoformat() if t.due_at else None
        common: dict[str, Any] = {
            "model": "activities.task",
            "object_id": t.pk,
            "object_repr": short_repr(t),
            "account_id": t.account_id,
            "contact_id": t.contact_id,
            "actor_id": t.owner_id,
            "actor_name": names_of.get(t.owner_id, ""),
            "data": {"title": t.title, "due_at": due_iso},
        }
        events.append(TimelineEvent(occurred_at=t.created_at, event="task.created", **common))
        if t.status == "done" and t.completed_at:
            events.append(TimelineEvent(occurred_at=t.completed_at, event="task.completed", **common))
    TimelineEvent.objects.bulk_create(events, batch_size=BATCH)
    summary.add("timeline events", len(events))
    last_contact_sync([a.pk for a in accounts])


def last_contact_sync(account_ids: list[int]) -> None:
    """`last_activity_at` of these accounts and their contacts = their latest interaction."""
    from kehu.activities.models import Interaction
    from kehu.customers.models import Account, Contact

    for k in range(0, len(account_ids), BATCH):
        ids = account_ids[k : k + BATCH]
        latest = (
            Interaction.objects.filter(account_id=OuterRef("pk"))
            .order_by()
            .values("account_id")
            .annotate(at=Max("occurred_at"))
            .values("at")
        )
        Account.objects.filter(pk__in=ids).update(last_activity_at=Subquery(latest))
        per_contact = (
            Interaction.objects.filter(contact_id=OuterRef("pk"))
            .order_by()
            .values("contact_id")
            .annotate(at=Max("occurred_at"))
            .values("at")
        )
        Contact.objects.filter(account_id__in=ids).update(last_activity_at=Subquery(per_contact))


def _own_tasks(users: dict[int, Any], now: dt.datetime, today: dt.date) -> list[Any]:
    from kehu.activities.models import Task

    out = []
    rng = random.Random(data.DEMO_SEED + 7)
    for user in users.values():
        if not user.username.startswith(("rep", "manager")):
            continue
        for title, recurrence, day, hour in OWN_TASKS:
            if recurrence == "weekly":
                due_day = today + dt.timedelta(days=(day - today.weekday()) % 7)
            else:
                due_day = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=day)
            out.append(
                Task(
                    title=title,
                    due_at=dt.datetime(due_day.year, due_day.month, due_day.day, hour, tzinfo=TZ),
                    recurrence=recurrence,
                    priority="normal",
                    remind_before_minutes=60,
                    owner_id=user.pk,
                    department_id=user.department_id,
                    created_by_id=user.pk,
                )
            )
        for k, title in enumerate(NOTE_TASKS):  # today's to-dos, one already overdue
            due = dt.datetime(today.year, today.month, today.day, 10 + 3 * k, 0, tzinfo=TZ)
            out.append(
                Task(
                    title=title,
                    due_at=due - dt.timedelta(days=1 if k == 0 else 0),
                    priority=_w(rng, PRIORITIES),
                    remind_before_minutes=15 if due > now else None,
                    owner_id=user.pk,
                    department_id=user.department_id,
                    created_by_id=user.pk,
                )
            )
    return out
