from __future__ import annotations

from html import escape
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.core.validators import validate_email
from django.test import Client
from django.urls import reverse

from kehu.customers.models import Account, Contact
from kehu.customfields.models import CustomField
from kehu.demo.customers import demo_accounts
from kehu.demo.loader import load_demo
from kehu.users.models import User

pytestmark = pytest.mark.django_db

SPECS = demo_accounts()
N_ACCOUNTS = len(SPECS)
N_CONTACTS = sum(len(s.contacts) for s in SPECS)


@pytest.fixture
def demo() -> dict[str, User]:
    # The 60 hand-made accounts only (the generated company is tested in test_demo_scale).
    call_command(
        "load_demo", "--force", "--only", "org", "--only", "customers", stdout=StringIO(), stderr=StringIO()
    )
    return {u.username: u for u in User.objects.all()}


def test_the_demo_has_sixty_accounts_and_about_120_contacts() -> None:
    assert N_ACCOUNTS == 60
    assert 110 <= N_CONTACTS <= 130
    assert len({s.name for s in SPECS}) == 60
    assert demo_accounts() == SPECS  # seeded: the same every time


def test_customers_are_created_once(demo: dict[str, User]) -> None:
    assert Account.objects.count() == N_ACCOUNTS
    assert Contact.objects.count() == N_CONTACTS
    again = load_demo(refresh=True, only={"org", "customers"})
    assert "customers" in again.loaded
    assert "accounts" not in again.created and "contacts" not in again.created
    assert Account.objects.count() == N_ACCOUNTS
    assert Contact.objects.count() == N_CONTACTS
    assert CustomField.objects.filter(model="customers.account").count() == 2


def test_demo_customers_are_realistic_and_owned_by_the_reps(demo: dict[str, User]) -> None:
    for username in ("rep1", "rep2", "rep3", "rep4"):
        rep = demo[username]
        own = Account.objects.filter(owner=rep)
        assert own.count() == 15
        assert set(own.values_list("department_id", flat=True)) == {rep.department_id}
        assert set(Contact.objects.filter(account__owner=rep).values_list("owner_id", flat=True)) == {rep.pk}
    assert not Account.objects.filter(owner__isnull=True).exists()
    for phone, email in [
        *Account.objects.values_list("phone", "email"),
        *Contact.objects.values_list("mobile", "email"),
    ]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
        validate_email(email)
    companies = Account.objects.filter(kind="company")
    assert companies.count() == 54
    assert not companies.filter(industry="").exists()
    assert set(Account.objects.values_list("level", flat=True)) <= {"vip", "a", "b", "c"}
    terms = {a.custom.get("payment_terms") for a in companies}
    assert terms == {"prepaid", "net30", "net60"}
    first = Account.objects.get(name=SPECS[0].name)
    assert first.custom == SPECS[0].custom
    assert Contact.objects.filter(is_primary=True).count() == 54


def test_data_scopes_of_the_demo_roles(demo: dict[str, User]) -> None:
    rep1, rep2 = demo["rep1"], demo["rep2"]
    visible = Account.objects.restrict(rep1, "view")
    assert visible.count() == 15
    assert set(visible.values_list("owner_id", flat=True)) == {rep1.pk}
    assert not visible.filter(owner=rep2).exists()
    north = Account.objects.restrict(demo["manager1"], "view")
    assert set(north.values_list("owner__username", flat=True)) == {"rep1", "rep2"}
    assert north.count() == 30
    east = Account.objects.restrict(demo["manager2"], "change")
    assert set(east.values_list("owner__username", flat=True)) == {"rep3", "rep4"}
    assert Account.objects.restrict(demo["director"], "delete").count() == N_ACCOUNTS
    agent = demo["agent1"]
    assert Account.objects.restrict(agent, "view").count() == N_ACCOUNTS
    assert Account.objects.restrict(agent, "change").count() == 0
    assert Contact.objects.restrict(agent, "change").count() == N_CONTACTS
    assert Contact.objects.restrict(agent, "delete").count() == 0
    marketer = demo["marketer1"]
    assert Account.objects.restrict(marketer, "export").count() == N_ACCOUNTS
    assert Account.objects.restrict(marketer, "change").count() == 0
    assert Account.objects.restrict(rep1, "export").count() == Account.objects.filter(owner=rep1).count()


def test_rep1_sees_only_own_accounts_in_the_ui(demo: dict[str, User], client: Client) -> None:
    client.force_login(demo["rep1"])
    page = client.get(reverse("customers:account_list")).content.decode()
    own = list(Account.objects.filter(owner=demo["rep1"]).values_list("name", flat=True))
    others = list(Account.objects.exclude(owner=demo["rep1"]).values_list("name", flat=True))
    assert all(escape(name) in page for name in own)
    assert not [name for name in others if escape(name) in page]
    foreign = Account.objects.filter(owner=demo["rep2"]).first()
    assert foreign is not None
    assert client.get(foreign.get_absolute_url()).status_code == 404
