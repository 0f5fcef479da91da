"""The import wizard (issue 6): upload → preview → map columns → options → dry run → run → result,
and the list of imports. Each view loads the import through `selectors.import_get` (404 outside the
user's reach), validates a form and calls one service; a refusal shows the service's message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core.errors import DomainError, PermissionDeniedError

from . import mapping as m
from . import selectors, services
from .choices import ImportStatus, OwnerMode
from .errors import ImportFileError, RowCode
from .forms import (
    MappingForm,
    OptionsForm,
    PresetSaveForm,
    ReadForm,
    UploadForm,
    column_field_name,
    picklists_text,
)
from .models import ImportJob, ImportPreset
from .parsing import encoding_label
from .presets import PRESETS
from .registry import target_handler

STEPS = (
    ("file", gettext_lazy("Upload")),
    ("preview", gettext_lazy("Preview")),
    ("mapping", gettext_lazy("Map columns")),
    ("options", gettext_lazy("Options")),
    ("check", gettext_lazy("Dry run")),
    ("run", gettext_lazy("Import")),
    ("result", gettext_lazy("Result")),
)
STATUS_COLORS: dict[str, str] = {
    ImportStatus.UPLOADED: "secondary",
    ImportStatus.MAPPED: "azure",
    ImportStatus.CHECKING: "blue",
    ImportStatus.CHECKED: "cyan",
    ImportStatus.RUNNING: "blue",
    ImportStatus.DONE: "green",
    ImportStatus.FAILED: "red",
    ImportStatus.UNDOING: "orange",
    ImportStatus.UNDONE: "secondary",
}
# Which step an import opens on, by status.
STATUS_STEP: dict[str, str] = {
    ImportStatus.UPLOADED: "file",
    ImportStatus.MAPPED: "check",
    ImportStatus.CHECKING: "check",
    ImportStatus.CHECKED: "check",
    ImportStatus.RUNNING: "run",
    ImportStatus.DONE: "result",
    ImportStatus.FAILED: "result",
    ImportStatus.UNDOING: "result",
    ImportStatus.UNDONE: "result",
}
WIZARD_OPEN = set(services.EDITABLE)


def _job(request: HttpRequest, pk: int) -> ImportJob:
    job = selectors.import_get(user=request.user, pk=pk)
    if job is None:
        raise Http404
    return job


def _step_url(job: ImportJob, step: str) -> str:
    return reverse(f"imports:{step}", args=[job.pk])


def _target_name(label: str) -> str:
    try:
        return str(m.get_target(label, custom=False).model._meta.verbose_name_plural)
    except LookupError:
        return label


def _page(
    request: HttpRequest, template: str, job: ImportJob, step: str, status: int = 200, **extra: Any
) -> HttpResponse:
    reached = STATUS_STEP.get(job.status, "file")
    order = [s for s, _label in STEPS]
    limit = order.index(reached)
    if job.status in (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.CHECKED):
        limit = max(
            limit, order.index("check") if job.status != ImportStatus.UPLOADED else order.index("options")
        )
    steps = []
    for index, (key, label) in enumerate(STEPS):
        open_ = (index <= order.index("options") and job.status in WIZARD_OPEN) or index <= limit
        if key in ("run", "result") and job.status in WIZARD_OPEN:
            open_ = False
        steps.append(
            {
                "key": key,
                "label": label,
                "url": _step_url(job, key),
                "active": key == step,
                "open": open_,
                "done": index < order.index(step),
            }
        )
    context = {
        "job": job,
        "step": step,
        "steps": steps,
        "target_name": _target_name(job.target),
        "status_color": STATUS_COLORS.get(job.status, "secondary"),
        "editable": job.status in WIZARD_OPEN,
        "stalled": _stalled(job),
        "breadcrumbs": [(_("Imports"), reverse("imports:list")), (job.original_name, "")],
        **extra,
    }
    return render(request, template, context, status=status)


def _refused(request: HttpRequest, exc: DomainError, fallback: str) -> HttpResponse:
    """A refused action without a form: the message on the page it came from."""
    messages.error(request, str(exc.message))
    return HttpResponseRedirect(fallback)


# --- list and start ---------------------------------------------------------------------------


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    """Every import the user may see, with its status (the user may leave a running import)."""
    jobs = selectors.import_list(user=request.user)
    status = request.GET.get("status", "")
    if status in ImportStatus.values:
        jobs = jobs.filter(status=status)
    page = Paginator(jobs, 25).get_page(request.GET.get("page"))
    rows = [
        {
            "job": job,
            "target_name": _target_name(job.target),
            "color": STATUS_COLORS.get(job.status, "secondary"),
        }
        for job in page.object_list
    ]
    return render(
        request,
        "imports/import_list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": ImportStatus.choices,
            "may_import": selectors.may_import_anything(user=request.user),
            "any_running": any(_running(r["job"]) for r in rows),
            "breadcrumbs": [(_("Imports"), "")],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    """Step 1: choose the record type and upload the file."""
    targets = selectors.import_targets(user=request.user)
    if not targets:
        return render(
            request,
            "imports/refused.html",
            {
                "message": _("You may not import any records."),
                "breadcrumbs": [(_("Imports"), reverse("imports:list"))],
            },
            status=403,
        )
    initial = {"target": request.GET.get("target")} if request.GET.get("target") else {}
    form = UploadForm(request.POST or None, request.FILES or None, targets=targets, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_create(
                    by=request.user, target=form.cleaned_data["target"], upload=upload, filename=upload.name
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                return HttpResponseRedirect(_step_url(job, "file"))
        status = 400
    return render(
        request,
        "imports/import_new.html",
        {
            "form": form,
            "steps": [
                {"key": k, "label": label, "active": k == "file", "open": False, "url": ""}
                for k, label in STEPS
            ],
            "breadcrumbs": [(_("Imports"), reverse("imports:list")), (_("New import"), "")],
        },
        status=status,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return HttpResponseRedirect(_step_url(job, STATUS_STEP.get(job.status, "file")))


# --- steps 1 and 2: how the file is read, preview ------------------------------------------


def _read(job: ImportJob) -> tuple[Any, str]:
    """The file as its options read it, or (None, the reason) when it cannot be read now."""
    try:
        return services.read_file(job), ""
    except (ImportFileError, OSError) as exc:
        return None, str(getattr(exc, "message", exc))


@login_required
@require_http_methods(["GET", "POST"])
def import_file(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1 after the upload: what was detected, and the form to read the file another way."""
    job = _job(request, pk)
    sniffed, problem = _read(job)
    file_format = sniffed.format if sniffed else "csv"
    sheets = list(sniffed.sheets) if sniffed else []
    initial = dict(job.options)
    form = ReadForm(request.POST or None, initial=initial, file_format=file_format, sheets=sheets)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.import_reread(
                    job=job,
                    by=request.user,
                    encoding=data.get("encoding") or None,
                    delimiter=data.get("delimiter") or None,
                    header_row=data.get("header_row"),
                    sheet=data.get("sheet") or None,
                )
            except (PermissionDeniedError, services.ImportError_) as exc:
                if isinstance(exc, PermissionDeniedError) or exc.code == services.ImportError_.NOT_EDITABLE:
                    return _refused(request, exc, _step_url(job, "file"))
                form.add_domain_error(exc)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                return HttpResponseRedirect(_step_url(job, "preview"))
        status = 400
    return _page(
        request,
        "imports/step_file.html",
        job,
        "file",
        status=status,
        form=form,
        sniffed=sniffed,
        problem=problem,
        encoding_name=encoding_label(sniffed.encoding) if sniffed and sniffed.encoding else "",
        delimiter_name=_delimiter_name(sniffed.delimiter) if sniffed else "",
    )


def _delimiter_name(delimiter: str) -> str:
    from .forms import DELIMITER_LABELS

    return str(DELIMITER_LABELS.get(delimiter, delimiter)) if delimiter else ""


@login_required
@require_GET
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: the first rows as parsed, and what the reader warns about."""
    job = _job(request, pk)
    sniffed, problem = _read(job)
    rows = []
    if sniffed is not None:
        width = len(sniffed.headers)
        for raw in sniffed.preview:
            values = list(raw.values) + [""] * (width - len(raw.values))
            rows.append({"line": raw.line, "values": values, "error": raw.error})
    return _page(
        request, "imports/step_preview.html", job, "preview", sniffed=sniffed, problem=problem, rows=rows
    )


# --- step 3: mapping -----------------------------------------------------------------------


def _presets(request: HttpRequest, job: ImportJob) -> list[dict[str, Any]]:
    found = [
        {"value": f"builtin:{p.key}", "label": str(p.name), "builtin": True}
        for p in PRESETS
        if p.target == job.target
    ]
    for item in selectors.presets_for(user=request.user, target=job.target):
        found.append(
            {
                "value": f"saved:{item.pk}",
                "label": item.name,
                "builtin": False,
                "shared": item.owner_id is None,
                "pk": item.pk,
                "selected": item.pk == job.preset_id,
            }
        )
    return found


def _current_options(job: ImportJob) -> dict[str, Any]:
    return {
        "transforms": dict(job.transforms or {}),
        "mode": job.mode,
        "match_key": job.match_key,
        "on_duplicate": job.on_duplicate,
        "owner_mode": job.owner_mode,
        "assign_to": job.assign_to_id,
        "pool_id": job.pool_id,
    }


def _mapping_form_errors(form: MappingForm, exc: DomainError) -> None:
    """The service names columns ``mapping.<header>``; the form's fields are ``col_<index>``."""
    fields: dict[str, list[str]] = {}
    for name, errors in (exc.fields or {}).items():
        if name.startswith("mapping."):
            header = name.removeprefix("mapping.")
            if header in form.headers:
                fields[column_field_name(form.headers.index(header))] = errors
                continue
        fields.setdefault("__all__", []).extend(errors)
    for name, errors in fields.items():
        for error in errors:
            form.add_error(None if name == "__all__" else name, error)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3: one select per column; a preset fills them; the mapping may be saved as a preset."""
    job = _job(request, pk)
    target = m.get_target(job.target)
    headers = list(job.headers)
    initial = {column_field_name(i): (job.mapping or {}).get(h, "") for i, h in enumerate(headers)}
    action = request.POST.get("action", "save")
    status = 200
    form = MappingForm(
        request.POST if request.method == "POST" and action != "preset" else None,
        headers=headers,
        target=target,
        initial=initial,
    )
    preset_form = PresetSaveForm(
        request.POST if request.method == "POST" and request.POST.get("preset-name") else None,
        prefix="preset",
    )
    if request.method == "POST":
        try:
            if action == "preset":
                choice = request.POST.get("preset", "")
                kind, _sep, key = choice.partition(":")
                preset: ImportPreset | str = key
                if kind == "saved":
                    found = next(
                        (
                            p
                            for p in selectors.presets_for(user=request.user, target=job.target)
                            if str(p.pk) == key
                        ),
                        None,
                    )
                    if found is None:
                        raise Http404
                    preset = found
                services.import_preset_apply(by=request.user, job=job, preset=preset)
                messages.success(request, _("The preset's mapping was applied; check it and continue."))
                return HttpResponseRedirect(_step_url(job, "mapping"))
            if action == "delete_preset":
                found = next(
                    (
                        p
                        for p in selectors.presets_for(user=request.user, target=job.target)
                        if str(p.pk) == request.POST.get("preset_id")
                    ),
                    None,
                )
                if found is None:
                    raise Http404
                services.import_preset_delete(by=request.user, preset=found)
                messages.success(request, _("The preset was deleted."))
                return HttpResponseRedirect(_step_url(job, "mapping"))
            if form.is_valid() and (not preset_form.is_bound or preset_form.is_valid()):
                try:
                    job = services.import_set_mapping(
                        job=job, by=request.user, mapping=form.mapping(), **_current_options(job)
                    )
                except PermissionDeniedError:
                    raise
                except services.ImportError_ as exc:
                    if exc.code == services.ImportError_.NOT_EDITABLE:
                        return _refused(request, exc, _step_url(job, "mapping"))
                    _mapping_form_errors(form, exc)
                except DomainError as exc:
                    _mapping_form_errors(form, exc)
                else:
                    if preset_form.is_bound:
                        try:
                            services.import_preset_save(
                                by=request.user,
                                job=job,
                                name=preset_form.cleaned_data["name"],
                                shared=preset_form.cleaned_data["shared"],
                            )
                        except PermissionDeniedError:
                            raise
                        except DomainError as exc:
                            preset_form.add_domain_error(exc)
                            status = 400
                    if status == 200:
                        if preset_form.is_bound:
                            messages.success(request, _("The mapping was saved as a preset."))
                        return HttpResponseRedirect(_step_url(job, "options"))
            status = 400
        except PermissionDeniedError as exc:
            return _refused(request, exc, _step_url(job, "mapping"))
        except DomainError as exc:
            messages.error(request, str(exc.message))
            status = 400
    sniffed, _problem = _read(job)
    samples: dict[str, list[str]] = {h: [] for h in headers}
    if sniffed is not None:
        for raw in sniffed.preview[:3]:
            for h, v in zip(sniffed.headers, raw.values, strict=False):
                if h in samples and v:
                    samples[h].append(v)
    editable = job.status in WIZARD_OPEN
    rows = []
    for header, field in form.rows():
        attrs = {"class": "form-select form-select-sm" + (" is-invalid" if field.errors else "")}
        if not editable:
            attrs["disabled"] = "disabled"
        rows.append((header, field, field.as_widget(attrs=attrs), samples.get(header, [])))
    required = [capfirst(target.label(f)) for f in target.fields if f.required]
    return _page(
        request,
        "imports/step_mapping.html",
        job,
        "mapping",
        status=status,
        form=form,
        rows=rows,
        preset_form=preset_form,
        presets=_presets(request, job),
        required=required,
    )


# --- step 4: transforms and options ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_options(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 4: value transforms, mode and match key, duplicates, owner."""
    job = _job(request, pk)
    target = m.get_target(job.target)
    handler = target_handler(job.target)
    transforms = {**services.DEFAULT_TRANSFORMS, **(job.transforms or {})}
    initial = {
        **{k: v for k, v in transforms.items() if k != "picklists"},
        "picklists": picklists_text(transforms.get("picklists") or {}),
        "mode": job.mode,
        "match_key": job.match_key,
        "on_duplicate": job.on_duplicate,
        "owner_mode": job.owner_mode,
        "assign_to": job.assign_to_id,
        "pool_id": job.pool_id,
    }
    form = OptionsForm(
        request.POST or None,
        initial=initial,
        match_keys=services.match_key_choices(target),
        pools=services.pool_choices(job.target),
        picklist_fields=[
            f.name for f in target.fields if f.kind in (m.FieldKind.PICKLIST, m.FieldKind.MULTI)
        ],
        owned=handler.owned if handler is not None else True,
        finds_duplicates=handler.finds_duplicates if handler is not None else True,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = {"on_duplicate": job.on_duplicate, "owner_mode": OwnerMode.RULES, **form.cleaned_data}
            try:
                services.import_set_mapping(
                    job=job,
                    by=request.user,
                    mapping=dict(job.mapping or {}),
                    transforms=form.transforms(),
                    mode=data["mode"],
                    match_key=data.get("match_key") or "",
                    on_duplicate=data["on_duplicate"],
                    owner_mode=data["owner_mode"],
                    assign_to=data.get("assign_to") if data["owner_mode"] == OwnerMode.OWNER else None,
                    pool_id=data.get("pool_id") if data["owner_mode"] == OwnerMode.POOL else None,
                )
            except (PermissionDeniedError, services.ImportError_) as exc:
                if isinstance(exc, PermissionDeniedError) or exc.code == services.ImportError_.NOT_EDITABLE:
                    return _refused(request, exc, _step_url(job, "options"))
                form.add_domain_error(exc)
                _mapping_messages(form, exc)
            except DomainError as exc:
                form.add_domain_error(exc)
                _mapping_messages(form, exc)
            else:
                return HttpResponseRedirect(_step_url(job, "check"))
        status = 400
    return _page(request, "imports/step_options.html", job, "options", status=status, form=form)


def _mapping_messages(form: OptionsForm, exc: DomainError) -> None:
    """Mapping problems found while saving the options (they belong to step 3): on top."""
    for name, errors in (exc.fields or {}).items():
        if name == "mapping" or name.startswith("mapping."):
            for error in errors:
                form.add_error(None, f"{_('Map columns')}: {error}")


# --- steps 5–7: dry run, run, result -------------------------------------------------------


def _eta(job: ImportJob) -> dt.timedelta | None:
    """The time left of the running background job, from its pace so far."""
    bg = job.job
    if bg is None or bg.is_finished or not bg.started_at or not bg.progress_total or not bg.progress_done:
        return None
    elapsed = (timezone.now() - bg.started_at).total_seconds()
    left = max(0, bg.progress_total - bg.progress_done) * elapsed / bg.progress_done
    return dt.timedelta(seconds=round(left))


def _counts(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(key, label, number) of the counts a dry run or run reported."""
    labels = {
        "rows": _("Rows read"),
        "created": pgettext("import result", "Created"),
        "create": _("Would create"),
        "updated": _("Updated"),
        "update": _("Would update"),
        "skipped": _("Skipped"),
        "skip": _("Would skip"),
        "errors": _("Rows with errors"),
        "error": _("Rows with errors"),
    }
    counts = data.get("counts") if isinstance(data.get("counts"), dict) else data
    found = []
    for key, label in labels.items():
        value = counts.get(key) if isinstance(counts, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            found.append((key, label, value))
    return found


def _first_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("first_errors", "errors_sample", "sample_errors"):
        value = data.get(key)
        if isinstance(value, list):
            found = []
            for e in value[:50]:
                item = e if isinstance(e, dict) else {"message": str(e)}
                found.append(
                    {
                        "line": item.get("row") or item.get("line") or "",
                        "field": item.get("label") or item.get("field") or "",
                        "message": item.get("message") or item.get("error") or "",
                    }
                )
            return found
    return []


# The reason codes of the engine and the row-by-row importer (`PreparedRow.reason`) and of the
# file reader (`errors.RowCode`) as the dry run's "why" list shows them.
REASONS = {
    "invalid_value": gettext_lazy("Values that cannot be read or break a rule"),
    "duplicate_in_file": gettext_lazy("Repeats an earlier row of the file"),
    "matches_existing": gettext_lazy("Matches an existing record"),
    "no_match": gettext_lazy("No existing record to update"),
    "several_matches": gettext_lazy("Matches several existing records"),
    "external_id_taken": gettext_lazy("External ID used by another record"),
    "external_id_repeated": gettext_lazy("External ID repeated in the file"),
    "not_unique": gettext_lazy("A value that must be unique is taken"),
    "not_unique_in_file": gettext_lazy("A value that must be unique is repeated in the file"),
    "unknown_account": gettext_lazy("Account not found"),
    "ambiguous_account": gettext_lazy("Several accounts have this name"),
    "unknown_contact": gettext_lazy("Contact not found"),
    "ambiguous_contact": gettext_lazy("Several contacts have this name"),
    "unknown_owner": gettext_lazy("Owner not found"),
    "unknown_parent": gettext_lazy("Parent account not found"),
    "unknown_pipeline": gettext_lazy("Pipeline not found"),
    "unknown_stage": gettext_lazy("Stage not found"),
    "invalid_tag": gettext_lazy("Tags that do not exist and may not be created"),
    "collision": gettext_lazy("Matches an existing record (collision check)"),
    "permission_denied": gettext_lazy("Not allowed"),
    "refused": gettext_lazy("Refused by the rules of the record type"),
    "unreadable_row": gettext_lazy("Rows that cannot be read"),
    RowCode.TOO_MANY_VALUES: gettext_lazy("More values than columns"),
    RowCode.CELL_TOO_LARGE: gettext_lazy("Rows that cannot be read"),
    RowCode.MALFORMED: gettext_lazy("Rows that cannot be read"),
    RowCode.UNREADABLE_CHARACTERS: gettext_lazy("Text in another encoding"),
    RowCode.BROKEN_VCARD: gettext_lazy("Contact cards that cannot be read"),
    RowCode.FORMULA_WITHOUT_VALUE: gettext_lazy("Formulas without a saved value"),
}
OTHER_REASON = gettext_lazy("Other problems")


def _reasons(data: dict[str, Any]) -> list[tuple[str, int]]:
    """(label, rows) per reason, most rows first; reasons with the same label are added up, and a
    code without a label counts as "Other problems" (a user never sees a raw code)."""
    value = data.get("reasons")
    if not isinstance(value, dict):
        return []
    totals: dict[str, int] = {}
    for code, count in value.items():
        if isinstance(count, int) and not isinstance(count, bool):
            label = str(REASONS.get(str(code), OTHER_REASON))
            totals[label] = totals.get(label, 0) + count
    return sorted(totals.items(), key=lambda r: -r[1])


BUSY = (ImportStatus.CHECKING, ImportStatus.RUNNING, ImportStatus.UNDOING)


def _running(job: ImportJob) -> bool:
    """Busy with live background work (a job the heartbeat sweep failed does not count: the
    import may then be started again)."""
    return job.status in BUSY and (job.job is None or not job.job.is_finished)


def _stalled(job: ImportJob) -> bool:
    return job.status in BUSY and not _running(job)


@login_required
@require_GET
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 5: the dry run: start it, its progress, then what would happen."""
    job = _job(request, pk)
    return _page(
        request,
        "imports/step_check.html",
        job,
        "check",
        running=_running(job) and job.status == ImportStatus.CHECKING,
        counts=_counts(job.dry_run or {}),
        first_errors=_first_errors(job.dry_run or {}),
        reasons=_reasons(job.dry_run or {}),
        eta=_eta(job),
        can_start=job.status in (ImportStatus.MAPPED, ImportStatus.CHECKED)
        or (_stalled(job) and job.status == ImportStatus.CHECKING),
    )


@login_required
@require_POST
def import_check_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, pk, services.import_dry_run_start, "check")


def _start(
    request: HttpRequest, pk: int, start: Callable[..., Any], step: str, message: str = ""
) -> HttpResponse:
    """POST of a step's button: start its background work (dry run, run, undo) and go back to
    the step's page, where the progress shows; a refusal shows its message there."""
    job = _job(request, pk)
    try:
        start(job=job, by=request.user)
    except DomainError as exc:
        return _refused(request, exc, _step_url(job, step))
    if message:
        messages.info(request, message)
    return HttpResponseRedirect(_step_url(job, step))


@login_required
@require_GET
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 6: start the import, then its progress and ETA (the user may leave the page)."""
    job = _job(request, pk)
    return _page(
        request,
        "imports/step_run.html",
        job,
        "run",
        running=_running(job) and job.status == ImportStatus.RUNNING,
        counts=_counts(job.dry_run or {}),
        eta=_eta(job),
        can_start=job.status in (ImportStatus.MAPPED, ImportStatus.CHECKED, ImportStatus.FAILED)
        or (_stalled(job) and job.status == ImportStatus.RUNNING),
    )


@login_required
@require_POST
def import_run_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(request, pk, services.import_run_start, "run")


@login_required
@require_GET
def import_result(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 7: counts, the error file, undo."""
    job = _job(request, pk)
    return _page(
        request,
        "imports/step_result.html",
        job,
        "result",
        running=_running(job),
        counts=_counts(job.result or {}),
        first_errors=_first_errors(job.result or {}),
        reasons=_reasons(job.result or {}),
        eta=_eta(job),
        can_undo=job.status == ImportStatus.DONE,
    )


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    return _start(
        request, pk, services.import_undo_start, "result", _("The import is being undone in the background.")
    )


@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial of the running dry run, run or undo; polled every second. When the
    work has ended the page reloads itself (HX-Refresh) to show the counts."""
    if not request.user.is_authenticated:
        return HttpResponse(status=286)
    job = _job(request, pk)
    html = render_to_string(
        "imports/_progress.html", {"job": job, "running": _running(job), "eta": _eta(job)}, request=request
    )
    response = HttpResponse(html)
    if not _running(job):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def import_error_file(request: HttpRequest, pk: int) -> FileResponse:
    """The rows that were refused, with an error column: fix them and import the file again."""
    job = _job(request, pk)
    field = job.error_file or (job.job.error_file if job.job is not None else None)
    if not field:
        raise Http404
    try:
        fh = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    stem = job.original_name.rsplit(".", 1)[0]
    response = FileResponse(fh, as_attachment=True, filename=f"{stem}-errors.csv")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
