"""Page-view counting without a database write per request (docs/statistics.md, decision 0018).

Every counted view (a page-cache hit answered at the ASGI level or by PageCacheMiddleware, or a
page Django rendered) adds one to an in-process counter keyed (schema, hour, path, cached?) and
puts a visitor hash into an in-process set. At most every FLUSH_SECONDS (or FLUSH_ENTRIES keys)
the buffer goes to Redis in one pipeline: HINCRBY per key into `stats:pv:<schema>`, PFADD of the
visitor hashes into a HyperLogLog per schema and day. The worker drains Redis into the database
(`drain`, called by the roll-up task): one upsert per (hour, path).

What a view costs the request: a dict increment, a set insert and a SHA-256 — no I/O, except the
request that happens to trigger a flush (one Redis round trip for everything buffered).

Personal data: the visitor hash is HMAC(SECRET_KEY, day) over the truncated address (IPv4 /24,
IPv6 /48) and the user agent. It changes every day, never leaves Redis (HyperLogLog registers
cannot be read back) and expires after VISITOR_KEY_DAYS days. No address or hash is stored in the
database.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import ipaddress
import logging
import threading
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
FLUSH_ENTRIES = 2000
VISITOR_KEY_DAYS = 3
MAX_PATH = 200
KEY_PREFIX = "culture:stats"
BOT_WORDS = ("bot", "spider", "crawl", "slurp", "headless")
# Paths that are not public pages: the admin, files, machine endpoints.
SKIPPED_PREFIXES = (
    "/admin/",
    "/django-admin/",
    "/static/",
    "/media/",
    "/documents/",
    "/_util/",
    "/federation/",
    "/oai/",
    "/statistics/",
    "/healthz",
    "/favicon",
)

_lock = threading.Lock()
_views: Counter = Counter()
_visitors: dict[tuple[str, str], set[str]] = defaultdict(set)
_last_flush = time.monotonic()
_client = None
_client_url = None


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def pv_key(schema: str) -> str:
    return f"{KEY_PREFIX}:pv:{schema}"


def uv_key(schema: str, day: date | str) -> str:
    return f"{KEY_PREFIX}:uv:{schema}:{day}"


def redis_client():
    """A client of the shared Redis (REDIS_URL or the embedded server, core.embedded_redis)."""
    global _client, _client_url
    from redis import Redis

    from core.embedded_redis import redis_url

    url = redis_url()
    if _client is None or _client_url != url:
        _client, _client_url = Redis.from_url(url), url
    return _client


def truncated_address(address: str) -> str:
    """IPv4 to its /24, IPv6 to its /48: enough to tell visitors apart, not to find a person."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


@lru_cache(maxsize=8)
def _daily_salt(day: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"stats-visitor:{day}".encode(), hashlib.sha256).digest()


@lru_cache(maxsize=4096)
def visitor_hash(address: str, user_agent: str, day: str) -> str:
    """A salted daily hash: the same visitor on the same day gives the same value, on another day
    another. Cached per process (a returning visitor costs a dictionary lookup); the cache holds
    what the request itself carried, in memory only."""
    text = f"{truncated_address(address)}|{user_agent[:300]}".encode()
    return hmac.new(_daily_salt(day), text, hashlib.sha256).hexdigest()[:16]


_hour_cache: tuple[float, float, str] = (0.0, 0.0, "")


def _local_hour(now: datetime | None) -> str:
    """'YYYY-MM-DDTHH' in the site's time zone; the current hour's string is reused until it ends."""
    global _hour_cache
    if now is not None:
        return now.astimezone(_zone()).strftime("%Y-%m-%dT%H")
    stamp = time.time()
    start, end, text = _hour_cache
    if not start <= stamp < end:
        local = datetime.fromtimestamp(stamp, tz=_zone())
        hour_start = local.replace(minute=0, second=0, microsecond=0)
        text = local.strftime("%Y-%m-%dT%H")
        _hour_cache = (hour_start.timestamp(), hour_start.timestamp() + 3600, text)
    return text


def is_counted_path(path: str) -> bool:
    return not path.startswith(SKIPPED_PREFIXES)


def is_bot(user_agent: str) -> bool:
    agent = user_agent.lower()
    return not agent or any(word in agent for word in BOT_WORDS)


def count_view(schema: str, path: str, *, address: str, user_agent: str, cached: bool, now: datetime | None = None):
    """Count one page view in the in-process buffer (flushed to Redis now and then)."""
    if not settings.STATS_PAGE_VIEWS or not is_counted_path(path) or is_bot(user_agent):
        return
    hour = _local_hour(now)
    day = hour[:10]
    visitor = visitor_hash(address, user_agent, day)
    with _lock:
        _views[(schema, hour, "c" if cached else "u", path[:MAX_PATH])] += 1
        _visitors[(schema, day)].add(visitor)
        due = time.monotonic() - _last_flush >= FLUSH_SECONDS or len(_views) >= FLUSH_ENTRIES
    if due:
        flush()


def flush() -> int:
    """Send the buffer to Redis in one pipeline; returns how many views it carried."""
    global _views, _visitors, _last_flush
    with _lock:
        views, visitors = _views, _visitors
        _views, _visitors = Counter(), defaultdict(set)
        _last_flush = time.monotonic()
    if not views and not visitors:
        return 0
    try:
        pipe = redis_client().pipeline(transaction=False)
        for (schema, hour, cached, path), n in views.items():
            pipe.hincrby(pv_key(schema), f"{hour}|{cached}|{path}", n)
        for (schema, day), hashes in visitors.items():
            pipe.pfadd(uv_key(schema, day), *hashes)
            pipe.expire(uv_key(schema, day), VISITOR_KEY_DAYS * 86400)
        pipe.execute()
    except Exception:  # Redis away: these views are lost, the page was served all the same
        logger.exception("page-view counts could not be sent to Redis")
        return 0
    return sum(views.values())


atexit.register(flush)


class _ScopeRequest:
    """Enough of a request for core.client_address, from an ASGI scope."""

    def __init__(self, scope):
        client = scope.get("client") or ("", 0)
        self.META = {"REMOTE_ADDR": client[0] or ""}
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                self.META["HTTP_X_FORWARDED_FOR"] = value.decode("latin-1")
            elif name == b"user-agent":
                self.META["HTTP_USER_AGENT"] = value.decode("latin-1")


def count_cached_hit(schema: str, path: str, *, request=None, scope=None) -> None:
    """core.page_cache listener: a cached page was served (at the ASGI level or by its middleware)."""
    from core.client_address import client_address

    source = request if request is not None else _ScopeRequest(scope or {})
    count_view(
        schema,
        path,
        address=client_address(source),
        user_agent=source.META.get("HTTP_USER_AGENT", ""),
        cached=True,
    )


class PageViewMiddleware:
    """Counts the public pages Django rendered (status 200, HTML, GET). After the tenant middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method == "GET"
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and response.get("X-Page-Cache") != "hit"
            and getattr(connection, "schema_name", "public") not in ("public", settings.TENANT_BASE_SCHEMA)
        ):
            from core.client_address import client_address

            count_view(
                connection.schema_name,
                request.path,
                address=client_address(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                cached=False,
            )
        return response


# --- Worker side: Redis → database ---------------------------------------------------------------


def drain(schema: str | None = None) -> int:
    """Move this schema's buffered page views from Redis into PageViews; returns the views moved.

    The hash is renamed first, so views counted meanwhile go to a fresh hash. A drain that failed
    after the rename leaves the renamed hash behind: the next drain takes it first. The renamed
    hash is deleted only after the database commit (a crash in between could count that batch twice;
    it can never lose it).
    """
    from redis.exceptions import ResponseError

    from .models import DailyVisitors

    schema = schema or connection.schema_name
    client = redis_client()
    key, draining = pv_key(schema), pv_key(schema) + ":draining"
    if not client.exists(draining):
        try:
            client.rename(key, draining)
        except ResponseError:  # nothing buffered
            pass
    data = client.hgetall(draining)
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    total = 0
    for field, value in data.items():
        hour, cached, path = field.decode().split("|", 2)
        n = int(value)
        rows[(hour, path)][0] += n
        if cached == "c":
            rows[(hour, path)][1] += n
        total += n
    zone = _zone()
    with transaction.atomic():
        if rows:
            values = []
            params: list = []
            for (hour, path), (views, cached) in rows.items():
                values.append("(%s, %s, %s, %s)")
                params += [datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=zone), path, views, cached]
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO stats_pageviews (hour, path, views, cached) VALUES "
                    + ", ".join(values)
                    + " ON CONFLICT (hour, path) DO UPDATE SET views = stats_pageviews.views + EXCLUDED.views,"
                    " cached = stats_pageviews.cached + EXCLUDED.cached",
                    params,
                )
        today = datetime.now(tz=zone).date()
        for day in (today - timedelta(days=1), today):
            visitors = client.pfcount(uv_key(schema, day))
            if visitors:
                DailyVisitors.objects.update_or_create(day=day, defaults={"visitors": visitors})
    client.delete(draining)
    return total
