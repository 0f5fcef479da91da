"""Seed the system picklist "contact_role" (联系人角色) and backfill the new detail tables from the
existing columns: every contact gets a direct relation to its account; existing phones and
e-mails become the primary rows of the typed lists.

Codes are stable; labels and colours stay editable by admins (this never overwrites them)."""

from django.db import migrations

ROLES = [
    ("decision_maker", "决策人", "Decision maker", "red"),
    ("purchaser", "采购", "Purchaser", "orange"),
    ("finance", "财务", "Finance", "green"),
    ("user", "使用者", "User", "blue"),
    ("technical", "技术", "Technical", "purple"),
    ("other", "其他", "Other", "gray"),
]


def seed(apps, schema_editor):
    Picklist = apps.get_model("customfields", "Picklist")
    PicklistItem = apps.get_model("customfields", "PicklistItem")
    picklist, _ = Picklist.objects.get_or_create(
        code="contact_role", defaults={"name": "联系人角色", "name_en": "Contact role", "is_system": True}
    )
    for order, (value, label, label_en, color) in enumerate(ROLES, start=1):
        PicklistItem.objects.get_or_create(
            picklist=picklist,
            value=value,
            defaults={"label": label, "label_en": label_en, "color": color, "order": order},
        )


def unseed(apps, schema_editor):
    Picklist = apps.get_model("customfields", "Picklist")
    Picklist.objects.filter(code="contact_role", is_system=True).delete()


def backfill(apps, schema_editor):
    Account = apps.get_model("customers", "Account")
    Contact = apps.get_model("customers", "Contact")
    Relation = apps.get_model("customers", "AccountContactRelation")
    AccountPhone = apps.get_model("customers", "AccountPhone")
    AccountEmail = apps.get_model("customers", "AccountEmail")
    ContactPhone = apps.get_model("customers", "ContactPhone")
    ContactEmail = apps.get_model("customers", "ContactEmail")
    batch = 2000
    rows = Contact.objects.values_list("pk", "account_id", "phone", "mobile", "email").order_by("pk")
    rels, phones, emails = [], [], []
    for pk, account_id, phone, mobile, email in rows.iterator(chunk_size=batch):
        rels.append(Relation(account_id=account_id, contact_id=pk, is_direct=True))
        # `phone` stays the primary number, `mobile` the first mobile one (as the services keep them).
        if phone:
            phones.append(ContactPhone(contact_id=pk, kind="work", number=phone, is_primary=True))
        if mobile and mobile != phone:
            phones.append(ContactPhone(contact_id=pk, kind="mobile", number=mobile, is_primary=not phone))
        if email:
            emails.append(ContactEmail(contact_id=pk, kind="work", email=email, is_primary=True))
        if len(rels) >= batch:
            Relation.objects.bulk_create(rels, ignore_conflicts=True)
            ContactPhone.objects.bulk_create(phones)
            ContactEmail.objects.bulk_create(emails)
            rels, phones, emails = [], [], []
    Relation.objects.bulk_create(rels, ignore_conflicts=True)
    ContactPhone.objects.bulk_create(phones)
    ContactEmail.objects.bulk_create(emails)
    aphones, aemails = [], []
    for pk, phone, email in (
        Account.objects.values_list("pk", "phone", "email").order_by("pk").iterator(chunk_size=batch)
    ):
        if phone:
            aphones.append(AccountPhone(account_id=pk, kind="work", number=phone, is_primary=True))
        if email:
            aemails.append(AccountEmail(account_id=pk, kind="work", email=email, is_primary=True))
        if len(aphones) >= batch or len(aemails) >= batch:
            AccountPhone.objects.bulk_create(aphones)
            AccountEmail.objects.bulk_create(aemails)
            aphones, aemails = [], []
    AccountPhone.objects.bulk_create(aphones)
    AccountEmail.objects.bulk_create(aemails)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_regions_details_relations"),
        ("customfields", "0002_seed_picklists"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
