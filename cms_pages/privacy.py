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
