"""The zh-Hans catalogues are complete: every message translated, none fuzzy, placeholders intact
(``msgfmt --check-format``). Run ``makemessages`` for an app after changing its strings."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(ROOT.glob("kehu/*/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_every_app_with_strings_has_a_catalogue() -> None:
    assert len(CATALOGUES) >= 10
    apps = {p.parts[-5] for p in CATALOGUES}
    assert {"core", "customers", "sales", "imports", "dedup"} <= apps


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_catalogue_is_complete(po: Path) -> None:
    done = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d+ translated messages?\.\s*", done.stderr), done.stderr
