"""The demo company's customers: ~60 accounts and ~120 contacts, owned by the reps.

The records come from a seeded `Fake`, so every installation gets the same customers; they are
created through the customers services (audit, search tokens and validation included), and the
account name is the natural key that keeps a second run from creating anything twice.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.apps import apps

from . import data
from .fake import Fake

VERSION = 1


@dataclass(frozen=True)
class DemoContact:
    name: str
    first_name: str
    last_name: str
    title: str
    mobile: str
    email: str
    primary: bool


@dataclass(frozen=True)
class DemoAccount:
    name: str
    owner: str  # username
    phone: str
    email: str
    website: str
    city: str
    contacts: tuple[DemoContact, ...]


def demo_accounts(
    n: int = data.DEMO_ACCOUNTS, contacts_per_account: int = data.DEMO_CONTACTS_PER_ACCOUNT
) -> list[DemoAccount]:
    """The demo accounts, the same on every run (seeded). Names are unique."""
    fake = Fake(data.DEMO_SEED)
    seen: set[str] = set()
    out: list[DemoAccount] = []
    while len(out) < n:
        company = fake.company(western_share=0.08)
        if company.name in seen:
            continue
        seen.add(company.name)
        contacts = []
        for i in range(contacts_per_account):
            person = fake.person_zh() if company.chinese else fake.person_en()
            contacts.append(
                DemoContact(
                    name=person.name,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    title=fake.job_title(company.chinese),
                    mobile=fake.mobile_for(person),
                    email=fake.email(person, company),
                    primary=i == 0,
                )
            )
        out.append(
            DemoAccount(
                name=company.name,
                owner=data.ACCOUNT_OWNERS[len(out) % len(data.ACCOUNT_OWNERS)],
                phone=fake.landline_cn(company.area_code) if company.chinese else fake.phone_us(),
                email=f"info@{company.domain}",
                website=f"https://www.{company.domain}",
                city=company.city,
                contacts=tuple(contacts),
            )
        )
    return out


def available() -> bool:
    """The customers app has its models and services (it is built in parallel with this loader)."""
    try:
        apps.get_model("customers", "Account")
        apps.get_model("customers", "Contact")
        services = importlib.import_module("kehu.customers.services")
    except (LookupError, ImportError):
        return False
    ready = hasattr(services, "account_create") and hasattr(services, "contact_create")
    return ready and WRITTEN


WRITTEN = False  # flipped once `load` below is written against the landed customers services


def load(summary: object) -> None:
    """Written against the customers services once they land; until then the stage is unavailable."""
