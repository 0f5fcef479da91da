from __future__ import annotations

import factory

from kehu.customfields.choices import FieldType
from kehu.customfields.models import CustomField, FieldRule, Picklist, PicklistItem


class PicklistFactory(factory.django.DjangoModelFactory[Picklist]):
    class Meta:
        model = Picklist

    code = factory.Sequence(lambda n: f"list-{n}")
    name = factory.Sequence(lambda n: f"字典{n}")
    name_en = factory.Sequence(lambda n: f"List {n}")


class PicklistItemFactory(factory.django.DjangoModelFactory[PicklistItem]):
    class Meta:
        model = PicklistItem

    picklist = factory.SubFactory(PicklistFactory)
    value = factory.Sequence(lambda n: f"v{n}")
    label = factory.Sequence(lambda n: f"选项{n}")
    label_en = factory.Sequence(lambda n: f"Option {n}")
    order = factory.Sequence(lambda n: n)


class CustomFieldFactory(factory.django.DjangoModelFactory[CustomField]):
    class Meta:
        model = CustomField

    model = "customers.account"
    name = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"字段{n}")
    label_en = factory.Sequence(lambda n: f"Field {n}")
    type = FieldType.TEXT
    order = factory.Sequence(lambda n: n)


def choice_list(code: str = "colours", *values: str) -> Picklist:
    """A picklist with items `values` (default: red, green, blue), labels 红/绿/蓝 and Red/Green/Blue."""
    picklist = PicklistFactory.create(code=code, name="颜色", name_en="Colours")
    labels = {"red": ("红", "Red"), "green": ("绿", "Green"), "blue": ("蓝", "Blue")}
    for order, value in enumerate(values or ("red", "green", "blue"), start=1):
        zh, en = labels.get(value, (f"{value}中", value.title()))
        PicklistItemFactory.create(
            picklist=picklist, value=value, label=zh, label_en=en, order=order, color="red"
        )
    return picklist


class FieldRuleFactory(factory.django.DjangoModelFactory[FieldRule]):
    """A data standard of a standard account field (the e-mail: required, weight 2)."""

    class Meta:
        model = FieldRule
        django_get_or_create = ("model", "field")

    model = "customers.account"
    field = "email"
    required = True
    weight = 2
