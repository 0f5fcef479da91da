"""Documentation that must stay in sync with the code."""

from __future__ import annotations

import re

from .conftest import ROOT

SETTINGS_FILES = [*sorted((ROOT / "config" / "settings").glob("*.py")), ROOT / "config" / "gunicorn.conf.py"]
ENV_READ = re.compile(
    r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']|os\.environ\.get\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def variables_read() -> set[str]:
    found: set[str] = set()
    for path in SETTINGS_FILES:
        for match in ENV_READ.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return found


def test_every_environment_variable_is_documented() -> None:
    names = variables_read()
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "ALLOWED_HOSTS", "EMAIL_URL"} <= names
    documented = set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M)
    )
    assert sorted(names - documented) == [], "add these to docs/configuration.md"
    assert sorted(documented - names - {"PORT"}) == [], "docs/configuration.md lists variables nobody reads"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```", 2)[1]
    assert [line for line in first_block.splitlines() if line.strip() and not line.startswith("sh")] == [
        "make run",
        "make test",
    ]
