"""Sessions: kept in the database, read from the shared Redis.

Every signed-in request reads its session. From the database alone that is one query per
request on the platform's busiest paths (progress reports, bookings, the personal centre).
Django's cached_db store on the ``shared`` cache (Redis, common to every web process and the
worker) answers reads from Redis and writes through to both.

What Django's store does not do, and this one does:

* Stay usable when Redis is not: a failed cache call is logged and the database answers (signed-in
  pages keep working through a Redis outage, only slower).
* Bound how long a cached copy can outlive its row: an entry lives ``SESSION_CACHE_SECONDS`` at
  most (default 300 s), so a session ended while Redis could not be told (an outage) cannot be
  resurrected from the cache for longer than that.
* End sessions by key everywhere (`end_sessions`): the rows and the cached copies together.
  Deleting ``Session`` rows alone would leave a signed-out browser signed in until its cache
  entry expired.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SECONDS = 300


def _cache_seconds() -> int:
    return int(getattr(settings, "SESSION_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


class _TolerantCache:
    """The session cache, where an unreachable Redis is a miss, not an error."""

    def __init__(self, cache):
        self._inner = cache

    def _call(self, name: str, *args, default=None):
        try:
            return getattr(self._inner, name)(*args)
        except Exception as exc:  # redis.ConnectionError, TimeoutError, OSError, ...
            logger.warning("session cache unavailable (%s: %s): using the database", type(exc).__name__, exc)
            return default

    async def _acall(self, name: str, *args, default=None):
        try:
            return await getattr(self._inner, name)(*args)
        except Exception as exc:
            logger.warning("session cache unavailable (%s: %s): using the database", type(exc).__name__, exc)
            return default

    def get(self, key):
        return self._call("get", key)

    def set(self, key, value, timeout):
        return self._call("set", key, value, min(timeout, _cache_seconds()))

    def delete(self, key):
        return self._call("delete", key)

    def __contains__(self, key) -> bool:
        return bool(self._call("has_key", key, default=False))

    async def aget(self, key):
        return await self._acall("aget", key)

    async def aset(self, key, value, timeout):
        return await self._acall("aset", key, value, min(timeout, _cache_seconds()))

    async def adelete(self, key):
        return await self._acall("adelete", key)


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _TolerantCache(caches[settings.SESSION_CACHE_ALIAS])


def end_sessions(session_keys) -> None:
    """End these sessions wherever they are kept: their rows and their cached copies."""
    from django.contrib.sessions.models import Session

    keys = [key for key in session_keys if key]
    if not keys:
        return
    Session.objects.filter(session_key__in=keys).delete()
    cache = _TolerantCache(caches[settings.SESSION_CACHE_ALIAS])
    cache._call("delete_many", [SessionStore.cache_key_prefix + key for key in keys])
