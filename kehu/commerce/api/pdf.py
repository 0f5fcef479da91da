"""API: a quote as a PDF (`GET /api/v1/commerce/quotes/{id}/pdf/?lang=zh|en`), the same renderer
as the page's download button."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from kehu.core.choices import Action

from ..models import Quote
from ..pdf import quote_pdf, quote_pdf_filename

LANGUAGES = {"zh": "zh-hans", "zh-hans": "zh-hans", "en": "en"}


class PdfRenderer(renderers.BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class QuotePdfAPIView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [renderers.JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="commerce_quotes_pdf",
        summary="Download a quote as a PDF",
        description="The quote in Chinese (`lang=zh`) or English (`lang=en`); without `lang`, in the "
        "quote's own language. Fonts are embedded (Noto Sans SC subset).",
        parameters=[
            OpenApiParameter("lang", OpenApiTypes.STR, enum=["zh", "zh-hans", "en"], required=False),
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Unknown language."),
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such quote (or not yours to see)."),
        },
        tags=["commerce"],
    )
    def get(self, request: Request, id: int) -> HttpResponse:
        quote = Quote.objects.restrict(request.user, Action.VIEW).filter(pk=id).first()
        if quote is None:
            raise NotFound()
        lang = request.query_params.get("lang")
        if lang is None or lang == "":
            language = quote.language or "zh-hans"
        elif lang.lower() in LANGUAGES:
            language = LANGUAGES[lang.lower()]
        else:
            raise ValidationError({"lang": [_("Choose zh or en.")]})
        response = HttpResponse(quote_pdf(quote, language=language), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{quote_pdf_filename(quote, language)}"'
        return response


urlpatterns = [path("quotes/<int:id>/pdf/", QuotePdfAPIView.as_view(), name="quote-pdf")]
