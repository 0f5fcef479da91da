"""The detail-page registries: header key facts (`register_fact`), cards on a tab
(`register_panel`) and header buttons (`register_action`) that other apps add to a model's detail
page from their ``AppConfig.ready()``, without the owning app importing them (the customer 360°
view is built this way). `kehu.core.generic.ObjectDetailView` puts ``facts``, ``panels`` and
``actions`` in the page context. This module imports no views, forms or tables, so registries of
domain modules may import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass
class Panel:
    """A card on a tab of a detail page (the overview cards of the customer 360° view: "open
    deals", "recent tickets", ...), registered by any app with `register_panel`.

    `tab` is the key of the tab that shows it ("overview" by default; "related" for related
    records). `context(request, obj)` returns what `template_name` needs on top of the page
    context (``object``, ``request``, ``panel``); it runs only when that tab is shown and should
    cost at most one query. `visible(request, obj)` hides the card (e.g. no permission on the
    app's model); a context returning None hides it too. `width` is the Bootstrap column class.
    """

    key: str
    label: str | Promise
    template_name: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None] | None = None
    visible: Callable[[HttpRequest, Any], bool] | None = None
    order: int = 100
    width: str = "col-lg-6"
    icon: str = ""
    tab: str = "overview"


@dataclass
class Fact:
    """A key fact in the header of a detail page ("Open deals 3", "Open tickets 1"), registered
    by any app with `register_fact`.

    `value(request, obj)` returns what to show (a number, a text, safe HTML) or None to leave the
    fact out (e.g. the viewer may not see the app's records); it should cost at most one query.
    `url` is a link for the value: a string or ``fn(request, obj) -> str | None``. `tone` colours
    the value ("", "warning", "danger", "success")."""

    key: str
    label: str | Promise
    value: Callable[[HttpRequest, Any], Any]
    order: int = 100
    url: str | Callable[[HttpRequest, Any], str | None] | None = None
    icon: str = ""
    visible: Callable[[HttpRequest, Any], bool] | None = None
    hint: str | Promise = ""


@dataclass
class ShownPanel:
    panel: Panel
    html: str


@dataclass
class ShownFact:
    fact: Fact
    value: Any
    url: str | None = None

    @property
    def key(self) -> str:
        return self.fact.key

    @property
    def label(self) -> str | Promise:
        return self.fact.label

    @property
    def icon(self) -> str:
        return self.fact.icon


_registered_panels: dict[str, list[Panel]] = {}
_registered_facts: dict[str, list[Fact]] = {}


def register_panel(model_label: str, panel: Panel) -> None:
    """Add a card to a model's detail page (on `panel.tab`, the overview by default) from another
    app's ``AppConfig.ready()``. Registering the same key again replaces it."""
    panels = _registered_panels.setdefault(model_label.lower(), [])
    panels[:] = [p for p in panels if p.key != panel.key] + [panel]


def registered_panels(model_label: str, tab: str | None = None) -> list[Panel]:
    panels = _registered_panels.get(model_label.lower(), [])
    return sorted((p for p in panels if tab is None or p.tab == tab), key=lambda p: (p.order, p.key))


def unregister_panel(model_label: str, key: str) -> None:
    panels = _registered_panels.get(model_label.lower(), [])
    panels[:] = [p for p in panels if p.key != key]


def register_fact(model_label: str, fact: Fact) -> None:
    """Add a key fact to a model's detail page header from another app's ``AppConfig.ready()``.
    Registering the same key again replaces it."""
    facts = _registered_facts.setdefault(model_label.lower(), [])
    facts[:] = [f for f in facts if f.key != fact.key] + [fact]


def registered_facts(model_label: str) -> list[Fact]:
    return sorted(_registered_facts.get(model_label.lower(), []), key=lambda f: (f.order, f.key))


def unregister_fact(model_label: str, key: str) -> None:
    facts = _registered_facts.get(model_label.lower(), [])
    facts[:] = [f for f in facts if f.key != key]


@dataclass
class ObjectAction:
    """A button in the header of a detail page ("Log interaction", "New task"), registered by any
    app with `register_action`. `url(request, obj)` returns the target or None to leave the button
    out (no permission); `modal` opens it as an htmx modal (``#kehu-modal-content``)."""

    key: str
    label: str | Promise
    url: Callable[[HttpRequest, Any], str | None]
    icon: str = ""
    order: int = 100
    modal: bool = True


@dataclass
class ShownAction:
    action: ObjectAction
    url: str


_registered_actions: dict[str, list[ObjectAction]] = {}


def register_action(model_label: str, action: ObjectAction) -> None:
    """Add a header button to a model's detail page from another app's ``AppConfig.ready()``."""
    actions = _registered_actions.setdefault(model_label.lower(), [])
    actions[:] = [a for a in actions if a.key != action.key] + [action]


def unregister_action(model_label: str, key: str) -> None:
    actions = _registered_actions.get(model_label.lower(), [])
    actions[:] = [a for a in actions if a.key != key]


def resolve_actions(request: HttpRequest, obj: Any, model_label: str | None = None) -> list[ShownAction]:
    label = model_label or obj._meta.label_lower
    shown = []
    for action in sorted(_registered_actions.get(label, []), key=lambda a: (a.order, a.key)):
        url = action.url(request, obj)
        if url:
            shown.append(ShownAction(action=action, url=url))
    return shown


def resolve_facts(request: HttpRequest, obj: Any, model_label: str | None = None) -> list[ShownFact]:
    """The registered facts of `obj`'s model with their values, for the page header."""
    label = model_label or obj._meta.label_lower
    shown: list[ShownFact] = []
    for fact in registered_facts(label):
        if fact.visible is not None and not fact.visible(request, obj):
            continue
        value = fact.value(request, obj)
        if value is None:
            continue
        url = fact.url(request, obj) if callable(fact.url) else fact.url
        shown.append(ShownFact(fact=fact, value=value, url=url))
    return shown


def render_panels(
    request: HttpRequest,
    obj: Any,
    *,
    tab: str,
    context: dict[str, Any] | None = None,
    model_label: str | None = None,
) -> list[ShownPanel]:
    """The registered cards of `obj`'s model for `tab`, rendered with the page `context` plus each
    panel's own context."""
    from django.template.loader import render_to_string

    label = model_label or obj._meta.label_lower
    shown: list[ShownPanel] = []
    for panel in registered_panels(label, tab):
        if panel.visible is not None and not panel.visible(request, obj):
            continue
        extra = panel.context(request, obj) if panel.context is not None else {}
        if extra is None:
            continue
        html = render_to_string(
            panel.template_name, {**(context or {}), "object": obj, "panel": panel, **extra}, request=request
        )
        shown.append(ShownPanel(panel=panel, html=html))
    return shown
