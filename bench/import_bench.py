"""Issue 6: import of a contact CSV end to end, against a plain bulk load of the same rows.

    .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 1000000     # the target: >= 20k rows/s on PostgreSQL
    .venv/bin/python bench/import_bench.py --rows 100000 --db sqlite:////tmp/kehu-import-bench.sqlite3

The database (default ``postgres://postgres@127.0.0.1:5432/kehu_bench_import``) is created and
migrated on first use; each run empties the contacts first. Steps:

1. the CSV (姓名, 公司 = an account's external id, 手机, 邮箱, 职位, 外部ID; unique phones and
   e-mails) is generated once per size and cached in /tmp;
2. the reference: the same rows read with the csv module and loaded into a scratch copy of the
   contact table with the same indexes (PostgreSQL ``COPY``; SQLite one ``executemany``), in
   batches of 2,000 rows, each its own transaction;
3. the writes alone: what the import writes per contact (contact, phone, e-mail, account
   relation, 2 match keys, change-log row) into scratch copies of those seven tables with their
   indexes, from the file read with the csv module (no checks, no look-ups) — the floor;
4. the import as a user runs it (dry run excluded): ``kehu.imports.running.import_run_execute``
   — reading, conversion, validation, matching against the database and the file, contacts with
   their phones, e-mails and account relations, match keys, the change log, the batches, then the
   search index (second phase, timed separately).

Reported: rows/s of both, the ratio, the phases, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/kehu_bench_import"
ACCOUNTS = 200
HEADERS = ["姓名", "公司", "手机", "邮箱", "职位", "外部ID"]
MAPPING = {
    "姓名": "name",
    "公司": "account",
    "手机": "mobile",
    "邮箱": "email",
    "职位": "title",
    "外部ID": "external_id",
}
FAMILY = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏辉玲建国建华红梅"
TITLES = ["经理", "总监", "采购", "工程师", "销售", "财务", "", ""]


def csv_path(rows: int) -> Path:
    """The cached CSV of `rows` contacts (written once)."""
    path = Path(f"/tmp/kehu-import-bench-{rows}.csv")
    if path.exists():
        return path
    rng = random.Random(6)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            name = rng.choice(FAMILY) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            writer.writerow(
                [
                    name,
                    f"ACC-{rng.randrange(ACCOUNTS)}",
                    f"1{rng.choice('3456789')}{i:09d}",
                    f"user{i}@example{i % 97}.com",
                    rng.choice(TITLES),
                    f"EXT-{i}",
                ]
            )
    tmp.rename(path)
    return path


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if url.startswith("postgres"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed() -> tuple[Any, list[tuple[str, int]]]:
    """The importing user (an administrator) and the accounts; contacts emptied."""
    from django.db import connection

    from kehu.customers.models import Account
    from kehu.users.models import Role, User

    user = User.objects.filter(username="bench-importer").first()
    if user is None:
        user = User.objects.create_user(username="bench-importer", password="x")
        role, _ = Role.objects.get_or_create(
            code="bench-admin", defaults={"name": "Bench admin", "is_admin": True}
        )
        user.roles.add(role)
    for i in range(ACCOUNTS):
        Account.objects.get_or_create(
            external_id=f"ACC-{i}", defaults={"name": f"测试客户{i}有限公司", "owner": user}
        )
    with connection.cursor() as cur:
        for table in (
            "customers_contactphone",
            "customers_contactemail",
            "customers_accountcontactrelation",
            "customers_contact",
            "imports_importbatch",
        ):
            cur.execute(f"DELETE FROM {table}")
        cur.execute(
            "DELETE FROM dedup_matchkey WHERE content_type_id IN "
            "(SELECT id FROM django_content_type WHERE app_label = 'customers' AND model = 'contact')"
        )
        cur.execute("DELETE FROM search_searchentry WHERE model = 'customers.contact'")
        cur.execute("DELETE FROM audit_objectchange WHERE request_id LIKE 'import-%%'")
    accounts = list(Account.objects.values_list("external_id", "pk"))
    return user, accounts


def reference(path: Path, accounts: dict[str, int]) -> float:
    """Seconds to load the file's rows into a scratch copy of the contact table (same indexes)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.imports.writers import insert_rows

    table = "bench_contact_copy"
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        if connection.vendor == "postgresql":
            cur.execute(f"CREATE TABLE {table} (LIKE customers_contact INCLUDING ALL)")
        else:
            cur.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'customers_contact' AND sql IS NOT NULL"
            )
            for (sql,) in cur.fetchall():
                sql = sql.replace('"customers_contact"', f'"{table}"').replace(
                    "customers_contact_", "bench_copy_"
                )
                cur.execute(sql.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
    columns = [
        "name", "account_id", "mobile", "phone", "email", "title", "external_id", "custom", "created_at",
        "updated_at", "version", "completeness", "is_primary", "do_not_call", "do_not_email", "do_not_sms",
        "do_not_wechat", "do_not_visit", "gender", "preferred_channel", "wechat", "notes",
    ]  # fmt: skip
    now = timezone.now()
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        batch: list[tuple[Any, ...]] = []
        for name, account, mobile, email, title, ext in reader:
            mobile = "+86" + mobile
            batch.append((name, accounts[account], mobile, mobile, email, title, ext, "{}", now, now, 1, 0,
                          False, False, False, False, False, False, "", "", "", ""))  # fmt: skip
            if len(batch) >= 2000:
                with transaction.atomic():
                    insert_rows(table, columns, batch)
                batch = []
        if batch:
            with transaction.atomic():
                insert_rows(table, columns, batch)
    elapsed = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {table}")
    return elapsed


def _scratch_copy(table: str) -> str:
    """An empty scratch copy of `table` with the same columns, defaults and indexes (no foreign
    keys: PostgreSQL's ``LIKE … INCLUDING ALL`` copies none)."""
    from django.db import connection

    copy = f"bench_copy_{table}"
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {copy}")
        if connection.vendor == "postgresql":
            cur.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
        else:
            cur.execute("SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [table])
            for (sql,) in cur.fetchall():
                sql = re.sub(r'INDEX "([^"]+)"', r'INDEX IF NOT EXISTS "bench_copy_\1"', sql, count=1)
                # as on PostgreSQL (LIKE copies no foreign keys): no REFERENCES on the copy
                sql = re.sub(r' REFERENCES "[^"]+" \("[^"]+"\)( DEFERRABLE INITIALLY DEFERRED)?', "", sql)
                cur.execute(sql.replace(f'"{table}"', f'"{copy}"'))
    return copy


def writes_alone(path: Path, accounts: dict[str, int]) -> float:
    """Seconds to write what the import writes per contact — the contact, its phone, e-mail and
    direct account relation, 2 match keys and a change-log row — into scratch copies of those
    seven tables with the same indexes, in batches of 2,000 rows (one transaction each, ids
    given), from the file read with the csv module: no conversion, no checks, no look-ups.
    The floor of the import's writing on this database and machine."""
    import json

    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.imports.writers import insert_rows

    tables = [
        "customers_contact", "customers_contactphone", "customers_contactemail",
        "customers_accountcontactrelation", "dedup_matchkey", "audit_objectchange",
    ]  # fmt: skip
    copies = {t: _scratch_copy(t) for t in tables}
    with connection.cursor() as cur:
        cur.execute("SELECT id FROM django_content_type WHERE app_label = 'customers' AND model = 'contact'")
        ct = cur.fetchone()[0]
    contact_columns = [
        "id", "name", "account_id", "mobile", "phone", "email", "title", "external_id", "custom",
        "created_at", "updated_at", "version", "completeness", "is_primary", "do_not_call", "do_not_email",
        "do_not_sms", "do_not_wechat", "do_not_visit", "gender", "preferred_channel", "wechat", "notes",
    ]  # fmt: skip
    change_columns = [
        "time", "user_id", "user_name", "request_id", "ip", "source", "model", "object_id", "object_repr",
        "action", "bulk", "changes", "parent_model", "parent_id",
    ]  # fmt: skip
    now = timezone.now()

    def changes(b: tuple[Any, ...]) -> str:
        fields = ("id", "name", "account_id", "mobile", "email", "title", "external_id")
        values = {f: [None, v] for f, v in zip(fields, b, strict=True) if f != "id"}
        return json.dumps(values, ensure_ascii=False)

    def flush(batch: list[tuple[Any, ...]]) -> None:
        with transaction.atomic():
            insert_rows(
                copies["customers_contact"], contact_columns,
                ((pk, name, acc, mobile, "", email, title, ext, "{}", now, now, 1, 60, False, False, False,
                  False, False, False, "", "", "", "") for pk, name, acc, mobile, email, title, ext in batch),
                plain=True,
            )  # fmt: skip
            insert_rows(
                copies["customers_contactphone"], ["contact_id", "kind", "number", "is_primary"],
                ((b[0], "mobile", b[3], True) for b in batch), plain=True,
            )  # fmt: skip
            insert_rows(
                copies["customers_contactemail"], ["contact_id", "kind", "email", "is_primary"],
                ((b[0], "work", b[4], True) for b in batch), plain=True,
            )  # fmt: skip
            insert_rows(
                copies["customers_accountcontactrelation"],
                ["account_id", "contact_id", "role", "is_direct", "created_at"],
                ((b[2], b[0], "", True, now) for b in batch), plain=True,
            )  # fmt: skip
            insert_rows(
                copies["dedup_matchkey"], ["content_type_id", "object_id", "kind", "value"],
                (key for b in batch for key in ((ct, b[0], "email", b[4]), (ct, b[0], "phone", b[3]))),
                plain=True,
            )  # fmt: skip
            insert_rows(
                copies["audit_objectchange"], change_columns,
                ((now, None, "bench", "import-bench", None, "import", "customers.contact", b[0], b[1],
                  "create", True, changes(b), "customers.account", b[2]) for b in batch),
                plain=True,
            )  # fmt: skip

    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        batch: list[tuple[Any, ...]] = []
        for pk, (name, account, mobile, email, title, ext) in enumerate(reader, 1):
            batch.append((pk, name, accounts[account], "+86" + mobile, email, title, ext))
            if len(batch) >= 2000:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    elapsed = time.perf_counter() - start
    with connection.cursor() as cur:
        for copy in copies.values():
            cur.execute(f"DROP TABLE {copy}")
    return elapsed


def run_import(path: Path, user: Any, rows: int) -> dict[str, Any]:
    from django.core.files import File

    from kehu.core.services import job_create
    from kehu.imports import running
    from kehu.imports.models import ImportBatch, ImportJob
    from kehu.imports.parsing import sniff

    sniffed = sniff(path, filename="contacts.csv")
    job = ImportJob(
        owner=user, target="customers.contact", original_name="contacts.csv", options=sniffed.options,
        headers=sniffed.headers, row_estimate=rows, mapping=MAPPING, status="running",
    )  # fmt: skip
    with path.open("rb") as fh:
        job.file.save("contacts.csv", File(fh), save=False)
    job.save()
    core = job_create(kind="import", owner=user, params={"import_id": job.pk, "step": "import_run"})
    phases: dict[str, float] = {}
    original = running.search_phase

    def timed_search(imp: ImportJob) -> int:
        t0 = time.perf_counter()
        phases["rows"] = t0 - start
        written = original(imp)
        phases["search"] = time.perf_counter() - t0
        return written

    running.search_phase = timed_search
    start = time.perf_counter()
    try:
        finished = running.import_run_execute(job_id=core.pk)
    finally:
        running.search_phase = original
    total = time.perf_counter() - start
    job.refresh_from_db()
    assert finished is not None and finished.status == "succeeded", finished and finished.error
    job.file.delete(save=False)
    return {
        "total": total,
        "rows_phase": phases.get("rows", total),
        "search": phases.get("search", 0.0),
        "result": job.result,
        "batches": ImportBatch.objects.filter(job=job).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default=os.environ.get("BENCH_IMPORT_DB", DEFAULT_DB))
    args = parser.parse_args()
    t0 = time.perf_counter()
    path = csv_path(args.rows)
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)")
    setup_django(args.db)
    from django.db import connection

    user, accounts = seed()
    ref = reference(path, dict(accounts))
    floor = writes_alone(path, dict(accounts))
    result = run_import(path, user, args.rows)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = args.rows
    rate, ref_rate = n / result["total"], n / ref
    target = 20_000 if connection.vendor == "postgresql" else 10_000
    print(f"database: {connection.vendor}  rows: {n:,}")
    how = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(f"reference bulk load ({how}): {ref:.1f} s = {ref_rate:,.0f} rows/s")
    print(
        f"the import's writes alone (7 tables, no checks): {floor:.1f} s = {n / floor:,.0f} rows/s"
        f"{' — the floor is below the target' if n / floor < target else ''}"
    )
    print(
        f"import end to end: {result['total']:.1f} s = {rate:,.0f} rows/s "
        f"(rows {result['rows_phase']:.1f} s = {n / result['rows_phase']:,.0f} rows/s, "
        f"search index {result['search']:.1f} s)"
    )
    print(
        f"ratio to the reference: {ref / result['total']:.2f} (import is {result['total'] / ref:.1f}× slower)"
    )
    print(f"result: {result['result']}  batches: {result['batches']}")
    print(f"peak RSS: {rss:.0f} MB  target: >= {target:,} rows/s, <= 500 MB: "
          f"{'met' if rate >= target and rss <= 500 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
