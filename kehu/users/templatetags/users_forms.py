"""Bootstrap (Tabler) rendering for form fields: `{{ field|bs }}` and `{% include "users/_field.html" %}`."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


def widget_class(field: forms.BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "form-check-input"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    return "form-control"


@register.filter
def bs(field: Any, extra: str = "") -> SafeString | Any:
    """Render a bound field's widget with Tabler classes (and `is-invalid` when it has errors)."""
    if not isinstance(field, forms.BoundField):
        return field
    classes = [widget_class(field)]
    existing = field.field.widget.attrs.get("class")
    if existing:
        classes.append(existing)
    if extra:
        classes.append(extra)
    if field.errors:
        classes.append("is-invalid")
    return field.as_widget(attrs={"class": " ".join(classes)})


@register.filter
def is_checkbox(field: Any) -> bool:
    return isinstance(field, forms.BoundField) and isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def is_wide(field: Any) -> bool:
    """Fields that take a whole row in a two-column form (choices shown inline, long text)."""
    if not isinstance(field, forms.BoundField):
        return False
    widget = field.field.widget
    return isinstance(widget, forms.CheckboxSelectMultiple | forms.Textarea | forms.CheckboxInput)
