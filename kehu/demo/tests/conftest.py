from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _small_demo(settings: Any) -> None:
    """The demo company at 2 % (about 40 generated accounts): fast tests, same code paths."""
    settings.KEHU_DEMO_SCALE = 0.02
