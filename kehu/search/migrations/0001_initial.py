from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("model", models.CharField(max_length=100, verbose_name="model")),
                ("object_id", models.BigIntegerField(verbose_name="object ID")),
                ("name_tokens", models.TextField(blank=True, verbose_name="name tokens")),
                ("tokens", models.TextField(blank=True, verbose_name="tokens")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
            ],
            options={
                "verbose_name": "search index entry",
                "verbose_name_plural": "search index entries",
                "constraints": [
                    models.UniqueConstraint(fields=("model", "object_id"), name="search_entry_model_object")
                ],
            },
        ),
    ]
