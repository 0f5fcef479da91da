"""The dry run's "why" list: every reason code the importers can give has a label, and a code
without one is shown as "Other problems", never as the raw code."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from kehu.imports import views
from kehu.imports.errors import RowCode

HERE = Path(views.__file__).parent
# `row.fail("code", …)`, `reason = "code"`, `r.action, r.reason = SKIP, "code"`
CODE = re.compile(r'(?:\.fail\(\s*|\breason = |\.reason = \w+, )"([a-z_]+)"')


def _codes_in_sources() -> set[str]:
    found: set[str] = set()
    for name in ("engine.py", "rowwise.py"):
        found |= set(CODE.findall((HERE / name).read_text(encoding="utf-8")))
    return found


def test_every_reason_code_has_a_label() -> None:
    codes = _codes_in_sources()
    assert {"invalid_value", "invalid_tag", "matches_existing", "unknown_stage", "collision"} <= codes
    row_codes = {v for k, v in vars(RowCode).items() if k.isupper()}
    assert sorted((codes | row_codes) - set(views.REASONS)) == []


def test_reasons_are_labelled_added_up_and_never_raw() -> None:
    data = {
        "reasons": {
            "invalid_value": 3,
            "invalid_tag": 1,
            RowCode.MALFORMED: 2,
            RowCode.CELL_TOO_LARGE: 1,
            "some_future_code": 4,
            "flag": True,
        }
    }
    with translation.override("en"):
        found = views._reasons(data)
    assert found == [
        ("Other problems", 4),
        ("Values that cannot be read or break a rule", 3),
        ("Rows that cannot be read", 3),
        ("Tags that do not exist and may not be created", 1),
    ]
    assert views._reasons({}) == [] and views._reasons({"reasons": ["x"]}) == []
