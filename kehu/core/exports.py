"""Exports (CSV and XLSX) as a core service any list can use.

An app registers an `Exporter` in its `AppConfig.ready()`; the list page includes
`core/_export_button.html` with the exporter's name; the button posts the list's query string to
`core:export_start`, which calls `export_start()`: a `Job` is created and a Celery task writes the
file in the background, row by row, with progress, field permissions, masking and formula
neutralisation. The finished file is the job's `result_file`, downloaded through a permission-checked
view. Hooks in `export_hooks` (the audit app registers one) run when an export succeeds.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import logging
import math
import re
import secrets
import tempfile
import zipfile
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
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


def _accessor(model: type[Model], path: str) -> Callable[[Any], Any]:
    """``_resolve(obj, path)`` compiled once per column: a path of plain fields and forward
    relations becomes a None-safe attribute chain (a choices field its label), anything else
    (a method, a property, a reverse relation) keeps the generic ``_resolve``."""
    parts = path.split("__")
    owner = model
    for part in parts[:-1]:
        try:
            rel = owner._meta.get_field(part)
        except FieldDoesNotExist:
            return lambda obj: _resolve(obj, path)
        if not (rel.many_to_one or rel.one_to_one) or rel.related_model is None:
            return lambda obj: _resolve(obj, path)
        owner = rel.related_model  # type: ignore[assignment]
    last = parts[-1]
    try:
        field = owner._meta.get_field(last)
    except FieldDoesNotExist:
        return lambda obj: _resolve(obj, path)
    if field.many_to_many or field.one_to_many:
        return lambda obj: _resolve(obj, path)
    display = f"get_{last}_display" if getattr(field, "choices", None) else None
    hops = parts[:-1]

    def get(obj: Any) -> Any:
        for hop in hops:
            obj = getattr(obj, hop, None)
            if obj is None:
                return None
        return getattr(obj, display)() if display is not None else getattr(obj, last, None)

    return get


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
    getters = [(p.column.value or _accessor(queryset.model, p.column.key), p.mask_kind) for p in columns]
    yes, no = _("Yes"), _("No")  # once, not per cell
    for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
        row = []
        for get, mask_kind in getters:
            raw = get(obj)
            if raw is True or raw is False:
                raw = yes if raw else no
            row.append(_cell(raw, tz, mask_kind))
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
    """A one-sheet XLSX written as a stream: the sheet's XML goes straight into the zip entry as the
    rows come (inline strings, no shared-string table, no cell objects), so memory stays flat and
    100,000 rows take seconds (openpyxl's write-only mode spent ~10 ms per row building and
    serialising cell objects). Text is always text (never a formula); dates and times are Excel
    serial numbers with a date format; the header is bold and frozen."""
    widths = [max(10, min(40, len(label) * 2 + 4)) for label in header]
    letters = [_column_letter(i) for i in range(max(len(header), 1))]
    count = 0
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        for name, body in _xlsx_parts(_sheet_title(title)).items():
            zf.writestr(name, body)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            out.write(_SHEET_HEAD)
            out.write(
                "<cols>"
                + "".join(
                    f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
                    for i, w in enumerate(widths)
                )
                + "</cols>"
                if widths
                else ""
            )
            out.write("<sheetData>")
            out.write(_xlsx_row(1, [neutralise(h) for h in header], letters, style=_BOLD))
            chunk: list[str] = []
            for row in rows:
                count += 1
                if len(letters) < len(row):
                    letters += [_column_letter(i) for i in range(len(letters), len(row))]
                chunk.append(_xlsx_row(count + 1, row, letters))
                if len(chunk) >= 500:
                    out.write("".join(chunk))
                    chunk.clear()
                tick(count)
            out.write("".join(chunk))
            out.write("</sheetData></worksheet>")
            out.flush()
            out.detach()
    return count


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_SHEET_HEAD = (
    f'{_XML_DECL}<worksheet xmlns="{_NS}" xmlns:r="{_REL_NS}">'
    '<sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    "</sheetView></sheetViews>"
    '<sheetFormatPr defaultRowHeight="15"/>'
)
# Cell styles (indexes into cellXfs of styles.xml).
_BOLD, _DATETIME, _DATE, _TIME = 1, 2, 3, 4
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_MAX_TEXT = 32767


def _xlsx_parts(sheet_title: str) -> dict[str, str]:
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return {
        "[Content_Types].xml": (
            f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{_XML_DECL}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'{_XML_DECL}<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}">'
            f'<sheets><sheet name="{_xml_escape(sheet_title, quote=True)}" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_DECL}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'{_XML_DECL}<styleSheet xmlns="{_NS}">'
            '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
            '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/><numFmt numFmtId="166" formatCode="hh:mm:ss"/>'
            "</numFmts>"
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            "</cellXfs>"
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
    }


def _xml_escape(text: str, *, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if quote else text


def _xlsx_row(number: int, values: list[Any], letters: list[str], style: int = 0) -> str:
    parts = [f'<row r="{number}">']
    s = f' s="{style}"' if style else ""
    for i, value in enumerate(values):
        if value is None or value == "":
            continue
        ref = f"{letters[i]}{number}"
        if isinstance(value, str):
            text = _xlsx_text(value[:_EXCEL_MAX_TEXT])
            parts.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
        elif isinstance(value, bool):
            parts.append(f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>')
        elif isinstance(value, int | decimal.Decimal) or (isinstance(value, float) and math.isfinite(value)):
            parts.append(f'<c r="{ref}"{s}><v>{value}</v></c>')
        elif isinstance(value, dt.datetime):
            serial = (value.replace(tzinfo=None) - _EXCEL_EPOCH) / dt.timedelta(days=1)
            parts.append(f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>')
        elif isinstance(value, dt.date):
            parts.append(f'<c r="{ref}" s="{_DATE}"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>')
        elif isinstance(value, dt.time):
            seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
            parts.append(f'<c r="{ref}" s="{_TIME}"><v>{seconds / 86400!r}</v></c>')
        else:
            text = _xlsx_text(str(value)[:_EXCEL_MAX_TEXT])
            parts.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
    parts.append("</row>")
    return "".join(parts)


# OOXML (ECMA-376 Part 1, 22.9.2.19 ST_Xstring): "_xHHHH_" in cell text stands for the character
# U+HHHH; Excel, LibreOffice and our own import reader (kehu.imports.parsing.xlsx) decode it, so a
# literal "_x000D_" would come back as a CR unless its "_" is written as "_x005F_". Every underscore
# that starts such a sequence is escaped (overlapping ones too: "_x005F_x000D_").
_OOXML_UNDERSCORE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _xlsx_text(value: Any) -> Any:
    """Cell text as it must stand in the sheet XML: characters XML 1.0 cannot hold dropped, literal
    "_xHHHH_" escaped, XML-escaped, and CR as the character reference "&#13;" (XML parsers turn a
    raw CR or CR LF into LF; a reference survives, in every reader, escape-aware or not)."""
    if isinstance(value, str):
        value = _OOXML_UNDERSCORE.sub("_x005F_", _ILLEGAL_XML.sub("", value))
        return _xml_escape(value).replace("\r", "&#13;")
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
