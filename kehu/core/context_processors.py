from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    # The sidebar is rendered by the `sidebar_menu` tag (kehu.core.navigation.menu_html), cached.
    return {"KEHU_COMPANY_NAME": settings.KEHU_COMPANY_NAME}
