"""The demo company at scale: about 2,000 accounts and 5,000 contacts on top of the 60 hand-made
ones of `customers.py`.

Creating thousands of records through the customers services takes minutes (each write
validates, checks scopes, records audit rows), so this stage writes in bulk, keeping what the
services keep: owner and the owner's department, `created_by`, the denormalised primary phone,
e-mail and address line, one direct `AccountContactRelation` per contact, one primary contact per
account, `completeness` from the data collection standards
(`kehu.customfields.rules.completeness_score` over `field_specs`, what `completeness` does). It
skips the per-row audit history (`ObjectChange`) and search signals: generated records have no
history to show, and the loader rebuilds the search index at the end.

The data comes from a seeded `Fake`: the same names, numbers and regions on every installation.
Dates are relative to the day of loading (a year of history up to "today"). `scale()` (setting or
environment variable `KEHU_DEMO_SCALE`, default 1) shrinks it for tests.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from . import data
from .fake import Company, Fake, Person

VERSION = 1
# At scale 1: accounts besides the 60 of the "customers" stage, so about 2,000 in all.
BULK_ACCOUNTS = 1940
BATCH = 500

# Owners of the generated accounts: the reps mostly, the two managers and the director a few.
OWNER_WEIGHTS = (
    ("rep1", 22),
    ("rep2", 22),
    ("rep3", 22),
    ("rep4", 22),
    ("manager1", 5),
    ("manager2", 5),
    ("director", 2),
)
LIFECYCLE_WEIGHTS = (
    ("potential", 28),
    ("new", 14),
    ("active", 30),
    ("mature", 14),
    ("declining", 9),
    ("churned", 5),
)
SOURCES = (
    ("website", 18),
    ("search", 10),
    ("referral", 16),
    ("inbound_call", 8),
    ("cold_call", 10),
    ("exhibition", 14),
    ("wechat", 16),
    ("partner", 8),
)
LEVELS = (("vip", 1), ("a", 3), ("b", 5), ("c", 4))
CONTACT_ROLES_FIRST = ("decision_maker",)
CONTACT_ROLES_OTHER = (("purchaser", 5), ("finance", 2), ("technical", 3), ("user", 3), ("other", 1))
CHANNELS = (("wechat", 40), ("phone", 30), ("email", 15), ("visit", 10), ("sms", 5))
DO_NOT_FIELDS = ("do_not_call", "do_not_email", "do_not_sms", "do_not_wechat", "do_not_visit")

# Postcode prefix (first three digits) of the demo cities.
POSTCODES = {
    "北京": "100",
    "上海": "200",
    "广州": "510",
    "深圳": "518",
    "杭州": "310",
    "南京": "210",
    "苏州": "215",
    "天津": "300",
    "成都": "610",
    "武汉": "430",
    "西安": "710",
    "重庆": "400",
    "青岛": "266",
    "宁波": "315",
    "厦门": "361",
    "济南": "250",
    "郑州": "450",
    "长沙": "410",
    "合肥": "230",
    "大连": "116",
    "沈阳": "110",
    "无锡": "214",
    "佛山": "528",
    "东莞": "523",
}
US_CITIES = (
    ("New York, NY", "100"),
    ("San Francisco, CA", "941"),
    ("Chicago, IL", "606"),
    ("Boston, MA", "021"),
    ("Seattle, WA", "981"),
    ("Austin, TX", "787"),
)
DE_CITIES = (
    ("Berlin", "10"),
    ("Hamburg", "20"),
    ("Frankfurt am Main", "60"),
    ("München", "80"),
    ("Köln", "50"),
)
US_STREETS = ("Main Street", "Market Street", "Park Avenue", "Oak Street", "Pine Street", "Broadway")
DE_STREETS = ("Hauptstraße", "Bahnhofstraße", "Lindenallee", "Schillerstraße", "Industriestraße")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def scale() -> float:
    """How much of the demo company to load (1 = all of it; tests use a few per cent)."""
    value = getattr(settings, "KEHU_DEMO_SCALE", 1)
    try:
        return max(0.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return 1.0


@dataclass
class ContactSpec:
    name: str
    title: str
    gender: str
    birthday: dt.date | None
    channel: str
    phones: list[tuple[str, str]]  # (kind, number), the first is primary
    email: str
    wechat: str
    role: str
    primary: bool
    do_not: tuple[str, ...] = ()
    also: str = ""  # name of a second account the contact works with
    also_role: str = ""


@dataclass
class AccountSpec:
    name: str
    owner: str
    kind: str
    short_name: str
    country: str
    province: str
    city: str
    district: str
    street: str
    postcode: str
    phones: list[tuple[str, str]]
    emails: list[str]
    website: str
    industry: str
    source: str
    level: str
    tax_number: str
    wechat: str
    lifecycle: str
    created_days_ago: int
    lifecycle_days_ago: int
    custom: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    contacts: list[ContactSpec] = field(default_factory=list)
    sparse: bool = False  # deliberately incomplete (data quality page)


# --- regions --------------------------------------------------------------------------------


@cache
def city_regions() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Demo city name → (province code, city code or "" for municipalities, district codes)."""
    from kehu.customers import regions

    out: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    provinces = regions.provinces()
    for city, _area, _len in _cities():
        for pcode, pname in provinces:
            if pname.startswith(city):  # 北京市, 上海市 ... (municipalities)
                out[city] = (pcode, "", tuple(c for c, _ in regions.districts(pcode)))
                break
            hit = next((c for c, n in regions.cities(pcode) if n == f"{city}市"), None)
            if hit:
                districts = tuple(c for c, n in regions.districts(hit) if n.endswith("区"))
                out[city] = (pcode, hit, districts or tuple(c for c, _ in regions.districts(hit)))
                break
    return out


def _cities() -> tuple[tuple[str, str, int], ...]:
    from .fake import ZH_CITIES

    return ZH_CITIES


def uscc(region: str, rng: random.Random) -> str:
    """A unified social credit code (统一社会信用代码) with a valid check character: 91 (an
    enterprise registered with the market regulator), the region, an organisation code."""
    from kehu.customers.validators import uscc_check_char

    org = "".join(rng.choice(USCC_ALPHABET[:10] if i < 6 else USCC_ALPHABET) for i in range(9))
    first17 = f"91{region[:6]:0<6}{org}"
    return first17 + uscc_check_char(first17)


# --- the generator --------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _contact(
    fake: Fake, rng: random.Random, person: Person, company: Company | None, role: str, primary: bool
) -> ContactSpec:
    chinese = person.chinese
    phones = [("mobile", fake.mobile_for(person))]
    if company is not None and company.chinese and rng.random() < 0.3:
        phones.append(("work", fake.landline_cn(company.area_code)))
    birthday = None
    if rng.random() < 0.6:
        birthday = dt.date(rng.randint(1966, 1999), rng.randint(1, 12), rng.randint(1, 28))
    channel = _weighted(rng, CHANNELS) if chinese else rng.choice(("email", "phone", "email", "visit"))
    do_not: tuple[str, ...] = ()
    if rng.random() < 0.03:
        do_not = (rng.choice(DO_NOT_FIELDS),)
        if do_not[0].removeprefix("do_not_").replace("call", "phone").replace("email", "email") == channel:
            do_not = ()
    wechat = ""
    if chinese and rng.random() < 0.5:
        wechat = f"{person.email_local.replace('.', '_')}{rng.randint(10, 9999)}"
    return ContactSpec(
        name=person.name,
        title=fake.job_title(chinese),
        gender="male" if person.gender == "m" else "female",
        birthday=birthday,
        channel=channel,
        phones=phones,
        email=fake.email(person, company) if rng.random() < 0.9 else "",
        wechat=wechat,
        role=role,
        primary=primary,
        do_not=do_not,
    )


def _address(
    fake: Fake, rng: random.Random, company: Company | None, country: str
) -> tuple[str, str, str, str, str]:
    """(province, city, district, street, postcode)."""
    if country == "US":
        city, zip3 = rng.choice(US_CITIES)
        street = f"{rng.randint(10, 2999)} {rng.choice(US_STREETS)}, {city}"
        return "", "", "", street, f"{zip3}{rng.randint(0, 99):02d}"
    if country == "DE":
        city, plz2 = rng.choice(DE_CITIES)
        return (
            "",
            "",
            "",
            f"{rng.choice(DE_STREETS)} {rng.randint(1, 180)}, {city}",
            f"{plz2}{rng.randint(100, 999)}",
        )
    city_name = company.city if company is not None and company.city else rng.choice(list(POSTCODES))
    province, city, districts = city_regions().get(city_name, ("", "", ()))
    district = rng.choice(districts) if districts else ""
    line = fake.address_zh(city_name).split("市", 1)[-1]  # the street part: 建国路88号A座12层
    postcode = f"{POSTCODES.get(city_name, '100')}{rng.randint(0, 999):03d}"
    return province, city, district, line, postcode


def demo_company(n: int | None = None) -> list[AccountSpec]:
    """The generated accounts (the same list on every run; names unique and different from the
    hand-made ones of `customers.demo_accounts`)."""
    from .customers import demo_accounts

    if n is None:
        n = round(BULK_ACCOUNTS * scale())
    fake = Fake(data.DEMO_SEED + 1)
    rng = random.Random(data.DEMO_SEED + 1)
    seen = {a.name for a in demo_accounts()}
    out: list[AccountSpec] = []
    while len(out) < n:
        owner = _weighted(rng, OWNER_WEIGHTS)
        lifecycle = _weighted(rng, LIFECYCLE_WEIGHTS)
        created = rng.randint(20, 720)
        if lifecycle == "potential":
            created = rng.randint(1, 200)
        changed = rng.randint(0, min(created, 330))
        sparse = rng.random() < 0.15
        level = _weighted(rng, LEVELS)
        source = _weighted(rng, SOURCES)
        if rng.random() < 0.05:  # a private person
            person = fake.person_zh()
            if person.name in seen:
                continue
            seen.add(person.name)
            province, city, district, street, postcode = _address(fake, rng, None, "CN")
            out.append(
                AccountSpec(
                    name=person.name,
                    owner=owner,
                    kind="person",
                    short_name="",
                    country="CN",
                    province=province,
                    city=city,
                    district=district,
                    street=street if not sparse else "",
                    postcode=postcode if not sparse else "",
                    phones=[("mobile", fake.mobile_cn())],
                    emails=[fake.email(person)] if not sparse else [],
                    website="",
                    industry="",
                    source=source,
                    level=level,
                    tax_number="",
                    wechat=f"{person.email_local.replace('.', '')}{rng.randint(1, 999)}",
                    lifecycle=lifecycle,
                    created_days_ago=created,
                    lifecycle_days_ago=changed,
                    sparse=sparse,
                )
            )
            continue
        company = fake.company(western_share=0.1)
        if company.name in seen:
            continue
        seen.add(company.name)
        country = "CN" if company.chinese else ("DE" if company.name.endswith("GmbH") else "US")
        province, city, district, street, postcode = _address(fake, rng, company, country)
        if company.chinese:
            phones = [("work", fake.landline_cn(company.area_code))]
            if rng.random() < 0.25:
                phones.append(("fax", fake.landline_cn(company.area_code)))
        else:
            phones = [("work", fake.phone_de() if country == "DE" else fake.phone_us())]
        emails = [f"info@{company.domain}"]
        if rng.random() < 0.3:
            emails.append(f"{rng.choice(('sales', 'service', 'hr', 'purchase'))}@{company.domain}")
        region = district or city or province
        custom: dict[str, Any] = {"payment_terms": rng.choice(["prepaid", "net30", "net30", "net60"])}
        if rng.random() < 0.65:
            custom["credit_limit"] = str(Decimal(rng.randrange(5, 300) * 10_000))
        spec = AccountSpec(
            name=company.name,
            owner=owner,
            kind="company",
            short_name=company.short_name,
            country=country,
            province=province,
            city=city,
            district=district,
            street=street,
            postcode=postcode,
            phones=phones,
            emails=emails,
            website=f"https://www.{company.domain}",
            industry=company.industry,
            source=source,
            level=level,
            tax_number=uscc(region, rng) if company.chinese and rng.random() < 0.8 else "",
            wechat="",
            lifecycle=lifecycle,
            created_days_ago=created,
            lifecycle_days_ago=changed,
            custom=custom,
            sparse=sparse,
        )
        if sparse:  # what real CRMs are full of: no e-mail, no industry, no address ...
            gaps = rng.sample(["emails", "industry", "address", "tax", "phones"], rng.randint(1, 3))
            if "emails" in gaps:
                spec.emails = []
            if "industry" in gaps:
                spec.industry = ""
            if "address" in gaps:
                spec.street = spec.postcode = spec.district = ""
            if "tax" in gaps:
                spec.tax_number = ""
            if "phones" in gaps:
                spec.phones = []
        count = rng.choices((1, 2, 3, 4), weights=(2, 8, 8, 3))[0]
        for i in range(count):
            person = fake.person_zh() if company.chinese else fake.person_en()
            role = CONTACT_ROLES_FIRST[0] if i == 0 else _weighted(rng, CONTACT_ROLES_OTHER)
            spec.contacts.append(_contact(fake, rng, person, company, role, primary=i == 0))
        out.append(spec)
    _groups(out, rng)
    return out


def _groups(specs: list[AccountSpec], rng: random.Random) -> None:
    """Groups of companies (集团): a "集团有限公司" account gets two to four subsidiaries, branch
    offices named after it ("…上海分公司"), with the same owner; a few contacts of a group work
    with the parent too (a second account relation)."""
    by_name = {s.name for s in specs}
    parents = [s for s in specs if s.name.endswith("集团有限公司") and s.kind == "company"]
    cities = list(POSTCODES)
    extra: list[AccountSpec] = []
    for parent in parents[: max(1, len(parents) // 6)]:
        stem = parent.name.removesuffix("集团有限公司")
        for city in rng.sample(cities, rng.randint(2, 4)):
            name = f"{stem}有限公司{city}分公司"
            if name in by_name or parent.name.startswith(city):
                continue
            by_name.add(name)
            province, city_code, districts = city_regions().get(city, ("", "", ()))
            child = AccountSpec(
                name=name,
                owner=parent.owner,
                kind="company",
                short_name=f"{parent.short_name}{city}",
                country="CN",
                province=province,
                city=city_code,
                district=rng.choice(districts) if districts else "",
                street=f"{rng.choice(('人民路', '中山路', '解放路', '科技园路'))}{rng.randint(1, 500)}号",
                postcode=f"{POSTCODES[city]}{rng.randint(0, 999):03d}",
                phones=[("work", _landline(city, rng))],
                emails=[],
                website=parent.website,
                industry=parent.industry,
                source="referral",
                level=parent.level,
                tax_number="",
                wechat="",
                lifecycle=rng.choice(("new", "active", "active", "mature")),
                created_days_ago=max(1, parent.created_days_ago - rng.randint(0, 60)),
                lifecycle_days_ago=rng.randint(0, 120),
                custom=dict(parent.custom),
                parent=parent.name,
            )
            if parent.contacts and rng.random() < 0.7:
                c = parent.contacts[-1]
                c.also, c.also_role = name, "decision_maker" if c.primary else "user"
            extra.append(child)
    specs.extend(extra)


def _landline(city: str, rng: random.Random) -> str:
    area, length = next((a, n) for c, a, n in _cities() if c == city)
    rest = rng.randrange(10 ** (length - 2), 10 ** (length - 1))
    return f"+86{area}{rng.choice('2345678')}{rest}"


# --- writing in bulk ------------------------------------------------------------------------


def _address_line(spec: AccountSpec) -> str:
    from kehu.customers.models import AccountAddress

    if not (spec.street or spec.province or spec.country != "CN"):
        return ""
    from django.utils import translation

    row = AccountAddress(
        country=spec.country,
        province=spec.province,
        city=spec.city,
        district=spec.district,
        street=spec.street,
        postcode=spec.postcode,
    )
    with translation.override("zh-hans"):  # the stored line is in Chinese, like the services write it
        return row.one_line()[:500]


def _has_address(spec: AccountSpec) -> bool:
    return bool(spec.street)


def load(summary: Any) -> None:
    from kehu.customers.models import (
        Account,
        AccountAddress,
        AccountContactRelation,
        AccountEmail,
        AccountPhone,
        Contact,
        ContactEmail,
        ContactPhone,
    )
    from kehu.customfields.models import CustomField
    from kehu.customfields.rules import completeness_score
    from kehu.customfields.standards import field_specs
    from kehu.users.models import User

    specs = demo_company()
    if not specs:
        return
    users = {u.username: u for u in User.objects.filter(username__in={s.owner for s in specs})}
    existing = set(Account.objects.filter(name__in=[s.name for s in specs]).values_list("name", flat=True))
    todo = [s for s in specs if s.name not in existing and s.owner in users]
    # Inserted oldest first, so ids follow the creation dates ("newest first" lists look real).
    todo.sort(key=lambda s: -s.created_days_ago)
    if not todo:
        return
    fields = set(
        CustomField.objects.filter(model="customers.account", is_active=True).values_list("name", flat=True)
    )
    account_specs, contact_specs = field_specs(Account), field_specs(Contact)
    now = timezone.now()
    accounts: list[Account] = []
    for s in todo:
        owner = users[s.owner]
        created = now - dt.timedelta(days=s.created_days_ago)
        a = Account(
            kind=s.kind,
            name=s.name,
            short_name=s.short_name,
            phone=s.phones[0][1] if s.phones else "",
            email=s.emails[0] if s.emails else "",
            website=s.website,
            industry=s.industry,
            source=s.source,
            level=s.level,
            wechat=s.wechat,
            tax_number=s.tax_number,
            country=s.country,
            province=s.province,
            city=s.city,
            district=s.district,
            lifecycle_stage=s.lifecycle,
            lifecycle_changed_at=max(created, now - dt.timedelta(days=s.lifecycle_days_ago, hours=3)),
            owner=owner,
            department_id=owner.department_id,
            created_by=owner,
            custom={k: v for k, v in s.custom.items() if k in fields},
        )
        a.address = _address_line(s) if _has_address(s) else ""
        a.completeness = completeness_score(account_specs, a)
        accounts.append(a)
    Account.objects.bulk_create(accounts, batch_size=BATCH)
    # created_at is auto_now_add: set the history's dates afterwards.
    for a, s in zip(accounts, todo, strict=True):
        a.created_at = now - dt.timedelta(days=s.created_days_ago, minutes=a.pk % 600)
        a.updated_at = max(a.created_at, a.lifecycle_changed_at or a.created_at)
    by_name = {a.name: a for a in Account.objects.filter(name__in=[s.name for s in specs]).only("pk", "name")}
    for a, s in zip(accounts, todo, strict=True):
        if s.parent and s.parent in by_name:
            a.parent_id = by_name[s.parent].pk
    Account.objects.bulk_update(accounts, ["created_at", "updated_at", "parent"], batch_size=BATCH)
    summary.add("accounts", len(accounts))

    phones, emails, addresses = [], [], []
    for a, s in zip(accounts, todo, strict=True):
        for i, (kind, number) in enumerate(s.phones):
            phones.append(AccountPhone(account=a, kind=kind, number=number, is_primary=i == 0))
        for i, email in enumerate(s.emails):
            emails.append(AccountEmail(account=a, kind="work", email=email, is_primary=i == 0))
        if _has_address(s):
            addresses.append(
                AccountAddress(
                    account=a,
                    kind="office",
                    country=s.country,
                    province=s.province,
                    city=s.city,
                    district=s.district,
                    street=s.street,
                    postcode=s.postcode,
                    is_primary=True,
                )
            )
    AccountPhone.objects.bulk_create(phones, batch_size=BATCH)
    AccountEmail.objects.bulk_create(emails, batch_size=BATCH)
    AccountAddress.objects.bulk_create(addresses, batch_size=BATCH)

    contacts: list[Contact] = []
    pairs: list[tuple[Contact, ContactSpec, Account]] = []
    for a, s in zip(accounts, todo, strict=True):
        for c in s.contacts:
            mobiles = [n for k, n in c.phones if k == "mobile"]
            contact = Contact(
                account=a,
                name=c.name,
                title=c.title,
                gender=c.gender,
                birthday=c.birthday,
                preferred_channel=c.channel,
                phone=c.phones[0][1] if c.phones else "",
                mobile=mobiles[0] if mobiles else "",
                email=c.email,
                wechat=c.wechat,
                is_primary=c.primary,
                owner_id=a.owner_id,
                department_id=a.department_id,
                created_by_id=a.owner_id,
                **dict.fromkeys(c.do_not, True),
            )
            contact.completeness = completeness_score(contact_specs, contact)
            contacts.append(contact)
            pairs.append((contact, c, a))
    Contact.objects.bulk_create(contacts, batch_size=BATCH)
    # Created with their account (one UPDATE per batch rather than a CASE per row).
    account_created = Account.objects.filter(pk=OuterRef("account_id")).values("created_at")[:1]
    ids = [c.pk for c in contacts]
    for k in range(0, len(ids), BATCH):
        Contact.objects.filter(pk__in=ids[k : k + BATCH]).update(
            created_at=Subquery(account_created), updated_at=Subquery(account_created)
        )
    summary.add("contacts", len(contacts))

    cphones, cemails, relations = [], [], []
    for contact, c, a in pairs:
        for i, (kind, number) in enumerate(c.phones):
            cphones.append(ContactPhone(contact=contact, kind=kind, number=number, is_primary=i == 0))
        if c.email:
            cemails.append(ContactEmail(contact=contact, kind="work", email=c.email, is_primary=True))
        start = timezone.localdate(a.created_at)
        relations.append(
            AccountContactRelation(account=a, contact=contact, role=c.role, is_direct=True, start_date=start)
        )
        other = by_name.get(c.also)
        if other is not None and other.pk != a.pk:
            relations.append(
                AccountContactRelation(account=other, contact=contact, role=c.also_role, start_date=start)
            )
    ContactPhone.objects.bulk_create(cphones, batch_size=BATCH)
    ContactEmail.objects.bulk_create(cemails, batch_size=BATCH)
    AccountContactRelation.objects.bulk_create(relations, batch_size=BATCH, ignore_conflicts=True)
