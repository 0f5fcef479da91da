"""Churn warning (流失预警): rules an admin configures flag accounts as at risk, with the reasons.

`churn_evaluate(now=...)` (daily beat) computes each active rule's signal with one grouped query
(no loop over all accounts): no order for N days, an NPS answer ≤ N, more than N complaints, a
CSAT rating ≤ N within the rule's window. An account has at most one open flag (a partial unique
constraint): new signals add reasons to it. A new flag creates a follow-up task for the account's
owner (through the activities app's task service) and notifies them. `account_risk_flag` is the
same entry for one account (the analytics module's churn model feeds it later).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.audit.choices import ChangeAction
from kehu.audit.services import timeline_record
from kehu.core.choices import Action
from kehu.core.errors import DomainError

from ..choices import ChurnSignal, RiskStatus, SurveyKind, TicketKind
from ..models import AccountRisk, ChurnRule, SurveyResponse, Ticket
from .common import ServiceError

log = logging.getLogger(__name__)

NOTIFY_KIND = "service.account_at_risk"
EVENT_FLAGGED = "account.at_risk"
EVENT_RESOLVED = "account.risk_resolved"
CHUNK = 1000
RULE_FIELDS = frozenset(
    {"name", "name_en", "signal", "threshold", "window_days", "is_active", "create_task", "task_due_days"}
)
# Highest threshold that makes sense per signal (scores have a range).
MAX_THRESHOLD = {
    ChurnSignal.NO_ORDER: 36500,
    ChurnSignal.NPS_DETRACTOR: 10,
    ChurnSignal.COMPLAINTS: 10000,
    ChurnSignal.LOW_CSAT: 5,
}


class ChurnError(ServiceError):
    NOT_OPEN = "risk_not_open"


# --- rules ------------------------------------------------------------------------------------


def _check_rule(rule: ChurnRule) -> None:
    errors: dict[str, list[str]] = {}
    if not str(rule.name or "").strip():
        errors["name"] = [_("Enter a name.")]
    if rule.signal not in ChurnSignal.values:
        errors["signal"] = [_("Choose a signal.")]
    else:
        high = MAX_THRESHOLD[ChurnSignal(rule.signal)]
        low = 1 if rule.signal in (ChurnSignal.NO_ORDER, ChurnSignal.LOW_CSAT) else 0
        if rule.threshold is None or not low <= int(rule.threshold) <= high:
            errors["threshold"] = [_("From %(low)d to %(high)d.") % {"low": low, "high": high}]
    if rule.window_days is None or not 1 <= int(rule.window_days) <= 3650:
        errors["window_days"] = [_("From 1 to 3650 days.")]
    if rule.task_due_days is None or not 0 <= int(rule.task_due_days) <= 365:
        errors["task_due_days"] = [_("From 0 to 365 days.")]
    if errors:
        raise ChurnError(_("Some fields are not valid."), fields=errors)


def _check_can(by: Any, action: str) -> None:
    from kehu.core import owned

    if by is not None:
        owned.check_action(by, ChurnRule, action)


def _unknown(data: Mapping[str, Any]) -> None:
    unknown = set(data) - RULE_FIELDS
    if unknown:
        raise ChurnError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})


@transaction.atomic
def churn_rule_create(*, by: Any, data: Mapping[str, Any]) -> ChurnRule:
    _check_can(by, Action.ADD)
    _unknown(data)
    rule = ChurnRule()
    for name, value in data.items():
        if value is not None:
            setattr(rule, name, value)
    _check_rule(rule)
    rule.save()
    return rule


@transaction.atomic
def churn_rule_update(*, rule: ChurnRule, by: Any, data: Mapping[str, Any]) -> ChurnRule:
    _check_can(by, Action.CHANGE)
    _unknown(data)
    current = ChurnRule.objects.select_for_update().get(pk=rule.pk)
    for name, value in data.items():
        setattr(current, name, value)
    _check_rule(current)
    current.save()
    return current


@transaction.atomic
def churn_rule_delete(*, rule: ChurnRule, by: Any) -> None:
    _check_can(by, Action.DELETE)
    rule.delete()  # flags keep their reasons (the rule's id and signal are copied into them)


# --- signals ----------------------------------------------------------------------------------


def _day_start(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


def rule_signal(rule: ChurnRule, *, now: dt.datetime) -> dict[int, Any]:
    """{account id: the value that triggered} for one rule: one grouped query."""
    since = _day_start(now, rule.window_days)
    signal = rule.signal
    if signal == ChurnSignal.NO_ORDER:
        from kehu.commerce.choices import OrderStatusKind
        from kehu.commerce.models import Order

        cutoff = timezone.localdate(now) - dt.timedelta(days=rule.threshold)
        rows = (
            Order.objects.exclude(status__kind=OrderStatusKind.CANCELLED)
            .values("account_id")
            .annotate(last=Max("ordered_on"))
            .filter(last__lt=cutoff)
            .values_list("account_id", "last")
        )
        return {account: last.isoformat() for account, last in rows}
    if signal in (ChurnSignal.NPS_DETRACTOR, ChurnSignal.LOW_CSAT):
        kind = SurveyKind.NPS if signal == ChurnSignal.NPS_DETRACTOR else SurveyKind.CSAT
        rows = (
            SurveyResponse.objects.filter(
                kind=kind, score__lte=rule.threshold, created_at__gte=since, account_id__isnull=False
            )
            .values("account_id")
            .annotate(low=Min("score"))
            .values_list("account_id", "low")
        )
        return dict(rows)
    if signal == ChurnSignal.COMPLAINTS:
        rows = (
            Ticket.objects.filter(
                type__kind=TicketKind.COMPLAINT, created_at__gte=since, account_id__isnull=False
            )
            .values("account_id")
            .annotate(n=Count("id"))
            .filter(n__gt=rule.threshold)
            .values_list("account_id", "n")
        )
        return dict(rows)
    return {}


def _reason(rule: ChurnRule, value: Any, now: dt.datetime) -> dict[str, Any]:
    return {
        "rule": rule.pk,
        "signal": rule.signal,
        "threshold": rule.threshold,
        "window_days": rule.window_days,
        "value": value,
        "at": now.isoformat(),
        "name": str(rule),
    }


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _recently_resolved(rules: list[ChurnRule], now: dt.datetime) -> set[tuple[int, int]]:
    """(account, rule) pairs whose flag was resolved within the rule's window: the intervention
    is recent, so the same signal does not flag the account again at once."""
    if not rules:
        return set()
    window = {rule.pk: rule.window_days for rule in rules}
    since = now - dt.timedelta(days=max(window.values()))
    pairs: set[tuple[int, int]] = set()
    resolved = AccountRisk.objects.filter(status=RiskStatus.RESOLVED, resolved_at__gte=since)
    for account_id, reasons, resolved_at in resolved.values_list("account_id", "reasons", "resolved_at"):
        for reason in reasons or []:
            rule_id = reason.get("rule") if isinstance(reason, dict) else None
            if rule_id in window and resolved_at >= now - dt.timedelta(days=window[rule_id]):
                pairs.add((account_id, rule_id))
    return pairs


def churn_evaluate(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Flag the accounts the active rules point at. Returns counts: flagged (new flags), updated
    (open flags with new reasons), tasks created."""
    now = now or timezone.now()
    rules = list(ChurnRule.objects.filter(is_active=True).order_by("id"))
    skip = _recently_resolved(rules, now)
    found: dict[int, list[dict[str, Any]]] = {}
    task_rules: dict[int, ChurnRule] = {}
    for rule in rules:
        for account_id, value in rule_signal(rule, now=now).items():
            if (account_id, rule.pk) in skip:
                continue
            found.setdefault(account_id, []).append(_reason(rule, value, now))
            if rule.create_task and account_id not in task_rules:
                task_rules[account_id] = rule
    return _flag_many(found, source="rules", now=now, task_rules=task_rules)


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """The same reason (one per rule; without a rule, per signal and source)."""
    if a.get("rule") is not None or b.get("rule") is not None:
        return bool(a.get("rule") == b.get("rule"))
    return bool(a.get("signal") == b.get("signal"))


def _flag_many(
    found: Mapping[int, list[dict[str, Any]]],
    *,
    source: str,
    now: dt.datetime,
    task_rules: Mapping[int, ChurnRule] | None = None,
    score: Decimal | None = None,
    create_tasks: bool = True,
) -> dict[str, int]:
    counts = {"flagged": 0, "updated": 0, "tasks": 0}
    to_tell: dict[int, tuple[Any, list[tuple[Any, str]]]] = {}
    ids = sorted(found)
    for chunk in _chunks(ids):
        with transaction.atomic():
            open_flags = {
                risk.account_id: risk
                for risk in AccountRisk.objects.select_for_update().filter(
                    account_id__in=chunk, status=RiskStatus.OPEN
                )
            }
            changed: list[AccountRisk] = []
            new: list[AccountRisk] = []
            for account_id in chunk:
                reasons = found[account_id]
                risk = open_flags.get(account_id)
                if risk is not None:
                    added = [r for r in reasons if not any(_same(r, old) for old in risk.reasons)]
                    if added or (score is not None and risk.score != score):
                        risk.reasons = [*risk.reasons, *added]
                        if score is not None:
                            risk.score = score
                        changed.append(risk)
                    continue
                new.append(
                    AccountRisk(
                        account_id=account_id,
                        status=RiskStatus.OPEN,
                        reasons=list(reasons),
                        source=source,
                        score=score,
                        flagged_at=now,
                    )
                )
            if changed:
                before = {r.pk: r for r in AccountRisk.objects.filter(pk__in=[r.pk for r in changed])}
                AccountRisk.objects.bulk_update(changed, ["reasons", "score"])
                _audit(changed, ChangeAction.UPDATE, before=before)
                counts["updated"] += len(changed)
            created = _insert(new)
            _audit(created, ChangeAction.CREATE)
            counts["flagged"] += len(created)
            counts["tasks"] += _follow_up(
                created, task_rules=task_rules, now=now, create_tasks=create_tasks, to_tell=to_tell
            )
            with_task = [r for r in created if r.task_id is not None]
            if with_task:
                AccountRisk.objects.bulk_update(with_task, ["task_id"])
    for owner, flagged in to_tell.values():
        _notify_owner(owner, flagged)
    return counts


def _insert(new: list[AccountRisk]) -> list[AccountRisk]:
    """Insert the new flags in one statement; when a parallel evaluation flagged one of the
    accounts first (the one-open-flag constraint), insert them one by one, skipping those."""
    if not new:
        return []
    try:
        with transaction.atomic():
            AccountRisk.objects.bulk_create(new)
    except IntegrityError:
        created = []
        for risk in new:
            risk.pk = None
            try:
                with transaction.atomic():
                    AccountRisk.objects.bulk_create([risk])
            except IntegrityError:
                continue
            created.append(risk)
        new = created
    if any(r.pk is None for r in new):  # a database that does not return ids from bulk inserts
        ids = dict(
            AccountRisk.objects.filter(
                account_id__in=[r.account_id for r in new], status=RiskStatus.OPEN
            ).values_list("account_id", "pk")
        )
        for risk in new:
            risk.pk = ids.get(risk.account_id)
    return new


def _audit(risks: list[AccountRisk], action: str, *, before: Mapping[int, AccountRisk] | None = None) -> None:
    """The operation log of bulk flag writes (bulk writes fire no signals)."""
    from kehu.audit.services import object_changes_record_bulk

    if not risks:
        return
    rows = []
    for risk in risks:
        old = (before or {}).get(risk.pk)
        changes = {
            "reasons": [old.reasons if old is not None else None, risk.reasons],
            "score": [
                str(old.score) if old is not None and old.score is not None else None,
                str(risk.score) if risk.score is not None else None,
            ],
        }
        if action == ChangeAction.CREATE:
            changes["status"] = [None, risk.status]
        rows.append((risk.pk, str(risk), changes, ("customers.account", risk.account_id)))
    object_changes_record_bulk(model=AccountRisk, action=action, rows=rows)


def reason_text(reason: Mapping[str, Any]) -> str:
    """One reason in the reader's language."""
    signal, value = reason.get("signal"), reason.get("value")
    threshold, window = reason.get("threshold"), reason.get("window_days")
    if signal == ChurnSignal.NO_ORDER:
        return _("No order for %(days)s days (last order %(last)s)") % {"days": threshold, "last": value}
    if signal == ChurnSignal.NPS_DETRACTOR:
        return _("NPS score %(value)s (≤ %(threshold)s) in the last %(days)s days") % {
            "value": value,
            "threshold": threshold,
            "days": window,
        }
    if signal == ChurnSignal.COMPLAINTS:
        return _("%(value)s complaints (more than %(threshold)s) in the last %(days)s days") % {
            "value": value,
            "threshold": threshold,
            "days": window,
        }
    if signal == ChurnSignal.LOW_CSAT:
        return _("CSAT rating %(value)s (≤ %(threshold)s) in the last %(days)s days") % {
            "value": value,
            "threshold": threshold,
            "days": window,
        }
    text = str(reason.get("text") or reason.get("name") or signal or "")
    return text or _("Churn model")


def _follow_up(
    created: list[AccountRisk],
    *,
    task_rules: Mapping[int, ChurnRule] | None,
    now: dt.datetime,
    create_tasks: bool,
    to_tell: dict[int, tuple[Any, list[tuple[Any, str]]]],
) -> int:
    """A task for each new flag's account owner and the timeline event; the owners to tell are
    collected in `to_tell` (one notification per owner once the evaluation is done)."""
    from kehu.customers.models import Account

    if not created:
        return 0
    accounts = {
        a.pk: a
        for a in Account.objects.select_related("owner").filter(pk__in=[r.account_id for r in created])
    }
    tasks = 0
    told: dict[int, tuple[Any, list[tuple[Any, str]]]] = {}
    owners: dict[int, Any] = {}  # one instance per user: its permission caches serve all its accounts
    for risk in created:
        account = accounts.get(risk.account_id)
        if account is None:
            continue
        owner = owners.setdefault(account.owner_id, account.owner) if account.owner_id else None
        rule = (task_rules or {}).get(risk.account_id)
        language = getattr(owner, "language", "") or None
        with translation.override(language) if language else nullcontext():
            reasons = "; ".join(reason_text(r) for r in risk.reasons)
            if (
                owner is not None
                and owner.is_active
                and create_tasks
                and (rule is not None or task_rules is None)
            ):
                due_days = rule.task_due_days if rule is not None else 3
                task_id = _create_task(account, owner, reasons, now + dt.timedelta(days=due_days))
                if task_id is not None:
                    risk.task_id = task_id
                    tasks += 1
            timeline_record(
                event=EVENT_FLAGGED,
                obj=account,
                by=None,
                account_id=account.pk,
                occurred_at=now,
                data={"title": _("Flagged at risk of churning"), "body": reasons, "source": risk.source},
            )
            if owner is not None:
                told.setdefault(owner.pk, (owner, []))[1].append((account, reasons))
    for owner_id, (owner, flagged) in told.items():
        to_tell.setdefault(owner_id, (owner, []))[1].extend(flagged)
    return tasks


NOTIFY_LISTED = 20


def _notify_owner(owner: Any, flagged: list[tuple[Any, str]]) -> None:
    """One notification per owner and evaluation: the account itself when one was flagged, the
    list of them (the first 20) with a link to the at-risk list when several were."""
    from django.urls import reverse

    from kehu.notifications.services import notify

    language = getattr(owner, "language", "") or None
    with translation.override(language) if language else nullcontext():
        if len(flagged) == 1:
            account, reasons = flagged[0]
            title = _("%(account)s is at risk of churning") % {"account": account.name}
            body, url, target = reasons, reverse("customers:account_detail", args=[account.pk]), account
        else:
            title = _("%(count)d of your accounts are at risk of churning") % {"count": len(flagged)}
            lines = [f"{account.name}: {reasons}" for account, reasons in flagged[:NOTIFY_LISTED]]
            if len(flagged) > NOTIFY_LISTED:
                lines.append(_("… and %(count)d more.") % {"count": len(flagged) - NOTIFY_LISTED})
            body, url, target = "\n".join(lines), reverse("service:risk_list"), None
        notify(
            recipients=[owner],
            title=title,
            body=body,
            url=url,
            level="warning",
            kind=NOTIFY_KIND,
            target=target,
        )


def _create_task(account: Any, owner: Any, reasons: str, due_at: dt.datetime) -> int | None:
    """The follow-up task for the owner, through the activities service (as the owner: it is
    their task on their account). None when the owner may not have tasks."""
    from kehu.activities import services as activities

    try:
        with transaction.atomic():
            task = activities.task_create(
                by=owner,
                data={
                    "title": (_("Churn warning: follow up with %(account)s") % {"account": account.name})[
                        :200
                    ],
                    "description": reasons,
                    "due_at": due_at,
                    "priority": "high",
                    "account": account,
                },
            )
    except DomainError as exc:
        log.info(
            "churn follow-up task not created",
            extra={"account_id": account.pk, "code": exc.code, "fields": exc.fields},
        )
        return None
    return int(task.pk)


# --- one account (rules, or the analytics churn model) ----------------------------------------


def account_risk_flag(
    *,
    account: Any,
    reasons: list[dict[str, Any]] | list[str],
    source: str,
    score: Decimal | float | None = None,
    now: dt.datetime | None = None,
    create_task: bool = True,
) -> AccountRisk:
    """Flag one account at risk (or add the reasons to its open flag). Reasons are dicts like
    churn rules' (``{"signal": ..., "value": ..., "text": ...}``) or plain texts."""
    now = now or timezone.now()
    items: list[dict[str, Any]] = []
    for reason in reasons:
        item = dict(reason) if isinstance(reason, Mapping) else {"signal": source, "text": str(reason)}
        item.setdefault("at", now.isoformat())
        item.setdefault("source", source)
        items.append(item)
    if not items:
        raise ChurnError(_("Give at least one reason."), fields={"reasons": [_("Give at least one reason.")]})
    value = None if score is None else Decimal(str(score)).quantize(Decimal("0.0001"))
    if value is not None and not Decimal(0) <= value <= Decimal(1):
        raise ChurnError(_("The risk score is from 0 to 1."), fields={"score": [_("From 0 to 1.")]})
    _flag_many(
        {account.pk: items},
        source=str(source)[:16],
        now=now,
        task_rules=None,
        score=value,
        create_tasks=create_task,
    )
    return AccountRisk.objects.get(account_id=account.pk, status=RiskStatus.OPEN)


@transaction.atomic
def account_risk_resolve(*, risk: AccountRisk, by: Any, note: str = "") -> AccountRisk:
    """Close an open flag after the intervention, with a note."""
    from kehu.core import owned

    owned.check_action(by, AccountRisk, Action.CHANGE)
    current = AccountRisk.objects.select_for_update(of=("self",)).select_related("account").get(pk=risk.pk)
    if current.status != RiskStatus.OPEN:
        raise ChurnError(_("This flag is already resolved."), code=ChurnError.NOT_OPEN, status=409)
    note = str(note or "").strip()
    if len(note) > 500:
        raise ChurnError(_("Some fields are not valid."), fields={"note": [_("At most 500 characters.")]})
    current.status = RiskStatus.RESOLVED
    current.resolved_at = timezone.now()
    current.resolved_by = by
    current.resolution_note = note
    current.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    timeline_record(
        event=EVENT_RESOLVED,
        obj=current.account,
        by=by,
        account_id=current.account_id,
        data={"title": _("Churn warning resolved"), "body": note},
    )
    return current
