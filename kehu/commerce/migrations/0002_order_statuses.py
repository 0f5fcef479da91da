"""The default order statuses and their moves: pending → confirmed → shipped → completed, and
cancelled from pending or confirmed. Admins may rename, add and rewire them."""

from django.db import migrations

STATUSES = [
    # code, name, English name, kind, position, initial, may move to
    ("pending", "待确认", "Pending", "open", 10, True, ["confirmed", "cancelled"]),
    ("confirmed", "已确认", "Confirmed", "open", 20, False, ["shipped", "cancelled"]),
    ("shipped", "已发货", "Shipped", "open", 30, False, ["completed"]),
    ("completed", "已完成", "Completed", "done", 40, False, []),
    ("cancelled", "已取消", "Cancelled", "cancelled", 50, False, []),
]


def seed(apps, schema_editor):
    OrderStatus = apps.get_model("commerce", "OrderStatus")
    if OrderStatus.objects.exists():
        return
    made = {}
    for code, name, name_en, kind, position, initial, _next in STATUSES:
        made[code] = OrderStatus.objects.create(
            code=code, name=name, name_en=name_en, kind=kind, position=position, is_initial=initial
        )
    for code, *_rest, next_codes in STATUSES:
        made[code].next_statuses.set([made[n] for n in next_codes])


class Migration(migrations.Migration):
    dependencies = [("commerce", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
