"""Browser tests: Playwright (Python) driving Debian's chromium against pytest-django's live server.

Playwright's own browser download does not work here; we launch /usr/bin/chromium. ORM calls inside
a sync Playwright test need DJANGO_ALLOW_ASYNC_UNSAFE=true (the Makefile sets it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(os.environ.get("KEHU_SCREENSHOTS", Path(__file__).resolve().parents[2] / "screenshots"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise RuntimeError("Debian's chromium is required for browser tests: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """Factory: a fresh browser context (own cookies) per call, in a given language."""
    contexts: list[Any] = []

    def make(lang: str = "en", viewport: dict[str, int] | None = None) -> Any:
        ctx = browser.new_context(
            locale="zh-CN" if lang.startswith("zh") else "en-US",
            extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9" if lang.startswith("zh") else "en"},
            viewport=viewport or {"width": 1360, "height": 900},
            base_url=live_server.url,
        )
        ctx.set_default_timeout(15000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def login(page: Any, username: str, password: str = "demo1234") -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("form [type=submit]")


def use_language(page: Any, lang: str) -> None:
    """Switch the UI language with the top-bar switch (it also saves the user's preference)."""
    if page.locator("html").get_attribute("lang") == lang:
        return
    with page.expect_navigation():
        page.select_option("#kehu-language-form select", lang)


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for_record(page: Any, record: Any, ready: Callable[[Any], bool], tries: int = 50) -> None:
    """Reload `record` until `ready(record)` (at most `tries` × 200 ms). The live server writes in
    its own thread; SQLite's shared in-memory test database answers "table is locked" at once while
    it writes instead of waiting, so such a read is tried again."""
    for _ in range(tries):
        try:
            record.refresh_from_db()
        except OperationalError:
            pass
        else:
            if ready(record):
                return
        page.wait_for_timeout(200)
