"""The import journey of issue 6 in a real browser, checked in the page and in the database: a
manager imports a GBK-encoded CSV with Chinese headers through the whole wizard (upload → what was
detected → preview → mapping → options → dry run → run → result), downloads the error file, fixes
its rows and imports it again as is, then undoes the first import.

Celery runs eagerly in tests (config/settings/test.py): a dry run, run or undo has finished by the
time the page it redirects to is shown, so no progress polling is waited for.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Account
from kehu.tags.selectors import tags_of
from kehu.users.models import User

from .conftest import login, screenshot, use_language

HEADERS = ["客户名称", "电话", "邮箱", "地址", "标签"]
GOOD = [
    ["杭州丰达机械有限公司", "0571-8888 6666", "sales@fengda.example", "文三路 90 号", "重点客户；华东"],
    ["  北京星辰科技有限公司 ", " 138 0013 8000", "info@xingchen.example", "北京市海淀区中关村大街 1 号", ""],
    ["深圳海纳电子有限公司", "+86 755 2345 6789", "hi@haina.example", "深圳市南山区科技园", ""],
]
# One problem each: an unreadable phone, an unreadable e-mail, no name.
BAD = [
    ["上海云帆物流有限公司", "12345", "ops@yunfan.example", "上海市浦东新区", ""],
    ["天津海港贸易有限公司", "022-2345 6789", "not-an-email", "天津市滨海新区", ""],
    ["", "0512-6666 8888", "nobody@suzhou.example", "苏州工业园区", ""],
]
# How the fixed rows of the error file read (same order as BAD).
FIXED = [
    ["上海云帆物流有限公司", "021-6123 4567", "ops@yunfan.example", "上海市浦东新区", ""],
    ["天津海港贸易有限公司", "022-2345 6789", "trade@haigang.example", "天津市滨海新区", ""],
    ["苏州新城精密有限公司", "0512-6666 8888", "nobody@suzhou.example", "苏州工业园区", ""],
]
FIRST_NAMES = {row[0].strip() for row in GOOD}
SECOND_NAMES = {row[0] for row in FIXED}


@pytest.fixture
def org(transactional_db: Any, settings: Any, tmp_path: Path) -> dict[str, User]:
    from kehu.demo.loader import load_demo
    from kehu.tags.services import tag_create

    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_demo(only=["org"])
    users = {u.username: u for u in User.objects.all()}
    for name in ("重点客户", "华东"):  # the administrator's tag vocabulary (a manager may not add tags)
        tag_create(by=users["admin"], data={"name": name})
    return users


def _gbk_csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADERS, *rows])
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return path


def _upload(page: Any, path: Path) -> int:
    """The list → New import → record type and file → step 1 of the new import; its id."""
    page.goto("/imports/")
    page.click("[data-new-import]")
    form = page.locator("[data-upload-form]")
    form.locator("select[name=target]").select_option("customers.account")
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/file/$"))
    match = re.search(r"/imports/(\d+)/file/$", page.url)
    assert match is not None
    return int(match.group(1))


def _run(page: Any, pk: int) -> None:
    """Dry run → run → result page of import `pk` (each step finishes eagerly)."""
    page.click("[data-start-dry-run]")
    expect(page.locator("[data-import-status]")).to_have_attribute("data-import-status", "checked")
    page.click("[data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{pk}/run/$"))
    page.click("[data-start-run]")
    expect(page.locator("[data-import-status]")).to_have_attribute("data-import-status", "done")
    page.click(f'.card-body a[href="/imports/{pk}/result/"]')  # "This import has ended. See the result"
    expect(page).to_have_url(re.compile(rf"/imports/{pk}/result/$"))


def _count(page: Any, key: str) -> Any:
    return page.locator(f'[data-count="{key}"]')


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("zh-hans", {"error": "错误", "undone": "已撤销", "why_invalid": "值无法读取或不符合规则"}),
        (
            "en",
            {
                "error": "Error",
                "undone": "Undone",
                "why_invalid": "Values that cannot be read or break a rule",
            },
        ),
    ],
)
def test_manager_imports_gbk_csv_fixes_errors_and_undoes(
    new_page: Any, org: dict[str, User], tmp_path: Path, lang: str, labels: dict[str, str]
) -> None:
    from kehu.imports.models import ImportJob

    manager = org["manager1"]
    page = new_page(lang)
    login(page, "manager1")
    use_language(page, lang)

    # 1. Upload: the GBK file and what was detected.
    source = _gbk_csv(tmp_path / "客户名单.csv", [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[2], BAD[2]])
    page.click('aside a[href="/imports/"]')
    expect(page).to_have_url(re.compile(r"/imports/$"))
    expect(page.locator("[data-new-import]")).to_be_visible()
    screenshot(page, f"imports-list-empty-{lang}")
    first_pk = _upload(page, source)
    detected = page.locator("[data-detected]")
    expect(detected.locator("[data-format]")).to_have_text("csv")
    expect(detected.locator("[data-encoding]")).to_contain_text(re.compile("GBK|GB18030"))
    expect(detected.locator("[data-header-row]")).to_have_text("1")
    screenshot(page, f"imports-1-detected-{lang}")

    # 2. Preview: the Chinese text reads as it should (no mojibake).
    page.click("[data-read-form] [data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/preview/$"))
    preview = page.locator("[data-preview]")
    for header in HEADERS:
        expect(preview.locator("thead")).to_contain_text(header)
    expect(preview).to_contain_text("杭州丰达机械有限公司")
    expect(preview).to_contain_text("nobody@suzhou.example")
    screenshot(page, f"imports-2-preview-{lang}")

    # 3. Mapping: every Chinese header was matched to its field.
    page.click("[data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/mapping/$"))
    mapping = page.locator("[data-mapping]")
    for header, field in zip(HEADERS, ("name", "phone", "email", "address", "tags"), strict=True):
        expect(mapping.locator(f'tr[data-column="{header}"] select')).to_have_value(field)
    expect(mapping.locator('tr[data-column="客户名称"]')).to_contain_text("杭州丰达机械有限公司")
    screenshot(page, f"imports-3-mapping-{lang}")
    page.click("[data-mapping-form] [data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/options/$"))

    # 4. Options: the defaults (phones read as Chinese numbers, create only).
    options = page.locator("[data-options-form]")
    expect(options.locator("[name=phone_region]")).to_have_value("CN")
    expect(options.locator("input[name=mode][value=create]")).to_be_checked()
    screenshot(page, f"imports-4-options-{lang}")
    page.click("[data-options-form] [data-next]")

    # 5. Dry run: three rows would be created, three have errors; nothing is saved yet.
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/check/$"))
    screenshot(page, f"imports-5-check-start-{lang}")
    page.click("[data-start-dry-run]")
    expect(page.locator("[data-import-status]")).to_have_attribute("data-import-status", "checked")
    screenshot(page, f"imports-5-check-done-{lang}")
    expect(_count(page, "create")).to_have_text("3")
    expect(_count(page, "errors")).to_have_text("3")
    expect(page.locator("[data-first-errors]")).to_contain_text("not-an-email")
    expect(page.locator(".page-body")).to_contain_text(labels["why_invalid"])
    expect(page.locator(".page-body")).not_to_contain_text("invalid_value")  # no raw reason codes
    assert not Account.objects.filter(name__in=FIRST_NAMES).exists()
    screenshot(page, f"imports-5-check-done-{lang}")

    # 6. Run, 7. result: the counts and the error file.
    page.click("[data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/run/$"))
    screenshot(page, f"imports-6-run-{lang}")
    page.click("[data-start-run]")
    expect(page.locator("[data-import-status]")).to_have_attribute("data-import-status", "done")
    screenshot(page, f"imports-6-run-done-{lang}")
    page.click(f'.card-body a[href="/imports/{first_pk}/result/"]')
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/result/$"))
    expect(_count(page, "created")).to_have_text("3")
    expect(_count(page, "errors")).to_have_text("3")
    screenshot(page, f"imports-7-result-{lang}")
    first = ImportJob.objects.get(pk=first_pk)
    assert first.owner_id == manager.pk
    assert set(Account.objects.filter(name__in=FIRST_NAMES).values_list("name", flat=True)) == FIRST_NAMES
    fengda = Account.objects.get(name="杭州丰达机械有限公司")
    assert (fengda.phone, fengda.email) == ("+8657188886666", "sales@fengda.example")
    assert sorted(t.name for t in tags_of(fengda)) == ["华东", "重点客户"]  # "a；b" split in two
    xingchen = Account.objects.get(name="北京星辰科技有限公司")  # trimmed
    assert xingchen.phone == "+8613800138000"

    with page.expect_download() as info:
        page.locator("[data-error-file]").first.click()
    error_path = tmp_path / info.value.suggested_filename
    info.value.save_as(error_path)
    assert error_path.name == "客户名单-errors.csv"
    rows = list(csv.reader(io.StringIO(error_path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == [labels["error"], *HEADERS]
    assert [row[1:] for row in rows[1:]] == BAD  # the original rows, as they were read
    assert all(row[0] for row in rows[1:])  # each with its problem

    # The user fixes the rows in the error file (the error column stays) and imports it as is.
    for row, fixed in zip(rows[1:], FIXED, strict=True):
        row[1:] = fixed
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    error_path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    second_pk = _upload(page, error_path)
    expect(page.locator("[data-detected] [data-encoding]")).to_contain_text("UTF-8")
    page.click("[data-read-form] [data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{second_pk}/preview/$"))
    expect(page.locator("[data-preview]")).to_contain_text("苏州新城精密有限公司")
    page.click("[data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{second_pk}/mapping/$"))
    mapping = page.locator("[data-mapping]")
    expect(mapping.locator(f'tr[data-column="{labels["error"]}"] select')).to_have_value("")
    expect(mapping.locator('tr[data-column="客户名称"] select')).to_have_value("name")
    screenshot(page, f"imports-8-reimport-mapping-{lang}")
    page.click("[data-mapping-form] [data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{second_pk}/options/$"))
    page.click("[data-options-form] [data-next]")
    expect(page).to_have_url(re.compile(rf"/imports/{second_pk}/check/$"))
    _run(page, second_pk)
    expect(_count(page, "created")).to_have_text("3")
    expect(_count(page, "errors")).to_have_text("0")
    expect(page.locator("[data-error-file]")).to_have_count(0)
    screenshot(page, f"imports-8-reimport-result-{lang}")
    assert set(Account.objects.filter(name__in=SECOND_NAMES).values_list("name", flat=True)) == SECOND_NAMES
    assert Account.objects.get(name="天津海港贸易有限公司").email == "trade@haigang.example"
    page.goto("/customers/accounts/")
    for name in FIRST_NAMES | SECOND_NAMES:
        expect(page.locator("#object-list")).to_contain_text(name)

    # Undo the first import: its records go, the second import's stay.
    page.goto("/imports/")
    imports = page.locator("[data-imports]")
    expect(imports.locator("tbody tr")).to_have_count(2)
    screenshot(page, f"imports-9-list-{lang}")
    imports.locator(f'tr[data-import-id="{first_pk}"] a').click()
    expect(page).to_have_url(re.compile(rf"/imports/{first_pk}/result/$"))
    page.click("[data-undo]")
    confirm = page.locator("#undo-modal [data-confirm-undo]")
    expect(confirm).to_be_visible()
    screenshot(page, f"imports-10-undo-confirm-{lang}")
    confirm.click()
    expect(page.locator("[data-import-status]")).to_have_attribute("data-import-status", "undone")
    expect(page.locator("[data-import-status]")).to_have_text(labels["undone"])
    expect(page.locator("[data-undo]")).to_have_count(0)
    screenshot(page, f"imports-10-undone-{lang}")
    assert not Account.objects.filter(name__in=FIRST_NAMES).exists()
    assert Account.objects.filter(name__in=SECOND_NAMES).count() == 3
    assert ImportJob.objects.get(pk=second_pk).status == "done"
    page.goto("/customers/accounts/")
    listing = page.locator("#object-list")
    for name in SECOND_NAMES:
        expect(listing).to_contain_text(name)
    for name in FIRST_NAMES:
        expect(listing).not_to_contain_text(name)
    screenshot(page, f"imports-11-accounts-after-undo-{lang}")
