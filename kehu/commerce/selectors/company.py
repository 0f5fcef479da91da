"""The company profile (letterhead) read by the quote PDF, e-mails and the settings page."""

from __future__ import annotations

from ..models import CompanyProfile


def company_profile() -> CompanyProfile:
    """The one company profile row (created empty on first use)."""
    profile, _created = CompanyProfile.objects.get_or_create(pk=CompanyProfile.SINGLETON_PK)
    return profile
