"""Seed the system picklists of leads and opportunities (数据字典): why a lead was unqualified
(lead_unqualified_reason), what a lead is interested in (product_interest) and why an
opportunity was lost (opportunity_loss_reason).

Codes are stable; labels and colours stay editable by admins (this never overwrites them)."""

from django.db import migrations

PICKLISTS = [
    (
        "lead_unqualified_reason",
        "线索无效原因",
        "Lead unqualified reason",
        [
            ("no_need", "无需求", "No need", "gray"),
            ("no_budget", "无预算", "No budget", "orange"),
            ("no_contact", "联系不上", "Cannot be reached", "yellow"),
            ("wrong_info", "信息错误", "Wrong information", "red"),
            ("duplicate", "重复线索", "Duplicate", "purple"),
            ("competitor", "已选竞品", "Chose a competitor", "pink"),
            ("other", "其他", "Other", "gray"),
        ],
    ),
    (
        "product_interest",
        "意向产品",
        "Product interest",
        [
            ("crm", "客户管理系统", "CRM software", "blue"),
            ("erp", "企业资源计划", "ERP software", "indigo"),
            ("hardware", "硬件设备", "Hardware", "teal"),
            ("consulting", "咨询服务", "Consulting", "green"),
            ("training", "培训服务", "Training", "cyan"),
            ("support", "运维服务", "Maintenance and support", "azure"),
            ("other", "其他", "Other", "gray"),
        ],
    ),
    (
        "opportunity_loss_reason",
        "输单原因",
        "Opportunity loss reason",
        [
            ("price", "价格过高", "Price too high", "red"),
            ("competitor", "输给竞争对手", "Lost to a competitor", "orange"),
            ("no_budget", "预算取消", "Budget cancelled", "yellow"),
            ("no_decision", "客户未决策", "No decision", "gray"),
            ("product_fit", "产品不匹配", "Product does not fit", "purple"),
            ("timing", "时机不对", "Bad timing", "cyan"),
            ("other", "其他", "Other", "gray"),
        ],
    ),
]


def seed(apps, schema_editor):
    Picklist = apps.get_model("customfields", "Picklist")
    PicklistItem = apps.get_model("customfields", "PicklistItem")
    for code, name, name_en, items in PICKLISTS:
        picklist, _ = Picklist.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "is_system": True}
        )
        for order, (value, label, label_en, color) in enumerate(items, start=1):
            PicklistItem.objects.get_or_create(
                picklist=picklist,
                value=value,
                defaults={"label": label, "label_en": label_en, "color": color, "order": order},
            )


def unseed(apps, schema_editor):
    Picklist = apps.get_model("customfields", "Picklist")
    Picklist.objects.filter(code__in=[p[0] for p in PICKLISTS], is_system=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0002_default_pipeline"), ("customfields", "0002_seed_picklists")]

    operations = [migrations.RunPython(seed, unseed)]
