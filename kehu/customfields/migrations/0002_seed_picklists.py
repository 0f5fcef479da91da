"""Seed the system picklists (数据字典) the customer module uses: industry, source, customer level.

Codes are stable; labels and colours are editable by admins afterwards (this never overwrites them).
"""

from django.db import migrations

PICKLISTS = [
    (
        "industry",
        "行业",
        "Industry",
        [
            ("it", "信息技术", "Information technology", "blue"),
            ("manufacturing", "制造业", "Manufacturing", "indigo"),
            ("finance", "金融", "Finance", "green"),
            ("retail", "零售", "Retail", "orange"),
            ("wholesale", "批发贸易", "Wholesale and trade", "yellow"),
            ("healthcare", "医疗健康", "Healthcare", "red"),
            ("education", "教育培训", "Education", "cyan"),
            ("real_estate", "房地产", "Real estate", "purple"),
            ("construction", "建筑工程", "Construction", "lime"),
            ("energy", "能源化工", "Energy and chemicals", "teal"),
            ("logistics", "物流运输", "Logistics and transport", "azure"),
            ("government", "政府及公共事业", "Government and public sector", "gray"),
            ("media", "文化传媒", "Media and entertainment", "pink"),
            ("services", "专业服务", "Professional services", "blue"),
            ("agriculture", "农林牧渔", "Agriculture", "green"),
            ("other", "其他", "Other", "gray"),
        ],
    ),
    (
        "source",
        "来源",
        "Source",
        [
            ("website", "官网", "Website", "blue"),
            ("search", "搜索引擎", "Search engine", "azure"),
            ("referral", "客户推荐", "Referral", "green"),
            ("inbound_call", "电话咨询", "Inbound call", "teal"),
            ("cold_call", "电话营销", "Cold call", "cyan"),
            ("exhibition", "展会", "Trade show", "purple"),
            ("advertising", "广告", "Advertising", "orange"),
            ("wechat", "微信", "WeChat", "lime"),
            ("social_media", "社交媒体", "Social media", "pink"),
            ("partner", "合作伙伴", "Partner", "indigo"),
            ("other", "其他", "Other", "gray"),
        ],
    ),
    (
        "customer_level",
        "客户级别",
        "Customer level",
        [
            ("vip", "VIP 客户", "VIP", "red"),
            ("a", "A 类客户", "Class A", "orange"),
            ("b", "B 类客户", "Class B", "blue"),
            ("c", "C 类客户", "Class C", "gray"),
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
    dependencies = [("customfields", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
