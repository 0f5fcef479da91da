"""Custom fields in templates.

    {% load customfields %}
    {% custom_fields_display account %}                 detail page: label/value rows (datagrid)
    {% custom_list_columns account_model as columns %}   list page: columns (name, label, definition)
    {% for c in columns %}<th>{{ c.label }}</th>{% endfor %}
    {% custom_value account column %}                   one cell (badges, links, masked/hidden per role)

Field permissions are keyed ``custom.<name>``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.utils.safestring import SafeString, mark_safe

from kehu.core.permissions import field_modes

from ..display import custom_rows
from ..tables import CustomFieldColumn
from ..tables import custom_list_columns as _custom_list_columns

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.inclusion_tag("customfields/_display.html", takes_context=True)
def custom_fields_display(context: template.Context, obj: Any, empty_text: str = "") -> dict[str, Any]:
    return {"rows": custom_rows(obj, _user(context)) if obj is not None else [], "empty_text": empty_text}


@register.simple_tag(takes_context=True)
def custom_list_columns(context: template.Context, model: Any) -> list[CustomFieldColumn]:
    if isinstance(model, models.Model):
        model = type(model)
    return _custom_list_columns(model, _user(context))


@register.simple_tag(takes_context=True)
def custom_value(context: template.Context, obj: Any, column: CustomFieldColumn) -> SafeString:
    if obj is None or column is None:
        return mark_safe("")
    mode = field_modes(_user(context), type(obj)).get(column.definition.key)
    return column.render(obj, mode)
