from django.db import migrations

from kehu.search.migration_ops import AddFullTextIndex


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [AddFullTextIndex()]
