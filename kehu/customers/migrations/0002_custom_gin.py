from django.db import migrations

from kehu.customfields.migration_ops import AddCustomFieldsIndex


class Migration(migrations.Migration):
    """GIN indexes on the custom field values (PostgreSQL only; nothing elsewhere)."""

    dependencies = [("customers", "0001_initial")]

    operations = [
        AddCustomFieldsIndex("account", name="customers_account_custom_gin"),
        AddCustomFieldsIndex("contact", name="customers_contact_custom_gin"),
    ]
