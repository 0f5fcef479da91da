"""Pipelines (销售流程) and stages (阶段): admin writes.

* Exactly one default pipeline: making one the default unsets the others (the constraint
  `sales_pipeline_one_default` guards against races); the default cannot be deactivated.
* A stage's required fields are chosen among `requirable_fields()` (Opportunity standard fields,
  contact roles and custom fields); allowed next stages belong to the same pipeline.
* Stages (and pipelines) in use — by an opportunity or a StageHistory row — cannot be deleted.
* Every pipeline keeps at least one open stage.
* Open stages come before the closed ones (won, lost): a new open stage goes after the last open
  stage, a stage whose type changes is put back in its group, and an order (explicit, or a reorder)
  with an open stage after a closed one is refused. Within each group the order is free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError

from ..choices import ForecastCategory, StageKind
from ..errors import SalesError
from ..models import Opportunity, Pipeline, Stage, StageHistory
from .opportunities import requirable_fields

PIPELINE_FIELDS = ("name", "name_en", "description", "is_active", "is_default", "order")
STAGE_FIELDS = ("name", "name_en", "kind", "probability", "forecast_category", "stuck_after_days", "color")


class PipelineError(SalesError):
    code = "pipeline_invalid"


class InUseError(ConflictError):
    code = "in_use"


def _invalid(fields: dict[str, list[str]]) -> PipelineError:
    return PipelineError(_("Some fields are not valid."), fields=fields)


def _clean_text(values: dict[str, Any], names: Sequence[str]) -> None:
    for name in names:
        if isinstance(values.get(name), str):
            values[name] = values[name].strip()


def _unset_other_defaults(pipeline: Pipeline) -> None:
    others = Pipeline.objects.select_for_update().filter(is_default=True)
    if pipeline.pk is not None:
        others = others.exclude(pk=pipeline.pk)
    for other in others:
        other.is_default = False
        other.save(update_fields=["is_default", "updated_at"])


def _check_pipeline(values: Mapping[str, Any], current: Pipeline | None) -> None:
    errors: dict[str, list[str]] = {}
    name = values.get("name", current.name if current else "")
    if not name:
        errors["name"] = [_("This field is required.")]
    elif Pipeline.objects.filter(name=name).exclude(pk=current.pk if current else 0).exists():
        errors["name"] = [_("Another pipeline has this name.")]
    default = values.get("is_default", current.is_default if current else False)
    active = values.get("is_active", current.is_active if current else True)
    if default and not active:
        errors["is_active"] = [_("The default pipeline must be active.")]
    if current is not None and current.is_default and values.get("is_default") is False:
        errors["is_default"] = [_("Make another pipeline the default instead.")]
    if errors:
        raise _invalid(errors)


@transaction.atomic
def pipeline_create(
    *, by: Any, data: Mapping[str, Any], stages: Sequence[Mapping[str, Any]] = ()
) -> Pipeline:
    """A new pipeline; `stages` (optional) creates its stages in order. Without stages it gets
    the three usual ones: an open stage, won and lost."""
    owned.check_action(by, Pipeline, Action.ADD)
    values = {k: v for k, v in data.items() if k in PIPELINE_FIELDS}
    _clean_text(values, ("name", "name_en"))
    _check_pipeline(values, None)
    pipeline = Pipeline(**values)
    if not Pipeline.objects.filter(is_default=True).exists():
        pipeline.is_default = True
    if pipeline.is_default:
        _unset_other_defaults(pipeline)
    pipeline.save()
    rows = list(stages) or [
        {"name": _("New"), "kind": StageKind.OPEN, "probability": 10},
        {
            "name": _("Won"),
            "kind": StageKind.WON,
            "probability": 100,
            "forecast_category": ForecastCategory.CLOSED,
        },
        {
            "name": _("Lost"),
            "kind": StageKind.LOST,
            "probability": 0,
            "forecast_category": ForecastCategory.OMITTED,
        },
    ]
    for row in rows:
        stage_create(by=by, pipeline=pipeline, data=row)
    return pipeline


@transaction.atomic
def pipeline_update(*, by: Any, pipeline: Pipeline, data: Mapping[str, Any]) -> Pipeline:
    owned.check_action(by, Pipeline, Action.CHANGE)
    current = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    values = {k: v for k, v in data.items() if k in PIPELINE_FIELDS}
    _clean_text(values, ("name", "name_en"))
    _check_pipeline(values, current)
    changed = owned.apply_values(current, values, PIPELINE_FIELDS)
    if changed:
        if current.is_default:
            _unset_other_defaults(current)
        current.save(update_fields=[*changed, "updated_at"])
    return current


@transaction.atomic
def pipeline_set_default(*, by: Any, pipeline: Pipeline) -> Pipeline:
    return pipeline_update(by=by, pipeline=pipeline, data={"is_default": True, "is_active": True})


@transaction.atomic
def pipeline_delete(*, by: Any, pipeline: Pipeline) -> None:
    owned.check_action(by, Pipeline, Action.DELETE)
    current = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if current.is_default:
        raise InUseError(_("The default pipeline cannot be deleted. Make another one the default first."))
    count = Opportunity.objects.filter(pipeline=current).count()
    if count or StageHistory.objects.filter(pipeline=current).exists():
        raise InUseError(
            _("“%(name)s” has opportunities (%(count)d) or stage history; deactivate it instead.")
            % {"name": current.label, "count": count}
        )
    current.delete()


# --- stages -----------------------------------------------------------------------------------


def _stage_values(data: Mapping[str, Any], pipeline: Pipeline, current: Stage | None) -> dict[str, Any]:
    values = {k: v for k, v in data.items() if k in STAGE_FIELDS}
    _clean_text(values, ("name", "name_en", "color"))
    errors: dict[str, list[str]] = {}
    name = values.get("name", current.name if current else "")
    if not name:
        errors["name"] = [_("This field is required.")]
    elif pipeline.stages.filter(name=name).exclude(pk=current.pk if current else 0).exists():
        errors["name"] = [_("Another stage of this pipeline has this name.")]
    kind = values.get("kind", current.kind if current else StageKind.OPEN)
    if kind not in StageKind.values:
        errors["kind"] = [_("Choose a value from the list.")]
    if "probability" in values:
        try:
            values["probability"] = int(values["probability"])
        except (TypeError, ValueError):
            errors["probability"] = [_("Enter a whole number.")]
        else:
            if not 0 <= values["probability"] <= 100:
                errors["probability"] = [_("The probability is between 0 and 100.")]
    if values.get("forecast_category") and values["forecast_category"] not in ForecastCategory.values:
        errors["forecast_category"] = [_("Choose a value from the list.")]
    if values.get("stuck_after_days") in ("", 0):
        values["stuck_after_days"] = None
    if values.get("stuck_after_days") is not None:
        try:
            values["stuck_after_days"] = int(values["stuck_after_days"])
            if values["stuck_after_days"] < 1:
                raise ValueError
        except (TypeError, ValueError):
            errors["stuck_after_days"] = [_("Enter a whole number of days (1 or more).")]
    if "required_fields" in data:
        known = {k for k, _label in requirable_fields()}
        wanted = [str(f) for f in data.get("required_fields") or []]
        unknown = [f for f in wanted if f not in known]
        if unknown:
            errors["required_fields"] = [
                _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)},
            ]
        values["required_fields"] = list(dict.fromkeys(wanted))
    if errors:
        raise _invalid(errors)
    if current is None and "forecast_category" not in values:
        values["forecast_category"] = {
            StageKind.WON: ForecastCategory.CLOSED,
            StageKind.LOST: ForecastCategory.OMITTED,
        }.get(kind, ForecastCategory.PIPELINE)
    return values


def _set_allowed_next(stage: Stage, data: Mapping[str, Any]) -> bool:
    if "allowed_next" not in data:
        return False
    wanted = [getattr(s, "pk", s) for s in data.get("allowed_next") or []]
    stages = list(Stage.objects.filter(pk__in=wanted, pipeline_id=stage.pipeline_id).exclude(pk=stage.pk))
    if len(stages) != len(set(wanted) - {stage.pk}):
        raise _invalid({"allowed_next": [_("Choose stages of the same pipeline.")]})
    before = set(stage.allowed_next.values_list("pk", flat=True))
    stage.allowed_next.set(stages)
    return before != {s.pk for s in stages}


def _check_open_stage_left(pipeline: Pipeline) -> None:
    if not pipeline.stages.filter(kind=StageKind.OPEN).exists():
        raise _invalid({"kind": [_("A pipeline needs at least one open stage.")]})


def _closed_last(stages: Sequence[Stage]) -> bool:
    """Whether no open stage follows a closed one in `stages` (in board order)."""
    seen_closed = False
    for stage in stages:
        if stage.kind != StageKind.OPEN:
            seen_closed = True
        elif seen_closed:
            return False
    return True


def _closed_last_error(field: str) -> PipelineError:
    return PipelineError(
        _("Open stages come before the won and lost stages."),
        code="stage_order_invalid",
        fields={field: [_("Put the open stages before the won and lost stages.")]},
    )


def _renumber(stages: Sequence[Stage]) -> None:
    for index, stage in enumerate(stages):
        if stage.order != (index + 1) * 10:
            stage.order = (index + 1) * 10
            stage.save(update_fields=["order"])


def _place_closed_last(pipeline: Pipeline) -> None:
    """Open stages in their order, then the closed ones in theirs (a stable sort), numbered 10, 20 …"""
    stages = list(Stage.objects.select_for_update().filter(pipeline=pipeline).order_by("order", "id"))
    if not _closed_last(stages):
        _renumber(sorted(stages, key=lambda s: s.kind != StageKind.OPEN))


def _sync_open_deals(stage: Stage, changed: Sequence[str]) -> None:
    """Open deals follow their stage's probability / forecast category unless set by hand."""
    if "probability" in changed:
        Opportunity.objects.filter(stage=stage, probability_overridden=False).update(
            probability=stage.probability
        )
    if "forecast_category" in changed:
        Opportunity.objects.filter(stage=stage, forecast_category_overridden=False).update(
            forecast_category=stage.forecast_category
        )


@transaction.atomic
def stage_create(*, by: Any, pipeline: Pipeline, data: Mapping[str, Any]) -> Stage:
    owned.check_action(by, Pipeline, Action.CHANGE)
    values = _stage_values(data, pipeline, None)
    last = pipeline.stages.order_by("-order").values_list("order", flat=True).first()
    values.setdefault("order", (last or 0) + 10)
    explicit = data.get("order") not in (None, "")
    if explicit:
        try:
            values["order"] = int(data["order"])
        except (TypeError, ValueError):
            raise _invalid({"order": [_("Enter a whole number.")]}) from None
    stage = Stage.objects.create(pipeline=pipeline, **values)
    if explicit:
        if not _closed_last(list(pipeline.stages.order_by("order", "id"))):
            raise _closed_last_error("order")
    elif stage.kind == StageKind.OPEN:
        _place_closed_last(pipeline)  # after the last open stage, before won and lost
        stage.refresh_from_db(fields=["order"])
    _set_allowed_next(stage, data)
    return stage


@transaction.atomic
def stage_update(*, by: Any, stage: Stage, data: Mapping[str, Any]) -> Stage:
    owned.check_action(by, Pipeline, Action.CHANGE)
    current = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    values = _stage_values(data, current.pipeline, current)
    if "kind" in values and values["kind"] != current.kind and current.opportunities.exists():
        raise InUseError(
            _("Deals are in “%(stage)s”: its type cannot change.") % {"stage": current.label},
            fields={"kind": [_("The stage is in use.")]},
        )
    changed = owned.apply_values(current, values, [*STAGE_FIELDS, "required_fields"])
    if changed:
        current.save(update_fields=changed)
        _check_open_stage_left(current.pipeline)
        _sync_open_deals(current, changed)
        if "kind" in changed:
            _place_closed_last(current.pipeline)
            current.refresh_from_db(fields=["order"])
    _set_allowed_next(current, data)
    return current


@transaction.atomic
def stage_delete(*, by: Any, stage: Stage) -> None:
    owned.check_action(by, Pipeline, Action.CHANGE)
    current = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    count = current.opportunities.count()
    in_history = StageHistory.objects.filter(Q(to_stage=current) | Q(from_stage=current)).exists()
    if count or in_history:
        raise InUseError(
            _("“%(stage)s” is in use (%(count)d deals, or stage history) and cannot be deleted.")
            % {"stage": current.label, "count": count}
        )
    pipeline = current.pipeline
    current.delete()
    _check_open_stage_left(pipeline)


@transaction.atomic
def stages_reorder(*, by: Any, pipeline: Pipeline, stage_ids: Sequence[int | str]) -> list[Stage]:
    """Put the pipeline's stages in the order of `stage_ids` (all of them, each once); open
    stages before the closed ones."""
    owned.check_action(by, Pipeline, Action.CHANGE)
    stages = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    try:
        ids = [int(i) for i in stage_ids]
    except (TypeError, ValueError):
        raise _invalid({"stages": [_("Send every stage of the pipeline once.")]}) from None
    if sorted(ids) != sorted(stages):
        raise _invalid({"stages": [_("Send every stage of the pipeline once.")]})
    out = [stages[pk] for pk in ids]
    if not _closed_last(out):
        raise _closed_last_error("stages")
    _renumber(out)
    return out
