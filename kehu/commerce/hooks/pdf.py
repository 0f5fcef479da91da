"""Registrations of the quote PDF area, called from `CommerceConfig.ready()`: the company profile's
permissions, audit and settings menu entry, the e-mail job kind and the timeline events."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from kehu.audit import events
    from kehu.audit import registry as audit_registry
    from kehu.core import navigation, permissions
    from kehu.core.choices import Action
    from kehu.core.jobkinds import register_job_kind

    from ..models import CompanyProfile
    from ..services.sending import EVENT_EMAIL_FAILED, EVENT_EMAILED, JOB_KIND

    permissions.register(CompanyProfile, actions=(Action.VIEW, Action.CHANGE), group=_("Quote-to-cash"))
    audit_registry.register(CompanyProfile)
    navigation.register_item(
        "settings",
        navigation.MenuItem(
            _("Company profile"),
            "commerce:company_profile",
            icon="building",
            requires=("commerce.companyprofile", "change"),
        ),
    )
    register_job_kind(JOB_KIND, _("Quote e-mail"))
    events.register_event(EVENT_EMAILED, _("Quote e-mailed"), icon="mail-forward")
    events.register_event(EVENT_EMAIL_FAILED, _("Quote e-mail failed"), icon="mail-off")
