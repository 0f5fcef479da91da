"""Accounts with a plain address line and no address rows get it as their primary address row (so
that editing the account in the new form keeps it)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Account = apps.get_model("customers", "Account")
    AccountAddress = apps.get_model("customers", "AccountAddress")
    rows = []
    accounts = Account.objects.exclude(address="").filter(addresses__isnull=True).values_list("pk", "address")
    for pk, address in accounts.order_by("pk").iterator(chunk_size=2000):
        rows.append(AccountAddress(account_id=pk, kind="office", street=address[:300], is_primary=True))
        if len(rows) >= 2000:
            AccountAddress.objects.bulk_create(rows)
            rows = []
    AccountAddress.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_seed_roles_backfill")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
