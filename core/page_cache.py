"""Full-page cache for anonymous visitors, keyed by tenant (the cache key function), host,
language and path, and dropped for the whole tenant whenever its content changes.

Only Wagtail page responses are stored (responses whose template context has a `page`), only
for GET/HEAD without a session cookie (signed-in people see their own name in the header),
and never a response that sets a cookie. A hit costs no database query.
"""

from __future__ import annotations

import hashlib
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django_tenants.utils import get_public_schema_name, schema_context

VERSION_KEY = "core:page-cache:version"
STORED_HEADERS = ("Content-Type", "Content-Language", "Vary", "X-Frame-Options")


def _cacheable_request(request) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and connection.schema_name != get_public_schema_name()
    )


def content_version() -> int:
    """Changes whenever the current tenant's content changes: a key part for derived caches."""
    return cache.get(VERSION_KEY) or 0


def _key(request) -> str:
    version = content_version()
    language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    # Hashed: URLs can be long (search queries) and cache keys must stay short.
    where = hashlib.sha256(f"{request.get_host()}{request.get_full_path()}".encode()).hexdigest()
    return f"core:page-cache:{version}:{language}:{where}"


def _bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet
        cache.set(VERSION_KEY, 1, None)


def _bump_version_of(schema: str) -> None:
    with schema_context(schema):
        _bump_version()


def content_changed(**kwargs) -> None:
    """Signal receiver: something in the current tenant changed; its cached pages are stale.

    The version moves at once (the change is visible to the rest of this request) and again
    when the transaction commits: a request served in between still read the old rows and may
    have cached them under the new version.
    """
    schema = connection.schema_name
    if schema == get_public_schema_name():
        return
    _bump_version()
    transaction.on_commit(partial(_bump_version_of, schema))


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _cacheable_request(request):
            return self.get_response(request)
        key = _key(request)
        stored = cache.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content, status=200)
            for name, value in headers.items():
                response[name] = value
            response["X-Page-Cache"] = "hit"
            return response
        response = self.get_response(request)
        context = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and "page" in context and not response.cookies and not response.streaming:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
            cache.set(key, (response.content, headers), settings.PAGE_CACHE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response
