"""Import targets and column mapping (issue 6, step 3).

* A *target* is a model label (``customers.contact``) and its importable fields
  (:class:`ImportField`). Targets live in a registry so that higher apps add theirs without this
  app importing them: ``register_import_target(label, fields)``. Customer targets are registered
  here; sales calls :func:`register_sales_targets` from its ``AppConfig.ready()``.
* :func:`get_target` appends the model's custom fields (``kehu.customfields`` definitions) at
  run time, as ``custom.<name>`` fields.
* :func:`auto_map` proposes a field for each header of a file: exact matches on the field's
  name, its labels in English and Chinese (verbose names read under ``translation.override``)
  and aliases, then a fuzzy match (RapidFuzz) above a threshold. A single-valued field is never
  given to two columns.
* :func:`group_row` and :func:`convert_values` turn one file row into typed field values with the
  transforms of :mod:`kehu.imports.transforms`, collecting errors per field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rapidfuzz import fuzz, process

from . import transforms as t

LANGUAGES = ("en", "zh-hans")
FUZZY_THRESHOLD = 80.0


class FieldKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"  # notes, descriptions: line breaks kept
    PHONE = "phone"
    EMAIL = "email"
    DATE = "date"
    DATETIME = "datetime"
    DECIMAL = "decimal"
    INTEGER = "integer"
    BOOL = "bool"
    PICKLIST = "picklist"  # one option key
    MULTI = "multi"  # several values: tags, or option keys when a picklist or choices are set
    FK = "fk"  # a related record found by `lookups` (resolved by the import service, in bulk)


@dataclass(frozen=True)
class ImportField:
    """One importable field of a target.

    `name` is what a mapping stores: a model field (``mobile``), a custom field
    (``custom.contract_no``), a detail row (``phones.home``: an extra ContactPhone of kind home) or
    a part combined into another field (``first_name`` with ``combine="name"``). `label` defaults
    to the model field's verbose name. `multiple`: several columns may feed it (values collected in
    a list). A picklist field reads its options from the customfields picklist `picklist` or, when
    that is empty, from the model field's choices."""

    name: str
    kind: FieldKind = FieldKind.TEXT
    label: Any = None
    required: bool = False
    aliases: tuple[str, ...] = ()
    multiple: bool = False
    picklist: str = ""
    related: str = ""
    lookups: tuple[str, ...] = ()
    combine: str = ""

    @property
    def is_custom(self) -> bool:
        return self.name.startswith("custom.")


@dataclass(frozen=True)
class ImportTarget:
    model_label: str
    fields: tuple[ImportField, ...]

    def get(self, name: str) -> ImportField | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, ImportField]:
        found: dict[str, ImportField] = {}
        for f in self.fields:
            found.setdefault(f.name, f)
        return found

    @property
    def model(self) -> Any:
        return apps.get_model(self.model_label)

    def label(self, item: ImportField) -> str:
        """The field's label in the active language."""
        return str(item.label if item.label is not None else self._verbose_name(item.name))

    def labels(self, item: ImportField) -> list[str]:
        """The field's label in each language (English, Chinese), without repeats."""
        source = item.label if item.label is not None else self._verbose_name(item.name)
        found: list[str] = []
        for language in LANGUAGES:
            with translation.override(language):
                text = str(source)
            if text and text not in found:
                found.append(text)
        return found

    def _verbose_name(self, name: str) -> Any:
        try:
            return self.model._meta.get_field(name).verbose_name
        except (LookupError, FieldDoesNotExist):
            return name.replace("_", " ")

    def choices(self, item: ImportField) -> list[tuple[str, Any]]:
        """The model field's choices (for picklist fields without a customfields picklist)."""
        try:
            return list(self.model._meta.get_field(item.name).choices or [])
        except (LookupError, FieldDoesNotExist):
            return []


_targets: dict[str, tuple[ImportField, ...]] = {}


def register_import_target(model_label: str, fields: Iterable[ImportField]) -> None:
    """Declare what can be imported into `model_label` ("app_label.model"). Registering again
    replaces the list (idempotent for ``ready()`` running twice in tests)."""
    items = tuple(fields)
    names = [f.name for f in items]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"{model_label}: fields declared twice: {sorted(duplicates)}")
    for f in items:
        if f.kind == FieldKind.FK and not (f.related and f.lookups):
            raise ValueError(f"{model_label}.{f.name}: a related field needs `related` and `lookups`")
    _targets[model_label.lower()] = items


def unregister_import_target(model_label: str) -> None:
    _targets.pop(model_label.lower(), None)


def registered_targets() -> list[str]:
    return sorted(_targets)


_CUSTOM_KINDS = {
    "text": FieldKind.TEXT,
    "long_text": FieldKind.LONG_TEXT,
    "url": FieldKind.TEXT,
    "integer": FieldKind.INTEGER,
    "decimal": FieldKind.DECIMAL,
    "date": FieldKind.DATE,
    "datetime": FieldKind.DATETIME,
    "boolean": FieldKind.BOOL,
    "single_choice": FieldKind.PICKLIST,
    "multi_choice": FieldKind.MULTI,
    "email": FieldKind.EMAIL,
    "phone": FieldKind.PHONE,
}


class _BothLanguages:
    """A label in two languages that reads as Chinese or English under ``translation.override``."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        language = (translation.get_language() or "").lower()
        return self.en if language.startswith("en") and self.en else (self.zh or self.en)


def custom_import_fields(definitions: Iterable[Any]) -> list[ImportField]:
    """Import fields for custom field definitions (``CustomField``: name, label, label_en, type,
    required, picklist). Pure: the caller reads the definitions."""
    found = []
    for d in definitions:
        picklist = getattr(d, "picklist", None)
        found.append(
            ImportField(
                f"custom.{d.name}",
                _CUSTOM_KINDS.get(str(d.type), FieldKind.TEXT),
                label=_BothLanguages(d.label, d.label_en),
                required=bool(d.required),
                aliases=(d.name,),
                picklist=str(picklist.code) if picklist is not None else "",
            )
        )
    return found


def get_target(model_label: str, *, custom: bool = True) -> ImportTarget:
    """The target's fields: the registered ones, then (when the model is customizable and
    `custom`) its active custom fields (one cached read, see ``custom_fields_for``)."""
    label = model_label.lower()
    if label not in _targets:
        raise LookupError(f"no import target {model_label!r}; registered: {registered_targets()}")
    fields = _targets[label]
    if custom:
        from kehu.customfields.registry import is_registered
        from kehu.customfields.selectors import custom_fields_for

        if is_registered(label):
            fields = fields + tuple(custom_import_fields(custom_fields_for(label)))
    return ImportTarget(label, fields)


# --- automatic mapping ----------------------------------------------------------------------

_HEADER_NOISE = re.compile(r"[（(\[【](?:必填|选填|可选|required|optional)[)）\]】]|[*＊]")
_HEADER_DROP = re.compile(r"[\s\-_.·/:：()（）\[\]【】#'\"]+")


@lru_cache(maxsize=4096)
def normalise_header(header: str) -> str:
    """A header for comparing: full-width and case folded, "required" marks, spaces and
    punctuation removed ("E-mail Address *" and "e-mail address" and "E_MAIL ADDRESS" agree)."""
    text = unicodedata.normalize("NFKC", header or "").casefold()
    text = _HEADER_NOISE.sub("", text)
    return _HEADER_DROP.sub("", text)


def _index(target: ImportTarget) -> dict[str, ImportField]:
    """Normalised name / label / alias -> field; the first field that claims a string keeps it."""
    index: dict[str, ImportField] = {}
    for item in target.fields:
        for text in (item.name, *target.labels(item), *item.aliases):
            key = normalise_header(str(text))
            if key:
                index.setdefault(key, item)
    return index


def auto_map(
    headers: Sequence[str], target: ImportTarget | str, *, threshold: float = FUZZY_THRESHOLD
) -> dict[str, str | None]:
    """A field name (or None) for each header, in header order.

    Exact matches on the normalised header come first, in header order; then the remaining
    headers are matched fuzzily (RapidFuzz ratio of the normalised strings, best pairs first,
    at least `threshold`). A field that is not `multiple` goes to one header only."""
    if isinstance(target, str):
        target = get_target(target)
    index = _index(target)
    result: dict[str, str | None] = dict.fromkeys(headers)
    taken: set[str] = set()

    def free(item: ImportField) -> bool:
        return item.multiple or item.name not in taken

    pending: list[str] = []
    for header in headers:
        item = index.get(normalise_header(header))
        if item is not None and free(item) and result[header] is None:
            result[header] = item.name
            taken.add(item.name)
        elif result[header] is None:
            pending.append(header)
    keys = list(index)
    scored: list[tuple[float, int, str, ImportField]] = []
    for order, header in enumerate(pending):
        norm = normalise_header(header)
        if not norm:
            continue
        for key, score, _pos in process.extract(
            norm, keys, scorer=fuzz.ratio, score_cutoff=threshold, limit=8
        ):
            scored.append((score, order, header, index[key]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    for _score, _order, header, item in scored:
        if result[header] is None and free(item):
            result[header] = item.name
            taken.add(item.name)
    return result


def mapping_problems(mapping: Mapping[str, str | None], target: ImportTarget) -> list[str]:
    """What is wrong with a (user-edited) mapping: unknown fields, a single-valued field given to
    two columns, required fields no column feeds (a name counts as fed by its parts)."""
    problems: list[str] = []
    counts: dict[str, int] = {}
    for name in mapping.values():
        if name:
            counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        item = target.get(name)
        if item is None:
            problems.append(str(_("“%(field)s” is not a field you can import.") % {"field": name}))
        elif count > 1 and not item.multiple:
            problems.append(str(_("Only one column can go to “%(field)s”.") % {"field": target.label(item)}))
    fed = set(counts) | {f.combine for f in target.fields if f.combine and f.name in counts}
    for item in target.fields:
        if item.required and item.name not in fed:
            problems.append(
                str(_("No column goes to “%(field)s”, which is required.") % {"field": target.label(item)})
            )
    return problems


# --- converting a row -----------------------------------------------------------------------


def group_row(mapping: Mapping[str, str | None], row: Mapping[str, Any]) -> dict[str, list[str]]:
    """The raw cell texts per field (several for fields fed by several columns), empty cells left out."""
    grouped: dict[str, list[str]] = {}
    for header, name in mapping.items():
        if not name:
            continue
        value = row.get(header)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        grouped.setdefault(name, []).append(value if isinstance(value, str) else str(value))
    return grouped


@dataclass
class ConvertOptions:
    """How cells are read: the file's date order, the default phone region, and a mapper per
    picklist field (built by :func:`picklist_mappers` or the caller; fields without one keep the
    trimmed text for the service to check)."""

    date_order: t.DateOrder = "YMD"
    region: str = "CN"
    picklists: dict[str, t.PicklistMapper] = field(default_factory=dict)
    separators: str = t.MULTI_SEPARATORS
    tz: dt.tzinfo | None = None  # for date-times without an offset; the current time zone if None

    def __post_init__(self) -> None:
        if self.tz is None:
            self.tz = timezone.get_current_timezone()  # once, not per cell (~8 µs)


def picklist_mappers(
    target: ImportTarget,
    *,
    policy: t.UnknownPolicy | str = t.UnknownPolicy.REJECT,
    mappings: Mapping[str, Mapping[str, str]] | None = None,
    items: Callable[[str], Iterable[Any]] | None = None,
) -> dict[str, t.PicklistMapper]:
    """A mapper for every picklist and choice field of the target: options from the model field's
    choices, or from the customfields picklist (`items(code)`, by default the cached
    ``picklist_items``, which reads the database once per process)."""
    if items is None:
        from kehu.customfields.selectors import picklist_items

        def items(code: str) -> Iterable[Any]:
            return picklist_items(code, active_only=True)

    found: dict[str, t.PicklistMapper] = {}
    for item in target.fields:
        if item.kind not in (FieldKind.PICKLIST, FieldKind.MULTI):
            continue
        mapping = dict((mappings or {}).get(item.name, {}))
        if item.picklist:
            found[item.name] = t.PicklistMapper.from_items(
                items(item.picklist), policy=policy, mapping=mapping
            )
        elif choices := target.choices(item):
            # Choices are code: a value outside them can only be mapped or refused.
            fixed = t.UnknownPolicy.MAP if mapping else t.UnknownPolicy.REJECT
            found[item.name] = t.PicklistMapper.from_choices(choices, policy=fixed, mapping=mapping)
    return found


def convert_values(
    target: ImportTarget, values: Mapping[str, list[str]], options: ConvertOptions | None = None
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Typed values and error messages per field for one row's grouped cell texts.

    Values of `multiple` fields are lists (every column's value; repeats dropped); a name is made
    from its parts (``first_name`` + ``last_name``) when no column gave it; empty cells give no
    entry. Errors are translated messages keyed by field name."""
    options = options or ConvertOptions()
    result: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    parts: dict[str, dict[str, str]] = {}
    for name, cells in values.items():
        item = target.get(name)
        if item is None:
            continue
        converted: list[Any] = []
        for cell in _cells(item, cells):
            try:
                value = _convert(item, cell, options)
            except t.TransformError as exc:
                errors.setdefault(name, []).extend(exc.messages)
                continue
            if value is None or value == []:
                continue
            if item.kind == FieldKind.MULTI:
                converted.extend(v for v in value if v not in converted)
            elif value not in converted:
                converted.append(value)
        if not converted:
            continue
        if item.combine:
            parts.setdefault(item.combine, {})[item.name] = converted[0]
        elif item.kind == FieldKind.MULTI or item.multiple:
            result[name] = converted
        else:
            result[name] = converted[0]
    for combined, pieces in parts.items():
        if combined not in result:
            name_value = t.combine_name(
                pieces.get("first_name"), pieces.get("last_name"), pieces.get("middle_name")
            )
            if name_value:
                result[combined] = name_value
    return result, errors


# Between the numbers or addresses of one cell of a further-phones/e-mails column ("Fax: a, b"
# in our exports); not "/" or spaces, which phone numbers hold.
_DETAIL_SEPARATORS = re.compile(r"\s*[,，;；、\n]\s*")


def _cells(item: ImportField, cells: list[str]) -> list[str]:
    """The cells of a field, a cell of several phone numbers or e-mails split for a field that
    takes several (``phones.fax``, ``emails.other``)."""
    if not (item.multiple and item.kind in (FieldKind.PHONE, FieldKind.EMAIL)):
        return cells
    return [part for cell in cells for part in _DETAIL_SEPARATORS.split(cell) if part.strip()]


def _convert(item: ImportField, cell: str, options: ConvertOptions) -> Any:
    kind = item.kind
    if kind == FieldKind.TEXT or kind == FieldKind.FK:
        return t.trim(cell)
    if kind == FieldKind.LONG_TEXT:
        return t.trim_text(cell)
    if kind == FieldKind.PHONE:
        return t.normalise_phone_fast(cell, options.region)
    if kind == FieldKind.EMAIL:
        return t.normalise_email_fast(cell)
    if kind == FieldKind.DATE:
        return t.parse_date(cell, options.date_order)
    if kind == FieldKind.DATETIME:
        return t.parse_datetime(cell, options.date_order, options.tz)
    if kind == FieldKind.DECIMAL:
        return t.parse_decimal(cell)
    if kind == FieldKind.INTEGER:
        number = t.parse_decimal(cell)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise t.TransformError(_("“%(value)s” is not a whole number."), "invalid_integer", cell)
        return int(number)
    if kind == FieldKind.BOOL:
        return t.parse_bool(cell)
    mapper = options.picklists.get(item.name)
    if kind == FieldKind.PICKLIST:
        return mapper(cell) if mapper else t.trim(cell)
    if kind == FieldKind.MULTI:
        return mapper.many(cell) if mapper else t.split_multi(cell, options.separators)
    raise AssertionError(kind)  # pragma: no cover


# --- targets --------------------------------------------------------------------------------

F = FieldKind
_USER = ("users.user", ("username", "email"))
_OWNER_ALIASES = (
    "负责人",
    "所有者",
    "归属人",
    "跟进人",
    "销售",
    "销售代表",
    "Owner",
    "Contact Owner",
    "Account Owner",
    "Lead Owner",
    "Record Owner",
    "Assigned To",
)
_NAME_PARTS = (
    ImportField(
        "first_name",
        label=pgettext_lazy("name part", "first name"),
        aliases=("名", "名字", "First", "Given Name"),
        combine="name",
    ),
    ImportField("middle_name", label=_("middle name"), aliases=("中间名", "Middle"), combine="name"),
    ImportField(
        "last_name",
        label=pgettext_lazy("name part", "last name"),
        aliases=("姓", "姓氏", "Last", "Family Name", "Surname"),
        combine="name",
    ),
)
_PHONE_ALIASES = (
    "电话",
    "办公电话",
    "工作电话",
    "公司电话",
    "联系电话",
    "座机",
    "固定电话",
    "固话",
    "电话号码",
    "Phone",
    "Work Phone",
    "Business Phone",
    "Office Phone",
    "Phone Number",
    "Tel",
    "Telephone",
)
_MOBILE_ALIASES = (
    "手机",
    "手机号",
    "手机号码",
    "移动电话",
    "Mobile",
    "Mobile Phone",
    "Mobile Phone Number",
    "Mobile Number",
    "Cell",
    "Cell Phone",
    "Cellphone",
)
_EMAIL_ALIASES = (
    "邮箱",
    "电子邮件",
    "电子邮箱",
    "邮件",
    "邮件地址",
    "E-mail",
    "Email",
    "Email Address",
    "E-mail Address",
    "Mail",
)
_EXTRA_CONTACT_DETAILS = (
    ImportField(
        "phones.home",
        F.PHONE,
        label=_("home phone"),
        aliases=("家庭电话", "住宅电话", "Home Phone"),
        multiple=True,
    ),
    ImportField(
        "phones.fax", F.PHONE, label=_("fax"), aliases=("传真", "Fax", "Business Fax"), multiple=True
    ),
    ImportField(
        "phones.other",
        F.PHONE,
        label=_("other phone"),
        aliases=("其他电话", "备用电话", "Other Phone"),
        multiple=True,
    ),
    ImportField(
        "emails.other",
        F.EMAIL,
        label=_("other e-mail"),
        aliases=(
            "其他邮箱",
            "其他电子邮箱",
            "备用邮箱",
            "Other Email",
            "Secondary Email",
            "Email 2",
            "E-mail 2",
        ),
        multiple=True,
    ),
)
_REGION = (
    ImportField("country", aliases=("国家", "国家/地区", "国家或地区", "Country", "Country/Region")),
    ImportField("province", aliases=("省", "省份", "State", "Province", "State/Province", "State/Region")),
    ImportField("city", aliases=("市", "城市", "City")),
    ImportField("district", aliases=("区", "区县", "县区", "District", "County")),
)
_COMMON_TAIL = (
    ImportField("wechat", aliases=("微信", "微信号", "WeChat", "WeChat ID")),
    ImportField("owner", F.FK, related=_USER[0], lookups=_USER[1], aliases=_OWNER_ALIASES),
    ImportField("tags", F.MULTI, label=_("tags"), aliases=("标签", "Tags", "Labels", "Tag")),
)
_NOTES_ALIASES = ("备注", "说明", "描述", "Notes", "Note", "Description", "Comments", "Remark", "Remarks")


# The record's id in another system: the key of upserts (every target declares it).
_EXTERNAL_ID = ImportField(
    "external_id",
    # not a bare "ID": that is the record's own id in our exports (an update needs the id of
    # the other system)
    aliases=("外部ID", "外部编号", "External ID", "External Id", "Record ID"),
)


def account_fields() -> list[ImportField]:
    """Importable fields of customers.Account."""
    return [
        ImportField(
            "name",
            required=True,
            aliases=(
                "客户名称",
                "公司名称",
                "企业名称",
                "单位名称",
                "客户",
                "公司",
                "单位",
                "Account Name",
                "Company",
                "Company Name",
                "Organization",
                "Organisation",
                "Name",
            ),
        ),
        ImportField("kind", F.PICKLIST, aliases=("客户类型", "类型", "Account Type", "Type")),
        ImportField("short_name", aliases=("简称", "客户简称", "Short Name")),
        ImportField("phone", F.PHONE, aliases=_PHONE_ALIASES),
        ImportField("phones.mobile", F.PHONE, label=_("mobile"), aliases=_MOBILE_ALIASES, multiple=True),
        *(f for f in _EXTRA_CONTACT_DETAILS if f.name != "phones.home"),
        ImportField("email", F.EMAIL, aliases=_EMAIL_ALIASES),
        ImportField("website", aliases=("网址", "网站", "官网", "主页", "Website", "Web Site", "URL")),
        ImportField("industry", F.PICKLIST, picklist="industry", aliases=("行业", "所属行业", "Industry")),
        ImportField(
            "source",
            F.PICKLIST,
            picklist="source",
            aliases=("来源", "客户来源", "Source", "Account Source", "Lead Source"),
        ),
        ImportField(
            "level",
            F.PICKLIST,
            picklist="customer_level",
            aliases=("客户等级", "客户级别", "等级", "级别", "Level", "Rating", "Tier"),
        ),
        ImportField(
            "address",
            aliases=("地址", "详细地址", "街道地址", "办公地址", "Address", "Street", "Billing Street"),
        ),
        *_REGION,
        ImportField(
            "postcode",
            label=_("postcode"),
            aliases=("邮编", "邮政编码", "Postcode", "Zip", "Zip Code", "Postal Code"),
        ),
        ImportField(
            "tax_number",
            aliases=("统一社会信用代码", "信用代码", "税号", "纳税人识别号", "Tax Number", "Tax ID", "USCC"),
        ),
        ImportField(
            "parent",
            F.FK,
            related="customers.account",
            lookups=("name",),
            aliases=("上级客户", "母公司", "上级单位", "Parent Account", "Parent"),
        ),
        ImportField(
            "lifecycle_stage", F.PICKLIST, aliases=("生命周期", "生命周期阶段", "客户阶段", "Lifecycle Stage")
        ),
        ImportField("is_active", F.BOOL, aliases=("有效", "启用", "Active")),
        ImportField("notes", F.LONG_TEXT, aliases=_NOTES_ALIASES, multiple=True),
        _EXTERNAL_ID,
        *_COMMON_TAIL,
    ]


def contact_fields() -> list[ImportField]:
    """Importable fields of customers.Contact (its account found by name)."""
    return [
        ImportField(
            "name",
            required=True,
            aliases=(
                "姓名",
                "联系人",
                "联系人姓名",
                "名称",
                "Full Name",
                "Name",
                "Contact Name",
                "Display Name",
            ),
        ),
        *_NAME_PARTS,
        ImportField(
            "account",
            F.FK,
            required=True,
            related="customers.account",
            lookups=("name",),
            aliases=(
                "公司",
                "公司名称",
                "单位",
                "单位名称",
                "客户",
                "客户名称",
                "所属客户",
                "所属公司",
                "Company",
                "Company Name",
                "Account",
                "Account Name",
                "Organization",
                "Organization Name",
                "Organisation",
            ),
        ),
        ImportField("title", aliases=("职位", "职务", "头衔", "岗位", "Job Title", "Title", "Position")),
        ImportField("gender", F.PICKLIST, aliases=("性别", "Gender", "Sex")),
        ImportField(
            "birthday", F.DATE, aliases=("生日", "出生日期", "Birthday", "Birthdate", "Date of Birth", "DOB")
        ),
        ImportField("phone", F.PHONE, aliases=_PHONE_ALIASES),
        ImportField("mobile", F.PHONE, aliases=_MOBILE_ALIASES),
        *_EXTRA_CONTACT_DETAILS,
        ImportField("email", F.EMAIL, aliases=_EMAIL_ALIASES),
        ImportField("is_primary", F.BOOL, aliases=("主联系人", "首要联系人", "Primary Contact", "Primary")),
        ImportField("preferred_channel", F.PICKLIST, aliases=("首选联系方式", "Preferred Channel")),
        ImportField("do_not_call", F.BOOL, aliases=("勿电", "禁止致电", "Do Not Call")),
        ImportField(
            "do_not_email", F.BOOL, aliases=("勿发邮件", "禁止邮件", "Email Opt Out", "Do Not Email")
        ),
        ImportField("do_not_sms", F.BOOL, aliases=("勿发短信", "Do Not SMS", "SMS Opt Out")),
        ImportField("do_not_wechat", F.BOOL, aliases=("勿微信", "Do Not WeChat")),
        ImportField("do_not_visit", F.BOOL, aliases=("勿拜访", "Do Not Visit")),
        ImportField("notes", F.LONG_TEXT, aliases=_NOTES_ALIASES, multiple=True),
        _EXTERNAL_ID,
        *_COMMON_TAIL,
    ]


def lead_fields() -> list[ImportField]:
    """Importable fields of sales.Lead (string names only: this app never imports sales)."""
    return [
        ImportField(
            "name",
            required=True,
            # 名称: the Name column of our lead export
            aliases=("姓名", "联系人", "线索名称", "名称", "Full Name", "Name", "Lead Name"),
        ),
        _EXTERNAL_ID,
        *_NAME_PARTS,
        ImportField(
            "company",
            aliases=(
                "公司",
                "公司名称",
                "单位",
                "单位名称",
                "企业名称",
                "Company",
                "Company Name",
                "Organization",
                "Account Name",
            ),
        ),
        ImportField("title", aliases=("职位", "职务", "头衔", "Job Title", "Title", "Position")),
        ImportField("phone", F.PHONE, aliases=_PHONE_ALIASES),
        ImportField("mobile", F.PHONE, aliases=_MOBILE_ALIASES),
        ImportField("email", F.EMAIL, aliases=_EMAIL_ALIASES),
        ImportField("website", aliases=("网址", "网站", "官网", "Website", "Web Site", "URL")),
        ImportField(
            "address", aliases=("地址", "详细地址", "街道地址", "Address", "Street", "Street Address")
        ),
        *_REGION,
        ImportField("tax_number", aliases=("统一社会信用代码", "信用代码", "税号", "Tax Number", "Tax ID")),
        ImportField(
            "source", F.PICKLIST, picklist="source", aliases=("来源", "线索来源", "Source", "Lead Source")
        ),
        ImportField(
            "product_interest",
            F.PICKLIST,
            picklist="product_interest",
            aliases=("意向产品", "感兴趣的产品", "Product Interest"),
        ),
        ImportField("campaign", aliases=("活动", "市场活动", "Campaign")),
        ImportField("status", F.PICKLIST, aliases=("状态", "线索状态", "Status", "Lead Status")),
        ImportField(
            "unqualified_reason",
            F.PICKLIST,
            picklist="lead_unqualified_reason",
            aliases=("无效原因", "Unqualified Reason"),
        ),
        ImportField("description", F.LONG_TEXT, aliases=_NOTES_ALIASES, multiple=True),
        *_COMMON_TAIL,
    ]


def opportunity_fields() -> list[ImportField]:
    """Importable fields of sales.Opportunity (string names only)."""
    return [
        ImportField(
            "name",
            required=True,
            aliases=("商机名称", "机会名称", "名称", "Opportunity Name", "Deal Name", "Name"),
        ),
        _EXTERNAL_ID,
        ImportField(
            "account",
            F.FK,
            required=True,
            related="customers.account",
            lookups=("name",),
            aliases=(
                "客户",
                "客户名称",
                "公司",
                "公司名称",
                "Account",
                "Account Name",
                "Company",
                "Company Name",
            ),
        ),
        ImportField(
            "contact",
            F.FK,
            label=_("primary contact"),
            related="customers.contact",
            lookups=("external_id", "email", "name"),
            aliases=("联系人", "主要联系人", "Contact", "Contact Name", "Primary Contact"),
        ),
        ImportField(
            "amount", F.DECIMAL, aliases=("金额", "商机金额", "预计金额", "Amount", "Deal Amount", "Value")
        ),
        ImportField("currency", aliases=("币种", "货币", "Currency", "Opportunity Currency")),
        ImportField(
            "expected_close_date",
            F.DATE,
            aliases=("预计成交日期", "预计结单日期", "Close Date", "Expected Close Date"),
        ),
        ImportField(
            "pipeline",
            F.FK,
            related="sales.pipeline",
            lookups=("name",),
            aliases=("销售流程", "管道", "Pipeline"),
        ),
        ImportField(
            "stage",
            F.FK,
            related="sales.stage",
            lookups=("name",),
            aliases=("阶段", "销售阶段", "Stage", "Deal Stage"),
        ),
        ImportField(
            "probability", F.INTEGER, aliases=("赢率", "概率", "成交概率", "Probability", "Probability (%)")
        ),
        ImportField("source", F.PICKLIST, picklist="source", aliases=("来源", "Source", "Lead Source")),
        ImportField("campaign", aliases=("活动", "市场活动", "Campaign")),
        ImportField("competitors", aliases=("竞争对手", "Competitors")),
        ImportField("next_step", aliases=("下一步", "Next Step")),
        ImportField(
            "loss_reason", F.PICKLIST, picklist="opportunity_loss_reason", aliases=("输单原因", "Loss Reason")
        ),
        ImportField("description", F.LONG_TEXT, aliases=_NOTES_ALIASES, multiple=True),
        *(f for f in _COMMON_TAIL if f.name != "wechat"),  # a deal has no WeChat ID
    ]


def sales_targets() -> dict[str, list[ImportField]]:
    """The sales targets, for ``kehu.sales.apps`` to register (see :func:`register_sales_targets`)."""
    return {"sales.lead": lead_fields(), "sales.opportunity": opportunity_fields()}


def register_sales_targets() -> None:
    """Called by ``kehu.sales.apps.SalesConfig.ready()``."""
    for label, fields in sales_targets().items():
        register_import_target(label, fields)


register_import_target("customers.account", account_fields())
register_import_target("customers.contact", contact_fields())
