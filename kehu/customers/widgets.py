"""Form widgets of the customer forms: repeatable typed rows (phones, e-mails, addresses, related
accounts) and the cascading region picker (country → province → city → district, refreshed by
htmx from `customers:region_picker`).

Rows post as parallel lists (``phones-kind``, ``phones-number``, ``phones-is_primary`` ...), so
they work without JavaScript (one blank row is always rendered); Alpine.js adds and removes rows
and keeps one primary radio."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from . import regions
from .choices import AddressKind, EmailKind, PhoneKind

FULL_WIDTH = {"rows": "full"}  # the generic form template gives such fields the whole row
_PREFIX = re.compile(r"^[a-z_]{0,20}-?$")


def region_context(prefix: str, values: dict[str, str]) -> dict[str, Any]:
    """What `customers/_region_picker.html` needs for one picker."""
    province = values.get("province") or ""
    country = values.get("country") or (regions.CHINA if province else "")
    city = values.get("city") or ""
    china = country in ("", regions.CHINA, "HK", "MO", "TW")
    city_choices = regions.cities(province) if china else []
    district_parent = city or (province if not city_choices else "")
    return {
        "prefix": prefix,
        "country": country,
        "province": province,
        "city": city,
        "district": values.get("district") or "",
        "countries": regions.country_choices(),
        "china": china,
        "provinces": regions.provinces() if china else [],
        "cities": city_choices,
        "districts": regions.districts(district_parent) if china and district_parent else [],
    }


def safe_prefix(value: str) -> str:
    return value if _PREFIX.match(value or "") else ""


class RegionWidget(forms.Widget):
    """The four region inputs named ``country``, ``province``, ``city``, ``district``."""

    names = ("country", "province", "city", "district")

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={**FULL_WIDTH, **(attrs or {})})

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, str]:
        return {n: str(data.get(n) or "").strip() for n in self.names}

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(n in data for n in self.names)

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        return mark_safe(render_to_string("customers/_region_picker.html", region_context("", value or {})))  # noqa: S308


class RegionField(forms.Field):
    widget = RegionWidget

    def clean(self, value: Any) -> dict[str, str]:
        value = value or {}
        return {n: str(value.get(n) or "") for n in RegionWidget.names}

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.clean(initial) != self.clean(data)


class RowsWidget(forms.Widget):
    """Parallel lists ``<name>-<column>`` plus ``<name>-is_primary`` ("1" on the primary row)."""

    template = ""
    columns: tuple[str, ...] = ()

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={**FULL_WIDTH, **(attrs or {})})

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[dict[str, Any]]:
        getlist = getattr(data, "getlist", lambda k: [data[k]] if k in data else [])
        cols = {c: getlist(f"{name}-{c}") for c in self.columns}
        primary = getlist(f"{name}-is_primary")
        count = max([len(v) for v in cols.values()] or [0])
        rows = []
        for i in range(min(count, 50)):
            row: dict[str, Any] = {c: (str(v[i]).strip() if i < len(v) else "") for c, v in cols.items()}
            if not any(row[c] for c in self.columns if c != "kind"):
                continue
            row["is_primary"] = i < len(primary) and primary[i] == "1"
            rows.append(row)
        return rows

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-{self.columns[-1]}" not in data and f"{name}-is_primary" not in data

    def extra_context(self) -> dict[str, Any]:
        return {}

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        rows = list(value or [])
        if not rows:
            rows = [{"is_primary": True}]
        context = {"name": name, "rows": rows, **self.extra_context()}
        return mark_safe(render_to_string(self.template, context))  # noqa: S308


class PhoneRowsWidget(RowsWidget):
    template = "customers/widgets/phone_rows.html"
    columns = ("kind", "number")

    def extra_context(self) -> dict[str, Any]:
        return {"kinds": PhoneKind.choices}


class EmailRowsWidget(RowsWidget):
    template = "customers/widgets/email_rows.html"
    columns = ("kind", "email")

    def extra_context(self) -> dict[str, Any]:
        return {"kinds": EmailKind.choices}


class AddressRowsWidget(RowsWidget):
    template = "customers/widgets/address_rows.html"
    columns = ("kind", "country", "province", "city", "district", "street", "postcode")

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        rows = list(value or [])
        shown = [{**r, "region": region_context(f"{name}-", r)} for r in rows]
        return mark_safe(  # noqa: S308
            render_to_string(
                self.template,
                {
                    "name": name,
                    "rows": shown,
                    "blank": {"is_primary": not rows, "region": region_context(f"{name}-", {})},
                    "kinds": AddressKind.choices,
                },
            )
        )


class RowsField(forms.Field):
    """A list of row dicts; the service validates and normalises them."""

    def __init__(self, *, widget: type[RowsWidget], **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(widget=widget, **kwargs)

    def clean(self, value: Any) -> list[dict[str, Any]]:
        return list(value or [])

    def has_changed(self, initial: Any, data: Any) -> bool:
        def key(rows: Any) -> list[tuple[Any, ...]]:
            return [tuple(sorted((k, str(v)) for k, v in r.items() if k != "region")) for r in rows or []]

        return key(initial) != key(data)


class RemoteSelectMultiple(forms.SelectMultiple):
    """A multiple <select> searched on the server by tom-select: only the selected options are
    rendered (validation still uses the field's restricted queryset)."""

    def __init__(self, url: str = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"data-tom-select": "", "data-tom-select-url": url, **(attrs or {})})

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> list[Any]:
        selected = [str(v) for v in value if v not in (None, "")]
        queryset = getattr(self.choices, "queryset", None)
        options: list[tuple[Any, Any]] = []
        if queryset is not None and selected:
            field = self.choices.field  # type: ignore[attr-defined]
            options = [(o.pk, field.label_from_instance(o)) for o in queryset.filter(pk__in=selected)]
        return [
            (None, [self.create_option(name, v, label, True, i, attrs=attrs)], i)
            for i, (v, label) in enumerate(options)
        ]
