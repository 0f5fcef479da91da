"""The benchmark harness and data generator (bench/), on the test database (SQLite or PostgreSQL:
the generator's bulk path is executemany on one and COPY on the other)."""

from __future__ import annotations

import argparse

import phonenumbers
import pytest
from django.db.models import F

from bench import datagen
from bench.harness import Comparison, Context, Stats, format_report
from bench.run import setup_django


def test_percentiles_and_ratios() -> None:
    st = Stats("x", [i / 1000 for i in range(1, 101)])  # 1 .. 100 ms
    assert st.p50 == pytest.approx(0.050)
    assert st.p95 == pytest.approx(0.095)
    assert st.pct(100) == pytest.approx(0.100)
    ref = Stats("ref", [0.010] * 10)
    comp = Comparison("c", st, [ref])
    assert comp.ratio(ref) == pytest.approx(5.0)
    assert comp.ratio(ref, 95) == pytest.approx(9.5)


def test_report_prints_each_result_beside_its_reference() -> None:
    comp = Comparison(
        "accounts list", Stats("Kehu", [0.02] * 5, rows=50), [Stats("raw SQL", [0.001] * 5, rows=50)]
    )
    ctx = datagen_context()
    lines = format_report([comp], ctx).splitlines()
    kehu = next(line for line in lines if line.startswith("accounts list"))
    raw = lines[lines.index(kehu) + 1]
    assert "Kehu" in kehu and "20.00" in kehu
    assert "raw SQL" in raw and "1.00" in raw and "20.00×" in raw


def datagen_context() -> Context:
    return Context(vendor="sqlite", accounts=1, repeat=5, warmup=0, seed=1)


def test_refuses_a_database_that_is_not_a_bench_database() -> None:
    args = argparse.Namespace(database_url="postgres://postgres@127.0.0.1:5432/kehu")
    with pytest.raises(SystemExit, match="must contain 'bench'"):
        setup_django(args)


@pytest.mark.django_db
def test_generator_keeps_owner_and_department_consistent() -> None:
    from kehu.customers.models import Account, Contact
    from kehu.users.models import User

    org = datagen.make_org(accounts=400, seed=5, log=lambda _: None)
    assert len(org.reps) == datagen.MIN_REPS
    assert len(org.managers) == len(datagen.REGIONS)
    assert org.rep.department.parent == org.manager.department
    written = datagen.make_customers(
        org=org, accounts=400, contacts_per_account=2, seed=5, log=lambda _: None
    )
    assert written == (Account.objects.count(), Contact.objects.count())
    assert written[0] == 400
    assert 600 <= written[1] <= 800  # persons (about 10 %) have no contacts
    owners = dict(User.objects.values_list("pk", "department_id"))
    for owner_id, dept_id, created_by_id in Account.objects.values_list(
        "owner_id", "department_id", "created_by_id"
    ):
        assert owners[owner_id] == dept_id
        assert created_by_id == owner_id
    assert not Contact.objects.exclude(owner_id=F("account__owner_id")).exists()
    assert not Contact.objects.exclude(department_id=F("account__department_id")).exists()
    assert Contact.objects.filter(is_primary=True).count() == Account.objects.filter(kind="company").count()
    for phone in Account.objects.values_list("phone", flat=True)[:100]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
    # The typed lists and relations the services keep: one primary phone and e-mail per account,
    # a direct relation per contact; Chinese companies have a region and a primary address row.
    from kehu.customers.models import AccountAddress, AccountContactRelation, AccountEmail, AccountPhone
    from kehu.tags.models import TaggedItem

    assert AccountPhone.objects.filter(is_primary=True).count() == 400
    assert AccountEmail.objects.filter(is_primary=True).count() == 400
    assert AccountContactRelation.objects.filter(is_direct=True).count() == written[1]
    assert not AccountContactRelation.objects.exclude(account_id=F("contact__account_id")).exists()
    assert AccountAddress.objects.count() == Account.objects.exclude(province="").count() > 200
    tagged = TaggedItem.objects.filter(model="customers.account").values("object_id").distinct()
    assert 80 <= tagged.count() <= 250
    # The id sequences moved past the explicit ids: the ORM can insert after the generator.
    extra = Account.objects.create(name="after", owner=org.rep, department=org.rep.department)
    assert extra.pk == 401
