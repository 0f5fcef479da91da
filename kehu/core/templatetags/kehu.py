"""Template helpers of the generic pages: field values with field permissions, form fields in Tabler
style, object URLs and permission checks.

    {% load kehu %}
    {% field_value account "phone" %}          formatted; masked (with a reveal button) or empty
    {% field_row account "phone" %}            a datagrid item (label + value), nothing when hidden
    {{ account|masked:"phone" }}                the value masked when the viewer's role says so
    {% field_visible account "phone" as show %}
    {% object_url account "edit" as url %}
    {% can_do account "change" as may_change %}  (model-level for a class, object scope for a record)
    {% form_field form.name %}                  label, widget with Bootstrap classes, help, errors
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from django import template
from django.db import models
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ..choices import FieldMode
from ..display import field_label, kind_of, render_field
from ..forms import bootstrap_class
from ..generic import in_scope
from ..generic import object_url as _object_url
from ..masking import mask_value
from ..permissions import can, field_modes

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def field_value(context: template.Context, obj: Any, name: str) -> SafeString:
    if obj is None:
        return mark_safe("")
    return render_field(_user(context), obj, name)


@register.simple_tag(takes_context=True)
def field_visible(context: template.Context, obj: Any, name: str) -> bool:
    return field_modes(_user(context), type(obj)).get(name) != FieldMode.HIDDEN


@register.simple_tag(takes_context=True)
def field_row(context: template.Context, obj: Any, name: str, label: str | None = None) -> SafeString:
    user = _user(context)
    mode = field_modes(user, type(obj)).get(name)
    if mode == FieldMode.HIDDEN:
        return mark_safe("")
    return format_html(
        '<div class="datagrid-item" data-field="{}"><div class="datagrid-title">{}</div>'
        '<div class="datagrid-content">{}</div></div>',
        name,
        label or field_label(obj, name),
        render_field(user, obj, name, mode=mode or ""),
    )


@register.simple_tag(takes_context=True)
def masked(context: template.Context, obj: Any, name: str) -> Any:
    """The plain value of `obj.name`, masked when the viewer's mode is masked, '' when hidden."""
    mode = field_modes(_user(context), type(obj)).get(name)
    value = getattr(obj, name, "")
    if mode == FieldMode.HIDDEN:
        return ""
    if mode == FieldMode.MASKED:
        return mask_value(value, kind_of(obj, name))
    return value


@register.simple_tag
def object_url(target: Any, action: str) -> str:
    return _object_url(target, action) or ""


@register.simple_tag(takes_context=True)
def can_do(context: template.Context, target: Any, action: str) -> bool:
    user = _user(context)
    if isinstance(target, models.Model):
        return can(user, type(target), action) and in_scope(user, target, action)
    return can(user, target, action)


@register.filter
def bs_class(bound_field: Any) -> str:
    return bootstrap_class(bound_field.field.widget)


@register.inclusion_tag("core/_form_field.html")
def form_field(bound_field: Any) -> dict[str, Any]:
    widget = bound_field.field.widget
    css = bootstrap_class(widget)
    if bound_field.errors:
        css += " is-invalid"
    css = " ".join(filter(None, [widget.attrs.get("class", ""), css]))
    attrs = {"class": css} if css else {}
    return {
        "field": bound_field,
        "widget": bound_field.as_widget(attrs=attrs),
        "is_checkbox": "form-check-input" in css,
    }


@register.filter
def verbose_name(obj: Any, plural: bool = False) -> str:
    meta = obj._meta
    return str(meta.verbose_name_plural if plural else meta.verbose_name)


@register.simple_tag(takes_context=True)
def sidebar_menu(context: template.Context) -> SafeString:
    """The sidebar's entries the user may open, the current page's marked (``navigation.menu_html``)."""
    from ..navigation import menu_html

    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return mark_safe("")
    return menu_html(user, request.path)


# {(template, language, URLconf, script prefix, hole names): its HTML, split at the holes}
_static_fragments: dict[tuple[str, Any, Any, str, tuple[str, ...]], tuple[str, ...]] = {}
# A hole's stand-in while the fragment is rendered (private-use characters: escaping keeps them)
_HOLE_MARK = "\ue000{}\ue001"
_HOLE = re.compile("\ue000([a-z_]+)\ue001")


@register.simple_tag
def static_fragment(template_name: str, **holes: Any) -> SafeString:
    """A template that depends on nothing but the language and the URLs (links, labels, script
    tags), rendered once per process: the shell's user menu and scripts were ~20 {% url %},
    {% static %} and {% translate %} tags on every page.

    ``{% static_fragment "t.html" q=request.GET.q %}``: the template writes ``{{ q }}`` where each
    request's value goes (text or attribute values only: no filters, tests or tags on a hole),
    which is escaped unless it is safe HTML; everything else is rendered once."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from django.urls import get_script_prefix, get_urlconf
    from django.utils import translation

    key = (
        template_name,
        translation.get_language(),
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        tuple(sorted(holes)),
    )
    pieces = _static_fragments.get(key)
    if pieces is None:
        html = render_to_string(template_name, {name: _HOLE_MARK.format(name) for name in holes})
        pieces = _static_fragments[key] = tuple(_HOLE.split(html))
    if len(pieces) == 1:
        return mark_safe(pieces[0])  # noqa: S308
    return mark_safe(  # noqa: S308 - the literal pieces are rendered templates, the holes escaped
        "".join(piece if i % 2 == 0 else _hole_text(holes[piece]) for i, piece in enumerate(pieces))
    )


def _hole_text(value: Any) -> str:
    if value is None:
        return ""
    to_html = getattr(value, "__html__", None)
    if to_html is not None:
        return str(to_html())
    return escape(str(value))


@register.simple_tag(takes_context=True)
def column_chooser(context: template.Context) -> SafeString:
    """A list's column chooser (``core/_column_chooser_shell.html``, rendered once per language)
    with the page's columns, page size and saved view."""
    from django.utils.translation import gettext

    table = context["table"]
    request = context["request"]
    active_view: Any = context.get("active_view")
    view = note = ""
    if context.get("active_view_editable") and active_view is not None:
        view = format_html('<input type="hidden" name="view" value="{}">', active_view.pk)
        note = format_html(
            '<div class="small text-secondary mb-2"><i class="ti ti-bookmark me-1"></i>{}</div>',
            gettext("Saved in the view “%(name)s”.") % {"name": active_view.name},
        )
    per_page = context.get("per_page")
    options = mark_safe(  # noqa: S308 - numbers
        "".join(
            f'<option value="{int(n)}"{" selected" if n == per_page else ""}>{int(n)}</option>'
            for n in context.get("per_page_choices") or ()
        )
    )
    return static_fragment(
        "core/_column_chooser_shell.html",
        csrf=context.get("csrf_token"),
        table=table.key,
        view=view,
        next=request.get_full_path(),
        note=note,
        choices=table.column_choices_html(),
        options=options,
    )
