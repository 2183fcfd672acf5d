"""Rate limits with clear Chinese messages, counted in a real Redis shared by processes (issue 9, sign-in item 5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
NATIONAL = "national.culture.localhost"


@pytest.fixture
def tight(settings):
    settings.RATE_LIMITS = {name: "2/h" for name in settings.RATE_LIMITS}
    return settings


@pytest.mark.parametrize(
    ("method", "host", "path", "data", "message"),
    [
        ("post", ZJ, "/accounts/login/", {"username": "x", "password": "y"}, "登录尝试过于频繁"),
        ("post", ZJ, "/accounts/register/", {"identifier": "13900001234"}, "注册请求过于频繁"),
        ("post", ZJ, "/accounts/password/reset/", {"email": "a@example.cn"}, "找回密码邮件发送过于频繁"),
        ("post", ZJ, "/_util/authenticate_with_password/1/1/", {"password": "x"}, "页面密码尝试过于频繁"),
        ("get", ZJ, "/search/", {"q": "越剧"}, "搜索过于频繁"),
        ("get", NATIONAL, "/catalogue/", {"q": "越剧"}, "目录查询过于频繁"),
        # The same services under a language prefix and Wagtail's own sign-in count too.
        ("get", NATIONAL, "/en/catalogue/", {"q": "越剧"}, "目录查询过于频繁"),
        ("post", ZJ, "/admin/login/", {"username": "x", "password": "y"}, "登录尝试过于频繁"),
    ],
)
def test_over_the_limit_a_chinese_page_says_what_and_when(client, tight, method, host, path, data, message):
    for _ in range(2):
        response = getattr(client, method)(path, data, HTTP_HOST=host, REMOTE_ADDR="192.0.2.10")
        assert response.status_code != 429
    response = getattr(client, method)(path, data, HTTP_HOST=host, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 429
    html = response.content.decode()
    if not path.startswith("/en/"):  # under /en/ the page is in English
        assert message in html and "分钟后再试" in html
    assert int(response["Retry-After"]) > 0
    # Another address is not affected (asking for another mailbox: one mailbox has its own limit).
    data = {**data, "email": "b@example.cn"} if "email" in data else data
    response = getattr(client, method)(path, data, HTTP_HOST=host, REMOTE_ADDR="192.0.2.11")
    assert response.status_code != 429


def test_oai_harvesters_are_told_to_come_back_later(client, tight):
    for _ in range(2):
        client.get("/oai/", {"verb": "Identify"}, HTTP_HOST=NATIONAL, REMOTE_ADDR="192.0.2.12")
    response = client.get("/oai/", {"verb": "Identify"}, HTTP_HOST=NATIONAL, REMOTE_ADDR="192.0.2.12")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    # A language prefix reaches the same endpoint: it is the same counter, not a way round it.
    response = client.get("/en/oai/", {"verb": "Identify"}, HTTP_HOST=NATIONAL, REMOTE_ADDR="192.0.2.12")
    assert response.status_code == 503


def test_reset_mails_to_one_address_are_limited_from_any_address(client, tight):
    for n in range(2):
        client.post(
            "/accounts/password/reset/", {"email": "Victim@example.cn"}, HTTP_HOST=ZJ, REMOTE_ADDR=f"192.0.2.{n + 20}"
        )
    response = client.post(
        "/accounts/password/reset/", {"email": "victim@example.cn"}, HTTP_HOST=ZJ, REMOTE_ADDR="192.0.2.99"
    )
    assert response.status_code == 429


def test_search_limits_are_counted_per_site(client, tight):
    for _ in range(2):
        client.get("/search/", {"q": "越剧"}, HTTP_HOST=ZJ, REMOTE_ADDR="192.0.2.30")
    assert client.get("/search/", {"q": "越剧"}, HTTP_HOST=ZJ, REMOTE_ADDR="192.0.2.30").status_code == 429
    assert client.get("/search/", {"q": "川剧"}, HTTP_HOST=SC, REMOTE_ADDR="192.0.2.30").status_code == 200


def test_sign_in_limits_are_counted_across_sites(client, tight):
    for host in (ZJ, SC):
        client.post("/accounts/login/", {"username": "x", "password": "y"}, HTTP_HOST=host, REMOTE_ADDR="192.0.2.31")
    response = client.post(
        "/accounts/login/", {"username": "x", "password": "y"}, HTTP_HOST=NATIONAL, REMOTE_ADDR="192.0.2.31"
    )
    assert response.status_code == 429


def test_counters_live_in_a_real_redis_shared_with_other_processes(tight):
    """Another Python process sees (and adds to) the same counters: a real server, not process memory."""
    from django.test import RequestFactory
    from django_ratelimit.core import get_usage

    cache = caches["shared"]
    info = cache._cache.get_client().info("server")
    assert info["redis_version"]  # a real redis-server answered
    cache.set("probe", 41)
    code = (
        "import django; django.setup(); from django.core.cache import caches; "
        "c = caches['shared']; c.incr('probe'); print(c.get('probe'))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(django_settings.BASE_DIR),
        check=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "core.settings.test"},
    )
    assert out.stdout.strip() == "42"
    assert cache.get("probe") == 42
    usage = get_usage(RequestFactory().get("/"), group="g", key=lambda g, r: "k", rate="5/m", increment=True)
    assert usage["count"] == 1


def test_the_embedded_server_listens_on_no_tcp_port():
    cache = caches["shared"]
    if __import__("os").environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL points at a configured server")
    config = cache._cache.get_client().config_get("port")
    assert config["port"] == "0"
