"""Service and support in the demo company (issue 8): a business calendar with this year's Chinese
public holidays and make-up working days, queues (一线支持, 售后服务, 投诉处理) with the demo agents,
SLA policies, a support mailbox, a year of tickets with realistic histories (created by phone,
e-mail and the web form, assigned, answered, waiting on the customer, resolved, closed, a few
of the last days' reopened by the customer writing again, two merged duplicates), knowledge-base
articles, CSAT answers on resolved tickets, an NPS survey with answers, and churn rules.

Tickets go through the ticket services (one request id per ticket, so `backdate()` moves the audit
entries of its steps to the ticket's moments; the services date the history, messages and timeline
events themselves). About 2,000 tickets at scale 1 (`company.scale()` shrinks them for tests).
Seeded (`data.DEMO_SEED`): the same tickets on every machine, relative to the day of loading.
Idempotent: a stage that finds demo tickets does not add more; calendars, queues, policies, rules
and surveys are looked up by name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import uuid
import zlib
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone

from kehu.core.context import acting_as

from . import data
from .company import scale

VERSION = 1
TZ = ZoneInfo(data.DEMO_TIME_ZONE)
TICKETS = 2000
MIN_TICKETS = 40
# Tickets of the last RECENT_DAYS go through the services; older ones are written in bulk.
RECENT_DAYS = 10
BATCH = 500

CALENDAR = "中国大陆工作日历"
QUEUES = (
    # name, English name, assignment, members, manager, e-mail
    ("一线支持", "First-line support", "round_robin", ("agent1", "agent2"), "svcmanager", "support"),
    ("售后服务", "After-sales", "least_loaded", ("agent2", "agent1"), "svcmanager", "aftersales"),
    ("投诉处理", "Complaints", "manual", ("svcmanager", "agent1"), "svcmanager", "complaints"),
)
POLICIES: tuple[tuple[str, str, dict[str, Any], int, int, int], ...] = (
    # name, English name, conditions, first response, next response, resolution (business minutes)
    ("VIP 客户紧急", "VIP urgent", {"priorities": [4], "account_levels": ["vip"]}, 30, 60, 240),
    ("紧急", "Urgent", {"priorities": [4]}, 60, 120, 480),
    ("投诉", "Complaints", {"types_codes": ["complaint"]}, 120, 240, 1440),
    ("标准", "Standard", {}, 240, 480, 2700),
)
SUBJECTS = {
    "request": (
        ("系统登录后页面空白", "登录后首页一直显示空白，清缓存也不行。"),
        ("申请开通新员工账号", "新入职两位同事，需要开通系统账号并分配销售角色。"),
        ("打印机无法连接服务器", "办公室打印机从昨天开始连不上服务器，提示网络错误。"),
        ("数据导出格式问题", "导出的 Excel 中日期列显示为数字，麻烦看一下。"),
        ("需要上门安装调试", "新到的服务器需要安排工程师上门安装调试。"),
        ("培训课程预约", "想为销售团队预约下个月的系统使用培训。"),
    ),
    "inquiry": (
        ("咨询年度运维服务内容", "年度运维服务具体包含哪些内容？是否有现场支持？"),
        ("发票开具时间咨询", "上月的款项已付，请问发票什么时候可以开出？"),
        ("产品升级计划咨询", "请问明年是否有新版本发布？升级是否收费？"),
        ("合同续签流程咨询", "合同下月到期，续签需要准备哪些材料？"),
    ),
    "complaint": (
        ("交付延期投诉", "合同约定上周交付，至今没有收到货物，也没有人通知我们。"),
        ("服务态度投诉", "上次来电时客服态度很差，问题也没有解决。"),
        ("多次维修未解决", "同一台设备已经报修三次，问题依旧，要求更换。"),
    ),
    "return": (("收到的交换机型号不符", "订单中的交换机型号与合同不符，申请退货。"),),
    "exchange": (("硬盘有坏道申请换货", "新到的存储硬盘检测出坏道，申请换货。"),),
    "repair": (("服务器电源故障报修", "服务器电源模块故障，无法开机，请安排维修。"),),
}
REPLIES = (
    "您好，已收到您的反馈，我们正在排查，稍后给您回复。",
    "您好，问题已定位，是网络配置导致的，我们已远程调整，请您再试一下。",
    "您好，请提供一下设备序列号和故障截图，方便我们进一步处理。",
    "您好，已为您安排工程师明天上午上门处理。",
    "您好，已按您的要求处理完毕，如有其他问题请随时联系我们。",
)
CUSTOMER_FOLLOW_UPS = (
    "好的，谢谢。",
    "序列号是 SN20260315，截图见附件。",
    "试了一下还是不行。",
    "已经可以了，谢谢！",
)
NOTES = ("客户比较着急，优先处理。", "已与仓库确认库存。", "需要二线支持协助。", "客户为重点客户，注意跟进。")
CSAT_COMMENTS = ("处理很及时，满意！", "工程师很专业。", "", "响应有点慢。", "问题解决了，谢谢。", "")
NPS_COMMENTS = ("产品稳定，服务好。", "价格偏高。", "", "希望增加移动端功能。", "会推荐给同行。")


def _rng(*key: object) -> random.Random:
    return random.Random(zlib.crc32("/".join(map(str, (data.DEMO_SEED, "service", *key))).encode()))


def _count() -> int:
    return max(MIN_TICKETS, round(TICKETS * scale()))


class Loader:
    def __init__(self, summary: Any, users: dict[str, Any]) -> None:
        from django.db.models import Max

        from kehu.audit.models import ObjectChange

        self.summary = summary
        self.users = users
        self.admin = users["admin"]
        self.now = timezone.now()
        self.run = uuid.uuid4().hex[:12]
        self.moments: dict[str, dt.datetime] = {}
        self.started = self.now
        self.recent: list[int] = []  # tickets of the last two days (their notifications stay unread)
        self.bulk_ids: list[int] = []  # tickets written in bulk (indexed for search at the end)
        self.first_change = ObjectChange.objects.aggregate(m=Max("pk"))["m"] or 0

    # --- set-up ---------------------------------------------------------------------------------

    def calendar(self) -> Any:
        from kehu.service import services
        from kehu.service.models import BusinessCalendar
        from kehu.service.services import ServiceError

        found = BusinessCalendar.objects.filter(name=CALENDAR).first()
        if found is not None:
            return found
        calendar = services.calendar_create(
            by=self.admin, data={"name": CALENDAR, "time_zone": "Asia/Shanghai"}
        )
        for weekday in range(5):
            services.calendar_set_hours(
                calendar=calendar,
                weekday=weekday,
                intervals=[("09:00", "12:00"), ("13:30", "18:00")],
                by=self.admin,
            )
        year = timezone.localdate().year
        for y in (year - 1, year):
            with contextlib.suppress(ServiceError):  # a year without a holiday table is skipped
                services.calendar_days_load_holidays(calendar=calendar, year=y, by=self.admin)
        if not BusinessCalendar.objects.filter(is_default=True).exists():
            services.calendar_make_default(calendar=calendar, by=self.admin)
        self.summary.add("business calendars")
        return calendar

    def queues(self, calendar: Any) -> dict[str, Any]:
        from kehu.service.models import Mailbox, Queue, QueueMember

        made = {}
        for name, name_en, assignment, members, manager, mailbox in QUEUES:
            queue = Queue.objects.filter(name=name).first()
            if queue is None:
                queue = Queue.objects.create(
                    name=name,
                    name_en=name_en,
                    assignment=assignment,
                    manager=self.users.get(manager),
                    calendar=calendar,
                    email=f"{mailbox}@{data.DEMO_EMAIL_DOMAIN}",
                )
                for username in members:
                    if username in self.users:
                        QueueMember.objects.get_or_create(queue=queue, user=self.users[username])
                self.summary.add("queues")
            made[name] = queue
        if not Mailbox.objects.exists():
            Mailbox.objects.create(
                name="客服邮箱",
                email=f"support@{data.DEMO_EMAIL_DOMAIN}",
                queue=made["一线支持"],
                is_active=False,  # no IMAP server in the demo
            )
        return made

    def policies(self, queues: dict[str, Any]) -> None:
        from kehu.service.models import SLAPolicy, TicketType

        complaint = list(TicketType.objects.filter(code="complaint").values_list("pk", flat=True))
        for position, (name, name_en, conditions, first, following, resolution) in enumerate(
            POLICIES, start=1
        ):
            if SLAPolicy.objects.filter(name=name).exists():
                continue
            conds: dict[str, Any] = dict(conditions)
            if conds.pop("types_codes", None):
                conds["types"] = complaint
            SLAPolicy.objects.create(
                name=name,
                name_en=name_en,
                position=position * 10,
                conditions=conds,
                first_response_minutes=first,
                next_response_minutes=following,
                resolution_minutes=resolution,
                raise_priority_to=4 if name == "投诉" else None,
                escalate_to_queue=queues["投诉处理"] if name == "VIP 客户紧急" else None,
            )
            self.summary.add("SLA policies")

    def duplicates(self, tickets: list[Any]) -> None:
        """Two customers wrote twice about the same problem: the second ticket was merged into the
        first by its agent."""
        from kehu.service.services import tickets as services

        originals = [t for t in tickets if t.account_id and t.assignee_id and t.is_open][:2]
        for i, original in enumerate(originals):
            moment = min(original.created_at + dt.timedelta(hours=2), self.now)
            request_id = f"demo-{self.run}-m{i}"
            self.moments[request_id] = moment
            with acting_as(None, source="command", request_id=request_id):
                duplicate = services.ticket_create(
                    by=None,
                    data={
                        "subject": f"回复：{original.subject}",
                        "queue": original.queue,
                        "description": "<p>请问处理得怎么样了？</p>",
                        "type": original.type,
                        "channel": "email",
                        "account": original.account,
                        "contact": original.contact,
                        "requester_name": original.requester_name,
                        "requester_email": original.requester_email,
                    },
                    now=moment,
                )
                services.ticket_merge(source=duplicate, target=original, by=original.assignee)
            self.summary.add("merged tickets")

    def satisfaction(self) -> None:
        """CSAT answers on about a third of the resolved tickets that had a contact (mostly 4 and 5
        stars, a few low ones), and last quarter's NPS survey with answers, written in bulk (the
        invitations as sent, the answers an hour to two days after)."""
        from kehu.service.choices import SurveyKind, TicketState
        from kehu.service.models import Survey, SurveyInvitation, SurveyResponse, Ticket
        from kehu.service.services.surveys import csat_survey

        csat = csat_survey()
        if csat is None or SurveyResponse.objects.exists():
            return
        invitations, answers = [], []
        done = Ticket.objects.filter(
            state__in=(TicketState.RESOLVED, TicketState.CLOSED),
            contact__isnull=False,
            merged_into__isnull=True,
        ).select_related("contact")
        for ticket in done.order_by("pk"):
            rng = _rng("csat", ticket.pk)
            if ticket.resolved_at is None or rng.random() > 0.35:
                continue
            sent = ticket.resolved_at + dt.timedelta(minutes=5)
            answered = min(sent + dt.timedelta(minutes=rng.randint(60, 60 * 48)), self.now)
            invitation = SurveyInvitation(
                survey=csat,
                ticket=ticket,
                account_id=ticket.account_id,
                contact_id=ticket.contact_id,
                email=ticket.contact.email if ticket.contact else "",
                sent_at=sent,
                expires_at=sent + dt.timedelta(days=csat.valid_days),
                answered_at=answered,
            )
            invitations.append(invitation)
            score = rng.choices((5, 4, 3, 2, 1), weights=(52, 28, 10, 6, 4))[0]
            answers.append((invitation, score, rng.choice(CSAT_COMMENTS), answered, ticket))
        nps = Survey.objects.filter(kind=SurveyKind.NPS).first()
        if nps is None:
            nps = Survey.objects.create(
                kind=SurveyKind.NPS,
                name="年度客户推荐度调查",
                name_en="Yearly customer recommendation survey",
                question="您有多大可能向朋友或同事推荐我们？",
                question_en="How likely are you to recommend us to a friend or colleague?",
                frequency="yearly",
                created_by=self.users.get("svcmanager") or self.admin,
                last_run_at=self.now - dt.timedelta(days=75),
                next_run_at=self.now + dt.timedelta(days=290),
            )
        from kehu.customers.models import Contact

        run = self.now - dt.timedelta(days=75)
        for contact in Contact.objects.exclude(email="").order_by("pk"):
            rng = _rng("nps", contact.pk)
            invitation = SurveyInvitation(
                survey=nps,
                account_id=contact.account_id,
                contact=contact,
                email=contact.email,
                run=run,
                sent_at=run,
                expires_at=run + dt.timedelta(days=nps.valid_days),
            )
            invitations.append(invitation)
            if rng.random() < 0.6:
                answered = run + dt.timedelta(hours=rng.randint(1, 24 * 10))
                invitation.answered_at = answered
                score = rng.choices(range(11), weights=(2, 1, 1, 2, 2, 4, 6, 10, 20, 26, 26))[0]
                answers.append((invitation, score, rng.choice(NPS_COMMENTS), answered, None))
        SurveyInvitation.objects.bulk_create(invitations, batch_size=BATCH)
        SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(
                    survey=invitation.survey,
                    kind=invitation.survey.kind,
                    invitation=invitation,
                    ticket=ticket,
                    account_id=invitation.account_id,
                    contact_id=invitation.contact_id,
                    agent_id=ticket.assignee_id if ticket is not None else None,
                    score=score,
                    comment=comment,
                    created_at=answered,
                )
                for invitation, score, comment, answered, ticket in answers
            ],
            batch_size=BATCH,
        )
        self.summary.add("survey answers", len(answers))

    def churn(self) -> None:
        """The four churn rules, evaluated once: the flagged accounts get a follow-up task for their
        owner."""
        from kehu.service.models import ChurnRule
        from kehu.service.services import churn

        if ChurnRule.objects.exists():
            return
        for name, name_en, signal, threshold, window in (
            ("90 天未下单", "No order for 90 days", "no_order", 90, 90),
            ("NPS 贬损者", "NPS detractor", "nps_detractor", 6, 180),
            ("30 天内投诉超过 2 次", "More than 2 complaints in 30 days", "complaints", 2, 30),
            ("满意度评分低", "Low CSAT rating", "low_csat", 2, 60),
        ):
            churn.churn_rule_create(
                by=self.admin,
                data={
                    "name": name,
                    "name_en": name_en,
                    "signal": signal,
                    "threshold": threshold,
                    "window_days": window,
                },
            )
        result = churn.churn_evaluate(now=self.now)
        self.summary.add("at-risk accounts", result.get("flagged", 0))

    def knowledge(self) -> None:
        """Fifty knowledge-base articles (FAQ and internal), written by the service manager."""
        from .service_knowledge import seed_articles

        made = seed_articles(author=self.users.get("svcmanager") or self.admin)
        self.summary.add("knowledge base articles", made)

    # --- tickets --------------------------------------------------------------------------------

    def ticket(
        self, i: int, age_days: float, account: Any, queues: dict[str, Any], types: dict[str, Any]
    ) -> Any:
        from kehu.service.choices import TicketState
        from kehu.service.models import TicketStatus
        from kehu.service.services import tickets as services

        rng = _rng("ticket", i)
        created = self._created(rng, age_days)
        code, subject, body, priority, channel, contact, queue, order = self._pick(
            rng, account, queues, types
        )
        request_id = f"demo-{self.run}-t{i}"
        self.moments[request_id] = created
        with acting_as(None, source="command", request_id=request_id):
            ticket = services.ticket_create(
                by=None,
                data={
                    "subject": subject,
                    "description": f"<p>{body}</p>",
                    "type": types[code],
                    "priority": priority,
                    "channel": channel,
                    "account": account,
                    "contact": contact,
                    "requester_name": contact.name if contact else "",
                    "requester_email": (contact.email if contact else "") or "",
                    "order": order,
                    "queue": queue,
                },
                message={
                    "from_name": contact.name if contact else "",
                    "from_email": contact.email if contact else "",
                },
                now=created,
            )
            agent = ticket.assignee or self.users.get("agent1")
            if ticket.assignee is None and agent is not None:
                services.ticket_assign(ticket=ticket, by=None, assignee=agent)
            moment = created
            fate = rng.random()
            open_ticket = age_days < 12 and fate < 0.6
            steps = rng.randint(1, 3)
            for step in range(steps):
                moment = moment + dt.timedelta(minutes=rng.randint(15, 60 * 26))
                if moment >= self.now:
                    break
                if rng.random() < 0.2:
                    services.ticket_add_note(ticket=ticket, by=agent, body=rng.choice(NOTES), now=moment)
                waiting = TicketStatus.objects.filter(code="waiting").first()
                ask = step < steps - 1 and rng.random() < 0.4
                services.ticket_reply(
                    ticket=ticket,
                    by=agent,
                    body=rng.choice(REPLIES),
                    status=waiting if ask and waiting is not None and waiting != ticket.status else None,
                    now=moment,
                )
                moment = moment + dt.timedelta(minutes=rng.randint(20, 60 * 30))
                if moment >= self.now:
                    break
                services.ticket_add_customer_message(
                    ticket=ticket,
                    body=rng.choice(CUSTOMER_FOLLOW_UPS),
                    from_name=ticket.requester_name,
                    from_email=ticket.requester_email,
                    channel=channel,
                    now=moment,
                )
            ticket.refresh_from_db()
            if not open_ticket and moment < self.now:
                moment = min(moment + dt.timedelta(hours=rng.randint(1, 30)), self.now)
                resolved = TicketStatus.objects.get(code="resolved")
                if ticket.status != resolved:
                    services.ticket_move(ticket=ticket, by=agent, status=resolved, note="", now=moment)
                again = moment + dt.timedelta(hours=rng.randint(3, 20))
                if rng.random() < 0.15 and again + dt.timedelta(hours=2) < self.now:
                    # the customer writes again: the ticket reopens, is answered and resolved anew
                    services.ticket_add_customer_message(
                        ticket=ticket,
                        body="问题又出现了，麻烦再看一下。",
                        from_name=ticket.requester_name,
                        from_email=ticket.requester_email,
                        channel=channel,
                        now=again,
                    )
                    moment = again + dt.timedelta(hours=1)
                    services.ticket_reply(ticket=ticket, by=agent, body=rng.choice(REPLIES), now=moment)
                    ticket.refresh_from_db()
                    services.ticket_move(ticket=ticket, by=agent, status=resolved, note="", now=moment)
                if age_days > 7:
                    closed = TicketStatus.objects.get(code="closed")
                    services.ticket_move(
                        ticket=ticket,
                        by=None,
                        status=closed,
                        now=min(moment + dt.timedelta(days=7), self.now),
                    )
            ticket.refresh_from_db()
        self.summary.add("tickets")
        if age_days < 2:
            self.recent.append(ticket.pk)
        if ticket.state in (TicketState.RESOLVED, TicketState.CLOSED):
            self.summary.add("resolved tickets")
        return ticket

    def history(
        self, plans: list[tuple[int, float, Any]], queues: dict[str, Any], types: dict[str, Any]
    ) -> None:
        """Tickets older than RECENT_DAYS, all resolved and closed long since, written in bulk with
        what the services keep: the ticket row (SLA due times from its policy, breaches where the
        answer or the resolution came late), its conversation, its status history, and the
        "ticket.created" / "ticket.status_changed" timeline events on the account."""
        from kehu.audit.models import TimelineEvent
        from kehu.audit.values import short_repr
        from kehu.core.richtext import html_to_text
        from kehu.core.services import sequence_next
        from kehu.service.choices import MessageKind, TicketState
        from kehu.service.models import Ticket, TicketMessage, TicketStatus, TicketStatusHistory
        from kehu.service.services import sla

        statuses = {s.code: s for s in TicketStatus.objects.all()}
        agents = [self.users[u] for u in ("agent1", "agent2") if u in self.users]
        rows: list[
            tuple[Ticket, list[tuple[str, Any, str, dt.datetime]], list[tuple[str, dt.datetime, Any]]]
        ] = []
        for i, age_days, account in plans:
            rng = _rng("ticket", i)
            created = self._created(rng, age_days)
            code, subject, body, priority, channel, contact, queue, order = self._pick(
                rng, account, queues, types
            )
            agent = (
                queue.manager
                if code == "complaint" and queue.manager
                else rng.choice(agents)
                if agents
                else None
            )
            ticket = Ticket(
                number=sequence_next(key="ticket", prefix="TK"),
                subject=subject,
                description=f"<p>{body}</p>",
                description_text=body,
                type=types[code],
                status=statuses["closed"],
                state=TicketState.CLOSED,
                priority=priority,
                channel=channel,
                account=account,
                contact=contact,
                requester_name=contact.name if contact else "",
                requester_email=(contact.email if contact else "") or "",
                order=order,
                queue=queue,
                assignee=agent,
                department_id=getattr(agent, "department_id", None),
            )
            ticket.created_at = created
            sla.sla_apply(ticket=ticket, now=created)
            # the conversation: the customer's message, the answers and the customer's follow-ups
            moment = created
            messages: list[tuple[str, Any, str, dt.datetime]] = [
                (MessageKind.CUSTOMER, None, f"<p>{body}</p>", created)
            ]
            for _step in range(rng.randint(1, 3)):
                moment += dt.timedelta(minutes=rng.randint(15, 60 * 20))
                if rng.random() < 0.2:
                    messages.append((MessageKind.NOTE, agent, f"<p>{rng.choice(NOTES)}</p>", moment))
                messages.append((MessageKind.REPLY, agent, f"<p>{rng.choice(REPLIES)}</p>", moment))
                if ticket.first_responded_at is None:
                    ticket.first_responded_at = moment
                ticket.last_agent_message_at = moment
                moment += dt.timedelta(minutes=rng.randint(20, 60 * 24))
                messages.append(
                    (MessageKind.CUSTOMER, None, f"<p>{rng.choice(CUSTOMER_FOLLOW_UPS)}</p>", moment)
                )
                ticket.last_customer_message_at = moment
            resolved = moment + dt.timedelta(hours=rng.randint(1, 30))
            closed = resolved + dt.timedelta(days=7)
            ticket.resolved_at, ticket.closed_at = resolved, closed
            ticket.first_response_breached = bool(
                ticket.first_response_due
                and ticket.first_responded_at
                and ticket.first_responded_at > ticket.first_response_due
            )
            ticket.resolution_breached = bool(ticket.resolution_due and resolved > ticket.resolution_due)
            ticket.next_response_due = None
            ticket.sla_next_check = None
            assigned_at = created + dt.timedelta(minutes=rng.randint(1, 20))
            moves = [
                ("new", created, None),
                ("assigned", assigned_at, None),
                ("in_progress", min(ticket.first_responded_at or resolved, resolved), agent),
                ("resolved", resolved, agent),
                ("closed", closed, None),
            ]
            rows.append((ticket, messages, moves))
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            # bulk_create stamps created_at (auto_now_add) on the instances: keep the real moments
            moments = [moves[0][1] for _t, _m, moves in chunk]
            made = Ticket.objects.bulk_create([t for t, _m, _s in chunk])
            for ticket, moment in zip(made, moments, strict=True):
                ticket.created_at = moment
            when = Case(
                *(When(pk=t.pk, then=Value(t.created_at)) for t in made), output_field=DateTimeField()
            )
            Ticket.objects.filter(pk__in=[t.pk for t in made]).update(created_at=when, updated_at=when)
            TicketMessage.objects.bulk_create(
                TicketMessage(
                    ticket=t,
                    kind=kind,
                    author=author,
                    from_name=str(author) if author else t.requester_name,
                    from_email="" if author else t.requester_email,
                    subject=t.subject,
                    body=html,
                    body_text=html_to_text(html),
                    channel=t.channel,
                    created_at=at,
                )
                for t, messages, _s in chunk
                for kind, author, html, at in messages
            )
            history, events = [], []
            for t, _m, moves in chunk:
                before = None
                for code, at, by in moves:
                    status = statuses[code]
                    history.append(
                        TicketStatusHistory(
                            ticket=t,
                            from_status=before,
                            to_status=status,
                            from_state=before.state if before else "",
                            to_state=status.state,
                            changed_by=by,
                            changed_at=at,
                        )
                    )
                    before = status
                common = {"model": "service.ticket", "object_id": t.pk, "object_repr": short_repr(t)[:200]}
                events.append(
                    TimelineEvent(
                        occurred_at=t.created_at,
                        event="ticket.created",
                        account_id=t.account_id,
                        contact_id=t.contact_id,
                        data={"number": t.number, "subject": t.subject, "channel": t.channel},
                        **common,
                    )
                )
                events.append(
                    TimelineEvent(
                        occurred_at=t.resolved_at or t.created_at,
                        event="ticket.status_changed",
                        account_id=t.account_id,
                        actor=t.assignee,
                        actor_name=str(t.assignee or "")[:150],
                        data={
                            "from": "in_progress",
                            "to": "resolved",
                            "from_state": "in_progress",
                            "to_state": "resolved",
                        },
                        **common,
                    )
                )
            TicketStatusHistory.objects.bulk_create(history)
            TimelineEvent.objects.bulk_create(events)
            self.bulk_ids.extend(t.pk for t in made)
            self.summary.add("tickets", len(made))
            self.summary.add("resolved tickets", len(made))

    def _created(self, rng: random.Random, age_days: float) -> dt.datetime:
        # office hours in the demo's time zone (Asia/Shanghai)
        created = timezone.localtime(self.now - dt.timedelta(days=age_days), TZ)
        created = created.replace(hour=rng.choice((9, 10, 11, 14, 15, 16)), minute=rng.randint(0, 59))
        return min(created, self.now - dt.timedelta(minutes=30))

    def _pick(
        self, rng: random.Random, account: Any, queues: dict[str, Any], types: dict[str, Any]
    ) -> tuple[Any, ...]:
        """(type code, subject, body, priority, channel, contact, queue, order) of a ticket."""
        code = rng.choices(
            ("request", "inquiry", "complaint", "return", "exchange", "repair"),
            weights=(40, 25, 10, 8, 7, 10),
        )[0]
        order = None
        if types[code].requires_order:
            order = account.orders.order_by("-pk").first()
            if order is None:
                code = "request"
        subject, body = rng.choice(SUBJECTS[code])
        contacts = list(account.contacts.all()[:3])
        contact = rng.choice(contacts) if contacts else None
        if code == "complaint":
            queue = queues["投诉处理"]
        elif code in ("return", "exchange", "repair"):
            queue = queues["售后服务"]
        else:
            queue = queues["一线支持"]
        channel = rng.choices(("phone", "email", "web", "wechat", "walk_in"), weights=(35, 35, 15, 12, 3))[0]
        priority = rng.choices((1, 2, 3, 4), weights=(15, 55, 22, 8))[0]
        return code, subject, body, priority, channel, contact, queue, order

    def reindex(self) -> None:
        """Bulk writes fire no signals: index the bulk-written tickets for the global search."""
        from kehu.search.registry import is_indexed
        from kehu.search.services import search_reindex

        if not is_indexed("service.ticket"):
            return
        search_reindex(model="service.ticket", ids=self.bulk_ids)

    def backdate(self) -> None:
        from kehu.audit.models import ObjectChange

        ids = list(self.moments)
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            moment = Case(
                *(When(request_id=rid, then=Value(self.moments[rid])) for rid in chunk),
                output_field=DateTimeField(),
            )
            ObjectChange.objects.filter(pk__gt=self.first_change, request_id__in=chunk).update(time=moment)

    def quiet(self) -> None:
        """The demo's past ticket notifications (assignments, customer messages) count as read,
        except the last two days' — the agents' bell shows what happened lately."""
        from kehu.notifications.models import Notification

        Notification.objects.filter(
            target_model="service.ticket", read_at__isnull=True, created_at__gte=self.started
        ).exclude(target_id__in=self.recent).update(read_at=self.now)


def load(summary: Any) -> None:
    from kehu.customers.models import Account
    from kehu.service.models import Ticket, TicketType
    from kehu.users.models import User

    users = {u.username: u for u in User.objects.filter(username__in=[u.username for u in data.USERS])}
    if "admin" not in users:
        return
    loader = Loader(summary, users)
    calendar = loader.calendar()
    queues = loader.queues(calendar)
    loader.policies(queues)
    loader.knowledge()
    if Ticket.objects.exists():
        return
    types = {t.code: t for t in TicketType.objects.all()}
    accounts = list(Account.objects.order_by("pk"))
    if not accounts:
        return
    n = _count()
    rng = _rng("accounts")
    # more recent tickets than old ones; created oldest first (numbers follow creation)
    ages = sorted((rng.random() ** 1.3 * 360 for _i in range(n)), reverse=True)
    plans = [(i, age, rng.choice(accounts)) for i, age in enumerate(ages)]
    # in the order they were created (the hour of the day is drawn too): numbers follow creation
    plans.sort(key=lambda p: loader._created(_rng("ticket", p[0]), p[1]))
    loader.history([p for p in plans if p[1] >= RECENT_DAYS], queues, types)
    recent = [loader.ticket(i, age, account, queues, types) for i, age, account in plans if age < RECENT_DAYS]
    loader.duplicates(recent)
    loader.satisfaction()
    loader.churn()
    loader.reindex()
    loader.backdate()
    loader.quiet()
