from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .navigation import menu_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "KEHU_COMPANY_NAME": settings.KEHU_COMPANY_NAME,
        "kehu_menu": menu_for(user) if user is not None and user.is_authenticated else [],
    }
