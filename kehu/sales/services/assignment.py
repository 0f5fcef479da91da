"""Assignment rules: who (or which pool) gets a new lead or account.

* ``assignment_apply(*, record, by) -> AssignmentResult | None``: for a newly created lead (or
  account: ``account_create`` calls it through the `kehu.core.assigners` hook) without a chosen
  owner: the first active matching rule of its kind gives it an owner
  (round-robin / least-loaded / user; unavailable users skipped) or puts it in a pool, and records
  which rule fired (``record.assignment_rule`` for leads, a timeline event). None when no rule
  matched (the record stays with its creator).

Fairness under concurrency: the matching rule's row is locked (``select_for_update``) while the
next user is chosen and the round-robin position advanced, so two parallel creations can never give
two records to the same user out of turn; least-loaded counts the candidates' open records under
the same lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError
from django.db import models, transaction
from django.db.models import Count, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.core import owned
from kehu.core.errors import DomainError

from ..choices import AssignmentAction, LeadStatus, PoolKind
from ..models import AssignmentRule, Lead, Pool, UserAvailability

ASSIGNED_EVENT = "sales.assigned"


@dataclass(frozen=True)
class AssignmentResult:
    rule: AssignmentRule
    owner: Any = None
    pool: Pool | None = None


def _kind_of(record: Any) -> str:
    return PoolKind.LEAD if isinstance(record, Lead) else PoolKind.ACCOUNT


def _model_label(kind: str) -> str:
    return "sales.lead" if kind == PoolKind.LEAD else "customers.account"


# The FilterSet of each kind of record (the list page's, registered by kehu/sales/hooks): a rule's
# conditions are a query of it. {pool kind: FilterSet class}
_condition_filtersets: dict[str, Any] = {}


def register_conditions_filterset(kind: str, filterset_class: Any) -> None:
    _condition_filtersets[kind] = filterset_class


def conditions_filterset(kind: str) -> Any:
    """The FilterSet whose query the rule's conditions are (None until registered)."""
    return _condition_filtersets.get(kind)


def conditions_query(conditions: Mapping[str, Any]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in conditions.items():
        values = value if isinstance(value, list | tuple) else [value]
        query.setlist(key, [str(v) for v in values])
    return query


def rule_matches(rule: AssignmentRule, record: Any) -> bool:
    """Whether the record satisfies the rule's conditions (empty conditions: always)."""
    if not rule.conditions:
        return True
    model = type(record)
    filterset_class = conditions_filterset(rule.kind)
    if filterset_class is None:  # the list is not installed: only plain field equality
        try:
            return model._default_manager.filter(pk=record.pk, **rule.conditions).exists()
        except (FieldError, ValueError, TypeError):  # unknown fields or bad values never match
            return False
    filterset = filterset_class(
        data=conditions_query(rule.conditions), queryset=model._default_manager.filter(pk=record.pk)
    )
    if not filterset.is_valid():
        return False
    return bool(filterset.qs.exists())


def unavailable_user_ids(user_ids: Iterable[int], *, on: dt.date | None = None) -> set[int]:
    """Users marked unavailable, or away on `on` (today)."""
    day = on or timezone.localdate()
    away = (
        Q(is_available=False)
        | (Q(away_from__lte=day) & (Q(away_until__gte=day) | Q(away_until__isnull=True)))
        | (Q(away_from__isnull=True) & Q(away_until__gte=day))
    )
    return set(
        UserAvailability.objects.filter(away, user_id__in=list(user_ids)).values_list("user_id", flat=True)
    )


def _candidates(rule: AssignmentRule) -> list[Any]:
    ids = sorted(rule.users.filter(is_active=True).values_list("pk", flat=True))
    away = unavailable_user_ids(ids)
    available = [pk for pk in ids if pk not in away]
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=available)}
    return [users[pk] for pk in available if pk in users]


def open_record_counts(kind: str, user_ids: Sequence[int]) -> dict[int, int]:
    """Open leads (not converted or unqualified) or accounts each user owns."""
    if kind == PoolKind.LEAD:
        qs: models.QuerySet[Any] = Lead.objects.filter(
            owner_id__in=user_ids, status__in=[LeadStatus.NEW, LeadStatus.CONTACTING, LeadStatus.QUALIFIED]
        )
    else:
        from kehu.customers.models import Account

        qs = Account.objects.filter(owner_id__in=user_ids, is_active=True)
    counts = dict(qs.values("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n"))
    return {pk: counts.get(pk, 0) for pk in user_ids}


def _next_round_robin(rule: AssignmentRule, candidates: list[Any]) -> Any:
    ids = [u.pk for u in candidates]
    last = rule.last_user_id
    following = [pk for pk in ids if last is None or pk > last]
    chosen = following[0] if following else ids[0]
    return next(u for u in candidates if u.pk == chosen)


def _least_loaded(rule: AssignmentRule, candidates: list[Any]) -> Any:
    counts = open_record_counts(rule.kind, [u.pk for u in candidates])
    # Ties go to the user after the last one chosen (round-robin among equals).
    ordered = sorted(candidates, key=lambda u: (counts[u.pk], u.pk <= (rule.last_user_id or 0), u.pk))
    return ordered[0]


def _choose_owner(rule: AssignmentRule) -> Any:
    if rule.action == AssignmentAction.USER:
        user = rule.user
        if user is None or not user.is_active or user.pk in unavailable_user_ids([user.pk]):
            return None
        return user
    candidates = _candidates(rule)
    if not candidates:
        return None
    if rule.action == AssignmentAction.ROUND_ROBIN:
        return _next_round_robin(rule, candidates)
    return _least_loaded(rule, candidates)


def _apply_owner(record: Any, owner: Any, rule: AssignmentRule) -> None:
    fields = owned.set_owner(record, owner)
    if isinstance(record, Lead):
        record.assignment_rule = rule
        record.owned_since = timezone.now()
        fields += ["assignment_rule", "owned_since"]
    if fields:
        record.version = models.F("version") + 1
        record.save(update_fields=[*fields, "version", "updated_at"])
        record.refresh_from_db(fields=["version"])


def _timeline(record: Any, result: AssignmentResult, by: Any) -> None:
    """ "Assigned by rule": the event's label is translated when shown; the title names the rule
    and the owner or pool (data, the same in every language)."""
    account_id = record.pk if _kind_of(record) == PoolKind.ACCOUNT else None
    target = result.owner or result.pool
    timeline_record(
        event=ASSIGNED_EVENT,
        obj=record,
        by=by,
        account_id=account_id,
        data={
            "title": f"{result.rule.name} → {target}",
            "rule": result.rule.pk,
            "rule_name": result.rule.name,
            "owner": getattr(result.owner, "pk", None),
            "pool": getattr(result.pool, "pk", None),
        },
    )


def matching_rule(record: Any, *, kind: str | None = None) -> AssignmentRule | None:
    kind = kind or _kind_of(record)
    for rule in AssignmentRule.objects.filter(kind=kind, is_active=True).order_by("order", "id"):
        if rule_matches(rule, record):
            return rule
    return None


@transaction.atomic
def assignment_apply(*, record: Any, by: Any) -> AssignmentResult | None:
    """Give a new record an owner or a pool by the first matching active rule (see module doc)."""
    kind = _kind_of(record)
    for candidate in AssignmentRule.objects.filter(kind=kind, is_active=True).order_by("order", "id"):
        if not rule_matches(candidate, record):
            continue
        # Lock the rule: the round-robin position and the least-loaded counts are read and
        # advanced by one creation at a time.
        rule = AssignmentRule.objects.select_for_update().get(pk=candidate.pk)
        if rule.action == AssignmentAction.POOL:
            if rule.pool is None or not rule.pool.is_active:
                continue
            from .pools import pool_put

            pool_put(
                pool=rule.pool,
                records=[record],
                by=by,
                reason=_("Assignment rule “%(rule)s”") % {"rule": rule.name},
            )
            if isinstance(record, Lead):
                Lead.objects.filter(pk=record.pk).update(assignment_rule=rule)
                record.assignment_rule = rule
            result = AssignmentResult(rule=rule, pool=rule.pool)
        else:
            owner = _choose_owner(rule)
            if owner is None:  # everyone is away: try the next rule
                continue
            _apply_owner(record, owner, rule)
            AssignmentRule.objects.filter(pk=rule.pk).update(last_user=owner)
            result = AssignmentResult(rule=rule, owner=owner)
        _timeline(record, result, by)
        return result
    return None


def assign_new_record(*, record: Any, by: Any) -> bool:
    """The `kehu.core.assigners` hook: a lower app's create service (accounts) asks the rules."""
    return assignment_apply(record=record, by=by) is not None


# --- rule administration -----------------------------------------------------------------------


RULE_FIELDS = ("name", "kind", "order", "is_active", "conditions", "action", "user", "pool")


def _validate_rule(rule: AssignmentRule, users: Iterable[Any] | None) -> None:
    errors: dict[str, list[str]] = {}
    if rule.action == AssignmentAction.USER and rule.user is None:
        errors["user"] = [_("Choose the user who gets the records.")]
    if rule.action == AssignmentAction.POOL:
        if rule.pool is None:
            errors["pool"] = [_("Choose the pool the records go to.")]
        elif rule.pool.kind != rule.kind:
            errors["pool"] = [_("The pool holds another kind of record.")]
    pooled = rule.action in (AssignmentAction.ROUND_ROBIN, AssignmentAction.LEAST_LOADED)
    if pooled and users is not None and not list(users):
        errors["users"] = [_("Choose at least one user.")]
    if not isinstance(rule.conditions, dict):
        errors["conditions"] = [_("Conditions must be a set of filters.")]
    elif rule.conditions:
        filterset_class = conditions_filterset(rule.kind)
        if filterset_class is not None:
            unknown = sorted(set(rule.conditions) - set(filterset_class.base_filters) - {"q"})
            if unknown:
                errors["conditions"] = [_("Unknown filters: %(names)s") % {"names": ", ".join(unknown)}]
            else:
                fs = filterset_class(
                    data=conditions_query(rule.conditions),
                    queryset=filterset_class._meta.model._default_manager.none(),
                )
                if not fs.is_valid():
                    errors["conditions"] = [
                        f"{name}: {' '.join(str(m) for m in messages)}"
                        for name, messages in fs.errors.items()
                    ]
    if errors:
        raise DomainError(_("The rule is not complete."), code="invalid_rule", fields=errors)


@transaction.atomic
def assignment_rule_create(*, by: Any, data: Mapping[str, Any]) -> AssignmentRule:
    owned.check_action(by, AssignmentRule, "add")
    rule = AssignmentRule()
    owned.apply_values(rule, data, RULE_FIELDS)
    if "order" not in data:
        last = AssignmentRule.objects.filter(kind=rule.kind).aggregate(m=models.Max("order"))["m"]
        rule.order = (last or 0) + 10
    users = data.get("users")
    _validate_rule(rule, users if users is not None else [])
    owned.full_clean_or_raise(rule, exclude=["last_user"])
    rule.save()
    if users is not None:
        rule.users.set(users)
    return rule


@transaction.atomic
def assignment_rule_update(*, rule: AssignmentRule, by: Any, data: Mapping[str, Any]) -> AssignmentRule:
    owned.check_action(by, AssignmentRule, "change")
    rule = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    owned.apply_values(rule, data, RULE_FIELDS)
    users = data.get("users")
    _validate_rule(rule, users if users is not None else rule.users.all())
    owned.full_clean_or_raise(rule, exclude=["last_user"])
    rule.save()
    if users is not None:
        rule.users.set(users)
    return rule


@transaction.atomic
def assignment_rule_delete(*, rule: AssignmentRule, by: Any) -> None:
    owned.check_action(by, AssignmentRule, "delete")
    rule.delete()


@transaction.atomic
def assignment_rules_reorder(*, kind: str, ids: Sequence[int], by: Any) -> None:
    """Put the rules of `kind` in the order of `ids` (the ones not named keep their place after)."""
    owned.check_action(by, AssignmentRule, "change")
    rules = {r.pk: r for r in AssignmentRule.objects.select_for_update().filter(kind=kind)}
    order = [pk for pk in ids if pk in rules] + sorted(pk for pk in rules if pk not in ids)
    for position, pk in enumerate(order, start=1):
        if rules[pk].order != position * 10:
            AssignmentRule.objects.filter(pk=pk).update(order=position * 10)


@transaction.atomic
def user_availability_set(
    *,
    user: Any,
    by: Any,
    is_available: bool,
    away_from: dt.date | None = None,
    away_until: dt.date | None = None,
    note: str = "",
) -> UserAvailability:
    """Mark a user available or away (leave). Users set their own; changing another user's needs
    "assign" on leads (managers)."""
    if user.pk != by.pk:
        owned.check_action(by, Lead, "assign")
    if away_from and away_until and away_until < away_from:
        raise DomainError(
            _("“Away until” is before “away from”."),
            code="invalid_dates",
            fields={"away_until": [_("Must be on or after “away from”.")]},
        )
    availability, _created = UserAvailability.objects.select_for_update().get_or_create(user=user)
    availability.is_available = is_available
    availability.away_from = away_from
    availability.away_until = away_until
    availability.note = note[:200]
    availability.save()
    return availability
