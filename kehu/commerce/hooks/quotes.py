"""What the quotes area registers in the lower apps (timeline events, notification kinds, the
daily expiry task); `CommerceConfig.ready` calls `register()`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def _new_quote_url(param: str) -> Any:
    def url(request: HttpRequest, obj: Any) -> str | None:
        from kehu.core.choices import Action
        from kehu.core.permissions import can

        from ..models import Quote

        if not can(request.user, Quote, Action.ADD):
            return None
        return f"{reverse('commerce:quote_add')}?{param}={obj.pk}"

    return url


def register() -> None:
    from kehu.audit import events
    from kehu.core import detail
    from kehu.notifications.kinds import Channel, register_kind

    from .. import tasks_quotes  # noqa: F401  (registers the Celery task)
    from ..services import quotes as services

    for code, label, icon in (
        (services.EVENT_CREATED, _("Quote created"), "file-dollar"),
        (services.EVENT_SUBMITTED, _("Quote submitted for approval"), "send"),
        (services.EVENT_STEP_APPROVED, _("Quote approval step approved"), "check"),
        (services.EVENT_APPROVED, _("Quote approved"), "checks"),
        (services.EVENT_REJECTED, _("Quote rejected by an approver"), "x"),
        (services.EVENT_RECALLED, _("Quote recalled"), "arrow-back-up"),
        (services.EVENT_SENT, _("Quote sent"), "mail-forward"),
        (services.EVENT_ACCEPTED, _("Quote accepted by the customer"), "thumb-up"),
        (services.EVENT_DECLINED, _("Quote declined by the customer"), "thumb-down"),
        (services.EVENT_EXPIRED, _("Quote expired"), "clock-x"),
        (services.EVENT_REVISED, _("Quote revised"), "versions"),
        (services.EVENT_DELETED, _("Quote deleted"), "trash"),
    ):
        events.register_event(code, label, icon=icon, group="quote")

    register_kind(
        services.KIND_APPROVAL_REQUEST,
        _("Quotes waiting for your approval"),
        default_channels=(Channel.IN_APP, Channel.EMAIL),
        description=_("A quote you approve was submitted."),
        order=50,
    )
    register_kind(
        services.KIND_APPROVAL_DECISION,
        _("Approval decisions on your quotes"),
        description=_("A quote you own was approved or rejected."),
        order=51,
    )

    # "New quote" on the account's and the opportunity's page (the opportunity's lines are copied).
    for model_label, param in (("customers.account", "account"), ("sales.opportunity", "opportunity")):
        detail.register_action(
            model_label,
            detail.ObjectAction(
                "new_quote", _("New quote"), _new_quote_url(param), icon="file-dollar", order=60
            ),
        )
