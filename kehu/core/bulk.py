"""Bulk actions on list rows (批量操作): a registry, the selection rules and the runner.

An app registers the actions of its models in ``AppConfig.ready()``::

    bulk.register_bulk_action(
        "customers.account",
        bulk.BulkAction(
            "change_owner",
            _("Change owner"),
            fn=accounts_change_owner_action,  # fn(*, ids, params, by, job=None) -> BulkResult
            permission=Action.ASSIGN,
            form_class=ChangeOwnerForm,  # form_class(data, user=user); its cleaned_data is `params`
            icon="user-share",
        ),
    )

Every list page (`kehu.core.generic.ObjectListView`) whose model has actions the user may run shows
row checkboxes and an action menu; the API exposes them at ``POST .../bulk/``
(`kehu.core.api.mixins.BulkActionMixin`).

Rules (`bulk_start`):

* The selection is either posted ids or "everything matching this filter" (the list's query string,
  re-evaluated here through the list's FilterSet). Both start from
  ``Model.objects.restrict(user, action.permission)``: posted ids outside the user's scope are
  counted as skipped, never touched.
* Up to ``settings.KEHU_BULK_INLINE_MAX`` rows run at once in one transaction; more run as a
  background `Job` with progress. Work goes in batches of ``KEHU_BULK_BATCH_SIZE`` ids; each batch
  is atomic (a savepoint inline), a batch that raises marks its rows failed and the run goes on.
* The action's ``fn`` does the writes in bulk (one UPDATE per batch) and records them in the audit
  log itself (bulk writes fire no signals); it returns a `BulkResult` (done / skipped / failed rows
  with their reason). After the run, the hooks in `bulk_hooks` get one `BulkRecord` (the audit
  log's operation-log entry: who, which action, which selection, how many).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.db import models, transaction
from django.http import QueryDict
from django.utils import translation
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from .choices import Action
from .context import acting_as
from .errors import DomainError, PermissionDeniedError
from .jobkinds import register_job_kind
from .models import Job
from .permissions import can
from .services import job_create, job_run

log = logging.getLogger(__name__)

JOB_KIND = "bulk"
register_job_kind(JOB_KIND, gettext_lazy("Bulk action"))
# At most this many failed rows are kept in a result (the counts are always complete).
MAX_FAILED_KEPT = 200
MAX_POSTED_IDS = 10_000


def inline_max() -> int:
    return int(getattr(settings, "KEHU_BULK_INLINE_MAX", 200))


def batch_size() -> int:
    return max(1, int(getattr(settings, "KEHU_BULK_BATCH_SIZE", 500)))


@dataclass
class BulkResult:
    """What a bulk action did: rows changed, rows skipped (outside the user's scope or gone),
    rows refused with a reason (``{"id", "name", "reason"}``), and action-specific counts."""

    done: int = 0
    skipped: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    failed_count: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def fail(self, pk: Any, name: Any, reason: Any) -> None:
        self.failed_count += 1
        if len(self.failed) < MAX_FAILED_KEPT:
            self.failed.append({"id": pk, "name": str(name), "reason": str(reason)})

    def merge(self, other: BulkResult) -> None:
        self.done += other.done
        self.skipped += other.skipped
        self.failed_count += other.failed_count or len(other.failed)
        room = MAX_FAILED_KEPT - len(self.failed)
        if room > 0:
            self.failed.extend(other.failed[:room])
        for key, value in other.extra.items():
            self.extra[key] = self.extra.get(key, 0) + value

    def as_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed_count,
            "failed_rows": list(self.failed),
            "extra": dict(self.extra),
        }

    def summary(self) -> str:
        parts = [_("%(count)s done") % {"count": f"{self.done:,}"}]
        if self.skipped:
            parts.append(_("%(count)s skipped (outside your scope)") % {"count": f"{self.skipped:,}"})
        if self.failed_count:
            parts.append(_("%(count)s failed") % {"count": f"{self.failed_count:,}"})
        return _("%(parts)s.") % {"parts": pgettext("list separator", ", ").join(parts)}


@dataclass
class BulkAction:
    """One action of a model's list. `fn(*, ids, params, by, job=None) -> BulkResult` does the
    work for one batch of ids (already within the user's `permission` scope; the owning app's
    service re-checks); `form_class(data, user=...)` asks for parameters (its cleaned_data is
    `params`); `confirm` asks the user to type the number of rows; `danger` colours it red."""

    key: str
    label: str | Promise
    fn: Callable[..., BulkResult]
    permission: str = Action.CHANGE
    form_class: type[forms.Form] | None = None
    confirm: bool = False
    danger: bool = False
    icon: str = ""
    order: int = 100
    help_text: str | Promise = ""
    visible: Callable[[Any], bool] | None = None

    def allowed(self, user: Any, model: type[models.Model]) -> bool:
        if not can(user, model, self.permission):
            return False
        return self.visible is None or bool(self.visible(user))


@dataclass
class BulkRecord:
    """Handed to every hook in `bulk_hooks` once a bulk action has run (the operation log)."""

    model: type[models.Model]
    action: BulkAction
    user: Any
    selection: dict[str, Any]  # {"ids": n} or {"filter": {...}}
    params: dict[str, Any]
    result: BulkResult
    job_id: int | None = None


_actions: dict[str, dict[str, BulkAction]] = {}
# Called once per run (inside the run's last transaction): the audit app's operation-log writer.
bulk_hooks: list[Callable[[BulkRecord], None]] = []


def register_bulk_action(model_label: str, action: BulkAction) -> None:
    """Add (or replace, by key) a bulk action of a model, from ``AppConfig.ready()``."""
    _actions.setdefault(model_label.lower(), {})[action.key] = action


def unregister_bulk_action(model_label: str, key: str) -> None:
    _actions.get(model_label.lower(), {}).pop(key, None)


def bulk_actions(model_label: str, user: Any = None) -> list[BulkAction]:
    """The model's actions (those `user` may run, when given), in menu order."""
    found = sorted(_actions.get(model_label.lower(), {}).values(), key=lambda a: (a.order, a.key))
    if user is None:
        return found
    from django.apps import apps

    model = apps.get_model(model_label)
    return [a for a in found if a.allowed(user, model)]


def get_bulk_action(model_label: str, key: str) -> BulkAction | None:
    return _actions.get(model_label.lower(), {}).get(key)


# --- selection --------------------------------------------------------------------------------


class BulkError(DomainError):
    code = "bulk_invalid"


class _UserRequest:
    """What a FilterSet reads from a request when re-evaluated outside one (a task)."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.GET = QueryDict()


def clean_ids(raw: Any) -> list[int]:
    """Posted ids as distinct positive ints; anything else is a field error."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    out: list[int] = []
    seen: set[int] = set()
    for item in items:
        try:
            pk = int(item)
        except (TypeError, ValueError):
            raise BulkError(
                _("Some ids are not valid."), fields={"ids": [_("Give whole numbers.")]}
            ) from None
        if isinstance(item, bool) or not 0 < pk < 2**63:
            raise BulkError(_("Some ids are not valid."), fields={"ids": [_("Give whole numbers.")]})
        if pk not in seen:
            seen.add(pk)
            out.append(pk)
    if len(out) > MAX_POSTED_IDS:
        raise BulkError(
            _("Select at most %(n)s rows, or select all rows matching the filter.")
            % {"n": f"{MAX_POSTED_IDS:,}"},
            fields={"ids": [_("Too many ids.")]},
        )
    return out


def as_querydict(params: Any) -> QueryDict:
    """Filters or parameters (a QueryDict, or JSON: {key: value or [values]}) as a QueryDict."""
    if isinstance(params, QueryDict):
        return params
    qd = QueryDict(mutable=True)
    if isinstance(params, str):
        return QueryDict(params)
    if not isinstance(params, dict):
        return qd
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        qd.setlist(
            str(key),
            [
                ("true" if v else "false") if isinstance(v, bool) else str(v).replace("\x00", "")
                for v in values
                if v is not None
            ],
        )
    return qd


def selection_queryset(
    *,
    user: Any,
    model: type[models.Model],
    permission: str,
    ids: list[int] | None = None,
    query: QueryDict | None = None,
    filterset_class: Any = None,
    request: Any = None,
) -> models.QuerySet[Any]:
    """The rows a bulk action may touch: ``restrict(user, permission)``, then the posted ids or the
    list's filters (re-evaluated here; invalid filters are refused, never ignored)."""
    qs = model._default_manager.restrict(user, permission)  # type: ignore[attr-defined]
    if ids is not None:
        return qs.filter(pk__in=ids).order_by("pk")
    if filterset_class is not None and query is not None:
        data = query.copy()
        for key in ("page", "per_page", "_count", "view", "sort", "csrfmiddlewaretoken"):
            data.pop(key, None)
        filterset = filterset_class(data or None, queryset=qs, request=request or _UserRequest(user))
        if filterset.is_bound and not filterset.is_valid():
            raise BulkError(
                _("Some filters are not valid."),
                fields={f"filter.{k}": [str(m) for m in v] for k, v in filterset.errors.items()},
            )
        qs = filterset.qs
    return qs.order_by("pk")


def _batches(qs: models.QuerySet[Any], size: int) -> Iterator[list[int]]:
    """Ids in pk order, one batch at a time (keyset: rows leaving the filter do not shift pages)."""
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not batch:
            return
        yield batch
        last = batch[-1]


def _names(model: type[models.Model], ids: list[int]) -> dict[int, str]:
    try:
        return {o.pk: str(o) for o in model._default_manager.filter(pk__in=ids[:MAX_FAILED_KEPT])}
    except Exception:  # the names are a courtesy; never fail the report over them
        return {}


def _run_batch(
    model: type[models.Model],
    action: BulkAction,
    ids: list[int],
    params: dict[str, Any],
    by: Any,
    job: Job | None,
) -> BulkResult:
    try:
        with transaction.atomic():
            return action.fn(ids=ids, params=params, by=by, job=job)
    except DomainError as exc:
        reason: Any = exc.message
    except Exception as exc:  # a broken batch is reported, the run goes on
        log.exception("bulk batch failed", extra={"action": action.key})
        reason = _("Unexpected error: %(error)s") % {"error": type(exc).__name__}
    result = BulkResult()
    names = _names(model, ids)
    for pk in ids:
        result.fail(pk, names.get(pk, f"#{pk}"), reason)
    return result


def _form_params(action: BulkAction, user: Any, raw: QueryDict) -> dict[str, Any]:
    if action.form_class is None:
        return {}
    form = action.form_class(raw, user=user)  # type: ignore[call-arg]
    if not form.is_valid():
        raise BulkError(
            _("Some parameters are not valid."),
            fields={
                f"params.{k}" if k != "__all__" else "params": [str(m) for m in v]
                for k, v in form.errors.items()
            },
        )
    return dict(form.cleaned_data)


def raw_params(action: BulkAction, params: Any) -> dict[str, Any]:
    """The parameters as stored in a job (only the form's fields, as text)."""
    qd = as_querydict(params)
    names = set(action.form_class.base_fields) if action.form_class is not None else set()
    out: dict[str, Any] = {}
    for key, values in qd.lists():
        if key in names:
            out[key] = values if len(values) != 1 else values[0]
    return out


@dataclass
class BulkOutcome:
    """What `bulk_start` did: the result when it ran at once, or the job when queued."""

    count: int
    result: BulkResult | None = None
    job: Job | None = None


def _selection_record(ids: list[int] | None, query: QueryDict | None) -> dict[str, Any]:
    if ids is not None:
        return {"ids": len(ids), "id_list": ids[:100]}
    out: dict[str, Any] = {}
    for key, values in (query or QueryDict()).lists():
        if key in ("page", "per_page", "_count", "csrfmiddlewaretoken"):
            continue
        out[key] = values[0] if len(values) == 1 else values
    return {"filter": out}


def _run_hooks(record: BulkRecord) -> None:
    for hook in bulk_hooks:
        hook(record)


def bulk_start(
    *,
    user: Any,
    model: type[models.Model],
    action_key: str,
    ids: Any = None,
    query: Any = None,
    filterset_class: Any = None,
    params: Any = None,
    request: Any = None,
    confirm_count: Any = None,
) -> BulkOutcome:
    """Run a bulk action on the user's selection: at once (≤ inline_max rows, one transaction)
    or as a background job. Exactly one of `ids` (posted ids) and `query` (the list's filters)."""
    label = model._meta.label_lower
    action = get_bulk_action(label, action_key)
    if action is None:
        raise BulkError(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    if not action.allowed(user, model):
        raise PermissionDeniedError(_("You may not do this to these records."))
    id_list: list[int] | None = None
    qd: QueryDict | None = None
    if ids is not None:
        id_list = clean_ids(ids)
        if not id_list:
            raise BulkError(_("Select at least one row."), fields={"ids": [_("Select at least one row.")]})
    else:
        qd = as_querydict(query if query is not None else {})
    raw = as_querydict(params if params is not None else {})
    cleaned = _form_params(action, user, raw)
    qs = selection_queryset(
        user=user,
        model=model,
        permission=action.permission,
        ids=id_list,
        query=qd,
        filterset_class=filterset_class,
        request=request,
    )
    count = qs.count()
    if count == 0:
        raise BulkError(_("None of the selected rows may be changed by you."), code="bulk_empty")
    if action.confirm:
        try:
            confirmed = int(confirm_count)
        except (TypeError, ValueError):
            confirmed = -1
        if confirmed != count:
            raise BulkError(
                _("Type the number of rows (%(count)s) to confirm.") % {"count": count},
                code="bulk_confirm",
                fields={"confirm": [_("Type %(count)s to confirm.") % {"count": count}]},
            )
    skipped = (len(id_list) - count) if id_list is not None else 0
    selection = _selection_record(id_list, qd)
    if count <= inline_max():
        result = BulkResult(skipped=skipped)
        with transaction.atomic():
            for batch in _batches(qs, batch_size()):
                result.merge(_run_batch(model, action, batch, cleaned, user, None))
            _run_hooks(BulkRecord(model, action, user, selection, raw_params(action, raw), result))
        return BulkOutcome(count=count, result=result)
    filterset_path = (
        f"{filterset_class.__module__}.{filterset_class.__qualname__}" if filterset_class is not None else ""
    )
    with transaction.atomic():
        job = job_create(
            kind=JOB_KIND,
            owner=user,
            title=_("%(action)s: %(count)s %(things)s")
            % {"action": action.label, "count": f"{count:,}", "things": model._meta.verbose_name_plural},
            params={
                "model": label,
                "action": action.key,
                "ids": id_list,
                "filter": selection.get("filter"),
                "filterset": filterset_path,
                "params": raw_params(action, raw),
                "skipped": skipped,
                "expected": count,
            },
            total=count,
        )
        transaction.on_commit(lambda: _schedule(job.pk))
    return BulkOutcome(count=count, job=job)


def _schedule(job_id: int) -> None:
    from .tasks import bulk_run as task

    task.delay(job_id)


def bulk_run(*, job_id: int, task_id: str = "") -> Job | None:
    """The body of the bulk task: load the job, re-evaluate the selection through restrict(),
    run the batches with progress, record the result. Idempotent (a finished job is left alone)."""
    from django.apps import apps

    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    user = job.owner
    stored = job.params if isinstance(job.params, dict) else {}
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    result = BulkResult(skipped=int(stored.get("skipped") or 0))
    state: dict[str, Any] = {}

    def work(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
        if user is None or not user.is_active:
            raise DomainError(_("The user who started this job no longer exists or is inactive."))
        try:
            model = apps.get_model(str(stored.get("model", "")))
        except (LookupError, ValueError):
            raise DomainError(_("Unknown action.")) from None
        action = get_bulk_action(model._meta.label_lower, str(stored.get("action", "")))
        if action is None:
            raise DomainError(_("Unknown action."))
        if not action.allowed(user, model):
            raise PermissionDeniedError(_("You may no longer do this to these records."))
        filterset_class = import_string(stored["filterset"]) if stored.get("filterset") else None
        raw = as_querydict(stored.get("params") or {})
        cleaned = _form_params(action, user, raw)
        ids = stored.get("ids")
        qs = selection_queryset(
            user=user,
            model=model,
            permission=action.permission,
            ids=clean_ids(ids) if ids is not None else None,
            query=as_querydict(stored.get("filter") or {}) if ids is None else None,
            filterset_class=filterset_class,
        )
        total = qs.count()
        if ids is not None:
            result.skipped += max(0, int(stored.get("expected") or total) - total)
        progress(0, total=total, message=_("Working on %(count)s rows…") % {"count": f"{total:,}"})
        done = 0
        for batch in _batches(qs, batch_size()):
            result.merge(_run_batch(model, action, batch, cleaned, user, job))
            done += len(batch)
            progress(done, message=result.summary())
        state.update(model=model, action=action, params=raw_params(action, raw))
        return {"message": result.summary(), "result": result.as_dict()}

    def on_success(finished: Job) -> None:
        selection: dict[str, Any] = (
            {"ids": len(stored["ids"])} if stored.get("ids") is not None else {"filter": stored.get("filter")}
        )
        _run_hooks(
            BulkRecord(
                state["model"], state["action"], user, selection, state["params"], result, job_id=finished.pk
            )
        )

    with acting_as(user.pk if user else None, source="task"), translation.override(language):
        return job_run(job_id, work, task_id=task_id, on_success=on_success)
