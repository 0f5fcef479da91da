"""Pages of tags (settings: tag groups and tags) and static groups (静态分组), plus the picker's search.

Forms open in the htmx modal (full pages without htmx); writes go through `services`; a
`DomainError` becomes a form error or an error toast.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views import View

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, is_htmx, object_url, safe_next, success_response
from kehu.core.permissions import can

from . import registry, selectors, services
from .forms import AddToGroupForm, StaticGroupForm, TagForm, TagGroupForm, TagMergeForm
from .models import StaticGroup, Tag, TagGroup


def _settings_crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Administration"), None), (_("Tags"), reverse("tags:tag_list")), *extra]


def _render_form(
    request: HttpRequest,
    form: Any,
    *,
    title: str,
    action_url: str,
    cancel_url: str,
    crumbs: list[tuple[str, str | None]],
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form,
        "title": title,
        "action_url": action_url,
        "cancel_url": cancel_url,
        "breadcrumbs": [*crumbs, (title, None)],
        **(extra or {}),
    }
    template = "core/_object_form_modal.html" if is_htmx(request) else "core/object_edit.html"
    return render(request, template, context, status=status)


def _toast(message: str, level: str = "success") -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Trigger"] = json.dumps({"kehu:toast": {"message": message, "level": level}})
    return response


def _error_response(request: HttpRequest, exc: DomainError, url: str) -> HttpResponse:
    if is_htmx(request):
        return _toast(str(exc.message), level="error")
    return success_response(request, url=url, message=str(exc.message), level="error")


def _ids(request: HttpRequest) -> list[int]:
    out = []
    for raw in request.POST.getlist("ids"):
        try:
            out.append(int(raw))
        except ValueError:
            continue
    return out


class TagAdminView(LoginRequiredMixin, View):
    """Managing tags needs the role permission on tags (administrators hold it)."""

    action = Action.CHANGE

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, Tag, self.action):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


# --- settings: tags and tag groups -----------------------------------------------------------


class TagListView(TagAdminView):
    def get(self, request: HttpRequest) -> HttpResponse:
        groups = selectors.tag_groups_with_tags()
        labels = dict(registry.model_choices())
        for group in groups:
            group.model_names = [labels.get(m, m) for m in group.model_labels]  # type: ignore[attr-defined]
        return render(
            request,
            "tags/tag_list.html",
            {
                "groups": groups,
                "may_add": can(request.user, Tag, Action.ADD),
                "may_delete": can(request.user, Tag, Action.DELETE),
                "breadcrumbs": [(_("Administration"), None), (_("Tags"), None)],
            },
        )


class SettingsEditView(TagAdminView):
    """Create or edit a tag or a tag group (one view, configured by the subclasses): the form in the
    htmx modal or as a page, the service's `DomainError` as form errors, and the optimistic lock:
    the form carries the version it started from, and a stale save is refused with the fields
    someone else changed meanwhile."""

    model: type[Tag] | type[TagGroup]
    form_class: type[TagForm] | type[TagGroupForm]
    titles: tuple[str, str]  # (new, edit), translated when shown
    messages: tuple[str, str]  # (created, saved), with %(name)s

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.action = Action.CHANGE if kwargs.get("pk") else Action.ADD
        return super().dispatch(request, *args, **kwargs)

    def create(self, data: dict[str, Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, obj: Any, data: dict[str, Any], version: int | None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def initial(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}

    def _object(self, pk: int | None) -> Any:
        return get_object_or_404(self.model, pk=pk) if pk else None

    def _render(self, request: HttpRequest, form: Any, obj: Any) -> HttpResponse:
        new_title, edit_title = self.titles
        return _render_form(
            request,
            form,
            title=_(edit_title) if obj else _(new_title),
            action_url=request.get_full_path(),
            cancel_url=reverse("tags:tag_list"),
            crumbs=_settings_crumbs(),
            status=200 if is_htmx(request) or request.method == "GET" else 400,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self._object(pk)
        initial = self.initial(request, obj) if obj is None else {}
        return self._render(request, self.form_class(instance=obj, initial=initial, user=request.user), obj)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        obj = self._object(pk)
        form = self.form_class(request.POST, instance=obj, user=request.user)
        if form.is_valid():
            created_message, saved_message = self.messages
            try:
                if obj is None:
                    saved = self.create(form.service_data())
                    message = _(created_message) % {"name": saved.name}
                else:
                    saved = self.update(obj, form.service_data(), form.version)
                    message = _(saved_message) % {"name": saved.name}
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                return success_response(request, url=reverse("tags:tag_list"), message=message)
        return self._render(request, form, obj)


class TagEditView(SettingsEditView):
    """Create (``?group=<id>`` preselects the group) or edit a tag."""

    model = Tag
    form_class = TagForm
    titles = (gettext_noop("New tag"), gettext_noop("Edit tag"))
    messages = (gettext_noop("Tag “%(name)s” created."), gettext_noop("Tag “%(name)s” saved."))

    def initial(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        group = str(request.GET.get("group", ""))
        return {"group": group} if group.isdigit() else {}

    def create(self, data: dict[str, Any]) -> Tag:
        return services.tag_create(by=self.request.user, data=data)

    def update(self, obj: Tag, data: dict[str, Any], version: int | None) -> Tag:
        return services.tag_update(tag=obj, by=self.request.user, data=data, version=version)


class TagDeleteView(TagAdminView):
    action = Action.DELETE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        tag = get_object_or_404(Tag, pk=pk)
        usage = selectors.tag_usage_counts([tag.pk]).get(tag.pk, 0)
        return render(
            request,
            "tags/_confirm_modal.html",
            {
                "title": _("Delete tag"),
                "action_url": reverse("tags:tag_delete", args=[tag.pk]),
                "question": _("Delete the tag “%(name)s”?") % {"name": tag.name},
                "detail": _("It is removed from %(n)d records.") % {"n": usage} if usage else "",
                "danger": True,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        tag = get_object_or_404(Tag, pk=pk)
        name = tag.name
        url = reverse("tags:tag_list")
        try:
            services.tag_delete(tag=tag, by=request.user)
        except DomainError as exc:
            return _error_response(request, exc, url)
        return success_response(request, url=url, message=_("Tag “%(name)s” deleted.") % {"name": name})


class TagMergeView(TagAdminView):
    def _render(self, request: HttpRequest, form: TagMergeForm, tag: Tag) -> HttpResponse:
        return _render_form(
            request,
            form,
            title=_("Merge “%(name)s” into another tag") % {"name": tag.name},
            action_url=reverse("tags:tag_merge", args=[tag.pk]),
            cancel_url=reverse("tags:tag_list"),
            crumbs=_settings_crumbs(),
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        tag = get_object_or_404(Tag, pk=pk)
        return self._render(request, TagMergeForm(source=tag), tag)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not can(request.user, Tag, Action.DELETE):
            raise PermissionDenied
        tag = get_object_or_404(Tag, pk=pk)
        form = TagMergeForm(request.POST, source=tag)
        if form.is_valid():
            target = form.cleaned_data["target"]
            try:
                count = services.tag_merge(source=tag, target=target, by=request.user)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                message = _("“%(source)s” merged into “%(target)s” (%(n)d records).") % {
                    "source": tag.name,
                    "target": target.name,
                    "n": count,
                }
                return success_response(request, url=reverse("tags:tag_list"), message=message)
        return self._render(request, form, tag)


class TagReorderView(TagAdminView):
    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            if request.POST.get("model") == "group":
                services.tag_groups_reorder(ids=_ids(request), by=request.user)
            else:
                services.tags_reorder(ids=_ids(request), by=request.user)
        except DomainError as exc:
            return _toast(str(exc.message), level="error")
        return _toast(_("The new order is saved."))


class TagGroupEditView(SettingsEditView):
    model = TagGroup
    form_class = TagGroupForm
    titles = (gettext_noop("New tag group"), gettext_noop("Edit tag group"))
    messages = (
        gettext_noop("Tag group “%(name)s” created."),
        gettext_noop("Tag group “%(name)s” saved."),
    )

    def create(self, data: dict[str, Any]) -> TagGroup:
        return services.tag_group_create(by=self.request.user, data=data)

    def update(self, obj: TagGroup, data: dict[str, Any], version: int | None) -> TagGroup:
        return services.tag_group_update(group=obj, by=self.request.user, data=data, version=version)


class TagGroupDeleteView(TagAdminView):
    action = Action.DELETE

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = get_object_or_404(TagGroup, pk=pk)
        return render(
            request,
            "tags/_confirm_modal.html",
            {
                "title": _("Delete tag group"),
                "action_url": reverse("tags:taggroup_delete", args=[group.pk]),
                "question": _("Delete the tag group “%(name)s”?") % {"name": group.name},
                "detail": _("Its tags stay, without a group. Tick the box to delete them too."),
                "delete_tags_option": group.tags.exists(),
                "danger": True,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = get_object_or_404(TagGroup, pk=pk)
        name = group.name
        url = reverse("tags:tag_list")
        try:
            services.tag_group_delete(
                group=group, by=request.user, delete_tags=bool(request.POST.get("delete_tags"))
            )
        except DomainError as exc:
            return _error_response(request, exc, url)
        return success_response(request, url=url, message=_("Tag group “%(name)s” deleted.") % {"name": name})


class TagAutocompleteView(LoginRequiredMixin, View):
    """``?model=customers.account&q=...``: active tags for a picker (tags are labels every user
    may read)."""

    def get(self, request: HttpRequest) -> JsonResponse:
        label = str(request.GET.get("model", ""))
        if label and not registry.is_taggable(label):
            return JsonResponse({"results": []})
        q = str(request.GET.get("q", ""))[:50].strip()
        tags = selectors.tag_search(model=label or None, q=q, limit=50)
        return JsonResponse(
            {
                "results": [
                    {
                        "id": t.pk,
                        "text": f"{t.group.name} · {t.name}" if t.group else t.name,
                        "colour": t.colour,
                    }
                    for t in tags
                ]
            }
        )


# --- static groups ---------------------------------------------------------------------------


def _list_url(label: str) -> str | None:
    model = registry.get_model(label)
    return object_url(model, "list") if model is not None else None


def _visible_group(request: HttpRequest, pk: int) -> StaticGroup:
    return get_object_or_404(selectors.static_groups_visible(request.user).select_related("owner"), pk=pk)


def _managed_group(request: HttpRequest, pk: int) -> StaticGroup:
    group = _visible_group(request, pk)
    if not services.may_manage_group(request.user, group):
        raise PermissionDenied
    return group


class StaticGroupListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        groups = list(
            selectors.static_groups_visible(request.user).select_related("owner").order_by("model", "name")
        )
        counts = selectors.static_group_member_counts(request.user, groups)
        names = dict(registry.model_choices())
        for group in groups:
            group.member_count = counts.get(group.pk, 0)  # type: ignore[attr-defined]
            group.model_name = names.get(group.model, group.model)  # type: ignore[attr-defined]
            group.may_manage = services.may_manage_group(request.user, group)  # type: ignore[attr-defined]
            list_url = _list_url(group.model)
            group.list_url = f"{list_url}?group={group.pk}" if list_url else ""  # type: ignore[attr-defined]
        mine = [g for g in groups if g.owner_id == request.user.pk]
        shared = [g for g in groups if g.owner_id != request.user.pk]
        return render(
            request,
            "tags/group_list.html",
            {"mine": mine, "shared": shared, "breadcrumbs": [(_("Static groups"), None)]},
        )


class StaticGroupDetailView(LoginRequiredMixin, View):
    """A group is its members: open the record list filtered by the group."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = _visible_group(request, pk)
        url = _list_url(group.model)
        if not url:
            raise Http404
        response = HttpResponse(status=302)
        response["Location"] = f"{url}?group={group.pk}"
        return response


class StaticGroupEditView(LoginRequiredMixin, View):
    def _render(self, request: HttpRequest, form: StaticGroupForm, group: StaticGroup | None) -> HttpResponse:
        return _render_form(
            request,
            form,
            title=_("Edit static group") if group else _("New static group"),
            action_url=request.get_full_path(),
            cancel_url=reverse("tags:group_list"),
            crumbs=[(_("Static groups"), reverse("tags:group_list"))],
            status=200 if is_htmx(request) or request.method == "GET" else 400,
        )

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        group = _managed_group(request, pk) if pk else None
        initial = {"model": request.GET["model"]} if group is None and request.GET.get("model") else {}
        return self._render(
            request, StaticGroupForm(instance=group, initial=initial, user=request.user), group
        )

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        group = _managed_group(request, pk) if pk else None
        form = StaticGroupForm(request.POST, instance=group, user=request.user)
        if form.is_valid():
            try:
                if group is None:
                    saved = services.static_group_create(by=request.user, data=form.service_data())
                    message = _("Static group “%(name)s” created.") % {"name": saved.name}
                else:
                    saved = services.static_group_update(
                        group=group, by=request.user, data=form.service_data(), version=form.version
                    )
                    message = _("Static group “%(name)s” saved.") % {"name": saved.name}
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                return success_response(request, url=reverse("tags:group_list"), message=message)
        return self._render(request, form, group)


class StaticGroupDeleteView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = _managed_group(request, pk)
        return render(
            request,
            "tags/_confirm_modal.html",
            {
                "title": _("Delete static group"),
                "action_url": reverse("tags:group_delete", args=[group.pk]),
                "question": _("Delete the static group “%(name)s”?") % {"name": group.name},
                "detail": _("The records themselves are not deleted."),
                "danger": True,
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = _managed_group(request, pk)
        name = group.name
        services.static_group_delete(group=group, by=request.user)
        return success_response(
            request,
            url=reverse("tags:group_list"),
            message=_("Static group “%(name)s” deleted.") % {"name": name},
        )


class AddToGroupView(LoginRequiredMixin, View):
    """ "Add to group" from a record's page: ``/groups/add/<app.model>/<pk>/``."""

    def _record(self, request: HttpRequest, model: str, pk: int) -> tuple[Any, Any]:
        cls = registry.get_model(model)
        if cls is None:
            raise Http404
        return cls, get_for_action(cls, request.user, pk, Action.VIEW)

    def _render(self, request: HttpRequest, form: AddToGroupForm, obj: Any, cls: Any) -> HttpResponse:
        return _render_form(
            request,
            form,
            title=_("Add “%(name)s” to a static group") % {"name": obj},
            action_url=request.get_full_path(),
            cancel_url=obj.get_absolute_url(),
            crumbs=[(_("Static groups"), reverse("tags:group_list"))],
            extra={
                "member_of": selectors.static_groups_of(request.user, obj),
                "form_fields_template": "tags/_add_to_group_fields.html",
            },
        )

    def get(self, request: HttpRequest, model: str, pk: int) -> HttpResponse:
        cls, obj = self._record(request, model, pk)
        return self._render(request, AddToGroupForm(user=request.user, model=cls), obj, cls)

    def post(self, request: HttpRequest, model: str, pk: int) -> HttpResponse:
        cls, obj = self._record(request, model, pk)
        form = AddToGroupForm(request.POST, user=request.user, model=cls)
        if form.is_valid():
            try:
                with transaction.atomic():
                    group = form.cleaned_data.get("group")
                    if group is None:
                        group = services.static_group_create(
                            by=request.user,
                            data={"name": form.cleaned_data["new_name"], "model": cls._meta.label_lower},
                        )
                    added = services.static_group_add(group=group, ids=[obj.pk], by=request.user)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                message = (_("Added to “%(name)s”.") if added else _("Already in “%(name)s”.")) % {
                    "name": group.name
                }
                return success_response(
                    request, url=safe_next(request) or obj.get_absolute_url(), message=message
                )
        return self._render(request, form, obj, cls)


class RemoveFromGroupView(LoginRequiredMixin, View):
    """POST ``ids`` (or ``/groups/<id>/remove/?ids=``): take records out of a group."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        group = _managed_group(request, pk)
        removed = services.static_group_remove(group=group, ids=_ids(request), by=request.user)
        url = safe_next(request) or reverse("tags:group_list")
        return success_response(
            request,
            url=url,
            message=_("%(n)d records removed from “%(name)s”.") % {"n": removed, "name": group.name},
        )
