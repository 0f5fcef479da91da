"""The knowledge base (知识库): categories, articles with versions, votes. Public published
articles make the FAQ (常见问题); internal ones are for agents."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel
from kehu.core.permissions import RestrictedManager
from kehu.core.text import bilingual_name

from ..choices import ArticleStatus, ArticleVisibility


class ArticleCategory(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("article category")
        verbose_name_plural = _("article categories")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return bilingual_name(self.name, self.name_en)


class Article(TimeStampedModel):
    """A knowledge-base article. Every save of its text makes a new `ArticleVersion`; the article
    row holds the current one. `search_text` holds the tokens search matches (Chinese bigrams,
    pinyin, lower-cased words), rebuilt by the services."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=255)
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body = models.TextField(_("body"), blank=True)  # sanitised HTML
    body_text = models.TextField(_("body (text)"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=ArticleVisibility.choices, default=ArticleVisibility.INTERNAL
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    keywords = models.CharField(_("keywords"), max_length=255, blank=True)
    revision = models.PositiveIntegerField(_("version"), default=1)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_count = models.PositiveIntegerField(_("helpful"), default=0)
    not_helpful_count = models.PositiveIntegerField(_("not helpful"), default=0)
    search_text = models.TextField(_("search tokens"), blank=True, editable=False)
    version = models.PositiveIntegerField(_("edit version"), default=1)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("knowledge base article")
        verbose_name_plural = _("knowledge base articles")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["category", "-published_at"],
                name="service_article_public",
                condition=Q(status="published", visibility="public"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("service:article_detail", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED and self.visibility == ArticleVisibility.PUBLIC


class ArticleVersion(models.Model):
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions"
    )
    revision = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=255)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body = models.TextField(_("body"), blank=True)
    note = models.CharField(_("change note"), max_length=255, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["article", "revision"], name="service_article_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.revision}"


class ArticleVote(models.Model):
    """A "was this helpful?" answer; one per voter (user, or a hashed visitor key) per article —
    voting again changes the answer."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="votes"
    )
    helpful = models.BooleanField(_("helpful"))
    voter_key = models.CharField(_("voter"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("voted at"), auto_now=True)

    class Meta:
        verbose_name = _("article vote")
        verbose_name_plural = _("article votes")
        constraints = [
            models.UniqueConstraint(fields=["article", "voter_key"], name="service_article_vote_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {self.helpful}"


class TicketArticle(models.Model):
    """A knowledge-base article linked to a ticket (inserted into a reply, or linked by hand)."""

    ticket = models.ForeignKey(
        "service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="article_links"
    )
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="ticket_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("linked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket article")
        verbose_name_plural = _("ticket articles")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "article"], name="service_ticket_article_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.article_id}"
