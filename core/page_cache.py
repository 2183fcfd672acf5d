"""Full-page cache for anonymous visitors, keyed by host and full path (so by tenant and
language: language prefixes are part of the path), dropped for the whole tenant whenever its
content changes.

Only Wagtail page responses are stored (responses whose template context has a `page`), only
for GET/HEAD without a session cookie (signed-in people see their own name in the header),
and never a response that sets a cookie. A hit costs no database query.

Entries live in the `pages` cache alias, whose keys name the tenant explicitly instead of
taking it from the database connection: that lets `PageCacheASGI` answer a hit before Django
(no middleware, no thread hop), and `PageCacheMiddleware` (first in MIDDLEWARE) answer it
before the tenant is even looked up. An entry is only served while
* the tenant's content version is the one it was rendered under (`content_changed` moves it:
  any publish, unpublish, move, deletion, settings or image change; `platform_changed` moves
  every tenant's at once, with one write: a site added, closed or reopened), and
* the host's generation is the one it was stored under (`forget_host_pages` moves it when a
  site is closed or reopened, or its domains change).
"""

from __future__ import annotations

import hashlib
import logging
import time
from functools import partial
from http.cookies import SimpleCookie

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpResponse
from django.utils.encoding import escape_uri_path, iri_to_uri
from django_tenants.utils import get_public_schema_name

PAGES_ALIAS = "pages"
# Headers never stored: recomputed per answer, or must never be replayed to someone else.
UNSTORED_HEADERS = {"set-cookie", "date", "content-length", "x-page-cache"}
SAFE_METHODS = ("GET", "HEAD")


def _pages():
    return caches[PAGES_ALIAS]


def _version_key(schema: str) -> str:
    return f"version:{schema}"


# What every tenant shows about the others (the site switcher): one counter for all of them, so
# a site added among 1,000 is one write, not 1,000 (each tenant's version is read with it).
PLATFORM_VERSION_KEY = "version:platform"


def _host_key(hostname: str) -> str:
    return f"host:{hostname.lower()}"


def _entry_key(host: str, full_path: str) -> str:
    # Hashed: URLs can be long (search queries) and cache keys must stay short.
    return "page:" + hashlib.sha256(f"{host.lower()}{full_path}".encode()).hexdigest()


def content_version(schema: str | None = None) -> int:
    """Changes whenever the tenant's content (or the platform's list of sites) changes: a key
    part for derived caches too.

    The sum of the tenant's counter and the platform's: both only ever grow, so the sum moves
    whenever either does and never returns to an earlier value. A missing counter (never set,
    evicted, cache restarted) starts from the clock, never from a number used before: fragments
    cached under an old version must not come back.
    """
    return _current_version(_version_key(schema or connection.schema_name))


def platform_version() -> int:
    """Changes whenever what every tenant shows about the others changes (`platform_changed`)."""
    return _counters(PLATFORM_VERSION_KEY)[PLATFORM_VERSION_KEY]


def shared_cache():
    """The cache every process and tenant shares, keys unprefixed (the `pages` alias): for what is
    the same on every tenant, kept once instead of once per tenant."""
    return _pages()


def _current_version(key: str) -> int:
    found = _counters(key, PLATFORM_VERSION_KEY)
    return found[key] + found[PLATFORM_VERSION_KEY]


def _counters(*keys: str) -> dict:
    """The counters, read in one round trip; a missing one starts from the clock."""
    pages = _pages()
    found = pages.get_many(list(keys))
    for key in keys:
        if found.get(key) is None:
            pages.add(key, time.time_ns() // 1000, None)
            found[key] = pages.get(key)
    return found


def _bump(key: str) -> None:
    pages = _pages()
    try:
        pages.incr(key)
    except ValueError:  # no counter yet
        _current_version(key)
        pages.incr(key)


def _bump_version(schema: str) -> None:
    _bump(_version_key(schema))


def content_changed(**kwargs) -> None:
    """Signal receiver: something in the current tenant changed; its cached pages are stale.

    The version moves at once (the change is visible to the rest of this request) and again
    when the transaction commits: a request served in between still read the old rows and may
    have cached them under the new version.
    """
    schema = connection.schema_name
    if schema == get_public_schema_name():
        return
    _bump_version(schema)
    transaction.on_commit(partial(_bump_version, schema))


def platform_changed() -> None:
    """Every tenant's content version moves: something all of them show changed (a site
    added, closed or reopened, which the site switcher lists). Now and again at commit, as
    `content_changed`."""
    _bump(PLATFORM_VERSION_KEY)
    transaction.on_commit(partial(_bump, PLATFORM_VERSION_KEY))


def forget_host_pages(hostnames) -> None:
    """Stop serving what was cached for these hosts (a site closed or reopened, domains changed)."""
    pages = _pages()
    for hostname in hostnames:
        try:
            pages.incr(_host_key(hostname))
        except ValueError:
            pages.set(_host_key(hostname), 1, None)


def forget_pages_kept_on_disk() -> bool:
    """`make run` starts with no cached page: code or data may have changed since the last run
    (a migration, a new template) and the file-based cache outlives the processes. Redis is left
    alone (clearing it would flush the whole database); its pages expire on their own."""
    from django.core.cache.backends.filebased import FileBasedCache

    pages = _pages()
    if not isinstance(pages, FileBasedCache):
        return False
    pages.clear()
    return True


def _hostname(host: str) -> str:
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


# Called on every hit as listener(schema, path, request=... or scope=...): page-view counting
# (stats.collect) registers here, so cached pages are counted without core importing it.
hit_listeners: list = []


def _notify_hit(schema: str, path: str, **source) -> None:
    for listener in hit_listeners:
        try:
            listener(schema, path, **source)
        except Exception:  # counting must never fail a page
            logging.getLogger(__name__).exception("page-cache hit listener failed")


def lookup(host: str, full_path: str) -> tuple[bytes, list[tuple[str, str]]] | None:
    """The stored page for this host and path if it is still current: (content, headers)."""
    found = lookup_entry(host, full_path)
    return None if found is None else found[1:]


def lookup_entry(host: str, full_path: str) -> tuple[str, bytes, list[tuple[str, str]]] | None:
    """Like `lookup`, with the schema the entry belongs to first: (schema, content, headers)."""
    pages = _pages()
    entry_key, host_key = _entry_key(host, full_path), _host_key(_hostname(host))
    found = pages.get_many([entry_key, host_key, PLATFORM_VERSION_KEY])
    entry = found.get(entry_key)
    if entry is None:
        return None
    schema, version, host_generation, content, headers = entry
    if host_generation != (found.get(host_key) or 0) or found.get(PLATFORM_VERSION_KEY) is None:
        return None
    tenant_version = pages.get(_version_key(schema))
    if tenant_version is None or version != tenant_version + found[PLATFORM_VERSION_KEY]:
        return None
    return schema, content, headers


def _store(request, response) -> None:
    schema = connection.schema_name
    headers = [(name, value) for name, value in response.items() if name.lower() not in UNSTORED_HEADERS]
    host = request.get_host()
    entry = (
        schema,
        # The version before the page was rendered (CultureTenantMiddleware reads it): a change
        # committed during the render moves the version past it, so this entry is never served.
        request.content_version_at_start,
        _pages().get(_host_key(_hostname(host))) or 0,
        response.content,
        headers,
    )
    _pages().set(_entry_key(host, request.get_full_path()), entry, settings.PAGE_CACHE_SECONDS)


def _hit_response(content: bytes, headers: list[tuple[str, str]]) -> HttpResponse:
    response = HttpResponse(content, status=200)
    for name, value in headers:
        response[name] = value
    response["X-Page-Cache"] = "hit"
    return response


MESSAGE_COOKIE = CookieStorage.cookie_name  # Django's flash messages, when they fit in a cookie


def _personal_cookies(cookies) -> bool:
    """A session, or a flash message waiting to be shown: the page is not the shared one."""
    return settings.SESSION_COOKIE_NAME in cookies or MESSAGE_COOKIE in cookies


class PageCacheMiddleware:
    """First in MIDDLEWARE: answers hits before anything else runs, stores what the whole stack made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.PAGE_CACHE_SECONDS <= 0
            or request.method not in SAFE_METHODS
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or MESSAGE_COOKIE in request.COOKIES  # a flash message waits to be shown
        ):
            return self.get_response(request)
        stored = lookup_entry(request.get_host(), request.get_full_path())
        if stored is not None:
            if hit_listeners and request.method == "GET":
                _notify_hit(stored[0], request.path, request=request)
            return _hit_response(*stored[1:])
        response = self.get_response(request)
        if connection.schema_name == get_public_schema_name():
            return response
        context = getattr(response, "context_data", None) or {}
        if (
            response.status_code == 200
            and "page" in context
            and hasattr(request, "content_version_at_start")
            and not response.cookies
            and not response.streaming
            and not any(word in response.get("Cache-Control", "") for word in ("private", "no-store"))
        ):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            _store(request, response)
            response["X-Page-Cache"] = "miss"
        return response


class PageCacheASGI:
    """Serves page-cache hits at the ASGI level, before Django's request handling.

    A hit here skips Django's middleware chain and the hop to the synchronous worker thread,
    which are most of what a hit costs inside Django. Anything else (a miss, a session cookie,
    a non-GET, a websocket) goes to the wrapped application unchanged. The cache is read
    synchronously: an in-memory (LocMem) cache answers in microseconds; with Redis it is one
    round trip on the event loop.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in SAFE_METHODS and settings.PAGE_CACHE_SECONDS > 0:
            stored = self._stored(scope)
            if stored is not None:
                schema, content, headers = stored
                if hit_listeners and scope["method"] == "GET":
                    _notify_hit(schema, scope["path"], scope=scope)
                head = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
                head += [(b"content-length", str(len(content)).encode()), (b"x-page-cache", b"hit")]
                await send({"type": "http.response.start", "status": 200, "headers": head})
                await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content})
                return
        await self.application(scope, receive, send)

    @staticmethod
    def _stored(scope):
        host = cookie = None
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
            elif name == b"x-forwarded-host" and settings.USE_X_FORWARDED_HOST:
                return None  # Django picks the host from proxies' headers: let it
        if not host or (cookie and _personal_cookies(SimpleCookie(cookie))):
            return None
        # As Django's request.get_full_path() spells it, so both levels share entries.
        path = escape_uri_path(scope.get("root_path", "") + scope["path"])
        query = scope.get("query_string", b"").decode(errors="replace")  # as Django's ASGIRequest
        return lookup_entry(host, f"{path}?{iri_to_uri(query)}" if query else path)
