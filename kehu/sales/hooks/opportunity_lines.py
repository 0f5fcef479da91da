"""Hooks of the opportunity lines (products on an opportunity): their changes are audited on the
opportunity's History, and their timeline events have names."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry

    from ..models import OpportunityLine
    from ..services.opportunity_lines import LINE_ADDED_EVENT, LINE_CHANGED_EVENT, LINE_REMOVED_EVENT

    audit_registry.register(OpportunityLine, parent="opportunity")
    events.register_event(LINE_ADDED_EVENT, _("Product added to an opportunity"), icon="package")
    events.register_event(LINE_CHANGED_EVENT, _("Opportunity product changed"), icon="package")
    events.register_event(LINE_REMOVED_EVENT, _("Product removed from an opportunity"), icon="package")
