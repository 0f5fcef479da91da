"""Generic views every app builds its pages from (list, detail, edit, delete, autocomplete, reveal).

The rules live here once, so an app's views.py only names its model, table, FilterSet, form and
the service to call:

* every queryset starts from ``Model.objects.restrict(user, action)``; a record outside the
  user's scope answers 404 (never 403, so nothing leaks); a record the user may view but not
  change/delete answers 403 on the edit/delete views;
* one code path serves the full page and the htmx partial (a modal, the table, a tab);
* successful htmx posts answer 204 with ``HX-Trigger`` (``kehu:closeModal``, ``kehu:toast``) and
  ``HX-Location`` (the page content is reloaded in place); plain posts redirect with a message;
* a ``DomainError`` from the service becomes a form error (a stale version too).

URL names follow one convention per model: ``<app_label>:<model_name>_<action>`` with actions
``list``, ``detail``, ``add``, ``edit``, ``delete`` (e.g. ``customers:account_edit``).
See docs in each class and ``kehu/customers/views.py`` for a complete example.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import django_filters
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views import View

from . import confcache
from .choices import Action, FieldMode
from .detail import (  # noqa: F401  (the detail-page registries, re-exported for views)
    Fact,
    ObjectAction,
    Panel,
    ShownAction,
    ShownFact,
    ShownPanel,
    register_action,
    register_fact,
    register_panel,
    registered_facts,
    registered_panels,
    render_panels,
    resolve_actions,
    resolve_facts,
    unregister_action,
    unregister_fact,
    unregister_panel,
)
from .display import render_field
from .errors import DomainError
from .masking import reveal_value
from .permissions import can, field_modes, is_admin, managed_model
from .search import clean_query
from .tables import Table, discover, get_table

# --- URLs and small helpers -------------------------------------------------------------------


def url_name(model: type[models.Model] | models.Model, action: str) -> str:
    meta = model._meta
    return f"{meta.app_label}:{meta.model_name}_{action}"


def object_url(target: type[models.Model] | models.Model, action: str) -> str | None:
    """The URL of `action` ("list", "add", "detail", "edit", "delete") for a model or a record;
    None when the app has no such view."""
    args = [target.pk] if isinstance(target, models.Model) and action not in ("list", "add") else []
    try:
        return reverse(url_name(target, action), args=args)
    except NoReverseMatch:
        return None


def record_page(obj: models.Model) -> str | None:
    """The record's own page (`get_absolute_url`); None for records without one (configuration
    records edited from their list)."""
    get = getattr(obj, "get_absolute_url", None)
    return get() if get is not None else None


def restricted(model: type[models.Model], user: Any, action: str) -> models.QuerySet[Any]:
    return model._default_manager.restrict(user, action)  # type: ignore[attr-defined]


def in_scope(user: Any, obj: models.Model, action: str) -> bool:
    """Whether `obj` is within the user's `action` scope (one indexed query)."""
    return restricted(type(obj), user, action).filter(pk=obj.pk).exists()


def get_for_action(model: type[models.Model], user: Any, pk: Any, action: str) -> Any:
    """The record for a write: 404 when the user cannot even see it, 403 when they can see it but
    may not `action` it."""
    obj = restricted(model, user, action).filter(pk=pk).first()
    if obj is not None:
        return obj
    if restricted(model, user, Action.VIEW).filter(pk=pk).exists():
        raise PermissionDenied
    raise Http404


def safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def names_a_filter(filterset_class: Any, keys: Iterable[str]) -> bool:
    """Whether a query names one of the FilterSet's filters (custom fields: ``custom__…``). A list
    whose query names none (``?page=2&per_page=25``) leaves its FilterSet unbound: no form is built
    and validated per request, and a filter that is absent filters nothing anyway. FilterSets that
    override `filter_queryset` (they may filter when nothing is asked, e.g. jobs: "mine") are
    always bound."""
    if filterset_class.filter_queryset is not django_filters.FilterSet.filter_queryset:
        return True
    base = filterset_class.base_filters
    return any(k in base or k.startswith("custom__") for k in keys)


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an htmx request will swap (None for full pages and history restores)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target


def success_response(
    request: HttpRequest, *, url: str, message: str | Promise, level: str = "success"
) -> HttpResponse:
    """After a successful write: htmx gets 204 + events + an in-place reload of the page content at
    `url`; a plain browser post gets a redirect and a flash message."""
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps(
            {"kehu:closeModal": True, "kehu:toast": {"message": str(message), "level": level}}
        )
        response["HX-Location"] = json.dumps(
            {"path": url, "target": ".page-wrapper", "select": ".page-wrapper", "swap": "outerHTML"}
        )
        return response
    getattr(messages, level if level in ("success", "info", "warning", "error") else "info")(request, message)
    return HttpResponseRedirect(url)


def verbose(model: type[models.Model], plural: bool = False) -> str:
    name = str(model._meta.verbose_name_plural if plural else model._meta.verbose_name)
    return name[:1].upper() + name[1:]


class KehuView(LoginRequiredMixin, View):
    """Base: sign-in required; `model`; breadcrumbs from the model's list page."""

    model: ClassVar[type[models.Model]]

    def list_crumb(self) -> tuple[str, str | None]:
        return verbose(self.model, plural=True), object_url(self.model, "list")


# --- list -------------------------------------------------------------------------------------


@dataclass
class LitePage:
    """A page of rows without COUNT(*): one extra row tells whether there is a next page."""

    object_list: list[Any]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1 if self.object_list else 0


MAX_PAGE = 10_000
# On PostgreSQL, an unfiltered table bigger than this shows the planner's estimate, not COUNT(*).
ESTIMATE_ABOVE = 100_000


def paginate(queryset: models.QuerySet[Any], number: Any, per_page: int) -> LitePage:
    try:
        page = max(1, min(int(number), MAX_PAGE))
    except (TypeError, ValueError):
        page = 1
    offset = (page - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return LitePage(rows[:per_page], page, per_page, len(rows) > per_page)


def page_queries(query: QueryDict, page: LitePage) -> dict[str, str]:
    """The links of a list's footer as ``{% querystring %}`` would write them (three such tags cost
    more than this): the row count's, the previous and the next page's."""

    def with_changes(**changes: Any) -> str:
        params = query.copy()
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = str(value)
        return f"?{params.urlencode()}"

    return {
        "count_query": with_changes(_count=1, page=None),
        "previous_query": with_changes(page=page.number - 1) if page.has_previous else "",
        "next_query": with_changes(page=page.number + 1) if page.has_next else "",
    }


def count_rows(queryset: models.QuerySet[Any]) -> tuple[int, bool]:
    """(count, approximate). Unfiltered huge PostgreSQL tables give the planner's estimate."""
    qs = queryset.order_by()
    if connection.vendor == "postgresql" and not qs.query.where:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
            )
            row = cursor.fetchone()
        if row and row[0] > ESTIMATE_ABOVE:
            return int(row[0]), True
    return qs.count(), False


def table_preferences(user: Any, key: str) -> dict[str, Any]:
    from .models import UserPreference

    pref = (
        UserPreference.objects.filter(user=user, key=f"table:{key}").values_list("value", flat=True).first()
    )
    return pref if isinstance(pref, dict) else {}


def list_preferences(user: Any, key: str) -> tuple[dict[str, Any], int | None]:
    """The user's table preferences (columns, page size) and default saved view of a list, in
    one query."""
    from .models import UserPreference
    from .savedviews import DEFAULT_PREF

    wanted = {f"table:{key}": "table", DEFAULT_PREF.format(table=key): "default"}
    found = confcache.user_cached(
        user,
        ("list-preferences", key),
        lambda: {
            wanted[k]: v
            for k, v in UserPreference.objects.filter(user=user, key__in=wanted).values_list("key", "value")
        },
    )
    table = found.get("table")
    default = found.get("default")
    view_id = default.get("view") if isinstance(default, dict) else None
    return (table if isinstance(table, dict) else {}), (view_id if isinstance(view_id, int) else None)


class LazyFilterSet:
    """An unbound FilterSet that is built (its ~40 filters deep-copied, custom-field filters
    added) only when something reads more than `is_bound` and `base_filters` of it: a list page
    without filters shows its filter panel closed and never needs it."""

    is_bound = False

    def __init__(self, filterset_class: Any, build: Callable[[], Any]) -> None:
        self.base_filters = filterset_class.base_filters
        self._build = build
        self._built: Any = None

    def __bool__(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


_list_views: dict[str, type[ObjectListView]] = {}


def list_view_for_table(table: str) -> type[ObjectListView] | None:
    """The list view showing table `table` ("customers.account"), if any."""
    if table not in _list_views:
        discover()
    return _list_views.get(table)


def filterset_for_table(table: str) -> Any:
    """The FilterSet of the list showing table `table` (None when unknown or unfiltered)."""
    view = list_view_for_table(table)
    return view.filterset_class if view is not None else None


class ObjectListView(KehuView):
    """A sortable, filterable, paginated table of the records the user may view.

    Set `model`, `table_class` (a `kehu.core.tables.Table`) and `filterset_class` (the model's
    FilterSet, the same the API uses). Optional: `exporter` (key in `kehu.core.exports`),
    `template_name` (extend ``core/object_list.html``), `title`, `search_fields` (the quick
    search ``q`` for FilterSets without a ``q`` filter: icontains over these fields).

    Query parameters: the FilterSet's, ``q``, ``sort`` (a sortable column name, ``-`` for
    descending), ``page``, ``per_page``, ``view`` (a saved view's id; ``0``: none). ``_count=1``
    returns just the row count (loaded lazily, so the page itself never waits for COUNT(*)). An
    htmx request targeting ``#object-list`` gets only the table.

    Saved views (`kehu.core.savedviews`): ``?view=<id>`` alone applies the view's filters, sort,
    columns and page size; a bare URL applies the user's default view. Bulk actions registered for
    the model (`kehu.core.bulk`) add row checkboxes and an action menu.
    """

    table_class: ClassVar[type[Table]]
    filterset_class: ClassVar[Any] = None
    template_name = "core/object_list.html"
    table_template_name = "core/_object_table.html"
    per_page_choices: ClassVar[tuple[int, ...]] = (25, 50, 100)
    exporter: ClassVar[str | None] = None
    title: ClassVar[str | Promise | None] = None
    search_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table_class = getattr(cls, "table_class", None)
        if table_class is not None and table_class.key not in _list_views:
            _list_views[table_class.key] = cls

    def get_queryset(self) -> models.QuerySet[Any]:
        return restricted(self.model, self.request.user, Action.VIEW)

    def get_filterset(self, queryset: models.QuerySet[Any]) -> Any:
        if self.filterset_class is None:
            return None
        if not names_a_filter(self.filterset_class, self.request.GET):
            # Unbound: built only if something reads it (the filter panel when it loads).
            filterset_class, request = self.filterset_class, self.request
            return LazyFilterSet(
                filterset_class, lambda: filterset_class(None, queryset=queryset, request=request)
            )
        return self.filterset_class(self.request.GET, queryset=queryset, request=self.request)

    @property
    def quick_search(self) -> bool:
        """Whether the list has a working quick-search box (a ``q`` filter or `search_fields`)."""
        if self.filterset_class is not None and "q" in self.filterset_class.base_filters:
            return True
        return bool(self.search_fields)

    def search_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """``q`` over `search_fields` when the FilterSet has no ``q`` of its own."""
        if not self.search_fields or (
            self.filterset_class is not None and "q" in self.filterset_class.base_filters
        ):
            return queryset
        q = clean_query(self.request.GET.get("q"))
        if not q:
            return queryset
        cond = models.Q()
        for f in self.search_fields:
            cond |= models.Q(**{f"{f}__icontains": q})
        return queryset.filter(cond)

    def filter_queryset(self, queryset: models.QuerySet[Any]) -> tuple[models.QuerySet[Any], Any]:
        queryset = self.search_queryset(queryset)
        filterset = self.get_filterset(queryset)
        if filterset is None:
            return queryset, None
        if not filterset.is_bound:
            return queryset, filterset
        # Invalid filters show their errors and an empty list (never a 500, never everything).
        return (filterset.qs if filterset.is_valid() else queryset.none()), filterset

    def get_per_page(self, prefs: dict[str, Any]) -> int:
        for candidate in (self.request.GET.get("per_page"), prefs.get("per_page")):
            try:
                value = int(candidate)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if value in self.per_page_choices:
                return value
        return self.per_page_choices[0]

    def get_extra_context(self) -> dict[str, Any]:
        return {}

    def active_filters(self, filterset: Any) -> int:
        if filterset is None or not filterset.is_bound:
            return 0
        ignored = {"sort", "page", "per_page", "q", "_count", "view"}
        return sum(1 for k, v in self.request.GET.lists() if k not in ignored and any(v))

    def apply_saved_view(self, request: HttpRequest, default_id: int | None) -> tuple[Any, list[Any]]:
        """The saved view in effect and the user's visible views of this list. ``?view=<id>``
        with no filters of its own (or a bare URL and a default view) replaces ``request.GET``
        with the view's query, so sorting and paging links carry it on."""
        from . import savedviews

        user = request.user
        key = self.table_class.key
        views = savedviews.savedviews_visible_list(user=user, table=key)
        wanted = request.GET.get("view")
        active = None
        if wanted is None:
            if not request.GET:
                active = next((v for v in views if v.pk == default_id), None)
                expand = active is not None
            else:
                expand = False
        else:
            active = next((v for v in views if str(v.pk) == wanted), None)
            expand = active is not None and not (set(request.GET) - {"view", "page", "per_page", "_count"})
        if expand and active is not None:
            query = savedviews.applied_query(active, self.filterset_class, self.get_queryset(), request)
            for name in ("page", "per_page", "_count"):
                if name in request.GET:
                    query.setlist(name, request.GET.getlist(name))
            query["view"] = str(active.pk)
            query._mutable = False
            request.GET = query  # type: ignore[assignment]
        return active, views

    def bulk_context(self) -> dict[str, Any]:
        from . import bulk

        actions = bulk.bulk_actions(self.model._meta.label_lower, self.request.user)
        return {"bulk_actions": actions, "bulk_inline_max": bulk.inline_max()}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from . import savedviews

        user = request.user
        if not can(user, self.model, Action.VIEW):
            raise PermissionDenied
        prefs, default_id = list_preferences(user, self.table_class.key)
        active_view, views = self.apply_saved_view(request, default_id)
        queryset, filterset = self.filter_queryset(self.get_queryset())
        if filterset is not None and htmx_target(request) == "kehu-filter-fields":
            # the filter panel, loaded when it is first opened (object_list.html)
            return render(request, "core/_filter_fields.html", {"filterset": filterset})
        if request.GET.get("_count") == "1":
            count, approximate = count_rows(queryset)
            return render(request, "core/_object_count.html", {"count": count, "approximate": approximate})
        if active_view is not None and active_view.columns:
            prefs = {**prefs, "columns": active_view.columns}
        if active_view is not None and active_view.per_page:
            prefs = {**prefs, "per_page": active_view.per_page}
        table = self.table_class(user=user, visible=prefs.get("columns"), sort=request.GET.get("sort"))
        per_page = self.get_per_page(prefs)
        page = paginate(table.prepare(queryset), request.GET.get("page"), per_page)
        query = request.GET.copy()
        for key in ("page", "_count"):
            query.pop(key, None)
        filters_only = query.copy()
        filters_only.pop("view", None)
        view_query = savedviews.clean_query(filters_only, self.filterset_class).urlencode()
        view_modified = active_view is not None and sorted(QueryDict(view_query).lists()) != sorted(
            savedviews.clean_query(active_view.query, self.filterset_class).lists()
        )
        context = {
            "model": self.model,
            "opts": self.model._meta,
            "title": self.title or verbose(self.model, plural=True),
            "table": table,
            "rows": table.rows(page.object_list),
            "page": page,
            "per_page": per_page,
            "per_page_choices": self.per_page_choices,
            "filterset": filterset,
            "filter_count": self.active_filters(filterset),
            "query": query.urlencode(),
            "filter_query": filters_only.urlencode(),
            "view_query": view_query,
            "list_url": request.path,
            "add_url": object_url(self.model, "add") if can(user, self.model, Action.ADD) else None,
            "exporter": self.exporter if self.exporter and can(user, self.model, Action.EXPORT) else None,
            "breadcrumbs": [(verbose(self.model, plural=True), None)],
            "quick_search": self.quick_search,
            "saved_views": views,
            "active_view": active_view,
            "view_modified": view_modified,
            "default_view_id": default_id,
            "can_share_views": savedviews.can_share(user),
            "active_view_editable": active_view is not None
            and (active_view.owner_id == user.pk or (active_view.shared and is_admin(user))),
        }
        context.update(self.bulk_context())
        context.update(self.get_extra_context())
        if (
            context["rows"]
            and self.table_template_name == ObjectListView.table_template_name
            and not context.get("row_actions_template")
        ):
            context["rows_html"] = table.rows_html(context["rows"], bulk=bool(context.get("bulk_actions")))
        if self.table_template_name == ObjectListView.table_template_name:
            context["header_html"] = table.header_html(request.GET)
        context.update(page_queries(request.GET, page))
        if htmx_target(request) == "object-list":
            return render(request, self.table_template_name, context)
        return render(request, self.template_name, context)


class TableConfigView(LoginRequiredMixin, View):
    """POST: store the columns and page size a user chose for a table (or reset them). With
    ``view`` (a saved view the user may edit, shown on the list), they go into that view."""

    def editable_view(self, request: HttpRequest, table: str) -> Any:
        from .savedviews import savedview_get

        view = savedview_get(user=request.user, pk=request.POST.get("view"), table=table)
        if view is None or not (view.owner_id == request.user.pk or (view.shared and is_admin(request.user))):
            return None
        return view

    def post(self, request: HttpRequest) -> HttpResponse:
        from .services import user_preference_delete, user_preference_set

        table = get_table(request.POST.get("table", ""))
        if table is None:
            raise Http404
        key = f"table:{table.key}"
        names = table.column_names()
        columns = [c for c in request.POST.getlist("columns") if c in names]
        try:
            per_page = int(request.POST.get("per_page", ""))
        except ValueError:
            per_page = 0
        view = self.editable_view(request, table.key)
        if view is not None:
            # The list shows a saved view of the user's: the choice is stored in the view.
            from .savedviews import savedview_update

            reset = bool(request.POST.get("reset"))
            savedview_update(
                by=request.user,
                view=view,
                columns=[] if reset else columns,
                per_page=None if reset or not 0 < per_page <= 500 else per_page,
            )
        elif request.POST.get("reset"):
            user_preference_delete(user=request.user, key=key)
        else:
            value: dict[str, Any] = {"columns": columns}
            if 0 < per_page <= 500:
                value["per_page"] = per_page
            user_preference_set(user=request.user, key=key, value=value)
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        return HttpResponseRedirect(safe_next(request) or "/")


# --- detail -----------------------------------------------------------------------------------


@dataclass
class Tab:
    """A tab of a detail page. `context(request, obj)` adds what its template needs (run only when
    the tab is shown); `visible(request, obj)` hides it; `template_name` gets ``object`` and the
    page context."""

    key: str
    label: str | Promise
    template_name: str
    context: Callable[[HttpRequest, Any], dict[str, Any]] | None = None
    visible: Callable[[HttpRequest, Any], bool] | None = None
    icon: str = ""
    order: int = 100


_registered_tabs: dict[str, list[Tab]] = {}


def register_tab(model_label: str, tab: Tab) -> None:
    """Let another app add a tab to a model's detail page (e.g. "deals" on accounts) without
    editing the owning app. Tabs are ordered by `order` (overview 0, history 1000)."""
    tabs = _registered_tabs.setdefault(model_label.lower(), [])
    tabs[:] = [t for t in tabs if t.key != tab.key] + [tab]


def registered_tabs(model_label: str) -> list[Tab]:
    return list(_registered_tabs.get(model_label.lower(), []))


def _audit_history_available(request: HttpRequest, obj: Any) -> bool:
    try:
        get_template("audit/_history_tab.html")
    except TemplateDoesNotExist:
        return False
    return True


def history_tab() -> Tab:
    """The History tab (the audit app's reusable component), shown when the audit app provides it."""
    return Tab(
        "history",
        pgettext_lazy("tab", "History"),
        "core/_history_tab.html",
        visible=_audit_history_available,
        icon="history",
        order=1000,
    )


# Who knows where a record went (kehu.dedup: merged into another): fn(model label, pk) -> pk.
_moved_resolvers: list[Callable[[str, int], int | None]] = []


def register_moved_resolver(fn: Callable[[str, int], int | None]) -> None:
    """A higher app says where a record that no longer exists went (a merge): its detail page
    then redirects there instead of answering 404."""
    if fn not in _moved_resolvers:
        _moved_resolvers.append(fn)


def moved_to(model_label: str, pk: int) -> int | None:
    for fn in _moved_resolvers:
        found = fn(model_label, pk)
        if found is not None:
            return found
    return None


class ObjectDetailView(KehuView):
    """A record's page: header with key facts and actions, then tabs.

    Set `model`, `template_name` (extend ``core/object_detail.html``; fill ``object_header`` and
    ``object_facts``) and `tabs` (list of `Tab`; other apps add theirs with `register_tab`; the
    History tab is appended automatically). ``?tab=key`` selects a tab; an htmx request targeting
    ``#object-tab`` gets only that tab. Other apps add header facts (`register_fact`, in
    ``facts``) and cards below a tab's content (`register_panel`, in ``panels``).
    """

    template_name = "core/object_detail.html"
    tabs: ClassVar[list[Tab]] = []
    select_related: ClassVar[tuple[str, ...]] = ()
    show_history: ClassVar[bool] = True

    def get_queryset(self) -> models.QuerySet[Any]:
        qs = restricted(self.model, self.request.user, Action.VIEW)
        return qs.select_related(*self.select_related) if self.select_related else qs

    def get_object(self) -> Any:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_tabs(self, obj: Any) -> list[Tab]:
        tabs = [*self.tabs, *registered_tabs(self.model._meta.label_lower)]
        if self.show_history:
            tabs.append(history_tab())
        tabs.sort(key=lambda t: t.order)
        return [t for t in tabs if t.visible is None or t.visible(self.request, obj)]

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def moved(self) -> HttpResponse | None:
        """The page of the record this one was merged into, if the user may view it."""
        try:
            pk = int(self.kwargs["pk"])
        except (KeyError, TypeError, ValueError):
            return None
        target = moved_to(self.model._meta.label_lower, pk)
        if target is None or not self.get_queryset().filter(pk=target).exists():
            return None
        url = object_url(self.model(pk=target), "detail")
        if not url:
            return None
        query = self.request.GET.urlencode()
        return HttpResponseRedirect(f"{url}?{query}" if query else url)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            obj = self.get_object()
        except Http404:
            redirect = self.moved()
            if redirect is None:
                raise
            return redirect
        tabs = self.get_tabs(obj)
        wanted = request.GET.get("tab")
        active = next((t for t in tabs if t.key == wanted), tabs[0] if tabs else None)
        user = request.user
        context: dict[str, Any] = {
            "object": obj,
            "model": self.model,
            "opts": self.model._meta,
            "tabs": tabs,
            "active_tab": active,
            "can_change": can(user, self.model, Action.CHANGE) and in_scope(user, obj, Action.CHANGE),
            "can_delete": can(user, self.model, Action.DELETE) and in_scope(user, obj, Action.DELETE),
            "edit_url": object_url(obj, "edit"),
            "delete_url": object_url(obj, "delete"),
            "field_modes": field_modes(user, self.model),
            "breadcrumbs": [self.list_crumb(), (str(obj), None)],
        }
        context.update(self.get_extra_context(obj))
        if active is not None and active.context is not None:
            context.update(active.context(request, obj))
        label = self.model._meta.label_lower
        if active is not None:
            # Cards other apps registered for this tab (`register_panel`).
            context["panels"] = render_panels(
                request, obj, tab=active.key, context=context, model_label=label
            )
        if htmx_target(request) == "object-tab" and active is not None:
            return render(request, "core/_object_tab.html", context)
        # Key facts and buttons other apps registered for the header.
        context["facts"] = resolve_facts(request, obj, label)
        context["actions"] = resolve_actions(request, obj, label)
        return render(request, self.template_name, context)


# --- create / edit ----------------------------------------------------------------------------


class ObjectEditView(KehuView):
    """Create (no ``pk`` in the URL) or edit a record, as an htmx modal or a full page.

    Set `model`, `form_class` (a ModelForm with `kehu.core.forms.ServiceFormMixin`) and implement
    ``save(form, obj)`` calling the service (``form.service_data()``, ``form.version``). GET
    returns the modal partial for htmx and the full page otherwise; a valid POST calls `save`,
    a `DomainError` (stale version included) becomes a form error. Initial values for a new record
    may come from the query string (``?account=12``) for fields the form has.
    """

    form_class: ClassVar[Any]
    template_name = "core/object_edit.html"
    modal_template_name = "core/_object_form_modal.html"

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        if pk is None:
            if not can(self.request.user, self.model, Action.ADD):
                raise PermissionDenied
            return None
        return get_for_action(self.model, self.request.user, pk, Action.CHANGE)

    def get_initial(self, obj: Any) -> dict[str, Any]:
        if obj is not None:
            return {}
        fields = getattr(self.form_class, "base_fields", {})
        return {k: v for k, v in self.request.GET.items() if k in fields}

    def get_form(self, obj: Any, data: Any = None) -> Any:
        return self.form_class(data, instance=obj, initial=self.get_initial(obj), user=self.request.user)

    def save(self, form: Any, obj: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_success_url(self, obj: Any) -> str:
        return safe_next(self.request) or record_page(obj) or object_url(self.model, "list") or "/"

    def success_message(self, obj: Any, created: bool) -> str:
        if created:
            return _("%(model)s “%(name)s” created.") % {"model": verbose(self.model), "name": obj}
        return _("%(model)s “%(name)s” saved.") % {"model": verbose(self.model), "name": obj}

    def render_form(self, form: Any, obj: Any, status: int = 200) -> HttpResponse:
        title = (
            _("Edit %(model)s") % {"model": self.model._meta.verbose_name}
            if obj is not None
            else _("New %(model)s") % {"model": self.model._meta.verbose_name}
        )
        crumbs: list[tuple[str, str | None]] = [self.list_crumb()]
        if obj is not None:
            crumbs.append((str(obj), record_page(obj)))
        crumbs.append((title, None))
        context = {
            "form": form,
            "object": obj,
            "model": self.model,
            "opts": self.model._meta,
            "title": title,
            "action_url": self.request.get_full_path(),
            "cancel_url": (record_page(obj) if obj is not None else None) or object_url(self.model, "list"),
            "breadcrumbs": crumbs,
        }
        template = self.modal_template_name if is_htmx(self.request) else self.template_name
        return render(self.request, template, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return self.render_form(self.get_form(obj), obj)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        if form.is_valid():
            try:
                saved = self.save(form, obj)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                return self.on_success(saved, created=obj is None)
        # htmx only swaps 2xx answers: the modal shows the errors with 200.
        return self.render_form(form, obj, status=200 if is_htmx(request) else 400)

    def on_success(self, obj: Any, *, created: bool) -> HttpResponse:
        user = self.request.user
        if in_scope(user, obj, Action.VIEW):
            return success_response(
                self.request, url=self.get_success_url(obj), message=self.success_message(obj, created)
            )
        # Handed over to someone outside the user's data scope (an explicit transfer).
        message = _("%(model)s “%(name)s” saved. It is now outside your data scope.") % {
            "model": verbose(self.model),
            "name": obj,
        }
        return success_response(
            self.request, url=object_url(self.model, "list") or "/", message=message, level="info"
        )


# --- delete -----------------------------------------------------------------------------------


class ObjectDeleteView(KehuView):
    """Confirm (GET: modal for htmx, page otherwise) and delete (POST) a record through
    ``delete(obj)`` (the service). A `DomainError` (e.g. "still has contacts") is shown in the
    dialog; nothing is deleted."""

    template_name = "core/object_delete.html"
    modal_template_name = "core/_object_delete_modal.html"

    def get_object(self) -> Any:
        return get_for_action(self.model, self.request.user, self.kwargs["pk"], Action.DELETE)

    def delete(self, obj: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_success_url(self) -> str:
        return object_url(self.model, "list") or "/"

    def render_confirm(self, obj: Any, error: str | None = None, status: int = 200) -> HttpResponse:
        context = {
            "object": obj,
            "model": self.model,
            "opts": self.model._meta,
            "error": error,
            "title": _("Delete %(model)s") % {"model": self.model._meta.verbose_name},
            "action_url": self.request.get_full_path(),
            "cancel_url": record_page(obj) or object_url(self.model, "list"),
            "breadcrumbs": [self.list_crumb(), (str(obj), record_page(obj)), (_("Delete"), None)],
        }
        template = self.modal_template_name if is_htmx(self.request) else self.template_name
        return render(self.request, template, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_confirm(self.get_object())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        name = str(obj)
        try:
            self.delete(obj)
        except DomainError as exc:
            return self.render_confirm(obj, error=str(exc.message), status=200 if is_htmx(request) else 400)
        message = _("%(model)s “%(name)s” deleted.") % {"model": verbose(self.model), "name": name}
        return success_response(request, url=self.get_success_url(), message=message)


# --- pickers and reveal -----------------------------------------------------------------------


class ObjectAutocompleteView(KehuView):
    """JSON for tom-select pickers: ``{"results": [{"id", "text"}]}`` over the records the user may
    view, matching ``?q=`` in `search_fields` (icontains); at most `limit`."""

    search_fields: ClassVar[tuple[str, ...]] = ("name",)
    limit: ClassVar[int] = 20

    def get_queryset(self) -> models.QuerySet[Any]:
        return restricted(self.model, self.request.user, Action.VIEW)

    def label(self, obj: Any) -> str:
        return str(obj)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        qs = self.get_queryset()
        q = clean_query(request.GET.get("q"))
        if q:
            cond = models.Q()
            for f in self.search_fields:
                cond |= models.Q(**{f"{f}__icontains": q})
            qs = qs.filter(cond)
        rows = qs.order_by("-pk")[: self.limit]
        return JsonResponse({"results": [{"id": o.pk, "text": self.label(o)} for o in rows]})


class FieldRevealView(LoginRequiredMixin, View):
    """POST /reveal/<model>/<pk>/<field>/: the real value of a masked field, as HTML for htmx.

    Only for records the user may view and fields registered as restrictable for the model;
    a hidden field answers 404. Every reveal is recorded (see `kehu.core.masking`)."""

    def post(self, request: HttpRequest, model: str, pk: int, field: str) -> HttpResponse:
        managed = managed_model(model)
        if managed is None or field not in managed.fields:
            raise Http404
        obj = get_object_or_404(restricted(managed.model, request.user, Action.VIEW), pk=pk)
        mode = field_modes(request.user, managed.model).get(field)
        if mode == FieldMode.HIDDEN:
            raise Http404
        if mode == FieldMode.MASKED:
            reveal_value(user=request.user, obj=obj, field=field)
        return HttpResponse(render_field(request.user, obj, field, mode=""))
