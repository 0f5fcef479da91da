from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    """Job files of each test go to a temporary directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
