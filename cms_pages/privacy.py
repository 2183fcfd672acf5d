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
