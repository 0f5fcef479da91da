"""Reproducible benchmark data: an organisation (departments, roles, users) and customers.

    .venv/bin/python bench/datagen.py --accounts 20000            # what `make bench` uses
    .venv/bin/python bench/datagen.py --accounts 1000000 --database-url postgres://postgres@127.0.0.1:5432/kehu_bench

Seeded: the same `--seed` and sizes give the same rows on every machine (names, companies, phones,
e-mails from `kehu.demo.fake`, owners from a seeded `random.Random`).

Why it bypasses the services: creating a million accounts through `account_create` would take
hours (one transaction, audit row and search refresh per account). Like the importers on the hot
path (see ARCHITECTURE.md §9) it writes in batches: `bulk_create` on SQLite and `COPY ... FROM
STDIN` (psycopg 3 `cursor.copy`) on PostgreSQL. It keeps the invariants the services keep:
every record's `department` is its owner's department (what data scopes filter on), `created_by`
is the owner, and the denormalised columns the services compute are computed the same way
(`_derived_fields`). No audit rows are written: the benchmark data has no history.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GENERATOR_VERSION = 3  # bump when the generated rows change
DEFAULT_ACCOUNTS = 20_000
DEFAULT_CONTACTS_PER_ACCOUNT = 2
DEFAULT_SEED = 42
BATCH = 10_000
REGIONS = ["华北区", "华东区", "华南区", "华中区", "西南区", "西北区", "东北区", "海外区"]
TEAMS = ["一组", "二组"]
# Accounts per rep at full size: a realistic book of business.
ACCOUNTS_PER_REP = 2_500
MIN_REPS, MAX_REPS = 16, 400
META_TABLE = "bench_meta"


@dataclass
class Org:
    admin: Any
    director: Any
    managers: list[Any]  # one per region, index = region
    reps: list[Any]  # spread over the teams
    departments: dict[str, Any] = field(default_factory=dict)

    @property
    def rep(self) -> Any:
        """The rep every per-user benchmark runs as."""
        return self.reps[0]

    @property
    def manager(self) -> Any:
        """The manager of the first rep's region (sees the region and its teams)."""
        return self.managers[0]


def rep_count(accounts: int) -> int:
    return max(MIN_REPS, min(MAX_REPS, accounts // ACCOUNTS_PER_REP))


# --- database helpers -----------------------------------------------------------------------


def _meta_create(cur: Any) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key varchar(100) PRIMARY KEY, value text NOT NULL)"
    )


def _meta_read() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cur:
        _meta_create(cur)
        cur.execute(f"SELECT key, value FROM {META_TABLE}")
        return dict(cur.fetchall())


def _meta_write(values: dict[str, str]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        _meta_create(cur)
        cur.execute(f"DELETE FROM {META_TABLE}")
        for k, v in values.items():
            cur.execute(f"INSERT INTO {META_TABLE} (key, value) VALUES (%s, %s)", [k, v])


def _column_adapters(model: type[Any]) -> list[tuple[str, str, Callable[[Any], Any], Any]]:
    """(attname, column, adapt, default) per concrete field: values go to the database the way the
    ORM would send them, without building model instances (too slow at a million rows)."""
    from django.db import connection, models

    out: list[tuple[str, str, Callable[[Any], Any], Any]] = []
    for f in model._meta.concrete_fields:
        adapt: Callable[[Any], Any] = _identity
        if isinstance(f, models.JSONField):
            adapt = _json
        elif isinstance(f, models.DateTimeField) and connection.vendor == "sqlite":
            adapt = connection.ops.adapt_datetimefield_value
        default = f.get_default()  # "" for a blank text column without a default, None if nullable
        out.append((f.attname, f.column, adapt, default))
    return out


def _identity(value: Any) -> Any:
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def insert_rows(model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows given as {attname: value} (explicit ids, or none: the database numbers them;
    missing fields take their default):
    COPY on PostgreSQL, batched executemany on SQLite."""
    from django.db import connection

    if not rows:
        return
    adapters = _column_adapters(model)
    if model._meta.pk.attname not in rows[0]:  # ids from the database's sequence
        adapters = [a for a in adapters if a[0] != model._meta.pk.attname]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(column) for _, column, _, _ in adapters)
    table = qn(model._meta.db_table)
    values = (
        [adapt(row[att]) if att in row else adapt(default) for att, _, adapt, default in adapters]
        for row in rows
    )
    with connection.cursor() as wrapper:
        if connection.vendor == "postgresql":
            cursor: Any = wrapper.cursor  # the psycopg 3 cursor under Django's wrapper
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(adapters))
            wrapper.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(values))


def skip_fk_triggers() -> bool:
    """PostgreSQL: for the rest of the transaction, skip the foreign-key triggers (the generator
    writes only ids it has just written or read, so they would check nothing, at the cost of
    several index look-ups per row). Needs a superuser (`session_replication_role`); without one
    the triggers simply run."""
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        return False
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return False
    return True


def reset_sequences(*models: type[Any]) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them."""
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cur:
            for sql in statements:
                cur.execute(sql)


def analyze() -> None:
    """Statistics for the planner; on PostgreSQL also the visibility map (VACUUM), which index-only
    scans need and which autovacuum would set on a live database some time after a bulk load."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def wipe() -> None:
    """Empty the benchmark database and migrate it again, so data migrations (the seeded
    picklists) run as on a fresh installation: the SQLite file is deleted, the PostgreSQL schema
    dropped (faster than deleting millions of rows; `flush` would lose the seeded data)."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite":
        path = Path(str(connection.settings_dict["NAME"]))
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        with connection.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE")
            cur.execute("CREATE SCHEMA public")
    call_command("migrate", interactive=False, verbosity=0)


# --- organisation -----------------------------------------------------------------------------


def make_org(*, accounts: int, seed: int, log: Callable[[str], None]) -> Org:
    """总部 → 销售部 → 8 regions → 2 teams each; a director, one manager per region, reps in the
    teams; the demo company's roles and grants (kehu.demo.data), so the benchmark measures the
    permissions users really get."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from kehu.demo.fake import Fake
    from kehu.demo.loader import DemoSummary, ensure_roles
    from kehu.users.models import User
    from kehu.users.services import department_create

    fake = Fake(seed)
    password = make_password("bench1234")
    with transaction.atomic():
        roles = ensure_roles(DemoSummary())
        depts: dict[str, Any] = {}
        depts["总部"] = department_create(name="总部", parent=None, by=None)
        depts["销售部"] = department_create(name="销售部", parent=depts["总部"], by=None)
        teams: list[Any] = []
        for region in REGIONS:
            depts[region] = department_create(name=region, parent=depts["销售部"], by=None)
            for team in TEAMS:
                t = department_create(name=f"{region}{team}", parent=depts[region], by=None)
                depts[t.name] = t
                teams.append(t)

        role_of: dict[str, Any] = {}

        def user(username: str, dept: Any, role: str, **extra: Any) -> Any:
            p = fake.person_zh()
            role_of[username] = roles[role]
            return User(
                username=username,
                email=f"{username}@bench.kehu.local",
                first_name=p.first_name,
                last_name=p.last_name,
                display_name=p.name,
                department=dept,
                language="zh-hans",
                password=password,
                **extra,
            )

        admin = user("bench_admin", depts["总部"], "admin", is_superuser=True, is_staff=True)
        director = user("bench_director", depts["销售部"], "director")
        managers = [user(f"bench_mgr{i + 1:02d}", depts[r], "manager") for i, r in enumerate(REGIONS)]
        n_reps = rep_count(accounts)
        # Rep i sits in team i % teams: rep 1 is in 华北区一组 (under manager 1).
        reps = [user(f"bench_rep{i + 1:04d}", teams[i % len(teams)], "rep") for i in range(n_reps)]
        everyone = [admin, director, *managers, *reps]
        User.objects.bulk_create(everyone)
        created = {u.username: u for u in User.objects.filter(username__in=[u.username for u in everyone])}
        through = User.roles.through
        through.objects.bulk_create(
            [through(user_id=created[u.username].pk, role_id=role_of[u.username].pk) for u in everyone]
        )
    log(f"  organisation: {len(depts)} departments, {len(everyone)} users ({n_reps} reps)")
    return load_org()


def load_org() -> Org:
    from kehu.users.models import Department, User

    users = {
        u.username: u for u in User.objects.filter(username__startswith="bench_").select_related("department")
    }
    reps = sorted((u for n, u in users.items() if n.startswith("bench_rep")), key=lambda u: u.username)
    managers = sorted((u for n, u in users.items() if n.startswith("bench_mgr")), key=lambda u: u.username)
    return Org(
        admin=users["bench_admin"],
        director=users["bench_director"],
        managers=managers,
        reps=reps,
        departments={d.name: d for d in Department.objects.all()},
    )


# --- customers ------------------------------------------------------------------------------------


def customers_available() -> bool:
    from django.apps import apps

    try:
        apps.get_model("customers", "Account")
        apps.get_model("customers", "Contact")
    except LookupError:
        return False
    return True


# Codes of the seeded picklists (数据字典, customfields migration 0002); industry comes from the company.
SOURCES = ["website", "search", "referral", "inbound_call", "cold_call", "exhibition", "wechat"]
LEVELS = ["vip", "a", "a", "b", "b", "b", "c", "c"]
LIFECYCLE = ["potential", "new", "active", "active", "active", "mature", "mature", "declining", "churned"]
# Tags of the benchmark (group, name, colour): about 40 % of accounts carry one or two.
TAGS: list[tuple[str | None, str, str]] = [
    ("行业", "制造业重点", "blue"),
    ("行业", "互联网", "cyan"),
    ("价值", "高价值", "red"),
    ("价值", "战略客户", "purple"),
    (None, "展会2025", "green"),
    (None, "待回访", "orange"),
    (None, "老客户转介绍", "teal"),
    (None, "渠道", "yellow"),
]


def _city_codes() -> dict[str, tuple[str, str]]:
    """City name of `kehu.demo.fake` → (province, city) GB/T 2260 codes; municipalities have no
    city level (the city stays empty, see kehu/customers/regions.py)."""
    from kehu.customers.regions import _data
    from kehu.demo.fake import ZH_CITIES

    data = _data()
    out: dict[str, tuple[str, str]] = {}
    for city, _, _ in ZH_CITIES:
        code = next((k for k, v in sorted(data.items()) if v.startswith(city) and k.endswith("00")), "")
        if code.endswith("0000"):
            out[city] = (code, "")
        elif code:
            out[city] = (code[:2] + "0000", code)
    return out


def make_tags() -> list[int]:
    """The benchmark's tags (two groups and a few free tags); their ids."""
    from kehu.tags.models import Tag, TagGroup

    groups: dict[str, Any] = {}
    ids = []
    for order, (group, name, colour) in enumerate(TAGS):
        if group and group not in groups:
            groups[group] = TagGroup.objects.create(name=group, colour=colour, order=len(groups))
        parent = groups[group] if group else None
        ids.append(Tag.objects.create(group=parent, name=name, colour=colour, order=order).pk)
    return ids


def tags_available() -> bool:
    from django.apps import apps

    try:
        apps.get_model("tags", "TaggedItem")
    except LookupError:
        return False
    return True


def make_customers(
    *, org: Org, accounts: int, contacts_per_account: int, seed: int, log: Callable[[str], None]
) -> tuple[int, int]:
    """`accounts` accounts with `contacts_per_account` contacts each, in batches of BATCH accounts
    (one transaction each). Owners: 95 % reps (uniformly), 5 % the region managers; every record's
    department is its owner's department; contacts belong to their account's owner."""
    from django.db import transaction

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
    from kehu.demo.fake import Fake

    fake = Fake(seed + 1)
    rng = random.Random(seed + 2)
    city_codes = _city_codes()
    with_tags = tags_available()
    tag_ids = make_tags() if with_tags else []
    if with_tags:
        from kehu.tags.models import TaggedItem
    # A manager owns accounts in their own region's department.
    owners_reps = [(u.pk, u.department_id) for u in org.reps]
    owners_mgrs = [(u.pk, u.department_id) for u in org.managers]
    next_account = (Account.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    next_contact = (Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    written_a = written_c = 0
    t0 = time.perf_counter()
    while written_a < accounts:
        n = min(BATCH, accounts - written_a)
        batch_a: list[dict[str, Any]] = []
        batch_c: list[dict[str, Any]] = []
        # the typed lists and relations the services keep beside the denormalised columns
        children: dict[type[Any], list[dict[str, Any]]] = {
            m: []
            for m in (
                AccountPhone,
                AccountEmail,
                AccountAddress,
                AccountContactRelation,
                ContactPhone,
                ContactEmail,
            )
        }
        tagged: list[dict[str, Any]] = []
        for _ in range(n):
            owner_id, dept_id = rng.choice(owners_mgrs if rng.random() < 0.05 else owners_reps)
            created = spread_datetime(rng)
            person_account = rng.random() < 0.1
            company = fake.company()
            if person_account:
                p = fake.person()
                name, phone, email, short = p.name, fake.mobile_for(p), fake.email(p), ""
            else:
                name = company.name
                phone = fake.landline_cn(company.area_code) if company.chinese else fake.phone_us()
                email = f"info@{company.domain}"
                short = company.short_name
            province, city = city_codes.get(company.city, ("", "")) if company.chinese else ("", "")
            street = fake.address_zh(company.city) if company.chinese else ""
            account = {
                "id": next_account,
                "kind": "person" if person_account else "company",
                "name": name,
                "short_name": short,
                "phone": phone,
                "email": email,
                "website": "" if person_account else f"https://www.{company.domain}",
                "industry": "" if person_account else company.industry,
                "source": rng.choice(SOURCES),
                "level": rng.choice(LEVELS),
                "address": street,
                "country": "CN" if company.chinese else "US",
                "province": province,
                "city": city,
                "notes": "",
                "is_active": rng.random() > 0.03,
                "lifecycle_stage": rng.choice(LIFECYCLE),
                "custom": {},
                "owner_id": owner_id,
                "department_id": dept_id,
                "created_by_id": owner_id,
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
            batch_a.append(account)
            aid = next_account
            children[AccountPhone].append(
                {"account_id": aid, "kind": "work", "number": phone, "is_primary": True}
            )
            children[AccountEmail].append(
                {"account_id": aid, "kind": "work", "email": email, "is_primary": True}
            )
            if street:
                children[AccountAddress].append(
                    {
                        "account_id": aid,
                        "kind": "office",
                        "street": street,
                        "country": "CN",
                        "province": province,
                        "city": city,
                        "is_primary": True,
                    }
                )
            if tag_ids and rng.random() < 0.4:
                for tag_id in rng.sample(tag_ids, rng.choice((1, 1, 2))):
                    tagged.append(
                        {
                            "tag_id": tag_id,
                            "model": "customers.account",
                            "object_id": aid,
                            "created_by_id": owner_id,
                            "created_at": created,
                        }
                    )
            for i in range(0 if person_account else contacts_per_account):
                p = fake.person_zh() if company.chinese else fake.person_en()
                batch_c.append(
                    {
                        "id": next_contact,
                        "account_id": next_account,
                        "name": p.name,
                        "title": fake.job_title(company.chinese),
                        "phone": fake.landline_cn(company.area_code) if company.chinese and i == 0 else "",
                        "mobile": fake.mobile_for(p),
                        "email": fake.email(p, company),
                        "wechat": f"wx_{p.email_local.replace('.', '_')}" if rng.random() < 0.3 else "",
                        "is_primary": i == 0,
                        "notes": "",
                        "custom": {},
                        "owner_id": owner_id,
                        "department_id": dept_id,
                        "created_by_id": owner_id,
                        "version": 1,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                cid = next_contact
                contact = batch_c[-1]
                children[AccountContactRelation].append(
                    {"account_id": aid, "contact_id": cid, "is_direct": True, "created_at": created}
                )
                children[ContactPhone].append(
                    {"contact_id": cid, "kind": "mobile", "number": contact["mobile"], "is_primary": True}
                )
                if contact["phone"]:
                    children[ContactPhone].append(
                        {"contact_id": cid, "kind": "work", "number": contact["phone"], "is_primary": False}
                    )
                children[ContactEmail].append(
                    {"contact_id": cid, "kind": "work", "email": contact["email"], "is_primary": True}
                )
                next_contact += 1
            next_account += 1
        with transaction.atomic():
            skip_fk_triggers()
            insert_rows(Account, batch_a)
            insert_rows(Contact, batch_c)
            for model, rows in children.items():
                insert_rows(model, rows)
            if tagged:
                insert_rows(TaggedItem, tagged)
        written_a += len(batch_a)
        written_c += len(batch_c)
        if written_a % (BATCH * 10) == 0 or written_a == accounts:
            rate = written_a / (time.perf_counter() - t0)
            log(f"  customers: {written_a:,} accounts, {written_c:,} contacts ({rate:,.0f} accounts/s)")
    reset_sequences(Account, Contact)
    return written_a, written_c


def ensure_search_index(*, log: Callable[[str], None] = print) -> bool:
    """Fill the global search index (kehu.search) when it is empty: the generator writes rows
    without signals, like an import, so it rebuilds the index afterwards. True when it built."""
    from django.apps import apps

    if not apps.is_installed("kehu.search") or not customers_available():
        return False
    from kehu.search.models import SearchEntry
    from kehu.search.services import search_rebuild

    if SearchEntry.objects.exists():
        return False
    t0 = time.perf_counter()
    step = [0.0]

    def progress(done: int, total: int | None = None, message: str = "") -> None:
        if time.perf_counter() - step[0] > 15 or done == total:
            step[0] = time.perf_counter()
            log(f"  search index: {done:,}/{total or 0:,} ({done / (step[0] - t0):,.0f} records/s)")

    counts = search_rebuild(progress=progress)
    log(f"  search index: {sum(counts.values()):,} entries in {time.perf_counter() - t0:.1f} s")
    return True


# --- the dataset ----------------------------------------------------------------------------------


def wanted_meta(*, accounts: int, contacts_per_account: int, seed: int) -> dict[str, str]:
    return {
        "generator": str(GENERATOR_VERSION),
        "accounts": str(accounts),
        "contacts_per_account": str(contacts_per_account),
        "seed": str(seed),
        "customers": "1" if customers_available() else "0",
    }


def ensure_dataset(
    *,
    accounts: int = DEFAULT_ACCOUNTS,
    contacts_per_account: int = DEFAULT_CONTACTS_PER_ACCOUNT,
    seed: int = DEFAULT_SEED,
    regenerate: bool = False,
    log: Callable[[str], None] = print,
) -> Org:
    """Reuse the dataset in the benchmark database when it was generated with the same parameters,
    otherwise wipe the database and generate it."""
    wanted = wanted_meta(accounts=accounts, contacts_per_account=contacts_per_account, seed=seed)
    if not regenerate and _meta_read() == wanted:
        log(f"Reusing the dataset ({accounts:,} accounts, seed {seed}).")
        if ensure_search_index(log=log):
            analyze()
        return load_org()
    log(f"Generating the dataset: {accounts:,} accounts × {contacts_per_account} contacts, seed {seed} …")
    t0 = time.perf_counter()
    wipe()
    org = make_org(accounts=accounts, seed=seed, log=log)
    if customers_available():
        make_customers(
            org=org, accounts=accounts, contacts_per_account=contacts_per_account, seed=seed, log=log
        )
    analyze()
    # The records are complete: mark the dataset before the (slow: ~500 records/s) search index, so
    # an interrupted index build is finished by the next run instead of regenerating everything.
    _meta_write(wanted)
    if ensure_search_index(log=log):
        analyze()
    log(f"  generated in {time.perf_counter() - t0:.1f} s")
    return org


def spread_datetime(rng: random.Random, *, years: float = 3.0, now: datetime | None = None) -> datetime:
    """A creation time in the last `years`, later ones more likely (a growing business)."""
    now = now or datetime(2026, 1, 1, tzinfo=UTC)
    return now - timedelta(days=years * 365 * (1 - rng.random() ** 0.5))


def main(argv: list[str] | None = None) -> int:
    from bench.run import add_database_arguments, setup_django

    parser = argparse.ArgumentParser(description="Generate the benchmark dataset (see docs/benchmarks.md).")
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS)
    parser.add_argument("--contacts-per-account", type=int, default=DEFAULT_CONTACTS_PER_ACCOUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--regenerate", action="store_true", help="generate even if the dataset matches")
    add_database_arguments(parser)
    args = parser.parse_args(argv)
    setup_django(args)
    ensure_dataset(
        accounts=args.accounts,
        contacts_per_account=args.contacts_per_account,
        seed=args.seed,
        regenerate=args.regenerate,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
