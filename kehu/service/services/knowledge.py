"""Writes to the knowledge base (知识库): categories, articles and their versions, "was this helpful?"
votes, view counts and links between articles and tickets.

* Every change of an article's text (title, summary, body) saves an `ArticleVersion` and bumps
  `revision`; every write bumps `version` (optimistic locking: a stale edit is refused).
* Bodies are sanitised (`kehu.core.richtext.sanitize_html`); `body_text` is their plain text and
  `search_text` the search tokens (see `article_tokens`), rebuilt on each write.
* Counters (views, helpful / not helpful) move with `F()` updates, never read-modify-write; a vote
  locks its article row, so parallel votes of one voter never count twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kehu.core.errors import StaleObjectError
from kehu.core.richtext import html_to_text, sanitize_html
from kehu.core.services import sequence_next
from kehu.search.tokens import Document, cjk_grams, is_cjk, pinyin_tokens, words

from ..choices import ArticleStatus
from ..models import Article, ArticleCategory, ArticleVersion, ArticleVote, Ticket, TicketArticle
from .common import ServiceError

ARTICLE_FIELDS = ("title", "category", "summary", "body", "status", "visibility", "language", "keywords")
TEXT_FIELDS = ("title", "summary", "body")
SEARCH_FIELDS = ("title", "summary", "body", "keywords")
CATEGORY_FIELDS = ("name", "name_en", "slug", "parent", "description", "position")
MAX_BODY_TEXT = 200_000  # characters of plain text kept for search and previews
MAX_BODY_TOKENS_TEXT = 20_000  # characters of the body that make search tokens

PUBLISHED_EVENT = "article.published"
UNPUBLISHED_EVENT = "article.unpublished"
ARCHIVED_EVENT = "article.archived"
RESTORED_EVENT = "article.version_restored"


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> ServiceError:
    return ServiceError(message or _("Please correct the errors below."), fields=fields)


def _clean(obj: Any, exclude: tuple[str, ...] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as exc:
        raise _invalid({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from None


def _check_version(obj: Article, version: int | None) -> None:
    if version is not None and int(version) != obj.version:
        raise StaleObjectError(
            _(
                "Someone else changed this article after you opened it. Your changes were not saved: "
                "reload to see the current text, then make your changes again."
            )
        )


# --- search tokens ----------------------------------------------------------------------------


def article_tokens(*, title: str, keywords: str = "", summary: str = "", body_text: str = "") -> str:
    """The search tokens of an article, as stored in `Article.search_text`: the title's and the
    keywords' tokens (whole runs, Chinese bigrams, pinyin full and initials), a newline, then the
    summary's and the body's (bigrams and words). Search ranks a match in the first part (the
    title) above one in the second (the body)."""
    doc = Document()
    for text in (title, *re.split(r"[,，;；、\s]+", keywords or "")):
        for w in words(text):
            doc.name.append(w)
            if is_cjk(w):
                whole, stretch = pinyin_tokens(w)
                doc.name.extend([*cjk_grams(w), *whole, *stretch])
    doc.add_text(summary)
    doc.add_text((body_text or "")[:MAX_BODY_TOKENS_TEXT])
    name, other = doc.columns()
    return f"{name}\n{other}"


def split_tokens(search_text: str) -> tuple[str, str]:
    """(title tokens, body tokens) of a stored `search_text`."""
    name, _sep, other = (search_text or "").partition("\n")
    return name, other


def _refresh_text(article: Article) -> None:
    article.body = sanitize_html(article.body)
    article.body_text = html_to_text(article.body)[:MAX_BODY_TEXT]
    article.search_text = article_tokens(
        title=article.title, keywords=article.keywords, summary=article.summary, body_text=article.body_text
    )


def _save_version(article: Article, by: Any, note: str = "") -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        revision=article.revision,
        title=article.title,
        summary=article.summary,
        body=article.body,
        note=(note or "")[:255],
        edited_by=by if getattr(by, "pk", None) else None,
    )


def _apply(article: Article, data: Mapping[str, Any]) -> set[str]:
    """Set the known fields of `data` on `article`; the names whose value changed."""
    changed: set[str] = set()
    for name in ARTICLE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "body":
            value = sanitize_html(value or "")
        elif name in ("title", "summary", "keywords"):
            value = (value or "").strip()
        current = getattr(article, name)
        if name == "category":
            current = article.category
        if value != current:
            setattr(article, name, value)
            changed.add(name)
    return changed


def _check_text(article: Article) -> None:
    if not article.title.strip():
        raise _invalid({"title": [_("An article needs a title.")]})


def _set_published(article: Article, status: str) -> None:
    if status == ArticleStatus.PUBLISHED:
        if not article.body_text.strip():
            raise ServiceError(
                _("An article needs a body before it is published."),
                code=ServiceError.BAD_TRANSITION,
                fields={"body": [_("Write the article before publishing it.")]},
            )
        if article.published_at is None:
            article.published_at = timezone.now()


# --- articles ---------------------------------------------------------------------------------


@transaction.atomic
def article_create(*, by: Any, data: Mapping[str, Any], note: str = "") -> Article:
    """A new article (a draft unless `data["status"]` says otherwise) with its number (KB-00001)
    and its first version."""
    article = Article(author=by if getattr(by, "pk", None) else None)
    _apply(article, data)
    _check_text(article)
    _refresh_text(article)
    _set_published(article, article.status)
    article.number = "pending"
    _clean(article, exclude=("number",))
    article.number = sequence_next(key="article", prefix="KB")
    article.revision = 1
    article.version = 1
    article.save()
    _save_version(article, by, note or _("Created"))
    return article


@transaction.atomic
def article_update(
    *, article: Article, by: Any, data: Mapping[str, Any], version: int | None = None, note: str = ""
) -> Article:
    """Change an article. A change of its title, summary or body saves a new version (`revision`
    + 1) with `note`; any change bumps `version`. `version` is the one the editor started from:
    when someone saved meanwhile, nothing is saved (StaleObjectError)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    _check_version(article, version)
    changed = _apply(article, data)
    if not changed:
        return article
    _check_text(article)
    if changed & set(SEARCH_FIELDS):
        _refresh_text(article)
    if "status" in changed:
        _set_published(article, article.status)
    _clean(article)
    if changed & set(TEXT_FIELDS):
        article.revision += 1
    article.version += 1
    article.save()
    if changed & set(TEXT_FIELDS):
        _save_version(article, by, note)
    return article


def _move(article: Article, by: Any, status: str, event: str, version: int | None) -> Article:
    from kehu.audit.services import timeline_record

    article = Article.objects.select_for_update().get(pk=article.pk)
    _check_version(article, version)
    if article.status == status:
        return article
    before = article.status
    article.status = status
    _set_published(article, status)
    article.version += 1
    article.save(update_fields=["status", "published_at", "version", "updated_at"])
    timeline_record(event=event, obj=article, by=by, data={"changes": {"status": [before, status]}})
    return article


@transaction.atomic
def article_publish(*, article: Article, by: Any, version: int | None = None) -> Article:
    """Publish: public articles appear in the FAQ, internal ones in agents' suggestions. Needs a body."""
    return _move(article, by, ArticleStatus.PUBLISHED, PUBLISHED_EVENT, version)


@transaction.atomic
def article_unpublish(*, article: Article, by: Any, version: int | None = None) -> Article:
    """Back to draft (it leaves the FAQ and the suggestions; votes and links stay)."""
    return _move(article, by, ArticleStatus.DRAFT, UNPUBLISHED_EVENT, version)


@transaction.atomic
def article_archive(*, article: Article, by: Any, version: int | None = None) -> Article:
    """Archive an outdated article (kept with its history, found by agents, never shown publicly)."""
    return _move(article, by, ArticleStatus.ARCHIVED, ARCHIVED_EVENT, version)


@transaction.atomic
def article_restore_version(
    *, article: Article, revision: int, by: Any, version: int | None = None
) -> Article:
    """Make an earlier version's title, summary and body current again, as a new version (history
    is never rewritten)."""
    from kehu.audit.services import timeline_record

    old = ArticleVersion.objects.filter(article_id=article.pk, revision=revision).first()
    if old is None:
        raise ServiceError(
            _("This article has no version %(revision)s.") % {"revision": revision},
            code=ServiceError.NOT_ALLOWED,
            fields={"revision": [_("Choose a version of this article.")]},
            status=404,
        )
    current = Article.objects.select_for_update().get(pk=article.pk)
    _check_version(current, version)
    if (current.title, current.summary, current.body) == (old.title, old.summary, old.body):
        return current
    updated = article_update(
        article=current,
        by=by,
        data={"title": old.title, "summary": old.summary, "body": old.body},
        note=_("Restored version %(revision)s") % {"revision": revision},
    )
    timeline_record(event=RESTORED_EVENT, obj=updated, by=by, data={"revision": revision})
    return updated


@transaction.atomic
def article_delete(*, article: Article, by: Any) -> None:
    """Delete an article with its versions, votes and ticket links. A published article must be
    unpublished (or archived) first, so nothing disappears from the FAQ by accident."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == ArticleStatus.PUBLISHED:
        raise ServiceError(
            _("A published article cannot be deleted: unpublish or archive it first."),
            code=ServiceError.NOT_ALLOWED,
            status=409,
        )
    article.delete()


# --- votes and views --------------------------------------------------------------------------


def _counter(helpful: bool) -> str:
    return "helpful_count" if helpful else "not_helpful_count"


@transaction.atomic
def article_vote(
    *, article: Article, helpful: bool, voter_key: str, user: Any = None, comment: str = ""
) -> ArticleVote:
    """Record a "was this helpful?" answer. One answer per voter (`voter_key`: "user:<id>" for a
    signed-in user, a hashed visitor key for the public FAQ): voting again changes the answer,
    never adds one. Only published articles take votes. The counters move with F() updates while
    the article row is locked (parallel votes of one voter are serialised)."""
    voter_key = (voter_key or "").strip()[:64]
    if not voter_key:
        raise ServiceError(_("Who votes is unknown."), code=ServiceError.NOT_ALLOWED)
    locked = (
        Article.objects.select_for_update().filter(pk=article.pk).values_list("status", flat=True).first()
    )
    if locked != ArticleStatus.PUBLISHED:
        raise ServiceError(
            _("Only published articles can be rated."), code=ServiceError.NOT_ALLOWED, status=409
        )
    helpful = bool(helpful)
    comment = (comment or "").strip()[:500]
    vote = ArticleVote.objects.filter(article_id=article.pk, voter_key=voter_key).first()
    if vote is None:
        try:
            with transaction.atomic():
                vote = ArticleVote.objects.create(
                    article_id=article.pk,
                    voter_key=voter_key,
                    helpful=helpful,
                    user=user if getattr(user, "pk", None) else None,
                    comment=comment,
                )
        except IntegrityError:  # the same voter, in parallel (SQLite does not lock rows)
            vote = ArticleVote.objects.get(article_id=article.pk, voter_key=voter_key)
        else:
            Article.objects.filter(pk=article.pk).update(**{_counter(helpful): F(_counter(helpful)) + 1})
            return vote
    fields = ["created_at"]
    if vote.helpful != helpful:
        updated = ArticleVote.objects.filter(pk=vote.pk, helpful=vote.helpful).update(
            helpful=helpful, created_at=timezone.now()
        )
        if updated:
            Article.objects.filter(pk=article.pk).update(
                **{
                    _counter(helpful): F(_counter(helpful)) + 1,
                    _counter(not helpful): F(_counter(not helpful)) - 1,
                }
            )
        vote.helpful = helpful
    if comment and comment != vote.comment:
        vote.comment = comment
        fields.append("comment")
    vote.save(update_fields=fields)
    return vote


def article_view_count(*, article: Article) -> None:
    """Count a view (one UPDATE with F(): no lost views under parallel readers; `version` and
    `updated_at` stay, so an editor's form does not go stale)."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


# --- the public FAQ's visitors ------------------------------------------------------------------
# A visitor's session is made only when they vote (a POST): reading never makes one, so a cookieless
# crawler does not leave a session row per page it fetches.

FAQ_SEEN_KEY = "kehu_faq_seen"
FAQ_VOTED_KEY = "kehu_faq_voted"
FAQ_SEEN_KEPT = 200


def _has_session(session: SessionBase) -> bool:
    """Whether the visitor already has a stored session (loading it first: a cookie naming an
    expired session leaves none)."""
    session.get(FAQ_SEEN_KEY)
    return bool(session.session_key)


def faq_article_viewed(*, article: Article, session: SessionBase) -> None:
    """A public reader opened the article: count the view, once per session for visitors who have
    one; without a session every read counts and none is made."""
    if not _has_session(session):
        article_view_count(article=article)
        return
    seen = list(session.get(FAQ_SEEN_KEY, []))
    if article.pk in seen:
        return
    article_view_count(article=article)
    session[FAQ_SEEN_KEY] = [*seen[-(FAQ_SEEN_KEPT - 1) :], article.pk]


def faq_voter_key(*, session: SessionBase) -> str:
    """The visitor's key for `article_vote`: a hash of their session (made now if they have none),
    never stored raw. Their address is no part of it: a visitor whose address changes (mobile
    networks) keeps their answer, and visitors behind one address are told apart."""
    if not _has_session(session):
        session["kehu_faq"] = True
        session.save()
    raw = f"{settings.SECRET_KEY}:faq-voter:{session.session_key}"
    return "v:" + hashlib.sha256(raw.encode()).hexdigest()[:60]


def faq_vote(
    *, article: Article, helpful: bool, session: SessionBase, user: Any = None, comment: str = ""
) -> ArticleVote:
    """A public visitor's "was this helpful?" (`article_vote` keyed on their session), remembered in
    the session so the page shows their answer."""
    vote = article_vote(
        article=article,
        helpful=helpful,
        voter_key=faq_voter_key(session=session),
        user=user,
        comment=comment,
    )
    voted = dict(session.get(FAQ_VOTED_KEY, {}))
    voted[str(article.pk)] = "yes" if helpful else "no"
    session[FAQ_VOTED_KEY] = voted
    return vote


def faq_voted(*, article: Article, session: SessionBase) -> str | None:
    """The visitor's answer on the article ("yes" / "no"), if they gave one (reads only)."""
    answer = session.get(FAQ_VOTED_KEY, {}).get(str(article.pk))
    return str(answer) if answer else None


# --- ticket links -----------------------------------------------------------------------------


@transaction.atomic
def ticket_article_link(*, ticket: Ticket, article: Article, by: Any) -> TicketArticle:
    """Link an article to a ticket (inserted into a reply, or linked by hand); linking twice is
    harmless. Draft articles cannot be linked."""
    if article.status == ArticleStatus.DRAFT:
        raise ServiceError(
            _("Publish the article before linking it to a ticket."), code=ServiceError.NOT_ALLOWED
        )
    link, _created = TicketArticle.objects.get_or_create(
        ticket=ticket, article=article, defaults={"linked_by": by if getattr(by, "pk", None) else None}
    )
    return link


@transaction.atomic
def ticket_article_unlink(*, ticket: Ticket, article: Article, by: Any) -> bool:
    """Remove the link; False when there was none."""
    link = TicketArticle.objects.filter(ticket=ticket, article=article).first()
    if link is None:
        return False
    link.delete()
    return True


# --- categories -------------------------------------------------------------------------------


def _slug(category: ArticleCategory) -> str:
    base = slugify(category.name_en or "") or slugify("-".join(words(category.name)), allow_unicode=False)
    if not base:
        from pypinyin import lazy_pinyin

        base = slugify("-".join(lazy_pinyin(category.name))) or "category"
    base = base[:90]
    slug, n = base, 2
    while ArticleCategory.objects.filter(slug=slug).exclude(pk=category.pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _apply_category(category: ArticleCategory, data: Mapping[str, Any]) -> None:
    for name in CATEGORY_FIELDS:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(category, name, value if value is not None or name == "parent" else "")
    if not category.name:
        raise _invalid({"name": [_("A category needs a name.")]})
    if not category.slug:
        category.slug = _slug(category)
    elif ArticleCategory.objects.filter(slug=category.slug).exclude(pk=category.pk).exists():
        raise _invalid({"slug": [_("Another category already uses this slug.")]})
    parent = category.parent
    seen = {category.pk} if category.pk else set()
    while parent is not None:
        if parent.pk in seen:
            raise _invalid({"parent": [_("A category cannot be inside itself.")]})
        seen.add(parent.pk)
        parent = parent.parent
    _clean(category)


@transaction.atomic
def category_create(*, by: Any, data: Mapping[str, Any]) -> ArticleCategory:
    category = ArticleCategory()
    _apply_category(category, data)
    category.save()
    return category


@transaction.atomic
def category_update(*, category: ArticleCategory, by: Any, data: Mapping[str, Any]) -> ArticleCategory:
    category = ArticleCategory.objects.select_for_update().get(pk=category.pk)
    _apply_category(category, data)
    category.save()
    return category


@transaction.atomic
def category_delete(*, category: ArticleCategory, by: Any) -> None:
    """Delete a category; its articles stay, uncategorised. A category with sub-categories is
    refused (move or delete them first)."""
    if ArticleCategory.objects.filter(parent_id=category.pk).exists():
        raise ServiceError(
            _("This category has sub-categories: move or delete them first."),
            code=ServiceError.NOT_ALLOWED,
            status=409,
        )
    for article in Article.objects.filter(category_id=category.pk):
        article.category = None
        article.save(update_fields=["category", "updated_at"])  # recorded one by one
    category.delete()


__all__ = [
    "article_archive",
    "article_create",
    "article_delete",
    "article_publish",
    "article_restore_version",
    "article_tokens",
    "article_unpublish",
    "article_update",
    "article_view_count",
    "article_vote",
    "category_create",
    "category_delete",
    "category_update",
    "split_tokens",
    "ticket_article_link",
    "ticket_article_unlink",
]
