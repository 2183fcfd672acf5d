"""Cache, media, health check, logs and Sentry: each keyed by tenant."""

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import schema_context

from core.logging import TenantLogFilter
from core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_every_cache_alias_is_keyed_by_tenant(settings):
    for alias, config in settings.CACHES.items():
        if alias in ("pages", "shared"):  # keys name their scope themselves (core.page_cache, core.ratelimits)
            continue
        assert config["KEY_FUNCTION"] == "django_tenants.cache.make_key", alias
    with schema_context("zhejiang"):
        cache.set("greeting", "浙江")
    with schema_context("sichuan"):
        assert cache.get("greeting") is None
        cache.set("greeting", "四川")
    with schema_context("zhejiang"):
        assert caches["default"].get("greeting") == "浙江"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_media_is_stored_and_served_per_tenant(client, media_root):
    with schema_context("zhejiang"):
        name = default_storage.save("images/poster.txt", ContentFile("浙江海报".encode()))
        url = default_storage.url(name)
    with schema_context("sichuan"):
        sichuan_name = default_storage.save("images/poster.txt", ContentFile("四川海报".encode()))
    assert (media_root / "zhejiang" / "images" / "poster.txt").read_text() == "浙江海报"
    assert (media_root / "sichuan" / sichuan_name).read_text() == "四川海报"
    assert url == "/media/zhejiang/images/poster.txt"

    response = client.get(url, HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode() == "浙江海报"
    # Another tenant's host never serves zhejiang's files, nor paths escaping the tenant folder.
    assert client.get(url, HTTP_HOST="sichuan.culture.localhost").status_code == 404
    assert (
        client.get("/media/sichuan/../zhejiang/images/poster.txt", HTTP_HOST="sichuan.culture.localhost").status_code
        == 404
    )


def test_healthz_reports_database_cache_and_worker(client):
    WorkerHeartbeat.objects.all().delete()
    response = client.get("/healthz", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "worker": "no task worker has reported"}

    WorkerHeartbeat.objects.create(worker_id="w1", last_seen=timezone.now())
    response = client.get("/healthz", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "tenant": "zhejiang",
        "checks": {"database": "ok", "cache": "ok", "worker": "ok"},
    }
    assert client.get("/healthz", HTTP_HOST="culture.localhost").status_code == 200

    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"].startswith("last worker heartbeat")


def test_log_lines_carry_the_tenant(settings):
    assert "%(tenant)s" in settings.LOGGING["formatters"]["tenant"]["format"]
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with schema_context("sichuan"):
        TenantLogFilter().filter(record)
    assert record.tenant == "sichuan"


def test_sentry_events_are_tagged_with_the_tenant(client):
    import sentry_sdk
    from sentry_sdk.transport import Transport

    from core.observability import init_sentry

    events = []

    class CapturingTransport(Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.type == "event")

    init_sentry("https://public@sentry.example.invalid/1", transport=CapturingTransport)
    try:
        with schema_context("dalian"):
            sentry_sdk.capture_message("测试事件")
        sentry_sdk.flush()
    finally:
        sentry_sdk.init()  # disable again for the other tests
    assert events and events[0]["tags"]["tenant"] == "dalian"


def test_static_files_are_served_by_whitenoise(client):
    response = client.get("/static/themes/culture.css", HTTP_HOST="zhejiang.culture.localhost")
    assert response.status_code == 200
    assert b"--primary" in b"".join(response.streaming_content)


def test_migrations_are_complete():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
