"""The dedup benchmark contacts (``bench/dedup_data.py``, planted near-duplicates) in a database.

    .venv/bin/python bench/dedup_db.py --contacts 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/kehu_bench_dedup

Writes what the services would: an organisation (``bench.datagen.make_org``), one account per
distinct company string (a planted ``company`` variant is its own account, as it would be when
typed in again), the contacts (the phone as ``mobile``, with their ``ContactPhone`` /
``ContactEmail`` rows and account relation), and the ``MatchKey`` rows of both (phones, e-mails,
company names), all with COPY in batches; then VACUUM ANALYZE. Contact ids equal the data set's ids,
so the planted labels apply to the rows. Reused when the ``bench_meta`` row says it was built from
the same data set (``--regenerate`` to rebuild).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dedup_data import GENERATOR_VERSION, Dataset, load

LOADER_VERSION = 1
BATCH = 20_000
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kehu_bench_dedup"


def wanted_meta(n: int, seed: int) -> dict[str, str]:
    return {
        "dedup_data": str(GENERATOR_VERSION),
        "loader": str(LOADER_VERSION),
        "n": str(n),
        "seed": str(seed),
    }


def _stored_meta() -> dict[str, str]:
    from bench.datagen import _meta_read

    return {k: v for k, v in _meta_read().items() if k in ("dedup_data", "loader", "n", "seed")}


def ensure_loaded(data: Dataset, *, regenerate: bool = False, log: Any = print) -> None:
    """Load `data` into the configured database unless it already holds it."""
    from bench import datagen

    wanted = wanted_meta(data.n, data.seed)
    if not regenerate and _stored_meta() == wanted:
        log(f"database already holds the {len(data.contacts):,} contacts (seed {data.seed})")
        return
    t0 = time.perf_counter()
    datagen.wipe()
    org = datagen.make_org(accounts=len(data.contacts) // 5, seed=data.seed, log=log)
    load_rows(data, org, log=log)
    datagen.analyze()
    datagen._meta_write(wanted)
    log(f"loaded in {time.perf_counter() - t0:.0f} s")


def load_rows(data: Dataset, org: Any, *, log: Any = print) -> None:
    from datetime import UTC, datetime

    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from bench.datagen import insert_rows, reset_sequences, skip_fk_triggers
    from kehu.customers.models import Account, AccountContactRelation, Contact, ContactEmail, ContactPhone
    from kehu.dedup.models import MatchKey
    from kehu.dedup.normalisers import company_key, email_key, phone_key

    created = datetime(2025, 6, 1, tzinfo=UTC)
    owners = [(u.pk, u.department_id) for u in org.reps]
    account_ct = ContentType.objects.get_for_model(Account).pk
    contact_ct = ContentType.objects.get_for_model(Contact).pk
    companies: dict[str, int] = {}
    for c in data.contacts:
        companies.setdefault(c.company, len(companies) + 1)
    rows_a = []
    keys_a = []
    for name, pk in companies.items():
        owner, dept = owners[pk % len(owners)]
        rows_a.append(
            {
                "id": pk,
                "kind": "company",
                "name": name,
                "custom": {},
                "owner_id": owner,
                "department_id": dept,
                "created_by_id": owner,
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        key = company_key(name)
        if key:
            keys_a.append({"content_type_id": account_ct, "object_id": pk, "kind": "company", "value": key})
    with transaction.atomic():
        skip_fk_triggers()
        for start in range(0, len(rows_a), BATCH):
            insert_rows(Account, rows_a[start : start + BATCH])
        for start in range(0, len(keys_a), BATCH):
            insert_rows(MatchKey, keys_a[start : start + BATCH])
    log(f"  {len(rows_a):,} accounts")
    del rows_a, keys_a
    t0 = time.perf_counter()
    for start in range(0, len(data.contacts), BATCH):
        part = data.contacts[start : start + BATCH]
        contacts, phones, emails, relations, keys = [], [], [], [], []
        for c in part:
            aid = companies[c.company]
            owner, dept = owners[aid % len(owners)]
            contacts.append(
                {
                    "id": c.id,
                    "account_id": aid,
                    "name": c.name,
                    "mobile": c.phone,
                    "email": c.email,
                    "custom": {},
                    "owner_id": owner,
                    "department_id": dept,
                    "created_by_id": owner,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            relations.append(
                {"account_id": aid, "contact_id": c.id, "is_direct": True, "created_at": created}
            )
            if c.phone:
                phones.append({"contact_id": c.id, "kind": "mobile", "number": c.phone, "is_primary": True})
                key = phone_key(c.phone)
                if key:
                    keys.append(
                        {"content_type_id": contact_ct, "object_id": c.id, "kind": "phone", "value": key}
                    )
            if c.email:
                emails.append({"contact_id": c.id, "kind": "work", "email": c.email, "is_primary": True})
                key = email_key(c.email)
                if key:
                    keys.append(
                        {"content_type_id": contact_ct, "object_id": c.id, "kind": "email", "value": key}
                    )
        with transaction.atomic():
            skip_fk_triggers()
            insert_rows(Contact, contacts)
            insert_rows(ContactPhone, phones)
            insert_rows(ContactEmail, emails)
            insert_rows(AccountContactRelation, relations)
            insert_rows(MatchKey, keys)
        done = start + len(part)
        if done % (BATCH * 10) == 0 or done == len(data.contacts):
            log(f"  {done:,} contacts ({done / (time.perf_counter() - t0):,.0f}/s)")
    reset_sequences(Account, Contact)


def setup(database_url: str) -> None:
    from bench.run import setup_django

    setup_django(argparse.Namespace(database_url=database_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    setup(args.database_url)
    t = time.perf_counter()
    data = load(args.contacts, args.seed)
    print(f"data: {len(data.contacts):,} records in {time.perf_counter() - t:.1f} s")
    ensure_loaded(data, regenerate=args.regenerate)


if __name__ == "__main__":
    main()
