"""Writes of the company profile (the quote PDF's letterhead): fields and the logo."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.permissions import can

from ..models import CompanyProfile
from ..selectors.company import company_profile

PROFILE_FIELDS = (
    "name",
    "name_en",
    "address",
    "address_en",
    "phone",
    "email",
    "website",
    "tax_id",
    "bank_name",
    "bank_account",
    "default_terms",
)
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg"}


class CompanyProfileError(DomainError):
    code = "company_profile_invalid"


def _logo_error(message: str) -> CompanyProfileError:
    return CompanyProfileError(message, fields={"logo": [message]})


def check_logo(upload: UploadedFile) -> str:
    """The logo's file extension ("png"/"jpg") when it is a PNG or JPEG image within the limits;
    otherwise a field error on ``logo``."""
    from PIL import Image, UnidentifiedImageError

    if upload.size is None or upload.size > LOGO_MAX_BYTES:
        raise _logo_error(_("The logo may be at most 1 MB."))
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _logo_error(_("Upload the logo as a PNG or JPEG image.")) from None
    if kind not in LOGO_FORMATS:
        raise _logo_error(_("Upload the logo as a PNG or JPEG image."))
    if max(width, height) > LOGO_MAX_PIXELS:
        raise _logo_error(_("The logo may be at most 4000 pixels wide and high."))
    return LOGO_FORMATS[kind]


def _check_permission(by: Any) -> None:
    if not can(by, CompanyProfile, Action.CHANGE):
        raise PermissionDeniedError(_("You may not change the company profile."))


@transaction.atomic
def company_profile_update(
    *,
    by: Any,
    data: Mapping[str, Any],
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> CompanyProfile:
    """Change the letterhead: the fields in `data` (others keep their values), a new logo
    (PNG/JPEG, at most 1 MB, stored through Django storage) or none."""
    _check_permission(by)
    profile = CompanyProfile.objects.select_for_update().get(pk=company_profile().pk)
    for name in PROFILE_FIELDS:
        if name in data:
            value = data[name]
            setattr(profile, name, "" if value is None else str(value).strip())
    errors: dict[str, list[str]] = {}
    for name in PROFILE_FIELDS:
        limit = getattr(CompanyProfile._meta.get_field(name), "max_length", None)
        if limit and len(getattr(profile, name)) > limit:
            errors[name] = [_("At most %(limit)d characters.") % {"limit": limit}]
    if errors:
        raise CompanyProfileError(_("Some fields are not valid."), fields=errors)
    old_logo = profile.logo.name if profile.logo else ""
    if logo is not None:
        extension = check_logo(logo)
        profile.logo.save(f"logo.{extension}", logo, save=False)
    elif remove_logo:
        profile.logo = None
    profile.save()
    if old_logo and old_logo != (profile.logo.name if profile.logo else ""):
        transaction.on_commit(lambda: profile.logo.storage.delete(old_logo))
    return profile
