"""Content-Security-Policy and Permissions-Policy on every response, error pages in Chinese (issue 9, hardening 1–2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
NATIONAL = "national.culture.localhost"
ROOT = Path(settings.BASE_DIR)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        (ZJ, "/", 200),
        ("culture.localhost", "/", 200),
        (ZJ, "/accounts/login/", 200),
        (ZJ, "/search/?q=越剧", 200),
        ("nowhere.culture.localhost", "/", 404),  # unknown host: answered before the tenant exists
        ("nowhere.culture.localhost", "/admin/", 404),  # not Wagtail's admin: no admin policy
        ("culture.localhost", "/admin/", 404),  # the platform host has no Wagtail admin
        (ZJ, "/no-such-page/", 404),
    ],
)
def test_every_response_carries_the_policies(client, host, path, status):
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == status
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["object-src"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_the_closed_site_page_carries_the_policies(client):
    from tenants.services import set_site_active

    set_site_active("sichuan", False)
    try:
        response = client.get("/", HTTP_HOST="sichuan.culture.localhost")
    finally:
        set_site_active("sichuan", True)
    assert response.status_code == 503
    assert _policy(response)["script-src"] == ["'self'"]
    assert "microphone=()" in response["Permissions-Policy"]
    # /admin/ of a closed site is the same closed page, under the strict policy.
    set_site_active("sichuan", False)
    try:
        response = client.get("/admin/", HTTP_HOST="sichuan.culture.localhost")
    finally:
        set_site_active("sichuan", True)
    assert response.status_code == 503 and _policy(response)["script-src"] == ["'self'"]


def test_the_brand_colours_are_allowed_by_hash_not_by_unsafe_inline(client):
    import base64
    import hashlib

    response = client.get("/", HTTP_HOST=ZJ)
    style = re.search(r"<style>(.*?)</style>", response.content.decode()).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _policy(response)["style-src"]


def test_the_wagtail_admin_gets_its_own_policy_with_inline_script_there_only(client):
    from tenants.demo import DEMO_PASSWORD

    assert client.login(username="zhejiang_admin", password=DEMO_PASSWORD)
    response = client.get("/admin/", HTTP_HOST=ZJ)
    assert response.status_code == 200
    assert "'unsafe-inline'" in _policy(response)["script-src"]
    assert "'unsafe-inline'" not in _policy(client.get("/", HTTP_HOST=ZJ))["script-src"]


PUBLIC_TEMPLATE_DIRS = ["themes", "accounts", "cms_pages", "federation", "core", "tenants", "roles"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_public_templates_have_no_inline_script_handlers_or_javascript_urls():
    offenders = []
    for app in PUBLIC_TEMPLATE_DIRS:
        for path in (ROOT / app / "templates").rglob("*.html"):
            if "/admin/" in str(path) or "wagtailadmin" in str(path):
                continue  # Wagtail's admin has its own policy
            text = path.read_text()
            if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or "javascript:" in text.lower():
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@override_settings(DEBUG=False)
def test_errors_show_the_chinese_pages(client):
    response = client.get("/no-such-page/", HTTP_HOST=ZJ)
    assert response.status_code == 404
    assert "找不到这个页面" in response.content.decode()


def test_a_server_error_shows_the_chinese_500_page(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "服务器出错" in response.content.decode()


def test_make_run_settings_leave_debug_off_unless_asked(monkeypatch):
    import subprocess
    import sys

    def debug_with(env_debug):
        env = {k: v for k, v in __import__("os").environ.items() if k != "DEBUG"}
        env["DJANGO_SETTINGS_MODULE"] = "core.settings.dev"
        if env_debug is not None:
            env["DEBUG"] = env_debug
        out = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            check=True,
        )
        return out.stdout.strip()

    assert debug_with(None) == "False"
    assert debug_with("1") == "True"


@pytest.mark.parametrize(
    ("host", "path"),
    [
        (ZJ, "/search/?q=越剧&from=2026-01-01&to=9999-12-31"),
        (ZJ, "/search/?q=越剧&from=0001-01-01"),
        (NATIONAL, "/catalogue/?from=2026-01-01&to=9999-12-31"),
        (NATIONAL, "/catalogue/?from=0001-01-01"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_get_a_message_not_a_500(client, host, path):
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code in (200, 400)
    assert "超出范围" in response.content.decode()


@pytest.mark.parametrize("until", ["9999-12-31", "9999-12-31T23:59:59Z"])
def test_oai_until_the_end_of_the_calendar_is_no_upper_bound(client, until):
    granularity_from = "2000-01-01" if "T" not in until else "2000-01-01T00:00:00Z"
    response = client.get(
        "/oai/",
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": granularity_from, "until": until},
        HTTP_HOST="national.culture.localhost",
    )
    assert response.status_code == 200
    assert "<header" in response.content.decode()


def test_a_nul_byte_in_a_media_path_is_a_404(client):
    response = client.get("/media/zhejiang/images/a%00b.jpg", HTTP_HOST=ZJ)
    assert response.status_code == 404


def test_the_overload_503_answered_before_django_carries_the_policies():
    import asyncio

    from core.admission import send_unavailable
    from core.database import availability

    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(send_unavailable(send, "/", availability.BUSY))
    headers = {name.decode(): value.decode() for name, value in sent[0]["headers"]}
    assert sent[0]["status"] == 503
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]
    assert headers["x-content-type-options"] == "nosniff"
