"""Exports (CSV and XLSX) as a core service any list can use.

An app registers an `Exporter` in its `AppConfig.ready()`; the list page includes
`core/_export_button.html` with the exporter's name; the button posts the list's query string to
`core:export_start`, which calls `export_start()`: a `Job` is created and a Celery task writes the
file in the background, row by row, with progress, field permissions, masking and formula
neutralisation. The finished file is the job's `result_file`, downloaded through a permission-checked
view. Hooks in `export_hooks` (the audit app registers one) run when an export succeeds.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import json
import logging
import re
import secrets
import tempfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import File
from django.db import models, transaction
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import permissions
from .choices import Action, FieldMode
from .context import acting_as
from .errors import DomainError, PermissionDeniedError
from .jobkinds import register_job_kind
from .masking import guess_kind, mask_value
from .models import Job
from .services import job_create, job_run

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
JOB_KIND = "export"
register_job_kind(JOB_KIND, gettext_lazy("Export"))
# A progress report (one UPDATE, doubling as the heartbeat) every this many rows.
PROGRESS_EVERY = 1000
CHUNK_SIZE = 2000
# One sheet holds 1,048,576 rows, the header included.
XLSX_MAX_ROWS = 1_048_575
# Query-string keys of a list page that are not filters.
IGNORED_PARAMS = frozenset(
    {"page", "cursor", "page_size", "per_page", "csrfmiddlewaretoken", "exporter", "fmt"}
)


@dataclass
class Column:
    key: str  # also the model field name used for field permissions, when it is one
    label: str | Promise
    value: Callable[[Any], Any] | None = None  # obj -> value; default: attribute path with "__" traversal
    mask_kind: str | None = None  # "phone"/"email"/"text": masked when the user's FieldPermission says masked


@dataclass
class Exporter:
    name: str  # e.g. "customers.account"
    model: type[Model]
    title: str | Promise
    columns: Callable[[Any], list[Column]]  # user -> columns
    queryset: Callable[
        [Any, dict[str, Any]], QuerySet
    ]  # (user, params) -> rows; starts from restrict(user, "export")


_exporters: dict[str, Exporter] = {}

# (job, user, exporter name, row count), called inside the transaction that marks the export
# succeeded: a hook that raises makes the export fail (so no export goes unaudited).
export_hooks: list[Callable[[Job, Any, str, int], None]] = []


def register_exporter(exporter: Exporter) -> None:
    _exporters[exporter.name] = exporter


def get_exporter(name: str) -> Exporter:
    """The exporter registered under `name`; KeyError when there is none."""
    return _exporters[name]


def exporters() -> list[Exporter]:
    return list(_exporters.values())


def can_export(user: Any, name: str) -> bool:
    """Whether `user` may use exporter `name` (unknown exporters: no)."""
    exporter = _exporters.get(name)
    return exporter is not None and permissions.can(user, exporter.model, Action.EXPORT)


# --- cell values -----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# Characters an XLSX (XML 1.0) file cannot hold; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: Any) -> Any:
    """Defuse spreadsheet formula injection: text starting with = + - @ tab or CR gets a leading
    apostrophe, so Excel/LibreOffice show it as text instead of evaluating it. Numbers (and text
    that is just a number, like "-12.5" or "+8613800138000") are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _resolve(obj: Any, path: str) -> Any:
    """obj.a.b for "a__b", None-safe; a choices field shows its label, a method is called."""
    parts = path.split("__")
    for i, part in enumerate(parts):
        if obj is None:
            return None
        if i == len(parts) - 1 and isinstance(obj, models.Model):
            try:
                field = obj._meta.get_field(part)
            except Exception:
                field = None
            if field is not None and getattr(field, "choices", None) and not field.many_to_many:
                display = getattr(obj, f"get_{part}_display", None)
                if display is not None:
                    return display()
        obj = getattr(obj, part, None)
        if callable(obj) and not isinstance(obj, models.Manager):
            obj = obj()
    if isinstance(obj, models.Manager):
        return [str(o) for o in obj.all()]
    return obj


def _plain(value: Any, tz: dt.tzinfo) -> Any:
    """A Python value a CSV/XLSX writer takes: text, number, naive local date/time, or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float | decimal.Decimal):
        return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, tz)
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, dt.date | dt.time):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(_plain(v, tz) or "") for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _cell(value: Any, tz: dt.tzinfo, mask_kind: str | None) -> Any:
    value = _plain(value, tz)
    if mask_kind is not None and value not in (None, ""):
        value = mask_value(str(value), mask_kind)
    return neutralise(value)


@dataclass
class _PreparedColumn:
    column: Column
    mask_kind: str | None  # set when the user may only see the value masked


def visible_columns(user: Any, exporter: Exporter) -> list[_PreparedColumn]:
    """The exporter's columns for `user`: hidden fields left out, masked ones marked."""
    modes = permissions.field_modes(user, exporter.model)
    out = []
    for column in exporter.columns(user):
        mode = modes.get(column.key) or modes.get(column.key.split("__", 1)[0])
        if mode == FieldMode.HIDDEN:
            continue
        mask = (column.mask_kind or guess_kind(column.key)) if mode == FieldMode.MASKED else None
        out.append(_PreparedColumn(column, mask))
    return out


def _rows(queryset: QuerySet, columns: list[_PreparedColumn], tz: dt.tzinfo) -> Iterator[list[Any]]:
    for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
        row = []
        for prepared in columns:
            col = prepared.column
            raw = col.value(obj) if col.value is not None else _resolve(obj, col.key)
            row.append(_cell(raw, tz, prepared.mask_kind))
        yield row


# --- writers ---------------------------------------------------------------------------------


def _csv_text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return "" if value is None else value


def write_csv(fh: IO[str], header: list[str], rows: Iterable[list[Any]], tick: Callable[[int], None]) -> int:
    """UTF-8 with a BOM (the caller opens the file with encoding="utf-8-sig") so Excel reads Chinese."""
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        count += 1
        tick(count)
    return count


def write_xlsx(
    path: Path, title: str, header: list[str], rows: Iterable[list[Any]], tick: Callable[[int], None]
) -> int:
    """openpyxl in write-only mode: rows go straight to the file, memory stays flat."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.freeze_panes = "A2"
    for i, label in enumerate(header):
        ws.column_dimensions[_column_letter(i)].width = max(10, min(40, len(label) * 2 + 4))
    bold = Font(bold=True)
    head = []
    for label in header:
        cell = WriteOnlyCell(ws, value=_xlsx_text(neutralise(label)))
        cell.font = bold
        head.append(cell)
    count = 0
    try:
        ws.append(head)
        for row in rows:
            cells = []
            for value in row:
                value = _xlsx_text(value)
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
                cells.append(cell)
            ws.append(cells)
            count += 1
            tick(count)
    except BaseException:
        with contextlib.suppress(Exception):  # release openpyxl's temporary sheet file
            ws.close()
        raise
    wb.save(path)
    return count


def _xlsx_text(value: Any) -> Any:
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    return value


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\\/*?:\[\]]", " ", title).strip() or "Export"
    return cleaned[:31]


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


# --- the service -----------------------------------------------------------------------------


def _clean_params(params: dict[str, Any] | QueryDict) -> dict[str, Any]:
    """Filters as JSON: {key: "value"} or {key: ["a", "b"]} for repeated keys."""
    out: dict[str, Any] = {}
    items: Iterable[tuple[str, Any]]
    items = params.lists() if isinstance(params, QueryDict) else params.items()
    for key, value in items:
        key = str(key)
        if key in IGNORED_PARAMS:
            continue
        values = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        values = [v.replace("\x00", "") for v in values]
        out[key] = values[0] if len(values) == 1 else values
    return out


def params_querydict(params: dict[str, Any]) -> QueryDict:
    """The stored filters as a QueryDict, exactly like the list page's `request.GET`."""
    qd = QueryDict(mutable=True)
    for key, value in params.items():
        qd.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    qd._mutable = False
    return qd


def export_start(*, user: Any, exporter: str, params: dict[str, Any], fmt: str) -> Job:
    """Create an export job for `user` and schedule the Celery task on commit."""
    try:
        found = get_exporter(exporter)
    except KeyError:
        raise DomainError(
            _("Unknown export."), code="unknown_exporter", fields={"exporter": [_("Unknown export.")]}
        ) from None
    if fmt not in FORMATS:
        msg = _("Choose CSV or Excel.")
        raise DomainError(msg, code="invalid_format", fields={"fmt": [msg]})
    if not permissions.can(user, found.model, Action.EXPORT):
        raise PermissionDeniedError(
            _("You may not export %(things)s.") % {"things": found.model._meta.verbose_name_plural}
        )
    with transaction.atomic():
        job = job_create(
            kind=JOB_KIND,
            owner=user,
            title=_("Export: %(title)s") % {"title": found.title},
            params={"exporter": found.name, "format": fmt, "filters": _clean_params(params)},
        )
        transaction.on_commit(lambda: _schedule(job.pk))
    return job


def _schedule(job_id: int) -> None:
    from .tasks import export_run as task

    task.delay(job_id)


def _user_tz(user: Any) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def export_run(*, job_id: int, task_id: str = "") -> Job | None:
    """The body of the export task: load by id, write the file, finish. Idempotent."""
    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    user = job.owner
    name = str(job.params.get("exporter", ""))
    fmt = str(job.params.get("format", "csv"))
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    tz = _user_tz(user)
    rows_written = 0
    handles: list[IO[bytes]] = []

    def work(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
        nonlocal rows_written
        if user is None or not user.is_active:
            raise DomainError(_("The user who started this export no longer exists or is inactive."))
        try:
            exporter = get_exporter(name)
        except KeyError:
            raise DomainError(_("Unknown export.")) from None
        if not permissions.can(user, exporter.model, Action.EXPORT):
            raise PermissionDeniedError(_("You may no longer export these records."))
        if fmt not in FORMATS:
            raise DomainError(_("Choose CSV or Excel."))
        columns = visible_columns(user, exporter)
        header = [str(c.column.label) for c in columns]
        queryset = exporter.queryset(user, params_querydict(job.params.get("filters") or {}))
        total = queryset.count()
        if fmt == "xlsx" and total > XLSX_MAX_ROWS:
            raise DomainError(
                _("%(count)s rows are more than one Excel sheet holds; export as CSV instead.")
                % {"count": f"{total:,}"}
            )
        progress(0, total=total, message=_("Exporting %(count)s rows…") % {"count": f"{total:,}"})

        def tick(done: int) -> None:
            if done % PROGRESS_EVERY == 0:
                progress(
                    done,
                    message=_("Exported %(done)s of %(total)s rows")
                    % {"done": f"{done:,}", "total": f"{total:,}"},
                )

        rows = _rows(queryset, columns, tz)
        path = Path(tmpdir) / f"export.{fmt}"
        title = str(exporter.title)
        if fmt == "csv":
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                rows_written = write_csv(fh, header, rows, tick)
        else:
            rows_written = write_xlsx(path, title, header, rows, tick)
        stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M")
        download_name = f"{title}-{stamp}.{fmt}"
        slug = slugify(exporter.name.replace(".", "-")) or "export"
        stored_name = f"{slug}-{stamp}-{secrets.token_hex(8)}.{fmt}"
        handle = path.open("rb")
        handles.append(handle)
        return {
            "message": _("%(count)s rows exported.") % {"count": f"{rows_written:,}"},
            "result": {"rows": rows_written, "format": fmt, "exporter": name, "filename": download_name},
            "result_file": (stored_name, File(handle, name=stored_name)),
        }

    def on_success(finished: Job) -> None:
        for hook in export_hooks:
            hook(finished, user, name, rows_written)

    with (
        acting_as(user.pk if user else None, source="task"),
        translation.override(language),
        timezone.override(tz),
        tempfile.TemporaryDirectory(prefix="kehu-export-") as tmpdir,
    ):
        try:
            return job_run(job_id, work, task_id=task_id, on_success=on_success)
        finally:
            for handle in handles:
                handle.close()
