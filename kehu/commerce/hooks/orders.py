"""Hooks of the orders area: timeline events and the orders' timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Register this area's hooks (called from CommerceConfig.ready)."""
    from kehu.audit import events
    from kehu.audit import timeline as audit_timeline

    from ..services import orders as services

    events.register_event(services.CREATED_EVENT, _("Order created"), icon="shopping-cart")
    events.register_event(services.STATUS_EVENT, _("Order status changed"), icon="truck-delivery")
    audit_timeline.register_timeline_model("commerce.order")
