"""Saved list views (保存的视图): reads and writes.

A saved view keeps a list's filters and sort (its query string), the visible columns and the page
size under a name. Personal views are seen by their owner only; shared views by everyone who may
see the list (creating or sharing one needs administrator rights or the ``add`` permission on
``core.savedview``). Each user may pick one view per list as their default (a `UserPreference`
"savedview-default:<table>"): the list opens with it when no filters are given.

A view's query is re-read against the list's current FilterSet when applied: parameters the list no
longer knows (a removed custom field) and values that are no longer valid are dropped, so an old
view never breaks the page.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from . import confcache
from .choices import Action
from .errors import DomainError, PermissionDeniedError
from .models import SavedView, UserPreference
from .permissions import can, is_admin
from .tables import get_table

DEFAULT_PREF = "savedview-default:{table}"
# Parameters a view's query keeps besides the FilterSet's fields.
LIST_PARAMS = frozenset({"q", "sort"})
# Parameters never stored in a view.
DROPPED_PARAMS = frozenset({"page", "_count", "view", "per_page", "csrfmiddlewaretoken"})
MAX_VIEWS_PER_USER = 100


class SavedViewError(DomainError):
    code = "saved_view_invalid"


# --- reads ------------------------------------------------------------------------------------


def can_share(user: Any) -> bool:
    """Whether `user` may create shared views (administrators, or a role granting it)."""
    return is_admin(user) or can(user, SavedView, Action.ADD)


def table_visible(user: Any, table: str) -> bool:
    """Whether the user may see the list `table` at all (unknown tables: no)."""
    table_class = get_table(table)
    return table_class is not None and can(user, table_class.model, Action.VIEW)


def savedviews_visible(*, user: Any, table: str | None = None) -> QuerySet[SavedView]:
    """The views `user` sees: their own and the shared ones (of lists they may see)."""
    if not (user is not None and getattr(user, "is_authenticated", False)):
        return SavedView.objects.none()
    qs = (
        SavedView.objects.filter(Q(owner=user.pk) | Q(shared=True))
        .select_related("owner")
        .order_by("shared", "order", "name", "id")  # personal views first (the menu groups them)
    )
    if table is not None:
        if not table_visible(user, table):
            return SavedView.objects.none()
        return qs.filter(table=table)
    from .tables import tables

    allowed = [key for key in tables() if table_visible(user, key)]
    return qs.filter(table__in=allowed)


def savedviews_visible_list(*, user: Any, table: str) -> list[SavedView]:
    """`savedviews_visible` of one list, kept per user (`kehu.core.confcache.user_cached`: saved
    views replace the configuration token, preferences the user's). Read-only instances."""
    return confcache.user_cached(
        user, ("saved-views", table), lambda: list(savedviews_visible(user=user, table=table))
    )


def savedview_get(*, user: Any, pk: Any, table: str | None = None) -> SavedView | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return savedviews_visible(user=user, table=table).filter(pk=pk).first()


def default_view(*, user: Any, table: str) -> SavedView | None:
    """The user's default view of the list (None when unset or no longer visible)."""
    value = (
        UserPreference.objects.filter(user=user, key=DEFAULT_PREF.format(table=table))
        .values_list("value", flat=True)
        .first()
    )
    if not isinstance(value, dict) or "view" not in value:
        return None
    return savedview_get(user=user, pk=value["view"], table=table)


def default_view_id(*, user: Any, table: str) -> int | None:
    value = (
        UserPreference.objects.filter(user=user, key=DEFAULT_PREF.format(table=table))
        .values_list("value", flat=True)
        .first()
    )
    if isinstance(value, dict) and isinstance(value.get("view"), int):
        return int(value["view"])
    return None


def clean_query(query: str | QueryDict, filterset_class: Any = None) -> QueryDict:
    """The storable part of a list query string: no paging, no unknown parameters (when the
    list's FilterSet is given), no empty values."""
    source = query if isinstance(query, QueryDict) else QueryDict(query or "")
    known: set[str] | None = None
    if filterset_class is not None:
        known = set(filterset_class.base_filters) | LIST_PARAMS
    out = QueryDict(mutable=True)
    for key, values in source.lists():
        if key in DROPPED_PARAMS or (known is not None and key not in known and not _custom_param(key)):
            continue
        kept = [v for v in values if v not in ("", None)]
        if kept:
            out.setlist(key, kept[:50])
    return out


def _custom_param(key: str) -> bool:
    # Custom-field filters are added per FilterSet instance (``custom__<name>[__gte]``).
    return key.startswith("custom__")


def applied_query(view: SavedView, filterset_class: Any, queryset: QuerySet[Any], request: Any) -> QueryDict:
    """The view's query as the list applies it today: unknown parameters and values the
    FilterSet now refuses (a deleted picklist item, a removed custom field) are left out."""
    query = QueryDict(view.query or "", mutable=True)
    for key in list(query.keys()):
        if key in DROPPED_PARAMS:
            del query[key]
    if filterset_class is None:
        return query
    filterset = filterset_class(query, queryset=queryset, request=request)
    known = set(filterset.filters) | LIST_PARAMS
    for key in list(query.keys()):
        if key not in known:
            del query[key]
    filterset = filterset_class(query, queryset=queryset, request=request)
    if not filterset.is_valid():
        for name in filterset.errors:
            for key in list(query.keys()):
                if key == name or key.startswith(f"{name}_"):
                    del query[key]
    return query


# --- writes -----------------------------------------------------------------------------------


def _clean(
    *, user: Any, table: str, name: str, shared: bool, columns: list[str] | None, per_page: Any
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    table_class = get_table(table)
    if table_class is None or not can(user, table_class.model, Action.VIEW):
        raise SavedViewError(_("Unknown list."), fields={"table": [_("Unknown list.")]})
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [_("At most 100 characters.")]
    if shared and not can_share(user):
        raise PermissionDeniedError(
            _("You may not share views with everyone."), fields={"shared": [_("Not allowed.")]}, status=400
        )
    names = table_class.column_names()
    cols = [c for c in (columns or []) if isinstance(c, str) and c in names][:100]
    size: int | None = None
    if per_page not in (None, ""):
        try:
            size = int(per_page)
        except (TypeError, ValueError):
            size = -1
        if not 0 < size <= 500:
            errors["per_page"] = [_("Choose between 1 and 500 rows.")]
    if errors:
        raise SavedViewError(_("Some fields are not valid."), fields=errors)
    return {"name": name, "shared": bool(shared), "columns": cols, "per_page": size}


def _query_text(table: str, query: str | QueryDict) -> str:
    from .generic import filterset_for_table

    text = clean_query(query, filterset_for_table(table)).urlencode()
    if len(text) > 2000:
        raise SavedViewError(_("These filters are too long to save."), fields={"query": [_("Too long.")]})
    return text


@transaction.atomic
def savedview_create(
    *,
    by: Any,
    table: str,
    name: str,
    query: str | QueryDict = "",
    shared: bool = False,
    columns: list[str] | None = None,
    per_page: Any = None,
    make_default: bool = False,
) -> SavedView:
    values = _clean(user=by, table=table, name=name, shared=shared, columns=columns, per_page=per_page)
    if SavedView.objects.filter(owner=by).count() >= MAX_VIEWS_PER_USER:
        raise SavedViewError(_("You have too many saved views. Delete some first."))
    view = SavedView.objects.create(table=table, owner=by, query=_query_text(table, query), order=0, **values)
    if make_default:
        savedview_set_default(by=by, table=table, view=view)
    return view


def _own(by: Any, view: SavedView) -> SavedView:
    current = SavedView.objects.select_for_update().filter(pk=view.pk).first()
    if current is None:
        raise SavedViewError(_("This view no longer exists."), code="not_found", status=404)
    if current.owner_id != by.pk and not (current.shared and is_admin(by)):
        raise PermissionDeniedError(_("You may only change your own views."))
    return current


@transaction.atomic
def savedview_update(
    *,
    by: Any,
    view: SavedView,
    name: str | None = None,
    query: str | QueryDict | None = None,
    shared: bool | None = None,
    columns: list[str] | None = None,
    per_page: Any = ...,
) -> SavedView:
    """Rename, re-share, or replace the filters/columns/page size of one of the user's views
    (administrators may also edit shared views). Arguments left out keep their value."""
    current = _own(by, view)
    want_shared = current.shared if shared is None else shared
    values = _clean(
        user=by,
        table=current.table,
        name=current.name if name is None else name,
        shared=want_shared if want_shared != current.shared else False,
        columns=current.columns if columns is None else columns,
        per_page=current.per_page if per_page is ... else per_page,
    )
    values["shared"] = want_shared
    for key, value in values.items():
        setattr(current, key, value)
    if query is not None:
        current.query = _query_text(current.table, query)
    current.save()
    return current


@transaction.atomic
def savedview_delete(*, by: Any, view: SavedView) -> None:
    current = _own(by, view)
    UserPreference.objects.filter(
        key=DEFAULT_PREF.format(table=current.table), value__view=current.pk
    ).delete()
    current.delete()


@transaction.atomic
def savedview_set_default(*, by: Any, table: str, view: SavedView | None) -> None:
    """Make `view` the user's default for the list (None: back to "All")."""
    key = DEFAULT_PREF.format(table=table)
    if view is None:
        UserPreference.objects.filter(user=by, key=key).delete()
        return
    if view.table != table or savedview_get(user=by, pk=view.pk, table=table) is None:
        raise SavedViewError(_("This view no longer exists."), code="not_found", status=404)
    UserPreference.objects.update_or_create(user=by, key=key, defaults={"value": {"view": view.pk}})
