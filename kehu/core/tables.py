"""List tables: the columns of a list page, rendered in Python (fast), masked by field permissions.

An app declares one table per list::

    class AccountTable(Table):
        model = Account
        select_related = ("owner", "department")
        columns = [
            LinkColumn("name", _("Name"), order_by="name", required=True),
            ChoiceColumn("kind", _("Kind"), order_by="kind"),
            PhoneColumn("phone", _("Phone")),
            UserColumn("owner", _("Owner"), order_by="owner__username"),
            DateTimeColumn("created_at", _("Created"), order_by="created_at", default=False),
        ]

Columns with ``order_by`` are sortable (a whitelist: nothing else can be sorted on). A column tied
to a model field (``field``, by default its name when that is a concrete field) disappears when the
user's field permission says hidden, and shows masked values when it says masked. The columns a
user sees are stored per user (``UserPreference`` "table:<key>"); ``default=False`` columns are
offered in the column chooser but not shown until chosen. ``Table.extra_columns()`` lets a table add
columns defined at run time (custom fields).
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from . import dates
from .choices import FieldMode
from .masking import guess_kind, mask_value
from .permissions import field_modes
from .validators import format_phone

EMPTY = mark_safe('<span class="text-secondary">—</span>')


def esc(value: Any) -> str:
    """`django.utils.html.conditional_escape` without its lazy-string wrappers (a list page calls
    it thousands of times): safe strings as they are, everything else escaped."""
    if type(value) is str:
        return html.escape(value)
    if isinstance(value, Promise):
        value = str(value)
    to_html = getattr(value, "__html__", None)
    return to_html() if to_html is not None else html.escape(str(value))


def html_format(format_string: str, *args: Any) -> SafeString:
    """`django.utils.html.format_html` for the cells of a table (same output, less overhead)."""
    return SafeString(format_string.format(*[esc(a) for a in args]))


def resolve(record: Any, accessor: str) -> Any:
    """`record.a.b` for accessor "a.b" (None along the way stops)."""
    value = record
    for part in accessor.split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
        if callable(value) and not isinstance(value, models.Manager):
            value = value()
    return value


@dataclass
class Column:
    name: str
    label: str | Promise
    accessor: str | None = None
    # Database expression(s) to sort by; None: not sortable.
    order_by: str | tuple[str, ...] | None = None
    default: bool = True
    required: bool = False
    # Model field whose field permission applies; "" = none; None = the column name if it is a field.
    field: str | None = None
    mask_kind: str | None = None
    css_class: str = ""
    formatter: Callable[[Any], Any] | None = None
    # The record's own fields the column reads, for tables that load only what their shown
    # columns read (`Table.load_only_shown`). None: the field its accessor names, when the column
    # renders through this module's classes alone; otherwise unknown (the whole record is loaded).
    reads: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.accessor is None:
            self.accessor = self.name

    def fields_read(self, model: type[models.Model]) -> tuple[str, ...] | None:
        """The record's own fields this column reads (`reads`, else the field its accessor
        names when the column renders through this module's classes alone); None: unknown.
        Subclasses reading more of the record say so here or in `reads`."""
        if self.reads is not None:
            return self.reads
        if not _reads_accessor_only(type(self)):
            return None
        first = (self.accessor or self.name).split(".")[0]
        try:
            model_field = model._meta.get_field(first)
        except FieldDoesNotExist:
            return None
        if not getattr(model_field, "concrete", False) or model_field.many_to_many:
            return None
        return (first,)

    @property
    def sortable(self) -> bool:
        return bool(self.order_by)

    def order_fields(self, descending: bool) -> list[str]:
        fields = (self.order_by,) if isinstance(self.order_by, str) else tuple(self.order_by or ())
        out = []
        for f in fields:
            if descending:
                out.append(f[1:] if f.startswith("-") else f"-{f}")
            else:
                out.append(f)
        return out

    def value(self, record: Any) -> Any:
        return resolve(record, self.accessor or self.name)

    def prepare(self, records: list[Any]) -> Column:
        """Called once per page before rendering: return the column itself, or a copy holding
        per-page data (e.g. a label map loaded in one query) that `render` then uses."""
        return self

    def render_value(self, record: Any, value: Any) -> Any:
        """The cell content for a present value; subclasses override (must escape)."""
        if self.formatter is not None:
            value = self.formatter(value)
        return value

    def render(self, record: Any, mode: str | None = None) -> Any:
        value = self.value(record)
        # (not `value in (None, "", [], {})`: a related record compared itself to each)
        if value is None or (not value and isinstance(value, (str, list, dict))):
            return EMPTY
        if mode == FieldMode.MASKED:
            return html_format(
                '<span class="kehu-masked" title="{}">{}</span>',
                _("Masked"),
                mask_value(str(value), self.mask_kind or guess_kind(self.field or self.name)),
            )
        return self.render_value(record, value)


# A number no record has, standing for the id in a reversed detail URL (one reverse() a page).
_PK_MARK = 9_876_543_210


# What a table reads of a joined user (its __str__) and of a joined department or record (name).
USER_FIELDS = ("username", "first_name", "last_name", "display_name")
NAME_FIELDS = ("name",)

# {(URL name, URLconf, script prefix): the detail URL with _PK_MARK for the id}
_detail_patterns: dict[tuple[str, Any, str], str] = {}


def detail_url(record: Any) -> str | None:
    """`record.get_absolute_url()`, without a reverse() per record where the model declares
    ``detail_url_name`` (its get_absolute_url is that URL with the primary key alone): a list of
    25 rows with two linked records each spent a millisecond in reverse()."""
    name = getattr(type(record), "detail_url_name", None)
    if name is None:
        return record.get_absolute_url() if hasattr(record, "get_absolute_url") else None
    key = (name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    pattern = _detail_patterns.get(key)
    if pattern is None:
        pattern = _detail_patterns[key] = reverse(name, args=[_PK_MARK])
    return pattern.replace(str(_PK_MARK), str(record.pk))


class LinkColumn(Column):
    """The record's name, linked to its detail page.

    A subclass naming `url_name` (the URL its model's `get_absolute_url` reverses with the
    primary key alone) reverses it once per page instead of once per row."""

    url_name: ClassVar[str | None] = None
    url_pattern: str | None = None
    _url_method: Any = None

    def prepare(self, records: list[Any]) -> Column:
        if self.url_name is None or not records:
            return self
        bound = copy.copy(self)
        bound.url_pattern = reverse(self.url_name, args=[_PK_MARK])
        bound._url_method = type(records[0]).get_absolute_url
        return bound

    def url(self, record: Any) -> str | None:
        if (
            self.url_pattern is not None
            and getattr(type(record), "get_absolute_url", None) is self._url_method
        ):
            return self.url_pattern.replace(str(_PK_MARK), str(record.pk))
        return detail_url(record)

    def render_value(self, record: Any, value: Any) -> Any:
        url = self.url(record)
        if not url:
            return value
        return html_format('<a href="{}">{}</a>', url, value)


class RelatedLinkColumn(Column):
    """A related record (foreign key), linked to its own detail page."""

    def render_value(self, record: Any, value: Any) -> Any:
        url = detail_url(value)
        if not url:
            return str(value)
        return html_format('<a href="{}">{}</a>', url, value)


class ChoiceColumn(Column):
    """A field with choices: its label (`get_<field>_display()`, from a map made once a page)."""

    labels: dict[Any, Any] | None = None
    attname: str = ""

    def prepare(self, records: list[Any]) -> Column:
        if not records:
            return self
        try:
            model_field = type(records[0])._meta.get_field(self.accessor or self.name)
        except (FieldDoesNotExist, AttributeError):
            return self
        if not getattr(model_field, "flatchoices", None) or model_field.is_relation:
            return self
        bound = copy.copy(self)
        # as get_FOO_display: the label as a string, a value outside the choices as it is
        bound.labels = {k: str(v) for k, v in model_field.flatchoices}
        bound.attname = model_field.attname
        return bound

    def value(self, record: Any) -> Any:
        if self.labels is not None:
            raw = getattr(record, self.attname)
            try:
                return self.labels.get(raw, raw)
            except TypeError:  # unhashable
                return raw
        getter = getattr(record, f"get_{self.accessor}_display", None)
        return getter() if getter else super().value(record)


@lru_cache(maxsize=64)
def _loader(path: str) -> Callable[[], Any]:
    loader: Callable[[], Any] = import_string(path)
    return loader


class CopiedColumn(Column):
    """A related record set up as data (a status, a stage, a queue) read from a per-process copy
    (`copies()`: {id: record}, e.g. under the configuration token) rather than joined: a record
    the copy does not know yet (made meanwhile) is read through the row. With `same_cell`, a
    value's cell is made once a page (a page shows a handful of statuses, each many times).

    The copies are `getattr(copied_from(), config)`: `copied_from` the dotted path of a loader
    (imported when first used, so tables need not import their app's selectors), `config` the
    attribute of what it returns; or override `copies()`."""

    known: dict[Any, Any] | None = None
    same_cell: ClassVar[bool] = True
    cells: dict[Any, Any] | None = None
    copied_from: ClassVar[str] = ""
    config: ClassVar[str] = ""

    def copies(self) -> dict[Any, Any]:
        found: dict[Any, Any] = getattr(_loader(self.copied_from)(), self.config)
        return found

    def fields_read(self, model: type[models.Model]) -> tuple[str, ...] | None:
        return (self.name,)

    def prepare(self, records: list[Any]) -> Column:
        bound = copy.copy(self)
        bound.known = self.copies()
        bound.cells = {} if self.same_cell else None
        return bound

    def value(self, record: Any) -> Any:
        pk = getattr(record, f"{self.name}_id")
        if pk is None:
            return None
        found = (self.known or {}).get(pk)
        return found if found is not None else getattr(record, self.name)

    def render(self, record: Any, mode: str | None = None) -> Any:
        if self.cells is None or mode == FieldMode.MASKED:
            return super().render(record, mode)
        pk = getattr(record, f"{self.name}_id")
        cell = self.cells.get(pk)
        if cell is None:
            cell = self.cells[pk] = super().render(record, mode)
        return cell


class BooleanColumn(Column):
    def render(self, record: Any, mode: str | None = None) -> Any:
        value = self.value(record)
        if mode == FieldMode.MASKED:
            return format_html('<span class="kehu-masked">{}</span>', "****")
        if value:
            return format_html('<i class="ti ti-check text-success" aria-label="{}"></i>', _("Yes"))
        return format_html('<i class="ti ti-minus text-secondary" aria-label="{}"></i>', _("No"))


class PhoneColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format(
            '<a href="tel:{}" class="text-reset text-nowrap">{}</a>', value, format_phone(value)
        )


class EmailColumn(Column):
    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<a href="mailto:{}" class="text-reset">{}</a>', value, value)


class DateTimeColumn(Column):
    # the page's formatters and time zone (`prepare`): resolved once, not twice a cell
    long_format: Callable[[Any], str] | None = None
    short_format: Callable[[Any], str] | None = None
    date_short: Callable[[Any], str] | None = None
    zone: Any = None

    def prepare(self, records: list[Any]) -> Column:
        if not records:
            return self
        bound = copy.copy(self)
        bound.long_format = dates.formatter("DATETIME_FORMAT", True)
        bound.short_format = dates.formatter("SHORT_DATE_FORMAT", True)
        bound.date_short = dates.formatter("SHORT_DATE_FORMAT", False)
        bound.zone = timezone.get_current_timezone()
        return bound

    def render_value(self, record: Any, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            if self.long_format is None or self.short_format is None:
                return DateTimeColumn.prepare(self, [record]).render_value(record, value)
            if value.tzinfo is not None and value.utcoffset() is not None:
                value = value.astimezone(self.zone)
            return SafeString(
                f'<span class="text-nowrap" title="{html.escape(self.long_format(value))}">'
                f"{html.escape(self.short_format(value))}</span>"
            )
        if isinstance(value, dt.date):
            if self.date_short is None:
                return dates.date_format(value, "SHORT_DATE_FORMAT")
            return self.date_short(value)
        return value


class UserColumn(Column):
    """A user (owner, created by): their display name."""

    def render_value(self, record: Any, value: Any) -> Any:
        return html_format('<span class="text-nowrap">{}</span>', str(value))


def _reads_accessor_only(cls: type[Column]) -> bool:
    """Whether `cls` renders through this module's value/render methods alone (a subclass
    elsewhere may read other fields of the record: it says which in `reads`)."""
    return all(getattr(cls, name).__module__ == __name__ for name in ("value", "render", "render_value"))


@dataclass
class Cell:
    column: Column
    content: Any


@dataclass
class Row:
    record: Any
    cells: list[Cell] = field(default_factory=list)


_tables: dict[str, type[Table]] = {}

# Pieces of a list's HTML kept per process: {(configuration token, table, language, columns
# offered, columns shown): the chooser's boxes} and {("header", configuration token, table,
# language, columns shown, sort, query): the header's cells}.
_FRAGMENTS_MAX = 1024
_fragments: OrderedDict[tuple[Any, ...], SafeString] = OrderedDict()
_fragments_lock = threading.Lock()


def _kept_html(key: tuple[Any, ...], make: Callable[[], SafeString]) -> SafeString:
    """`make()`, kept per process under `key` (the oldest of more than `_FRAGMENTS_MAX` forgotten)."""
    html = _fragments.get(key)
    if html is None:
        html = make()
        with _fragments_lock:
            _fragments[key] = html
            while len(_fragments) > _FRAGMENTS_MAX:
                _fragments.popitem(last=False)
    return html


_discovered = False


def discover() -> None:
    """Import every app's ``tables`` and ``views`` modules once, so tables and list views are
    registered even where no URL was resolved yet (services, tasks, the API)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        _discovered = True
        autodiscover_modules("tables", "views")


def get_table(key: str) -> type[Table] | None:
    if key not in _tables:
        discover()
    return _tables.get(key)


def tables() -> dict[str, type[Table]]:
    discover()
    return dict(_tables)


class Table:
    """Columns + per-user choice of visible columns + sorting whitelist + field masking."""

    model: ClassVar[type[models.Model]]
    columns: ClassVar[Sequence[Column]] = ()
    select_related: ClassVar[tuple[str, ...]] = ()
    # {relation in select_related: the only fields the columns read of it}: a joined account
    # brought forty columns (its custom-field JSON parsed) into every row for its name alone.
    related_only: ClassVar[dict[str, tuple[str, ...]]] = {}
    # own fields no column reads (long texts): left out of the list's query
    deferred: ClassVar[tuple[str, ...]] = ()
    prefetch_related: ClassVar[tuple[str, ...]] = ()
    # Load only the own fields the shown columns read (`Column.reads`), the primary key, the
    # joined relations and `always_reads`: a ticket's fifty columns cost more to fetch and to
    # turn into records than its page of nine columns. A shown column whose reads are unknown
    # loads the whole record (less `deferred`).
    load_only_shown: ClassVar[bool] = False
    always_reads: ClassVar[tuple[str, ...]] = ()
    # Applied when no (valid) sort is requested; the primary key is always the last tie-breaker.
    default_ordering: ClassVar[tuple[str, ...]] = ("-pk",)
    # Defaults to the model label ("customers.account").
    key: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "model", None) is not None:
            if not cls.key:
                cls.key = cls.model._meta.label_lower
            _tables[cls.key] = cls

    def __init__(self, *, user: Any, visible: Iterable[str] | None = None, sort: str | None = None) -> None:
        self.user = user
        self.modes = field_modes(user, self.model)
        self.available = [c for c in self.all_columns() if self._mode(c) != FieldMode.HIDDEN]
        by_name = {c.name: c for c in self.available}
        chosen = [n for n in (visible or ()) if n in by_name]
        if chosen:
            names = set(chosen) | {c.name for c in self.available if c.required}
            self.visible = [c for c in self.available if c.name in names]
        else:
            self.visible = [c for c in self.available if c.default or c.required]
        self.visible_names = ",".join(c.name for c in self.visible)
        self.sort, self.sort_column, self.sort_descending = "", None, False
        if sort:
            name = sort.lstrip("-")
            column = by_name.get(name)
            if column is not None and column.sortable:
                self.sort, self.sort_column, self.sort_descending = sort, column, sort.startswith("-")

    @classmethod
    def extra_columns(cls) -> list[Column]:
        """Columns known only at run time (custom fields). Override."""
        return []

    @classmethod
    def all_columns(cls) -> list[Column]:
        return [*cls.columns, *cls.extra_columns()]

    @classmethod
    def column_names(cls) -> set[str]:
        return {c.name for c in cls.all_columns()}

    def _field_of(self, column: Column) -> str | None:
        if column.field is not None:
            return column.field or None
        try:
            self.model._meta.get_field(column.name)
        except FieldDoesNotExist:
            return None
        return column.name

    def _mode(self, column: Column) -> str | None:
        name = self._field_of(column)
        return self.modes.get(name) if name else None

    def order(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        if self.sort_column is not None:
            fields = self.sort_column.order_fields(self.sort_descending)
            tie = "-pk" if self.sort_descending else "pk"
        else:
            fields = list(self.default_ordering)
            tie = "-pk" if fields and fields[-1].startswith("-") else "pk"
        if not any(f.lstrip("-") in ("pk", "id") for f in fields):
            fields.append(tie)
        return queryset.order_by(*fields)

    def _shown_reads(self) -> set[str] | None:
        """The fields (first names) the shown columns and `always_reads` read, None when a shown
        column cannot tell; worked out once a table."""
        if "_kehu_reads" not in self.__dict__:
            read = set(self.always_reads)
            known = True
            for column in self.visible:
                reads = column.fields_read(self.model)
                if reads is None:
                    known = False
                    break
                read.update(r.split("__")[0] for r in reads)
            self.__dict__["_kehu_reads"] = read if known else None
        found: set[str] | None = self.__dict__["_kehu_reads"]
        return found

    def shown_fields(self) -> list[str] | None:
        """The own fields the shown columns read (see `load_only_shown`), None when one of them
        cannot tell."""
        reads = self._shown_reads()
        if reads is None:
            return None
        return sorted({self.model._meta.pk.name, *(r.split("__")[0] for r in self.select_related), *reads})

    def joined(self) -> tuple[str, ...]:
        """The relations of `select_related` to join: with `load_only_shown`, those a shown column
        (or `always_reads`) reads; a hidden department column costs no join. All of them when a
        shown column cannot tell what it reads."""
        reads = self._shown_reads() if self.load_only_shown else None
        if reads is None:
            return self.select_related
        return tuple(r for r in self.select_related if r.split("__")[0] in reads)

    def prepare(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        joined = self.joined()
        if joined:
            queryset = queryset.select_related(*joined)
        shown = self.shown_fields() if self.load_only_shown else None
        if shown is not None:
            related = [
                f"{name}__{f}"
                for name, fields in self.related_only.items()
                if any(r.split("__")[0] == name for r in joined)
                for f in fields
            ]
            queryset = queryset.only(*shown, *related)
        elif self.select_related and self.related_only:
            own = [f.name for f in self.model._meta.concrete_fields if f.name not in self.deferred]
            related = [f"{name}__{f}" for name, fields in self.related_only.items() for f in fields]
            queryset = queryset.only(*own, *related)
        elif self.deferred:
            queryset = queryset.defer(*self.deferred)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return self.order(queryset)

    def column_choices_html(self) -> SafeString:
        """The column chooser's checkboxes (``core/_column_chooser.html``): every column the
        user may show, the shown ones checked. Built in Python: the template loop (dozens of
        columns with custom fields) cost as much as the sidebar. Kept per process and language
        for each choice of columns while the configuration (custom fields' labels) stays."""
        from django.utils.translation import get_language

        from . import confcache

        shown = frozenset(c.name for c in self.visible)
        key = (
            confcache.current_token(),
            self.key,
            get_language(),
            tuple(c.name for c in self.available),
            shown,
        )
        return _kept_html(key, lambda: self._column_choices_html(shown))

    def _column_choices_html(self, shown: frozenset[str]) -> SafeString:
        out = []
        for c in self.available:
            checked = " checked" if c.name in shown or c.required else ""
            disabled = " disabled" if c.required else ""
            out.append(
                '\n      <label class="form-check">\n        <input class="form-check-input" '
                f'type="checkbox" name="columns" value="{esc(c.name)}"{checked}{disabled}>\n'
                f'        <span class="form-check-label">{esc(c.label)}</span>\n      </label>'
            )
        return SafeString("".join(out))

    def rows(self, records: Iterable[Any]) -> list[Row]:
        records = list(records)
        prepared = [(c.prepare(records), self._mode(c)) for c in self.visible]
        return [Row(r, [Cell(c, c.render(r, m)) for c, m in prepared]) for r in records]

    def rows_html(self, rows: list[Row], *, bulk: bool) -> SafeString:
        """The ``<tr>`` of each row exactly as ``core/_object_table.html`` writes them (that template
        uses this when the list has no row-actions template): built in Python, because a
        template loop over 25 rows × the cells was a quarter of the page's time."""
        from django.template import Context
        from django.template.base import render_value_in_context
        from django.utils.translation import gettext

        context = Context()
        label = esc(gettext("Select row"))
        out = []
        for row in rows:
            pk = esc(render_value_in_context(row.record.pk, context))
            if bulk:
                head = (
                    f'\n        <tr data-pk="{pk}" :class="(all || sel.includes(\'{pk}\')) && '
                    f"'table-active'\">\n          <td><input class=\"form-check-input m-0 "
                    f'align-middle kehu-row-check" type="checkbox" value="{pk}" x-model="sel" '
                    f'@change="all = false" aria-label="{label}"></td>\n          '
                )
            else:
                head = f'\n        <tr data-pk="{pk}">\n          \n          '
            cells = "".join(
                f'<td class="{esc(c.column.css_class)}">'
                + (
                    c.content.__html__()
                    if hasattr(c.content, "__html__")
                    else html.escape(c.content)
                    if type(c.content) is str
                    else render_value_in_context(c.content, context)
                )
                + "</td>"
                for c in row.cells
            )
            out.append(
                f'{head}{cells}\n          <td class="text-end text-nowrap"></td>\n        </tr>\n        '
            )
        return SafeString("".join(out))

    def header_html(self, query: Any) -> SafeString:
        """The ``<th>`` of the visible columns exactly as ``core/_object_table.html`` writes them
        from `header`, with each sort link built from `query` (the request's GET) here: twelve
        ``{% querystring %}`` tags were a tenth of the table's time. Kept per process for each
        language, choice of columns, sort and query while the configuration (custom fields'
        labels) stays."""
        from django.utils.translation import get_language

        from . import confcache

        key = (
            "header",
            confcache.current_token(),
            self.key,
            get_language(),
            tuple(c.name for c in self.visible),
            self.sort_column.name if self.sort_column is not None else None,
            self.sort_descending,
            query.urlencode(),
        )
        return _kept_html(key, lambda: self._header_html(query))

    def _header_html(self, query: Any) -> SafeString:

        def link(sort: str) -> str:
            params = query.copy()
            params["sort"] = sort
            if "page" in params:
                del params["page"]
            return esc(f"?{params.urlencode()}")

        out = []
        for h in self.header():
            label = esc(h["label"])
            if h["sortable"]:
                url = link(h["next_sort"])
                state = (" desc" if h["descending"] else " asc") if h["active"] else ""
                cell = (
                    f'<a href="{url}" hx-get="{url}" hx-target="#object-list" hx-swap="outerHTML" '
                    f'hx-push-url="true" class="table-sort{state}" data-sort="{esc(h["column"].name)}">'
                    f"{label}</a>"
                )
            else:
                cell = label
            out.append(f'\n          <th class="{esc(h["css_class"])}">{cell}</th>\n          ')
        return SafeString("".join(out))

    def header(self) -> list[dict[str, Any]]:
        """For the template: label, sort state and the sort value a click should request."""
        out = []
        for c in self.visible:
            active = self.sort_column is c
            if not c.sortable:
                next_sort = None
            elif active and not self.sort_descending:
                next_sort = f"-{c.name}"
            else:
                next_sort = c.name
            out.append(
                {
                    "column": c,
                    "label": c.label,
                    "sortable": c.sortable,
                    "active": active,
                    "descending": active and self.sort_descending,
                    "next_sort": next_sort,
                    "css_class": c.css_class,
                }
            )
        return out
