"""Default ticket statuses and their flow, ticket types (service request, complaint, inquiry,
after-sales return/exchange/repair), a few categories and the CSAT survey. Admins may rename, add
and rewire them."""

from django.db import migrations

STATUSES = [
    # code, name, English name, state, position, colour, initial, may move to
    ("new", "新建", "New", "new", 10, "blue", True, ["assigned", "in_progress", "waiting", "resolved", "closed"]),
    ("assigned", "已分派", "Assigned", "assigned", 20, "cyan", False, ["in_progress", "waiting", "resolved", "closed"]),
    ("in_progress", "处理中", "In progress", "in_progress", 30, "indigo", False, ["waiting", "resolved", "closed"]),
    ("waiting", "等待客户", "Waiting on customer", "waiting", 40, "yellow", False, ["in_progress", "resolved", "closed"]),
    ("resolved", "已解决", "Resolved", "resolved", 50, "green", False, ["closed", "in_progress"]),
    ("closed", "已关闭", "Closed", "closed", 60, "secondary", False, ["in_progress"]),
]

TYPES = [
    # code, name, English name, kind, after-sales action, requires order, priority, position
    ("request", "服务请求", "Service request", "request", "", False, 2, 10),
    ("complaint", "投诉", "Complaint", "complaint", "", False, 3, 20),
    ("inquiry", "咨询", "Inquiry", "inquiry", "", False, 2, 30),
    ("return", "退货", "Return", "after_sales", "return", True, 2, 40),
    ("exchange", "换货", "Exchange", "after_sales", "exchange", True, 2, 50),
    ("repair", "维修", "Repair", "after_sales", "repair", True, 2, 60),
]

CATEGORIES = [
    ("产品质量", "Product quality"),
    ("安装与使用", "Installation and use"),
    ("物流配送", "Delivery"),
    ("账单与发票", "Billing and invoices"),
    ("账号与权限", "Account and access"),
    ("其他", "Other"),
]


def seed(apps, schema_editor):
    TicketStatus = apps.get_model("service", "TicketStatus")
    TicketType = apps.get_model("service", "TicketType")
    TicketCategory = apps.get_model("service", "TicketCategory")
    Survey = apps.get_model("service", "Survey")
    Sequence = apps.get_model("core", "Sequence")
    if not TicketStatus.objects.exists():
        made = {}
        for code, name, name_en, state, position, colour, initial, _next in STATUSES:
            made[code] = TicketStatus.objects.create(
                code=code, name=name, name_en=name_en, state=state, position=position, colour=colour,
                is_initial=initial,
            )
        for code, *_rest, next_codes in STATUSES:
            made[code].next_statuses.set([made[n] for n in next_codes])
    if not TicketType.objects.exists():
        for code, name, name_en, kind, action, requires_order, priority, position in TYPES:
            TicketType.objects.create(
                code=code, name=name, name_en=name_en, kind=kind, after_sales_action=action,
                requires_order=requires_order, default_priority=priority, position=position,
            )
    if not TicketCategory.objects.exists():
        for position, (name, name_en) in enumerate(CATEGORIES, start=1):
            TicketCategory.objects.create(name=name, name_en=name_en, position=position * 10)
    if not Survey.objects.filter(kind="csat").exists():
        Survey.objects.create(
            kind="csat", name="服务满意度", name_en="Service satisfaction",
            question="您对本次服务满意吗？", question_en="How satisfied are you with the help you received?",
            send_on_resolve=True,
        )
    Sequence.objects.get_or_create(key="ticket", defaults={"prefix": "TK"})
    Sequence.objects.get_or_create(key="article", defaults={"prefix": "KB", "pattern": "{prefix}-{n:05d}", "reset": "never"})


class Migration(migrations.Migration):
    dependencies = [("service", "0002_tickets_sla_kb_surveys"), ("core", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
