"""Administration page of the collision check (撞单检查): the policy per record type and the key rebuild."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.errors import DomainError
from kehu.core.permissions import is_admin

from . import selectors, services
from .choices import PolicyMode


class AdminView(LoginRequiredMixin, View):
    """Signed in (else the sign-in page) and an administrator (else 403)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not is_admin(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PolicyView(AdminView):
    """GET: the policy of each record type; POST: save them (``mode:<model>`` = warn / block)."""

    def render_page(
        self, request: HttpRequest, errors: dict[str, str] | None = None, status: int = 200
    ) -> HttpResponse:
        from kehu.core.models import Job

        job = Job.objects.filter(kind=services.JOB_KIND).order_by("-id").first()
        return render(
            request,
            "dedup/policies.html",
            {
                "rows": selectors.collision_policies(),
                "modes": PolicyMode.choices,
                "errors": errors or {},
                "job": job,
                "breadcrumbs": [(_("Administration"), None), (_("Collision check"), None)],
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        errors: dict[str, str] = {}
        for row in selectors.collision_policies():
            mode = request.POST.get(f"mode:{row['model']}")
            if mode is None or mode == row["mode"]:
                continue
            try:
                services.collision_policy_set(model_label=row["model"], mode=mode, by=request.user)
            except DomainError as exc:
                errors[row["model"]] = str(exc.message)
        if errors:
            return self.render_page(request, errors, status=400)
        messages.success(request, _("Collision policies saved."))
        return HttpResponseRedirect(reverse("dedup:policies"))


class RebuildKeysView(AdminView):
    """POST: rebuild every match key in the background (after imports or restores)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        services.dedup_rebuild_start(by=request.user)
        messages.info(request, _("The match keys are being rebuilt in the background."))
        return HttpResponseRedirect(reverse("dedup:policies"))
