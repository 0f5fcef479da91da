"""Administration pages of custom fields and picklists (数据字典), for administrators only.

Forms open in the htmx modal; a successful write answers 204 with ``kehu:closeModal`` + ``kehu:toast``
and reloads the page content in place. Every write goes through ``services``; a ``DomainError``
becomes a form error (in the modal) or an error toast (buttons).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.errors import DomainError
from kehu.core.permissions import is_admin

from . import selectors, services
from .choices import COMPATIBLE_TYPE_CHANGES
from .forms import CustomFieldForm, PicklistForm, PicklistItemForm
from .models import CustomField, Picklist, PicklistItem
from .registry import get_model, registered_models, usage_labels


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _done(request: HttpRequest, message: str, *, url: str, level: str = "success") -> HttpResponse:
    """After a button or form post: htmx gets 204 + close modal + toast + in-place reload."""
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps(
            {"kehu:closeModal": True, "kehu:toast": {"message": message, "level": level}}
        )
        if level == "success":
            response["HX-Location"] = json.dumps(
                {"path": url, "target": ".page-wrapper", "select": ".page-wrapper", "swap": "outerHTML"}
            )
        return response
    getattr(messages, "success" if level == "success" else "error")(request, message)
    return HttpResponseRedirect(url)


def _form_error(form: Any, exc: DomainError) -> None:
    shown = False
    for name, msgs in exc.fields.items():
        for msg in msgs:
            if name in form.fields:
                form.add_error(name, msg)
                shown = True
    if not shown:
        form.add_error(None, str(exc.message))


class AdminView(LoginRequiredMixin, View):
    """Signed in (else the sign-in page) and an administrator (else 403)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not is_admin(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def crumbs(self, *extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
        return [(_("Administration"), None), *extra]


def _model_label(label: str) -> str:
    model = get_model(label)
    if model is None:
        return label
    name = str(model._meta.verbose_name_plural)
    return name[:1].upper() + name[1:]


# --- custom fields ------------------------------------------------------------------------------


class FieldListView(AdminView):
    def get(self, request: HttpRequest) -> HttpResponse:
        fields = list(selectors.custom_field_list(user=request.user))
        groups = []
        for model in sorted(registered_models(), key=lambda m: str(m._meta.verbose_name_plural)):
            label = model._meta.label_lower
            groups.append(
                {
                    "model": label,
                    "title": _model_label(label),
                    "fields": [f for f in fields if f.model == label],
                }
            )
        orphans = [f for f in fields if get_model(f.model) is None]
        return render(
            request,
            "customfields/field_list.html",
            {
                "groups": groups,
                "orphans": orphans,
                "breadcrumbs": self.crumbs((_("Custom fields"), None)),
            },
        )


class FieldFormView(AdminView):
    """Create (``?model=customers.account``) or edit a definition in the modal."""

    def get_field(self, pk: int | None) -> CustomField | None:
        if pk is None:
            return None
        return get_object_or_404(selectors.custom_field_list(user=self.request.user), pk=pk)

    def render_form(
        self, request: HttpRequest, form: CustomFieldForm, field: CustomField | None
    ) -> HttpResponse:
        action = (
            reverse("customfields:field_edit", args=[field.pk])
            if field
            else reverse("customfields:field_add")
        )
        values_exist = field is not None and selectors.custom_field_has_values(field)
        if values_exist and field is not None:
            allowed = {field.type, *[new for old, new in COMPATIBLE_TYPE_CHANGES if old == field.type]}
            type_field = form.fields["type"]
            type_field.choices = [c for c in type_field.choices if c[0] in allowed]  # type: ignore[attr-defined]
        return render(
            request,
            "customfields/_field_form_modal.html",
            {
                "form": form,
                "field": field,
                "action_url": action,
                "title": _("Edit custom field") if field else _("New custom field"),
                "values_exist": values_exist,
            },
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        field = self.get_field(pk)
        initial = {}
        if field is None and request.GET.get("model"):
            initial["model"] = request.GET["model"]
        form = CustomFieldForm(instance=field, initial=initial)
        return self.render_form(request, form, field)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        field = self.get_field(pk)
        form = CustomFieldForm(request.POST, instance=field)
        if form.is_valid():
            try:
                if field is None:
                    saved = services.custom_field_create(
                        model=form.cleaned_data["model"],
                        name=form.cleaned_data["name"],
                        data=form.service_data(),
                        by=request.user,
                    )
                    message = _("Custom field “%(label)s” created.") % {"label": saved.display_label}
                else:
                    saved = services.custom_field_update(
                        field=field, data=form.service_data(), by=request.user
                    )
                    message = _("Custom field “%(label)s” saved.") % {"label": saved.display_label}
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return _done(request, message, url=reverse("customfields:field_list"))
        return self.render_form(request, form, field)


class FieldActionView(AdminView):
    """POST: deactivate / reactivate / delete a definition (buttons; errors become toasts)."""

    action = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        field = get_object_or_404(selectors.custom_field_list(user=request.user), pk=pk)
        label = field.display_label
        url = reverse("customfields:field_list")
        try:
            if self.action == "deactivate":
                services.custom_field_deactivate(field=field, by=request.user)
                message = _("“%(label)s” deactivated: it no longer shows; its values are kept.") % {
                    "label": label
                }
            elif self.action == "reactivate":
                services.custom_field_reactivate(field=field, by=request.user)
                message = _("“%(label)s” reactivated.") % {"label": label}
            else:
                services.custom_field_delete(field=field, by=request.user)
                message = _("“%(label)s” deleted.") % {"label": label}
        except DomainError as exc:
            return _done(request, str(exc.message), url=url, level="error")
        return _done(request, message, url=url)


class FieldDeleteView(AdminView):
    """GET: a confirmation modal; POST: delete (refused while records hold values)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        field = get_object_or_404(selectors.custom_field_list(user=request.user), pk=pk)
        in_use = selectors.custom_field_has_values(field)
        return render(
            request,
            "customfields/_confirm_delete_modal.html",
            {
                "title": _("Delete custom field"),
                "action_url": reverse("customfields:field_delete", args=[field.pk]),
                "question": _("Delete the custom field “%(label)s”?") % {"label": field.display_label},
                "error": _(
                    "Records hold values of this field, so it cannot be deleted. Deactivate it instead."
                )
                if in_use
                else "",
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        response: Any = FieldActionView.as_view(action="delete")(request, pk=pk)
        return response


class FieldReorderView(AdminView):
    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            ids = [int(i) for i in request.POST.getlist("ids")]
        except ValueError:
            ids = [-1]
        try:
            services.custom_field_reorder(model=request.POST.get("model", ""), ids=ids, by=request.user)
        except DomainError as exc:
            return _done(request, str(exc.message), url=reverse("customfields:field_list"), level="error")
        return _toast(_("The new order is saved."))


def _toast(message: str, level: str = "success") -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": message, "level": level}})
    return response


# --- picklists ----------------------------------------------------------------------------------


class PicklistListView(AdminView):
    def get(self, request: HttpRequest) -> HttpResponse:
        custom_uses: dict[int, list[str]] = {}
        for field in selectors.custom_field_list(user=request.user):
            if field.picklist_id:
                custom_uses.setdefault(field.picklist_id, []).append(
                    f"{_model_label(field.model)}: {field.display_label}"
                )
        picklists = [
            (p, [*usage_labels(p.code), *custom_uses.get(p.pk, [])])
            for p in selectors.picklist_list(user=request.user)
        ]
        return render(
            request,
            "customfields/picklist_list.html",
            {
                "picklists": picklists,
                "breadcrumbs": self.crumbs((_("Picklists"), None)),
            },
        )


def _picklist(request: HttpRequest, pk: int) -> Picklist:
    return get_object_or_404(selectors.picklist_list(user=request.user), pk=pk)


class PicklistDetailView(AdminView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        picklist = _picklist(request, pk)
        fields = [f for f in selectors.custom_field_list(user=request.user) if f.picklist_id == picklist.pk]
        return render(
            request,
            "customfields/picklist_detail.html",
            {
                "picklist": picklist,
                "items": list(picklist.items.all()),
                "standard_uses": usage_labels(picklist.code),
                "custom_uses": [(f, _model_label(f.model)) for f in fields],
                "breadcrumbs": self.crumbs(
                    (_("Picklists"), reverse("customfields:picklist_list")), (picklist.display_name, None)
                ),
            },
        )


class PicklistFormView(AdminView):
    def render_form(
        self, request: HttpRequest, form: PicklistForm, picklist: Picklist | None
    ) -> HttpResponse:
        action = (
            reverse("customfields:picklist_edit", args=[picklist.pk])
            if picklist
            else reverse("customfields:picklist_add")
        )
        return render(
            request,
            "customfields/_form_modal.html",
            {
                "form": form,
                "action_url": action,
                "title": _("Edit picklist") if picklist else _("New picklist"),
            },
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        picklist = _picklist(request, pk) if pk else None
        return self.render_form(request, PicklistForm(instance=picklist), picklist)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        picklist = _picklist(request, pk) if pk else None
        form = PicklistForm(request.POST, instance=picklist)
        if form.is_valid():
            try:
                if picklist is None:
                    saved = services.picklist_create(
                        code=form.cleaned_data["code"], data=form.service_data(), by=request.user
                    )
                    message = _("Picklist “%(name)s” created.") % {"name": saved.display_name}
                else:
                    saved = services.picklist_update(
                        picklist=picklist, data=form.service_data(), by=request.user
                    )
                    message = _("Picklist “%(name)s” saved.") % {"name": saved.display_name}
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return _done(request, message, url=saved.get_absolute_url())
        return self.render_form(request, form, picklist)


class PicklistDeleteView(AdminView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        picklist = _picklist(request, pk)
        error = ""
        if picklist.is_system:
            error = _("This is a system picklist: it cannot be deleted.")
        else:
            usage = selectors.picklist_usage(picklist)
            if usage:
                error = _("It is in use (%(where)s), so it cannot be deleted.") % {"where": ", ".join(usage)}
        return render(
            request,
            "customfields/_confirm_delete_modal.html",
            {
                "title": _("Delete picklist"),
                "action_url": reverse("customfields:picklist_delete", args=[picklist.pk]),
                "question": _("Delete the picklist “%(name)s” and all its items?")
                % {"name": picklist.display_name},
                "error": error,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        picklist = _picklist(request, pk)
        name = picklist.display_name
        try:
            services.picklist_delete(picklist=picklist, by=request.user)
        except DomainError as exc:
            return _done(request, str(exc.message), url=picklist.get_absolute_url(), level="error")
        return _done(
            request,
            _("Picklist “%(name)s” deleted.") % {"name": name},
            url=reverse("customfields:picklist_list"),
        )


def _item(request: HttpRequest, pk: int) -> PicklistItem:
    return get_object_or_404(selectors.picklist_item_list(user=request.user), pk=pk)


class ItemFormView(AdminView):
    """Add (``picklists/<picklist>/items/new/``) or edit (``items/<pk>/edit/``) an item."""

    def render_form(
        self, request: HttpRequest, form: PicklistItemForm, picklist: Picklist, item: PicklistItem | None
    ) -> HttpResponse:
        action = (
            reverse("customfields:item_edit", args=[item.pk])
            if item
            else reverse("customfields:item_add", args=[picklist.pk])
        )
        title = _("Edit item of “%(name)s”") if item else _("New item of “%(name)s”")
        return render(
            request,
            "customfields/_form_modal.html",
            {"form": form, "action_url": action, "title": title % {"name": picklist.display_name}},
        )

    def _objects(self, request: HttpRequest, picklist_pk: int | None, pk: int | None) -> tuple[Picklist, Any]:
        if pk is not None:
            item = _item(request, pk)
            return item.picklist, item
        return _picklist(request, picklist_pk or 0), None

    def get(
        self, request: HttpRequest, picklist_pk: int | None = None, pk: int | None = None
    ) -> HttpResponse:
        picklist, item = self._objects(request, picklist_pk, pk)
        return self.render_form(request, PicklistItemForm(instance=item), picklist, item)

    def post(
        self, request: HttpRequest, picklist_pk: int | None = None, pk: int | None = None
    ) -> HttpResponse:
        picklist, item = self._objects(request, picklist_pk, pk)
        form = PicklistItemForm(request.POST, instance=item)
        if form.is_valid():
            try:
                if item is None:
                    saved = services.picklist_item_create(
                        picklist=picklist, data=form.service_data(), by=request.user
                    )
                    message = _("Item “%(label)s” added.") % {"label": saved.display_label}
                else:
                    saved = services.picklist_item_update(
                        item=item, data=form.service_data(), by=request.user
                    )
                    message = _("Item “%(label)s” saved.") % {"label": saved.display_label}
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return _done(request, message, url=picklist.get_absolute_url())
        return self.render_form(request, form, picklist, item)


class ItemActionView(AdminView):
    action = ""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = _item(request, pk)
        label, url = item.display_label, item.picklist.get_absolute_url()
        try:
            if self.action == "deactivate":
                services.picklist_item_deactivate(item=item, by=request.user)
                message = _("“%(label)s” deactivated: no longer offered; records keep it.") % {"label": label}
            elif self.action == "reactivate":
                services.picklist_item_reactivate(item=item, by=request.user)
                message = _("“%(label)s” reactivated.") % {"label": label}
            else:
                services.picklist_item_delete(item=item, by=request.user)
                message = _("“%(label)s” deleted.") % {"label": label}
        except DomainError as exc:
            return _done(request, str(exc.message), url=url, level="error")
        return _done(request, message, url=url)


class ItemDeleteView(AdminView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = _item(request, pk)
        usage = selectors.item_usage(item)
        return render(
            request,
            "customfields/_confirm_delete_modal.html",
            {
                "title": _("Delete item"),
                "action_url": reverse("customfields:item_delete", args=[item.pk]),
                "question": _("Delete the item “%(label)s”?") % {"label": item.display_label},
                "error": _("It is in use (%(where)s), so it cannot be deleted. Deactivate it instead.")
                % {"where": ", ".join(usage)}
                if usage
                else "",
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        response: Any = ItemActionView.as_view(action="delete")(request, pk=pk)
        return response


class ItemReorderView(AdminView):
    def post(self, request: HttpRequest, picklist_pk: int) -> HttpResponse:
        picklist = _picklist(request, picklist_pk)
        try:
            ids = [int(i) for i in request.POST.getlist("ids")]
        except ValueError:
            ids = [-1]
        try:
            services.picklist_item_reorder(picklist=picklist, ids=ids, by=request.user)
        except DomainError as exc:
            return _toast(str(exc.message), "error")
        return _toast(_("The new order is saved."))


# --- data collection standards (数据采集规范) ------------------------------------------------------


def _standards_model_or_404(label: str) -> Any:
    from django.http import Http404

    model = get_model(label)
    if model is None:
        raise Http404
    return model


def _spec_or_404(model: Any, key: str) -> Any:
    from django.http import Http404

    from .standards import field_specs

    for spec in field_specs(model):
        if spec.key == key:
            return spec
    raise Http404


def _row_context(model: Any, spec: Any, form: Any = None) -> dict[str, Any]:
    return {
        "spec": spec,
        "model_label": model._meta.label_lower,
        "form": form,
        "errors": form.errors if form is not None else {},
    }


class StandardsView(AdminView):
    """Per model: every standard and custom field with its required / pattern / unique / weight."""

    def get(self, request: HttpRequest, model: str | None = None) -> HttpResponse:
        from .standards import field_specs, standards_models

        models_ = standards_models()
        if model is None:
            if not models_:
                return render(
                    request,
                    "customfields/standards.html",
                    {"tabs": [], "breadcrumbs": self.crumbs((_("Data standards"), None))},
                )
            return HttpResponseRedirect(
                reverse("customfields:standards_model", args=[models_[0]._meta.label_lower])
            )
        model_cls = _standards_model_or_404(model)
        specs = field_specs(model_cls)
        from kehu.core.models import Job

        job = (
            Job.objects.filter(kind=services.COMPLETENESS_JOB_KIND, params__model=model_cls._meta.label_lower)
            .order_by("-id")
            .first()
        )
        return render(
            request,
            "customfields/standards.html",
            {
                "tabs": [(m._meta.label_lower, _model_label(m._meta.label_lower)) for m in models_],
                "current": model_cls._meta.label_lower,
                "title": _model_label(model_cls._meta.label_lower),
                "rows": [_row_context(model_cls, s) for s in specs],
                "total_weight": sum(s.weight for s in specs),
                "job": job,
                "breadcrumbs": self.crumbs(
                    (_("Data standards"), reverse("customfields:standards")),
                    (_model_label(model_cls._meta.label_lower), None),
                ),
            },
        )


class StandardsRowView(AdminView):
    """POST (htmx, on change): save required / unique / weight of one field; answers the row."""

    def post(self, request: HttpRequest, model: str, key: str) -> HttpResponse:
        from .forms import FieldRuleInlineForm

        model_cls = _standards_model_or_404(model)
        spec = _spec_or_404(model_cls, key)
        form: FieldRuleInlineForm | None = FieldRuleInlineForm(request.POST)
        assert form is not None
        status = 200
        message, level = "", "success"
        if form.is_valid():
            old_weight = spec.weight
            try:
                services.field_rule_set(model=model_cls, field=key, data=form.service_data(), by=request.user)
            except DomainError as exc:
                _form_error(form, exc)
                message, level = str(exc.message), "error"
            else:
                spec = _spec_or_404(model_cls, key)
                message = _("“%(label)s” saved.") % {"label": spec.label}
                if spec.weight != old_weight:
                    message += " " + _("Completeness scores are being recomputed.")
                form = None
        else:
            message, level = _("Some fields are not valid."), "error"
        response = render(
            request, "customfields/_standards_row.html", _row_context(model_cls, spec, form), status=status
        )
        response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": message, "level": level}})
        return response


class StandardsPatternView(AdminView):
    """The validation pattern of one field (modal)."""

    def render_form(self, request: HttpRequest, model_cls: Any, spec: Any, form: Any) -> HttpResponse:
        return render(
            request,
            "customfields/_form_modal.html",
            {
                "form": form,
                "action_url": reverse(
                    "customfields:standards_pattern", args=[model_cls._meta.label_lower, spec.key]
                ),
                "title": _("Validation pattern: %(label)s") % {"label": spec.label},
            },
        )

    def get(self, request: HttpRequest, model: str, key: str) -> HttpResponse:
        from .forms import FieldRulePatternForm

        model_cls = _standards_model_or_404(model)
        spec = _spec_or_404(model_cls, key)
        if spec.is_custom:
            cf = spec.custom_field
            initial = {
                "pattern": cf.pattern,
                "pattern_message": cf.pattern_message,
                "pattern_message_en": cf.pattern_message_en,
            }
        else:
            rule = spec.rule
            initial = {
                "pattern": rule.pattern if rule else "",
                "pattern_message": rule.pattern_message if rule else "",
                "pattern_message_en": rule.pattern_message_en if rule else "",
            }
        return self.render_form(request, model_cls, spec, FieldRulePatternForm(initial=initial))

    def post(self, request: HttpRequest, model: str, key: str) -> HttpResponse:
        from .forms import FieldRulePatternForm

        model_cls = _standards_model_or_404(model)
        spec = _spec_or_404(model_cls, key)
        form = FieldRulePatternForm(request.POST)
        if form.is_valid():
            try:
                services.field_rule_set(model=model_cls, field=key, data=form.service_data(), by=request.user)
            except DomainError as exc:
                _form_error(form, exc)
            else:
                return _done(
                    request,
                    _("“%(label)s” saved.") % {"label": spec.label},
                    url=reverse("customfields:standards_model", args=[model_cls._meta.label_lower]),
                )
        return self.render_form(request, model_cls, spec, form)


class StandardsRecomputeView(AdminView):
    """POST: recompute every record's completeness now (a background job)."""

    def post(self, request: HttpRequest, model: str) -> HttpResponse:
        model_cls = _standards_model_or_404(model)
        services.completeness_recompute_start(model=model_cls, by=request.user)
        return _done(
            request,
            _("Completeness scores are being recomputed."),
            url=reverse("customfields:standards_model", args=[model_cls._meta.label_lower]),
        )
