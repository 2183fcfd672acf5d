"""Each site's privacy policy (隐私政策) and user agreement (用户协议), and consent to them (PIPL).

A tenant's policies are its own pages: live pages with the slugs `privacy` and `user-agreement`
directly under its home page (editors write and revise them in Wagtail; the demo world creates
them, cms_pages.demo). Their version is the published revision, their date the publication date.
A site without such a page (a new tenant, the platform host) uses the platform's default text at
/accounts/policy/<kind>/, whose version is DEFAULT_VERSION.

Registration asks for consent to the current version of both and records it
(accounts.models.PolicyConsent: which site, which version of which policy, when).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext_lazy

PRIVACY = "privacy"
USER_AGREEMENT = "user-agreement"
TITLES = {PRIVACY: gettext_lazy("隐私政策"), USER_AGREEMENT: gettext_lazy("用户协议")}
KINDS = tuple(TITLES)
# The platform's default texts (accounts/templates/accounts/policy_<kind>.html) and their date.
DEFAULT_VERSION = "platform-2026-12-01"
DEFAULT_DATE = datetime.date(2026, 12, 1)
_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Policy:
    kind: str
    title: str
    url: str
    version: str
    date: datetime.date


def _on_public_schema() -> bool:
    from django_tenants.utils import get_public_schema_name

    return connection.schema_name == get_public_schema_name()


def _tenant_pages() -> dict[str, object]:
    from wagtail.models import Page

    pages = (
        Page.objects.live()
        .public()
        .filter(slug__in=KINDS, depth=3, locale__language_code="zh-hans")
        .only("id", "slug", "url_path", "live_revision_id", "last_published_at")
    )
    return {page.slug: page for page in pages}


def current_policies() -> list[Policy]:
    """The current site's policies (both kinds, privacy first), cached per tenant and content version."""
    if _on_public_schema():
        return [_default(kind) for kind in KINDS]
    from core.page_cache import content_version

    key = f"accounts:policies:v1:{content_version()}"
    policies = cache.get(key)
    if policies is None:
        pages = _tenant_pages()
        policies = []
        for kind in KINDS:
            page = pages.get(kind)
            if page is None:
                policies.append(_default(kind))
                continue
            published = page.last_published_at or datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
            policies.append(
                Policy(
                    kind=kind,
                    title=TITLES[kind],
                    url=f"/{kind}/",
                    version=f"page-{page.pk}-rev-{page.live_revision_id or 0}",
                    date=published.date(),
                )
            )
        cache.set(key, policies, _CACHE_SECONDS)
    return policies


def _default(kind: str) -> Policy:
    return Policy(
        kind=kind,
        title=TITLES[kind],
        url=reverse("default_policy", args=[kind]),
        version=DEFAULT_VERSION,
        date=DEFAULT_DATE,
    )


def policy(kind: str) -> Policy:
    return next(p for p in current_policies() if p.kind == kind)


def privacy_policy_url(site=None) -> str:
    """Path of the current tenant's privacy policy (the `site` argument is accepted for templates'
    convenience; the active schema decides, as everywhere in a tenant's request)."""
    return policy(PRIVACY).url


def user_agreement_url(site=None) -> str:
    return policy(USER_AGREEMENT).url
