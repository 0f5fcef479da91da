"""Hooks of the approvals area: timeline events, notification kinds, menu items, jobs."""

from __future__ import annotations

from typing import Any


def _reason_text(reason: Any) -> str:
    """One approval reason in the active language: reason data (`approval_reason_text`), or the
    sentence events stored before reasons were data."""
    from ..models.quotes import approval_reason_text

    fallback = reason if isinstance(reason, str) else ""
    return approval_reason_text(reason, fallback=fallback)


def submitted_text(entry: Any) -> str | None:
    """ "Quote submitted for approval": why, in the reader's language ("Discount 15 % is above
    10 %; ..."), from the reasons the event keeps."""
    reasons = entry.data.get("reasons")
    if not isinstance(reasons, list):
        return None
    return "; ".join(text for text in (_reason_text(r) for r in reasons) if text) or None


def step_approved_text(entry: Any) -> str | None:
    """ "Quote approval step approved": the step's reason in the reader's language, then the
    approver's comment (as written) on its own line."""
    reason = _reason_text(entry.data.get("reason"))
    comment = str(entry.data.get("comment") or "").strip()
    return "\n".join(part for part in (reason, comment) if part) or None


def register() -> None:
    """Register this area's hooks (called from CommerceConfig.ready)."""
    from kehu.audit import events

    from ..services import quotes as services

    events.register_renderer(services.EVENT_SUBMITTED, submitted_text)
    events.register_renderer(services.EVENT_STEP_APPROVED, step_approved_text)
