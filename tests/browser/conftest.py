"""Real-browser tests: the ASGI server (daphne) in a subprocess, driven by Debian's Chromium.

`live_platform` serves the session's test database (the demo world, committed by
`django_db_setup` in tests/conftest.py) on a free port of 127.0.0.1; Chromium resolves
`*.localhost` to loopback by itself, so `live_platform.url("zhejiang.culture.localhost")`
opens the zhejiang tenant. Python's resolver does not resolve `*.localhost` here, so
the Python side talks to the server with an explicit Host header.

The server is another process with its own database connections: it sees committed data
only. Nothing a test does inside a rolled-back `django_db` transaction is visible to it,
and everything a test does through the browser is committed for good. A test that changes
data through the browser must therefore undo it itself (see `forget_browser_sessions`) or
use `committed_db` when it creates tenants.

Playwright's sync API keeps an asyncio loop marked as running in the main thread while it
is started, which makes Django refuse ORM calls ("cannot call this from an async context").
So Playwright lives only while the tests of this package run (package-scoped fixtures),
and during that time DJANGO_ALLOW_ASYNC_UNSAFE lets fixtures such as `committed_db` use the
ORM from this (synchronous) test code. The server never inherits that variable.

The server is started by tests/live_server.py; its output goes to
var/log/live-server-<test database>-browser.log, and a failing test shows its end.

Chromium comes from Debian (`make browser-deps`); `playwright install` cannot download here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.live_server import running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PHONE_VIEWPORT = {"width": 360, "height": 740}
PHONE_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Mobile Safari/537.36"
)
SERVER_LOG_TAIL = 6000  # characters of the server log shown under a failed test
BROWSER_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # Hooks of a conftest see every collected item; mark only the tests of this package.
    for item in items:
        if BROWSER_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@dataclass(frozen=True)
class LivePlatform:
    port: int
    log_path: Path

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def log(self) -> str:
        """Everything the server has written so far (requests, errors, tracebacks)."""
        return self.log_path.read_text(errors="replace")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # A failing browser test shows the end of the server's log: a 500 in the browser is a
    # traceback there.
    report = yield
    live = getattr(item, "funcargs", {}).get("live_platform")
    if report.failed and isinstance(live, LivePlatform):
        report.sections.append(("daphne log (end)", live.log()[-SERVER_LOG_TAIL:]))
    return report


@pytest.fixture(scope="session")
def live_platform(django_db_setup, django_db_blocker):
    """daphne serving core.asgi on the session's test database, at a free port of 127.0.0.1."""
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    with running_server(db_name, label="browser") as server:
        yield LivePlatform(port=server.port, log_path=server.log_path)


@pytest.fixture(scope="package")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (as root) or `apt-get install chromium`")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see the module docstring
        with sync_playwright() as playwright:
            yield playwright


@pytest.fixture(autouse=True)
def _close_connections_opened_beside_playwright():
    """Closes the database connections a browser test's ORM code opened (e.g. through `committed_db`).

    While Playwright runs, Django keeps them in per-context storage instead of the thread's,
    where nothing else would close them, and the test database could not be dropped at the end.
    """
    yield
    connections.close_all()


@pytest.fixture(scope="package")
def browser(playwright_instance):
    """Headless Debian Chromium (shared by the tests of this package)."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A page in a fresh browser context: no cookies, no storage from other tests."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser):
    """A page in a fresh phone-sized context (360×740, touch, mobile user agent)."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT,
        screen=PHONE_VIEWPORT,
        user_agent=PHONE_USER_AGENT,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def forget_browser_sessions(django_db_blocker):
    """Deletes the login sessions (public schema) created while the test ran, e.g. by a browser login."""
    from django.contrib.sessions.models import Session

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        before = set(Session.objects.values_list("session_key", flat=True))
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        Session.objects.exclude(session_key__in=before).delete()


@pytest.fixture
def forget_queued_tasks(django_db_blocker):
    """Deletes the background tasks queued while the test ran.

    Rows a browser test commits and removes again leave tasks behind (Wagtail queues a
    reference-index update for each saved row); nothing runs them in a browser test, and a later
    test that runs every queued task would fail on the rows that are gone.
    """
    from django_tasks_db.models import DBTaskResult

    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        before = set(DBTaskResult.objects.values_list("id", flat=True))
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        DBTaskResult.objects.exclude(id__in=before).delete()
