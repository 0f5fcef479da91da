"""Writes of the imports app: an uploaded file becomes an `ImportJob`, which the wizard reads,
maps, checks (dry run) and runs in the background, and which can be undone.

CONTRACT (issue 6): the signatures and behaviour below are agreed between the wizard (this
module, the views and the API) and the import engine (`running.py`: dry run, run, undo in the
background; `engine.py`, `writers.py`, `tasks.py`). Bodies that still raise NotImplementedError
are being written; do not change a signature without saying so.

Every function is keyword-only, atomic where it writes, and raises `ImportError_` (a
`kehu.core.errors.DomainError` with a code, a translated message and field errors) on bad input.
Permission: the user needs the `import` action on the target model (`kehu.core.permissions.can`).

`ImportJob.transforms` as the wizard stores it (and the engine reads it)::

    {"date_order": "YMD" | "DMY" | "MDY",             # dates written with the year last
     "phone_region": "CN",                              # default phone region (ISO 3166 code)
     "unknown_choices": "reject" | "map" | "create",    # picklist values that match no option
     "picklists": {field: {file value: option key}},    # the user's answers for "map"
     "separators": ";；,，、|"}                          # multi-value cells (tags) split on these
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.permissions import can

from . import mapping as m
from . import transforms as t
from .choices import DuplicateAction, ImportMode, ImportStatus, OwnerMode
from .errors import ImportFileError
from .models import ImportJob, ImportPreset
from .parsing import Sniffed, sniff
from .presets import PRESETS, Preset, detect_preset
from .registry import target_handler

# Fields a run may match existing records on (besides the target's unique custom fields), in the
# order the wizard offers them; only those the target has are offered.
MATCH_KEYS = ("external_id", "email", "mobile", "phone", "tax_number")
# Statuses in which the wizard may still change the file's reading and mapping (not after a run
# started: a failed run has committed batches, and its resume must read the rows the same way).
EDITABLE = (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.CHECKED)
DEFAULT_TRANSFORMS: dict[str, Any] = {
    "date_order": "YMD",
    "phone_region": "CN",
    "unknown_choices": t.UnknownPolicy.REJECT.value,
    "picklists": {},
    "separators": t.MULTI_SEPARATORS.replace("\n", ""),
}
_REGION = re.compile(r"^[A-Z]{2}$")
MAX_UPLOAD_BYTES = 1024 * 1024 * 1024  # 1 GB: a million wide rows fit well below


class ImportError_(DomainError):
    """A wizard step refused: `code` says why, `fields` name the form fields."""

    code = "import_invalid"

    PERMISSION = "import_permission_denied"
    UNKNOWN_TARGET = "import_unknown_target"
    NOT_EDITABLE = "import_not_editable"
    INVALID_MAPPING = "import_invalid_mapping"
    INVALID_OPTIONS = "import_invalid_options"
    PRESET_EXISTS = "import_preset_exists"
    FILE_TOO_LARGE = "import_file_too_large"


# --- helpers --------------------------------------------------------------------------------


def target_model(target: str) -> Any:
    """The model of an import target label, or ImportError_ when it is not one."""
    label = (target or "").lower()
    if label not in m.registered_targets():
        raise ImportError_(
            _("“%(target)s” is not a record type you can import.") % {"target": target},
            code=ImportError_.UNKNOWN_TARGET,
            fields={"target": [_("Choose a record type.")]},
        )
    return apps.get_model(label)


def check_may_import(by: Any, target: str) -> Any:
    """The target's model if `by` holds the import action on it; else PermissionDeniedError."""
    model = target_model(target)
    handler = target_handler(target)
    if not (handler.may_import(by) if handler is not None else can(by, model, Action.IMPORT)):
        raise PermissionDeniedError(
            _("You may not import %(records)s.") % {"records": model._meta.verbose_name_plural},
            code=ImportError_.PERMISSION,
        )
    return model


def _check_editable(job: ImportJob) -> None:
    if job.status not in EDITABLE:
        raise ImportError_(
            _("This import has already run (status: %(status)s); start a new import to change it.")
            % {"status": job.get_status_display()},
            code=ImportError_.NOT_EDITABLE,
            status=409,
        )


@contextmanager
def _local_path(job: ImportJob) -> Iterator[Path]:
    """The stored file as a local path (a temporary copy when the storage is not local)."""
    try:
        yield Path(job.file.path)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=Path(job.original_name).suffix) as tmp:
        with job.file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name)


def read_file(job: ImportJob) -> Sniffed:
    """The job's file read with its stored options (what the preview shows)."""
    with _local_path(job) as path:
        return sniff(path, filename=job.original_name, **job.options)


def header_key(headers: list[str]) -> str:
    """The key of a set of columns: presets saved for one file are found for the next."""
    names = sorted({m.normalise_header(h) for h in headers if h and h.strip()})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()


def preset_from(item: ImportPreset) -> Preset | None:
    """A saved preset as a `Preset`, or None when it no longer fits its target (a field removed)."""
    try:
        return Preset.from_json(item.data)
    except (ValueError, KeyError, LookupError):
        return None


def _propose(job: ImportJob, by: Any) -> None:
    """Fill `mapping` (and `preset`, `transforms["date_order"]`) for the job's headers: a saved
    preset for these very columns, else a built-in vendor preset that knows most of them, else the
    automatic mapping by header name."""
    headers = list(job.headers)
    job.preset = None
    chosen: Preset | None = None
    saved = (
        ImportPreset.objects.filter(target=job.target, header_key=header_key(headers))
        .filter(_preset_scope(by))
        .order_by("-last_used_at", "-id")
    )
    for item in saved:
        chosen = preset_from(item)
        if chosen is not None:
            job.preset = item
            break
    if chosen is None:
        chosen, _score = detect_preset(headers, PRESETS, target=job.target)
    if chosen is not None:
        proposed = chosen.mapping(headers)
        transforms = dict(job.transforms or DEFAULT_TRANSFORMS)
        transforms["date_order"] = chosen.date_order
        transforms["picklists"] = preset_picklists(chosen, m.get_target(job.target))
        job.transforms = transforms
    else:
        proposed = m.auto_map(headers, m.get_target(job.target))
    job.mapping = {h: (f or "") for h, f in proposed.items()}


def preset_picklists(preset: Preset, target: m.ImportTarget) -> dict[str, dict[str, str]]:
    """The preset's vendor values of choice fields as the wizard's value mapping (HubSpot's
    "Marketing Qualified Lead" → a Kehu lead status): only fields with options, only values
    mapped to an option that exists (a value the preset drops stays unmapped)."""
    found: dict[str, dict[str, str]] = {}
    for name, values in preset.values.items():
        item = target.get(name)
        if item is None or item.kind not in (m.FieldKind.PICKLIST, m.FieldKind.MULTI):
            continue
        kept = {k: v for k, v in values.items() if v}
        if not kept:
            continue
        try:
            m.picklist_mappers(target, mappings={name: kept})
        except ValueError:
            continue
        found[name] = kept
    return found


def _preset_scope(by: Any) -> Any:
    from django.db.models import Q

    return Q(owner__isnull=True) | Q(owner=getattr(by, "pk", None))


def _apply_sniffed(job: ImportJob, sniffed: Sniffed) -> None:
    job.options = sniffed.options
    job.headers = list(sniffed.headers)
    job.row_estimate = sniffed.row_estimate


@contextmanager
def _spooled(upload: UploadedFile | Path, name: str) -> Iterator[tuple[Path, int, str]]:
    """The upload as a local file (named with the upload's extension: the XLSX reader asks for
    it): its path, size and SHA-256."""
    digest = hashlib.sha256()
    if isinstance(upload, Path):
        with upload.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1024 * 1024), b""):
                digest.update(chunk)
        yield upload, upload.stat().st_size, digest.hexdigest()
        return
    with tempfile.NamedTemporaryFile(prefix="kehu-import-", suffix=Path(name).suffix.lower()) as tmp:
        size = 0
        for chunk in upload.chunks():
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise ImportError_(
                    _("The file is larger than %(size)s.") % {"size": "1 GB"},
                    code=ImportError_.FILE_TOO_LARGE,
                    fields={"file": [_("The file is too large.")]},
                )
            digest.update(chunk)
            tmp.write(chunk)
        tmp.flush()
        yield Path(tmp.name), size, digest.hexdigest()


def _file_error(exc: ImportFileError) -> ImportFileError:
    """The parser's refusal, with its message at the form's file field too."""
    exc.fields = {**exc.fields, "file": [str(exc.message)]}
    return exc


def import_create(*, by: Any, target: str, upload: UploadedFile | Path, filename: str) -> ImportJob:
    """Store the file, read it (`kehu.imports.parsing.sniff`), keep what was detected in
    `options`/`headers`/`row_estimate`, and propose a mapping: a matching saved or built-in preset
    (`presets.detect_preset`), else `mapping.auto_map`. Status UPLOADED. A file that cannot be
    read raises with the parser's code and message (nothing is kept)."""
    model = check_may_import(by, target)
    label = model._meta.label_lower
    name = Path(filename or "").name or "import.csv"
    with _spooled(upload, name) as (path, size, sha256):
        try:
            sniffed = sniff(path, filename=name)
        except ImportFileError as exc:
            raise _file_error(exc) from None
        job = ImportJob(
            target=label,
            original_name=name[:255],
            size=size,
            sha256=sha256,
            owner=by,
            department_id=getattr(by, "department_id", None),
            created_by=by,
            transforms=dict(DEFAULT_TRANSFORMS),
        )
        _apply_sniffed(job, sniffed)
        _propose(job, by)
        with path.open("rb") as fh, transaction.atomic():
            job.file.save(name, File(fh), save=False)
            try:
                job.save()
            except Exception:
                job.file.delete(save=False)
                raise
    return job


def import_reread(
    *,
    job: ImportJob,
    by: Any,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
    sheet: str | None = None,
) -> ImportJob:
    """Read the file again with the user's overrides (what the upload step shows as detected);
    headers and the proposed mapping follow. Only before a run."""
    check_may_import(by, job.target)
    _check_editable(job)
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "encoding": encoding,
            "delimiter": delimiter,
            "header_row": header_row,
            "sheet": sheet,
        }.items()
        if v not in (None, "")
    }
    if delimiter == "\\t":
        overrides["delimiter"] = "\t"
    with _local_path(job) as path:
        try:
            sniffed = sniff(path, filename=job.original_name, **overrides)
        except ImportFileError as exc:
            field = {
                ImportFileError.UNKNOWN_ENCODING: "encoding",
                ImportFileError.INVALID_DELIMITER: "delimiter",
                ImportFileError.HEADER_ROW_OUT_OF_RANGE: "header_row",
                ImportFileError.BLANK_HEADER_ROW: "header_row",
                ImportFileError.SHEET_NOT_FOUND: "sheet",
            }.get(exc.code)
            if field:
                exc.fields = {**exc.fields, field: [str(exc.message)]}
            raise
        except LookupError:  # an encoding Python does not know
            raise ImportError_(
                _("“%(encoding)s” is not a text encoding.") % {"encoding": encoding},
                code=ImportFileError.UNKNOWN_ENCODING,
                fields={"encoding": [_("Choose another encoding.")]},
            ) from None
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        _check_editable(locked)
        headers_changed = list(sniffed.headers) != list(locked.headers)
        _apply_sniffed(locked, sniffed)
        if headers_changed:
            _propose(locked, by)
        locked.status = ImportStatus.UPLOADED
        locked.dry_run = {}
        locked.version += 1
        locked.save()
    return locked


def match_key_choices(target: m.ImportTarget) -> list[tuple[str, str]]:
    """(field, label) of the fields a run may match existing records on: the usual keys the target
    has and its custom fields that a collection standard makes unique (a target handled by its own
    app: the keys its handler names, see `registry.py`)."""
    handler = target_handler(target.model_label)
    if handler is not None:
        return [
            (name, capfirst(target.label(item))) for name in handler.match_keys if (item := target.get(name))
        ]
    found = [
        (name, capfirst(target.label(item))) for name in MATCH_KEYS if (item := target.get(name)) is not None
    ]
    FieldRule = apps.get_model("customfields", "FieldRule")
    unique = set(
        FieldRule._base_manager.filter(model=target.model_label, unique=True).values_list("field", flat=True)
    )
    for item in target.fields:
        if item.name in unique and item.name not in MATCH_KEYS:
            found.append((item.name, capfirst(target.label(item))))
    return found


# Pools the import can put new records into (sales.Pool.kind; the imports app sits below sales):
# leads through their create service (row by row), accounts by the bulk writer through the
# function the sales app registers (`kehu.core.assigners.put_in_pool`). Contacts have no pool.
POOL_KINDS = {"sales.lead": "lead", "customers.account": "account"}


def pool_choices(target: str) -> list[tuple[int, str]]:
    """(id, name) of the active pools that hold the target's records (none without the sales app)."""
    kind = POOL_KINDS.get(target)
    if kind is None:
        return []
    try:
        Pool = apps.get_model("sales", "Pool")
    except LookupError:
        return []
    return list(
        Pool._base_manager.filter(kind=kind, is_active=True)
        .order_by("order", "name")
        .values_list("pk", "name")
    )


def _mapping_errors(
    headers: list[str], mapping: Mapping[str, str], target: m.ImportTarget
) -> dict[str, list[str]]:
    """Field errors of a mapping: per column (``mapping.<header>``) and for the whole (``mapping``)."""
    errors: dict[str, list[str]] = {}
    for header in mapping:
        if header not in headers:
            errors.setdefault("mapping", []).append(
                _("The file has no column “%(column)s”.") % {"column": header}
            )
    seen: dict[str, str] = {}
    for header in headers:
        name = mapping.get(header) or ""
        if not name:
            continue
        item = target.get(name)
        if item is None:
            errors.setdefault(f"mapping.{header}", []).append(
                _("“%(field)s” is not a field you can import.") % {"field": name}
            )
        elif name in seen and not item.multiple:
            errors.setdefault(f"mapping.{header}", []).append(
                _("Only one column can go to “%(field)s”.") % {"field": target.label(item)}
            )
        else:
            seen[name] = header
    fed = set(seen) | {f.combine for f in target.fields if f.combine and f.name in seen}
    for item in target.fields:
        if item.required and item.name not in fed:
            errors.setdefault("mapping", []).append(
                _("No column goes to “%(field)s”, which is required.") % {"field": target.label(item)}
            )
    return errors


def clean_transforms(
    target: m.ImportTarget, transforms: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The transforms with defaults filled in, and field errors (keys as in the module docstring)."""
    data = {**DEFAULT_TRANSFORMS, **dict(transforms or {})}
    errors: dict[str, list[str]] = {}
    unknown_keys = sorted(set(data) - set(DEFAULT_TRANSFORMS))
    if unknown_keys:
        errors["transforms"] = [_("Unknown options: %(names)s.") % {"names": ", ".join(unknown_keys)}]
    if data["date_order"] not in t.DATE_ORDERS:
        errors["date_order"] = [_("Choose a date order.")]
    region = str(data["phone_region"] or "").strip().upper()
    if not _REGION.match(region):
        errors["phone_region"] = [_("Write a two-letter country code, e.g. CN.")]
    data["phone_region"] = region
    if data["unknown_choices"] not in {p.value for p in t.UnknownPolicy}:
        errors["unknown_choices"] = [_("Choose what to do with unknown values.")]
    separators = str(data["separators"] or "")
    if not separators or len(separators) > 20 or any(c.isalnum() for c in separators):
        errors["separators"] = [_("Give one or more separator characters (not letters or digits).")]
    data["separators"] = separators
    picklists = data["picklists"]
    if not isinstance(picklists, dict) or not all(
        isinstance(v, dict) and all(isinstance(a, str) and isinstance(b, str) for a, b in v.items())
        for v in picklists.values()
    ):
        errors["picklists"] = [_("Give the value mapping as {field: {value: option}}.")]
    elif "unknown_choices" not in errors:
        for name in picklists:
            item = target.get(name)
            if item is None or item.kind not in (m.FieldKind.PICKLIST, m.FieldKind.MULTI):
                errors.setdefault("picklists", []).append(
                    _("“%(field)s” is not a choice field.") % {"field": name}
                )
        if "picklists" not in errors:
            try:
                m.picklist_mappers(target, policy=data["unknown_choices"], mappings=picklists)
            except ValueError:
                errors["picklists"] = [_("A value is mapped to an option that does not exist.")]
    return data, errors


def import_set_mapping(
    *,
    job: ImportJob,
    by: Any,
    mapping: dict[str, str],
    transforms: dict[str, Any] | None = None,
    mode: str = "create",
    match_key: str = "",
    on_duplicate: str = "skip",
    owner_mode: str = "rules",
    assign_to: Any = None,
    pool_id: int | None = None,
) -> ImportJob:
    """Check and keep the mapping ({header: field or ""}) and the options: every required field
    mapped, no field twice, the match key mapped when the mode needs one, the owner or pool
    given when chosen (and allowed). Status MAPPED. Field errors name the form fields."""
    model = check_may_import(by, job.target)
    _check_editable(job)
    target = m.get_target(job.target)
    headers = list(job.headers)
    clean_map = {h: str(mapping.get(h) or "") for h in headers}
    errors = _mapping_errors(headers, {str(k): str(v or "") for k, v in mapping.items()}, target)
    data, transform_errors = clean_transforms(target, transforms)
    errors.update(transform_errors)
    if mode not in ImportMode.values:
        errors["mode"] = [_("Choose a mode.")]
    if on_duplicate not in DuplicateAction.values:
        errors["on_duplicate"] = [_("Choose what to do with duplicates.")]
    mapped = {f for f in clean_map.values() if f}
    handler = target_handler(job.target)
    if handler is not None and handler.match_keys and not match_key:
        match_key = handler.match_keys[0]  # (the catalog's records have one key each)
    if mode in (ImportMode.UPDATE, ImportMode.UPSERT) or match_key:
        keys = dict(match_key_choices(target))
        if not match_key:
            errors["match_key"] = [_("Choose the field that finds existing records.")]
        elif match_key not in keys:
            errors["match_key"] = [_("Records cannot be matched on “%(field)s”.") % {"field": match_key}]
        elif match_key not in mapped:
            errors["match_key"] = [
                _("No column goes to “%(field)s”; map one to match on it.") % {"field": keys[match_key]}
            ]
    owner = None
    pool: int | None = None
    if owner_mode not in OwnerMode.values:
        errors["owner_mode"] = [_("Choose who owns the new records.")]
    elif owner_mode == OwnerMode.OWNER:
        owner = _active_user(assign_to)
        if owner is None:
            errors["assign_to"] = [_("Choose an active user.")]
        elif owner.pk != getattr(by, "pk", None) and not can(by, model, Action.ASSIGN):
            errors["assign_to"] = [_("You may only give the new records to yourself.")]
    elif owner_mode == OwnerMode.POOL:
        pools = dict(pool_choices(job.target))
        if not pools:
            errors["pool_id"] = [_("These records cannot go to a pool.")]
        elif pool_id is None or int(pool_id) not in pools:
            errors["pool_id"] = [_("Choose a pool.")]
        else:
            pool = int(pool_id)
    elif owner_mode == OwnerMode.MAPPED and "owner" not in mapped:
        errors["owner_mode"] = [_("No column goes to the owner; map one or choose another owner.")]
    if errors:
        raise ImportError_(
            _("Check the mapping and the options."), code=ImportError_.INVALID_MAPPING, fields=errors
        )
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        _check_editable(locked)
        locked.mapping = clean_map
        locked.transforms = data
        locked.mode = mode
        locked.match_key = match_key if mode != ImportMode.CREATE or match_key else ""
        locked.on_duplicate = on_duplicate
        locked.owner_mode = owner_mode
        locked.assign_to = owner
        locked.pool_id = pool
        locked.status = ImportStatus.MAPPED
        locked.dry_run = {}
        locked.version += 1
        locked.save()
    return locked


def _active_user(value: Any) -> Any:
    if value in (None, ""):
        return None
    User = apps.get_model("users", "User")
    pk = getattr(value, "pk", value)
    try:
        return User._base_manager.filter(pk=int(pk), is_active=True).first()
    except (TypeError, ValueError):
        return None


def import_preset_save(*, by: Any, job: ImportJob, name: str, shared: bool = False) -> ImportPreset:
    """Save the job's mapping and transforms as a preset for files with the same columns."""
    check_may_import(by, job.target)
    name = (name or "").strip()
    if not name:
        raise ImportError_(
            _("Give the preset a name."), code="invalid", fields={"name": [_("This field is required.")]}
        )
    if shared and not can(by, check_may_import(by, job.target), Action.ASSIGN):
        # Shared presets are offered to everyone who imports this record type: managers' business.
        raise PermissionDeniedError(_("You may not share presets."), code=ImportError_.PERMISSION)
    data = Preset(
        key="",
        name=name,
        vendor="",
        target=job.target,
        columns={h: (f or None) for h, f in job.mapping.items()},
        values=(job.transforms or {}).get("picklists", {}),
        date_order=(job.transforms or {}).get("date_order", "YMD"),
    ).to_json()
    data["transforms"] = dict(job.transforms or {})
    owner = None if shared else by
    try:
        with transaction.atomic():
            preset = ImportPreset.objects.create(
                name=name[:100],
                target=job.target,
                owner=owner,
                data=data,
                header_key=header_key(list(job.headers)),
                last_used_at=timezone.now(),
            )
            ImportJob.objects.filter(pk=job.pk).update(preset=preset)
    except IntegrityError:
        raise ImportError_(
            _("A preset named “%(name)s” exists already.") % {"name": name},
            code=ImportError_.PRESET_EXISTS,
            fields={"name": [_("Choose another name.")]},
            status=409,
        ) from None
    job.preset = preset
    return preset


def import_preset_apply(*, by: Any, job: ImportJob, preset: ImportPreset | str) -> ImportJob:
    """Use a saved (`ImportPreset`) or built-in (its key) preset's mapping for the job's columns;
    columns the preset does not know stay as they were. Status UPLOADED (map again)."""
    check_may_import(by, job.target)
    _check_editable(job)
    saved: ImportPreset | None = None
    if isinstance(preset, ImportPreset):
        saved = preset
        chosen = preset_from(preset)
    else:
        chosen = next((p for p in PRESETS if p.key == preset and p.target == job.target), None)
    if chosen is None or chosen.target != job.target:
        raise ImportError_(
            _("This preset does not fit this record type."),
            code="invalid",
            fields={"preset": [_("Choose another preset.")]},
        )
    proposed = chosen.mapping(list(job.headers))
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        _check_editable(locked)
        locked.mapping = {h: (proposed.get(h) or locked.mapping.get(h) or "") for h in locked.headers}
        transforms = {
            **DEFAULT_TRANSFORMS,
            **(locked.transforms or {}),
            "date_order": chosen.date_order,
            "picklists": preset_picklists(chosen, m.get_target(locked.target)),
        }
        if saved is not None:
            transforms.update(
                {k: v for k, v in dict(saved.data.get("transforms", {})).items() if k in DEFAULT_TRANSFORMS}
            )
            ImportPreset.objects.filter(pk=saved.pk).update(last_used_at=timezone.now())
        locked.transforms = transforms
        locked.preset = saved
        locked.status = ImportStatus.UPLOADED
        locked.dry_run = {}
        locked.version += 1
        locked.save()
    return locked


def import_preset_delete(*, by: Any, preset: ImportPreset) -> None:
    """Delete a preset: one's own, or a shared one with the assign permission on its record type."""
    model = check_may_import(by, preset.target)
    if preset.owner_id is None:
        if not can(by, model, Action.ASSIGN):
            raise PermissionDeniedError(_("You may not delete shared presets."), code=ImportError_.PERMISSION)
    elif preset.owner_id != getattr(by, "pk", None):
        raise PermissionDeniedError(
            _("You may not delete other people's presets."), code=ImportError_.PERMISSION
        )
    preset.delete()


# The background parts (engine): dry run, run (and resume), undo.
from .running import import_dry_run_start, import_run_start, import_undo_start  # noqa: E402

__all__ = [
    "ImportError_",
    "import_create",
    "import_dry_run_start",
    "import_preset_apply",
    "import_preset_delete",
    "import_preset_save",
    "import_reread",
    "import_run_start",
    "import_set_mapping",
    "import_undo_start",
]
