"""The zh-Hans catalogues are complete: every message translated, none fuzzy, placeholders intact
(``msgfmt --check-format``). Run ``makemessages`` for an app after changing its strings."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP_CATALOGUES = sorted(ROOT.glob("kehu/*/locale/zh_Hans/LC_MESSAGES/django.po"))
# Kehu's wording of messages that Django's or a library's catalogue also translates
OVERRIDES = ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
CATALOGUES = [*APP_CATALOGUES, OVERRIDES]


def test_every_app_with_strings_has_a_catalogue() -> None:
    assert len(APP_CATALOGUES) >= 10
    apps = {p.parts[-5] for p in APP_CATALOGUES}
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


_ENTRY = re.compile(r'^(?:msgctxt "(?P<ctx>(?:[^"\\]|\\.)*)"\n)?msgid "(?P<id>(?:[^"\\]|\\.)*)"\n'
                    r'msgstr "(?P<str>(?:[^"\\]|\\.)*)"$', re.M)  # fmt: skip


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


def _single_line_entries(po: Path) -> list[tuple[str | None, str, str]]:
    """(context, message, translation) of the catalogue's one-line, non-plural entries."""
    text = po.read_text(encoding="utf-8")
    return [
        (m["ctx"] and _unquote(m["ctx"]), _unquote(m["id"]), _unquote(m["str"]))
        for m in _ENTRY.finditer(text)
        if m["id"] and m["str"]
    ]


def test_no_app_translation_is_shadowed_by_another_catalogue() -> None:
    """Django looks a message up in LOCALE_PATHS first, then in the apps' catalogues in
    INSTALLED_APPS order: django.contrib and DRF come before Kehu's apps, so their wording of the
    same message ("Administration" 管理, "Add" 增加) would replace ours. Such messages belong in
    the project's override catalogue (``locale/``) with Kehu's wording."""
    from django.utils.translation import trans_real

    catalogue = trans_real.translation("zh-hans")._catalog
    shadowed = []
    for po in APP_CATALOGUES:
        for ctx, msgid, msgstr in _single_line_entries(po):
            key = f"{ctx}\x04{msgid}" if ctx else msgid
            shown = catalogue.get(key)
            if shown is not None and shown != msgstr:
                shadowed.append(f"{po.parts[-5]}: {msgid!r} shows {shown!r}, not {msgstr!r}")
    assert not shadowed, "\n".join(shadowed)
