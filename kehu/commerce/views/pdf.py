"""Quote PDF pages: download (zh/en), the send-by-e-mail dialog, and the company profile
(letterhead) settings page. Rendering is `kehu.commerce.pdf`, sending `services.sending`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, is_htmx, success_response
from kehu.core.permissions import can

from ..forms_pdf import CompanyProfileForm, QuoteSendForm
from ..models import CompanyProfile, Quote
from ..pdf import quote_pdf, quote_pdf_filename
from ..selectors.company import company_profile
from ..selectors.sending import quote_recipients
from ..services.company import company_profile_update
from ..services.sending import quote_send


def pdf_language(value: str | None, quote: Quote) -> str:
    """``?lang=en`` / ``zh`` / ``zh-hans``; anything else: the quote's own language."""
    value = (value or "").strip().lower()
    if value.startswith("en"):
        return "en"
    if value.startswith("zh"):
        return "zh-hans"
    return quote.language or "zh-hans"


def pdf_response(quote: Quote, language: str) -> HttpResponse:
    response = HttpResponse(quote_pdf(quote, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_filename(quote, language)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@method_decorator(login_required, name="dispatch")
class QuotePdfView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = Quote.objects.restrict(request.user, Action.VIEW).filter(pk=pk).first()
        if quote is None:
            raise Http404
        return pdf_response(quote, pdf_language(request.GET.get("lang"), quote))


def _quote_page(quote: Quote) -> str:
    try:
        return quote.get_absolute_url()
    except NoReverseMatch:
        return reverse("core:job_list")


def _default_subject(quote: Quote, language: str) -> str:
    profile = company_profile()
    with translation.override(language):
        company = profile.display_name(translation.get_language())
        subject = _("Quotation %(number)s") % {"number": str(quote)}
    return f"{subject} — {company}" if company else subject


def _default_message(quote: Quote, language: str, user: Any) -> str:
    with translation.override(language):
        return _(
            "Hello,\n\nPlease find attached our quotation %(number)s (%(subject)s).\n\n"
            "Best regards,\n%(name)s"
        ) % {
            "number": str(quote),
            "subject": quote.name,
            "name": user.get_full_name() or user.get_username(),
        }


@method_decorator(login_required, name="dispatch")
class QuoteSendView(View):
    """The send dialog (htmx modal; a full page without htmx) and its post."""

    template_name = "commerce/quotes/send.html"
    modal_template_name = "commerce/quotes/_send_modal.html"

    def render_form(
        self, request: HttpRequest, quote: Quote, form: QuoteSendForm, status: int = 200
    ) -> HttpResponse:
        context = {
            "quote": quote,
            "form": form,
            "title": _("Send quote %(number)s by e-mail") % {"number": str(quote)},
            "action_url": reverse("commerce:quote_send", args=[quote.pk]),
            "cancel_url": _quote_page(quote),
        }
        template = self.modal_template_name if is_htmx(request) else self.template_name
        return render(request, template, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = get_for_action(Quote, request.user, pk, Action.CHANGE)
        language = quote.language or "zh-hans"
        form = QuoteSendForm(
            initial={
                "to": ", ".join(quote_recipients(user=request.user, quote=quote)),
                "subject": _default_subject(quote, language),
                "message": _default_message(quote, language, request.user),
                "language": language,
            }
        )
        return self.render_form(request, quote, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        quote = get_for_action(Quote, request.user, pk, Action.CHANGE)
        form = QuoteSendForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                quote_send(
                    quote=quote,
                    by=request.user,
                    to=data["to"],
                    cc=data["cc"],
                    subject=data["subject"],
                    message=data["message"],
                    language=data["language"],
                )
            except DomainError as exc:
                shown = False
                for name, messages in exc.fields.items():
                    for message in messages:
                        if name in form.fields:
                            form.add_error(name, message)
                            shown = True
                if not shown:
                    form.add_error(None, str(exc.message))
            else:
                return success_response(
                    request,
                    url=_quote_page(quote),
                    message=_("Sending quote %(number)s: you will find it on the timeline once it is sent.")
                    % {"number": str(quote)},
                )
        return self.render_form(request, quote, form, status=400)


@method_decorator(login_required, name="dispatch")
class CompanyProfileView(View):
    """Settings → Company profile: the letterhead printed on quotes."""

    template_name = "commerce/settings/company_profile.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, CompanyProfile, Action.CHANGE):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, request: HttpRequest, form: CompanyProfileForm, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "profile": form.instance,
            "title": _("Company profile"),
            "breadcrumbs": [(_("Administration"), None), (_("Company profile"), None)],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(request, CompanyProfileForm(instance=company_profile(), user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        profile = company_profile()
        form = CompanyProfileForm(request.POST, request.FILES, instance=profile, user=request.user)
        if form.is_valid():
            logo = request.FILES.get("logo")
            try:
                company_profile_update(
                    by=request.user,
                    data=form.service_data(),
                    logo=logo,
                    remove_logo=form.cleaned_data.get("logo") is False,  # "clear" ticked
                )
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                from django.contrib import messages

                messages.success(request, _("The company profile was saved."))
                return redirect("commerce:company_profile")
        return self.render_form(request, form, status=400)


urlpatterns = [
    path("quotes/<int:pk>/pdf/", QuotePdfView.as_view(), name="quote_pdf"),
    path("quotes/<int:pk>/send/", QuoteSendView.as_view(), name="quote_send"),
    path("settings/company-profile/", CompanyProfileView.as_view(), name="company_profile"),
]
