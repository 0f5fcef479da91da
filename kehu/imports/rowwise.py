"""Leads and opportunities: imported row by row through their own services (issue 6).

CONTRACT (lead engineer): `running.py` picks these for ``ROW_TARGETS`` instead of the bulk
`engine.Preparer` / `writers.BatchWriter` of accounts and contacts. Leads and opportunities come
in thousands, not millions, and their create paths carry rules the bulk path would have to copy
(assignment rules and pools, the collision check, stage and pipeline rules, probability, the
amount's currency), so each row goes through `kehu.sales.services` (`lead_create`, `lead_update`,
`opportunity_create`, `opportunity_update`) inside the batch's transaction: the exact rules of
forms and API, and the change log written by the services themselves (request id =
``job.audit_tag`` through `acting_as`, so undo and the search phase find the rows as they do for
accounts and contacts).

The dry run validates with the same services: each row is written inside a savepoint (rolled
back when the service refuses it) and the batch's outer block is rolled back at the end, so
"would create" means "the service accepted it", and rows of one batch see each other exactly as
in the real run (dry run and run give the same counts).

The imports app sits below sales (import-linter): sales hands its services over from its
``AppConfig.ready()`` with `register_row_services`; related sales records (pools, pipelines,
stages) are read by their string labels.

Rows, as the accounts path (`engine.Preparer`, whose converting, owner look-ups, matching and
duplicate handling are reused): match on external id, e-mail, phone/mobile (leads: their dedup
keys), tax number or a unique custom field; a row repeating an earlier row's key is skipped
unless "create anyway" (which also confirms the collision check under its "warn" policy).
Owners: the mapped user name or e-mail, the chosen owner, the assignment rules (leads; an
opportunity without rules goes to the importer) or (leads) the chosen pool. An opportunity's
account is found by external id or exact name, its primary contact by the contact's external id,
or its e-mail or exact name among the account's contacts, its pipeline and stage by name (Chinese
or English; a stage without a pipeline: the default pipeline's, else the only active stage of that
name). Updates write the non-empty cells only (an opportunity's stage changes through stage moves,
not imports; its pipeline and stage columns are ignored on updates); tags are added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kehu.core.context import acting_as
from kehu.core.errors import DomainError, PermissionDeniedError

from .choices import DuplicateAction, ImportMode, OwnerMode
from .engine import (
    CREATE,
    ERROR,
    UPDATE,
    ImportRunError,
    PreparedRow,
    Preparer,
    _messages,
)
from .mapping import get_target
from .models import ImportBatch, ImportJob
from .parsing import RawRow

ROW_TARGETS = ("sales.lead", "sales.opportunity")
LEAD, OPPORTUNITY = ROW_TARGETS
TAG_SEPARATOR = "\n"  # tag names in `PreparedRow.lookups["tags"]` (a name never holds a new line)
# Columns of the lead and opportunity services' data (the rest of `PreparedRow.values` is
# owner/department/related ids, resolved into objects for the services).
_RELATED = {"owner_id", "department_id", "account_id", "contact_id", "pipeline_id", "stage_id"}


# --- the services, handed over by sales ------------------------------------------------------


@dataclass(frozen=True)
class RowServices:
    """A target's create and update services, with the signatures of `kehu.sales.services`:
    leads ``create(*, by, data, confirmed, tags)`` / ``update(*, lead, by, data, confirmed)``,
    opportunities ``create(*, by, account, name, pipeline, stage, amount, currency, owner,
    contact, data, tags)`` / ``update(*, opportunity, by, data)``."""

    create: Callable[..., Any]
    update: Callable[..., Any]


_services: dict[str, RowServices] = {}


def register_row_services(
    model_label: str, *, create: Callable[..., Any], update: Callable[..., Any]
) -> None:
    """Called by ``kehu.sales.apps.SalesConfig.ready()`` for "sales.lead" and "sales.opportunity"
    (registering again replaces)."""
    label = model_label.lower()
    if label not in ROW_TARGETS:
        raise ValueError(f"{model_label}: not imported row by row")
    _services[label] = RowServices(create=create, update=update)


def row_services(model_label: str) -> RowServices:
    found = _services.get(model_label.lower())
    if found is None:
        raise ImportRunError(
            _("Importing into “%(target)s” is not available yet.") % {"target": model_label},
            code=ImportRunError.UNSUPPORTED_TARGET,
        )
    return found


# --- preparing --------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return text.strip().casefold()


class RowPreparer(Preparer):
    """Same interface as `engine.Preparer`: ``prepare(raws) -> list[PreparedRow]`` in file order,
    each row converted (`mapping.convert_values` with the job's transforms), its related records
    looked up per batch (account, contact, owner, pool, pipeline, stage), matched on the job's
    match key and given its action (create, update, skip, error) with reason and a translated
    message. ``dry_run=True``: the action is confirmed by running the service (see the module
    docstring; service errors become row errors)."""

    def __init__(self, job: ImportJob, *, by: Any, dry_run: bool = False) -> None:
        if job.target not in ROW_TARGETS:
            raise ImportRunError(
                _("Importing into “%(target)s” is not available yet.") % {"target": job.target},
                code=ImportRunError.UNSUPPORTED_TARGET,
            )
        self.dry_run = dry_run
        self.is_lead = job.target == LEAD
        self.is_contact = False
        self._setup(job, by=by)
        self.pool = self._pool()
        self._pipelines: list[tuple[int, str, str, bool]] | None = None
        self._stages: dict[int, list[tuple[int, str, str]]] = {}
        self.applier = RowApplier(job, by=by, pool=self.pool) if dry_run else None

    def _required(self, spec: Any) -> bool:
        # Required columns the file must fill; what the service fills itself (pipeline, stage,
        # status, ...) is left to it (its `rules_check` applies the standards again). Rows that
        # update fill only what they change: a row's create is checked by the service.
        importable = {f.name for f in self.target.fields} - {"pipeline", "stage", "account", "contact"}
        return spec.key in importable and self.mode == ImportMode.CREATE

    def _pool(self) -> Any:
        job = self.job
        if job.owner_mode != OwnerMode.POOL:
            return None
        if not self.is_lead:
            raise ImportRunError(
                _("Opportunities cannot be imported into a pool; choose an owner or the rules."),
                code=ImportRunError.POOL_UNSUPPORTED,
            )
        Pool = apps.get_model("sales", "Pool")
        pool = Pool._base_manager.filter(pk=job.pool_id, kind="lead", is_active=True).first()
        if pool is None:
            raise ImportRunError(
                _("The pool chosen for this import is no longer an active lead pool; choose another."),
                code=ImportRunError.POOL_UNSUPPORTED,
            )
        return pool

    # --- one row ----------------------------------------------------------------------------

    def _shape(self, row: PreparedRow, values: dict[str, Any]) -> None:
        """Converted values -> the service's fields (phones and e-mails are plain fields of a
        lead), the custom dict and the look-ups (owner, account, contact, pipeline, stage, tags)."""
        out = row.values
        for name, value in values.items():
            if name.startswith("custom."):
                row.custom[name[7:]] = value
            elif name in ("owner", "account", "contact", "pipeline", "stage"):
                row.lookups[name] = value
            elif name == "tags":
                row.lookups["tags"] = TAG_SEPARATOR.join(str(v) for v in value)
            elif name in ("first_name", "last_name", "middle_name"):
                continue
            elif name == "description":
                out[name] = "\n".join(value) if isinstance(value, list) else value
            else:
                out[name] = value

    def _check(self, row: PreparedRow) -> None:
        """The engine's checks; custom values are checked as given (a partial clean: the service
        fills defaults and checks required fields on create, and an update keeps the others)."""
        from kehu.customfields.services import custom_values_clean

        if not self.is_lead and not row.lookups.get("account") and self.mode == ImportMode.CREATE:
            row.fail("invalid_value", _messages({"account": [_("This field is required.")]}, self.labels))
            return
        definitions, self.custom_defs = self.custom_defs, {}
        try:
            super()._check(row)
        finally:
            self.custom_defs = definitions
        if row.action == ERROR or not row.custom or not definitions:
            return
        try:
            cleaned = custom_values_clean(
                model=self.job.target, values=row.custom, instance_values={}, partial=True
            )
        except DomainError as exc:
            row.fail("invalid_value", _messages(exc.fields, self.labels))
            return
        row.custom = {k: v for k, v in cleaned.items() if k in row.custom}

    # --- the batch --------------------------------------------------------------------------

    def prepare(self, raws: list[RawRow]) -> list[PreparedRow]:
        """Convert, check, look up and decide a batch of rows (in file order); in a dry run the
        services then confirm each create and update."""
        rows = [self.convert(raw) for raw in raws]
        live = [r for r in rows if r.action != ERROR]
        self._resolve_users(live)
        if not self.is_lead:
            with_account = [r for r in live if r.lookups.get("account")]
            self._resolve_accounts(with_account)
            live = [r for r in live if r.action != ERROR]
            self._resolve_contacts(live)
            self._resolve_stages(live)
        live = [r for r in live if r.action != ERROR]
        self._unique(live)
        self._keys(live)
        self._decide([r for r in live if r.action != ERROR])
        if self.applier is not None:
            self.applier.try_rows(rows)
        return rows

    def _keys(self, rows: list[PreparedRow]) -> None:
        from kehu.dedup.registry import has_keys

        if has_keys(self.job.target):
            super()._keys(rows)

    def _resolve_contacts(self, rows: list[PreparedRow]) -> None:
        """The primary contact: by the contact's external id, else by e-mail or exact name among
        the row's account's contacts (one query per batch and kind)."""
        from kehu.customers.models import Contact

        wanted = [r for r in rows if r.lookups.get("contact")]
        if not wanted:
            return
        texts = {r.lookups["contact"] for r in wanted}
        by_ext = dict(Contact.objects.filter(external_id__in=texts).values_list("external_id", "pk"))
        accounts = {r.values.get("account_id") for r in wanted} - {None}
        by_account: dict[tuple[int, str], set[int]] = defaultdict(set)
        folded = {_fold(x) for x in texts}
        qs = Contact.objects.filter(account_id__in=accounts).annotate(le=Lower("email"))
        for pk, account_id, name, email in qs.filter(
            models.Q(le__in=folded) | models.Q(name__in=texts)
        ).values_list("pk", "account_id", "name", "le"):
            if email:
                by_account[(account_id, email)].add(pk)
            by_account[(account_id, _fold(name))].add(pk)
        for r in wanted:
            text = r.lookups["contact"]
            if text in by_ext:
                r.values["contact_id"] = by_ext[text]
                continue
            hits = by_account.get((r.values.get("account_id"), _fold(text)), set())  # type: ignore[arg-type]
            if len(hits) == 1:
                r.values["contact_id"] = next(iter(hits))
            elif hits:
                r.fail(
                    "ambiguous_contact",
                    _(
                        "Several contacts of the account match “%(value)s”: "
                        "give the contact's external ID instead."
                    )
                    % {"value": text[:80]},
                )
            else:
                r.fail(
                    "unknown_contact",
                    _("The account has no contact with the external ID, e-mail or name “%(value)s”.")
                    % {"value": text[:80]},
                )

    def _pipeline_rows(self) -> list[tuple[int, str, str, bool]]:
        if self._pipelines is None:
            Pipeline = apps.get_model("sales", "Pipeline")
            self._pipelines = list(
                Pipeline._base_manager.filter(is_active=True)
                .order_by("order", "id")
                .values_list("pk", "name", "name_en", "is_default")
            )
        return self._pipelines

    def _stage_rows(self, pipeline_id: int) -> list[tuple[int, str, str]]:
        if pipeline_id not in self._stages:
            Stage = apps.get_model("sales", "Stage")
            self._stages[pipeline_id] = list(
                Stage._base_manager.filter(pipeline_id=pipeline_id)
                .order_by("order", "id")
                .values_list("pk", "name", "name_en")
            )
        return self._stages[pipeline_id]

    def _resolve_stages(self, rows: list[PreparedRow]) -> None:
        """Pipeline and stage by name (Chinese or English, case-insensitive); a stage without a
        pipeline is looked for in the default pipeline, then in every active one."""
        pipelines = self._pipeline_rows()
        for r in rows:
            ptext, stext = r.lookups.get("pipeline", ""), r.lookups.get("stage", "")
            pipeline_id = None
            if ptext:
                hits = [p[0] for p in pipelines if _fold(ptext) in (_fold(p[1]), _fold(p[2] or ""))]
                if not hits:
                    r.fail(
                        "unknown_pipeline",
                        _("No active pipeline is named “%(value)s”.") % {"value": ptext[:80]},
                    )
                    continue
                pipeline_id = r.values["pipeline_id"] = hits[0]
            if not stext:
                continue
            defaults = [p[0] for p in pipelines if p[3]] if pipeline_id is None else []
            order = (
                [pipeline_id] if pipeline_id is not None else defaults + [p[0] for p in pipelines if not p[3]]
            )
            found: list[tuple[int, int]] = []
            for pid in order:
                folded = _fold(stext)
                found += [
                    (pid, s[0]) for s in self._stage_rows(pid) if folded in (_fold(s[1]), _fold(s[2] or ""))
                ]
                if found and pid in defaults:  # the default pipeline's stage wins
                    break
            if not found:
                r.fail("unknown_stage", _("No stage is named “%(value)s”.") % {"value": stext[:80]})
            elif len(found) > 1:
                r.fail(
                    "unknown_stage",
                    _("Several pipelines have a stage named “%(value)s”: give the pipeline too.")
                    % {"value": stext[:80]},
                )
            else:
                r.values["pipeline_id"], r.values["stage_id"] = found[0]


def _job_pool(job: ImportJob) -> Any:
    """The lead pool of an import whose owner mode is "pool" (None for the other modes)."""
    if job.owner_mode != OwnerMode.POOL:
        return None
    if job.target != LEAD:
        raise ImportRunError(
            _("Opportunities cannot be imported into a pool; choose an owner or the rules."),
            code=ImportRunError.POOL_UNSUPPORTED,
        )
    Pool = apps.get_model("sales", "Pool")
    pool = Pool._base_manager.filter(pk=job.pool_id, kind="lead", is_active=True).first()
    if pool is None:
        raise ImportRunError(
            _("The pool chosen for this import is no longer an active lead pool; choose another."),
            code=ImportRunError.POOL_UNSUPPORTED,
        )
    return pool


# --- writing one row through its service -----------------------------------------------------


class _Rollback(Exception):
    """Leaves the dry run's batch block: everything written in it is rolled back."""


class RowApplier:
    """Creates or updates the records of prepared rows through the target's services, each row
    in its own savepoint: a refusal (a domain error, a model validation error) becomes the row's
    error and the rest of the batch goes on."""

    def __init__(self, job: ImportJob, *, by: Any, pool: Any = None) -> None:
        self.job, self.by, self.pool = job, by, pool
        self.services = row_services(job.target)
        self.is_lead = job.target == LEAD
        self.model: type[models.Model] = apps.get_model(job.target)
        target = get_target(job.target)
        self.labels = {f.name: target.label(f) for f in target.fields}
        self.confirmed = job.on_duplicate == DuplicateAction.CREATE

    def try_rows(self, rows: list[PreparedRow]) -> None:
        """Dry run: apply the rows, then roll the whole batch back."""
        todo = [r for r in rows if r.action in (CREATE, UPDATE)]
        if not todo:
            return
        try:
            with transaction.atomic():
                self.apply_rows(todo)
                raise _Rollback
        except _Rollback:
            pass
        for r in todo:
            if r.action == CREATE:
                r.existing_id = None

    def apply_rows(self, rows: list[PreparedRow]) -> None:
        todo = [r for r in rows if r.action in (CREATE, UPDATE)]
        if not todo:
            return
        related = self._related(todo)
        for r in todo:
            try:
                with transaction.atomic():
                    self._apply(r, related)
            except (DomainError, ValidationError) as exc:
                reason, message = self._refusal(exc)
                r.fail(reason, message)

    # --- the related objects of a batch -------------------------------------------------------

    def _related(self, rows: list[PreparedRow]) -> dict[str, dict[int, Any]]:
        from django.contrib.auth import get_user_model

        from kehu.customers.models import Account, Contact

        def ids(name: str) -> set[int]:
            return {r.values[name] for r in rows if r.values.get(name) is not None}

        out: dict[str, dict[int, Any]] = {
            "owner": get_user_model()._default_manager.in_bulk(ids("owner_id")),
            "existing": self.model._default_manager.in_bulk({r.existing_id for r in rows if r.existing_id}),
        }
        if not self.is_lead:
            out["account"] = Account._default_manager.in_bulk(ids("account_id"))
            out["contact"] = Contact._default_manager.in_bulk(ids("contact_id"))
            out["pipeline"] = apps.get_model("sales", "Pipeline")._default_manager.in_bulk(ids("pipeline_id"))
            out["stage"] = apps.get_model("sales", "Stage")._default_manager.in_bulk(ids("stage_id"))
        return out

    def _owner(self, r: PreparedRow, related: dict[str, dict[int, Any]], *, creating: bool) -> Any:
        """The owner to ask for: the row's user (mapped owner column), the chosen owner; None lets
        the service decide (the rules, a pool, the importer) and keeps an updated record's owner."""
        mode = self.job.owner_mode
        if mode == OwnerMode.MAPPED:
            if r.lookups.get("owner"):
                return related["owner"].get(r.values.get("owner_id"))  # type: ignore[arg-type]
            return self.by if creating else None
        if mode == OwnerMode.OWNER and creating:
            return self.job.assign_to or self.by
        return None

    @staticmethod
    def _tags(r: PreparedRow) -> list[str]:
        text = r.lookups.get("tags", "")
        return [x for x in text.split(TAG_SEPARATOR) if x.strip()] if text else []

    def _data(self, r: PreparedRow, *, drop: Iterable[str] = ()) -> dict[str, Any]:
        """The row's non-empty values as the service's data (empty cells keep what is stored)."""
        skip = _RELATED | set(drop)
        data = {k: v for k, v in r.values.items() if k not in skip and v not in (None, "")}
        if r.custom:
            data["custom"] = dict(r.custom)
        return data

    # --- one row -------------------------------------------------------------------------------

    def _apply(self, r: PreparedRow, related: dict[str, dict[int, Any]]) -> None:
        tags = self._tags(r)
        if r.action == CREATE:
            owner = self._owner(r, related, creating=True)
            if self.is_lead:
                data = self._data(r)
                if owner is not None:
                    data["owner"] = owner
                if self.pool is not None:
                    data["pool"] = self.pool
                obj = self.services.create(by=self.by, data=data, confirmed=self.confirmed, tags=tags or None)
            else:
                v = r.values
                obj = self.services.create(
                    by=self.by,
                    account=related["account"].get(v.get("account_id")),  # type: ignore[arg-type]
                    name=v.get("name") or "",
                    pipeline=related["pipeline"].get(v.get("pipeline_id")),  # type: ignore[arg-type]
                    stage=related["stage"].get(v.get("stage_id")),  # type: ignore[arg-type]
                    amount=v.get("amount") if v.get("amount") is not None else 0,
                    currency=v.get("currency") or None,
                    owner=owner,
                    contact=related["contact"].get(v.get("contact_id")),  # type: ignore[arg-type]
                    data=self._data(r, drop=("name", "amount", "currency")),
                    tags=tags or None,
                )
            r.existing_id = obj.pk
            return
        current = related["existing"].get(r.existing_id)  # type: ignore[arg-type]
        if current is None:
            raise DomainError(_("The record was deleted meanwhile."), code="record_deleted")
        owner = self._owner(r, related, creating=False)
        if self.is_lead:
            data = self._data(r)
            if owner is not None:
                data["owner"] = owner
            obj = self.services.update(lead=current, by=self.by, data=data, confirmed=self.confirmed)
        else:
            data = self._data(r)
            if r.values.get("account_id") is not None:
                data["account"] = related["account"].get(r.values["account_id"])
            if owner is not None:
                data["owner"] = owner
            obj = self.services.update(opportunity=current, by=self.by, data=data)
        if tags:
            self._add_tags(obj, tags)

    def _add_tags(self, obj: models.Model, names: list[str]) -> None:
        """An updated record keeps its tags and gets the row's (by name; unknown names become tags
        when the importer may create tags)."""
        from kehu.tags.models import TaggedItem
        from kehu.tags.services import tags_set

        label = obj._meta.label_lower
        current = list(
            TaggedItem.objects.filter(model=label, object_id=obj.pk).values_list("tag_id", "tag__name")
        )
        have = {_fold(name) for _pk, name in current}
        new = [n for n in names if _fold(n) not in have]
        if new:
            tags_set(obj=obj, tags=[*(pk for pk, _name in current), *new], by=self.by)

    def _refusal(self, exc: Exception) -> tuple[str, str]:
        from kehu.core.errors import OutOfScopeError
        from kehu.dedup.errors import CollisionError

        if isinstance(exc, ValidationError):
            if hasattr(exc, "error_dict"):
                return "refused", _messages(exc.message_dict, self.labels)
            return "refused", " ".join(str(m) for m in exc.messages)
        assert isinstance(exc, DomainError)
        if isinstance(exc, CollisionError):
            reason = "collision"
        elif isinstance(exc, PermissionDeniedError | OutOfScopeError):
            reason = "permission_denied"
        else:
            reason = "refused"
        fields = {k: v for k, v in exc.fields.items() if v}
        message = _messages(fields, self.labels) if fields else str(exc.message)
        return reason, message


class RowWriter:
    """Same interface as `writers.BatchWriter.write`: one batch in ONE transaction with its
    `ImportBatch` row (idempotent per batch number). A row the service refuses becomes an error
    row of the batch (its savepoint rolled back), the rest of the batch commits."""

    def __init__(self, job: ImportJob, *, by: Any) -> None:
        self.job, self.by = job, by
        self.applier = RowApplier(job, by=by, pool=_job_pool(job))

    def write(
        self, *, number: int, first_row: int, last_row: int, rows: list[PreparedRow]
    ) -> ImportBatch | None:
        with (
            acting_as(getattr(self.by, "pk", None), source="import", request_id=self.job.audit_tag),
            transaction.atomic(),
        ):
            if ImportBatch.objects.filter(job=self.job, number=number).exists():
                return None
            self.applier.apply_rows(rows)
            counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}
            for r in rows:
                key = {CREATE: "created", UPDATE: "updated", "skip": "skipped", ERROR: "errors"}[r.action]
                counts[key] += 1
            return ImportBatch.objects.create(
                job=self.job, number=number, first_row=first_row, last_row=last_row, **counts
            )


# --- undo -------------------------------------------------------------------------------------


def _before_values(label: str, tag: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each updated record's values before the import: per field, the "before" of the first
    change-log row of the import that changed it (a service may write several rows: the record,
    then its tags)."""
    from kehu.audit.models import ObjectChange

    before: dict[int, dict[str, Any]] = defaultdict(dict)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for object_id, changes in (
            ObjectChange.objects.filter(request_id=tag, model=label, action="update", object_id__in=chunk)
            .order_by("id")
            .values_list("object_id", "changes")
        ):
            for name, pair in (changes or {}).items():
                if isinstance(pair, list) and len(pair) == 2:
                    before[object_id].setdefault(name, pair[0])
    return before


def _restore(obj: models.Model, before: dict[str, Any], by: Any) -> None:
    """Put the values back (a save: the change recorder writes the undo's row)."""
    from django.core.exceptions import FieldDoesNotExist

    fields: list[str] = []
    custom = dict(getattr(obj, "custom", None) or {})
    custom_changed = False
    for name, old in before.items():
        if name in ("version", "updated_at", "created_at", "tags"):
            continue
        if name.startswith("custom."):
            if old is None:
                custom.pop(name[7:], None)
            else:
                custom[name[7:]] = old
            custom_changed = True
            continue
        try:
            found = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not isinstance(found, models.Field) or not found.concrete:
            continue
        f: models.Field[Any, Any] = found
        if f.is_relation:
            value = old.get("id") if isinstance(old, dict) else old
        elif old is None:
            value = None if f.null else ("" if isinstance(f, models.CharField | models.TextField) else None)
        elif isinstance(f, models.JSONField):
            value = old
        else:
            value = f.to_python(old)
        setattr(obj, f.attname, value)
        fields.append(f.name)
    if custom_changed:
        obj.custom = custom  # type: ignore[attr-defined]
        fields.append("custom")
    if fields:
        obj.version += 1  # type: ignore[attr-defined]
        obj.save(update_fields=[*fields, "version", "updated_at"])
    if "tags" in before:
        from kehu.tags.services import tags_set

        old_tags = before["tags"] or []
        tags_set(obj=obj, tags=[int(x["id"]) for x in old_tags if isinstance(x, dict)], by=by)


def undo_rows(
    imp: ImportJob, *, by: Any, created: list[int], updated: dict[int, dict[str, Any]]
) -> dict[str, int]:
    """Undo for leads and opportunities (called by `running.undo` after its "changed since" check,
    inside its transaction): delete the created records with their children through the models'
    own delete paths, restore the updated ones from their change-log values, write the undo's
    change-log rows. Returns ``{"deleted": n, "restored": m}``."""
    from kehu.dedup.registry import has_keys
    from kehu.dedup.services import dedup_reindex
    from kehu.tags.services import tags_forget

    label = imp.target
    model = apps.get_model(label)
    made = sorted(set(created))
    changed = sorted(set(updated) - set(made))
    deleted = restored = 0
    with acting_as(getattr(by, "pk", None), source="import", request_id=f"{imp.audit_tag}-undo"):
        before = _before_values(label, imp.audit_tag, changed)
        try:
            for obj in model._default_manager.filter(pk__in=changed).order_by("pk"):
                _restore(obj, before.get(obj.pk, {}), by)
                restored += 1
        except DomainError as exc:
            raise ImportRunError(
                _("A record the import updated cannot be restored: %(error)s") % {"error": exc.message},
                code=ImportRunError.IN_USE,
                status=409,
            ) from exc
        try:
            with transaction.atomic():
                for obj in model._default_manager.filter(pk__in=made).order_by("pk"):
                    obj.delete()
                    deleted += 1
                tags_forget(model=label, ids=made)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cur:
                        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except (IntegrityError, ProtectedError, RestrictedError) as exc:
            raise ImportRunError(
                _("Some records the import created are used by other records now; undo is not possible."),
                code=ImportRunError.IN_USE,
                status=409,
            ) from exc
        if has_keys(label):
            dedup_reindex(model=label, ids=[*made, *changed])
    return {"deleted": deleted, "restored": restored}
