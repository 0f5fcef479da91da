"""Importing products, price-list items and exchange rates (issue 7) through the import framework.

The imports app sits below the catalog, so the catalog hands its targets over from
``CatalogConfig.ready()`` (:func:`register`): the importable fields (`register_import_target`,
auto-mapped from English and Chinese headers) and a handler (`kehu.imports.registry`) with the
preparer, the writer and the undo of this module.

Rows go one by one through the catalog's services (`product_create` / `product_update`,
`price_set`, `exchange_rate_set`), each in a savepoint of its batch's transaction: the same checks
and translated messages as the forms and API, the change log written by the recorder under the
import's request id (``job.audit_tag``), which undo reads. A dry run writes each batch the same way
and rolls it back.

Keys (an upsert's "same record"): a product's code (case-insensitive), a price's (price list,
product, minimum quantity), a rate's (currency, date). A row repeating an earlier row's key is
skipped. Related records are looked up per batch, never created: the category by name (Chinese or
English) or path ("硬件/服务器", "Hardware > Servers"), the price list by name, the product by
code, the currency by code. Updates write the non-empty cells only.

Undo deletes what the import created and puts back the values it replaced (from the change log);
a created product that has prices or is used on documents by then is not deleted (undo refuses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from kehu.core.choices import Action
from kehu.core.context import acting_as
from kehu.core.errors import DomainError
from kehu.core.permissions import can
from kehu.imports import transforms as t
from kehu.imports.choices import ImportMode
from kehu.imports.engine import CREATE, ERROR, SKIP, UPDATE, ImportRunError, PreparedRow, _messages
from kehu.imports.mapping import (
    ConvertOptions,
    FieldKind,
    ImportField,
    convert_values,
    get_target,
    picklist_mappers,
    register_import_target,
)
from kehu.imports.models import ImportBatch, ImportJob
from kehu.imports.parsing import RawRow
from kehu.imports.registry import TargetHandler, register_target_handler

from . import services
from .models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory

PRODUCT, PRICE, RATE = "catalog.product", "catalog.pricelistitem", "catalog.exchangerate"
TARGETS = (PRODUCT, PRICE, RATE)
F = FieldKind

# --- the importable fields ----------------------------------------------------------------------

_CODE_ALIASES = (
    "代码",
    "编码",
    "编号",
    "产品编码",
    "产品代码",
    "产品编号",
    "物料编码",
    "商品编码",
    "货号",
    "SKU",
    "Code",
    "Product Code",
    "Item Code",
    "Item Number",
    "Item No",
    "Part Number",
)


def product_fields() -> list[ImportField]:
    return [
        ImportField("code", required=True, aliases=_CODE_ALIASES),
        ImportField(
            "name",
            aliases=("名称", "产品名称", "商品名称", "品名", "中文名称", "Name", "Product Name", "Item Name"),
        ),
        ImportField("name_en", aliases=("英文名称", "英文名", "English Name", "Name (English)")),
        ImportField("kind", F.PICKLIST, aliases=("类型", "产品类型", "Kind", "Type", "Product Type")),
        ImportField(
            "category",
            F.FK,
            related="catalog.productcategory",
            lookups=("name", "name_en"),
            aliases=(
                "分类",
                "类别",
                "产品分类",
                "产品类别",
                "Category",
                "Product Category",
                "Product Family",
            ),
        ),
        ImportField("unit", aliases=("单位", "计量单位", "Unit", "UOM", "Unit of Measure")),
        ImportField(
            "tax_rate",
            F.DECIMAL,
            aliases=("税率", "税率%", "增值税率", "默认税率", "Tax Rate", "Tax", "VAT", "VAT Rate"),
        ),
        ImportField("cost", F.DECIMAL, aliases=("成本", "成本价", "Cost", "Unit Cost")),
        ImportField(
            "description", F.LONG_TEXT, aliases=("描述", "说明", "备注", "产品描述", "Description", "Notes")
        ),
        ImportField(
            "is_active",
            F.BOOL,
            aliases=("启用", "是否启用", "有效", "是否有效", "状态", "Active", "Is Active"),
        ),
    ]


def price_fields() -> list[ImportField]:
    return [
        ImportField(
            "price_list",
            F.FK,
            required=True,
            related="catalog.pricelist",
            lookups=("name",),
            aliases=("价目表", "价格表", "价格清单", "价目表名称", "Price List", "Price Book", "Pricebook"),
        ),
        ImportField(
            "product",
            F.FK,
            required=True,
            related="catalog.product",
            lookups=("code",),
            aliases=(*_CODE_ALIASES, "产品", "Product"),
        ),
        ImportField(
            "min_quantity",
            F.DECIMAL,
            aliases=(
                "起订量",
                "最小数量",
                "最低数量",
                "起始数量",
                "数量",
                "Min Quantity",
                "Minimum Quantity",
                "From Quantity",
                "Quantity",
            ),
        ),
        ImportField(
            "unit_price",
            F.DECIMAL,
            required=True,
            aliases=("单价", "价格", "售价", "销售单价", "Unit Price", "Price", "List Price", "Sales Price"),
        ),
    ]


def rate_fields() -> list[ImportField]:
    return [
        ImportField(
            "currency",
            F.FK,
            required=True,
            related="catalog.currency",
            lookups=("code",),
            aliases=("币种", "货币", "币别", "货币代码", "币种代码", "Currency", "Currency Code"),
        ),
        ImportField(
            "valid_on",
            F.DATE,
            required=True,
            aliases=(
                "日期",
                "生效日期",
                "汇率日期",
                "Date",
                "Valid From",
                "Valid On",
                "Effective Date",
                "Rate Date",
            ),
        ),
        ImportField(
            "rate",
            F.DECIMAL,
            required=True,
            aliases=("汇率", "兑换率", "折算率", "Rate", "Exchange Rate", "Conversion Rate"),
        ),
        ImportField("source", aliases=("来源", "数据来源", "Source")),
    ]


# --- who may import -----------------------------------------------------------------------------


def _may(model: type[models.Model], *actions: str) -> Any:
    def check(user: Any) -> bool:
        return all(can(user, model, action) for action in actions)

    return check


# --- preparing ----------------------------------------------------------------------------------


def _fold(text: Any) -> str:
    return str(text or "").strip().casefold()


_PATH_SEPARATORS = re.compile(r"\s*(?:/|>|＞|›|\\)\s*")


class CatalogPreparer:
    """``prepare(raws) -> list[PreparedRow]`` for one catalog target (see the module docstring):
    rows converted with the job's transforms, related records looked up per batch, each row's
    action decided on its key. ``dry_run``: each create and update is confirmed by its service
    (then rolled back), so a refused row is an error row of the dry run as of the run."""

    def __init__(self, job: ImportJob, by: Any, dry_run: bool = False) -> None:
        if job.target not in TARGETS:
            raise ImportRunError(
                _("Importing into “%(target)s” is not available yet.") % {"target": job.target},
                code=ImportRunError.UNSUPPORTED_TARGET,
            )
        self.job, self.by, self.dry_run = job, by, dry_run
        self.kind = job.target
        self.target = get_target(job.target)
        self.labels = {f.name: self.target.label(f) for f in self.target.fields}
        transforms = job.transforms or {}
        self.options = ConvertOptions(
            date_order=transforms.get("date_order") or "YMD",
            region=transforms.get("phone_region") or "CN",
            picklists=picklist_mappers(
                self.target,
                policy=str(transforms.get("unknown_choices") or t.UnknownPolicy.REJECT),
                mappings=transforms.get("picklists") or {},
            ),
            separators=transforms.get("separators") or t.MULTI_SEPARATORS,
        )
        headers = list(job.headers)
        columns = [(i, job.mapping.get(h) or "") for i, h in enumerate(headers)]
        self.columns = [(i, name) for i, name in columns if name and self.target.get(name)]
        self.mode = job.mode
        self.seen: dict[tuple[Any, ...], int] = {}  # key of an earlier written row -> its line
        self._categories: list[tuple[int, int | None, str, str]] | None = None
        self.writer = CatalogWriter(job, by=by) if dry_run else None

    # --- one row ----------------------------------------------------------------------------

    def convert(self, raw: RawRow) -> PreparedRow:
        row = PreparedRow(raw)
        if raw.error:
            row.fail(raw.code or "unreadable_row", raw.error)
            return row
        grouped: dict[str, list[str]] = {}
        for i, name in self.columns:
            if i < len(raw.values):
                value = raw.values[i]
                if value and not value.isspace():
                    if value[0] == "'":  # our exports' guard against formulas
                        value = t.strip_formula_guard(value) or ""
                    grouped.setdefault(name, []).append(value)
        values, errors = convert_values(self.target, grouped, self.options)
        if errors:
            row.fail("invalid_value", _messages(errors, self.labels))
            return row
        for name, value in values.items():
            item = self.target.get(name)
            if name.startswith("custom."):
                row.custom[name[7:]] = value
            elif item is not None and item.kind == F.FK:
                row.lookups[name] = str(value)
            else:
                row.values[name] = value
        return row

    # --- the batch --------------------------------------------------------------------------

    def prepare(self, raws: list[RawRow]) -> list[PreparedRow]:
        rows = [self.convert(raw) for raw in raws]
        live = [r for r in rows if r.action != ERROR]
        if self.kind == PRODUCT:
            self._resolve_categories(live)
        elif self.kind == PRICE:
            self._resolve(live, "price_list", PriceList, "name", self._unknown_price_list)
            self._resolve(live, "product", Product, "code", self._unknown_product)
        else:
            self._resolve(live, "currency", Currency, "code", self._unknown_currency)
        self._decide([r for r in live if r.action != ERROR])
        if self.writer is not None:
            self.writer.try_rows(rows)
        return rows

    @staticmethod
    def _unknown_price_list(text: str) -> str:
        return _("No price list is named “%(value)s”.") % {"value": text[:80]}

    @staticmethod
    def _unknown_product(text: str) -> str:
        return _("No product has the code “%(value)s”.") % {"value": text[:80]}

    @staticmethod
    def _unknown_currency(text: str) -> str:
        return _("No currency has the code “%(value)s”.") % {"value": text[:80]}

    def _resolve(
        self, rows: list[PreparedRow], name: str, model: type[models.Model], column: str, unknown: Any
    ) -> None:
        """`name`'s text -> ``<name>_id`` (one case-insensitive query per batch)."""
        wanted = [r for r in rows if r.action != ERROR and r.lookups.get(name)]
        texts = {_fold(r.lookups[name]) for r in wanted}
        found: dict[str, int] = {}
        if texts:
            qs = model._base_manager.annotate(_k=Lower(column)).filter(_k__in=texts)
            found = {key: pk for pk, key in qs.values_list("pk", "_k")}
        for r in wanted:
            pk = found.get(_fold(r.lookups[name]))
            if pk is None:
                r.fail(f"unknown_{name}", unknown(r.lookups[name]))
            else:
                r.values[f"{name}_id"] = pk

    def _category_rows(self) -> list[tuple[int, int | None, str, str]]:
        if self._categories is None:
            self._categories = list(
                ProductCategory._base_manager.values_list("pk", "parent_id", "name", "name_en")
            )
        return self._categories

    def _resolve_categories(self, rows: list[PreparedRow]) -> None:
        """A category by its name (Chinese or English, case-insensitive) or by its path from a top
        category (``硬件/服务器``, ``Hardware > Servers``); a name several categories share needs
        the path."""
        categories = self._category_rows()
        by_parent: dict[int | None, list[tuple[int, str, str]]] = {}
        for pk, above, name, name_en in categories:
            by_parent.setdefault(above, []).append((pk, _fold(name), _fold(name_en)))
        for r in rows:
            text = r.lookups.get("category", "")
            if not text:
                continue
            parts = [p for p in _PATH_SEPARATORS.split(text.strip()) if p]
            hits: list[int] = []
            if len(parts) > 1:
                parent: int | None = None
                for part in parts:
                    node = next((pk for pk, n, e in by_parent.get(parent, []) if _fold(part) in (n, e)), None)
                    if node is None:
                        break
                    parent = node
                else:
                    hits = [parent] if parent is not None else []
            if not hits:
                hits = [pk for pk, _p, n, e in categories if _fold(text) in (_fold(n), _fold(e))]
            if len(hits) == 1:
                r.values["category_id"] = hits[0]
            elif hits:
                r.fail(
                    "ambiguous_category",
                    _("Several categories are named “%(value)s”: give its path, e.g. “Parent/Child”.")
                    % {"value": text[:80]},
                )
            else:
                r.fail("unknown_category", _("No category is named “%(value)s”.") % {"value": text[:80]})

    def _key(self, r: PreparedRow) -> tuple[Any, ...] | None:
        v = r.values
        if self.kind == PRODUCT:
            return (_fold(v.get("code")),) if v.get("code") else None
        if self.kind == PRICE:
            quantity = v.get("min_quantity")
            quantity = Decimal("1") if quantity is None else Decimal(quantity)
            return (v.get("price_list_id"), v.get("product_id"), quantity.normalize())
        return (v.get("currency_id"), v.get("valid_on"))

    def _existing(self, rows: list[PreparedRow]) -> dict[tuple[Any, ...], int]:
        """Key -> id of the stored records the rows name (one query per batch)."""
        found: dict[tuple[Any, ...], int] = {}
        if self.kind == PRODUCT:
            codes = {_fold(r.values.get("code")) for r in rows}
            qs = Product._base_manager.annotate(_k=Lower("code")).filter(_k__in=codes)
            return {(key,): pk for pk, key in qs.values_list("pk", "_k")}
        if self.kind == PRICE:
            lists = {r.values["price_list_id"] for r in rows}
            products = {r.values["product_id"] for r in rows}
            for pk, pl, product, quantity in PriceListItem._base_manager.filter(
                price_list_id__in=lists, product_id__in=products
            ).values_list("pk", "price_list_id", "product_id", "min_quantity"):
                found[(pl, product, Decimal(quantity).normalize())] = pk
            return found
        currencies = {r.values["currency_id"] for r in rows}
        days = {r.values["valid_on"] for r in rows}
        for pk, currency, day in ExchangeRate._base_manager.filter(
            currency_id__in=currencies, valid_on__in=days
        ).values_list("pk", "currency_id", "valid_on"):
            found[(currency, day)] = pk
        return found

    def _key_text(self) -> str:
        if self.kind == PRODUCT:
            return self.labels["code"]
        if self.kind == PRICE:
            return _("price list, product and minimum quantity")
        return _("currency and date")

    def _decide(self, rows: list[PreparedRow]) -> None:
        keyed = []
        for r in rows:
            if self._key(r) is None:
                r.fail("invalid_value", _messages({"code": [_("This field is required.")]}, self.labels))
            else:
                keyed.append(r)
        existing = self._existing(keyed) if keyed else {}
        for r in keyed:
            key = self._key(r)
            assert key is not None
            earlier = self.seen.get(key)
            if earlier is not None:
                r.action, r.reason = SKIP, "duplicate_in_file"
                r.message = _("Same %(key)s as row %(row)d of the file.") % {
                    "key": self._key_text(),
                    "row": earlier,
                }
                continue
            pk = existing.get(key)
            if pk is not None and self.mode == ImportMode.CREATE:
                r.action, r.reason = SKIP, "matches_existing"
                r.message = _("A record with the same %(key)s exists (#%(id)s).") % {
                    "key": self._key_text(),
                    "id": pk,
                }
            elif pk is not None:
                r.action, r.existing_id = UPDATE, pk
            elif self.mode == ImportMode.UPDATE:
                r.action, r.reason = SKIP, "no_match"
                r.message = _("No record has this %(key)s.") % {"key": self._key_text()}
            else:
                r.action = CREATE
            if r.action in (CREATE, UPDATE):
                self.seen[key] = r.line


# --- writing ------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


class CatalogWriter:
    """``write(...)``: one batch in ONE transaction with its `ImportBatch` row (idempotent per
    batch number); each row through its service in a savepoint, a refusal becomes the row's
    error and the rest of the batch goes on."""

    def __init__(self, job: ImportJob, *, by: Any) -> None:
        self.job, self.by, self.kind = job, by, job.target
        target = get_target(job.target)
        self.labels = {f.name: target.label(f) for f in target.fields}

    def write(
        self, *, number: int, first_row: int, last_row: int, rows: list[PreparedRow]
    ) -> ImportBatch | None:
        with (
            acting_as(getattr(self.by, "pk", None), source="import", request_id=self.job.audit_tag),
            transaction.atomic(),
        ):
            if ImportBatch.objects.filter(job=self.job, number=number).exists():
                return None
            self.apply_rows(rows)
            counts = {"created": 0, "updated": 0, "skipped": 0, "errors": 0}
            for r in rows:
                key = {CREATE: "created", UPDATE: "updated", SKIP: "skipped", ERROR: "errors"}[r.action]
                counts[key] += 1
            return ImportBatch.objects.create(
                job=self.job, number=number, first_row=first_row, last_row=last_row, **counts
            )

    def try_rows(self, rows: list[PreparedRow]) -> None:
        """Dry run: apply the rows, then roll the batch back."""
        todo = [r for r in rows if r.action in (CREATE, UPDATE)]
        if not todo:
            return
        try:
            with transaction.atomic():
                self.apply_rows(todo)
                raise _Rollback
        except _Rollback:
            pass

    def apply_rows(self, rows: list[PreparedRow]) -> None:
        todo = [r for r in rows if r.action in (CREATE, UPDATE)]
        related = self._related(todo)
        for r in todo:
            try:
                with transaction.atomic():
                    self._apply(r, related)
            except (DomainError, ValidationError) as exc:
                r.fail("refused", self._refusal(exc))

    def _related(self, rows: list[PreparedRow]) -> dict[str, dict[int, Any]]:
        def ids(name: str) -> set[int]:
            return {r.values[name] for r in rows if r.values.get(name) is not None}

        if self.kind == PRODUCT:
            return {
                "category": ProductCategory._base_manager.in_bulk(ids("category_id")),
                "existing": Product._base_manager.in_bulk({r.existing_id for r in rows if r.existing_id}),
            }
        if self.kind == PRICE:
            return {
                "price_list": PriceList._base_manager.select_related("currency").in_bulk(
                    ids("price_list_id")
                ),
                "product": Product._base_manager.in_bulk(ids("product_id")),
            }
        return {"currency": Currency._base_manager.in_bulk(ids("currency_id"))}

    def _apply(self, r: PreparedRow, related: dict[str, dict[int, Any]]) -> None:
        v = r.values
        if self.kind == PRODUCT:
            data: dict[str, Any] = {
                k: val for k, val in v.items() if k != "category_id" and val not in (None, "")
            }
            if v.get("category_id") is not None:
                data["category"] = related["category"][v["category_id"]]
            if r.custom:
                data["custom"] = dict(r.custom)
            if r.action == CREATE:
                obj = services.product_create(by=self.by, data=data)
                r.existing_id = obj.pk
                return
            current = related["existing"].get(r.existing_id)  # type: ignore[arg-type]
            if current is None:
                raise DomainError(_("The record was deleted meanwhile."), code="record_deleted")
            data.pop("code", None)  # the key: the stored spelling stays
            services.product_update(product=current, by=self.by, data=data)
            return
        item: models.Model
        if self.kind == PRICE:
            if v.get("unit_price") is None:
                raise DomainError(
                    _("This field is required."), fields={"unit_price": [_("This field is required.")]}
                )
            item = services.price_set(
                price_list=related["price_list"][v["price_list_id"]],
                product=related["product"][v["product_id"]],
                unit_price=v["unit_price"],
                min_quantity=v["min_quantity"] if v.get("min_quantity") is not None else Decimal("1"),
                by=self.by,
            )
        else:
            if v.get("rate") is None or v.get("valid_on") is None:
                field = "rate" if v.get("rate") is None else "valid_on"
                raise DomainError(
                    _("This field is required."), fields={field: [_("This field is required.")]}
                )
            kwargs: dict[str, Any] = {}
            if v.get("source"):
                kwargs["source"] = v["source"]
            elif r.action == UPDATE:
                kwargs["source"] = (
                    ExchangeRate._base_manager.filter(pk=r.existing_id or 0)
                    .values_list("source", flat=True)
                    .first()
                    or ""
                )
            item = services.exchange_rate_set(
                currency=related["currency"][v["currency_id"]],
                valid_on=v["valid_on"],
                rate=v["rate"],
                by=self.by,
                **kwargs,
            )
        if r.action == CREATE:
            r.existing_id = item.pk

    def _refusal(self, exc: Exception) -> str:
        if isinstance(exc, ValidationError):
            if hasattr(exc, "error_dict"):
                return _messages(exc.message_dict, self.labels)
            return " ".join(str(m) for m in exc.messages)
        assert isinstance(exc, DomainError)
        fields = {k: v for k, v in exc.fields.items() if v}
        return _messages(fields, self.labels) if fields else str(exc.message)


# --- undo ---------------------------------------------------------------------------------------


def _restore(obj: models.Model, changes: dict[str, Any]) -> None:
    """Put back the "before" of each changed field (a save: the recorder logs the undo)."""
    fields: list[str] = []
    for name, pair in changes.items():
        if name in ("version", "updated_at", "created_at") or not isinstance(pair, list | tuple):
            continue
        old = pair[0]
        if name.startswith("custom.") or name == "custom":
            custom = dict(getattr(obj, "custom", None) or {})
            if name == "custom":
                custom = dict(old or {})
            elif old is None:
                custom.pop(name[7:], None)
            else:
                custom[name[7:]] = old
            obj.custom = custom  # type: ignore[attr-defined]
            if "custom" not in fields:
                fields.append("custom")
            continue
        try:
            found = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if not isinstance(found, models.Field) or not found.concrete:
            continue
        f: models.Field[Any, Any] = found
        if f.is_relation:
            value = old.get("id") if isinstance(old, dict) else old
        elif old is None:
            value = None if f.null else ("" if isinstance(f, models.CharField | models.TextField) else None)
        else:
            value = f.to_python(old)
        setattr(obj, f.attname, value)
        fields.append(f.name)
    if not fields:
        return
    if hasattr(obj, "version"):
        obj.version += 1
        fields.append("version")
    obj.save(update_fields=[*fields, "updated_at"])


def undo(
    imp: ImportJob, *, by: Any, created: list[int], updated: dict[int, dict[str, Any]]
) -> dict[str, int]:
    """Delete the created records, restore the updated ones (inside `running.undo`'s transaction,
    after its "changed since" check)."""
    model: type[models.Model] = {PRODUCT: Product, PRICE: PriceListItem, RATE: ExchangeRate}[imp.target]
    made = sorted(set(created))
    changed = sorted(set(updated) - set(made))
    deleted = restored = 0
    with acting_as(getattr(by, "pk", None), source="import", request_id=f"{imp.audit_tag}-undo"):
        for obj in model._base_manager.filter(pk__in=changed).order_by("pk"):
            _restore(obj, updated.get(obj.pk) or {})
            restored += 1
        if model is Product and PriceListItem._base_manager.filter(product_id__in=made).exists():
            raise ImportRunError(
                _("Some products the import created have prices now; undo is not possible."),
                code=ImportRunError.IN_USE,
                status=409,
            )
        for obj in model._base_manager.filter(pk__in=made).order_by("pk"):
            try:
                if isinstance(obj, Product):
                    services.product_delete(product=obj, by=by)
                else:
                    obj.delete()
            except DomainError as exc:
                raise ImportRunError(
                    _("Some records the import created are used by other records now; undo is not possible."),
                    code=ImportRunError.IN_USE,
                    status=409,
                ) from exc
            deleted += 1
    return {"deleted": deleted, "restored": restored}


# --- registration -------------------------------------------------------------------------------


def _preparer(job: ImportJob, by: Any, dry_run: bool = False) -> CatalogPreparer:
    return CatalogPreparer(job, by, dry_run)


def _writer(job: ImportJob, by: Any) -> CatalogWriter:
    return CatalogWriter(job, by=by)


def register() -> None:
    """Called by ``CatalogConfig.ready()``: the three targets and their handlers. Who may import:
    whoever holds the import action on those records and may add and change them (prices: import
    and change price lists)."""
    targets: Iterable[tuple[str, list[ImportField], Any, tuple[str, ...]]] = (
        (PRODUCT, product_fields(), _may(Product, Action.IMPORT, Action.ADD, Action.CHANGE), ("code",)),
        (PRICE, price_fields(), _may(PriceList, Action.IMPORT, Action.CHANGE), ("product",)),
        (RATE, rate_fields(), _may(ExchangeRate, Action.IMPORT, Action.ADD, Action.CHANGE), ("currency",)),
    )
    for label, fields, may, keys in targets:
        register_import_target(label, fields)
        register_target_handler(
            label,
            TargetHandler(
                preparer=_preparer,
                writer=_writer,
                undo=undo,
                may_import=may,
                match_keys=keys,
                owned=False,  # products, prices and rates belong to the company
                finds_duplicates=False,  # the code (the match key) is their only identity
            ),
        )
