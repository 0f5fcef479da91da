"""The finishing touches of the demo company: tag groups and coloured tags on accounts, a few
static groups, lifecycle history on the 360° timelines and eight weeks of data quality snapshots.

Tags and static groups go through the tags services (acting as the demo administrator, or the
group's owner); snapshots through the quality app's own `figures` and `QualitySnapshot` model.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from typing import Any

from django.utils import timezone

from . import data

VERSION = 1

# (group name, colour, exclusive, description, [(tag, colour, share of accounts)])
TAG_GROUPS: list[tuple[str, str, bool, str, list[tuple[str, str, float]]]] = [
    (
        "意向度",
        "red",
        True,
        "客户的购买意向（每个客户只能有一个）",
        [("意向高", "red", 0.18), ("意向中", "orange", 0.3), ("意向低", "gray", 0.2)],
    ),
    (
        "行业重点",
        "blue",
        False,
        "重点经营的行业客户",
        [("重点行业", "blue", 0.12), ("政府国企", "indigo", 0.05)],
    ),
    (
        "渠道来源",
        "teal",
        False,
        "客户最初从哪个渠道来",
        [("展会获客", "teal", 0.1), ("老客户介绍", "green", 0.08), ("线上推广", "cyan", 0.1)],
    ),
]
LOOSE_TAGS = [("战略客户", "purple", 0.03), ("需要回访", "yellow", 0.06)]
# (owner, name, description, shared, how many accounts of the owner's scope)
STATIC_GROUPS = [
    ("director", "2026 年度重点客户", "董事会关注的战略客户名单", True, 40),
    ("manager2", "华东区展会客户名单", "上海工博会收集的客户", True, 30),
    ("rep1", "本月拜访计划", "", False, 12),
]


def load(summary: Any) -> None:
    from kehu.customers.models import Account
    from kehu.tags import services as tag_services
    from kehu.tags.models import StaticGroup, Tag, TagGroup
    from kehu.users.models import User

    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in data.USERS])}
    admin = users.get("admin")
    if admin is None:
        return
    ids = list(Account.objects.filter(owner__in=users.values()).order_by("pk").values_list("pk", flat=True))
    groups = {g.name: g for g in TagGroup.objects.all()}
    tags = {(t.group_id, t.name): t for t in Tag.objects.all()}
    plan: list[tuple[Tag, float]] = []
    for order, (gname, colour, exclusive, description, members) in enumerate(TAG_GROUPS, start=1):
        group = groups.get(gname)
        if group is None:
            group = tag_services.tag_group_create(
                by=admin,
                data={
                    "name": gname,
                    "colour": colour,
                    "exclusive": exclusive,
                    "description": description,
                    "order": order,
                    "model_labels": ["customers.account"],
                },
            )
            summary.add("tag groups")
        for name, tcolour, share in members:
            tag = tags.get((group.pk, name))
            if tag is None:
                tag = tag_services.tag_create(
                    by=admin, data={"name": name, "group": group, "colour": tcolour}
                )
                summary.add("tags")
                plan.append((tag, share))
    for name, colour, share in LOOSE_TAGS:
        tag = tags.get((None, name))
        if tag is None:
            tag = tag_services.tag_create(by=admin, data={"name": name, "colour": colour})
            summary.add("tags")
            plan.append((tag, share))
    rng = random.Random(data.DEMO_SEED + 3)
    exclusive_taken: set[int] = set()
    for tag, share in plan:  # only newly created tags are put on accounts (idempotent)
        pool = ids
        if tag.group is not None and tag.group.exclusive:
            pool = [i for i in ids if i not in exclusive_taken]
        chosen = rng.sample(pool, min(len(pool), round(len(ids) * share)))
        if tag.group is not None and tag.group.exclusive:
            exclusive_taken.update(chosen)
        summary.add("tagged accounts", tag_services.tags_add(model=Account, ids=chosen, tags=[tag], by=admin))

    have = set(StaticGroup.objects.values_list("name", flat=True))
    for username, name, description, shared, size in STATIC_GROUPS:
        owner = users.get(username)
        if owner is None or name in have:
            continue
        static = tag_services.static_group_create(
            by=owner,
            data={
                "name": name,
                "model": "customers.account",
                "description": description,
                "is_shared": shared,
            },
        )
        visible = list(
            Account.objects.restrict(owner, "view")
            .filter(lifecycle_stage__in=("active", "mature", "new"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        picked = sorted(random.Random(zlib.crc32(name.encode())).sample(visible, min(size, len(visible))))
        tag_services.static_group_add(group=static, ids=picked, by=owner)
        summary.add("static groups")
    lifecycle_history(summary)
    quality_history(summary)


def lifecycle_history(summary: Any) -> None:
    """The move to an account's current lifecycle stage on its 360° timeline (what
    `account_set_lifecycle` records), once per account."""
    from kehu.audit.models import TimelineEvent
    from kehu.audit.values import short_repr
    from kehu.customers.models import Account
    from kehu.customers.services import LIFECYCLE_EVENT

    previous = {
        "new": "potential",
        "active": "new",
        "mature": "active",
        "declining": "mature",
        "churned": "declining",
    }
    done = set(TimelineEvent.objects.filter(event=LIFECYCLE_EVENT).values_list("account_id", flat=True))
    events = []
    names: dict[int, str] = {}
    for a in (
        Account.objects.filter(lifecycle_stage__in=list(previous), lifecycle_changed_at__isnull=False)
        .exclude(pk__in=done)
        .select_related("owner")
        .order_by("pk")
    ):
        if a.owner_id not in names:
            names[a.owner_id] = short_repr(a.owner)[:150]
        events.append(
            TimelineEvent(
                occurred_at=a.lifecycle_changed_at,
                event=LIFECYCLE_EVENT,
                model="customers.account",
                object_id=a.pk,
                object_repr=short_repr(a),
                account_id=a.pk,
                actor_id=a.owner_id,
                actor_name=names[a.owner_id],
                data={"changes": {"lifecycle_stage": [previous[a.lifecycle_stage], a.lifecycle_stage]}},
            )
        )
    TimelineEvent.objects.bulk_create(events, batch_size=1000)
    summary.add("timeline events", len(events))


def quality_history(summary: Any, weeks: int = 8) -> None:
    """Weekly data quality snapshots for the last `weeks` weeks, so the trend chart has a line.

    Each week's figures are the quality app's own (`selectors.figures`) over the records that
    existed then; filled shares and completeness were a little lower the further back (the demo
    company has been cleaning up its data), so the line slowly rises. Today's snapshot is the real
    one (`quality_snapshot_take`)."""
    from kehu.quality import selectors
    from kehu.quality.models import QualitySnapshot
    from kehu.quality.registry import quality_models
    from kehu.quality.services import quality_snapshot_take

    now = timezone.now()
    today = timezone.localdate(now)
    have = set(QualitySnapshot.objects.values_list("date", "model"))
    for entry in quality_models():
        current = selectors.figures(entry, entry.model._default_manager.all(), now=now, scan=False)
        for week in range(weeks, 0, -1):
            day = today - dt.timedelta(weeks=week)
            if (day, entry.label) in have:
                continue
            at = now - dt.timedelta(weeks=week)
            qs = entry.model._default_manager.filter(created_at__lte=at)
            figures = selectors.figures(entry, qs, now=at, scan=False)
            _worse(figures, 1 - 0.012 * week)
            # "No follow-up" cannot be recomputed for the past (last contact is only kept as of
            # now): a little more than today's the further back.
            if "no_follow_up" in current:
                figures["no_follow_up"] = {
                    k: min(figures["total"], round(v * (1 + 0.02 * week)))
                    for k, v in current["no_follow_up"].items()
                }
            QualitySnapshot.objects.update_or_create(
                date=day, model=entry.label, defaults={"figures": figures}
            )
            summary.add("quality snapshots")
    if not QualitySnapshot.objects.filter(date=today).exists():
        summary.add("quality snapshots", len(quality_snapshot_take(now=now)))


def _worse(figures: dict[str, Any], factor: float) -> None:
    total = figures.get("total") or 0
    for f in figures.get("fields", []):
        f["filled"] = int(f["filled"] * factor)
        f["share"] = round(100 * f["filled"] / total, 1) if total else 0
    if figures.get("average_completeness") is not None:
        figures["average_completeness"] = round(figures["average_completeness"] * factor, 1)
