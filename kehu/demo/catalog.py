"""The demo company's catalog (issue 7): a two-level category tree, about a hundred products and
services of a Chinese B2B IT supplier, three price lists (标准价 2026 and VIP 协议价 in CNY, a USD
list) with quantity tiers on fifteen products, and a year of monthly exchange rates.

Everything goes through the catalog services (acting as the demo administrator) and is looked up
by its natural key first — categories by (parent, name), products by code, price lists by name,
prices by (list, product, tier), rates by (currency, day) — so a second run creates nothing and
never overwrites what an admin has changed since. Costs, discounts and rates come from seeded
random numbers (per product code / month), so every machine gets the same catalog.
`company.scale()` shrinks the number of products per category for tests (at least two each).
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

GOODS_TAX, SERVICE_TAX = Decimal("13"), Decimal("6")
STANDARD, VIP, USD_LIST = "标准价 2026", "VIP 协议价", "USD Price List 2026"
VIP_LEVEL = "vip"  # picklist "customer_level" (Account.level)
LISTS_FROM = dt.date(2026, 1, 1)
USD_PER_CNY = Decimal("7.2")  # how the USD list was priced from the standard one
TIERS = ((Decimal("10"), Decimal("0.95")), (Decimal("50"), Decimal("0.90")))  # (from quantity, factor)
TIERED = (
    "HW-SRV-007",
    "HW-NET-002",
    "HW-NET-006",
    "HW-NET-008",
    "HW-STO-004",
    "HW-STO-005",
    "HW-END-001",
    "HW-END-003",
    "HW-END-005",
    "SW-CRM-001",
    "SW-CRM-002",
    "SW-ERP-005",
    "SW-SEC-001",
    "CS-PRT-001",
    "CS-CBL-002",
)

# (root, root name_en, kind, tax rate, cost share range (per mille of the price),
#  [(category, name_en, [(code, name, name_en, unit, standard price in CNY)])])
Row = tuple[str, str, str, str, int]
CATALOG: list[tuple[str, str, str, Decimal, tuple[int, int], list[tuple[str, str, list[Row]]]]] = [
    (
        "硬件",
        "Hardware",
        "product",
        GOODS_TAX,
        (620, 820),
        [
            (
                "服务器",
                "Servers",
                [
                    ("HW-SRV-001", "机架式服务器 2U 双路", "2U dual-socket rack server", "台", 68000),
                    ("HW-SRV-002", "机架式服务器 1U 单路", "1U single-socket rack server", "台", 45000),
                    ("HW-SRV-003", "塔式服务器", "Tower server", "台", 28000),
                    ("HW-SRV-004", "GPU 服务器 8 卡", "8-GPU AI server", "台", 980000),
                    ("HW-SRV-005", "刀片服务器机箱", "Blade server chassis", "台", 120000),
                    ("HW-SRV-006", "刀片服务器节点", "Blade server node", "台", 36000),
                    ("HW-SRV-007", "服务器内存 64GB DDR5", "Server memory 64 GB DDR5", "个", 3200),
                    ("HW-SRV-008", "服务器电源模块 1100W", "Server power supply 1100 W", "个", 1800),
                    ("HW-SRV-009", "边缘计算服务器", "Edge computing server", "台", 18000),
                    ("HW-SRV-010", "服务器 RAID 卡", "Server RAID controller", "个", 3500),
                ],
            ),
            (
                "网络设备",
                "Networking",
                [
                    ("HW-NET-001", "核心交换机 48 口万兆", "Core switch 48 × 10G", "台", 86000),
                    ("HW-NET-002", "接入交换机 24 口千兆 PoE", "Access switch 24 × 1G PoE", "台", 4800),
                    ("HW-NET-003", "接入交换机 48 口千兆", "Access switch 48 × 1G", "台", 6200),
                    ("HW-NET-004", "企业级路由器", "Enterprise router", "台", 15800),
                    ("HW-NET-005", "下一代防火墙", "Next-generation firewall", "台", 42000),
                    ("HW-NET-006", "无线 AP 室内型 Wi-Fi 6", "Indoor Wi-Fi 6 access point", "台", 1680),
                    ("HW-NET-007", "无线控制器", "Wireless LAN controller", "台", 22000),
                    ("HW-NET-008", "万兆光模块 SFP+", "10G SFP+ optical module", "个", 380),
                    ("HW-NET-009", "负载均衡设备", "Load balancer appliance", "台", 58000),
                ],
            ),
            (
                "存储",
                "Storage",
                [
                    ("HW-STO-001", "统一存储阵列 100TB", "Unified storage array 100 TB", "套", 260000),
                    ("HW-STO-002", "全闪存储阵列 50TB", "All-flash storage array 50 TB", "套", 380000),
                    ("HW-STO-003", "NAS 网络存储 8 盘位", "8-bay NAS", "台", 12800),
                    ("HW-STO-004", "企业级 SSD 3.84TB", "Enterprise SSD 3.84 TB", "个", 4200),
                    ("HW-STO-005", "企业级硬盘 16TB", "Enterprise HDD 16 TB", "个", 2600),
                    ("HW-STO-006", "磁带库", "Tape library", "台", 96000),
                    ("HW-STO-007", "备份一体机", "Backup appliance", "台", 158000),
                ],
            ),
            (
                "终端设备",
                "End-user devices",
                [
                    ("HW-END-001", "商用台式机 i5", "Business desktop i5", "台", 4600),
                    ("HW-END-002", "商用台式机 i7", "Business desktop i7", "台", 6200),
                    ("HW-END-003", "商用笔记本 14 英寸", "Business laptop 14-inch", "台", 6800),
                    ("HW-END-004", "移动工作站", "Mobile workstation", "台", 16800),
                    ("HW-END-005", "27 英寸显示器", "27-inch monitor", "台", 1600),
                    ("HW-END-006", "瘦客户机", "Thin client", "台", 2200),
                    ("HW-END-007", "会议平板 86 英寸", "86-inch meeting display", "台", 32000),
                    ("HW-END-008", "扫码枪", "Barcode scanner", "个", 480),
                    ("HW-END-009", "A4 激光打印机", "A4 laser printer", "台", 2800),
                    ("HW-END-010", "多功能一体机", "Multifunction printer", "台", 8600),
                ],
            ),
        ],
    ),
    (
        "软件",
        "Software",
        "product",
        SERVICE_TAX,
        (180, 400),
        [
            (
                "CRM 软件",
                "CRM software",
                [
                    ("SW-CRM-001", "CRM 标准版（用户/年）", "CRM Standard (user/year)", "年", 1200),
                    ("SW-CRM-002", "CRM 专业版（用户/年）", "CRM Professional (user/year)", "年", 2400),
                    ("SW-CRM-003", "CRM 企业版（用户/年）", "CRM Enterprise (user/year)", "年", 3600),
                    ("SW-CRM-004", "CRM 移动端插件（用户/年）", "CRM mobile add-on (user/year)", "年", 600),
                    ("SW-CRM-005", "呼叫中心模块", "Call centre module", "套", 38000),
                    ("SW-CRM-006", "营销自动化模块", "Marketing automation module", "套", 56000),
                    ("SW-CRM-007", "BI 报表模块", "BI reporting module", "套", 45000),
                    ("SW-CRM-008", "API 接口扩展包", "API extension pack", "套", 20000),
                    ("SW-CRM-009", "CRM 沙箱环境（年）", "CRM sandbox (year)", "年", 8000),
                ],
            ),
            (
                "ERP 软件",
                "ERP software",
                [
                    ("SW-ERP-001", "ERP 财务模块", "ERP finance module", "套", 120000),
                    ("SW-ERP-002", "ERP 供应链模块", "ERP supply chain module", "套", 150000),
                    ("SW-ERP-003", "ERP 生产制造模块", "ERP manufacturing module", "套", 180000),
                    ("SW-ERP-004", "ERP 人力资源模块", "ERP HR module", "套", 80000),
                    ("SW-ERP-005", "ERP 并发用户许可", "ERP concurrent user licence", "个", 6000),
                    ("SW-ERP-006", "ERP 云订阅（用户/年）", "ERP cloud subscription (user/year)", "年", 3000),
                    ("SW-ERP-007", "OA 协同办公平台", "OA collaboration platform", "套", 60000),
                    ("SW-ERP-008", "电子发票接口", "E-invoice interface", "套", 18000),
                ],
            ),
            (
                "安全软件",
                "Security software",
                [
                    ("SW-SEC-001", "终端安全软件（点/年）", "Endpoint security (device/year)", "年", 180),
                    ("SW-SEC-002", "服务器防病毒（台/年）", "Server anti-virus (server/year)", "年", 1500),
                    ("SW-SEC-003", "数据防泄漏系统", "Data loss prevention", "套", 98000),
                    ("SW-SEC-004", "堡垒机软件", "Privileged access gateway", "套", 65000),
                    ("SW-SEC-005", "日志审计系统", "Log audit system", "套", 72000),
                    ("SW-SEC-006", "邮件安全网关订阅", "Email security gateway subscription", "年", 36000),
                    ("SW-SEC-007", "漏洞扫描系统", "Vulnerability scanner", "套", 55000),
                    ("SW-SEC-008", "等保合规套件", "MLPS compliance suite", "套", 120000),
                ],
            ),
        ],
    ),
    (
        "服务",
        "Services",
        "service",
        SERVICE_TAX,
        (450, 700),
        [
            (
                "实施服务",
                "Implementation",
                [
                    ("SV-IMP-001", "CRM 实施服务", "CRM implementation", "人天", 2500),
                    ("SV-IMP-002", "ERP 实施服务", "ERP implementation", "人天", 2800),
                    ("SV-IMP-003", "系统集成服务", "System integration", "人天", 2200),
                    ("SV-IMP-004", "数据迁移服务", "Data migration", "次", 30000),
                    ("SV-IMP-005", "定制开发", "Custom development", "人天", 2000),
                    ("SV-IMP-006", "网络规划与部署", "Network design and deployment", "人天", 1800),
                    ("SV-IMP-007", "上门安装调试", "On-site installation", "次", 800),
                ],
            ),
            (
                "培训",
                "Training",
                [
                    ("SV-TRN-001", "CRM 管理员培训", "CRM administrator training", "次", 6000),
                    ("SV-TRN-002", "CRM 最终用户培训", "CRM end-user training", "次", 4000),
                    ("SV-TRN-003", "ERP 关键用户培训", "ERP key-user training", "次", 8000),
                    ("SV-TRN-004", "网络安全意识培训", "Security awareness training", "次", 5000),
                    ("SV-TRN-005", "在线课程订阅（年）", "Online course subscription (year)", "年", 1200),
                    ("SV-TRN-006", "认证考试辅导", "Certification exam coaching", "人天", 3000),
                    ("SV-TRN-007", "定制培训", "Custom training", "人天", 3500),
                    ("SV-TRN-008", "IT 服务管理培训", "IT service management training", "次", 9000),
                ],
            ),
            (
                "维保",
                "Maintenance and support",
                [
                    ("SV-MNT-001", "硬件原厂维保 1 年", "Vendor hardware warranty, 1 year", "年", 8000),
                    ("SV-MNT-002", "硬件延保 3 年", "Extended hardware warranty, 3 years", "套", 18000),
                    ("SV-MNT-003", "7×24 小时现场支持", "24 × 7 on-site support", "年", 48000),
                    ("SV-MNT-004", "软件升级维护", "Software maintenance", "年", 20000),
                    ("SV-MNT-005", "远程技术支持", "Remote support", "年", 12000),
                    ("SV-MNT-006", "驻场运维工程师", "Resident operations engineer", "人天", 1500),
                    ("SV-MNT-007", "系统巡检服务", "System health check", "次", 3000),
                    ("SV-MNT-008", "应急故障处理", "Emergency incident response", "次", 5000),
                ],
            ),
        ],
    ),
    (
        "耗材",
        "Consumables",
        "product",
        GOODS_TAX,
        (550, 780),
        [
            (
                "打印耗材",
                "Printing supplies",
                [
                    ("CS-PRT-001", "黑色硒鼓", "Black toner cartridge", "个", 680),
                    ("CS-PRT-002", "彩色硒鼓四色套装", "Colour toner set", "套", 2400),
                    ("CS-PRT-003", "A4 复印纸（5 包/箱）", "A4 copy paper (box of 5)", "箱", 180),
                    ("CS-PRT-004", "热敏标签纸", "Thermal labels", "个", 25),
                    ("CS-PRT-005", "打印色带", "Printer ribbon", "个", 60),
                    ("CS-PRT-006", "喷墨墨盒", "Ink cartridge", "个", 220),
                    ("CS-PRT-007", "感光鼓", "Drum unit", "个", 900),
                    ("CS-PRT-008", "装订耗材套装", "Binding supplies kit", "套", 150),
                ],
            ),
            (
                "线缆配件",
                "Cables and accessories",
                [
                    ("CS-CBL-001", "六类网线 305 米", "Cat 6 cable, 305 m", "箱", 860),
                    ("CS-CBL-002", "光纤跳线 LC-LC 3 米", "Fibre patch cord LC-LC 3 m", "个", 35),
                    ("CS-CBL-003", "24 口配线架", "24-port patch panel", "个", 260),
                    ("CS-CBL-004", "42U 标准机柜", "42U rack cabinet", "台", 3800),
                    ("CS-CBL-005", "机柜 PDU 电源插座", "Rack PDU", "个", 450),
                    ("CS-CBL-006", "UPS 不间断电源 3kVA", "UPS 3 kVA", "台", 5200),
                    ("CS-CBL-007", "水晶头（100 个/盒）", "RJ45 connectors (box of 100)", "套", 45),
                    ("CS-CBL-008", "理线器", "Cable manager", "个", 80),
                ],
            ),
        ],
    ),
]

# Monthly rates (CNY for one unit) of the last `months` months: (code, months, low, high) in 1/10000.
RATES = (("USD", 12, 71000, 73000), ("EUR", 4, 77000, 79500), ("HKD", 4, 9100, 9350))
CURRENCY_NAMES = {"CNY": ("人民币", "Chinese yuan", "¥"), "USD": ("美元", "US dollar", "$")}
CURRENCY_NAMES |= {"EUR": ("欧元", "Euro", "€"), "HKD": ("港币", "Hong Kong dollar", "HK$")}


def per_category() -> int:
    """Products loaded per category: all of them at full scale, at least two when scaled down."""
    return max(2, round(max(len(rows) for *_, subs in CATALOG for _, _, rows in subs) * scale()))


def expected_products() -> int:
    """How many products the stage loads at the current scale."""
    n = per_category()
    return sum(min(n, len(rows)) for *_, subs in CATALOG for _, _, rows in subs)


def _rng(*key: object) -> random.Random:
    return random.Random(zlib.crc32("/".join(map(str, (data.DEMO_SEED, *key))).encode()))


def _round(amount: Decimal) -> Decimal:
    """A price as a price list shows it: whole units from 100 on, else cents."""
    step = Decimal("1") if amount >= 100 else Decimal("0.01")
    return amount.quantize(step, rounding=ROUND_HALF_UP)


def _months(today: dt.date, n: int) -> list[dt.date]:
    """The first days of the last `n` months, this one included, oldest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        out.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def load(summary: Any) -> None:
    from kehu.users.models import User

    admin = User.objects.filter(username="admin").first()
    if admin is None:
        return
    currencies = ensure_currencies(summary, admin)
    products = ensure_products(summary, admin)
    ensure_price_lists(summary, admin, currencies, products)
    ensure_rates(summary, admin, currencies)


def ensure_currencies(summary: Any, admin: Any) -> dict[str, Any]:
    from kehu.catalog import services
    from kehu.catalog.models import Currency

    have = {c.code: c for c in Currency.objects.all()}
    for code, (name, name_en, symbol) in CURRENCY_NAMES.items():
        if code not in have:
            have[code] = services.currency_create(
                by=admin, data={"code": code, "name": name, "name_en": name_en, "symbol": symbol}
            )
            summary.add("currencies")
    return have


def ensure_products(summary: Any, admin: Any) -> dict[str, tuple[Any, Decimal]]:
    """{code: (product, standard price)} of the products of this scale, created when missing."""
    from kehu.catalog import services
    from kehu.catalog.models import Product, ProductCategory

    categories = {(c.parent_id, c.name): c for c in ProductCategory.objects.all()}
    existing = {p.code: p for p in Product.objects.all()}
    n = per_category()
    out: dict[str, tuple[Any, Decimal]] = {}

    def category(name: str, name_en: str, parent: Any, order: int) -> Any:
        key = (parent.pk if parent else None, name)
        if key not in categories:
            categories[key] = services.category_create(
                by=admin, data={"name": name, "name_en": name_en, "parent": parent, "order": order}
            )
            summary.add("product categories")
        return categories[key]

    for i, (root_name, root_en, kind, tax, (low, high), subs) in enumerate(CATALOG, start=1):
        root = category(root_name, root_en, None, i * 10)
        for j, (sub_name, sub_en, rows) in enumerate(subs, start=1):
            sub = category(sub_name, sub_en, root, j * 10)
            for code, name, name_en, unit, price in rows[:n]:
                standard = Decimal(price)
                product = existing.get(code)
                if product is None:
                    share = Decimal(_rng(code, "cost").randint(low, high)) / 1000
                    product = services.product_create(
                        by=admin,
                        data={
                            "code": code,
                            "name": name,
                            "name_en": name_en,
                            "kind": kind,
                            "category": sub,
                            "unit": unit,
                            "tax_rate": tax,
                            "cost": (standard * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
                            "description": f"{root_name} › {sub_name}",
                        },
                    )
                    summary.add("products")
                out[code] = (product, standard)
    return out


def ensure_price_lists(
    summary: Any, admin: Any, currencies: dict[str, Any], products: dict[str, tuple[Any, Decimal]]
) -> None:
    from kehu.catalog import services
    from kehu.catalog.models import PriceList, PriceListItem

    specs = [
        (STANDARD, "CNY", "", "2026 年标准报价，适用于所有客户。"),
        (VIP, "CNY", VIP_LEVEL, "VIP 客户协议价，按标准价下浮 5%–12%。"),
        (USD_LIST, "USD", "", "Export price list 2026 (USD), quantity discounts from 10 and 50 units."),
    ]
    lists = {p.name: p for p in PriceList.objects.filter(name__in=[s[0] for s in specs])}
    for name, code, level, notes in specs:
        if name not in lists:
            lists[name] = services.price_list_create(
                by=admin,
                data={
                    "name": name,
                    "currency": currencies[code],
                    "customer_level": level,
                    "valid_from": LISTS_FROM,
                    "notes": notes,
                },
            )
            summary.add("price lists")
    have = set(
        PriceListItem.objects.filter(price_list__in=lists.values()).values_list(
            "price_list_id", "product_id", "min_quantity"
        )
    )

    def price(price_list: Any, product: Any, amount: Decimal, tier: Decimal = Decimal("1")) -> None:
        if (price_list.pk, product.pk, tier) in have:
            return
        services.price_set(
            price_list=price_list, product=product, unit_price=_round(amount), min_quantity=tier, by=admin
        )
        summary.add("prices")

    for code, (product, standard) in products.items():
        usd = standard / USD_PER_CNY
        price(lists[STANDARD], product, standard)
        price(lists[VIP], product, standard * Decimal(_rng(code, "vip").randint(880, 950)) / 1000)
        price(lists[USD_LIST], product, usd)
        if code in TIERED:
            for tier, factor in TIERS:
                price(lists[STANDARD], product, standard * factor, tier)
                price(lists[USD_LIST], product, usd * factor, tier)


def ensure_rates(summary: Any, admin: Any, currencies: dict[str, Any]) -> None:
    from kehu.catalog import services
    from kehu.catalog.models import ExchangeRate

    company = next((c for c in currencies.values() if c.is_company), None)
    if company is None or company.code != "CNY":  # the demo's rates are CNY ones
        return
    have = set(ExchangeRate.objects.values_list("currency__code", "valid_on"))
    today = timezone.localdate()
    for code, months, low, high in RATES:
        currency = currencies.get(code)
        if currency is None:
            continue
        for day in _months(today, months):
            if (code, day) in have:
                continue
            rate = Decimal(_rng(code, day.isoformat()).randint(low, high)) / 10000
            services.exchange_rate_set(
                currency=currency, valid_on=day, rate=rate, by=admin, source="中国外汇交易中心（演示）"
            )
            summary.add("exchange rates")
