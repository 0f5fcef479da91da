"""The currencies of a new installation: those of ``KEHU_CURRENCIES`` (CNY, USD, EUR, HKD, JPY,
GBP by default), ``KEHU_COMPANY_CURRENCY`` (CNY) being the company currency. From now on the
records decide; admins add, deactivate and switch them in the catalog settings."""

from django.conf import settings
from django.db import migrations

KNOWN = {
    # code: (Chinese name, English name, symbol, minor unit)
    "CNY": ("人民币", "Chinese yuan", "¥", 2),
    "USD": ("美元", "US dollar", "$", 2),
    "EUR": ("欧元", "Euro", "€", 2),
    "HKD": ("港币", "Hong Kong dollar", "HK$", 2),
    "JPY": ("日元", "Japanese yen", "¥", 0),
    "GBP": ("英镑", "Pound sterling", "£", 2),
    "TWD": ("新台币", "New Taiwan dollar", "NT$", 2),
    "MOP": ("澳门元", "Macanese pataca", "MOP$", 2),
    "SGD": ("新加坡元", "Singapore dollar", "S$", 2),
    "KRW": ("韩元", "South Korean won", "₩", 0),
    "AUD": ("澳元", "Australian dollar", "A$", 2),
    "CAD": ("加元", "Canadian dollar", "C$", 2),
    "CHF": ("瑞士法郎", "Swiss franc", "CHF", 2),
}


def seed(apps, schema_editor):
    Currency = apps.get_model("catalog", "Currency")
    codes = [c.strip().upper() for c in getattr(settings, "KEHU_CURRENCIES", ["CNY"]) if c.strip()]
    company = str(getattr(settings, "KEHU_COMPANY_CURRENCY", "CNY")).strip().upper() or "CNY"
    if company not in codes:
        codes.insert(0, company)
    for code in codes:
        name, name_en, symbol, minor = KNOWN.get(code, (code, code, "", 2))
        Currency.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "symbol": symbol,
                "minor_unit": minor,
                "is_company": code == company,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_catalog")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
