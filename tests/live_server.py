"""A real ASGI server (daphne) on the session's test database, for tests that speak HTTP to it.

Import the fixtures into a test module (pytest finds fixtures in a module's namespace):

    from tests.live_server import daphne_server, live_server_env  # noqa: F401

and override `live_server_env` in that module to give the server extra environment variables
(e.g. `{"CULTURE_OAI_PAGE_SIZE": "7"}`); each module that uses `daphne_server` gets its own
server process, started once for the module.

Like `live_platform` in tests/browser/conftest.py (which this mirrors without the browser):
* the server is another process with its own database connections: it sees committed data only
  (the demo world, committed by `django_db_setup`), never what a test does inside its rolled-back
  `django_db` transaction;
* Python's resolver does not resolve `*.localhost` here, so clients connect to 127.0.0.1 and
  name the tenant in the Host header: `server.url(path)` + `headers=server.headers(host)`, or
  `server.session(host)` (a requests Session that does both);
* the server's output goes to var/log/live-server-<test database>-<module>.log; `server.log()`
  returns it (put it in an assertion message when a request fails).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_TIMEOUT = 60  # seconds


@dataclass(frozen=True)
class LiveServer:
    port: int
    log_path: Path

    def url(self, path: str = "/") -> str:
        """Where to connect (127.0.0.1): pair it with `headers(host)`."""
        return f"http://127.0.0.1:{self.port}{path}"

    def host(self, host: str) -> str:
        """The Host header naming a tenant, e.g. "national.culture.localhost:<port>"."""
        return f"{host}:{self.port}"

    def headers(self, host: str) -> dict[str, str]:
        return {"Host": self.host(host)}

    def session(self, host: str):
        """A requests Session whose every request goes to this server as `host`."""
        import requests

        session = requests.Session()
        session.headers.update(self.headers(host))
        return session

    def log(self) -> str:
        """Everything the server has written so far (requests, errors, tracebacks)."""
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(port: int, db_name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the real server keeps Django's async checks
    env["DJANGO_SETTINGS_MODULE"] = "core.settings.test"
    env["CULTURE_PORT"] = str(port)  # links the server makes (PLATFORM_PORT) point at the live port
    if env.get("DATABASE_URL"):
        parts = urlsplit(env["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{db_name}"))
    else:
        env["CULTURE_DB_NAME"] = db_name
    env.update(extra or {})
    return env


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz", headers={"Host": settings.PLATFORM_DOMAIN})
        conn.getresponse().read()  # any status: 503 only means no task worker is running
        return True
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def running_server(db_name: str, *, env: dict[str, str] | None = None, label: str = "live"):
    """daphne serving core.asgi on `db_name` (a test database) at a free port, until the block ends."""
    assert db_name.startswith("test_"), f"a live server must serve a test database, not {db_name!r}"
    port = free_port()
    log_path = REPO_ROOT / "var" / "log" / f"live-server-{db_name}-{label}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "core.asgi:application"]
    live = LiveServer(port=port, log_path=log_path)
    with log_path.open("wb") as log:
        server = subprocess.Popen(cmd, cwd=REPO_ROOT, env=server_env(port, db_name, env), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _answers(port):
            if server.poll() is not None:
                pytest.fail(f"daphne exited with {server.returncode} before serving:\n{live.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"daphne did not answer /healthz within {SERVER_START_TIMEOUT}s:\n{live.log()}")
            time.sleep(0.2)
        yield live
        if server.poll() is not None:
            print(f"daphne died during the tests (exit {server.returncode}):\n{live.log()}", file=sys.stderr)
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="module")
def live_server_env() -> dict[str, str]:
    """Extra environment for the module's server; override it in a test module."""
    return {}


@pytest.fixture(scope="module")
def daphne_server(request, django_db_setup, django_db_blocker, live_server_env):
    """daphne on the session's test database at a free port of 127.0.0.1, for this module."""
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    label = request.module.__name__.rsplit(".", 1)[-1]
    with running_server(db_name, env=live_server_env, label=label) as live:
        yield live
