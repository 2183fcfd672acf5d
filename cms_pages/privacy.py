"""Wagtail view restrictions (page privacy) for every list a tenant's site shows.

A page with a view restriction (a password, signed-in people, members of this site or chosen
groups), and every page below it, is left out of every list, block, feed, search, sitemap and
federation push: its title and summary are only ever shown where its restriction is checked
(the page itself, served through Wagtail's `before_serve_page` hooks).

Wagtail's own `PageQuerySet.public()` reads every restriction of the schema on each call (one
query per list; a home page has three lists). `public()` here reads them once per tenant and
content version: adding, changing or removing a restriction moves the content version
(`core.page_cache.content_changed`, connected in core/apps.py), so a stale answer is never used.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.core.cache import cache
from django.db.models import Q

RESTRICTED_SECTIONS_SECONDS = 300


def restricted_sections() -> list[tuple[str, int]]:
    """(path, depth) of every page carrying a view restriction in the current tenant."""
    from wagtail.models import PageViewRestriction

    from core.page_cache import content_version

    key = f"cms_pages:restricted-sections:{content_version()}"
    sections = cache.get(key)
    if sections is None:
        sections = sorted(set(PageViewRestriction.objects.values_list("page__path", "page__depth")))
        cache.set(key, sections, RESTRICTED_SECTIONS_SECONDS)
    return sections


def private_q(prefix: str = "") -> Q:
    """Matches pages in a restricted section (the restricted page and its descendants)."""
    q = Q()
    for path, depth in restricted_sections():
        q |= Q(**{f"{prefix}path__startswith": path, f"{prefix}depth__gte": depth})
    return q if q else Q(pk__in=[])


def public(queryset):
    """`queryset` (of pages) without the pages a view restriction covers."""
    return queryset.exclude(private_q())


def is_public(page) -> bool:
    """Whether anonymous visitors may see `page` (no restriction on it or above it). Uncached:
    used when a page is pushed, inside the transaction that may just have changed a restriction."""
    return not page.get_view_restrictions().exists()


# --- "signed in": any account, or members of this site ------------------------------------------

MEMBERS_ONLY = "members"
ANY_ACCOUNT_LABEL = "已登录的任何文化云账号（全平台通用账号，不限本站）"
MEMBERS_ONLY_LABEL = "仅本站成员（在本站注册、受邀或担任角色的账号）"


def set_members_only(restriction, members_only: bool) -> None:
    """Make a "signed in" restriction admit only members of this site, or any account again."""
    from .models import MembersOnlyRestriction

    if members_only and restriction.restriction_type == restriction.LOGIN:
        MembersOnlyRestriction.objects.get_or_create(restriction=restriction)
    else:
        MembersOnlyRestriction.objects.filter(restriction=restriction).delete()


def is_members_only(restriction) -> bool:
    from .models import MembersOnlyRestriction

    return bool(restriction.pk) and MembersOnlyRestriction.objects.filter(restriction=restriction).exists()


def refuses_non_member(page, user) -> bool:
    """Whether a members-only restriction on `page` (or above it) shuts this signed-in user out."""
    from roles.services import members

    from .models import MembersOnlyRestriction

    if not user.is_authenticated or user.is_superuser:
        return False  # anonymous visitors are sent to sign in by Wagtail's own check
    if not any(page.path.startswith(path) for path, _depth in restricted_sections()):
        return False  # no restriction here at all: no query
    restricted = MembersOnlyRestriction.objects.filter(restriction__in=page.get_view_restrictions())
    return restricted.exists() and not members().filter(pk=user.pk).exists()


# --- what hangs off a restricted page ------------------------------------------------------------


def is_restricted(page) -> bool:
    """Whether a view restriction covers `page` (cached per content version: no query)."""
    return any(page.path.startswith(path) for path, _depth in restricted_sections())


def guarded(request, page, respond):
    """`respond()` (a view's answer about something of `page` shown outside Wagtail's serving: an
    activity's booking session, a venue's room, a shift's sign-up) if this request may see
    `page`, else exactly what serving the page answers: Wagtail's own restriction check (the
    password form — the password, once given, also opens the page — or a sign-in) and our
    members-only hook (cms_pages.wagtail_hooks). An answer about a restricted page is never stored
    by a cache. No query for a page under no restriction (the restricted sections are cached per
    content version)."""
    from wagtail.wagtail_hooks import check_view_restrictions

    from .wagtail_hooks import members_only

    if not is_restricted(page):
        return respond()

    def serve(page, request, serve_args, serve_kwargs):
        refused = members_only(page, request, serve_args, serve_kwargs)
        return refused if refused is not None else respond()

    return check_view_restrictions(serve)(page, request, [], {})


# --- every language version carries its original's restrictions ---------------------------------

_mirroring: ContextVar[bool] = ContextVar("cms_pages_mirroring_restrictions", default=False)


def _spec(restriction) -> tuple:
    return (
        restriction.restriction_type,
        restriction.password,
        sorted(restriction.groups.values_list("pk", flat=True)),
        is_members_only(restriction),
    )


def mirror_restrictions(page_id: int) -> None:
    """Give every language version of a page exactly the view restrictions of its original (the
    version in the site's default language), members-only included.

    Translations are separate pages in Wagtail, each with its own restrictions: a restriction set
    on a page after its zh-Hant or English version was made (or on a section whose translated
    section already existed) would leave those versions — the same text — public, listed and
    searchable. wagtail-localize copies the original's restriction only when a translation is
    created or re-synchronised; this runs whenever a restriction changes. The original is the
    source, as in wagtail-localize: while the original is restricted its versions carry exactly its
    restrictions; a version of a public original may be restricted on its own (docs/privacy.md)."""
    from wagtail.models import Locale, Page, PageViewRestriction

    if _mirroring.get():
        return  # our own writes below
    page = Page.objects.filter(pk=page_id).only("pk", "translation_key", "locale_id").first()
    if page is None:
        return
    versions = list(Page.objects.filter(translation_key=page.translation_key).only("pk", "locale_id"))
    if len(versions) < 2:
        return
    default = Locale.get_default()
    original = next((version for version in versions if version.locale_id == default.pk), None)
    if original is None:
        return  # a page that exists only in other languages: each version keeps its own
    wanted = [_spec(r) for r in PageViewRestriction.objects.filter(page=original).order_by("pk")]
    if not wanted and page.pk != original.pk:
        return  # a translation restricted while its original is public: more private, kept
    token = _mirroring.set(True)
    try:
        for version in versions:
            if version.pk == original.pk:
                continue
            existing = list(PageViewRestriction.objects.filter(page=version).order_by("pk"))
            for index, (kind, password, groups, members_only) in enumerate(wanted):
                restriction = existing[index] if index < len(existing) else PageViewRestriction(page_id=version.pk)
                if restriction.pk is None or (restriction.restriction_type, restriction.password) != (kind, password):
                    restriction.restriction_type, restriction.password = kind, password
                    restriction.save()
                if sorted(restriction.groups.values_list("pk", flat=True)) != groups:
                    restriction.groups.set(groups)
                if is_members_only(restriction) != members_only:
                    set_members_only(restriction, members_only)
            for restriction in existing[len(wanted) :]:
                restriction.delete()
    finally:
        _mirroring.reset(token)


def _restriction_saved(sender, instance, **kwargs):
    mirror_restrictions(instance.page_id)


def _restriction_deleted(sender, instance, origin=None, **kwargs):
    from wagtail.models import Page

    if isinstance(origin, Page) or (getattr(origin, "model", None) is not None and issubclass(origin.model, Page)):
        return  # the page itself is being deleted: its other language versions keep theirs
    mirror_restrictions(instance.page_id)


def _groups_changed(sender, instance, action, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        mirror_restrictions(instance.page_id)


def _members_only_changed(sender, instance, origin=None, **kwargs):
    from wagtail.models import Page, PageViewRestriction

    if origin is not None and not isinstance(origin, sender):
        model = origin.__class__ if not hasattr(origin, "model") else origin.model
        if issubclass(model, Page | PageViewRestriction):
            return  # deleted with its restriction or page: handled there
    restriction = PageViewRestriction.objects.filter(pk=instance.restriction_id).only("page_id").first()
    if restriction is not None:
        mirror_restrictions(restriction.page_id)


def connect_mirroring() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from wagtail.models import PageViewRestriction

    from .models import MembersOnlyRestriction

    post_save.connect(_restriction_saved, sender=PageViewRestriction, dispatch_uid="privacy-mirror-save")
    post_delete.connect(_restriction_deleted, sender=PageViewRestriction, dispatch_uid="privacy-mirror-delete")
    m2m_changed.connect(
        _groups_changed, sender=PageViewRestriction.groups.through, dispatch_uid="privacy-mirror-groups"
    )
    post_save.connect(_members_only_changed, sender=MembersOnlyRestriction, dispatch_uid="privacy-mirror-members")
    post_delete.connect(_members_only_changed, sender=MembersOnlyRestriction, dispatch_uid="privacy-mirror-members-del")
