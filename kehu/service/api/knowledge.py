"""The knowledge base over the API: articles (CRUD, the list's filters with ``q`` search, ranked
``search/`` with highlights, actions publish / unpublish / archive / restore / vote) and article
categories (CRUD). Writes go through `services.knowledge`."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.users.models import User

from ..filtersets_knowledge import ArticleFilterSet
from ..models import Article, ArticleCategory
from ..selectors import knowledge as selectors
from ..services import knowledge as services

ACTIONS = {
    **ACTION_MAP,
    "publish": Action.CHANGE,
    "unpublish": Action.CHANGE,
    "archive": Action.CHANGE,
    "restore": Action.CHANGE,
    "vote": Action.VIEW,
    "search": Action.VIEW,
    "versions": Action.VIEW,
}


class ArticleCategorySerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=100, required=False, allow_blank=True, help_text="Made from the name when empty."
    )

    class Meta:
        model = ArticleCategory
        fields = [
            "id",
            "name",
            "name_en",
            "slug",
            "parent",
            "description",
            "position",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []


class ArticleSerializer(serializers.ModelSerializer):
    """An article. `body` is HTML (sanitised when saved: scripts, styles and event handlers are
    removed); `body_text` is its plain text. `status` changes through the publish / unpublish /
    archive actions. Send the `version` you read to refuse overwriting someone else's change (409)."""

    version = serializers.IntegerField(required=False, help_text="Optimistic lock: the version you read.")
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        write_only=True,
        help_text="The change note of the new version.",
    )
    # The same choices object as User.Language, so the schema names one "LanguageEnum" (the model
    # field's choices=settings.LANGUAGES would make a second, colliding enum).
    language = serializers.ChoiceField(choices=User.Language.choices, required=False, default="zh-hans")
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id",
            "number",
            "title",
            "category",
            "summary",
            "body",
            "body_text",
            "status",
            "visibility",
            "language",
            "keywords",
            "revision",
            "author",
            "published_at",
            "view_count",
            "helpful_count",
            "not_helpful_count",
            "public_url",
            "version",
            "note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "body_text",
            "status",
            "revision",
            "author",
            "published_at",
            "view_count",
            "helpful_count",
            "not_helpful_count",
            "created_at",
            "updated_at",
        ]

    def get_public_url(self, obj: Article) -> str | None:
        from django.urls import reverse

        if not obj.is_public:
            return None
        request = self.context.get("request")
        path = reverse("help:faq_article", args=[obj.pk])
        return request.build_absolute_uri(path) if request is not None else path


class ArticleVersionSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField()
    body = serializers.CharField()
    note = serializers.CharField()
    edited_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class VoteSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)


class VersionActionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, help_text="Optimistic lock: the version you read.")


class RestoreSerializer(VersionActionSerializer):
    revision = serializers.IntegerField(
        min_value=1, help_text="The version (revision) to make current again."
    )


class ArticleSearchHitSerializer(serializers.Serializer):
    article = ArticleSerializer()
    score = serializers.FloatField()
    title_html = serializers.CharField(help_text="The title, escaped, with matches in <mark>.")
    snippet_html = serializers.CharField(
        help_text="Text around the first match, escaped, with matches in <mark>."
    )
    in_title = serializers.BooleanField()


@extend_schema_view(
    list=extend_schema(summary="List knowledge-base articles"),
    retrieve=extend_schema(summary="Get an article"),
    create=extend_schema(summary="Create an article (a draft)"),
    update=extend_schema(
        summary="Replace an article", responses={200: ArticleSerializer, 409: ErrorSerializer}
    ),
    partial_update=extend_schema(
        summary="Change an article", responses={200: ArticleSerializer, 409: ErrorSerializer}
    ),
    destroy=extend_schema(summary="Delete an article", responses={204: None, 409: ErrorSerializer}),
)
@extend_schema(tags=["service"])
class ArticleViewSet(RestrictedModelViewSet):
    """Knowledge-base articles (知识库): internal ones for agents, public ones in the FAQ once
    published. A change of the title, summary or body saves a new version."""

    model = Article
    serializer_class = ArticleSerializer
    filterset_class = ArticleFilterSet
    select_related = ("category",)

    def get_queryset(self) -> Any:
        needed = ACTIONS.get(self.action or "", Action.VIEW)
        return selectors.article_list(user=self.request.user, action=needed).select_related("category")

    def get_object(self) -> Any:
        try:
            return super().get_object()
        except Http404:
            if ACTIONS.get(self.action or "", Action.VIEW) != Action.VIEW:
                visible = selectors.article_list(user=self.request.user)
                if visible.filter(pk=str(self.kwargs.get("pk", ""))).exists():
                    raise PermissionDenied(_("You may not change this article.")) from None
            raise

    def perform_service_create(self, data: dict[str, Any]) -> Article:
        note = data.pop("note", "")
        return services.article_create(by=self.request.user, data=data, note=note)

    def perform_service_update(self, obj: Article, data: dict[str, Any], version: int | None) -> Article:
        note = data.pop("note", "")
        return services.article_update(
            article=obj, by=self.request.user, data=data, version=version, note=note
        )

    def perform_service_delete(self, obj: Article) -> None:
        services.article_delete(article=obj, by=self.request.user)

    def _move(self, request: Request, service: Any) -> Response:
        article = self.get_object()
        body = VersionActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = service(article=article, by=request.user, version=body.validated_data.get("version"))
        return Response(self._read(updated))

    @extend_schema(
        summary="Publish an article",
        request=VersionActionSerializer,
        responses={200: ArticleSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Publish (public articles appear in the FAQ). An article without a body is refused."""
        return self._move(request, services.article_publish)

    @extend_schema(
        summary="Unpublish an article",
        request=VersionActionSerializer,
        responses={200: ArticleSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Back to draft."""
        return self._move(request, services.article_unpublish)

    @extend_schema(
        summary="Archive an article",
        request=VersionActionSerializer,
        responses={200: ArticleSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Archive an outdated article (never shown publicly)."""
        return self._move(request, services.article_archive)

    @extend_schema(
        summary="Restore an earlier version",
        request=RestoreSerializer,
        responses={200: ArticleSerializer, 404: ErrorSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Make version `revision` current again, as a new version."""
        article = self.get_object()
        body = RestoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        updated = services.article_restore_version(
            article=article,
            revision=body.validated_data["revision"],
            by=request.user,
            version=body.validated_data.get("version"),
        )
        return Response(self._read(updated))

    @extend_schema(summary="An article's versions", responses={200: ArticleVersionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        article = self.get_object()
        rows = [
            {
                "revision": v.revision,
                "title": v.title,
                "summary": v.summary,
                "body": v.body,
                "note": v.note,
                "edited_by": str(v.edited_by) if v.edited_by else None,
                "created_at": v.created_at,
            }
            for v in selectors.article_versions(article)
        ]
        return Response(ArticleVersionSerializer(rows, many=True).data)

    @extend_schema(
        summary="Say whether an article helped",
        request=VoteSerializer,
        responses={200: ArticleSerializer, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The signed-in user's "was this helpful?" answer: one per user, voting again changes it.
        Only published articles take votes."""
        article = self.get_object()
        body = VoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.article_vote(
            article=article,
            helpful=body.validated_data["helpful"],
            voter_key=f"user:{request.user.pk}",
            user=request.user,
            comment=body.validated_data.get("comment", ""),
        )
        return Response(self._read(article))

    @extend_schema(
        summary="Search articles (ranked, highlighted)",
        parameters=[
            OpenApiParameter("q", str, required=True, description="Words, Chinese text or pinyin."),
            OpenApiParameter("published", bool, description="Only published articles."),
            OpenApiParameter("limit", int, description="At most this many (1–100, default 20)."),
        ],
        responses={200: ArticleSearchHitSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def search(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Best matches first: title matches, then body matches."""
        try:
            limit = int(request.query_params.get("limit", 20))
        except ValueError:
            raise serializers.ValidationError({"limit": [_("Enter a whole number.")]}) from None
        hits = selectors.article_search(
            user=request.user,
            q=request.query_params.get("q", ""),
            published_only=request.query_params.get("published") in ("1", "true", "yes"),
            limit=max(1, min(limit, selectors.MAX_LIMIT)),
        )
        rows = [
            {
                "article": h.article,
                "score": h.score,
                "title_html": str(h.title_html),
                "snippet_html": str(h.snippet_html),
                "in_title": h.in_title,
            }
            for h in hits
        ]
        return Response(ArticleSearchHitSerializer(rows, many=True, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(summary="List article categories"),
    retrieve=extend_schema(summary="Get an article category"),
    create=extend_schema(summary="Create an article category"),
    update=extend_schema(summary="Replace an article category"),
    partial_update=extend_schema(summary="Change an article category"),
    destroy=extend_schema(summary="Delete an article category", responses={204: None, 409: ErrorSerializer}),
)
@extend_schema(tags=["service"])
class ArticleCategoryViewSet(RestrictedModelViewSet):
    """Categories of the knowledge base (the FAQ's topics). Deleting one leaves its articles
    uncategorised; a category with sub-categories cannot be deleted."""

    model = ArticleCategory
    serializer_class = ArticleCategorySerializer

    def get_queryset(self) -> Any:
        needed = ACTIONS.get(self.action or "", Action.VIEW)
        return ArticleCategory.objects.restrict(self.request.user, needed)

    def perform_service_create(self, data: dict[str, Any]) -> ArticleCategory:
        return services.category_create(by=self.request.user, data=data)

    def perform_service_update(
        self, obj: ArticleCategory, data: dict[str, Any], version: int | None
    ) -> ArticleCategory:
        return services.category_update(category=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: ArticleCategory) -> None:
        services.category_delete(category=obj, by=self.request.user)


def register(router: SimpleRouter) -> None:
    router.register("articles", ArticleViewSet, basename="article")
    router.register("article-categories", ArticleCategoryViewSet, basename="articlecategory")
