"""The demo company's customers: 60 accounts and their contacts, owned by the four reps, plus two
custom fields on accounts (a credit limit and payment terms from a new picklist).

The records come from a seeded `Fake`, so every installation gets the same customers. They are
created through the customers and custom-field services (validation, phone normalisation, audit),
acting as the owning rep; the account name is the natural key that keeps a second run from
creating anything twice.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps

from . import data
from .fake import Fake

VERSION = 1

SOURCES = ("website", "search", "referral", "inbound_call", "cold_call", "exhibition", "wechat", "partner")
LEVELS = (("vip", 1), ("a", 3), ("b", 5), ("c", 4))

# A picklist of the demo's own and the custom fields that use it. Labels are data in both languages.
PAYMENT_TERMS = (
    "payment_terms",
    {"name": "付款条件", "name_en": "Payment terms"},
    [
        {"value": "prepaid", "label": "预付款", "label_en": "Prepaid", "color": "green"},
        {"value": "net30", "label": "月结 30 天", "label_en": "Net 30", "color": "blue"},
        {"value": "net60", "label": "月结 60 天", "label_en": "Net 60", "color": "orange"},
    ],
)
CUSTOM_FIELDS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "customers.account",
        "credit_limit",
        {
            "label": "信用额度",
            "label_en": "Credit limit",
            "type": "decimal",
            "help_text": "允许赊销的最高金额（元）",
            "help_text_en": "The most this customer may owe (CNY).",
        },
    ),
    (
        "customers.account",
        "payment_terms",
        {
            "label": "付款条件",
            "label_en": "Payment terms",
            "type": "single_choice",
            "show_in_list": True,
            "filterable": True,
        },
    ),
]


@dataclass(frozen=True)
class DemoContact:
    name: str
    title: str
    mobile: str
    email: str
    primary: bool


@dataclass(frozen=True)
class DemoAccount:
    name: str
    owner: str  # username
    kind: str
    short_name: str
    phone: str
    email: str
    website: str
    industry: str
    source: str
    level: str
    address: str
    custom: dict[str, Any] = field(default_factory=dict)
    contacts: tuple[DemoContact, ...] = ()


def demo_accounts(
    n: int = data.DEMO_ACCOUNTS, contacts_per_account: int = data.DEMO_CONTACTS_PER_ACCOUNT
) -> list[DemoAccount]:
    """The demo accounts, the same on every run (seeded). Names are unique. Every tenth account is
    a person (个人客户) without contacts; the others are companies with `contacts_per_account`
    contacts, a quarter of them one more."""
    fake = Fake(data.DEMO_SEED)
    rng = random.Random(data.DEMO_SEED)
    seen: set[str] = set()
    out: list[DemoAccount] = []
    while len(out) < n:
        owner = data.ACCOUNT_OWNERS[len(out) % len(data.ACCOUNT_OWNERS)]
        source = rng.choice(SOURCES)
        level = rng.choices([v for v, _ in LEVELS], weights=[w for _, w in LEVELS])[0]
        if len(out) % 10 == 9:
            person = fake.person_zh()
            if person.name in seen:
                continue
            seen.add(person.name)
            out.append(
                DemoAccount(
                    name=person.name,
                    owner=owner,
                    kind="person",
                    short_name="",
                    phone=fake.mobile_cn(),
                    email=fake.email(person),
                    website="",
                    industry="",
                    source=source,
                    level=level,
                    address=fake.address_zh(),
                )
            )
            continue
        company = fake.company(western_share=0.08)
        if company.name in seen:
            continue
        seen.add(company.name)
        contacts = []
        for i in range(contacts_per_account + (1 if rng.random() < 0.25 else 0)):
            p = fake.person_zh() if company.chinese else fake.person_en()
            contacts.append(
                DemoContact(
                    name=p.name,
                    title=fake.job_title(company.chinese),
                    mobile=fake.mobile_for(p),
                    email=fake.email(p, company),
                    primary=i == 0,
                )
            )
        custom: dict[str, Any] = {"payment_terms": rng.choice(["prepaid", "net30", "net60"])}
        if rng.random() < 0.7:
            custom["credit_limit"] = str(Decimal(rng.randrange(5, 200) * 10_000))
        out.append(
            DemoAccount(
                name=company.name,
                owner=owner,
                kind="company",
                short_name=company.short_name,
                phone=fake.landline_cn(company.area_code) if company.chinese else fake.phone_us(),
                email=f"info@{company.domain}",
                website=f"https://www.{company.domain}",
                industry=company.industry,
                source=source,
                level=level,
                address=fake.address_zh(company.city) if company.chinese else "",
                custom=custom,
                contacts=tuple(contacts),
            )
        )
    return out


def available() -> bool:
    """The customers app has its models and services (it was built in parallel with this loader)."""
    try:
        apps.get_model("customers", "Account")
        apps.get_model("customers", "Contact")
        services = importlib.import_module("kehu.customers.services")
    except (LookupError, ImportError):
        return False
    return hasattr(services, "account_create") and hasattr(services, "contact_create")


def ensure_custom_fields(summary: Any) -> set[str]:
    """The demo's picklist and custom fields; returns the names of the account custom fields that
    exist afterwards (values are only given for those)."""
    from kehu.customfields import services as cf
    from kehu.customfields.models import CustomField, Picklist, PicklistItem

    code, picklist_data, items = PAYMENT_TERMS
    picklist = Picklist.objects.filter(code=code).first()
    if picklist is None:
        picklist = cf.picklist_create(code=code, data=picklist_data, by=None)
        summary.add("picklists")
    have = set(PicklistItem.objects.filter(picklist=picklist).values_list("value", flat=True))
    for item in items:
        if item["value"] not in have:
            cf.picklist_item_create(picklist=picklist, data=item, by=None)
            summary.add("picklist items")
    existing = {(f.model, f.name) for f in CustomField.objects.all()}
    for model, name, spec in CUSTOM_FIELDS:
        if (model, name) in existing:
            continue
        values = dict(spec)
        if values["type"] in ("single_choice", "multi_choice"):
            values["picklist"] = picklist
        cf.custom_field_create(model=model, name=name, data=values, by=None)
        summary.add("custom fields")
    return set(
        CustomField.objects.filter(model="customers.account", is_active=True).values_list("name", flat=True)
    )


def load(summary: Any) -> None:
    from kehu.customers import services
    from kehu.customers.models import Account
    from kehu.users.models import User

    fields = ensure_custom_fields(summary)
    specs = demo_accounts()
    owners = {u.username: u for u in User.objects.filter(username__in={s.owner for s in specs})}
    existing = set(Account.objects.filter(name__in=[s.name for s in specs]).values_list("name", flat=True))
    for spec in specs:
        owner = owners.get(spec.owner)
        if spec.name in existing or owner is None:  # already there, or its owner was deleted
            continue
        account = services.account_create(
            by=owner,
            data={
                # Named: account assignment rules present when the demo loads must not re-deal it.
                "owner": owner,
                "kind": spec.kind,
                "name": spec.name,
                "short_name": spec.short_name,
                "phone": spec.phone,
                "email": spec.email,
                "website": spec.website,
                "industry": spec.industry,
                "source": spec.source,
                "level": spec.level,
                "address": spec.address,
                "custom": {k: v for k, v in spec.custom.items() if k in fields},
            },
        )
        summary.add("accounts")
        for c in spec.contacts:
            services.contact_create(
                by=owner,
                data={
                    "account": account,
                    "owner": owner,
                    "name": c.name,
                    "title": c.title,
                    "mobile": c.mobile,
                    "email": c.email,
                    "is_primary": c.primary,
                },
            )
            summary.add("contacts")
