"""Reads: definitions, picklists and the "in use" questions. Definitions are metadata every
signed-in user may read (the API lists them); records are never read here except to answer
"does any record hold this value?"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connections, models
from django.db.models import Prefetch, Q, QuerySet

from kehu.core import confcache
from kehu.core.context import request_memo, request_memo_forget
from kehu.core.permissions import is_admin

from .choices import FieldType
from .models import CustomField, FieldRule, Picklist, PicklistItem
from .registry import get_model, model_label, picklist_usages


def _items_prefetch() -> Prefetch:
    return Prefetch("picklist__items", queryset=PicklistItem.objects.order_by("order", "id"))


MEMO_KEY = "customfields"


def forget_definitions(**kwargs: Any) -> None:
    """After a write to definitions, picklists or items: read them afresh in this request and in
    every process (kehu.core.confcache)."""
    request_memo_forget(MEMO_KEY)
    confcache.bump()


def custom_fields_for(model: type[models.Model] | str, *, active_only: bool = True) -> list[CustomField]:
    """The model's custom field definitions in order, picklist items prefetched (2 queries at most).

    Read once per process while the configuration token stays (`kehu.core.confcache`; the list
    table, its FilterSet and the API serializer all ask); any write to definitions or picklists
    replaces the token (signals in apps.py, `forget_definitions` after bulk writes)."""
    label = model_label(model)

    def load() -> list[CustomField]:
        qs = CustomField.objects.filter(model=label).select_related("picklist")
        if active_only:
            qs = qs.filter(is_active=True)
        return list(qs.prefetch_related(_items_prefetch()).order_by("order", "id"))

    key = (MEMO_KEY, label, active_only)
    return list(request_memo(key, lambda: confcache.cached(key, load)))


def custom_field_list(
    *, user: Any, model: str | None = None, is_active: bool | None = None
) -> QuerySet[CustomField]:
    """Definitions for lists and the API: any signed-in user may read them."""
    if not getattr(user, "is_authenticated", False):
        return CustomField.objects.none()
    qs = CustomField.objects.select_related("picklist").order_by("model", "order", "id")
    if model:
        qs = qs.filter(model=model.lower())
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs


def custom_field_get(*, user: Any, pk: int) -> CustomField:
    return custom_field_list(user=user).get(pk=pk)


def picklist_list(*, user: Any) -> QuerySet[Picklist]:
    if not getattr(user, "is_authenticated", False):
        return Picklist.objects.none()
    items: Any = Prefetch("items", queryset=PicklistItem.objects.order_by("order", "id"))
    return Picklist.objects.prefetch_related(items).order_by("code")


def picklist_item_list(*, user: Any, picklist: Picklist | None = None) -> QuerySet[PicklistItem]:
    if not getattr(user, "is_authenticated", False):
        return PicklistItem.objects.none()
    qs = PicklistItem.objects.select_related("picklist").order_by("picklist__code", "order", "id")
    if picklist is not None:
        qs = qs.filter(picklist=picklist)
    return qs


def admin_required(user: Any) -> bool:
    return is_admin(user)


def permission_fields(label: str) -> list[tuple[str, str]]:
    """("custom.<name>", label) of a customizable model's custom fields (deactivated ones too), for
    the role editor's field permissions. Non-customizable models have none."""
    if get_model(label) is None:
        return []
    return [(f.key, f"{f.display_label} ({f.name})") for f in custom_fields_for(label, active_only=False)]


# --- picklist values for standard fields (customers' industry, source, level ...) ------------


def picklist_items(code: str, *, active_only: bool = False) -> list[PicklistItem]:
    """The picklist's items in order (kept in the process like the definitions)."""

    def load() -> list[PicklistItem]:
        qs = PicklistItem.objects.filter(picklist__code=code).order_by("order", "id")
        if active_only:
            qs = qs.filter(is_active=True)
        return list(qs)

    return list(confcache.cached(("picklist", code, active_only), load))


def picklist_choices(code: str, *, current: str | Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(value, label) of the active items, plus the `current` value(s) even if deactivated.

    For form fields of standard model fields that store picklist values.
    """
    keep = {current} if isinstance(current, str) else set(current or ())
    return [(i.value, i.display_label) for i in picklist_items(code) if i.is_active or i.value in keep]


def picklist_label_map(code: str) -> dict[str, PicklistItem]:
    """{value: item} of every item (deactivated too), to show stored values in lists."""
    return {i.value: i for i in picklist_items(code)}


def picklist_label(code: str, value: str | None) -> str:
    if not value:
        return ""
    item = picklist_label_map(code).get(value)
    return item.display_label if item else value


# --- "in use" ---------------------------------------------------------------------------------


def _records_with_choice(field: CustomField, model: type[models.Model], values: list[str]) -> QuerySet:
    """Records of `model` whose custom choice field holds any of `values`."""
    manager = model._default_manager
    name = field.name
    if field.type == FieldType.SINGLE_CHOICE:
        return manager.filter(**{f"custom__{name}__in": values})
    q = Q()
    vendor = connections[manager.db].vendor
    for value in values:
        if vendor == "postgresql":
            q |= Q(custom__contains={name: [value]})
        else:
            # SQLite has no JSON containment; codes are ASCII without quotes and unique ignoring
            # case, so the quoted code inside the array's JSON text is an exact element match.
            q |= Q(**{f"custom__{name}__icontains": f'"{value}"'})
    return manager.filter(q)


def custom_field_has_values(field: CustomField) -> bool:
    """Whether any record of the field's model stores a value for it."""
    model = get_model(field.model)
    if model is None:
        return False
    return model._default_manager.filter(custom__has_key=field.name).exists()


def item_usage(item: PicklistItem) -> list[str]:
    """Where `item`'s value is stored: ["customers.account.industry", "customers.account.custom.x"]."""
    return values_usage(item.picklist, [item.value])


def values_usage(picklist: Picklist, values: list[str]) -> list[str]:
    found: list[str] = []
    if not values:
        return found
    for usage in picklist_usages(picklist.code):
        if usage.model._default_manager.filter(**{f"{usage.field_name}__in": values}).exists():
            found.append(usage.label)
    for field in CustomField.objects.filter(picklist=picklist).order_by("model", "order", "id"):
        model = get_model(field.model)
        if model is not None and _records_with_choice(field, model, values).exists():
            found.append(f"{field.model}.{field.key}")
    return found


def item_in_use(item: PicklistItem) -> bool:
    return bool(item_usage(item))


def picklist_usage(picklist: Picklist) -> list[str]:
    """Why `picklist` cannot be deleted: standard fields and custom fields that use it, stored values."""
    found = [u.label for u in picklist_usages(picklist.code)]
    found += [
        f"{f.model}.{f.key}" for f in CustomField.objects.filter(picklist=picklist).order_by("model", "id")
    ]
    values = list(picklist.items.values_list("value", flat=True))
    found += [u for u in values_usage(picklist, values) if u not in found]
    return found


def custom_field_label(model: type[models.Model], json_field: str, key: str) -> str | None:
    """The label of custom field `key` in the active language (for the History tab's field names)."""
    if json_field != "custom":
        return None
    field = CustomField.objects.filter(model=model_label(model), name=key).only("label", "label_en").first()
    return field.display_label if field is not None else None


def field_rule_list(*, user: Any, model: str | None = None) -> QuerySet[FieldRule]:
    """Data collection standards for the API: any signed-in user may read them."""
    if not getattr(user, "is_authenticated", False):
        return FieldRule.objects.none()
    qs = FieldRule.objects.order_by("model", "order", "id")
    if model:
        qs = qs.filter(model=model.lower())
    return qs
