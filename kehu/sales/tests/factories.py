"""Factories of the sales app (shared by every area: append yours below).

Like the customers factories they do not call the services (those check the acting user's
permissions, which a test sets up separately); they apply the same data rules: phones and e-mails
normalised, the department taken from the owner, `created_by` the owner. Saves are single-row, so
the audit recorder sees them like any other write.
"""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from kehu.users.tests.factories import UserFactory

from ..models import ConversionFieldMap, Lead
from ..services.leads import _normalised

# --- leads ------------------------------------------------------------------------------------


class LeadFactory(factory.django.DjangoModelFactory[Lead]):
    class Meta:
        model = Lead

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"线索联系人{n}")
    company = factory.Sequence(lambda n: f"线索公司{n}有限公司")

    @classmethod
    def _create(cls, model_class: type[Lead], *args: Any, **kwargs: Any) -> Lead:
        owner = kwargs.pop("owner")
        values = _normalised(kwargs)
        values.setdefault("created_by", owner)
        lead = model_class(
            **values,
            owner=owner,
            department_id=getattr(owner, "department_id", None),
            owned_since=timezone.now() if owner is not None else None,
        )
        lead.save()
        return lead


class ConversionFieldMapFactory(factory.django.DjangoModelFactory[ConversionFieldMap]):
    class Meta:
        model = ConversionFieldMap

    lead_field = "budget"
    target_model = "customers.account"
    target_field = "budget"
