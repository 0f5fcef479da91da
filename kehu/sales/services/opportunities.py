"""Opportunities: create, update, move between stages (the one path that writes StageHistory).

INTERFACE (owned by the opportunities engineer; the leads engineer's conversion calls
``opportunity_create``):

* ``opportunity_create(*, by, account, name, pipeline=None, stage=None, amount=Decimal(0),
  currency=None, owner=None, lead=None, contact=None, data=None) -> Opportunity``: pipeline
  defaults to the default pipeline and stage to its first open stage; writes the first
  StageHistory row; ``data`` holds further fields (expected_close_date, source, custom...).
* ``opportunity_move_stage(*, opportunity, stage, by, version=None, values=None) -> Opportunity``.

Rules (every path — form, kanban drag, API, lead conversion — runs them):

* amount ≥ 0; currency among the active currencies (``catalog.Currency``); the expected close
  date not more than ``PAST_CLOSE_DAYS`` in the past (nor ``FUTURE_CLOSE_YEARS`` ahead) when it
  is set or changed.
* probability and forecast category come from the stage unless set by hand (``probability`` /
  ``forecast_category`` given); entering a won or lost stage always takes the stage's values.
* A move must be allowed by the current stage's ``allowed_next`` (empty: any stage), and the
  target stage's ``required_fields`` (standard names, ``custom.<name>`` or ``contact_roles``)
  must be filled, counting the ``values`` sent with the move. A lost stage needs a loss reason.
* Won/lost set ``status`` and ``closed_at``; moving back to an open stage reopens the deal.
* Every stage entered writes a ``StageHistory`` row (the first one with ``from_stage`` empty) and
  closes the previous row (``left_at``); a move also writes the ``opportunity.stage_moved``
  timeline event on the account. Field changes are audited by the change recorder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.catalog.selectors import company_currency_code, currency_codes
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.permissions import readonly_fields
from kehu.customfields.rules import rules_check
from kehu.customfields.selectors import custom_fields_for, picklist_items
from kehu.customfields.services import custom_values_clean
from kehu.tags.services import tags_set_new

from ..choices import (
    OPPORTUNITY_CONTACT_ROLE_PICKLIST,
    OPPORTUNITY_PICKLIST_FIELDS,
    ForecastCategory,
    OpportunityTeamRole,
    StageKind,
)
from ..errors import SalesError, StageMoveError
from ..models import (
    Opportunity,
    OpportunityContactRole,
    OpportunityTeamMember,
    Pipeline,
    Stage,
    StageHistory,
)
from . import opportunity_lines as lines

CREATED_EVENT = "opportunity.created"
STAGE_MOVED_EVENT = "opportunity.stage_moved"
PAST_CLOSE_DAYS = 365
FUTURE_CLOSE_YEARS = 20

# Fields `data` may hold (besides the create arguments).
OPPORTUNITY_FIELDS = frozenset(
    {
        "external_id",  # the record's id in another system (unique when set)
        "name",
        "amount",
        "currency",
        "expected_close_date",
        "probability",
        "forecast_category",
        "source",
        "campaign",
        "competitors",
        "next_step",
        "loss_reason",
        "loss_notes",
        "description",
    }
)
_SPECIAL = frozenset({"owner", "custom", "account", "lead"})
_NOT_TRIMMED = ("description", "loss_notes")
_CLEAN_EXCLUDE = (
    "owner",
    "department",
    "created_by",
    "account",
    "custom",
    "pipeline",
    "stage",
    "lead",
)
# Pseudo field names a stage may require besides the model's fields.
CONTACT_ROLES = "contact_roles"


class OpportunityError(SalesError):
    code = "opportunity_invalid"


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> OpportunityError:
    return OpportunityError(message or _("Some fields are not valid."), fields=fields)


# --- field rules ------------------------------------------------------------------------------


def requirable_fields() -> list[tuple[str, str]]:
    """(name, label) of what a stage may require: standard fields, contact roles, custom fields."""
    names = [
        "amount",
        "expected_close_date",
        "source",
        "campaign",
        "competitors",
        "next_step",
        "description",
    ]
    out = [(n, _verbose(n)) for n in names]
    out.append((CONTACT_ROLES, _("contact roles")))
    out += [(f"custom.{f.name}", str(f.label)) for f in custom_fields_for(Opportunity)]
    return out


def field_label(name: str) -> str:
    for key, label in requirable_fields():
        if key == name:
            return label
    if name.startswith("custom."):
        return name.removeprefix("custom.")
    return _verbose(name)


def _verbose(name: str) -> str:
    try:
        return str(getattr(Opportunity._meta.get_field(name), "verbose_name", name))
    except Exception:
        return name


def _in_picklist(code: str, value: str) -> bool:
    items = picklist_items(code)
    return not items or value in {i.value for i in items if i.is_active}


def _normalised(data: Mapping[str, Any], current: Opportunity | None) -> dict[str, Any]:
    """Trimmed text, amount as Decimal ≥ 0, known currency, sane dates, picklist values; field
    errors collected into one OpportunityError."""
    unknown = set(data) - OPPORTUNITY_FIELDS - _SPECIAL
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    out = dict(data)
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if isinstance(value, str) and name not in _NOT_TRIMMED:
            out[name] = value.strip()
    if "name" in out and not out["name"]:
        errors["name"] = [_("This field is required.")]
    if "amount" in out:
        amount = out["amount"]
        if amount in (None, ""):
            amount = Decimal("0")
        try:
            amount = Decimal(str(amount))
        except (InvalidOperation, ValueError):
            errors["amount"] = [_("Enter a number.")]
        else:
            if not amount.is_finite():
                errors["amount"] = [_("Enter a number.")]
            elif amount < 0:
                errors["amount"] = [_("The amount cannot be negative.")]
            else:
                out["amount"] = amount.quantize(Decimal("0.01"))
    if "currency" in out:
        currency = str(out["currency"] or "").strip().upper()
        codes = currency_codes()
        if currency not in codes:
            errors["currency"] = [
                _("Unknown currency “%(code)s”. Choose one of: %(codes)s.")
                % {"code": out["currency"], "codes": ", ".join(codes)}
            ]
        out["currency"] = currency
    if "expected_close_date" in out:
        value = out["expected_close_date"]
        if value in ("", None):
            out["expected_close_date"] = None
        elif not isinstance(value, dt.date):
            errors["expected_close_date"] = [_("Enter a valid date.")]
        elif current is None or current.expected_close_date != value:
            today = timezone.localdate()
            if value < today - dt.timedelta(days=PAST_CLOSE_DAYS):
                errors["expected_close_date"] = [
                    _("The expected close date is too far in the past (more than %(days)d days ago).")
                    % {"days": PAST_CLOSE_DAYS}
                ]
            elif value.year > today.year + FUTURE_CLOSE_YEARS:
                errors["expected_close_date"] = [_("The expected close date is too far in the future.")]
    if "probability" in out and out["probability"] not in (None, ""):
        try:
            probability = int(out["probability"])
        except (TypeError, ValueError):
            errors["probability"] = [_("Enter a whole number.")]
        else:
            if not 0 <= probability <= 100:
                errors["probability"] = [_("The probability is between 0 and 100.")]
            out["probability"] = probability
    if out.get("forecast_category") and out["forecast_category"] not in ForecastCategory.values:
        errors["forecast_category"] = [_("Choose a value from the list.")]
    for name, code in OPPORTUNITY_PICKLIST_FIELDS.items():
        value = out.get(name)
        if not value or (current is not None and getattr(current, name) == value):
            continue
        if not _in_picklist(code, value):
            errors[name] = [_("Choose a value from the list.")]
    if errors:
        raise _invalid(errors)
    return out


def _custom(by: Any, data: Mapping[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    if "custom" not in data and current is not None:
        return None
    locked = {f.removeprefix("custom.") for f in readonly_fields(by, Opportunity) if f.startswith("custom.")}
    return custom_values_clean(
        model=Opportunity,
        values=data.get("custom") or {},
        instance_values=current,
        partial=current is not None,
        exclude=locked,
    )


def _rules(values: Mapping[str, Any], custom: Any, instance: Any) -> None:
    standard = {k: v for k, v in values.items() if k != "custom"}
    if custom is not None:
        standard["custom"] = custom
    rules_check(model=Opportunity, values=standard, instance=instance, partial=instance is not None)


def _check_account(by: Any, account: Any) -> Any:
    from kehu.customers.models import Account

    if account is None:
        raise _invalid({"account": [_("This field is required.")]}, _("Choose an account."))
    if not Account.objects.restrict(by, Action.VIEW).filter(pk=account.pk).exists():
        raise _invalid({"account": [_("Choose an account you can see.")]})
    return account


def _apply_stage_values(opp: Opportunity, stage: Stage, values: Mapping[str, Any]) -> None:
    """Probability and forecast category from the stage unless set by hand (closed stages win)."""
    closed = stage.kind != StageKind.OPEN
    if values.get("probability") not in (None, "") and not closed:
        opp.probability = int(values["probability"])
        opp.probability_overridden = opp.probability != stage.probability
    elif closed or not opp.probability_overridden:
        opp.probability = stage.probability
        opp.probability_overridden = False
    if values.get("forecast_category") and not closed:
        opp.forecast_category = values["forecast_category"]
        opp.forecast_category_overridden = opp.forecast_category != stage.forecast_category
    elif closed or not opp.forecast_category_overridden:
        opp.forecast_category = stage.forecast_category
        opp.forecast_category_overridden = False


def default_pipeline() -> Pipeline | None:
    return (
        Pipeline.objects.filter(is_active=True, is_default=True).first()
        or Pipeline.objects.filter(is_active=True).order_by("order", "id").first()
    )


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return value == 0
    if isinstance(value, list | dict | tuple | set):
        return not value
    return False


def missing_fields(opp: Opportunity, stage: Stage, *, contact_roles: int | None = None) -> list[str]:
    """Names of `stage.required_fields` still empty on `opp` (amount 0 counts as empty)."""
    missing = []
    for name in stage.required_fields or []:
        if name == CONTACT_ROLES:
            count = contact_roles
            if count is None:
                count = opp.contact_roles.count() if opp.pk else 0
            if not count:
                missing.append(name)
        elif name.startswith("custom."):
            if _is_empty((opp.custom or {}).get(name.removeprefix("custom."))):
                missing.append(name)
        elif _is_empty(getattr(opp, name, None)):
            missing.append(name)
    return missing


def _missing_error(stage: Stage, missing: list[str]) -> StageMoveError:
    labels = [field_label(n) for n in missing]
    return StageMoveError(
        _("Fill in before moving to “%(stage)s”: %(fields)s.")
        % {"stage": stage.label, "fields": _(", ").join(labels)},
        code="stage_required_fields",
        fields={n: [_("Required to enter the stage “%(stage)s”.") % {"stage": stage.label}] for n in missing},
    )


def _check_loss(opp: Opportunity, stage: Stage) -> None:
    if stage.kind == StageKind.LOST and not opp.loss_reason:
        raise StageMoveError(
            _("Give the loss reason before moving the deal to “%(stage)s”.") % {"stage": stage.label},
            code="loss_reason_required",
            fields={"loss_reason": [_("This field is required.")]},
        )


def _history_row(opp: Opportunity, *, from_stage: Stage | None, by: Any, at: dt.datetime) -> StageHistory:
    return StageHistory.objects.create(
        opportunity=opp,
        pipeline_id=opp.pipeline_id,
        from_stage=from_stage,
        to_stage_id=opp.stage_id,
        entered_at=at,
        by=by if getattr(by, "pk", None) else None,
        amount=opp.amount,
        currency=opp.currency,
        probability=opp.probability,
        owner_id=opp.owner_id,
        department_id=opp.department_id,
    )


def _top_position(stage: Stage) -> float:
    low = Opportunity.objects.filter(stage=stage).aggregate(m=Min("position"))["m"]
    return (low if low is not None else 1.0) - 1.0


# --- create / update --------------------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    by: Any,
    account: Any,
    name: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal = Decimal("0"),
    currency: str | None = None,
    owner: Any = None,
    lead: Any = None,
    contact: Any = None,
    data: Mapping[str, Any] | None = None,
    tags: Iterable[Any] | None = None,
) -> Opportunity:
    """Create an opportunity (in the pipeline's first open stage unless `stage` is given). `tags`
    (ids or names) are written as the creator's (the owner may be outside the creator's scope)."""
    owned.check_action(by, Opportunity, Action.ADD)
    merged: dict[str, Any] = {
        **dict(data or {}),
        "name": name,
        "amount": amount,
        "currency": currency or (data or {}).get("currency") or company_currency_code(),
    }
    owned.check_locked_fields(by, Opportunity, merged)
    values = _normalised(merged, None)
    _check_account(by, account)
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else default_pipeline()
    if pipeline is None or not pipeline.is_active:
        raise _invalid({"pipeline": [_("Choose an active pipeline.")]})
    if stage is None:
        stage = first_open_stage(pipeline)
        if stage is None:
            raise _invalid({"stage": [_("The pipeline has no open stage.")]})
    elif stage.pipeline_id != pipeline.pk:
        raise _invalid({"stage": [_("The stage is not a stage of this pipeline.")]})
    resolved_owner = owned.resolve_owner(by, Opportunity, owner)
    opp = Opportunity(
        created_by=by,
        account=account,
        pipeline=pipeline,
        stage=stage,
        lead=lead,
        status=stage.kind,
    )
    owned.apply_values(opp, values, OPPORTUNITY_FIELDS - {"probability", "forecast_category"})
    owned.set_owner(opp, resolved_owner)
    opp.custom = _custom(by, values, None) or {}
    _apply_stage_values(opp, stage, values)
    owned.full_clean_or_raise(opp, exclude=_CLEAN_EXCLUDE)
    owned.check_external_id(Opportunity, opp.external_id)
    _rules({**values, "account": account, "pipeline": pipeline, "stage": stage}, opp.custom, None)
    missing = missing_fields(opp, stage, contact_roles=1 if contact is not None else 0)
    if missing:
        raise _missing_error(stage, missing)
    _check_loss(opp, stage)
    now = timezone.now()
    opp.stage_entered_at = now
    if stage.kind != StageKind.OPEN:
        opp.closed_at = now
    opp.position = _top_position(stage)
    opp.save()
    if tags:
        tags_set_new(obj=opp, tags=tags, by=by)
    if contact is not None:
        _contact_role_create(opp, contact, role="", is_primary=True, by=by)
    _history_row(opp, from_stage=None, by=by, at=now)
    _timeline(
        CREATED_EVENT,
        opp,
        by,
        {"title": opp.name, "stage": stage.name, "amount": str(opp.amount), "currency": opp.currency},
    )
    owned.recheck_scope(by, opp, Action.VIEW, transfer=resolved_owner.pk != by.pk)
    return opp


@transaction.atomic
def opportunity_update(
    *, opportunity: Opportunity, by: Any, data: Mapping[str, Any], version: int | None = None
) -> Opportunity:
    """Apply `data` (only the fields to change; the stage changes through
    `opportunity_move_stage`). `version`: the version the user started from."""
    current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    owned.check_action(by, Opportunity, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    changed = _update_values(current, by, data)
    if not changed:
        return current
    current.version += 1
    current.save(update_fields=[*set(changed), "version", "updated_at"])
    transfer = "owner" in changed
    owned.recheck_scope(by, current, Action.CHANGE, transfer=transfer)
    return current


def _update_values(current: Opportunity, by: Any, data: Mapping[str, Any]) -> list[str]:
    """Validate `data` and set it on the locked `current`; the names that changed."""
    data = dict(data)
    if "account" in data and getattr(data["account"], "pk", None) != current.account_id:
        _check_account(by, data["account"])
    owned.check_locked_fields(by, Opportunity, data, current=current)
    values = _normalised(data, current)
    _check_lines(current, values)
    owner = owned.resolve_owner(by, Opportunity, values.get("owner"), obj=current)
    before = (current.probability, current.probability_overridden)
    before_fc = (current.forecast_category, current.forecast_category_overridden)
    changed = owned.apply_values(current, values, OPPORTUNITY_FIELDS - {"probability", "forecast_category"})
    if "account" in values and values["account"] is not None and values["account"].pk != current.account_id:
        current.account = values["account"]
        changed.append("account")
    changed += owned.set_owner(current, owner)
    custom = _custom(by, values, current.custom)
    if custom is not None and custom != current.custom:
        current.custom = custom
        changed.append("custom")
    stage_values = {k: values[k] for k in ("probability", "forecast_category") if k in values}
    if "probability" in stage_values and stage_values["probability"] in (None, ""):
        current.probability_overridden = False  # back to the stage's probability
    if stage_values.get("forecast_category") in ("", None) and "forecast_category" in stage_values:
        current.forecast_category_overridden = False
    _apply_stage_values(current, current.stage, stage_values)
    if (current.probability, current.probability_overridden) != before:
        changed += ["probability", "probability_overridden"]
    if (current.forecast_category, current.forecast_category_overridden) != before_fc:
        changed += ["forecast_category", "forecast_category_overridden"]
    if changed:
        owned.full_clean_or_raise(current, exclude=_CLEAN_EXCLUDE)
        if "external_id" in changed:
            owned.check_external_id(Opportunity, current.external_id, exclude_pk=current.pk)
        _rules({k: v for k, v in values.items() if k not in stage_values}, custom, current)
    return changed


def _check_lines(current: Opportunity, values: Mapping[str, Any]) -> None:
    """With product lines the amount follows them and the currency is theirs: neither changes by
    hand (`services.opportunity_lines`)."""
    amount_changes = "amount" in values and values["amount"] != current.amount
    currency_changes = "currency" in values and values["currency"] != current.currency
    if not (amount_changes or currency_changes) or not lines.has_lines(current):
        return
    if amount_changes:
        message = _("The amount follows the opportunity's product lines: change the lines instead.")
        raise _invalid({"amount": [message]}, message)
    message = _("Remove the product lines before changing the currency.")
    raise _invalid({"currency": [message]}, message)


# --- stage moves ------------------------------------------------------------------------------


def allowed_next_ids(stage: Stage) -> set[int] | None:
    """Ids of the stages a deal may move to from `stage`; None: any stage of the pipeline."""
    ids = set(stage.allowed_next.values_list("pk", flat=True))
    return ids or None


@transaction.atomic
def opportunity_move_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    by: Any,
    version: int | None = None,
    values: Mapping[str, Any] | None = None,
) -> Opportunity:
    """Move the deal to `stage`, after filling `values` (fields the stage needs: next step,
    amount, loss reason ...). `values` may also hold ``position`` (its place in the kanban column).
    Refused moves raise StageMoveError (or OpportunityError for bad values) and change nothing."""
    current = Opportunity.objects.select_for_update().select_related("stage").get(pk=opportunity.pk)
    owned.check_action(by, Opportunity, Action.CHANGE, obj=current)
    owned.check_version(current, version)
    values = dict(values or {})
    position = values.pop("position", None)
    target = Stage.objects.select_related("pipeline").get(pk=stage.pk)
    from_stage = current.stage
    if target.pk == from_stage.pk:  # a reorder within the column, maybe with values
        changed = _update_values(current, by, values) if values else []
        if position is not None:
            current.position = float(position)
            changed.append("position")
        if changed:
            current.version += 1
            current.save(update_fields=[*set(changed), "version", "updated_at"])
        return current
    if target.pipeline_id == current.pipeline_id:
        allowed = allowed_next_ids(from_stage)
        if allowed is not None and target.pk not in allowed:
            names = ", ".join(s.label for s in Stage.objects.filter(pk__in=allowed).order_by("order", "id"))
            raise StageMoveError(
                _("A deal in “%(from)s” cannot move to “%(to)s”. Allowed next: %(allowed)s.")
                % {"from": from_stage.label, "to": target.label, "allowed": names},
                code="stage_not_allowed",
                fields={"stage": [_("This move is not allowed.")]},
            )
    elif not target.pipeline.is_active:
        raise StageMoveError(
            _("The pipeline “%(name)s” is not active.") % {"name": target.pipeline.label},
            fields={"stage": [_("Choose a stage of an active pipeline.")]},
        )
    changed = _update_values(current, by, values) if values else []
    missing = missing_fields(current, target)
    if missing:
        raise _missing_error(target, missing)
    _check_loss(current, target)
    now = timezone.now()
    was_closed = current.status != StageKind.OPEN
    current.stage = target
    current.pipeline_id = target.pipeline_id
    current.status = target.kind
    current.stage_entered_at = now
    _apply_stage_values(current, target, values)
    if target.kind != StageKind.OPEN:
        current.closed_at = now
    elif was_closed:  # reopened
        current.closed_at = None
        current.loss_reason = ""
        current.loss_notes = ""
    current.position = float(position) if position is not None else _top_position(target)
    changed += [
        "stage",
        "pipeline",
        "status",
        "stage_entered_at",
        "closed_at",
        "position",
        "probability",
        "probability_overridden",
        "forecast_category",
        "forecast_category_overridden",
        "loss_reason",
        "loss_notes",
    ]
    current.version += 1
    current.save(update_fields=[*set(changed), "version", "updated_at"])
    StageHistory.objects.filter(opportunity=current, left_at__isnull=True).update(left_at=now)
    _history_row(current, from_stage=from_stage, by=by, at=now)
    _timeline(
        STAGE_MOVED_EVENT,
        current,
        by,
        {
            "title": current.name,
            "changes": {"stage": [from_stage.name, target.name]},
            "from_stage": from_stage.pk,
            "to_stage": target.pk,
            "amount": str(current.amount),
            "currency": current.currency,
            "reopened": was_closed and target.kind == StageKind.OPEN,
        },
        at=now,
    )
    owned.recheck_scope(by, current, Action.CHANGE, transfer="owner" in changed)
    return current


def _timeline(
    event: str, opp: Opportunity, by: Any, data: dict[str, Any], at: dt.datetime | None = None
) -> None:
    from kehu.audit.services import timeline_record

    timeline_record(event=event, obj=opp, by=by, account_id=opp.account_id, data=data, occurred_at=at)


@transaction.atomic
def opportunity_delete(*, opportunity: Opportunity, by: Any) -> None:
    current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    owned.check_action(by, Opportunity, Action.DELETE, obj=current)
    current.delete()


# --- contact roles and team -------------------------------------------------------------------


def _changeable(by: Any, opportunity: Opportunity) -> Opportunity:
    current = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    owned.check_action(by, Opportunity, Action.CHANGE, obj=current)
    return current


def _check_contact_role(role: Any) -> str:
    role = str(role or "").strip()
    if role and not _in_picklist(OPPORTUNITY_CONTACT_ROLE_PICKLIST, role):
        raise _invalid({"role": [_("Choose a role from the list.")]})
    return role


def _contact_role_create(
    opp: Opportunity, contact: Any, *, role: str, is_primary: bool, by: Any
) -> OpportunityContactRole:
    from kehu.customers.models import Contact

    if not Contact.objects.restrict(by, Action.VIEW).filter(pk=contact.pk).exists():
        raise _invalid({"contact": [_("Choose a contact you can see.")]})
    if OpportunityContactRole.objects.filter(opportunity=opp, contact=contact).exists():
        raise _invalid({"contact": [_("This contact already has a role on this deal.")]})
    role = _check_contact_role(role)
    if is_primary:
        _unset_primary(opp)
    elif not OpportunityContactRole.objects.filter(opportunity=opp).exists():
        is_primary = True
    return OpportunityContactRole.objects.create(
        opportunity=opp, contact=contact, role=role, is_primary=is_primary
    )


def _unset_primary(opp: Opportunity) -> None:
    for row in OpportunityContactRole.objects.filter(opportunity=opp, is_primary=True):
        row.is_primary = False
        row.save(update_fields=["is_primary"])


@transaction.atomic
def opportunity_contact_role_add(
    *, by: Any, opportunity: Opportunity, contact: Any, role: str = "", is_primary: bool = False
) -> OpportunityContactRole:
    opp = _changeable(by, opportunity)
    return _contact_role_create(opp, contact, role=role, is_primary=is_primary, by=by)


@transaction.atomic
def opportunity_contact_role_update(
    *, by: Any, contact_role: OpportunityContactRole, role: str, is_primary: bool
) -> OpportunityContactRole:
    _changeable(by, contact_role.opportunity)
    row = OpportunityContactRole.objects.select_for_update().get(pk=contact_role.pk)
    row.role = _check_contact_role(role)
    if is_primary and not row.is_primary:
        _unset_primary(row.opportunity)
    row.is_primary = is_primary
    row.save(update_fields=["role", "is_primary"])
    return row


@transaction.atomic
def opportunity_contact_role_remove(*, by: Any, contact_role: OpportunityContactRole) -> None:
    opp = _changeable(by, contact_role.opportunity)
    was_primary = contact_role.is_primary
    contact_role.delete()
    if was_primary:
        first = OpportunityContactRole.objects.filter(opportunity=opp).order_by("id").first()
        if first is not None:
            first.is_primary = True
            first.save(update_fields=["is_primary"])


@transaction.atomic
def opportunity_team_member_add(
    *, by: Any, opportunity: Opportunity, user: Any, role: str = OpportunityTeamRole.SALES
) -> OpportunityTeamMember:
    opp = _changeable(by, opportunity)
    if role not in OpportunityTeamRole.values:
        raise _invalid({"role": [_("Choose a value from the list.")]})
    if not getattr(user, "is_active", False):
        raise _invalid({"user": [_("Not an active user.")]})
    member, created = OpportunityTeamMember.objects.get_or_create(
        opportunity=opp, user=user, defaults={"role": role}
    )
    if not created and member.role != role:
        member.role = role
        member.save(update_fields=["role"])
    return member


@transaction.atomic
def opportunity_team_member_remove(*, by: Any, member: OpportunityTeamMember) -> None:
    _changeable(by, member.opportunity)
    member.delete()


# --- stuck deals ------------------------------------------------------------------------------

STUCK_KIND = "sales.opportunity_stuck"


def opportunities_stuck(*, now: dt.datetime | None = None) -> models.QuerySet[Opportunity]:
    """Open deals that stayed longer in their stage than the stage's `stuck_after_days`."""
    now = now or timezone.now()
    qs = Opportunity.objects.filter(
        status=StageKind.OPEN, stage__stuck_after_days__isnull=False, stage_entered_at__isnull=False
    ).select_related("stage", "owner")
    # Portable: one condition per stage (few stages), no database interval arithmetic.
    q = models.Q(pk__in=[])
    for stage_id, days in Stage.objects.filter(stuck_after_days__isnull=False).values_list(
        "pk", "stuck_after_days"
    ):
        q |= models.Q(stage_id=stage_id, stage_entered_at__lt=now - dt.timedelta(days=days or 0))
    return qs.filter(q)


def opportunity_stuck_alerts(*, now: dt.datetime | None = None) -> int:
    """Notify each stuck deal's owner once per stage entry. Returns the notifications sent."""
    from kehu.notifications.models import Notification
    from kehu.notifications.services import notify

    now = now or timezone.now()
    sent = 0
    for opp in opportunities_stuck(now=now).iterator(chunk_size=500):
        if opp.owner_id is None or opp.stage_entered_at is None:
            continue
        if Notification.objects.filter(
            kind=STUCK_KIND,
            target_model="sales.opportunity",
            target_id=opp.pk,
            created_at__gte=opp.stage_entered_at,
        ).exists():
            continue
        days = (now - opp.stage_entered_at).days
        with transaction.atomic():
            sent += len(
                notify(
                    recipients=[opp.owner_id],
                    kind=STUCK_KIND,
                    title=_("“%(name)s” has been in “%(stage)s” for %(days)d days")
                    % {"name": opp.name, "stage": opp.stage.label, "days": days},
                    body=str(opp.next_step or ""),
                    url=opp.get_absolute_url(),
                    level="warning",
                    target=opp,
                )
            )
    return sent


def opportunity_record_activity(*, opportunity_id: int, at: dt.datetime) -> None:
    """Someone followed the opportunity up at `at` (an interaction logged by the activities app):
    its "last contact" moves forward, never backward. One UPDATE, no signals."""
    Opportunity.objects.filter(pk=opportunity_id).filter(
        models.Q(last_activity_at__isnull=True) | models.Q(last_activity_at__lt=at)
    ).update(last_activity_at=at)
