"""The default pipeline the seeds describe: 初步沟通 10 %, 确定意向 30 %, 商务洽谈 60 %, 赢单 100 %,
输单 0 %. Admins edit it (and add more pipelines) on the pipelines page."""

from django.db import migrations

STAGES = [
    # name, English name, order, kind, probability, forecast category
    ("初步沟通", "Initial contact", 10, "open", 10, "pipeline"),
    ("确定意向", "Intent confirmed", 20, "open", 30, "pipeline"),
    ("商务洽谈", "Negotiation", 30, "open", 60, "best_case"),
    ("赢单", "Won", 90, "won", 100, "closed"),
    ("输单", "Lost", 100, "lost", 0, "omitted"),
]


def create_default(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if Pipeline.objects.exists():
        return
    pipeline = Pipeline.objects.create(name="标准销售流程", name_en="Standard sales", is_default=True, order=0)
    for name, name_en, order, kind, probability, category in STAGES:
        Stage.objects.create(
            pipeline=pipeline,
            name=name,
            name_en=name_en,
            order=order,
            kind=kind,
            probability=probability,
            forecast_category=category,
        )


def remove_default(apps, schema_editor):
    apps.get_model("sales", "Pipeline").objects.filter(name="标准销售流程").delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_default, remove_default)]
