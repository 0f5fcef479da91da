"""The sidebar: apps register menu entries in their `ready()`; only entries the user may open show.

Core never imports the apps; each entry names the model and action the user needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe

from . import confcache
from .permissions import can, permission_key


@dataclass
class MenuItem:
    label: str | Promise
    url_name: str
    icon: str = "circle"
    # (model label, action) the user needs; empty: any signed-in user; "admin": staff only
    requires: tuple[str, str] | None = None
    admin_only: bool = False
    # ((model label, action), ...): the user needs at least one of them (with `requires`, both
    # must hold). A model that is not installed grants nothing.
    requires_any: tuple[tuple[str, str], ...] = ()


@dataclass
class MenuGroup:
    key: str
    label: str | Promise
    icon: str
    order: int
    items: list[MenuItem] = field(default_factory=list)


_groups: dict[str, MenuGroup] = {}


def register_group(key: str, label: str | Promise, *, icon: str, order: int) -> MenuGroup:
    if key not in _groups:
        _groups[key] = MenuGroup(key, label, icon, order)
    return _groups[key]


def register_item(group: str, item: MenuItem) -> None:
    _groups[group].items.append(item)


def _visible(user: Any, item: MenuItem) -> bool:
    if item.admin_only:
        from .permissions import is_admin

        return is_admin(user)
    if item.requires is not None and not can(user, apps.get_model(item.requires[0]), item.requires[1]):
        return False
    if item.requires_any:
        return any(_may(user, label, action) for label, action in item.requires_any)
    return True


def _may(user: Any, model_label: str, action: str) -> bool:
    try:
        model = apps.get_model(model_label)
    except LookupError:
        return False
    return can(user, model, action)


# {(url name, URLconf, script prefix): path or None}: the sidebar's URLs, reversed once per process.
_urls: dict[tuple[str, Any, str], str | None] = {}


def _url(url_name: str) -> str | None:
    key = (url_name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    if key not in _urls:
        try:
            _urls[key] = reverse(url_name)
        except NoReverseMatch:
            _urls[key] = None
    return _urls[key]


def menu_for(user: Any) -> list[dict[str, Any]]:
    out = []
    for group in sorted(_groups.values(), key=lambda g: g.order):
        items = []
        for item in group.items:
            if not _visible(user, item):
                continue
            url = _url(item.url_name)
            if url is None:
                continue
            items.append({"label": item.label, "url": url, "icon": item.icon, "url_name": item.url_name})
        if items:
            out.append({"key": group.key, "label": group.label, "icon": group.icon, "items": items})
    return out


# {(language, URLconf, script prefix, visible entries): the sidebar's HTML}; a handful of
# distinct permission sets per deployment, so the dictionary stays small.
_menu_html: dict[tuple[Any, ...], str] = {}
_MENU_HTML_MAX = 256
ACTIVE_MARK = '<a class="nav-link" href="'


def menu_html(user: Any, path: str) -> SafeString:
    """The sidebar's ``<ul>`` for this user, with the entry of ``path`` marked active.

    Rendered once per process for each set of visible entries and language (the template loop
    over thirty entries was a tenth of a list page's time); the active entry is marked in the
    cached HTML by its ``href``. Labels are lazy translations, hence the language in the key.
    """
    pkey = permission_key(user)
    if pkey is None:
        menu = menu_for(user)
    else:
        # the entries depend on the user's permissions only: kept under the configuration token
        menu = confcache.cached(
            ("menu", pkey, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()),
            lambda: menu_for(user),
        )
    key = (
        translation.get_language(),
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        _url("home"),
        tuple((g["key"], tuple(i["url_name"] for i in g["items"])) for g in menu),
    )
    html = _menu_html.get(key)
    if html is None:
        html = render_to_string("core/_sidebar_menu.html", {"kehu_menu": menu, "home_url": _url("home")})
        if len(_menu_html) >= _MENU_HTML_MAX:
            _menu_html.clear()
        _menu_html[key] = html
    mark = f'{ACTIVE_MARK}{path}"'
    if mark in html:
        html = html.replace(mark, f'<a class="nav-link active" href="{path}"', 1)
    return mark_safe(html)  # noqa: S308 - rendered by the template engine (escaped), path matched verbatim
