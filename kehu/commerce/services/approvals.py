"""Approval rules (审批规则) and who approves a quote.

* An administrator defines rules: a condition (discount above X %, total above Y in the company
  currency, a price below cost) and an approver (the owner's manager, or anyone holding a role).
* `rules_met(quote)` lists the active rules a quote meets, with why as data (the rule kind and the
  values compared), which each reader sees in their own language (`approval_reason_text`).
  How each condition reads the quote:

  - **discount above X %**: the largest *line* discount of the quote, as a percentage of that
    line's amount before discount (``line.discount / line.gross × 100``, so a discount typed as
    an amount counts too). One heavily discounted line is enough to need approval, even when the
    other lines bring the quote's overall discount below X.
  - **total above Y**: the quote's total (tax included) in the company currency
    (``total_company``, at the rate of the quote date) strictly above Y.
  - **below cost**: a line whose net unit price (after discount, before tax), converted to the
    company currency, is below the product's cost (``unit_cost``, snapshot when the line was
    priced, in the company currency).
* `approver_for(owner)`: the manager of the owner's department; when the owner manages it (or it
  has no manager) the department above, and so on up the tree. Nobody: a clear error.

The quote's status moves (submit, approve, reject, recall) are in `services.quotes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kehu.catalog.selectors import company_currency_code, currency_places, rate_on
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError

from ..choices import ApprovalRuleKind, ApproverKind
from ..models import ApprovalRule, Quote
from ..models.quotes import approval_reason_text

HUNDRED = Decimal(100)
RULE_FIELDS = ("name", "kind", "threshold", "approver_kind", "role", "position", "is_active")


class QuoteError(DomainError):
    """Bad input on a quote or its lines (field messages)."""

    code = "quote_invalid"


class QuoteStateError(ConflictError):
    """The quote's status does not allow this (edit an approved quote, approve a draft...)."""

    code = "quote_state"


class ApprovalRuleError(DomainError):
    code = "approval_rule_invalid"


# --- who approves ---------------------------------------------------------------------------------


def approver_for(owner: Any) -> Any:
    """The user who approves for `owner` (the manager up the department tree), or raise."""
    from kehu.users.models import Department

    department_id = getattr(owner, "department_id", None)
    seen: set[int] = set()
    while department_id is not None and department_id not in seen:
        seen.add(department_id)
        department = Department.objects.select_related("manager").filter(pk=department_id).first()
        if department is None:
            break
        manager = department.manager
        if manager is not None and manager.pk != owner.pk and manager.is_active:
            return manager
        department_id = department.parent_id
    raise QuoteError(
        _(
            "Nobody can approve this quote: neither the owner's department nor any department "
            "above it has a manager other than the owner. Ask an administrator to set one."
        ),
        code="no_approver",
    )


def role_has_users(role: Any) -> bool:
    return bool(role.users.filter(is_active=True).exists())


# --- which rules a quote meets --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleHit:
    """A rule the quote meets, and why as data (see `approval_reason_text`)."""

    rule: ApprovalRule
    data: dict[str, Any]

    @property
    def reason(self) -> str:
        """Why, in the active language."""
        return approval_reason_text(self.data)


def max_line_discount_percent(quote: Quote) -> Decimal:
    """The largest line discount, in % of the line's amount before discount (0 without lines)."""
    best = Decimal(0)
    for gross, discount in quote.lines.values_list("gross", "discount"):
        if gross and discount:
            best = max(best, discount * HUNDRED / gross)
    return best.quantize(Decimal("0.01"))


def _company_rate(quote: Quote) -> Decimal:
    rate = rate_on(quote.currency, quote.quote_date)
    if rate is None:
        raise QuoteError(
            _(
                "There is no exchange rate for %(currency)s on %(date)s, so the approval rules "
                "cannot be checked. Ask an administrator to enter one."
            )
            % {"currency": quote.currency, "date": quote.quote_date.isoformat()},
            code="no_exchange_rate",
        )
    return rate


def below_cost_lines(quote: Quote) -> list[str]:
    """Descriptions of the lines priced below cost (net unit price in company currency < cost)."""
    rows = list(
        quote.lines.filter(unit_cost__isnull=False).values_list("description", "net", "quantity", "unit_cost")
    )
    if not rows:
        return []
    rate = _company_rate(quote)
    return [desc for desc, net, qty, cost in rows if qty and cost is not None and net * rate / qty < cost]


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def rules_met(quote: Quote) -> list[RuleHit]:
    """The active rules `quote` meets, in rule order, each with why as data: the rule kind and the
    values compared (numbers as text), e.g. ``{"rule": "discount_above", "limit": "10", "actual":
    "15"}``; total above adds the company ``currency`` (the total to its decimal places); below
    cost lists the ``lines`` priced below cost."""
    hits: list[RuleHit] = []
    rules = list(
        ApprovalRule.objects.filter(is_active=True).select_related("role").order_by("position", "id")
    )
    for rule in rules:
        if rule.kind == ApprovalRuleKind.DISCOUNT_ABOVE and rule.threshold is not None:
            percent = max_line_discount_percent(quote)
            if percent > rule.threshold:
                hits.append(
                    RuleHit(
                        rule,
                        {"rule": str(rule.kind), "limit": _fmt(rule.threshold), "actual": _fmt(percent)},
                    )
                )
        elif rule.kind == ApprovalRuleKind.TOTAL_ABOVE and rule.threshold is not None:
            total = quote.total_company
            if total is None:
                total = quote.total * _company_rate(quote)
            if total > rule.threshold:
                code = company_currency_code()
                places = Decimal(1).scaleb(-currency_places(code))
                hits.append(
                    RuleHit(
                        rule,
                        {
                            "rule": str(rule.kind),
                            "limit": _fmt(rule.threshold),
                            "actual": f"{total.quantize(places, rounding=ROUND_HALF_UP):f}",
                            "currency": code,
                        },
                    )
                )
        elif rule.kind == ApprovalRuleKind.BELOW_COST:
            lines = below_cost_lines(quote)
            if lines:
                hits.append(RuleHit(rule, {"rule": str(rule.kind), "lines": lines}))
    return hits


# --- rules: create, change, delete ----------------------------------------------------------------


def _rule_values(data: Mapping[str, Any], current: ApprovalRule | None) -> dict[str, Any]:
    unknown = set(data) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = {name: getattr(current, name) for name in RULE_FIELDS} if current else {}
    values.update(data)
    errors: dict[str, list[str]] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = [_("This field is required.")]
    values["name"] = name
    kind = values.get("kind")
    if kind not in ApprovalRuleKind.values:
        errors["kind"] = [_("Choose a condition.")]
    threshold = values.get("threshold")
    if threshold in ("", None):
        threshold = None
    else:
        try:
            threshold = Decimal(str(threshold))
        except (InvalidOperation, ValueError):
            threshold = None
            errors["threshold"] = [_("Enter a number.")]
    if kind == ApprovalRuleKind.BELOW_COST:
        threshold = None
    elif "threshold" not in errors:
        if threshold is None or not threshold.is_finite():
            errors["threshold"] = [_("This condition needs a threshold.")]
        elif threshold < 0:
            errors["threshold"] = [_("The threshold may not be negative.")]
        elif kind == ApprovalRuleKind.DISCOUNT_ABOVE and threshold > HUNDRED:
            errors["threshold"] = [_("A discount threshold is between 0 and 100 %.")]
    values["threshold"] = threshold
    approver_kind = values.get("approver_kind") or ApproverKind.MANAGER
    if approver_kind not in ApproverKind.values:
        errors["approver_kind"] = [_("Choose who approves.")]
    values["approver_kind"] = approver_kind
    if approver_kind == ApproverKind.ROLE:
        if values.get("role") is None:
            errors["role"] = [_("Choose the role whose members approve.")]
    else:
        values["role"] = None
    values["position"] = int(values.get("position") or 0)
    values["is_active"] = bool(values.get("is_active", True))
    if errors:
        raise ApprovalRuleError(_("Some fields are not valid."), fields=errors)
    return values


@transaction.atomic
def approval_rule_create(*, by: Any, data: Mapping[str, Any]) -> ApprovalRule:
    owned.check_action(by, ApprovalRule, Action.ADD)
    values = _rule_values(data, None)
    return ApprovalRule.objects.create(**values)


@transaction.atomic
def approval_rule_update(*, rule: ApprovalRule, by: Any, data: Mapping[str, Any]) -> ApprovalRule:
    owned.check_action(by, ApprovalRule, Action.CHANGE)
    current = ApprovalRule.objects.select_for_update().get(pk=rule.pk)
    values = _rule_values(data, current)
    for name, value in values.items():
        setattr(current, name, value)
    current.save()
    return current


@transaction.atomic
def approval_rule_delete(*, rule: ApprovalRule, by: Any) -> None:
    """Delete a rule; approvals it created keep their reason data (the rule link is cleared)."""
    owned.check_action(by, ApprovalRule, Action.DELETE)
    ApprovalRule.objects.filter(pk=rule.pk).delete()
