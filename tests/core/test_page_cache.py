"""Full-page cache: per tenant and language, no queries on a hit, dropped when content changes."""

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from cms_pages.models import HomePage, NewsPage
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_caches():
    """Cached pages outlive a test's rolled-back transaction: every test starts without any."""
    caches["pages"].clear()
    caches["default"].clear()
    yield
    caches["pages"].clear()
    caches["default"].clear()


ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"


def news_path() -> str:
    with schema_context("zhejiang"):
        return NewsPage.objects.live().first().url


def test_second_view_is_served_from_the_cache_without_queries(client):
    path = news_path()
    first = client.get(path, HTTP_HOST=ZJ)
    assert first["X-Page-Cache"] == "miss"
    with CaptureQueriesContext(connection) as ctx:
        second = client.get(path, HTTP_HOST=ZJ)
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["X-Frame-Options"] == "DENY" or second.has_header("X-Frame-Options")
    assert [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith("SET")] == []


def test_cache_is_per_tenant(client):
    client.get("/", HTTP_HOST=ZJ)
    response = client.get("/", HTTP_HOST=SC)
    assert response["X-Page-Cache"] == "miss"
    assert "<h1>四川文化云</h1>" in response.content.decode()


def test_publishing_drops_the_tenants_cached_pages(client):
    client.get("/", HTTP_HOST=ZJ)
    client.get("/", HTTP_HOST=SC)
    assert client.get("/", HTTP_HOST=ZJ)["X-Page-Cache"] == "hit"
    with schema_context("zhejiang"):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        home.title = "浙江文化云 · 新版"
        home.save_revision().publish()
    response = client.get("/", HTTP_HOST=ZJ)
    assert response["X-Page-Cache"] == "miss"
    assert "<h1>浙江文化云 · 新版</h1>" in response.content.decode()
    assert client.get("/", HTTP_HOST=SC)["X-Page-Cache"] == "hit"  # other tenants keep theirs


def test_branding_change_drops_cached_pages(client):
    from wagtail.models import Site

    from themes.models import Branding

    client.get("/", HTTP_HOST=ZJ)
    with schema_context("zhejiang"):
        branding = Branding.for_site(Site.objects.get())
        branding.primary_colour = "#123456"
        branding.save()
    response = client.get("/", HTTP_HOST=ZJ)
    assert response["X-Page-Cache"] == "miss" and "#123456" in response.content.decode()


def test_signed_in_visitors_are_not_served_cached_pages(client):
    client.get("/", HTTP_HOST=ZJ)
    assert client.login(username="zhejiang_editor", password=DEMO_PASSWORD)
    response = client.get("/", HTTP_HOST=ZJ)
    assert not response.has_header("X-Page-Cache")
    assert "个人中心" in response.content.decode()


def test_the_version_moves_again_when_the_change_commits_in_its_own_tenant(django_capture_on_commit_callbacks):
    """A request served between the change and its commit read the old rows: what it cached
    under the new version is dropped when the transaction commits (requests are atomic)."""
    from core.page_cache import content_changed, content_version

    with schema_context("zhejiang"):
        before = content_version()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            content_changed()
        assert content_version() == before + 1
    with schema_context("sichuan"):
        sichuan = content_version()
        for callback in callbacks:  # the commit may come while another schema is active
            callback()
        assert content_version() == sichuan
    with schema_context("zhejiang"):
        assert content_version() == before + 2


def test_a_site_added_drops_every_tenants_pages_with_one_write(client, monkeypatch, django_capture_on_commit_callbacks):
    """The site switcher on every tenant lists the sites: a new one must reach all of them, at a
    cost that does not grow with the tenants (it was two writes per tenant, ~4 s at 240)."""
    from core.page_cache import content_version
    from themes.services import forget_site_switcher

    path = news_path()
    assert client.get(path, HTTP_HOST=ZJ)["X-Page-Cache"] == "miss"
    assert client.get(path, HTTP_HOST=ZJ)["X-Page-Cache"] == "hit"
    with schema_context("sichuan"):
        sichuan_before = content_version()

    pages, writes = caches["pages"], []
    for method in ("set", "add", "incr", "delete", "set_many", "delete_many"):
        original = getattr(pages, method)
        monkeypatch.setattr(
            pages,
            method,
            lambda *a, _original=original, _name=method, **k: (writes.append(_name), _original(*a, **k))[1],
        )
    with django_capture_on_commit_callbacks(execute=True):
        forget_site_switcher()
    monkeypatch.undo()

    assert len(writes) == 2, writes  # now and at commit, as content_changed
    assert client.get(path, HTTP_HOST=ZJ)["X-Page-Cache"] == "miss"
    with schema_context("sichuan"):
        assert content_version() > sichuan_before


# --- hits answered at the ASGI level, before Django ----------------------------------------------


class DjangoStandIn:
    """Stands for Django behind core.asgi's PageCacheASGI: records what reached it."""

    def __init__(self):
        self.calls = []

    async def __call__(self, scope, receive, send):
        self.calls.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"rendered by Django"})


def asgi_request(app, host: str, path: str, *, method: str = "GET", cookie: str = "") -> tuple[int, dict, bytes]:
    path, _, query = path.partition("?")
    headers = [(b"host", host.encode())] + ([(b"cookie", cookie.encode())] if cookie else [])
    scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": headers}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    async_to_sync(app)(scope, receive, send)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_a_cached_page_is_answered_before_django_with_the_same_headers(client):
    from core.page_cache import PageCacheASGI

    path = news_path()
    first = client.get(path, HTTP_HOST=ZJ)
    assert first["X-Page-Cache"] == "miss"
    django = DjangoStandIn()
    app = PageCacheASGI(django)
    with CaptureQueriesContext(connection) as ctx:
        status, headers, body = asgi_request(app, ZJ, path)
    assert (status, body, django.calls) == (200, first.content, [])
    assert headers["x-page-cache"] == "hit" and headers["content-length"] == str(len(first.content))
    # Everything the middleware stack added on the way out comes back with the page.
    for name in ("Content-Type", "X-Frame-Options", "X-Content-Type-Options", "Content-Language"):
        assert headers[name] == first[name], name
    assert "set-cookie" not in {k.lower() for k in headers}
    assert ctx.captured_queries == []
    status, headers, body = asgi_request(app, ZJ, path, method="HEAD")
    assert (status, body, headers["content-length"]) == (200, b"", str(len(first.content)))


def test_what_is_not_a_plain_anonymous_read_goes_to_django(client, settings):
    from core.page_cache import PageCacheASGI

    path = news_path()
    client.get(path, HTTP_HOST=ZJ)
    django = DjangoStandIn()
    app = PageCacheASGI(django)
    assert asgi_request(app, ZJ, path, cookie=f"{settings.SESSION_COOKIE_NAME}=abc")[0] == 299  # signed in
    assert asgi_request(app, ZJ, path, method="POST")[0] == 299
    assert asgi_request(app, SC, path)[0] == 299  # another tenant's host
    assert asgi_request(app, ZJ, path + "?page=2")[0] == 299  # another URL
    assert asgi_request(app, ZJ, path, cookie="theme=dark")[0] == 200  # unrelated cookies are fine
    assert len(django.calls) == 4


def test_a_publish_or_a_closed_site_stops_the_asgi_hits(client):
    from core.page_cache import PageCacheASGI
    from tenants.services import set_site_active

    client.get("/", HTTP_HOST=ZJ)
    client.get("/", HTTP_HOST=SC)
    app = PageCacheASGI(DjangoStandIn())
    assert asgi_request(app, ZJ, "/")[0] == 200
    with schema_context("zhejiang"):
        home = HomePage.objects.get(locale__language_code="zh-hans")
        home.title = "浙江文化云 · 新版"
        home.save_revision().publish()
    assert asgi_request(app, ZJ, "/")[0] == 299  # stale: Django renders the new page
    assert asgi_request(app, SC, "/")[0] == 200  # sichuan's page is still current

    set_site_active("sichuan", False)
    try:
        assert asgi_request(app, SC, "/")[0] == 299  # Django answers "site closed"
        assert client.get("/", HTTP_HOST=SC).status_code == 503
    finally:
        set_site_active("sichuan", True)


def test_a_chinese_path_and_a_query_string_share_entries_with_django(client):
    """The ASGI level spells the URL as Django's request.get_full_path() does."""
    from core.page_cache import PageCacheASGI

    with schema_context("zhejiang"):
        news = NewsPage.objects.live().first()
        news.slug = "非遗-展演"
        news.save_revision().publish()
        path = NewsPage.objects.get(pk=news.pk).url
    assert client.get(path, HTTP_HOST=ZJ).status_code == 200
    response = client.get(path + "?from=%E5%BE%AE%E4%BF%A1", HTTP_HOST=ZJ)  # ?from=微信, as browsers send it
    assert response["X-Page-Cache"] == "miss"
    app = PageCacheASGI(DjangoStandIn())
    from urllib.parse import unquote

    assert asgi_request(app, ZJ, unquote(path) + "?from=%E5%BE%AE%E4%BF%A1")[2] == response.content


def test_without_redis_the_web_server_and_the_worker_share_content_versions(tmp_path):
    """`make run` starts daphne and the task worker as two processes: what the worker publishes
    (scheduled pages, pulled copies) must drop the pages the web server cached, so the content
    version lives on disk (the `pages` alias), not in one process's memory."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.core.cache.backends.filebased import FileBasedCache

    worker = (
        "import django; django.setup()\n"
        "from core.page_cache import _bump_version, content_version\n"
        "before = content_version('zhejiang'); _bump_version('zhejiang'); print(before, content_version('zhejiang'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "core.settings.dev", "CULTURE_PAGES_CACHE_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", worker], env=env, cwd=repo, capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split())
    web = FileBasedCache(str(tmp_path), {})  # another process with the same settings
    assert after != before
    assert web.get("version:zhejiang") + web.get("version:platform") == after


def test_make_run_starts_without_the_pages_it_cached_on_disk_last_time(client, settings, tmp_path):
    """The file-based page cache outlives `make run`; a new run must not serve pages rendered by
    the code or data of the previous one (e.g. before a migration)."""
    from core.page_cache import forget_pages_kept_on_disk

    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)},
    }
    client.get("/", HTTP_HOST=ZJ)
    assert client.get("/", HTTP_HOST=ZJ)["X-Page-Cache"] == "hit"
    assert forget_pages_kept_on_disk()
    assert client.get("/", HTTP_HOST=ZJ)["X-Page-Cache"] == "miss"


def test_only_a_page_cache_on_disk_is_cleared_at_start():
    from core.page_cache import forget_pages_kept_on_disk

    assert not forget_pages_kept_on_disk()  # in memory here (and Redis would be flushed whole)


def test_the_per_process_cache_holds_what_a_thousand_tenants_home_pages_keep(client):
    """Without REDIS_URL, what pages keep per tenant (site, branding, navigation, fragments) is in
    the process. Django's default of 300 entries held ~18 tenants' home pages, so with hundreds of
    tenants every page was rebuilt from the database (issue 18: home p95 8.7x at 600 tenants)."""
    default = caches["default"]
    if not hasattr(default, "_max_entries") or not hasattr(default, "_cache"):
        pytest.skip("REDIS_URL set: the default cache is Redis, bounded by its own memory")
    # Signed in (a session cookie), as the scale benchmark asks: past the full-page cache.
    assert client.get("/", HTTP_HOST=ZJ, HTTP_COOKIE="sessionid=no-page-cache").status_code == 200
    kept_by_one_home_page = len(default._cache)
    assert kept_by_one_home_page >= 5, "the home page keeps its site, branding and fragments here"
    assert default._max_entries >= 1000 * kept_by_one_home_page
