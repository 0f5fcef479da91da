"""Choices of the dedup app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyKind(models.TextChoices):
    """What a match key was made from (strongest first)."""

    TAX_NUMBER = "tax_number", _("unified social credit code")
    PHONE = "phone", _("phone")
    EMAIL = "email", _("e-mail")
    COMPANY = "company", _("company name")
    PERSON_NAME = "person_name", _("person name")
    PINYIN = "pinyin", _("name in pinyin")


class PolicyMode(models.TextChoices):
    """What a collision does to a create or edit: warn (the user may save anyway) or block."""

    WARN = "warn", _("Warn (the user may save anyway)")
    BLOCK = "block", _("Block (the record cannot be saved)")


class MatchLevel(models.TextChoices):
    """How sure a duplicate is: above the rule's "possible" or its "certain" score."""

    POSSIBLE = "possible", _("Possible duplicate")
    CERTAIN = "certain", _("Certain duplicate")


class GroupStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not duplicates")
    CLOSED = "closed", _("Closed (fewer than two records left)")
