"""An approval step keeps why as data (the rule kind and the values the quote showed), so each
reader sees the reason in their own language; the quote's terms get a translation context and a
help text.

Existing steps keep their text (`reason`). Those whose text has the shape of a discount-above or
a total-above reason, in English or in Chinese, also get the data read from it; any other text
(below cost, or a reason written some other way) stays as it is and is still shown."""

import re

from django.db import migrations, models

NUMBER = r"(\d+(?:\.\d+)?)"
# "Discount 16 % is above 15 %" / "折扣 16 % 超过 15 %"
DISCOUNT = re.compile(rf"^\D*?{NUMBER}\s*%\D+?{NUMBER}\s*%\s*$")
# "Total 677976 CNY is above 500000 CNY" / "总额 677976 CNY 超过 500000 CNY"
TOTAL = re.compile(rf"^\D*?{NUMBER}\s+([A-Z]{{3}})\D+?{NUMBER}\s+\2\s*$")


def reason_data(kind: str | None, text: str) -> dict:
    if kind in (None, "discount_above"):
        found = DISCOUNT.match(text)
        if found:
            return {"rule": "discount_above", "limit": found.group(2), "actual": found.group(1)}
    if kind in (None, "total_above"):
        found = TOTAL.match(text)
        if found:
            return {
                "rule": "total_above",
                "limit": found.group(3),
                "actual": found.group(1),
                "currency": found.group(2),
            }
    return {}


def forwards(apps, schema_editor):
    QuoteApproval = apps.get_model("commerce", "QuoteApproval")
    changed = []
    for step in QuoteApproval.objects.select_related("rule").iterator():
        if step.reason_data:
            continue
        data = reason_data(step.rule.kind if step.rule_id else None, step.reason or "")
        if data:
            step.reason_data = data
            changed.append(step)
    QuoteApproval.objects.bulk_update(changed, ["reason_data"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0003_company_profile"),
    ]

    operations = [
        migrations.AddField(
            model_name="quoteapproval",
            name="reason_data",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason (data)"),
        ),
        migrations.AlterField(
            model_name="quote",
            name="terms",
            field=models.TextField(
                blank=True,
                help_text="Printed on the quote under the lines: validity, payment and delivery conditions.",
                verbose_name="terms",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
