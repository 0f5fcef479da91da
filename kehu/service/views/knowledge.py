"""Pages of the knowledge base (知识库).

Agents (/service/knowledge/): the article list (filters, search), an article's page (rendered
body, versions with a diff and restore, votes, linked tickets), the editor, categories, and
``suggest/``: the JSON the ticket reply editor inserts articles from.

The public FAQ (/help/, `public_urlpatterns`, no login): the help centre's home with categories and
search, a category's articles, an article (published public ones only, anything else 404) and its
"was this helpful?" answer (a plain form post, works without JavaScript, rate-limited).
Every read starts from `restrict()` (agents) or `selectors.public_articles()` (visitors); every
write calls one service."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.middleware import client_ip
from kehu.core.permissions import can
from kehu.core.search import clean_query

from ..choices import ArticleStatus
from ..filtersets_knowledge import ArticleFilterSet
from ..forms_knowledge import ArticleForm, CategoryForm, RestoreForm, VoteForm
from ..models import Article, ArticleCategory, ArticleVote, Ticket
from ..selectors import knowledge as selectors
from ..services import knowledge as services
from ..tables_knowledge import ArticleTable

SUGGEST_LIMIT = 10
PUBLIC_PAGE = 20
VOTES_PER_HOUR = 30  # per visitor IP: "was this helpful?" answers an hour


def _record_url(obj: Model) -> str | None:
    """A record's page, or None when its app has no page yet."""
    try:
        return obj.get_absolute_url()  # type: ignore[attr-defined]
    except (NoReverseMatch, AttributeError):
        return None


# --- list ----------------------------------------------------------------------------------------


class ArticleListView(generic.ObjectListView):
    model = Article
    table_class = ArticleTable
    filterset_class = ArticleFilterSet
    template_name = "service/knowledge/article_list.html"
    title = gettext_lazy("Knowledge base")

    def get_extra_context(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "add_url": reverse("service:article_add") if can(user, Article, Action.ADD) else None,
            "may_categories": can(user, ArticleCategory, Action.VIEW),
            "breadcrumbs": [(_("Knowledge base"), None)],
        }


# --- detail --------------------------------------------------------------------------------------


def _overview(request: HttpRequest, obj: Article) -> dict[str, Any]:
    return {"public_url": reverse("help:faq_article", args=[obj.pk]) if obj.is_public else None}


def _versions(request: HttpRequest, obj: Article) -> dict[str, Any]:
    versions = selectors.article_versions(obj)
    revisions = [v.revision for v in versions]

    def pick(name: str, default: int | None) -> int | None:
        try:
            value = int(request.GET.get(name, ""))
        except ValueError:
            return default
        return value if value in revisions else default

    new = pick("new", revisions[0] if revisions else None)
    old = pick("old", revisions[1] if len(revisions) > 1 else new)
    diff = selectors.version_diff(obj, old, new) if old and new and old != new else []
    return {"versions": versions, "diff": diff, "diff_old": old, "diff_new": new}


def _votes(request: HttpRequest, obj: Article) -> dict[str, Any]:
    votes = list(ArticleVote.objects.filter(article=obj).select_related("user").order_by("-created_at")[:100])
    total = obj.helpful_count + obj.not_helpful_count
    share = round(100 * obj.helpful_count / total) if total else None
    return {"votes": votes, "votes_total": total, "helpful_share": share}


def _tickets(request: HttpRequest, obj: Article) -> dict[str, Any]:
    links = selectors.article_tickets(user=request.user, article=obj)
    return {"links": [(link, _record_url(link.ticket)) for link in links]}


class ArticleDetailView(generic.ObjectDetailView):
    model = Article
    template_name = "service/knowledge/article_detail.html"
    select_related = ("category", "author")
    tabs = [
        generic.Tab(
            "overview",
            gettext_lazy("Article"),
            "service/knowledge/_overview.html",
            icon="file-text",
            order=0,
            context=_overview,
        ),
        generic.Tab(
            "versions",
            gettext_lazy("Versions"),
            "service/knowledge/_versions.html",
            icon="versions",
            order=10,
            context=_versions,
        ),
        generic.Tab(
            "votes",
            gettext_lazy("Feedback"),
            "service/knowledge/_votes.html",
            icon="thumb-up",
            order=20,
            context=_votes,
        ),
        generic.Tab(
            "tickets",
            gettext_lazy("Tickets"),
            "service/knowledge/_tickets.html",
            icon="ticket",
            order=30,
            context=_tickets,
        ),
    ]

    def get_extra_context(self, obj: Article) -> dict[str, Any]:
        return {
            "published": obj.status == ArticleStatus.PUBLISHED,
            "archived": obj.status == ArticleStatus.ARCHIVED,
            "public_url": reverse("help:faq_article", args=[obj.pk]) if obj.is_public else None,
            "breadcrumbs": [(_("Knowledge base"), reverse("service:article_list")), (obj.title, None)],
        }


# --- edit ----------------------------------------------------------------------------------------


class ArticleEditView(generic.ObjectEditView):
    """The editor (a full page: the body needs room). "Save and publish" publishes too."""

    model = Article
    form_class = ArticleForm
    template_name = "service/knowledge/article_form.html"
    modal_template_name = "service/knowledge/article_form.html"

    def get_initial(self, obj: Article | None) -> dict[str, Any]:
        initial = super().get_initial(obj)
        if obj is None:
            initial.setdefault("language", self.request.LANGUAGE_CODE or settings.LANGUAGE_CODE)
        return initial

    def save(self, form: ArticleForm, obj: Article | None) -> Article:
        user = self.request.user
        data = form.service_data()
        note = form.cleaned_data.get("note", "")
        publish = "publish" in self.request.POST
        if obj is None:
            article = services.article_create(by=user, data=data, note=note)
        else:
            article = services.article_update(
                article=obj, by=user, data=data, version=form.version, note=note
            )
        if publish and article.status != ArticleStatus.PUBLISHED:
            article = services.article_publish(article=article, by=user)
        return article

    def render_form(self, form: Any, obj: Any, status: int = 200) -> HttpResponse:
        title = _("Edit article") if obj is not None else _("New article")
        crumbs: list[tuple[str, str | None]] = [(_("Knowledge base"), reverse("service:article_list"))]
        if obj is not None:
            crumbs.append((obj.title, obj.get_absolute_url()))
        crumbs.append((title, None))
        context = {
            "form": form,
            "object": obj,
            "title": title,
            "action_url": self.request.get_full_path(),
            "cancel_url": obj.get_absolute_url() if obj is not None else reverse("service:article_list"),
            "breadcrumbs": crumbs,
        }
        return render(self.request, self.template_name, context, status=status)


class ArticleDeleteView(generic.ObjectDeleteView):
    model = Article

    def delete(self, obj: Article) -> None:
        services.article_delete(article=obj, by=self.request.user)

    def get_success_url(self) -> str:
        return reverse("service:article_list")


def _article_for(request: HttpRequest, pk: int, action: str) -> Article:
    if not can(request.user, Article, action):
        if Article.objects.restrict(request.user, Action.VIEW).filter(pk=pk).exists():
            raise PermissionDenied
        raise Http404
    return generic.get_for_action(Article, request.user, pk, action)


def _version_param(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["version"])
    except (KeyError, ValueError):
        return None


def _move_view(service: Any, message: Any) -> Any:
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        article = _article_for(request, pk, Action.CHANGE)
        try:
            service(article=article, by=request.user, version=_version_param(request))
        except DomainError as exc:
            return generic.success_response(
                request, url=article.get_absolute_url(), message=str(exc.message), level="error"
            )
        return generic.success_response(request, url=article.get_absolute_url(), message=message)

    return view


article_publish_view = _move_view(services.article_publish, gettext_lazy("Article published."))
article_unpublish_view = _move_view(services.article_unpublish, gettext_lazy("Article unpublished."))
article_archive_view = _move_view(services.article_archive, gettext_lazy("Article archived."))


@login_required
@require_POST
def article_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Make an earlier version current again (as a new version)."""
    article = _article_for(request, pk, Action.CHANGE)
    form = RestoreForm(request.POST)
    url = reverse("service:article_detail", args=[pk]) + "?tab=versions"
    if not form.is_valid():
        return generic.success_response(request, url=url, message=_("Choose a version."), level="error")
    try:
        restored = services.article_restore_version(
            article=article,
            revision=form.cleaned_data["revision"],
            by=request.user,
            version=form.cleaned_data.get("version"),
        )
    except DomainError as exc:
        return generic.success_response(request, url=url, message=str(exc.message), level="error")
    return generic.success_response(
        request,
        url=url,
        message=_("Version %(old)s restored as version %(new)s.")
        % {"old": form.cleaned_data["revision"], "new": restored.revision},
    )


@login_required
@require_POST
def article_vote_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent's own "was this helpful?" answer (one per agent; again changes it)."""
    article = get_object_or_404(Article.objects.restrict(request.user, Action.VIEW), pk=pk)
    form = VoteForm(request.POST)
    url = article.get_absolute_url()
    if not form.is_valid():
        return generic.success_response(request, url=url, message=_("Answer yes or no."), level="error")
    try:
        services.article_vote(
            article=article,
            helpful=form.cleaned_data["helpful"],
            voter_key=f"user:{request.user.pk}",
            user=request.user,
            comment=form.cleaned_data.get("comment", ""),
        )
    except DomainError as exc:
        return generic.success_response(request, url=url, message=str(exc.message), level="error")
    return generic.success_response(request, url=url, message=_("Thank you for your feedback."))


@login_required
@require_POST
def article_ticket_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Link (``ticket=<id>``) or, with ``unlink=1``, unlink a ticket the user may change."""
    article = get_object_or_404(Article.objects.restrict(request.user, Action.VIEW), pk=pk)
    try:
        ticket_id = int(request.POST.get("ticket", ""))
    except ValueError:
        raise Http404 from None
    ticket = get_object_or_404(Ticket.objects.restrict(request.user, Action.VIEW), pk=ticket_id)
    if not Ticket.objects.restrict(request.user, Action.CHANGE).filter(pk=ticket.pk).exists():
        raise PermissionDenied
    back = generic.safe_next(request) or (article.get_absolute_url() + "?tab=tickets")
    try:
        if request.POST.get("unlink"):
            services.ticket_article_unlink(ticket=ticket, article=article, by=request.user)
            message = _("Link removed.")
        else:
            services.ticket_article_link(ticket=ticket, article=article, by=request.user)
            message = _("Article linked to ticket %(number)s.") % {"number": ticket.number}
    except DomainError as exc:
        return generic.success_response(request, url=back, message=str(exc.message), level="error")
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": True, "message": message})
    return generic.success_response(request, url=back, message=message)


# --- the reply editor's suggestions --------------------------------------------------------------


@login_required
@require_GET
def article_suggest_view(request: HttpRequest) -> HttpResponse:
    """Published articles (internal and public) for the ticket reply editor.

    ``GET /service/knowledge/suggest/?q=退款&limit=10`` (``q`` empty: the most viewed). Answers
    JSON, or with ``HX-Request`` (htmx) a ``<div class="list-group">`` of the same, each item a
    button carrying ``data-article-id``, ``data-title``, ``data-url`` and the body in a
    ``<template>``::

        {"results": [{
            "id": 12, "number": "KB-00012", "title": "如何申请退款",
            "summary": "…", "category": "售后服务" | null, "visibility": "public" | "internal",
            "url": "/service/knowledge/12/",            # the agents' page
            "public_url": "http://host/help/articles/12/" | null,  # absolute; null if not public
            "body_html": "<p>…</p>",                      # sanitised HTML, to insert
            "body_text": "…",                             # plain text (for a text-only reply)
            "snippet_html": "…<mark>退款</mark>…"          # highlighted, for the picker
        }]}

    Users without "view" on articles get an empty list. To record the use, the editor posts
    ``ticket=<id>`` to ``service:article_ticket_link`` (or the reply service calls
    `services.knowledge.ticket_article_link`)."""
    q = clean_query(request.GET.get("q"))
    try:
        limit = max(1, min(int(request.GET.get("limit", SUGGEST_LIMIT)), 50))
    except ValueError:
        limit = SUGGEST_LIMIT
    articles = selectors.article_suggest(user=request.user, q=q, limit=limit)
    results = []
    for a in articles:
        public = request.build_absolute_uri(reverse("help:faq_article", args=[a.pk])) if a.is_public else None
        results.append(
            {
                "id": a.pk,
                "number": a.number,
                "title": a.title,
                "summary": a.summary,
                "category": str(a.category) if a.category_id else None,
                "visibility": a.visibility,
                "url": a.get_absolute_url(),
                "public_url": public,
                "body_html": a.body,
                "body_text": a.body_text,
                "snippet_html": str(selectors.highlight(a.body_text or a.summary, q)),
            }
        )
    if generic.is_htmx(request):
        return render(request, "service/knowledge/_suggest.html", {"results": results, "q": q})
    return JsonResponse({"results": results})


# --- categories ----------------------------------------------------------------------------------


@login_required
@require_GET
def category_list_view(request: HttpRequest) -> HttpResponse:
    if not can(request.user, ArticleCategory, Action.VIEW):
        raise PermissionDenied
    categories = list(selectors.category_list(user=request.user).select_related("parent"))
    return render(
        request,
        "service/knowledge/category_list.html",
        {
            "categories": categories,
            "may_add": can(request.user, ArticleCategory, Action.ADD),
            "may_change": can(request.user, ArticleCategory, Action.CHANGE),
            "may_delete": can(request.user, ArticleCategory, Action.DELETE),
            "breadcrumbs": [
                (_("Knowledge base"), reverse("service:article_list")),
                (_("Categories"), None),
            ],
        },
    )


class CategoryEditView(generic.ObjectEditView):
    model = ArticleCategory
    form_class = CategoryForm

    def list_crumb(self) -> tuple[str, str | None]:
        return _("Categories"), reverse("service:articlecategory_list")

    def get_success_url(self, obj: ArticleCategory) -> str:
        return reverse("service:articlecategory_list")

    def save(self, form: CategoryForm, obj: ArticleCategory | None) -> ArticleCategory:
        if obj is None:
            return services.category_create(by=self.request.user, data=form.service_data())
        return services.category_update(category=obj, by=self.request.user, data=form.service_data())


class CategoryDeleteView(generic.ObjectDeleteView):
    model = ArticleCategory

    def list_crumb(self) -> tuple[str, str | None]:
        return _("Categories"), reverse("service:articlecategory_list")

    def delete(self, obj: ArticleCategory) -> None:
        services.category_delete(category=obj, by=self.request.user)

    def get_success_url(self) -> str:
        return reverse("service:articlecategory_list")


urlpatterns: list[URLPattern] = [
    path("knowledge/", ArticleListView.as_view(), name="article_list"),
    path("knowledge/add/", ArticleEditView.as_view(), name="article_add"),
    path("knowledge/suggest/", article_suggest_view, name="article_suggest"),
    path("knowledge/<int:pk>/", ArticleDetailView.as_view(), name="article_detail"),
    path("knowledge/<int:pk>/edit/", ArticleEditView.as_view(), name="article_edit"),
    path("knowledge/<int:pk>/delete/", ArticleDeleteView.as_view(), name="article_delete"),
    path("knowledge/<int:pk>/publish/", article_publish_view, name="article_publish"),
    path("knowledge/<int:pk>/unpublish/", article_unpublish_view, name="article_unpublish"),
    path("knowledge/<int:pk>/archive/", article_archive_view, name="article_archive"),
    path("knowledge/<int:pk>/restore/", article_restore_view, name="article_restore"),
    path("knowledge/<int:pk>/vote/", article_vote_view, name="article_vote"),
    path("knowledge/<int:pk>/tickets/", article_ticket_link_view, name="article_ticket_link"),
    path("knowledge/categories/", category_list_view, name="articlecategory_list"),
    path("knowledge/categories/add/", CategoryEditView.as_view(), name="articlecategory_add"),
    path("knowledge/categories/<int:pk>/edit/", CategoryEditView.as_view(), name="articlecategory_edit"),
    path(
        "knowledge/categories/<int:pk>/delete/", CategoryDeleteView.as_view(), name="articlecategory_delete"
    ),
]


# --- the public FAQ (/help/) ---------------------------------------------------------------------


def _rate_limited(request: HttpRequest) -> bool:
    """More than `VOTES_PER_HOUR` answers from one address within the hour."""
    ip = client_ip(request) or "unknown"
    key = "kehu:faq-votes:" + hashlib.sha256(ip.encode()).hexdigest()[:32]
    if cache.add(key, 1, timeout=3600):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired in between
        cache.add(key, 1, timeout=3600)
        return False
    return count > VOTES_PER_HOUR


def _public_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"categories": selectors.public_categories(), "q": clean_query(request.GET.get("q")), **extra}


@require_GET
def faq_home_view(request: HttpRequest) -> HttpResponse:
    """The help centre: search, categories with their most helpful articles, popular articles."""
    q = clean_query(request.GET.get("q"))
    if q:
        hits = selectors.article_search(user=None, q=q, public_only=True, limit=PUBLIC_PAGE)
        return render(request, "service/knowledge/public/search.html", _public_context(request, hits=hits))
    categories = selectors.public_categories()
    public = selectors.public_articles()
    language = request.LANGUAGE_CODE
    top: dict[int, list[Article]] = {}
    for category in categories:
        in_category = public.filter(category=category).order_by("-helpful_count", "-view_count", "-pk")
        top[category.pk] = list(selectors.reader_first(in_category, language)[:5])
    popular = list(selectors.reader_first(public.order_by("-view_count", "-pk"), language)[:8])
    return render(
        request,
        "service/knowledge/public/home.html",
        {"categories": [(c, top[c.pk]) for c in categories], "popular": popular, "q": ""},
    )


@require_GET
def faq_category_view(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(ArticleCategory, slug=slug)
    in_category = selectors.public_articles().filter(category=category).order_by("-helpful_count", "title")
    articles = list(selectors.reader_first(in_category, request.LANGUAGE_CODE))
    if not articles:
        raise Http404
    return render(
        request,
        "service/knowledge/public/category.html",
        _public_context(request, category=category, articles=articles),
    )


@require_GET
def faq_article_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A published public article (anything else: 404). Counts the view (once per session for
    visitors who have one; reading never makes a session)."""
    article = selectors.public_article(pk)
    if article is None:
        raise Http404
    services.faq_article_viewed(article=article, session=request.session)
    voted = services.faq_voted(article=article, session=request.session)
    return render(
        request,
        "service/knowledge/public/article.html",
        _public_context(
            request,
            article=article,
            related=selectors.related_public(article, language=request.LANGUAGE_CODE),
            voted=voted,
            thanks=request.GET.get("voted") == "1",
        ),
    )


@require_http_methods(["POST"])
def faq_vote_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Was this helpful?" from a visitor: one answer per visitor (answering again changes it);
    a plain form post that redirects back (no JavaScript needed); too many answers from one
    address within the hour are refused (429)."""
    article = selectors.public_article(pk)
    if article is None:
        raise Http404
    form = VoteForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "service/knowledge/public/article.html",
            _public_context(request, article=article, related=[], vote_error=_("Answer yes or no.")),
            status=400,
        )
    if _rate_limited(request):
        return render(
            request,
            "service/knowledge/public/article.html",
            _public_context(
                request,
                article=article,
                related=[],
                vote_error=_("Too many answers from your address: please try again later."),
            ),
            status=429,
        )
    try:
        services.faq_vote(
            article=article,
            helpful=form.cleaned_data["helpful"],
            session=request.session,
            user=request.user if request.user.is_authenticated else None,
            comment=form.cleaned_data.get("comment", ""),
        )
    except DomainError as exc:
        return render(
            request,
            "service/knowledge/public/article.html",
            _public_context(request, article=article, related=[], vote_error=str(exc.message)),
            status=exc.status,
        )
    return HttpResponseRedirect(reverse("help:faq_article", args=[article.pk]) + "?voted=1#feedback")


public_urlpatterns: list[URLPattern] = [
    path("", faq_home_view, name="faq_home"),
    path("categories/<slug:slug>/", faq_category_view, name="faq_category"),
    path("articles/<int:pk>/", faq_article_view, name="faq_article"),
    path("articles/<int:pk>/vote/", faq_vote_view, name="faq_vote"),
]
